"""Diagnosis: observed MFA API exchanges → known pitfalls, in plain words, with the fix and Auth0's doc.

Works on what the kit's client recorded (``Session`` / ``Exchange``) and on HAR files, the kit's own or
ones a customer exported from a browser or a proxy. Both are first turned into one neutral view,
:class:`Observed`; the rules only ever look at that. Errors are recognised through
``protocol.identify`` (the one source of error strings), and when Auth0's wording or status differs
from the table, from the ``error`` code and the endpoint. What each error means comes from
``mfa_helpers.knowledge``; the rules add what the error alone cannot say, from the exchanges before
it: which audience was asked for, whether the code was already spent, how fast the app polled, what
``mfa_required`` offered. One pass over the exchanges (linear time); repeated findings are grouped.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from mfa_helpers import knowledge, protocol
from mfa_helpers.exchange import Exchange, from_har
from mfa_helpers.knowledge import DASHBOARD_ORIGINS, DOCS, Knowledge
from mfa_helpers.protocol import ErrorSpec
from mfa_helpers.support import har

__all__ = ["Observed", "Finding", "diagnose", "observe", "exchanges_from_har", "findings_markdown",
           "normalise_domain", "guess_canonical_domain", "jwt_parts", "DOCS"]

# A tenant's canonical domain: TENANT.auth0.com or TENANT.REGION.auth0.com (never Auth0's own hosts).
_TENANT_HOST = re.compile(r"^(?!(?:cdn|www|manage|community|marketplace|support|auth0)\.)"
                          r"[a-z0-9][a-z0-9-]*(?:\.[a-z]{2}\d?)?\.auth0\.com$")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$")
_URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>,]+")
_REDACTED = re.compile(r"redacted|\*{3}|…|REDACTED", re.IGNORECASE)


def normalise_domain(value: str) -> str:
    """`https://Acme.EU.auth0.com/` → `acme.eu.auth0.com`; ValueError for what is no host name."""
    text = value.strip().lower()
    host = urlsplit(text if "://" in text else f"//{text}").netloc.rstrip(".")
    if not host or not _HOST.match(host):
        raise ValueError(f"--domain {value!r} is not a host name: give the tenant's canonical domain, "
                         f"e.g. acme.eu.auth0.com")
    return host


@dataclass(frozen=True)
class Observed:
    """One request and its response, whoever recorded it: the neutral view every rule reads."""

    number: int                   # 1, 2, ... in the recording's order, as devtools lists them
    method: str
    url: str
    status: int                   # 0: no answer (network, CORS, cancelled)
    fields: Mapping[str, Any]     # request body (form or JSON) over the query string's parameters
    body: Any                     # response body: parsed JSON when it is JSON, else text, else None
    host: str = ""                # where the request went: the Host header wins over the URL
    started: float | None = None  # epoch seconds, the client's clock
    server_date: float | None = None  # the response's Date header, epoch seconds, the server's clock
    clock: str = ""               # the start time as HH:MM:SS, in the recording's own time zone
    request_headers: Mapping[str, str] = field(default_factory=dict)  # names in lower case
    location: str = ""            # a redirect's Location
    network_error: str = ""       # why no answer came (Chrome's `_error`, the client's error)

    @property
    def grant_type(self) -> str | None:
        return self.fields.get("grant_type") if self.path.endswith("/oauth/token") else None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def failed(self) -> bool:
        """No HTTP answer at all: blocked (CORS), network failure or cancelled."""
        return self.status <= 0

    @property
    def request(self) -> str:
        return f"{self.method} {self.path}"

    def __post_init__(self) -> None:
        # What the rules ask of every exchange, worked out once (frozen: set through object)
        object.__setattr__(self, "path", urlsplit(self.url).path or "/")
        answer: dict[str, Any] = {}
        from_body = isinstance(self.body, Mapping) and isinstance(self.body.get("error"), str)
        if from_body:
            answer = dict(self.body)
        else:
            answer = _redirect_error(self.location) or (
                _redirect_error(self.url) if self.method == "GET" and not self.is_mfa_api else {})
        object.__setattr__(self, "answer", answer)
        object.__setattr__(self, "by_redirect", bool(answer) and not from_body)
        errors: list[ErrorSpec] = []
        if answer and self.by_redirect:   # a redirect carries no status: its wording counts
            errors = [s for s in protocol.ERRORS.values() if s.error == answer["error"]
                      and _same_words(s, answer.get("error_description"))]
        elif answer:   # protocol.identify, on the few specs with this error code
            errors = [s for s in _BY_CODE.get(answer["error"], ()) if s.matches(self.status, answer)]
        object.__setattr__(self, "errors", errors)
        object.__setattr__(self, "tolerant", [] if errors or not answer else _tolerant_match(self))
        object.__setattr__(self, "_keys", frozenset(spec.key for spec in errors or self.tolerant))

    # Set in __post_init__: `path` the URL's path; `answer` the error answer, the JSON body's or a redirect's back to the
    # app (an /authorize failure arrives as `callback?error=...`), else {}; `errors` the known errors
    # it is exactly; `tolerant` the ones it most likely is when none matches exactly (other status or
    # wording), from the `error` code and the endpoint or grant.
    path: str = field(init=False, repr=False, compare=False)
    answer: dict[str, Any] = field(init=False, repr=False, compare=False)
    by_redirect: bool = field(init=False, repr=False, compare=False)
    errors: list[ErrorSpec] = field(init=False, repr=False, compare=False)
    tolerant: list[ErrorSpec] = field(init=False, repr=False, compare=False)
    _keys: frozenset[str] = field(init=False, repr=False, compare=False)

    @property
    def matched(self) -> list[ErrorSpec]:
        return self.errors or self.tolerant

    def is_error(self, key: str) -> bool:
        return key in self._keys

    @property
    def is_mfa_api(self) -> bool:
        """A call to the token endpoint, the MFA API or /authorize (the rest of a HAR is noise)."""
        return _is_mfa_path(self.path)

    @property
    def place(self) -> str:
        """Which step this is: the grant at /oauth/token, or the MFA API endpoint."""
        path = self.path
        if path.endswith("/oauth/token"):
            return _GRANT_PLACES.get(self.grant_type or "", "token")
        if path.endswith("/mfa/associate"):
            return "associate"
        if "/mfa/authenticators" in path:
            return "delete" if self.method == "DELETE" else "list"
        if path.endswith("/mfa/challenge"):
            return "challenge"
        return "authorize" if path.endswith("/authorize") or self.by_redirect else "other"

    def field(self, name: str) -> str:
        value = self.fields.get(name)
        return value if isinstance(value, str) else ""


def _is_mfa_path(path: str) -> bool:
    return path.endswith("/oauth/token") or "/mfa/" in path + "/" or path.endswith("/authorize")


_GRANT_PLACES = {protocol.GRANT_PASSWORD: "login", protocol.GRANT_PASSWORD_REALM: "login",
                 protocol.GRANT_MFA_OTP: "otp", protocol.GRANT_MFA_OOB: "oob",
                 protocol.GRANT_MFA_RECOVERY_CODE: "recovery", protocol.GRANT_REFRESH_TOKEN: "refresh",
                 protocol.GRANT_AUTHORIZATION_CODE: "code"}
_MFA_GRANT_PLACES = frozenset({"otp", "oob", "recovery"})
_BEARER_PLACES = frozenset({"associate", "list", "delete"})


def _redirect_error(url: str) -> dict[str, str]:
    if not url or "error=" not in url:
        return {}
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query)) | dict(parse_qsl(parts.fragment))
    if not params.get("error"):
        return {}
    return {"error": params["error"], "error_description": params.get("error_description", "")}


@dataclass(frozen=True)
class Finding:
    """A known problem: what it is, why, how to fix it, and Auth0's page on it. Repeats of the same
    problem are one Finding: `count`, the exchange `numbers`, first and last time."""

    key: str
    title: str
    explanation: str
    fix: str
    doc_url: str
    exchange: int                 # the first exchange's number (1-based, as devtools lists them)
    severity: str = "error"       # "error", "warning" (can't tell for sure) or "info" (not a failure)
    request: str = ""             # "POST /oauth/token", for the reader
    response: str = ""            # "403 invalid_grant: Invalid otp_code."
    at: str = ""                  # the first exchange's time, HH:MM:SS
    count: int = 1
    numbers: tuple[int, ...] = ()
    last_at: str = ""

    @property
    def headline(self) -> str:
        """'slow_down ×7,988 between 10:02:11 and 10:14:40', or just the title once."""
        if self.count == 1:
            return self.title
        span = f" between {self.at} and {self.last_at}" if self.at and self.last_at else ""
        return f"{self.title} ×{self.count:,}{span}"

    @property
    def where(self) -> str:
        at = f" at {self.at}" if self.at else ""
        first = f"exchange #{self.exchange}{at}" if self.count == 1 else f"first exchange #{self.exchange}{at}"
        return f"{first}: {self.request} -> {self.response}" if self.request else first

    def __str__(self) -> str:
        return f"{self.headline} ({self.where}). Fix: {self.fix} Docs: {self.doc_url}"

    def to_markdown(self) -> str:
        request = f": `{self.request}` → `{self.response}`" if self.request else ""
        at = f" at {self.at}" if self.at else ""
        return (f"### {self.headline}\n\n"
                f"{'First exchange' if self.count > 1 else 'Exchange'} #{self.exchange}{at}{request} "
                f"({self.severity})\n\n"
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
        har.check(source)
        return observe(from_har(source))
    exchanges = getattr(source, "exchanges", None)
    if exchanges is not None:
        return observe(exchanges)
    items = list(source)
    if items and isinstance(items[0], Mapping):
        items = from_har(items)
    return [item if isinstance(item, Observed) else _from_exchange(item, number)
            for number, item in enumerate(items, 1)]


def exchanges_from_har(path: str | Path) -> list[Exchange]:
    """A HAR file's entries as Exchanges (what the verify report passes to diagnose())."""
    return from_har(har.read_har(path))


