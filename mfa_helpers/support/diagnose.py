"""Diagnosis: observed MFA API exchanges → known pitfalls, in plain words, with the fix and Auth0's doc.

Works on what the kit's client recorded (``Session`` / ``Exchange``) and on HAR files, the kit's own or
ones a customer exported from Chrome or Firefox devtools. Both are first turned into one neutral
view, :class:`Observed`; the rules only ever look at that. Errors are recognised through
``protocol.identify`` (the one source of error strings); the rules add what the error alone cannot
say, from the exchanges before it: which audience was asked for, whether the code was already
spent, how fast the app polled, what ``mfa_required`` offered.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from mfa_helpers import protocol
from mfa_helpers.errors import FIXES
from mfa_helpers.exchange import Exchange
from mfa_helpers.protocol import ErrorSpec
from mfa_helpers.support import har

__all__ = ["Observed", "Finding", "diagnose", "observe", "exchanges_from_har", "findings_markdown", "DOCS"]

# Auth0's pages for each topic (found through Auth0's docs site; current English paths).
_MFA = "https://auth0.com/docs/secure/multi-factor-authentication"
_ROPG = f"{_MFA}/authenticate-using-ropg-flow-with-mfa"
_API = "https://auth0.com/docs/api/authentication/multi-factor-authentication"
DOCS = {
    "ropg": _ROPG,
    "otp": f"{_ROPG}/enroll-and-challenge-otp-authenticators",
    "sms": f"{_ROPG}/enroll-challenge-sms-voice-authenticators",
    "push": f"{_ROPG}/enroll-and-challenge-push-authenticators",
    "recovery": f"{_ROPG}/challenge-with-recovery-codes",
    "manage": f"{_MFA}/manage-mfa-auth0-apis/manage-authenticator-factors-mfa-api",
    "mfa_api": f"{_MFA}/multi-factor-authentication-developer-resources/mfa-api",
    "verify_otp": f"{_API}/verify-mfa-with-otp",
    "verify_oob": f"{_API}/verify-with-out-of-band",
    "challenge": f"{_API}/request-mfa-challenge",
    "grant_types": "https://auth0.com/docs/get-started/applications/update-grant-types",
    "custom_domains": "https://auth0.com/docs/customize/custom-domains/configure-features-to-use-custom-domains",
    "rate_limits": "https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy",
}

@dataclass(frozen=True)
class Observed:
    """One request and its response, whoever recorded it: the neutral view every rule reads."""

    index: int                    # position in the recording (Session.exchanges or HAR log.entries)
    method: str
    url: str
    status: int
    fields: Mapping[str, Any]     # request body (form or JSON) over the query string's parameters
    body: Any                     # response body: parsed JSON when it is JSON, else text, else None
    host: str = ""                # where the request went: the Host header wins over the URL
    started: float | None = None  # epoch seconds, the client's clock
    server_date: float | None = None  # the response's Date header, epoch seconds, the server's clock

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @property
    def grant_type(self) -> str | None:
        return self.fields.get("grant_type") if self.path.endswith("/oauth/token") else None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def errors(self) -> list[ErrorSpec]:
        return protocol.identify(self.status, self.body)

    def is_error(self, key: str) -> bool:
        return any(spec.key == key for spec in self.errors)

    @property
    def is_mfa_api(self) -> bool:
        """A call to the token endpoint, the MFA API or /authorize (the rest of a HAR is noise)."""
        path = self.path
        return path.endswith("/oauth/token") or "/mfa/" in path + "/" or path.endswith("/authorize")

    def field(self, name: str) -> str:
        value = self.fields.get(name)
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Finding:
    """A known problem seen in one exchange: what it is, why, how to fix it, and Auth0's page on it."""

    key: str
    title: str
    explanation: str
    fix: str
    doc_url: str
    exchange: int
    severity: str = "error"       # "error", "warning" (unrecognised answer) or "info" (not a failure)
    request: str = ""             # "POST /oauth/token", for the reader
    response: str = ""            # "403 invalid_grant: Invalid otp_code."

    def __str__(self) -> str:
        return (f"{self.title} (exchange #{self.exchange}: {self.request} -> {self.response}). "
                f"Fix: {self.fix} Docs: {self.doc_url}")

    def to_markdown(self) -> str:
        return (f"### {self.title}\n\n"
                f"Exchange #{self.exchange}: `{self.request}` → `{self.response}` ({self.severity})\n\n"
                f"{self.explanation}\n\n**Fix:** {self.fix}\n\nAuth0 docs: <{self.doc_url}>\n")

    _repr_markdown_ = to_markdown  # a notebook cell ending in a Finding shows it formatted


