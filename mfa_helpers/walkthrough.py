"""The notebooks' logic, so that every notebook cell stays a call and a display.

A notebook opens a `Walkthrough` with `connect(name, headless)`: it targets the emulator or a tenant
(from the environment), signs in as a fresh user on the emulator, and keeps what a notebook needs
between cells: where one-time codes come from (the virtual authenticator and the emulator's outbox
headless, the widget's stored result interactively), what the run created (so `finish()` deletes only
that), and the key results it `record()`s as machine-readable outputs that tests and `mfa-kit verify`
read back with `results()`.
"""
from __future__ import annotations

import html
import json
import os
import re
from urllib.parse import parse_qs, urlsplit
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import ipywidgets
import requests
from IPython.display import HTML, display

from mfa_helpers import ownership, protocol, redact
from mfa_helpers.authenticator import EMULATOR_STEPS_AHEAD, VirtualAuthenticator
from mfa_helpers.client import MfaClient
from mfa_helpers.errors import Auth0Error, KitError, MfaRequired
from mfa_helpers.tokens import decode_token

RESULT_MIME = "application/vnd.mfa-kit.result+json"
HEADLESS_ENV = "MFA_KIT_HEADLESS"
HAR_PATH_ENV = "MFA_KIT_HAR_PATH"
# Asked at sign-in so that the tokens ending the MFA step can also list, enroll and delete factors:
# "ask for the https://{yourDomain}/mfa/ audience when logging in" (Manage Authentication Factors).
SIGN_IN_SCOPE = "openid profile email offline_access " + " ".join(protocol.MFA_SCOPES)
DEMO_PHONE = "+15555550100"  # a fictional number (555-01xx): the emulator's outbox is "the phone"
REDIRECT_URI = "http://localhost:3000/settings/callback"  # your settings page's callback URL
# Fields of MFA API answers that are never secret, kept in an Outcome's summary.
PLAIN_FIELDS = ("token_type", "expires_in", "scope", "authenticator_type", "oob_channel",
                "binding_method", "challenge_type")
# mfa_requirements factor names -> the authenticator id kinds that satisfy them.
REQUIREMENT_KINDS = {"otp": ("totp",), "push-notification": ("push",), "phone": ("sms", "voice"),
                     "email": ("email",), "recovery-code": ("recovery-code",)}
# The associate body for each kind of factor a walkthrough can enroll.
ENROLL = {"otp": {"authenticator_types": ["otp"]},
          "sms": {"authenticator_types": ["oob"], "oob_channels": ["sms"]},
          "voice": {"authenticator_types": ["oob"], "oob_channels": ["voice"]},
          "email": {"authenticator_types": ["oob"], "oob_channels": ["email"]},
          "push": {"authenticator_types": ["oob"], "oob_channels": ["auth0"]}}

_current: Walkthrough | None = None


class StepPending(KitError):
    """An interactive step whose widget has not been used yet."""

    def __init__(self, step: str):
        self.step = step
        super().__init__(f"Step {step!r} has no result yet: use the widget above (type the code and "
                         "press Confirm), then run this cell again.")


def resolve_headless(value: str | bool = "auto", env: Mapping[str, str] | None = None) -> bool:
    """The `headless` parameter as a bool. "auto": headless when MFA_KIT_HEADLESS=1 or CI is set."""
    env = os.environ if env is None else env
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == "auto":
        return env.get(HEADLESS_ENV, "").strip() == "1" or env.get("CI", "").strip().lower() not in ("", "0", "false")
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise KitError(f"headless={value!r} is not understood: use \"auto\", \"true\" or \"false\".")


@dataclass
class Outcome:
    """What one MFA API call answered: the response, or the Auth0 error it raised."""

    step: str
    response: Any = None
    error: Auth0Error | None = None
    status: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> dict[str, Any]:
        """Status, error, and the response's field names and non-secret values: safe to record."""
        if self.error is not None:
            return {"status": self.status, "error": self.error.error,
                    "error_description": self.error.error_description}
        fields = sorted(self.response) if isinstance(self.response, dict) else []
        return {"status": self.status, "fields": fields,
                **{k: self.response[k] for k in PLAIN_FIELDS if k in fields}}

    def __repr__(self) -> str:
        return f"Outcome({self.step!r}, {self.summary()})"

    def _repr_html_(self) -> str:
        mark = "&#10004;" if self.ok else "&#10008;"
        rows = "".join(f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>"
                       f"<code>{v}</code></td></tr>" for k, v in self.summary().items())
        return f"<div><b>{mark} {self.step}</b><table>{rows}</table></div>"