def _from_exchange(exchange: Exchange, number: int) -> Observed:
    """The client's Exchange (a recorded one, or a HAR entry read back), as the rules see it."""
    url = exchange.url
    fields: dict[str, Any] = dict(parse_qsl(urlsplit(url).query))
    data = exchange.request_fields()   # form pairs, a JSON object, or JSON of another shape (ignored)
    if isinstance(data, list) and all(isinstance(pair, tuple) for pair in data):
        fields.update(data)
    elif isinstance(data, Mapping):
        fields.update(data)
    request_headers = {k.lower(): v for k, v in exchange.request_headers.items()}
    response_headers = {k.lower(): v for k, v in exchange.response_headers.items()}
    started = exchange.started.timestamp()
    return Observed(
        number=number, method=exchange.method.upper(), url=url, status=exchange.status or 0,
        fields=fields, body=_body(exchange.response_body, response_headers.get("content-type", ""))
        if _is_mfa_path(urlsplit(url).path) else None,   # the rest of a HAR: its bodies say nothing here
        host=(request_headers.get("host") or urlsplit(url).netloc).lower(),
        started=started if started > 0 else None,
        server_date=_parse_http_date(response_headers.get("date")),
        clock=exchange.started.strftime("%H:%M:%S") if started > 0 else "",
        request_headers=request_headers, location=response_headers.get("location", ""),
        network_error=exchange.error or ("" if exchange.status else "no response"))