def findings_markdown(findings: Sequence[Finding], heading: str = "Diagnosis") -> str:
    """The findings as one Markdown document, in the order they happened."""
    if not findings:
        return f"# {heading}\n\nNo MFA API failure recognised in these exchanges.\n"
    return f"# {heading}\n\n" + "\n".join(f.to_markdown() for f in findings)


# ---------------------------------------------------------------------------------------------
# Building the neutral view

def observe(source: Any) -> list[Observed]:
    """Observed exchanges from a Session, a list of Exchanges, a HAR (dict, entries, or file path)."""
    if isinstance(source, (str, Path)):
        return observe(har.read_har(source))
    if isinstance(source, Mapping):
        return observe(har.exchanges(source))
    exchanges = getattr(source, "exchanges", None)
    if exchanges is not None:
        return observe(exchanges)
    items = list(source)
    if items and isinstance(items[0], Mapping):
        items = har.exchanges(items)
    return [item if isinstance(item, Observed) else _from_exchange(item, index)
            for index, item in enumerate(items)]


def exchanges_from_har(path: str | Path) -> list[Exchange]:
    """A HAR file's entries as Exchanges (what the verify report passes to diagnose())."""
    return har.exchanges(har.read_har(path))


def _from_exchange(exchange: Exchange, index: int) -> Observed:
    """The client's Exchange (a recorded one, or a HAR entry read back), as the rules see it."""
    url = exchange.url
    fields: dict[str, Any] = dict(parse_qsl(urlsplit(url).query))
    data = exchange.request_fields()
    fields.update(dict(data) if isinstance(data, list) else data if isinstance(data, Mapping) else {})
    request_headers = {k.lower(): v for k, v in exchange.request_headers.items()}
    response_headers = {k.lower(): v for k, v in exchange.response_headers.items()}
    body = exchange.response_json
    started = exchange.started.timestamp()
    return Observed(
        index=index, method=exchange.method.upper(), url=url, status=exchange.status or 0,
        fields=fields, body=body if body is not None else exchange.response_body,
        host=request_headers.get("host") or urlsplit(url).netloc,
        started=started if started > 0 else None,
        server_date=_parse_http_date(response_headers.get("date")))


def _parse_http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# What every known error means, in plain words (the rules below refine these with context)

@dataclass(frozen=True)
class _Advice:
    title: str
    explanation: str
    fix: str
    doc: str
    severity: str = "error"