@dataclass
class Walkthrough:
    """One notebook's run: its client, its user, its recorded results and what it created."""

    notebook: str
    client: MfaClient
    headless: bool
    username: str | None = None
    baseline: set[str] = field(default_factory=set)
    access_token: str | None = field(default=None, repr=False)
    mfa_token: str | None = field(default=None, repr=False)
    recovery_code: str | None = field(default=None, repr=False)
    recorded: dict[str, Any] = field(default_factory=dict)
    enrolled: list[str] = field(default_factory=list)  # the kinds this run's associate calls enrolled
    _outcomes: dict[str, Outcome] = field(default_factory=dict, repr=False)
    _otp: VirtualAuthenticator | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        user = redact.mask_email(self.username) if self.username else None
        return (f"Walkthrough({self.notebook!r}, target={self.client.settings.target!r}, "
                f"address={self.client.base_url!r}, user={user!r}, headless={self.headless})")

    # -- recording ---------------------------------------------------------------------------
    def record(self, key: str, value: Any) -> None:
        """Display one key result as MIME `application/vnd.mfa-kit.result+json`; never a secret."""
        value = json.loads(json.dumps(value, default=str))
        text = json.dumps(value, sort_keys=True)
        if any(len(s) >= 6 and s in text for s in self._secrets()):
            raise KitError(f"Refusing to record {key!r}: its value holds a secret seen in this "
                           "session. Record a status, a field name or a summary instead.")
        self.recorded[key] = value
        display({RESULT_MIME: {"notebook": self.notebook, "key": key, "value": value},
                 "text/plain": f"{key} = {text}"}, raw=True)

    # -- signing in ---------------------------------------------------------------------------
    def sign_in(self, *, audience: str | None = None, scope: str = SIGN_IN_SCOPE) -> dict:
        """Password grant as this notebook's user, asking for the MFA API audience by default."""
        return self.client.login(audience=audience or self.client.mfa_audience, scope=scope)

    def mfa_required(self, **sign_in: Any) -> MfaRequired:
        """Sign in and return the `mfa_required` answer (an error if the tenant skipped MFA)."""
        try:
            tokens = self.sign_in(**sign_in)
        except MfaRequired as required:
            self.mfa_token = required.mfa_token
            return required
        raise KitError("The password grant succeeded without MFA: require MFA for this user "
                       f"(policy 'always') to walk this flow. The answer had {sorted(tokens)}.")

    # -- calls whose answer, success or Auth0 error, is the lesson ----------------------------
    def attempt(self, step: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
        """Run one client call, keep its answer or its Auth0 error, and remember it under `step`."""
        try:
            outcome = Outcome(step, response=call(*args, **kwargs), status=self._last_status())
        except Auth0Error as error:
            outcome = Outcome(step, error=error, status=error.status)
        self._keep(outcome)
        self._outcomes[step] = outcome
        return outcome

    def expect_error(self, step: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
        """`attempt` for a call that must fail: the pitfall being shown."""
        outcome = self.attempt(step, call, *args, **kwargs)
        if outcome.ok:
            raise KitError(f"Step {step!r} should have failed and succeeded: this target does not "
                           "reproduce the pitfall.")
        return outcome

    def confirm_otp(self, step: str, mfa_token: str, code: str) -> Outcome:
        """The `mfa-otp` grant with a code typed in a widget, passed as a parameter, or computed."""
        return self.attempt(step, self.client.confirm_otp, mfa_token, code)

    def confirm_oob(self, step: str, mfa_token: str, oob_code: str, binding_code: str | None) -> Outcome:
        """The `mfa-oob` grant with the binding code the phone or inbox received."""
        return self.attempt(step, self.client.confirm_oob, mfa_token, oob_code, binding_code)

    def answer(self, step: str, mfa_token: str, response: Mapping[str, Any]) -> Outcome:
        """Complete an enrollment or a challenge (`response` from associate or challenge).

        otp and sms/voice/email: headless, the virtual authenticator's code or the binding code from
        the emulator's outbox; interactive, what the code widget stored. Push: headless, approve it
        on the emulator; then poll the `mfa-oob` grant until it is answered."""
        if answer_kind(response) != "push" and not self.headless:
            if step not in self._outcomes:
                raise StepPending(step)
            return self._outcomes[step]
        return self._complete(step, mfa_token, response, approve_push=self.headless)

    def submit_code(self, step: str, mfa_token: str, response: Mapping[str, Any], code: str) -> Outcome:
        """What the code widgets call: confirm `response` (an otp or oob answer) with a typed code."""
        return self._submit(step, mfa_token, response, code)

    def answer_push(self, approve: bool = True) -> dict:
        """Approve (or reject) the latest push on the emulator, as the Guardian app would."""
        message = self.latest_message(channel="auth0")
        if not message or not message.get("transaction"):
            raise KitError("No push transaction in the emulator's outbox: run the push cell first.")
        emulator = self._emulator()
        return (emulator.approve_push if approve else emulator.reject_push)(message["transaction"])

    # -- factors ------------------------------------------------------------------------------
    def enroll(self, kind: str, token: str | None = None, *, phone_number: str = DEMO_PHONE,
               email: str = "") -> dict:
        """POST /mfa/associate for `kind` (otp, sms, voice, email, push) with the run's best token."""
        body = dict(ENROLL[kind])
        if kind in ("sms", "voice"):
            body["phone_number"] = phone_number
        if kind == "email":
            body["email"] = email or self.username
        response = self.client.associate(token or self._bearer(), **body)
        self._remember_enrollment(response)
        return response

    def prepare_factors(self, *kinds: str, phone_number: str = DEMO_PHONE) -> list[dict]:
        """Give this run's user active factors quickly, headless (the flows of notebooks 3 and 7):
        the first with the `mfa_token` of a sign-in, the others with the MFA API access token."""
        token = self.mfa_required().mfa_token
        for kind in kinds:
            enrollment = self.enroll(kind, token, phone_number=phone_number)
            outcome = self._complete(f"prepare {kind}", token, enrollment)
            if not outcome.ok:
                raise outcome.error
            token = self.access_token
        return self.authenticators()

    def authenticators(self, token: str | None = None) -> list[dict]:
        """GET /mfa/authenticators with `token`, or the run's best token."""
        return self.client.list_authenticators(token or self._bearer())

    def challenge(self, mfa_token: str, authenticator_id: str) -> dict:
        """POST /mfa/challenge for one authenticator, with the challenge type its kind needs."""
        challenge_type = "otp" if kind_of_id(authenticator_id) == "totp" else "oob"
        return self.client.challenge(mfa_token, challenge_type, authenticator_id=authenticator_id)

    def choose(self, step: str, candidates: Sequence[str]) -> str:
        """The authenticator picked for `step`: the widget's choice, else the first candidate."""
        if not self.headless and step in self._outcomes:
            return self._outcomes[step].response
        if not candidates:
            raise KitError("No authenticator to choose from: enroll one first.")
        self.store_choice(step, candidates[0])
        return candidates[0]

    def store_choice(self, step: str, authenticator_id: str) -> None:
        """Remember a pick (the authenticator picker widget calls this)."""
        self._outcomes[step] = Outcome(step, response=authenticator_id)

    def deletable(self, authenticators: Iterable[Mapping[str, Any]], requested: str = "") -> str:
        """The id to delete: `requested` if given, else the newest one this run created."""
        if requested:
            return requested
        mine = [a["id"] for a in authenticators
                if a["id"] not in self.baseline and kind_of(a) != "recovery-code"]
        if not mine:
            raise KitError("This run created no authenticator to delete.")
        newest = mine[-1].partition("|")[2]   # its device: the enrolled kind is listed before its companions
        return next(i for i in mine if i.partition("|")[2] == newest)

    # -- tokens for your own UI (/authorize) and the custom-domain pitfall -------------------------
    def custom_domain_client(self) -> MfaClient:
        """A client sending every request to the custom domain, sharing this run's session log."""
        custom = MfaClient(self.client.settings, use_custom_domain=True)
        custom.session = self.client.session  # one log (and one HAR) for both clients
        return custom

    def authorize(self, client: MfaClient | None = None, *, audience: str | None = None,
                  scope: str = SIGN_IN_SCOPE) -> dict:
        """The /authorize path to an access token (default: the MFA API audience): the browser's
        part (the login page) is driven here, then the code is exchanged with the PKCE verifier."""
        client = client or self.client
        request = client.authorize_url(REDIRECT_URI, audience=audience or client.mfa_audience, scope=scope)
        code = browser_login(client, request)
        tokens = client.exchange_code(code, request)
        self._keep(Outcome("authorize", response=tokens))
        return tokens

    def lookalike_token(self, client: MfaClient | None = None) -> str:
        """An access token for an API named like the MFA API on the custom domain (no trailing
        slash): the seeds' workaround that then fails at the mfa-otp grant."""
        client = client or self.client
        return self.authorize(client, audience=custom_domain_audience(client).rstrip("/"))["access_token"]

    # -- live-only displays (secrets the learner needs, never in a saved output) -------------------
    def show_device(self, response: Mapping[str, Any]) -> None:
        """What the user's device shows for an enrollment or challenge, live only (it is a code):
        the authenticator app's current code (the kit's virtual authenticator, for learners without
        a phone) or the SMS, call or email the emulator's outbox received."""
        if self.headless:
            return
        kind = answer_kind(response)
        if kind == "otp" and self._otp is not None:
            live_html(f"<b>Virtual authenticator app</b><p style='font-size:160%'><code>{self._otp.code()}"
                      f"</code></p>Changes in {self._otp.seconds_left():.0f} s: run this cell again for "
                      "a new one (each code is accepted once).")
        elif kind == "code" and self.client.emulator is not None:
            message = self.latest_message() or {}
            live_html(f"<b>{html.escape(str(message.get('channel', 'no message yet')))}</b> to "
                      f"<code>{html.escape(str(message.get('to', '')))}</code>"
                      f"<p>{html.escape(str(message.get('text', '')))}</p>")

    def show_recovery_code(self) -> None:
        """The recovery code to save, live only (each one is a password)."""
        if not self.headless and self.recovery_code:
            live_html(f"Save this recovery code where you keep passwords: <code>{self.recovery_code}</code>")

    def latest_message(self, channel: str | None = None) -> dict | None:
        """The emulator outbox's newest message to this run's user (other runs share the outbox)."""
        mine = [m for m in self._emulator().outbox() if m.get("username") == self.username
                and (channel is None or m.get("channel") == channel)]
        return mine[-1] if mine else None

    # -- ending -------------------------------------------------------------------------------
    def finish(self) -> None:
        """Delete what this run created, record it, and save the session HAR when asked to."""
        deleted, kept = self.cleanup()
        self.record("cleanup", {"deleted": deleted, "left_untouched": kept})
        self._save_har()

    def _save_har(self) -> None:
        """The session HAR, where MFA_KIT_HAR_PATH says: at the end, and after each enrollment, so
        that a run failing half-way still tells `mfa-kit verify` which factors it created."""
        har = os.environ.get(HAR_PATH_ENV, "").strip()
        if har:
            path = Path(har)
            self.client.session.to_har(path / f"{self.notebook}.har" if path.is_dir() else path)

    def cleanup(self) -> tuple[list[str], int]:
        """Delete each authenticator this run's enrollments account for (recovery code last) and
        count the others: the baseline, and anything someone else enrolled meanwhile.

        Deleting needs an MFA API access token: the one this run's MFA step returned, else a new
        one from completing MFA again with the run's OTP secret or recovery code (both in memory
        only). What the run cannot complete MFA for raises CannotRemove with the manual fix."""
        current = self._current_factors()
        mine, _ = ownership.claim([a for a in current if a["id"] not in self.baseline], self.enrolled)
        if mine:
            removal = self.client.delete_authenticators(
                mine, access_token=self.access_token, otp=self._otp.fresh_code if self._otp else None,
                recovery_code=self.recovery_code)
            self.recovery_code = removal.recovery_code
            mine = removal.removed
        return [kind_of(a) for a in mine], len(current) - len(mine)

    def _current_factors(self) -> list[dict]:
        """The user's factors, listed with the run's token, or a new sign-in's mfa_token when that
        one was spent or has expired; none when the run never signed in."""
        token = self._bearer()
        if token is None:
            return []
        try:
            return self.client.list_authenticators(token)
        except Auth0Error:
            return self.client.list_authenticators(self.mfa_required().mfa_token)

    # -- internals ------------------------------------------------------------------------------
    def _submit(self, step: str, mfa_token: str, response: Mapping[str, Any], code: str) -> Outcome:
        if answer_kind(response) == "otp":
            return self.confirm_otp(step, mfa_token, code)
        return self.confirm_oob(step, mfa_token, response["oob_code"], code)

    def _complete(self, step: str, mfa_token: str, response: Mapping[str, Any], *,
                  approve_push: bool = True) -> Outcome:
        """Complete without a human: computed or delivered code; push approved here or by a person."""
        if answer_kind(response) == "push":
            if approve_push:
                self.answer_push(approve=True)
            return self.attempt(step, self.client.poll_oob, mfa_token, response["oob_code"])
        return self._submit(step, mfa_token, response, self._headless_code(response))

    def _headless_code(self, response: Mapping[str, Any]) -> str:
        if answer_kind(response) == "otp":
            if self._otp is None:
                raise KitError("No OTP authenticator enrolled in this run: enroll one first.")
            return self._otp.fresh_code()
        message = self.latest_message()
        if not message or not message.get("binding_code"):
            raise KitError("No code in the emulator's outbox: run the associate or challenge cell first.")
        return message["binding_code"]

    def _remember_enrollment(self, response: Mapping[str, Any]) -> None:
        self.enrolled.append(ownership.enrolled_kind(response))
        self._save_har()
        if response.get("authenticator_type") == "otp":
            self._otp = VirtualAuthenticator.from_enrollment(
                dict(response), steps_ahead=EMULATOR_STEPS_AHEAD if self.client.emulator is not None else 0)
        if response.get("recovery_codes"):
            self.recovery_code = response["recovery_codes"][0]

    def _keep(self, outcome: Outcome) -> None:
        response = outcome.response
        if not isinstance(response, dict):
            return
        if response.get("recovery_code"):
            self.recovery_code = response["recovery_code"]
        if response.get("access_token") and self.client.mfa_audience in token_audiences(response):
            self.access_token = response["access_token"]

    def _emulator(self):
        if self.client.emulator is None:
            raise KitError("This step reads the emulator's outbox or answers its push: against a "
                           "real tenant, run the notebook interactively and use your phone.")
        return self.client.emulator

    def _bearer(self) -> str | None:
        return self.access_token or self.mfa_token

    def _last_status(self) -> int:
        last = self.client.session.last
        return last.status if last is not None and last.status else 0

    def _secrets(self) -> set[str]:
        extra = {s for s in (self.client.settings.password, self.recovery_code) if s}
        return self.client.session.known_secrets() | extra


def answer_kind(response: Mapping[str, Any]) -> str:
    """otp, code (sms/voice/email: a binding code to type) or push, for an associate or challenge answer."""
    if response.get("authenticator_type") == "otp" or response.get("challenge_type") == "otp":
        return "otp"
    return "code" if response.get("binding_method") == "prompt" else "push"


def token_audiences(tokens: Mapping[str, Any]) -> list[str]:
    """The audiences of a token response's access token ([] when it is not a JWT)."""
    try:
        return decode_token(tokens["access_token"]).audiences
    except (KeyError, ValueError):
        return []


def kind_of_id(authenticator_id: str) -> str:
    """`totp|dev_x` -> `totp`: the id's prefix, stable across runs (the rest is random)."""
    return authenticator_id.split("|", 1)[0]


def kind_of(authenticator: Mapping[str, Any]) -> str:
    return kind_of_id(authenticator["id"])


def factor_summary(authenticators: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Authenticators with their stable fields only (kind, type, channel, active), sorted."""
    rows = [{"kind": kind_of(a), "authenticator_type": a.get("authenticator_type"),
             "oob_channel": a.get("oob_channel"), "active": bool(a.get("active"))} for a in authenticators]
    return sorted(rows, key=lambda r: (r["kind"], str(r["oob_channel"]), r["active"]))


def challengeable(authenticators: Iterable[Mapping[str, Any]], prefer: str = "") -> list[str]:
    """Ids of the active factors that can be challenged (not the recovery code), `prefer` kind first."""
    ids = [a["id"] for a in authenticators if a.get("active") and kind_of(a) != "recovery-code"]
    return sorted(ids, key=lambda i: kind_of_id(i) != prefer)


def requirement_types(mfa_requirements: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """`mfa_requirements` -> {"challenge": [types], "enroll": [types]} (the lists present)."""
    return {kind: [entry["type"] for entry in entries]
            for kind, entries in (mfa_requirements or {}).items()}


def match_requirements(mfa_requirements: Mapping[str, Any] | None,
                       authenticators: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Customizable MFA: for each challenge type Auth0 offers, the ids of the user's active factors."""
    active = [a for a in authenticators if a.get("active")]
    return {kind: [a["id"] for a in active if kind_of(a) in REQUIREMENT_KINDS.get(kind, ())]
            for kind in requirement_types(mfa_requirements).get("challenge", [])}


def match_counts(matches: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """How many of the user's authenticators answer each offered challenge type."""
    return {kind: len(ids) for kind, ids in matches.items()}


def response_summary(response: Mapping[str, Any]) -> dict[str, Any]:
    """An associate or challenge answer without its secrets: field names, type, channel, counts."""
    summary = {"fields": sorted(response)}
    summary.update({k: response[k] for k in PLAIN_FIELDS if k in response})
    if "secret" in response:
        summary["secret_length"] = len(response["secret"])
    if "barcode_uri" in response:
        summary["barcode_uri_scheme"] = response["barcode_uri"].split(":", 1)[0]
    if "recovery_codes" in response:
        summary["recovery_code_count"] = len(response["recovery_codes"])  # a field named recovery_codes is redacted
    return summary


def token_summary(tokens: Mapping[str, Any]) -> dict[str, Any]:
    """A token response without its tokens: field names, type, lifetime, audiences and scopes."""
    return {"fields": sorted(tokens), "token_type": tokens.get("token_type"),
            "expires_in": tokens.get("expires_in"), "audiences": token_audiences(tokens),
            "scope": sorted(str(tokens.get("scope") or "").split())}


class LivePanel(ipywidgets.HTML):
    """An HTML widget whose text form never shows its value (the saved output keeps only that)."""

    def __repr__(self) -> str:
        return "(live display only: hidden when another cell runs, never saved)"


def live_html(content: str) -> None:
    """Show HTML that holds a secret in the live notebook only: it is cleared as soon as another
    cell runs, so the saved notebook never keeps it (like the client's QR panel)."""
    from IPython import get_ipython

    panel = LivePanel(value=f"<div style='border:1px solid #999;border-radius:8px;padding:8px;"
                            f"max-width:32em'>{content}</div>")
    shell = get_ipython()
    if shell is not None:
        def clear(*_: Any) -> None:
            panel.value = "<i>(hidden once another cell ran, so it is never saved: run this cell again to see it)</i>"
            shell.events.unregister("pre_run_cell", clear)
        shell.events.register("pre_run_cell", clear)
    display(panel)


def custom_domain_audience(client: MfaClient) -> str:
    """The mistake: the MFA API audience built from the custom domain."""
    if not client.settings.custom_domain:
        raise KitError("No custom domain is configured (AUTH0_CUSTOM_DOMAIN): nothing to show here.")
    return protocol.mfa_audience(client.settings.custom_domain)


def browser_login(client: MfaClient, request: Any) -> str:
    """What the browser does at the emulator's login page: post the username and password, and
    read the authorization code from the redirect. Returns the code."""
    if client.emulator is None:
        raise KitError(f"Open this URL in a browser, log in, and copy the `code` from the redirect: "
                       f"{request.url}")
    headers = {"Host": client.settings.custom_domain} if client.settings.use_custom_domain else {}
    page = client.open_authorize(request)   # recorded: the HAR shows the audience asked for
    found = re.search(r'name="login" value="([^"]+)"', page.response_body or "")
    if page.status != 200 or not found:
        sent_back = _redirect_params({k.lower(): v for k, v in page.response_headers.items()}.get("location", ""))
        raise KitError(f"/authorize did not show the login page ({page.status}): "
                       f"{sent_back.get('error_description', (page.response_body or '')[:200])}")
    form = {"login": found.group(1), "username": client.settings.username,
            "password": client.settings.password, "otp": ""}
    answer = requests.post(f"{client.base_url}/u/login", data=form, headers=headers,
                           allow_redirects=False, timeout=client.settings.timeout)
    params = _redirect_params(answer.headers.get("location", ""))
    if "code" not in params or params.get("state") != request.state:
        raise KitError(f"The login page did not redirect with a code ({answer.status_code}): "
                       f"{params.get('error_description') or 'check the user and password'}")
    return params["code"]


def _redirect_params(location: str) -> dict[str, str]:
    """The query parameters of a redirect's Location."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


# The discovery entries the kit's flows use.
DISCOVERY_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri", "mfa_challenge_endpoint")


def discovery_summary(discovery: Mapping[str, Any], client: MfaClient) -> dict[str, Any]:
    """What discovery says, checked as Auth0's SDKs check it: the issuer is https://<domain called>/
    (on the emulator too, whatever its own address), and the endpoints the flows need are there."""
    return {"issuer_matches_address": discovery.get("issuer") == f"https://{client.domain}/",
            "missing_endpoints": [k for k in DISCOVERY_ENDPOINTS if not discovery.get(k)]}


def configuration_summary(client: MfaClient) -> dict[str, Any]:
    """Target, domains, audience and whether the application may use the MFA grants (no secret)."""
    settings = client.settings
    summary = {"target": settings.target, "domain": settings.domain,
               "custom_domain": settings.custom_domain, "requests_to": client.domain,
               "mfa_audience": client.mfa_audience, "client_id_set": bool(settings.client_id),
               "client_secret_set": bool(settings.client_secret), "mfa_grants_enabled": None}
    if client.emulator is not None:
        app = next((c for c in client.emulator.tenant()["clients"] if c["client_id"] == settings.client_id), {})
        summary["mfa_grants_enabled"] = all(g in app.get("grant_types", []) for g in protocol.MFA_GRANTS)
    return summary


def recovery_summary(outcome: Outcome, spent_code: str) -> dict[str, Any]:
    """A recovery-code grant's outcome: did a new code come back, and is it a different one?"""
    new = (outcome.response or {}).get("recovery_code") if outcome.ok else None
    return {**outcome.summary(), "new_code_returned": bool(new), "new_code_differs": bool(new) and new != spent_code,
            "new_code_length": len(new or "")}


def connect(notebook: str, headless: str | bool = "auto") -> Walkthrough:
    """Open a notebook's walkthrough: the client from the environment; a fresh user on the emulator.
    Against a tenant, the user's existing factors form the baseline that cleanup never touches."""
    global _current
    client = MfaClient.connect()
    run = Walkthrough(notebook=notebook, client=client, headless=resolve_headless(headless))
    if client.emulator is not None:
        run.username = client.use_fresh_user()
    else:
        run.username = client.settings.username
        run.baseline = {a["id"] for a in run.authenticators(run.mfa_required().mfa_token)}
    _current = run
    return run


def record(key: str, value: Any) -> None:
    """Record a key result in the current notebook's walkthrough (see `Walkthrough.record`)."""
    if _current is None:
        raise KitError("Call walkthrough.connect(...) first.")
    _current.record(key, value)


def results(notebook: str | os.PathLike | Mapping[str, Any]) -> dict[str, Any]:
    """The results an executed notebook recorded, {key: value} in order (a repeated key: the last)."""
    import nbformat

    nb = notebook if isinstance(notebook, Mapping) else nbformat.read(os.fspath(notebook), as_version=4)
    found: dict[str, Any] = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(RESULT_MIME)
            if payload is not None:
                found[payload["key"]] = payload["value"]
    return found