def _body(text: str | None, content_type: str) -> Any:
    """Parsed JSON when the body is JSON, else the text (None for none)."""
    if text and ("json" in content_type or text.lstrip()[:1] in ("{", "[")):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def _parse_http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A JWT's header and claims, unverified and signature or not (a redacted HAR drops it); None
    for anything else (an opaque mfa_token, a redacted value)."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not parts[1]:
        return None
    try:
        header, claims = (json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in parts[:2])
    except (ValueError, binascii.Error):
        return None
    return (header, claims) if isinstance(header, dict) and isinstance(claims, dict) else None


def _jwt_claims(token: str) -> dict[str, Any] | None:
    parts = jwt_parts(token)
    return parts[1] if parts else None


def _audiences(claims: Mapping[str, Any] | None) -> list[str]:
    aud = (claims or {}).get("aud")
    return [aud] if isinstance(aud, str) else [a for a in aud or [] if isinstance(a, str)]


def _is_mfa_audience_like(audience: str) -> bool:
    parts = urlsplit(audience)
    return parts.scheme.startswith("http") and parts.path.rstrip("/") == "/mfa"


def _bearer(o: Observed) -> str:
    header = o.request_headers.get("authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def guess_canonical_domain(observed: Iterable[Observed]) -> str | None:
    """The tenant's canonical domain, only from where Auth0 itself names it: the hosts MFA API calls
    went to, a JWT's `iss`, and URLs inside error answers (never CDN or other hosts)."""
    candidates: list[str] = []
    for o in observed:
        if o.is_mfa_api:
            candidates.append(o.host.split(":")[0])
        tokens = [_bearer(o), o.field("mfa_token")]
        if isinstance(o.body, Mapping):
            tokens += [o.body.get(k) for k in ("access_token", "id_token") if isinstance(o.body.get(k), str)]
        for token in filter(None, tokens):
            issuer = str((_jwt_claims(token) or {}).get("iss") or "")
            candidates.append(urlsplit(issuer).netloc)
        candidates += [urlsplit(url).netloc for url in _URL_IN_TEXT.findall(
            str(o.answer.get("error_description") or ""))]
        found = next((c.lower() for c in candidates if _TENANT_HOST.match(c.lower())), None)
        if found:
            return found
        candidates.clear()
    return None


# ---------------------------------------------------------------------------------------------
# Tolerant matching: Auth0's answer differs from the table (status, wording), the code does not

def _words(text: Any) -> str:
    return " ".join(re.sub(r"[^a-z0-9_:/ ]+", " ", str(text or "").lower()).split())


def _same_words(spec: ErrorSpec, text: Any) -> bool:
    said, known = _words(text), _words(spec.description.split("{", 1)[0])
    return said.startswith(known) if "{" in spec.description else said == known


_ANYWHERE: frozenset[str] = frozenset()
# Where each error can come from (absent: anywhere); rules out a reading that makes no sense.
_PLACES: dict[str, frozenset[str]] = {
    "wrong_password": frozenset({"login"}),
    "invalid_otp": frozenset({"otp"}), "otp_reused": frozenset({"otp"}),
    "invalid_binding_code": frozenset({"oob"}), "invalid_recovery_code": frozenset({"recovery"}),
    "authorization_pending": frozenset({"oob"}), "push_rejected": frozenset({"oob"}),
    "slow_down": frozenset({"oob"}), "expired_oob_code": frozenset({"oob"}),
    "invalid_oob_code": frozenset({"oob"}),
    "malformed_mfa_token": _MFA_GRANT_PLACES | {"challenge"},
    "expired_mfa_token": _MFA_GRANT_PLACES | {"challenge"}, "mfa_token_reused": _MFA_GRANT_PLACES,
    "invalid_audience": _MFA_GRANT_PLACES, "too_many_attempts": _MFA_GRANT_PLACES,
    "unsupported_challenge_type": frozenset({"challenge"}),
    "unknown_authenticator": frozenset({"challenge"}),
    "service_not_enabled": frozenset({"login", "authorize", "refresh", "token"}),
    "invalid_refresh_token": frozenset({"refresh"}),
    "invalid_authorization_code": frozenset({"code"}), "invalid_code_verifier": frozenset({"code"}),
    "invalid_redirect_uri": frozenset({"code"}),
    "invalid_token": _BEARER_PLACES, "insufficient_scope": _BEARER_PLACES,
    "authenticator_not_found": frozenset({"delete"}), "already_enrolled": frozenset({"associate"}),
    "invalid_authenticator_type": frozenset({"associate"}), "invalid_oob_channel": frozenset({"associate"}),
    "invalid_phone_number": frozenset({"associate"}), "invalid_email": frozenset({"associate"}),
    "invalid_challenge_type": frozenset({"challenge"}),
    "invalid_authorize_request": frozenset({"authorize"}),
}
# Words in error_description → the errors they point to, first plausible one at this place wins.
_KEYWORDS: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("service not enabled",), ("service_not_enabled",)),
    (("audience",), ("invalid_audience", "service_not_enabled")),
    (("oob_code", "expired"), ("expired_oob_code",)),
    (("expired",), ("expired_mfa_token", "invalid_token")),
    (("jwt",), ("malformed_mfa_token", "invalid_token")),
    (("binding",), ("invalid_binding_code",)),
    (("otp",), ("invalid_otp",)),
    (("recovery",), ("invalid_recovery_code",)),
    (("mfa_token",), ("malformed_mfa_token",)), (("mfa token",), ("malformed_mfa_token",)),
    (("scope",), ("insufficient_scope",)),
    (("already enrolled",), ("already_enrolled",)),
    (("password",), ("wrong_password",)),
    (("rejected",), ("push_rejected", "invalid_recovery_code")),
    (("polling",), ("slow_down",)),
    (("not allowed",), ("grant_not_allowed",)),
]
_SPECS = [s for s in protocol.ERRORS.values() if s.source != "emulator"]
_BY_CODE: dict[str, list[ErrorSpec]] = {
    code: [s for s in protocol.ERRORS.values() if s.error == code] for code in {s.error for s in protocol.ERRORS.values()}}


