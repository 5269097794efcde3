"""The notebooks' logic, so that every notebook cell stays a call and a display.

A notebook opens a `Walkthrough` with `connect(name, headless)`: it targets the emulator or a tenant
(from the environment), signs in as a fresh user on the emulator, and keeps what a notebook needs
between cells: where one-time codes come from (the virtual authenticator and the emulator's outbox
headless, the widget's stored result interactively), what the run created (so `finish()` deletes only
that), and the key results it `record()`s as machine-readable outputs that tests and `mfa-kit verify`
read back with `results()`.
"""
from __future__ import annotations

import hashlib
import html
import json
import os
import re
import threading
from urllib.parse import parse_qs, parse_qsl, urlsplit
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from IPython.display import display

from mfa_helpers import ownership, protocol, redact
from mfa_helpers.authenticator import EMULATOR_STEPS_AHEAD, VirtualAuthenticator
from mfa_helpers.client import AuthorizeRequest, MfaClient
from mfa_helpers.errors import Auth0Error, KitError, MfaRequired
from mfa_helpers.exchange import Exchange, Session
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


PUSH_POLL_SECONDS = 120.0  # how long an interactive push is polled before the cell must be run again


class StepPending(KitError):
    """An interactive step whose widget has not been used yet."""

    def __init__(self, step: str, todo: str = "use the widget above (type the code and press Confirm)"):
        self.step = step
        super().__init__(f"Step {step!r} has no result yet: {todo}, then run this cell again.")


def resolve_headless(value: str | bool = "auto", env: Mapping[str, str] | None = None) -> bool:
    """The `headless` parameter as a bool. "auto": headless when MFA_KIT_HEADLESS=1 or CI is set."""
    env = os.environ if env is None else env
    auto = env.get(HEADLESS_ENV, "").strip() == "1" or env.get("CI", "").strip().lower() not in ("", "0", "false")
    return resolve_flag(value, auto=auto, name="headless")