_ADVICE: dict[str, _Advice] = {
    "wrong_password": _Advice(
        "Wrong username or password",
        "The first factor failed: Auth0 did not get as far as MFA.",
        "Check the username, password and realm (connection) the app sends.", DOCS["ropg"]),
    "invalid_otp": _Advice(
        "The one-time code was refused",
        "Auth0 compared the 6-digit code with the one it computes from the authenticator's secret and "
        "the current time, and they differ. The usual causes: the phone's clock is off (codes are "
        "derived from the time, so a clock a minute off gives wrong codes every time), the code came "
        "from another enrollment of the same account (each associate creates a new secret; an old QR "
        "entry in the app keeps showing codes for the old one), or a typo.",
        "Set the phone to automatic date and time (Google Authenticator: Settings → Time correction "
        "for codes → Sync now), delete stale entries for this account from the app, and send a fresh "
        "code.", DOCS["verify_otp"]),
    "otp_reused": _Advice(
        "The one-time code was already used",
        "Auth0 accepts each code once. This code was already accepted a moment before, in the same "
        "30-second step, so it is spent.",
        "Wait for the authenticator to show the next code (at most 30 s) and send that one.",
        DOCS["verify_otp"]),
    "invalid_binding_code": _Advice(
        "The code from the SMS/voice/email was refused",
        "The binding_code must be the 6 digits Auth0 sent to the phone or inbox for this very "
        "oob_code. A code from an earlier message, or one for another challenge, does not match.",
        "Send the binding_code from the latest message, with the oob_code of the same challenge.",
        DOCS["verify_oob"]),
    "invalid_recovery_code": _Advice(
        "The recovery code was refused",
        "Recovery codes are 24 upper-case letters and digits and work once. This one is wrong or "
        "already spent.",
        "Check the code the user typed (no spaces or dashes). If it was used before, use the new "
        "code Auth0 returned then (recovery_code in that response).", DOCS["recovery"]),
    "push_rejected": _Advice(
        "The user rejected the push notification",
        "The user tapped Deny in the Guardian app (or the push was refused on the device). The "
        "answer is final: this oob_code will never succeed, so polling it further is pointless. If "
        "the user did not start this login, it may be someone else holding their password.",
        "Stop polling. If the user wants to try again, start a new challenge (POST /mfa/challenge) "
        "and poll the new oob_code; consider alerting on unexpected rejections.", DOCS["push"]),
    "slow_down": _Advice(
        "Polling faster than Auth0 allows",
        "Auth0 allows 12 mfa-oob token exchanges per minute for one mfa_token; the app polled faster "
        "and got slow_down.",
        "Poll at most every 5 seconds, and add 5 seconds to the wait each time you get slow_down.",
        DOCS["verify_oob"]),
    "malformed_mfa_token": _Advice(
        "The mfa_token is not one Auth0 issued",
        "Auth0 could not read the mfa_token: it is cut short, has extra characters (quotes, "
        "'Bearer ', a newline), was URL-decoded or re-encoded on the way, or is another token "
        "altogether. Real mfa_tokens are long opaque strings (700–1,400 characters).",
        "Pass the mfa_token exactly as it came in the mfa_required response; don't trim, decode or "
        "store it in a field that truncates it.", DOCS["ropg"]),
    "mfa_token_reused": _Advice(
        "The mfa_token was already spent",
        "An mfa_token works until MFA is completed once with it. After a successful MFA grant Auth0 "
        "answers 'Malformed mfa_token' for it.",
        "Log in again for a new mfa_token, or use the tokens the successful grant returned.",
        DOCS["ropg"]),
    "expired_mfa_token": _Advice(
        "The mfa_token expired",
        "An mfa_token lives 10 minutes, and Auth0 does not let you change that. This one was used "
        "after that.",
        "Log in again (password grant) for a fresh mfa_token, and finish enrollment or challenge "
        "within 10 minutes; don't keep mfa_tokens in long-lived storage.", DOCS["ropg"]),
    "expired_oob_code": _Advice(
        "The SMS/voice/email code expired",
        "Codes sent by SMS, voice or email are valid 5 minutes.",
        "Ask for a new challenge (POST /mfa/challenge) and use its oob_code and the new message's code.",
        DOCS["sms"]),
    "too_many_attempts": _Advice(
        "Too many wrong codes: the user is locked out for a while",
        "Auth0 allows 10 wrong one-time codes; after that every attempt is refused, even a right "
        "one, and one attempt comes back every 6 minutes.",
        "Stop retrying automatically. Wait at least 6 minutes before the next attempt, and find why "
        "the codes were wrong first (clock skew, stale authenticator entry) so the next one works.",
        DOCS["ropg"]),
    "unsupported_challenge_type": _Advice(
        "No enrolled factor of that type",
        "The user has no active authenticator for the challenge type asked for.",
        "List the user's authenticators (GET /mfa/authenticators) and challenge one of the types "
        "they have, or enroll one first (POST /mfa/associate).", DOCS["challenge"]),
    "unauthorized_client_auth": _Advice(
        "The application did not authenticate",
        "The client secret is missing or wrong for this confidential application.",
        "Send the application's client_secret (in the body or HTTP Basic), the one from its settings.",
        DOCS["ropg"]),
    "grant_not_allowed": _Advice(
        "Grant type not enabled for the application",
        "The application is not allowed to use this grant type.",
        "Enable it in Dashboard → Applications → (the app) → Advanced Settings → Grant Types.",
        DOCS["grant_types"]),
    "service_not_enabled": _Advice(
        "Unknown audience",
        "The audience asked for is no API of this tenant.",
        "Ask for an API identifier exactly as it is registered (Dashboard → APIs). For the MFA API it "
        "is https://YOUR_CANONICAL_DOMAIN/mfa/, trailing slash included.", DOCS["ropg"]),
    "invalid_audience": _Advice(
        "Token for another audience used as mfa_token",
        "The MFA grants accept an mfa_token, or an access token for the MFA API audience "
        "(https://YOUR_CANONICAL_DOMAIN/mfa/). The token sent was minted for another audience.",
        "Use the mfa_token from mfa_required, or an access token obtained with the MFA API audience.",
        DOCS["manage"]),
    "rate_limited": _Advice(
        "Rate limit exceeded",
        "Too many requests in a short time for this tenant, user or IP.",
        "Wait until x-ratelimit-reset (epoch seconds in the response headers) and slow down.",
        DOCS["rate_limits"]),
    "unsupported_grant_type": _Advice(
        "Unknown grant type",
        "The grant_type is misspelled or not one Auth0 supports at the token endpoint.",
        "Use the full URI for MFA grants, e.g. http://auth0.com/oauth/grant-type/mfa-otp.",
        DOCS["ropg"]),
    "missing_parameter": _Advice(
        "A required parameter is missing",
        "The request lacks a parameter this call needs.",
        "Add the parameter Auth0 names in error_description.", DOCS["mfa_api"]),
    "invalid_refresh_token": _Advice(
        "Refresh token refused",
        "The refresh token is unknown, revoked or belongs to another application.",
        "Log in again to get a new refresh token (ask for offline_access).", DOCS["ropg"]),
    "invalid_authorization_code": _Advice(
        "Authorization code refused", "The code is wrong, expired or already used.",
        "Start the /authorize flow again and exchange the new code once.", DOCS["manage"]),
    "invalid_code_verifier": _Advice(
        "PKCE verifier does not match", "The code_verifier is not the one the code_challenge was made from.",
        "Send the code_verifier generated with this authorization request.", DOCS["manage"]),
    "invalid_redirect_uri": _Advice(
        "redirect_uri mismatch", "The redirect_uri differs from the one used at /authorize.",
        "Send exactly the same redirect_uri in both requests.", DOCS["manage"]),
    "invalid_token": _Advice(
        "The bearer token was refused",
        "The Authorization header of this MFA API call holds no valid mfa_token or MFA API access "
        "token: missing, cut short, expired (mfa_tokens live 10 minutes), or for another audience.",
        "Send 'Authorization: Bearer <mfa_token>' with the token from mfa_required, or an access token "
        "for https://YOUR_CANONICAL_DOMAIN/mfa/.", DOCS["manage"]),
    "delete_needs_access_token": _Advice(
        "Deleting a factor needs an access token, not the mfa_token",
        "An mfa_token proves only the password: it may list factors and enroll a first one, but not "
        "delete one, or anyone with the password could remove the only factor and enroll their own.",
        "Sign in with audience https://YOUR_CANONICAL_DOMAIN/mfa/ and scope remove:authenticators, "
        "complete MFA (challenge, then the matching MFA grant), and delete with the access token it "
        "returns.", DOCS["manage"]),
    "insufficient_scope": _Advice(
        "The access token lacks the scope this call needs",
        "Access tokens for the MFA API carry scopes: enroll for POST /mfa/associate, "
        "read:authenticators for listing, remove:authenticators for deleting.",
        "Ask for the scope when you get the token, with the MFA API audience.", DOCS["manage"]),
    "authenticator_not_found": _Advice(
        "No such authenticator", "The authenticator id does not exist for this user.",
        "Take the id from GET /mfa/authenticators, percent-encoded in the path (push%7Cdev_...).",
        DOCS["manage"]),
    "already_enrolled": _Advice(
        "User is already enrolled: challenge the existing factor first",
        "The user already has an active MFA factor, and the token used to add another one has not "
        "passed MFA. Auth0 lets a user add a factor only after proving one they have: otherwise "
        "anyone with the password could add their own phone.",
        "Get an access token for the MFA API (audience https://YOUR_CANONICAL_DOMAIN/mfa/, scope "
        "enroll) by completing MFA with the existing factor (challenge, then the matching MFA grant), "
        "and call POST /mfa/associate with that token.", DOCS["manage"]),
    "invalid_authenticator_type": _Advice(
        "Unknown authenticator type",
        "authenticator_types accepts only \"otp\" (an authenticator app) and \"oob\" (SMS, voice, "
        "email or push, with oob_channels).",
        "Fix the value: [\"otp\"], or [\"oob\"] with oob_channels.", DOCS["otp"]),
    "invalid_oob_channel": _Advice(
        "Unknown OOB channel",
        "oob_channels accepts sms, voice, email and auth0 (push).",
        "Fix the value in oob_channels.", DOCS["sms"]),
    "invalid_challenge_type": _Advice(
        "Unknown challenge type",
        "challenge_type accepts otp, oob, or both space-separated.",
        "Fix the challenge_type.", DOCS["challenge"]),
}