def _plausible(key: str, o: Observed) -> bool:
    return o.place in _PLACES.get(key, _ANYWHERE) or key not in _PLACES


def _tolerant_match(o: Observed) -> list[ErrorSpec]:
    code, text = str(o.answer.get("error") or ""), _words(o.answer.get("error_description"))
    same_code = [s for s in _SPECS if s.error == code]
    worded = [s for s in same_code if _same_words(s, text) and _plausible(s.key, o)]
    if worded:
        return worded
    for words, keys in _KEYWORDS:
        if all(w in text for w in words):
            key = next((k for k in keys if _plausible(k, o)), None)
            if key:
                return [protocol.ERRORS[key]]
    if o.by_redirect:   # an app's callback URL: only what the words say (its error may be no MFA one)
        return []
    placed = [s for s in same_code if _plausible(s.key, o) and s.key in _PLACES]
    if placed:
        return placed[:1]
    return same_code[:1] if len({s.key for s in same_code}) == 1 else []


# ---------------------------------------------------------------------------------------------
# What the rules know from the exchanges before the one they look at (one pass, linear time)

@dataclass
class _Context:
    canonical_domain: str | None = None
    last_mfa_required: Observed | None = None
    spent_by: Observed | None = None           # the MFA grant that spent the current mfa_token
    last_otp_ok: Observed | None = None
    last_recovery_ok: Observed | None = None
    last_oob_issued: Observed | None = None
    polls: dict[str, list[float]] = field(default_factory=dict)   # oob_code → [count, first, last]
    wrong_otps: int = 0
    last_audience: str = ""                    # the latest audience asked for
    last_mfa_scope: str | None = None          # the scope asked with an MFA-like audience
    redirect_answers: set[tuple[str, str]] = field(default_factory=set)
    known: dict[str, Knowledge] = field(default_factory=dict)   # knowledge.about, once per key

    @property
    def mfa_audience(self) -> str:
        return protocol.mfa_audience(self.canonical_domain or knowledge.CANONICAL_PLACEHOLDER)

    @property
    def tenant(self) -> str:
        """'the canonical domain acme.us.auth0.com', or where to find it when the HAR does not say."""
        if self.canonical_domain:
            return f"the canonical domain {self.canonical_domain}"
        return ("the tenant's canonical domain (TENANT.REGION.auth0.com; Dashboard → Settings → Custom "
                "Domains shows both)")

    def about(self, key: str) -> Knowledge:
        if key not in self.known:
            self.known[key] = (knowledge.about(key, self.canonical_domain)
                               or Knowledge(key, "", "", "", "", DOCS["mfa_api"]))
        return self.known[key]

    def learn(self, o: Observed) -> None:
        """Remember what this exchange tells the rules of later ones."""
        if o.field("audience"):
            self.last_audience = o.field("audience")
            if _is_mfa_audience_like(self.last_audience):
                self.last_mfa_scope = o.field("scope")
        if o.is_error("mfa_required"):
            self.last_mfa_required, self.spent_by = o, None
        if o.grant_type in protocol.MFA_GRANTS and o.ok:
            self.spent_by = o
            if o.grant_type == protocol.GRANT_MFA_OTP:
                self.last_otp_ok = o
            if o.grant_type == protocol.GRANT_MFA_RECOVERY_CODE:
                self.last_recovery_ok = o
        if isinstance(o.body, Mapping) and o.body.get("oob_code"):
            self.last_oob_issued = o
        if o.is_error("invalid_otp"):
            self.wrong_otps += 1
        if o.by_redirect:
            self.redirect_answers.add((o.answer["error"], str(o.answer.get("error_description"))))


# Answers that are steps of a working flow, not failures.
_EXPECTED = {"mfa_required", "authorization_pending"}

_Rule = Callable[[Observed, _Context], "Finding | None"]
_RULES: list[_Rule] = []


def _rule(fn: _Rule) -> _Rule:
    _RULES.append(fn)
    return fn


def _finding(o: Observed, ctx: _Context, key: str, about: str | None = None, **texts: str) -> Finding:
    """A finding for exchange `o`: knowledge of `about` (default `key`) unless `texts` override it."""
    k = ctx.about(about or key)
    explanation = texts.pop("explanation", k.cause)
    if o.tolerant and not o.errors:
        known = o.tolerant[0]
        explanation = (f"Auth0 answered {_describe_response(o)}, which is not word for word what the kit "
                       f"knows ({known.status} {known.error}: {known.description.split('{')[0].strip()}); "
                       f"from the error code and the endpoint it is most likely this. " + explanation)
    values = {"title": k.title, "explanation": explanation, "fix": k.support_fix, "doc_url": k.doc,
              "severity": "error", **texts}
    return Finding(key=key, exchange=o.number, request=o.request, response=_describe_response(o),
                   at=o.clock, numbers=(o.number,), last_at=o.clock, **values)


def _describe_response(o: Observed) -> str:
    if o.failed:
        said = o.network_error if o.network_error not in ("", "no response") else ""
        return f"no response ({said})" if said else "no response"
    if o.answer:
        via = " (in the redirect)" if o.by_redirect else ""
        text = f"{o.status} {o.answer['error']}: {o.answer.get('error_description', '')}".rstrip(": ")
        return text + via
    return str(o.status)


def _host_is_canonical(host: str, ctx: _Context) -> bool:
    if ctx.canonical_domain:
        return ctx.canonical_domain in (host, host.split(":")[0])
    return host.split(":")[0].endswith(".auth0.com")


# ---------------------------------------------------------------------------------------------
# Context-aware rules, tried in order; the first that speaks wins