def resolve_flag(value: str | bool, *, auto: bool, name: str = "move_clock") -> bool:
    """A yes/no notebook parameter: a bool, "true"/"false" (and the like), or "auto" -> `auto`."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == "auto":
        return auto
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise KitError(f"{name}={value!r} is not understood: use \"auto\", \"true\" or \"false\".")


@dataclass
class Outcome:
    """What one MFA API call answered: the response, or the Auth0 error it raised."""

    step: str
    response: Any = None
    error: Auth0Error | None = None
    status: int = 0
    note: str = ""  # why this answer came, when the run knows more than the response says
    key: str = ""   # which enrollment or challenge (and mfa_token) it answered

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> dict[str, Any]:
        """Status, error, and the response's field names and non-secret values: safe to record."""
        if self.status == 0 and self.error is None and self.response is None:
            return {"skipped": self.note}
        if self.error is not None:
            return {"status": self.status, "error": self.error.error,
                    "error_description": self.error.error_description}
        if isinstance(self.response, list):  # GET /mfa/authenticators: which kinds, not the ids
            return {"status": self.status, "listed": sorted(kind_of(a) for a in self.response)}
        fields = sorted(self.response) if isinstance(self.response, dict) else []
        return {"status": self.status, "fields": fields,
                **{k: self.response[k] for k in PLAIN_FIELDS if k in fields}}

    def __repr__(self) -> str:
        note = f"\n{self.note}" if self.note else ""
        return f"Outcome({self.step!r}, {self.summary()}){note}"

    def _repr_html_(self) -> str:
        mark = "&#10004;" if self.ok else "&#10008;"
        rows = "".join(f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>"
                       f"<code>{v}</code></td></tr>" for k, v in self.summary().items())
        note = f"<p><i>{html.escape(self.note)}</i></p>" if self.note else ""
        return f"<div><b>{mark} {self.step}</b><table>{rows}</table>{note}</div>"


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
    _spent: dict[str, str] = field(default_factory=dict, repr=False)  # mfa_token digest -> the step that spent it
    _polls: dict[str, PushPoll] = field(default_factory=dict, repr=False)

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
    def sign_in(self, *, audience: str | None = None, scope: str = SIGN_IN_SCOPE, realm: str | None = None) -> dict:
        """Password grant as this notebook's user, asking for the MFA API audience by default
        (the password-realm grant when a `realm`, the connection's name, is given)."""
        return self.client.login(audience=audience or self.client.mfa_audience, scope=scope, realm=realm)

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
    def attempt(self, step: str, call: Callable[..., Any], *args: Any, key: str = "", **kwargs: Any) -> Outcome:
        """Run one client call, keep its answer or its Auth0 error, and remember it under `step`
        (`key`: the enrollment or challenge it answers, see `answer_key`)."""
        try:
            outcome = Outcome(step, response=call(*args, **kwargs), status=self._last_status(), key=key)
        except Auth0Error as error:
            outcome = Outcome(step, error=error, status=error.status, key=key)
        self._keep(outcome)
        self._outcomes[step] = outcome
        return outcome

    def _grant(self, step: str, call: Callable[..., Any], mfa_token: str, *args: Any, key: str = "",
               **kwargs: Any) -> Outcome:
        """An MFA grant: a success spends `mfa_token`; sending a spent one again says so."""
        outcome = self.attempt(step, call, mfa_token, *args, key=key, **kwargs)
        digest = _digest(mfa_token)
        if outcome.ok:
            self._spent.setdefault(digest, step)
        elif digest in self._spent:
            outcome.note = spent_token_note(self._spent[digest], outcome.error)
        return outcome

    def expect_error(self, step: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
        """`attempt` for a call that must fail: the pitfall being shown."""
        outcome = self.attempt(step, call, *args, **kwargs)
        if outcome.ok:
            raise KitError(f"Step {step!r} should have failed and succeeded: this target does not "
                           "reproduce the pitfall.")
        return outcome

    def confirm_otp(self, step: str, mfa_token: str, code: str, *, key: str = "") -> Outcome:
        """The `mfa-otp` grant with a code typed in a widget, passed as a parameter, or computed."""
        return self._grant(step, self.client.confirm_otp, mfa_token, code, key=key)

    def confirm_oob(self, step: str, mfa_token: str, oob_code: str, binding_code: str | None, *,
                    key: str = "") -> Outcome:
        """The `mfa-oob` grant with the binding code the phone or inbox received."""
        return self._grant(step, self.client.confirm_oob, mfa_token, oob_code, binding_code, key=key)

    def answer(self, step: str, mfa_token: str, response: Mapping[str, Any]) -> Outcome | PushPoll:
        """Complete an enrollment or a challenge (`response` from associate or challenge).

        Headless: the virtual authenticator's code, the binding code from the emulator's outbox, or
        a push approved on the emulator, then the grant. Interactive: what the code widget stored for
        this very enrollment or challenge (an earlier pass's answer does not count); a push is
        polled in the background, so the Approve and Reject buttons work while it waits."""
        key = answer_key(mfa_token, response)
        if self.headless:
            return self._complete(step, mfa_token, response, key=key)
        done = self._outcomes.get(step)
        if done is not None and done.key == key:
            return done
        if answer_kind(response) == "push":
            return self._poll_in_background(step, mfa_token, response, key)
        raise StepPending(step)

    def outcome(self, step: str) -> Outcome:
        """The outcome stored under `step` (StepPending until there is one)."""
        if step not in self._outcomes:
            raise StepPending(step)
        return self._outcomes[step]

    def submit_code(self, step: str, mfa_token: str, response: Mapping[str, Any], code: str) -> Outcome:
        """What the code widgets call: confirm `response` (an otp or oob answer) with a typed code."""
        return self._submit(step, mfa_token, response, code, key=answer_key(mfa_token, response))

    def answer_push(self, approve: bool = True) -> dict:
        """Approve (or reject) the latest push on the emulator, as the Guardian app would."""
        message = self.latest_message(channel="auth0")
        if not message or not message.get("transaction"):
            raise KitError("No push transaction in the emulator's outbox: run the push cell first.")
        emulator = self._emulator()
        return (emulator.approve_push if approve else emulator.reject_push)(message["transaction"])

    # -- factors ------------------------------------------------------------------------------
    def enroll(self, kind: str, token: str | None = None, *, phone_number: str = DEMO_PHONE,
               email: str = "", client: MfaClient | None = None) -> dict:
        """POST /mfa/associate for `kind` (otp, sms, voice, email, push) with the run's best token
        (through `client`, e.g. the custom-domain one); kept as this run's own, for cleanup."""
        body = dict(ENROLL[kind])
        if kind in ("sms", "voice"):
            body["phone_number"] = phone_number
        if kind == "email":
            body["email"] = email or self.username
        response = (client or self.client).associate(token or self._bearer(), **body)
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

    def authorize_request(self, client: MfaClient | None = None, *, audience: str | None = None,
                          scope: str = SIGN_IN_SCOPE) -> AuthorizeRequest:
        """The /authorize URL a settings page redirects to (default: the MFA API audience and its
        scopes), with PKCE. Its redirect_uri, REDIRECT_URI, must be an Allowed Callback URL."""
        client = client or self.client
        return client.authorize_url(REDIRECT_URI, audience=audience or client.mfa_audience, scope=scope)

    def authorization_code(self, request: AuthorizeRequest, client: MfaClient | None = None,
                           step: str = "redirect") -> str:
        """The code of the redirect back to REDIRECT_URI. On the emulator the kit plays the browser
        at the login page (both requests recorded); on a tenant a person logs in, and the URL the
        browser was sent to is pasted in the `redirect_entry` widget (stored under `step`)."""
        client = client or self.client
        if client.emulator is not None:
            return emulator_login(client, request)
        if self.headless:
            raise KitError("On a tenant, /authorize needs a person at Universal Login: run this notebook "
                           "in JupyterLab and paste the redirect URL into the box above this cell.")
        pasted = self._outcomes.get(step)
        if pasted is None or pasted.key != request.state:
            raise StepPending(step, "open the /authorize link above, log in, and paste the URL your "
                                    "browser was sent to into the box (then press Use it)")
        return pasted.response

    def store_redirect(self, step: str, request: AuthorizeRequest, redirect_url: str) -> str:
        """What the redirect widget calls: the code of a pasted redirect URL, kept under `step`.
        The browser's GET /authorize is recorded with the redirect it ended in, so the session and
        its HAR hold the request on a tenant too."""
        code = code_from_redirect(redirect_url, request, self.client)
        self.client.session.record(Exchange(
            method="GET", url=request.url, status=302, reason="Found (made by your browser; redirect pasted)",
            response_headers={"location": redirect_url.strip()}))
        self._outcomes[step] = Outcome(step, response=code, key=request.state)
        return code

    def exchange_code(self, code: str, request: AuthorizeRequest, client: MfaClient | None = None) -> dict:
        """The authorization_code grant with the PKCE verifier; keeps an MFA API access token."""
        tokens = (client or self.client).exchange_code(code, request)
        self._keep(Outcome("authorize", response=tokens))
        return tokens

    def authorize(self, client: MfaClient | None = None, *, audience: str | None = None,
                  scope: str = SIGN_IN_SCOPE) -> dict:
        """The whole /authorize path at once: request, login, code exchange."""
        request = self.authorize_request(client, audience=audience, scope=scope)
        return self.exchange_code(self.authorization_code(request, client), request, client)

    def lookalike_token(self, client: MfaClient | None = None) -> str:
        """An access token for an API named like the MFA API on the custom domain (as the seeds'
        thread created it): the workaround that then fails at the mfa-otp grant."""
        client = client or self.client
        return self.authorize(client, audience=lookalike_audience(client))["access_token"]

    def after_expiry(self, step: str, token: str, move_clock: str | bool, call: Callable[..., Any],
                     *args: Any) -> Outcome:
        """`call` once `token` has expired: the emulator's clock moves past its `exp`. That clock is
        shared by every token and run on the emulator, so this happens only with `move_clock` true
        ("auto": interactively only)."""
        if not resolve_flag(move_clock, auto=not self.headless):
            return Outcome(step, note="not run: it moves the emulator's shared clock a day forward "
                                      "(run with move_clock true on an emulator of your own)")
        if self.client.emulator is None:
            return Outcome(step, note="not run: on a tenant, wait for the token's expiry, then send it again")
        claims = decode_token(token).claims
        self.client.emulator.advance_clock(int(claims["exp"]) - int(claims["iat"]) + 1)  # minted just now
        return self.attempt(step, call, *args)

    # -- live-only displays (secrets the learner needs, never in a saved output) -------------------
    def show_device(self, response: Mapping[str, Any]) -> None:
        """What the user's device shows for an enrollment or challenge, live only (it is a code):
        the authenticator app's current code (the kit's virtual authenticator, for learners without
        a phone) or the SMS, call or email the emulator's outbox received."""
        if self.headless:
            return
        from mfa_helpers.live import live_html

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
            from mfa_helpers.live import live_html

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
    def _submit(self, step: str, mfa_token: str, response: Mapping[str, Any], code: str, *, key: str = "") -> Outcome:
        if answer_kind(response) == "otp":
            return self.confirm_otp(step, mfa_token, code, key=key)
        return self.confirm_oob(step, mfa_token, response["oob_code"], code, key=key)

    def _complete(self, step: str, mfa_token: str, response: Mapping[str, Any], *, key: str = "") -> Outcome:
        """Complete without a human: a computed or delivered code, or a push approved here."""
        if answer_kind(response) == "push":
            self.answer_push(approve=True)
            return self._grant(step, self.client.poll_oob, mfa_token, response["oob_code"], key=key)
        return self._submit(step, mfa_token, response, self._headless_code(response), key=key)

    def _poll_in_background(self, step: str, mfa_token: str, response: Mapping[str, Any], key: str) -> PushPoll:
        """Poll a push in a thread: the cell returns at once, so the kernel stays free for the
        Approve and Reject buttons (a busy kernel handles no widget click). One poll per push."""
        poll = self._polls.get(key)
        if poll is None or poll.finished_without_answer:
            poll = PushPoll(step, lambda: self._grant(step, self.client.poll_oob, mfa_token, response["oob_code"],
                                                      key=key, timeout=PUSH_POLL_SECONDS))
            self._polls[key] = poll
            poll.start()
        return poll

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


class PushPoll:
    """A push being polled in a background thread, shown as a line that turns into the answer.
    `summary()` and `outcome` raise StepPending until the push was approved or rejected."""

    def __init__(self, step: str, poll: Callable[[], Outcome]):
        import ipywidgets  # only an interactive run polls in the background

        self.step = step
        self.result: Outcome | None = None
        self.problem: KitError | None = None
        self._poll = poll
        self._thread = threading.Thread(target=self._run, name=f"mfa-kit poll {step}", daemon=True)
        self.view = ipywidgets.HTML(value=(
            "<i>Polling the <code>mfa-oob</code> grant every 5 s in the background "
            "(<code>authorization_pending</code> until the phone answers): Approve or Reject above.</i>"))

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout: float | None = None) -> Outcome:
        """Block until the poll ends (tests; a notebook cell never waits for a human)."""
        self._thread.join(timeout)
        return self.outcome

    @property
    def finished_without_answer(self) -> bool:
        return not self._thread.is_alive() and self.result is None

    @property
    def outcome(self) -> Outcome:
        if self.result is None:
            raise StepPending(self.step, str(self.problem) if self.problem else
                              "approve or reject the push above and wait for the poll's answer")
        return self.result

    def summary(self) -> dict[str, Any]:
        return self.outcome.summary()

    def _run(self) -> None:
        try:
            self.result = self._poll()
            self.view.value = self.result._repr_html_()
        except KitError as problem:  # no answer in time, or the emulator went away
            self.problem = problem
            self.view.value = f"<b>&#10008; {html.escape(self.step)}</b>: {html.escape(str(problem))} Run this cell again to poll again."

    def _ipython_display_(self) -> None:
        display(self.view)

    def __repr__(self) -> str:
        state = self.result if self.result is not None else self.problem or "polling"
        return f"PushPoll({self.step!r}, {state})"