# ---------------------------------------------------------------------------------------------
# Context-aware rules

@dataclass
class _Context:
    observed: Sequence[Observed]
    canonical_domain: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def mfa_audience(self) -> str:
        return protocol.mfa_audience(self.canonical_domain or "YOUR_TENANT.REGION.auth0.com")

    def before(self, o: Observed) -> list[Observed]:
        return [x for x in self.observed if x.index < o.index and x.is_mfa_api]


# Answers that are steps of a working flow, not failures.
_EXPECTED = {"mfa_required", "authorization_pending"}

_Rule = Callable[[Observed, _Context], "Finding | None"]
_RULES: list[_Rule] = []


def _rule(fn: _Rule) -> _Rule:
    _RULES.append(fn)
    return fn


def _finding(o: Observed, key: str, advice: _Advice | None = None, **overrides: str) -> Finding:
    advice = advice or _ADVICE[key]
    texts = {"title": advice.title, "explanation": advice.explanation, "fix": advice.fix,
             "doc_url": advice.doc, "severity": advice.severity, **overrides}
    return Finding(key=key, exchange=o.index, request=f"{o.method} {o.path}",
                   response=_describe_response(o), **texts)


def _describe_response(o: Observed) -> str:
    if isinstance(o.body, Mapping) and o.body.get("error"):
        return f"{o.status} {o.body['error']}: {o.body.get('error_description', '')}".rstrip(": ")
    return str(o.status)