# How a request that got no answer failed (the browser's words, lower case) → title, what it means.
_NO_ANSWER = [
    (("cors", "access-control", "err_failed"), "cors", "Blocked by the browser (CORS)",
     "The browser sent the request but did not let the page read the answer: the MFA API did not "
     "allow the page's origin. In a single-page app this is the usual reason an MFA API call "
     "'fails' with no status at all."),
    (("name_not_resolved", "dns", "not resolve"), "network", "The host name does not resolve",
     "The browser could not find the server: the domain is misspelled, or DNS is blocked."),
    (("refused", "connection_reset", "connection_closed"), "network", "The connection was refused",
     "Nothing answered at that address, or a proxy or firewall dropped the connection."),
    (("cert", "ssl", "tls"), "network", "The TLS connection failed",
     "The certificate was not trusted (a proxy intercepting TLS, a wrong custom-domain certificate) "
     "or the scheme is wrong."),
    (("timed_out", "timeout"), "network", "No answer in time", "The request timed out."),
    (("blocked_by_client",), "blocked", "Blocked by a browser extension",
     "An extension (ad or privacy blocker) stopped the request before it left the browser."),
    (("aborted", "canceled", "cancelled"), "cancelled", "Cancelled before the answer came",
     "The page navigated away or the app aborted the request; often harmless."),
]


@_rule
def _no_answer(o: Observed, ctx: _Context) -> Finding | None:
    """A request to the MFA API that got no HTTP answer: CORS, network, an extension, cancelled."""
    if not o.failed or not o.is_mfa_api:
        return None
    said = o.network_error.lower()
    kind, title, cause = next(((kind, title, cause) for words, kind, title, cause in _NO_ANSWER
                               if any(w in said for w in words)),
                              ("cors", "No answer recorded (CORS or network)",
                               "The HAR has no status for this request (0 or -1): the browser blocked "
                               "the answer (CORS, the usual case for a single-page app), or the "
                               "network failed before one came."))
    origin = o.request_headers.get("origin", "")
    origin_text = f" ({origin})" if origin else ""
    fix = (f"If the app runs in the browser, add its origin{origin_text} to {DASHBOARD_ORIGINS}; "
           f"the scheme and port must match, no path. Then reload and try again.")
    if kind == "network":
        fix = f"Check the address the app calls ({o.host}) and the network between them; then: {fix}"
    elif kind == "blocked":
        fix = "Disable the blocking extension for this site, or allow-list the tenant's domain."
    elif kind == "cancelled":
        fix = "Nothing to fix if the page moved on on purpose; else keep the page until the answer comes."
    return _finding(o, ctx, f"no_answer_{kind}", title=title, explanation=cause,
                    fix=fix, doc_url=DOCS["cors"], severity="warning" if kind == "cancelled" else "error")


@_rule
def _origin_refused(o: Observed, ctx: _Context) -> Finding | None:
    """401 "Unauthorized" from a browser page: its origin, not the client secret (the same wire form)."""
    origin = o.request_headers.get("origin", "")
    if not o.is_error("origin_not_allowed") or not origin or o.field("client_secret"):
        return None
    k = ctx.about("origin_not_allowed")
    return _finding(o, ctx, "origin_not_allowed",
                    explanation=f"{k.cause} The page's origin here: {origin}.",
                    fix=k.support_fix.replace("e.g. https://app.example.com", origin))


@_rule
def _custom_domain_audience(o: Observed, ctx: _Context) -> Finding | None:
    """The seeds' pitfall, whatever the clue: the MFA audience named with the custom domain."""
    if o.is_error("service_not_enabled"):
        said = _URL_IN_TEXT.findall(str(o.answer.get("error_description") or ""))
        audience = next((u for u in said if _is_mfa_audience_like(u)), o.field("audience"))
        how = ("Auth0 answered that no API of that name exists" +
               (", in the redirect back to the app" if o.by_redirect else ""))
        certain = True
    elif o.is_error("invalid_audience"):
        token = o.field("mfa_token")
        claims = _jwt_claims(token)
        readable = [a for a in _audiences(claims) if not _REDACTED.search(a)]
        audience = next((a for a in readable if _is_mfa_audience_like(a)), "")
        certain = bool(audience)
        if not readable and _is_mfa_audience_like(ctx.last_audience):
            audience = ctx.last_audience   # the token's own aud can't be read: what the app asked for
        if not audience and o.host and not _host_is_canonical(o.host, ctx):
            audience = f"https://{o.host.split(':')[0]}/mfa/"   # only the request host is a clue
        unread = ("is opaque" if claims is None else "has its aud redacted") if not readable else ""
        how = ("the token you got for it is not a token for the MFA API, so the MFA grant refused it "
               "(an API registered under that name in the dashboard is just another API)")
        if unread:
            how += (f". This HAR cannot show the token's audience (the token {unread}); the clue is "
                    f"{'the audience asked for earlier' if audience == ctx.last_audience else 'the request host'}")
    else:
        return None
    host = urlsplit(audience).netloc.lower()
    if not audience or not _is_mfa_audience_like(audience) or _host_is_canonical(host, ctx):
        return None
    likely = "" if certain else "Most likely: "
    return _finding(
        o, ctx, "custom_domain_audience", "service_not_enabled",
        title="MFA API audience uses the custom domain",
        explanation=(
            f"{likely}the app asked for the audience {audience}, on the custom domain {host}. The MFA "
            f"API's audience is always {ctx.mfa_audience}: {ctx.tenant}, with "
            f"the trailing slash, even when every request goes to the custom domain. Here {how}. "
            f"Calling the MFA API through the custom domain is fine; only the audience must name the "
            f"canonical domain."),
        fix=(f"Ask for audience={ctx.mfa_audience} (keep sending the requests to {host} if you like). "
             f"If you created an API called {audience.rstrip('/')} in Dashboard → APIs to make the "
             f"error go away, delete it: it is not the MFA API."),
        doc_url=DOCS["custom_domains"])