def answer_key(mfa_token: str, response: Mapping[str, Any]) -> str:
    """Which enrollment or challenge an answer is for (digests only: both hold secrets)."""
    which = response.get("oob_code") or response.get("secret") or response.get("barcode_uri") or ""
    return _digest(f"{mfa_token}|{which}")


def spent_token_note(spent_by: str, error: Auth0Error | None) -> str:
    """Why a grant answered "Malformed mfa_token" for an mfa_token this run already spent."""
    spec = protocol.ERRORS["mfa_token_reused"]
    if error is None or (error.error, error.error_description) != (spec.error, spec.describe()):
        return ""
    return (f"This mfa_token was already spent: step {spent_by!r} completed MFA with it, and an mfa_token "
            f"serves one successful grant. {spec.describe()!r} is the emulator's answer for a spent one, a "
            f"labelled pick (protocol.py, {spec.key}, source {spec.source!r}): nothing public records "
            "Auth0's exact answer. Sign in again (the sign-in cell) for a new mfa_token.")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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


def custom_domain_audience(client: MfaClient) -> str:
    """The mistake: the MFA API audience built from the custom domain."""
    if not client.settings.custom_domain:
        raise KitError("No custom domain is configured (AUTH0_CUSTOM_DOMAIN): nothing to show here.")
    return protocol.mfa_audience(client.settings.custom_domain)