def _is_mfa_audience_like(audience: str) -> bool:
    parts = urlsplit(audience)
    return parts.scheme.startswith("http") and parts.path.rstrip("/") == "/mfa"


def _host_is_canonical(host: str, ctx: _Context) -> bool:
    if ctx.canonical_domain:
        return host == ctx.canonical_domain
    return host.endswith(".auth0.com")


def _jwt_audience(token: str) -> list[str]:
    """The aud claim of a JWT, unverified (only to name it in an explanation)."""
    parts = token.split(".")
    if len(parts) != 3:
        return []
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return []
    aud = claims.get("aud") if isinstance(claims, dict) else None
    return [aud] if isinstance(aud, str) else [a for a in aud or [] if isinstance(a, str)]


@_rule
def _custom_domain_audience(o: Observed, ctx: _Context) -> Finding | None:
    """`Service not enabled` / `invalid audience` because the MFA audience names the custom domain."""
    if o.is_error("service_not_enabled"):
        audience = o.field("audience")
    elif o.is_error("invalid_audience"):
        audiences = _jwt_audience(o.field("mfa_token")) or [
            x.field("audience") for x in reversed(ctx.before(o)) if x.field("audience")][:1]
        audience = next((a for a in audiences if _is_mfa_audience_like(a)), "")
    else:
        return None
    host = urlsplit(audience).netloc
    if not audience or not _is_mfa_audience_like(audience) or _host_is_canonical(host, ctx):
        return None
    right = ctx.mfa_audience
    how = ("Auth0 answered that no API of that name exists" if o.is_error("service_not_enabled") else
           "the token you got for it is not a token for the MFA API, so the MFA grant refused it "
           "(an API registered under that name in the dashboard is just another API)")
    return _finding(
        o, "custom_domain_audience", _ADVICE["service_not_enabled"],
        title="MFA API audience uses the custom domain",
        explanation=(
            f"The app asked for the audience {audience}. The MFA API's audience is always "
            f"{right}: your tenant's canonical domain, with the trailing slash, even when every "
            f"request goes to your custom domain ({host}). Here {how}. Calling the MFA API through "
            f"the custom domain is fine; only the audience must name the canonical domain."),
        fix=(f"Ask for audience={right} (keep sending the requests to {host} if you like). If you "
             f"created an API called {audience.rstrip('/')} in Dashboard → APIs to make the error go "
             f"away, delete it: it is not the MFA API."),
        doc_url=DOCS["custom_domains"])