@_rule
def _otp_refused(o: Observed, ctx: _Context) -> Finding | None:
    """Wrong code vs. a code already used in this 30 s step; with the clock offset when we can see it."""
    if not o.is_error("invalid_otp"):
        return None
    ok = ctx.last_otp_ok
    recent = ok is not None and o.started and ok.started and o.started - ok.started < 30
    otp = o.field("otp")
    if recent and otp.isdigit() and otp == ok.field("otp"):
        return _finding(o, ctx, "otp_reused")
    k = ctx.about("invalid_otp")
    extra = ""
    if recent and not otp.isdigit():
        extra = (f" The codes are redacted in this HAR, so the kit cannot tell a wrong code from a "
                 f"reused one: a code was accepted in exchange #{ok.number} {o.started - ok.started:.0f} s "
                 f"earlier, so sending that same code again is one possibility (each code works once).")
    if o.started is not None and o.server_date is not None and abs(o.server_date - o.started) >= 30:
        offset = o.started - o.server_date
        extra += (f" This computer's clock is {abs(offset):.0f} s {'ahead of' if offset > 0 else 'behind'} "
                  f"the server's (compare the request time with the response's Date header): if the "
                  f"codes are made here, that alone makes them wrong.")
    failures = ctx.wrong_otps + 1
    if failures > 1:
        extra += (f" This is wrong code number {failures} in this recording; after 10 Auth0 locks the "
                  f"user out for a while.")
    return _finding(o, ctx, "invalid_otp", explanation=k.cause + extra)


@_rule
def _mfa_token_spent(o: Observed, ctx: _Context) -> Finding | None:
    """`Malformed mfa_token` right after a successful MFA grant with no new login: it was spent."""
    if not o.is_error("malformed_mfa_token") or ctx.spent_by is None:
        return None
    return _finding(o, ctx, "mfa_token_reused",
                    explanation=ctx.about("mfa_token_reused").cause +
                    f" The MFA grant in exchange #{ctx.spent_by.number} succeeded, and no login came since.")


@_rule
def _missing_binding_code(o: Observed, ctx: _Context) -> Finding | None:
    """An mfa-oob exchange without binding_code for a code that was sent by SMS, voice or email."""
    if o.grant_type != protocol.GRANT_MFA_OOB or o.ok or o.field("binding_code") or o.failed:
        return None
    issued = ctx.last_oob_issued
    if issued is None or issued.body.get("binding_method") != "prompt":
        return None
    channel = issued.body.get("oob_channel") or "SMS, voice or email"
    return _finding(
        o, ctx, "missing_binding_code", "invalid_binding_code",
        title="mfa-oob sent without the binding code",
        explanation=(
            f"Exchange #{issued.number} ({issued.request}) answered binding_method \"prompt\": Auth0 "
            f"sent a 6-digit code by {channel}, and the mfa-oob grant must carry it as binding_code. "
            f"Without it the oob_code can never be confirmed: polling does not help, unlike a push "
            f"notification."),
        fix="Ask the user for the code from the message and send it as binding_code, together with "
            "the oob_code and the mfa_token.")


@_rule
def _polling_too_fast(o: Observed, ctx: _Context) -> Finding | None:
    """slow_down, with how fast the app actually polled."""
    if not o.is_error("slow_down"):
        return None
    count, first, last = ctx.polls.get(o.field("oob_code")) or ctx.polls.get("", [0, 0.0, 0.0])
    measured = ""
    if count >= 2:
        span = last - first
        every = span / (count - 1)
        pace = f"about every {every:.1f} s" if every >= 0.1 else "less than 0.1 s apart"
        measured = f" This app polled {int(count):,} times in {span:.1f} s, {pace}."
    return _finding(o, ctx, "slow_down", explanation=ctx.about("slow_down").cause + measured)


@_rule
def _recovery_code_reused(o: Observed, ctx: _Context) -> Finding | None:
    """A recovery code refused after an earlier one succeeded: the old code is spent."""
    if not o.is_error("invalid_recovery_code") or ctx.last_recovery_ok is None:
        return None
    return _finding(
        o, ctx, "recovery_code_reused", "invalid_recovery_code", title="Recovery code reused",
        explanation=(
            f"A recovery code already succeeded in exchange #{ctx.last_recovery_ok.number}. A recovery "
            f"code works once: that success spent it and returned a new one in the recovery_code "
            f"field. Sending the old code again is refused with 'MFA Authorization rejected.'"),
        fix="Show the user the recovery_code from the successful response and have them store it; "
            "use that code next time.")


def _enroll_only(required: Observed) -> str | None:
    """The factor types an mfa_required answer offers for enrollment, when it offers no challenge."""
    requirements = required.answer.get("mfa_requirements") or {}
    if not isinstance(requirements, Mapping) or not requirements.get("enroll") or requirements.get("challenge"):
        return None
    return ", ".join(str(t.get("type", "?")) if isinstance(t, Mapping) else "?" for t in requirements["enroll"])