def lookalike_audience(client: MfaClient) -> str:
    """The API the seeds' thread created on the custom domain, https://CUSTOM_DOMAIN/mfa: a token
    for it is no MFA API token."""
    return custom_domain_audience(client).rstrip("/")


DEFAULT_CONNECTION = "Username-Password-Authentication"  # Auth0's default database connection


def connection_name(client: MfaClient) -> str:
    """The database connection to name as `realm`: AUTH0_REALM, else Auth0's default one."""
    return client.settings.realm or DEFAULT_CONNECTION


def without_trailing_slash(audience: str) -> str:
    """https://DOMAIN/mfa/ as seed 000 writes it, https://DOMAIN/mfa: another identifier, no API."""
    return audience.rstrip("/")


def emulator_login(client: MfaClient, request: AuthorizeRequest) -> str:
    """What the browser does at the emulator's login page, recorded: GET /authorize, post the
    username and password, and read the code from the redirect back to the app."""
    page = client.open_authorize(request)
    found = re.search(r'name="login" value="([^"]+)"', page.response_body or "")
    if page.status != 200 or not found:
        params = redirect_params(location_of(page))
        raise KitError(f"/authorize did not show the login page ({page.status}): "
                       f"{params.get('error_description') or (page.response_body or '')[:200]}")
    answer = client.submit_login({"login": found.group(1), "username": client.settings.username,
                                  "password": client.settings.password, "otp": ""})
    return code_from_redirect(location_of(answer), request, client)