@_rule
def _otp_refused(o: Observed, ctx: _Context) -> Finding | None:
    """Wrong code vs. a code already used in this 30 s step; with the clock offset when we can see it."""
    if not o.is_error("invalid_otp"):
        return None
    earlier_ok = [x for x in ctx.before(o) if x.grant_type == protocol.GRANT_MFA_OTP and x.ok]
    if earlier_ok and o.started and earlier_ok[-1].started and o.started - earlier_ok[-1].started < 30:
        same = o.field("otp") and o.field("otp") == earlier_ok[-1].field("otp")
        if same or not o.field("otp").isdigit():
            return _finding(o, "otp_reused")
    advice = _ADVICE["invalid_otp"]
    skew = ""
    if o.started is not None and o.server_date is not None and abs(o.server_date - o.started) >= 30:
        offset = o.started - o.server_date
        skew = (f" This computer's clock is {abs(offset):.0f} s {'ahead of' if offset > 0 else 'behind'} "
                f"the server's (compare the request time with the response's Date header): if the "
                f"codes are made here, that alone makes them wrong.")
    failures = sum(1 for x in ctx.before(o) if x.is_error("invalid_otp")) + 1
    tries = (f" This is wrong code number {failures} in this recording; after 10 Auth0 locks the "
             f"user out for a while." if failures > 1 else "")
    return _finding(o, "invalid_otp", explanation=advice.explanation + skew + tries)


@_rule
def _mfa_token_spent(o: Observed, ctx: _Context) -> Finding | None:
    """`Malformed mfa_token` right after a successful MFA grant with no new login: it was spent."""
    if not o.is_error("malformed_mfa_token"):
        return None
    for x in reversed(ctx.before(o)):
        if x.is_error("mfa_required"):
            return None  # a fresh mfa_token came since: really malformed
        if x.grant_type in protocol.MFA_GRANTS and x.ok:
            return _finding(o, "mfa_token_reused")
    return None


@_rule
def _missing_binding_code(o: Observed, ctx: _Context) -> Finding | None:
    """An mfa-oob exchange without binding_code for a code that was sent by SMS, voice or email."""
    if o.grant_type != protocol.GRANT_MFA_OOB or o.ok or o.field("binding_code"):
        return None
    issued = next((x for x in reversed(ctx.before(o))
                   if isinstance(x.body, Mapping) and x.body.get("oob_code")), None)
    if issued is None or issued.body.get("binding_method") != "prompt":
        return None
    if any(x.index > issued.index and x.grant_type == protocol.GRANT_MFA_OOB
           and not x.field("binding_code") for x in ctx.before(o)):
        return None  # said once per code, not on every poll
    channel = issued.body.get("oob_channel") or "SMS, voice or email"
    return _finding(
        o, "missing_binding_code", _ADVICE["invalid_binding_code"],
        title="mfa-oob sent without the binding code",
        explanation=(
            f"Exchange #{issued.index} ({issued.method} {issued.path}) answered binding_method "
            f"\"prompt\": Auth0 sent a 6-digit code by {channel}, and the mfa-oob grant must carry it "
            f"as binding_code. Without it the oob_code can never be confirmed: polling does not help, "
            f"unlike a push notification."),
        fix="Ask the user for the code from the message and send it as binding_code, together with "
            "the oob_code and the mfa_token.")