@_rule
def _user_has_no_factor(o: Observed, ctx: _Context) -> Finding | None:
    """A challenge for a user whose mfa_required offered only enrollment."""
    if not o.is_error("unsupported_challenge_type") or ctx.last_mfa_required is None:
        return None
    required = ctx.last_mfa_required
    types = _enroll_only(required)
    if types is None:
        return None
    return _finding(
        o, ctx, "user_has_no_factor", "unsupported_challenge_type",
        title="The user has no MFA factor yet: enroll, don't challenge",
        explanation=(
            f"mfa_required in exchange #{required.number} listed mfa_requirements.enroll ({types}) and "
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
        o, ctx, "mfa_grant_not_enabled", "grant_not_allowed",
        title="MFA grant types not enabled on the application",
        explanation=(
            f"The application (client_id {o.field('client_id') or 'in the request'}) may not use "
            f"{o.grant_type}. The MFA API's grants (mfa-otp, mfa-oob, mfa-recovery-code) are enabled "
            f"separately from the password grant: login and enrollment can work while every MFA "
            f"grant is refused."),
        fix=f"{knowledge.DASHBOARD_GRANTS} → tick MFA, save; or PATCH /api/v2/clients/{{id}} with the "
            "three MFA grant types in grant_types.")


@_rule
def _insufficient_scope(o: Observed, ctx: _Context) -> Finding | None:
    if not o.is_error("insufficient_scope"):
        return None
    description = str(o.answer.get("error_description", ""))
    needed = description.rsplit(":", 1)[-1].strip() if ":" in description else protocol.SCOPE_ENROLL
    got = (f" The token was requested with scope \"{ctx.last_mfa_scope}\"."
           if ctx.last_mfa_scope is not None else "")
    return _finding(
        o, ctx, "insufficient_scope",
        explanation=(f"{o.request} needs an MFA API access token with the scope {needed}; the one sent "
                     f"lacks it.{got} Scopes: enroll (associate), read:authenticators (list), "
                     f"remove:authenticators (delete)."),
        fix=(f"Request audience={ctx.mfa_audience} with scope containing {needed} (e.g. "
             f"\"openid {needed}\") when you get the token, then complete MFA to receive it."))


@_rule
def _bearer_refused(o: Observed, ctx: _Context) -> Finding | None:
    """invalid_token: which case this HAR shows (no header, not Bearer, expired, other audience)."""
    if not o.is_error("invalid_token"):
        return None
    k = ctx.about("invalid_token")
    header = o.request_headers.get("authorization")
    token = _bearer(o)
    claims = _jwt_claims(token) if token else None
    if header is None:
        case = ("This request carries no Authorization header in the HAR. Either the app sent none, "
                "or the HAR was exported without it (Chrome's \"Export HAR (sanitized)\" and many "
                "redaction tools drop Authorization).")
        fix = ("Send 'Authorization: Bearer <token>' on every MFA API call. If the app does, ask for a "
               "HAR with the header (Chrome: Export HAR with sensitive data) to see the token's case.")
    elif not token:
        scheme = header.split(" ", 1)[0] or "(empty)"
        case = f"The Authorization header does not use the Bearer scheme (it starts with \"{scheme}\")."
        fix = "Send the token as 'Authorization: Bearer <token>' (the word Bearer, a space, the token)."
    elif claims is not None and isinstance(claims.get("exp"), (int, float)) and o.started \
            and claims["exp"] <= o.started:
        when = datetime.fromtimestamp(claims["exp"], timezone.utc).strftime("%H:%M:%S UTC")
        case = (f"The bearer is a JWT that expired at {when}, {o.started - claims['exp']:.0f} s before "
                f"this request (MFA API access tokens live 10 minutes).")
        fix = "Get a fresh token (log in again, or complete MFA again) right before managing factors."
    elif claims is not None and not any(_is_mfa_audience_like(a) for a in _audiences(claims)):
        aud = ", ".join(_audiences(claims)) or "none"
        case = f"The bearer is a JWT for another audience (aud: {aud}), not the MFA API."
        fix = (f"Get the token with audience={ctx.mfa_audience} and the scopes the call needs, or use "
               f"the mfa_token from mfa_required.")
    elif _REDACTED.search(token):
        case = ("The bearer token is redacted in this HAR: it may be expired, cut short or for another "
                "audience, and the HAR cannot say which.")
        fix = k.support_fix
    elif claims is None and ctx.last_mfa_required and ctx.last_mfa_required.started and o.started \
            and o.started - ctx.last_mfa_required.started > protocol.MFA_TOKEN_LIFETIME:
        case = (f"The bearer is an opaque mfa_token, and the mfa_required that issued the latest one "
                f"(exchange #{ctx.last_mfa_required.number}) came "
                f"{o.started - ctx.last_mfa_required.started:.0f} s before: mfa_tokens live 10 minutes.")
        fix = "Log in again for a fresh mfa_token and finish within 10 minutes."
    else:
        case = ("The bearer's content does not show why (an opaque mfa_token can't be read): cut short, "
                "expired, or spent by a completed MFA.")
        fix = k.support_fix
    return _finding(o, ctx, "invalid_token", explanation=f"{k.cause} {case}", fix=fix)


@_rule
def _enrollment_required(o: Observed, ctx: _Context) -> Finding | None:
    """Not a failure: mfa_required offering only enrollment (the app must enroll, not challenge)."""
    types = _enroll_only(o) if o.is_error("mfa_required") else None
    if types is None:
        return None
    return _finding(
        o, ctx, "enrollment_required", "unsupported_challenge_type",
        title="MFA required, and the user has no factor yet",
        explanation=(f"mfa_required lists mfa_requirements.enroll ({types}) and no challenge: the "
                     f"user must enroll a factor before MFA can complete."),
        fix="Call POST /mfa/associate with the mfa_token, then confirm the new factor with the "
            "matching MFA grant.", doc_url=DOCS["ropg"], severity="info")


@_rule
def _known_error(o: Observed, ctx: _Context) -> Finding | None:
    """Any other known error: what it means and the customer's fix, from the knowledge base."""
    spec = next((s for s in o.matched if s.key not in _EXPECTED | {"origin_not_allowed"}), None)
    if spec is None:
        return None
    return _finding(o, ctx, spec.key)


@_rule
def _unknown_error(o: Observed, ctx: _Context) -> Finding | None:
    """An MFA API failure the kit does not know: shown as is, so nothing is silently dropped."""
    if o.ok or o.matched or o.status < 400 or not o.is_mfa_api or o.body is None:
        return None
    said = (f"{o.answer.get('error')}: {o.answer.get('error_description', '')}" if o.answer
            else f"HTTP {o.status}")
    return _finding(
        o, ctx, "unrecognised_error", title="Unrecognised MFA API error",
        explanation=(f"Auth0 answered {said} to {o.request}, an answer the kit has no explanation for. "
                     f"error_description usually names what Auth0 objects to."),
        fix=(f"Compare this request with Auth0's page for {o.path} (parameters, their spelling, the "
             f"token it carries) and correct what error_description names; if it stays unclear, send "
             f"the case bundle (mfa-kit bundle) to Auth0 support."),
        doc_url=DOCS["mfa_api"], severity="warning")


# ---------------------------------------------------------------------------------------------
# What the HAR as a whole says

_BODIES_HOW = ("Ask for the HAR again, with response bodies: devtools open before the problem, Network "
               "tab, \"Preserve log\" ticked, reproduce, then Export HAR (Chrome/Edge: \"Export HAR "
               "(with sensitive data)\" keeps everything, to be redacted by `mfa-kit bundle`; Firefox: "
               "Save All As HAR, with devtools.netmonitor.har.includeResponseBodies true; Safari: "
               "Export; Charles/Fiddler: export the session as HAR).")


def _without_bodies(observed: Sequence[Observed]) -> Finding | None:
    """MFA API errors whose bodies the HAR does not hold: the kit can only see their status."""
    blind = [o for o in observed if o.is_mfa_api and o.status >= 400 and o.body is None]
    if not blind:
        return None
    first, listed = blind[0], ", ".join(f"#{o.number} {o.request} → {o.status}" for o in blind[:5])
    more = f" and {len(blind) - 5} more" if len(blind) > 5 else ""
    return Finding(
        key="no_response_bodies", title="The HAR holds no response bodies", severity="warning",
        explanation=(f"{len(blind)} MFA API answer(s) are errors ({listed}{more}), but the HAR has no "
                     f"response body for them, so their error and error_description, which name the "
                     f"problem, are not in it. (A 403 at /oauth/token may even be the normal "
                     f"mfa_required.)"),
        fix=_BODIES_HOW, doc_url=DOCS["har"], exchange=first.number, request=first.request,
        response=str(first.status), at=first.clock, count=len(blind),
        numbers=tuple(o.number for o in blind), last_at=blind[-1].clock)


def _no_mfa_api_call(observed: Sequence[Observed]) -> Finding:
    """No call to /oauth/token or /mfa/ at all: say what the HAR did hold."""
    hosts: dict[str, int] = {}
    for o in observed:
        hosts[o.host] = hosts.get(o.host, 0) + 1
    pages = sorted({o.path for o in observed if o.path.startswith(("/u/", "/login", "/authorize"))
                    or o.path.endswith("/authorize")})
    seen = ", ".join(f"{host or '(no host)'} ×{n}" for host, n in
                     sorted(hosts.items(), key=lambda item: -item[1])[:5])
    if not observed:
        what = "The HAR holds no request at all: the recording started after the problem, or was cleared."
    else:
        what = f"None of its {len(observed)} requests calls /oauth/token or /mfa/ (hosts: {seen})."
    if pages:
        what += (f" It shows Universal Login pages ({', '.join(pages[:6])}): MFA happened on Auth0's "
                 f"hosted pages there, not through the MFA API, so this HAR has no MFA API exchange "
                 f"to explain.")
    return Finding(
        key="no_mfa_api_call", title="No MFA API call in this HAR", severity="warning",
        explanation=what,
        fix=("Record the HAR while the app makes the failing MFA API calls (its own enrollment or "
             "challenge screen, or the backend's calls through a proxy such as Charles or Fiddler). "
             + _BODIES_HOW),
        doc_url=DOCS["har"], exchange=observed[0].number if observed else 0,
        at=observed[0].clock if observed else "", numbers=())


def _grouped(findings: Sequence[Finding]) -> list[Finding]:
    """One Finding per problem: repeats add to its count, numbers and time span. When every repeat
    got the same answer, the latest explanation says the most (how many polls, which wrong code);
    else the first one's stands (it explains the answer the Finding names)."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.key, []).append(f)
    result = []
    for same in groups.values():
        first, last = same[0], same[-1]
        if len(same) > 1:
            alike = len({f.response for f in same}) == 1   # the same answer again: its latest words
            first = replace(first, count=sum(f.count for f in same),
                            explanation=last.explanation if alike else first.explanation,
                            numbers=tuple(n for f in same for n in f.numbers), last_at=last.last_at)
        result.append(first)
    return result


def diagnose(exchanges: Any, *, canonical_domain: str | None = None, group: bool = True) -> list[Finding]:
    """Known problems in recorded exchanges, in the order they first happened.

    ``exchanges``: a Session, a list of Exchanges, a HAR (dict, list of entries, or path).
    ``canonical_domain``: the tenant's ``TENANT.REGION.auth0.com`` (any case, scheme or slash); when
    not given, guessed from where Auth0 names it (``guess_canonical_domain``).
    ``group``: one Finding per problem with its count (the default), or one per exchange.
    """
    observed = observe(exchanges)
    domain = normalise_domain(canonical_domain) if canonical_domain else guess_canonical_domain(observed)
    ctx = _Context(domain)
    findings = []
    for o in observed:
        if o.grant_type == protocol.GRANT_MFA_OOB and o.started:
            for code in {o.field("oob_code"), ""}:
                poll = ctx.polls.setdefault(code, [0, o.started, o.started])
                poll[0], poll[2] = poll[0] + 1, o.started
        relevant = o.is_mfa_api or o.answer
        if relevant and o.by_redirect and not o.is_mfa_api and \
                (o.answer["error"], str(o.answer.get("error_description"))) in ctx.redirect_answers:
            relevant = False   # the app's callback page, carrying an error already read in the redirect
        if relevant:
            finding = next((f for rule in _RULES if (f := rule(o, ctx)) is not None), None)
            if finding is not None:
                findings.append(finding)
        ctx.learn(o)
    if not any(o.path.endswith("/oauth/token") or "/mfa/" in o.path + "/" for o in observed) \
            and not findings:
        findings.append(_no_mfa_api_call(observed))
    if (blind := _without_bodies(observed)) is not None:
        findings.append(blind)
    return _grouped(findings) if group else findings