def code_from_redirect(url: str, request: AuthorizeRequest, client: MfaClient) -> str:
    """The `code` of the redirect back to the app, checked: no `error`, the request's own state."""
    params = redirect_params(url.strip())
    if params.get("error"):
        raise KitError(f"/authorize answered {params['error']}: {params.get('error_description', '')}")
    if "code" not in params:
        raise KitError(f"No code in {redact.redact_url(url)!r}: paste the whole address the browser "
                       f"was sent to ({request.redirect_uri}?code=...&state=...).")
    if params.get("state") != request.state:
        raise KitError("This redirect answers another /authorize request (its state differs): open the "
                       "link of this run again and paste the new redirect URL.")
    client.session.add_secrets(params["code"])
    return params["code"]


def redirect_params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def location_of(exchange: Exchange) -> str:
    """The Location header of a redirect, whatever its case."""
    return next((v for k, v in exchange.response_headers.items() if k.lower() == "location"), "")


def authorize_summary(exchange: Exchange) -> dict[str, Any]:
    """What /authorize answered: the login page, or a redirect back with an error (no code)."""
    params = redirect_params(location_of(exchange))
    summary: dict[str, Any] = {"status": exchange.status}
    if params:
        summary["redirect_to"] = urlsplit(location_of(exchange)).path
        summary.update({k: params[k] for k in ("error", "error_description") if k in params})
    else:
        summary["login_page"] = "text/html" in exchange.response_content_type
    return summary


def browser_steps(session: Session, request: AuthorizeRequest) -> list[Exchange]:
    """The exchanges from `request`'s GET /authorize on: what the browser did (login page, login)."""
    starts = [i for i, e in enumerate(session.exchanges) if e.method == "GET" and e.url == request.url]
    return session.exchanges[starts[-1]:] if starts else []


def authorize_record(request: AuthorizeRequest, session: Session) -> dict[str, Any]:
    """What the /authorize request asked for (audience, scopes, PKCE method) and what came back."""
    asked = authorize_parameters(request)
    return {"path": urlsplit(asked["endpoint"]).path, "audience": asked.get("audience"),
            "scope": sorted(asked.get("scope", "").split()), "response_type": asked.get("response_type"),
            "code_challenge_method": asked.get("code_challenge_method"),
            "answers": [f"{e.method} {urlsplit(e.url).path} {e.status}" for e in browser_steps(session, request)]}


def authorize_parameters(request: AuthorizeRequest) -> dict[str, str]:
    """The /authorize URL's query, one parameter a line: what a settings page sends the browser to."""
    parts = urlsplit(request.url)
    return {"endpoint": f"{parts.scheme}://{parts.netloc}{parts.path}", **dict(parse_qsl(parts.query))}


# The discovery entries the kit's flows use.
DISCOVERY_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri", "mfa_challenge_endpoint")


def discovery_summary(discovery: Mapping[str, Any], client: MfaClient) -> dict[str, Any]:
    """What discovery says, checked as Auth0's SDKs check it: the issuer is https://DOMAIN/, DOMAIN
    being the domain requests are addressed to (not the network address: the emulator answers at
    http://127.0.0.1:PORT as https://DOMAIN/), and the endpoints the flows need are there."""
    return {"issuer_matches_domain": discovery.get("issuer") == f"https://{client.domain}/",
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