@_rule
def _polling_too_fast(o: Observed, ctx: _Context) -> Finding | None:
    """slow_down, with how fast the app actually polled."""
    if not o.is_error("slow_down"):
        return None
    polls = [x for x in ctx.before(o) + [o] if x.grant_type == protocol.GRANT_MFA_OOB and x.started]
    oob_code = o.field("oob_code")
    if oob_code:
        polls = [x for x in polls if x.field("oob_code") == oob_code] or polls
    measured = ""
    if len(polls) >= 2:
        span = polls[-1].started - polls[0].started
        every = span / (len(polls) - 1)
        pace = f"{every:.1f} s" if every >= 0.1 else "less than 0.1 s"
        measured = f" This app polled {len(polls)} times in {span:.1f} s, about every {pace}."
    advice = _ADVICE["slow_down"]
    return _finding(o, "slow_down", explanation=advice.explanation + measured)


@_rule
def _recovery_code_reused(o: Observed, ctx: _Context) -> Finding | None:
    """A recovery code refused after an earlier one succeeded: the old code is spent."""
    if not o.is_error("invalid_recovery_code"):
        return None
    earlier = [x for x in ctx.before(o) if x.grant_type == protocol.GRANT_MFA_RECOVERY_CODE and x.ok]
    if not earlier:
        return None
    return _finding(
        o, "recovery_code_reused", _ADVICE["invalid_recovery_code"],
        title="Recovery code reused",
        explanation=(
            f"A recovery code already succeeded in exchange #{earlier[-1].index}. A recovery code "
            f"works once: that success spent it and returned a new one in the recovery_code field. "
            f"Sending the old code again is refused with 'MFA Authorization rejected.'"),
        fix="Show the user the recovery_code from the successful response and have them store it; "
            "use that code next time.")


def _enroll_only(required: Observed) -> str | None:
    """The factor types an mfa_required answer offers for enrollment, when it offers no challenge."""
    requirements = required.body.get("mfa_requirements") or {}
    if not requirements.get("enroll") or requirements.get("challenge"):
        return None
    return ", ".join(t.get("type", "?") for t in requirements["enroll"])


@_rule
def _user_has_no_factor(o: Observed, ctx: _Context) -> Finding | None:
    """A challenge for a user whose mfa_required offered only enrollment."""
    if not o.is_error("unsupported_challenge_type"):
        return None
    required = next((x for x in reversed(ctx.before(o)) if x.is_error("mfa_required")), None)
    types = _enroll_only(required) if required else None
    if types is None:
        return None
    return _finding(
        o, "user_has_no_factor", _ADVICE["unsupported_challenge_type"],
        title="The user has no MFA factor yet: enroll, don't challenge",
        explanation=(
            f"mfa_required in exchange #{required.index} listed mfa_requirements.enroll ({types}) and "
            f"no challenge: this user has not enrolled any factor, so there is nothing to challenge."),
        fix="Enroll a factor first: POST /mfa/associate with the mfa_token as bearer (e.g. "
            "authenticator_types [\"otp\"]), then confirm it with the matching MFA grant and the same "
            "mfa_token. Branch on mfa_requirements: challenge when it has `challenge`, enroll when it "
            "has only `enroll`.",
        doc_url=DOCS["ropg"])


@_rule
def _grant_not_enabled(o: Observed, ctx: _Context) -> Finding | None:
    if not o.is_error("grant_not_allowed") or o.grant_type not in protocol.MFA_GRANTS:
        return None
    return _finding(
        o, "mfa_grant_not_enabled", _ADVICE["grant_not_allowed"],
        title="MFA grant types not enabled on the application",
        explanation=(
            f"The application (client_id {o.field('client_id') or 'in the request'}) may not use "
            f"{o.grant_type}. The MFA API's grants (mfa-otp, mfa-oob, mfa-recovery-code) are enabled "
            f"separately from the password grant: login and enrollment can work while every MFA "
            f"grant is refused."),
        fix="Dashboard → Applications → (this app) → Advanced Settings → Grant Types → tick MFA, "
            "save; or PATCH /api/v2/clients/{id} with the three MFA grant types in grant_types.")


@_rule
def _insufficient_scope(o: Observed, ctx: _Context) -> Finding | None:
    if not o.is_error("insufficient_scope"):
        return None
    description = o.body.get("error_description", "")
    needed = description.rsplit(":", 1)[-1].strip() or protocol.SCOPE_ENROLL
    asked = next((x.field("scope") for x in reversed(ctx.before(o))
                  if _is_mfa_audience_like(x.field("audience"))), None)
    got = f" The token was requested with scope \"{asked}\"." if asked is not None else ""
    return _finding(
        o, "insufficient_scope",
        explanation=(f"{o.method} {o.path} needs an MFA API access token with the scope {needed}; "
                     f"the one sent lacks it.{got} Scopes: enroll (associate), read:authenticators "
                     f"(list), remove:authenticators (delete)."),
        fix=(f"Request audience={ctx.mfa_audience} with scope containing {needed} (e.g. "
             f"\"openid {needed}\") when you get the token, then complete MFA to receive it."))


@_rule
def _enrollment_required(o: Observed, ctx: _Context) -> Finding | None:
    """Not a failure: mfa_required offering only enrollment (the app must enroll, not challenge)."""
    types = _enroll_only(o) if o.is_error("mfa_required") else None
    if types is None:
        return None
    return _finding(
        o, "enrollment_required", _ADVICE["unsupported_challenge_type"],
        title="MFA required, and the user has no factor yet",
        explanation=(f"mfa_required lists mfa_requirements.enroll ({types}) and no challenge: the "
                     f"user must enroll a factor before MFA can complete."),
        fix="Call POST /mfa/associate with the mfa_token, then confirm the new factor with the "
            "matching MFA grant.", doc_url=DOCS["ropg"], severity="info")


@_rule
def _known_error(o: Observed, ctx: _Context) -> Finding | None:
    """Any other known error: its plain-words advice, or the client's fix for it."""
    specs = [s for s in o.errors if s.key not in _EXPECTED]
    spec = next((s for s in specs if s.key in _ADVICE), specs[0] if specs else None)
    if spec is None:
        return None
    if spec.key in _ADVICE:
        return _finding(o, spec.key)
    return _finding(o, spec.key, _Advice(
        f"{spec.error}: {spec.describe().split('{')[0].rstrip(': ') or spec.error}",
        f"Auth0 answered {spec.status} {spec.error}.",
        FIXES.get(spec.key, "Read error_description: it names what is wrong."), DOCS["mfa_api"]))


@_rule
def _unknown_error(o: Observed, ctx: _Context) -> Finding | None:
    """An MFA API failure the kit does not know yet: shown as is, so nothing is silently dropped."""
    if o.ok or o.errors or o.status < 400 or not o.is_mfa_api:
        return None
    return _finding(o, "unrecognised_error", _Advice(
        "Unrecognised MFA API error",
        "The kit does not know this answer. Read its error and error_description.",
        "If Auth0 really answers this, add it to mfa_helpers/protocol.py so the kit learns it.",
        DOCS["mfa_api"], "warning"))


def diagnose(exchanges: Any, *, canonical_domain: str | None = None) -> list[Finding]:
    """Known problems in recorded exchanges, in the order they happened (at most one per exchange).

    ``exchanges``: a Session, a list of Exchanges, a HAR (dict, list of entries, or path).
    ``canonical_domain``: the tenant's ``TENANT.REGION.auth0.com``; guessed when not given from
    the ``*.auth0.com`` hosts the requests went to or named in an ``audience``.
    """
    observed = observe(exchanges)
    seen = [host for o in observed for host in (o.host, urlsplit(o.field("audience")).netloc)]
    domain = canonical_domain or next((h for h in seen if h.endswith(".auth0.com")), None)
    ctx = _Context(observed, domain)
    findings = []
    for o in observed:
        if not o.is_mfa_api and not o.errors:
            continue
        finding = next((f for rule in _RULES if (f := rule(o, ctx)) is not None), None)
        if finding is not None:
            findings.append(finding)
    return findings
