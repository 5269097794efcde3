"""The scenario catalogue: problems customers really hit with Auth0's MFA API, each as data plus
two small functions: `steps` reproduce the failure with an MfaClient, `fix` does the same flow right.

A scenario names the protocol error its failure must be (`symptom`, a key of protocol.ERRORS), the
finding `diagnose()` must give for it (`diagnosis`), and what of the emulator it needs (`needs`).
`run(name, client)` plays it: steps → failure → diagnosis → fix. Steps and fix share a `Case`
(plain attributes) for what one passes to the other; secrets stay in memory, never in a summary.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mfa_helpers import MfaClient, VirtualAuthenticator, protocol
from mfa_helpers.display import Table
from mfa_helpers.support.diagnose import Finding, diagnose
from mfa_helpers.errors import Auth0Error, AuthorizationPending, KitError, MfaRequired
from mfa_helpers.walkthrough import REDIRECT_URI, Outcome, emulator_login

# What a scenario may need that only the emulator gives (a tenant has none of these).
EMULATOR_FEATURES = {
    "fresh_user": "a new user with no factor (POST /emulator/users)",
    "outbox": "the SMS codes and push transactions sent (GET /emulator/outbox)",
    "clock": "moving time forward (POST /emulator/clock)",
    "push_approval": "approving or rejecting a push as the phone would",
    "client_without_mfa_grants": "an application without the MFA grant types",
    "custom_domain_api": "an API registered as https://CUSTOM_DOMAIN/mfa",
}


class ScenarioUnavailable(KitError):
    """The scenario cannot run on this target; `missing` names what it lacks."""

    def __init__(self, name: str, target: str, missing: list[str]):
        self.name, self.target, self.missing = name, target, missing
        lacks = "; ".join(f"{m}: {EMULATOR_FEATURES.get(m, m)}" for m in missing)
        super().__init__(f"Scenario {name!r} cannot run on the {target}: it needs {lacks}. Run it on "
                         "the emulator (unset AUTH0_DOMAIN, or target=\"emulator\").")


class NotReproduced(KitError):
    """The steps did not end in the scenario's symptom: the target behaves differently."""


class Case:
    """What a scenario's steps leave for its fix (mfa_token, authenticator, recovery code...)."""

    def __repr__(self) -> str:  # names only: the values are secrets
        return f"Case({', '.join(sorted(vars(self)))})"


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    symptom: str                                  # protocol.ERRORS key of the failing answer
    diagnosis: str                                # Finding.key diagnose() gives for it
    explanation: str
    steps: Callable[[MfaClient, Case], Any] = field(repr=False)   # ends raising the symptom
    fix: Callable[[MfaClient, Case], Any] = field(repr=False)     # returns the successful answer
    needs: tuple[str, ...] = ("fresh_user", "outbox")

    @property
    def error(self) -> protocol.ErrorSpec:
        return protocol.ERRORS[self.symptom]

    def missing_on(self, client: MfaClient) -> list[str]:
        """What this scenario needs that the client's target does not have."""
        if client.emulator is not None:
            return []
        missing = [n for n in self.needs if n in EMULATOR_FEATURES]
        if "custom_domain" in self.needs and not client.settings.custom_domain:
            missing.append("custom_domain")
        return missing


# ---------------------------------------------------------------------------------------------
# Building blocks the steps share

def _fresh_user(client: MfaClient, case: Case) -> None:
    """On the emulator, a new user with no factor, with its own fictional phone number."""
    if client.emulator is not None:
        case.username = client.use_fresh_user()
        case.phone = f"+1555{time.time_ns() % 10**7:07d}"   # fictional: 555 numbers are never real


def _mfa_required(client: MfaClient, **login: Any) -> MfaRequired:
    try:
        tokens = client.login(**login)
    except MfaRequired as required:
        return required
    raise NotReproduced(f"The login succeeded without MFA (answer fields {sorted(tokens)}): "
                        "this target does not require MFA for the user.")


def _binding_code(client: MfaClient, case: Case) -> str:
    """The 6-digit code the emulator 'sent' to the case's phone (the latest message)."""
    message = client.emulator.latest_message(to=case.phone)
    return message["binding_code"]


def _push_transaction(client: MfaClient, case: Case) -> str:
    return client.emulator.latest_message(to=case.username, channel="auth0")["transaction"]


def _enroll_sms(client: MfaClient, case: Case) -> dict:
    """A fresh user with an active SMS factor (and a recovery code): MFA done with the codes in the
    emulator's outbox, so nothing waits for an OTP time step."""
    _fresh_user(client, case)
    required = _mfa_required(client)
    enrollment = client.associate(required.mfa_token, ["oob"], oob_channels=["sms"], phone_number=case.phone)
    case.recovery_code = enrollment["recovery_codes"][0]
    return client.confirm_oob(required.mfa_token, enrollment["oob_code"], _binding_code(client, case))


def _mfa_api_token(client: MfaClient, case: Case, scope: str, audience: str | None = None) -> str:
    """An access token for `audience` (the MFA API by default): log in, answer an SMS challenge."""
    required = _mfa_required(client, audience=audience or client.mfa_audience, scope=scope)
    challenge = client.challenge(required.mfa_token, "oob")
    tokens = client.confirm_oob(required.mfa_token, challenge["oob_code"], _binding_code(client, case))
    return tokens["access_token"]


def _start_otp_enrollment(client: MfaClient, case: Case) -> dict:
    """A fresh user who got mfa_required and associated an authenticator app (not confirmed yet)."""
    _fresh_user(client, case)
    case.mfa_token = _mfa_required(client).mfa_token
    enrollment = client.associate(case.mfa_token, ["otp"])
    case.authenticator = VirtualAuthenticator.from_enrollment(enrollment)
    return enrollment


def _start_push_enrollment(client: MfaClient, case: Case) -> None:
    _fresh_user(client, case)
    case.mfa_token = _mfa_required(client).mfa_token
    case.oob_code = client.associate(case.mfa_token, ["oob"], oob_channels=["auth0"])["oob_code"]


def _via_custom_domain(client: MfaClient) -> MfaClient:
    """The same application and user, with every request sent to the tenant's custom domain."""
    if not client.settings.custom_domain:
        raise ScenarioUnavailable("custom_domain_audience", client.settings.target, ["custom_domain"])
    return MfaClient(client.settings.with_(use_custom_domain=True), session=client.session)


def _without_mfa_grants(client: MfaClient) -> MfaClient:
    """The same user through the tenant's application that lacks the MFA grant types."""
    apps = client.emulator.tenant()["clients"]
    app = next(a for a in apps if a["client_secret"] and not set(protocol.MFA_GRANTS) & set(a["grant_types"]))
    return MfaClient(client.settings.with_(client_id=app["client_id"], client_secret=None),
                     session=client.session)


def _signed_in_token(client: MfaClient, audience: str, scope: str) -> str:
    """An access token from /authorize (Universal Login), as an app's own settings page gets one:
    the emulator's login page driven as the browser would, no mfa_required on the way."""
    request = client.authorize_url(REDIRECT_URI, audience=audience, scope=scope)
    return client.exchange_code(emulator_login(client, request), request)["access_token"]


def _custom_domain_mfa(client: MfaClient) -> str:
    """https://CUSTOM_DOMAIN/mfa: the name customers give an API to make `Service not enabled` go away."""
    return protocol.mfa_audience(client.settings.custom_domain).rstrip("/")


# ---------------------------------------------------------------------------------------------
# The steps and fixes

def custom_domain_audience_steps(client: MfaClient, case: Case) -> Any:
    _fresh_user(client, case)
    custom = _via_custom_domain(client)
    return custom.login(audience=protocol.mfa_audience(client.settings.custom_domain), scope="openid enroll")


def custom_domain_audience_fix(client: MfaClient, case: Case) -> dict:
    # Still through the custom domain; only the audience changes. mfa_required = the MFA API answered.
    required = _mfa_required(_via_custom_domain(client), audience=client.mfa_audience, scope="openid enroll")
    return {"mfa_required": True, "mfa_requirements": required.mfa_requirements}


CUSTOM_API_SCOPE = "openid enroll read:authenticators remove:authenticators"   # the thread's


def custom_domain_api_steps(client: MfaClient, case: Case) -> Any:
    # The seeds' thread, step by step: a Universal Login sign-in for the API the customer created,
    # https://CUSTOM_DOMAIN/mfa (no mfa_required on the way)...
    _fresh_user(client, case)
    token = _signed_in_token(client, _custom_domain_mfa(client), CUSTOM_API_SCOPE)
    enrollment = client.associate(token, ["otp"])            # ...works: secret and barcode_uri
    case.authenticator = VirtualAuthenticator.from_enrollment(enrollment)
    client.list_authenticators(token)                         # works: the factor, not yet active
    return client.confirm_otp(token, case.authenticator.code())   # only the confirm fails


def custom_domain_api_fix(client: MfaClient, case: Case) -> Any:
    # Sign in for the MFA API's own audience (always the canonical domain) and confirm the same
    # pending factor with that token: the code was never checked, so it still counts.
    token = _signed_in_token(client, client.mfa_audience, CUSTOM_API_SCOPE)
    return client.confirm_otp(token, case.authenticator.code())


def authenticator_type_typo_steps(client: MfaClient, case: Case) -> Any:
    _fresh_user(client, case)
    case.mfa_token = _mfa_required(client).mfa_token
    return client.associate(case.mfa_token, ["opt"])


def authenticator_type_typo_fix(client: MfaClient, case: Case) -> Any:
    authenticator = VirtualAuthenticator.from_enrollment(client.associate(case.mfa_token, ["otp"]))
    return client.confirm_otp(case.mfa_token, authenticator.code())


def already_enrolled_steps(client: MfaClient, case: Case) -> Any:
    _enroll_sms(client, case)
    required = _mfa_required(client)
    return client.associate(required.mfa_token, ["otp"])


def already_enrolled_fix(client: MfaClient, case: Case) -> Any:
    token = _mfa_api_token(client, case, scope="openid enroll")
    return client.associate(token, ["otp"])


def expired_mfa_token_steps(client: MfaClient, case: Case) -> Any:
    _enroll_sms(client, case)
    required = _mfa_required(client)
    client.emulator.advance_clock(protocol.MFA_TOKEN_LIFETIME + 1)   # the user went for coffee
    return client.challenge(required.mfa_token, "oob")


def expired_mfa_token_fix(client: MfaClient, case: Case) -> Any:
    required = _mfa_required(client)                                 # log in again, finish in time
    challenge = client.challenge(required.mfa_token, "oob")
    return client.confirm_oob(required.mfa_token, challenge["oob_code"], _binding_code(client, case))


def malformed_mfa_token_steps(client: MfaClient, case: Case) -> Any:
    _enroll_sms(client, case)
    case.mfa_token = _mfa_required(client).mfa_token
    cut = case.mfa_token[: len(case.mfa_token) // 2]                 # stored in a column too small
    return client.challenge(cut, "oob")


def malformed_mfa_token_fix(client: MfaClient, case: Case) -> Any:
    challenge = client.challenge(case.mfa_token, "oob")
    return client.confirm_oob(case.mfa_token, challenge["oob_code"], _binding_code(client, case))


def missing_enroll_scope_steps(client: MfaClient, case: Case) -> Any:
    _enroll_sms(client, case)
    token = _mfa_api_token(client, case, scope="openid read:authenticators")
    return client.associate(token, ["otp"])


def missing_enroll_scope_fix(client: MfaClient, case: Case) -> Any:
    token = _mfa_api_token(client, case, scope="openid enroll read:authenticators")
    return client.associate(token, ["otp"])


def mfa_grant_not_enabled_steps(client: MfaClient, case: Case) -> Any:
    _fresh_user(client, case)
    app = _without_mfa_grants(client)
    required = _mfa_required(app)                  # the password grant is enabled: this works
    enrollment = app.associate(required.mfa_token, ["oob"], oob_channels=["sms"], phone_number=case.phone)
    return app.confirm_oob(required.mfa_token, enrollment["oob_code"], _binding_code(client, case))


def mfa_grant_not_enabled_fix(client: MfaClient, case: Case) -> Any:
    # The same flow with the MFA grants enabled (here: the tenant's other application).
    required = _mfa_required(client)
    enrollment = client.associate(required.mfa_token, ["oob"], oob_channels=["sms"], phone_number=case.phone)
    return client.confirm_oob(required.mfa_token, enrollment["oob_code"], _binding_code(client, case))


SKEW = 120  # seconds the phone's clock is behind


def wrong_otp_clock_skew_steps(client: MfaClient, case: Case) -> Any:
    enrollment = _start_otp_enrollment(client, case)
    phone = VirtualAuthenticator.from_enrollment(enrollment, clock=lambda: time.time() - SKEW)
    return client.confirm_otp(case.mfa_token, phone.code())


def wrong_otp_clock_skew_fix(client: MfaClient, case: Case) -> Any:
    return client.confirm_otp(case.mfa_token, case.authenticator.code())   # clock set right


def too_many_attempts_steps(client: MfaClient, case: Case) -> Any:
    enrollment = _start_otp_enrollment(client, case)
    phone = VirtualAuthenticator.from_enrollment(enrollment, clock=lambda: time.time() - SKEW)
    for _ in range(protocol.OTP_FAILURES_BUCKET):      # the app lets the user retry and retry
        try:
            client.confirm_otp(case.mfa_token, phone.code())
        except Auth0Error as error:
            if not error.is_("invalid_otp"):
                raise
    return client.confirm_otp(case.mfa_token, phone.code())


def too_many_attempts_fix(client: MfaClient, case: Case) -> Any:
    client.emulator.advance_clock(protocol.OTP_FAILURE_REFILL)       # wait 6 minutes...
    return client.confirm_otp(case.mfa_token, case.authenticator.code())  # ...with a right code


def oob_without_binding_code_steps(client: MfaClient, case: Case) -> Any:
    _fresh_user(client, case)
    case.mfa_token = _mfa_required(client).mfa_token
    case.oob_code = client.associate(case.mfa_token, ["oob"], oob_channels=["sms"],
                                     phone_number=case.phone)["oob_code"]
    return client.confirm_oob(case.mfa_token, case.oob_code)


def oob_without_binding_code_fix(client: MfaClient, case: Case) -> Any:
    return client.confirm_oob(case.mfa_token, case.oob_code, _binding_code(client, case))


def push_polled_too_fast_steps(client: MfaClient, case: Case) -> Any:
    _start_push_enrollment(client, case)
    for _ in range(protocol.OOB_POLLS_PER_MINUTE):     # a tight loop, no sleep between polls
        try:
            return client.confirm_oob(case.mfa_token, case.oob_code)
        except AuthorizationPending:
            continue
    return client.confirm_oob(case.mfa_token, case.oob_code)


def push_polled_too_fast_fix(client: MfaClient, case: Case) -> Any:
    client.emulator.approve_push(_push_transaction(client, case))   # the user taps Approve
    client.emulator.advance_clock(60)                 # a minute later (a tenant: really wait)
    return client.poll_oob(case.mfa_token, case.oob_code, interval=5)


def push_rejected_steps(client: MfaClient, case: Case) -> Any:
    _start_push_enrollment(client, case)
    client.emulator.reject_push(_push_transaction(client, case))    # the user taps Deny
    return client.confirm_oob(case.mfa_token, case.oob_code)


def push_rejected_fix(client: MfaClient, case: Case) -> Any:
    # Final answer: stop polling that oob_code. Start over and let the user approve this time.
    required = _mfa_required(client)
    oob_code = client.associate(required.mfa_token, ["oob"], oob_channels=["auth0"])["oob_code"]
    client.emulator.approve_push(_push_transaction(client, case))
    return client.poll_oob(required.mfa_token, oob_code, interval=5)


def recovery_code_reused_steps(client: MfaClient, case: Case) -> Any:
    _enroll_sms(client, case)
    tokens = client.confirm_recovery_code(_mfa_required(client).mfa_token, case.recovery_code)
    case.new_recovery_code = tokens["recovery_code"]                 # the app ignores it
    case.mfa_token = _mfa_required(client).mfa_token
    return client.confirm_recovery_code(case.mfa_token, case.recovery_code)


def recovery_code_reused_fix(client: MfaClient, case: Case) -> Any:
    return client.confirm_recovery_code(case.mfa_token, case.new_recovery_code)


def user_without_factor_steps(client: MfaClient, case: Case) -> Any:
    _fresh_user(client, case)
    case.mfa_token = _mfa_required(client).mfa_token   # mfa_requirements: {"enroll": [...]}
    return client.challenge(case.mfa_token, "otp")


def user_without_factor_fix(client: MfaClient, case: Case) -> Any:
    authenticator = VirtualAuthenticator.from_enrollment(client.associate(case.mfa_token, ["otp"]))
    return client.confirm_otp(case.mfa_token, authenticator.code())


# ---------------------------------------------------------------------------------------------
# The catalogue

CATALOGUE: dict[str, Scenario] = {s.name: s for s in (
    Scenario(
        "custom_domain_audience", "Custom domain used for the MFA API audience",
        "service_not_enabled", "custom_domain_audience",
        "The app logs in through the custom domain and asks for https://CUSTOM_DOMAIN/mfa/. The MFA "
        "API's audience always names the canonical domain, so Auth0 answers that no such API exists.",
        custom_domain_audience_steps, custom_domain_audience_fix, needs=("custom_domain",)),
    Scenario(
        "custom_domain_api", "An API named after the custom domain: `invalid audience`",
        "invalid_audience", "custom_domain_audience",
        "To make `Service not enabled` go away the customer created an API called "
        "https://CUSTOM_DOMAIN/mfa and signed in for it. As the seeds' thread tells it, the token "
        "works on /mfa/associate (secret and barcode_uri come back) and on GET /mfa/authenticators; "
        "only the confirm at /oauth/token refuses it: `invalid audience`. (Once that token expires, "
        "the same confirm answers `mfa_token is expired`: the thread's red herring.) The MFA API's "
        "audience always names the canonical domain.",
        custom_domain_api_steps, custom_domain_api_fix,
        needs=("fresh_user", "custom_domain", "custom_domain_api")),
    Scenario(
        "authenticator_type_typo", "authenticator_types [\"opt\"]",
        "invalid_authenticator_type", "invalid_authenticator_type",
        "A typo in the associate request: \"opt\" for \"otp\". The seeds' thread shows it in a post "
        "(whose request then worked, so the typo was only in the post): that is the only public trace "
        "of it, and Auth0's answer to it is the kit's pick (400 invalid_request naming the allowed "
        "values), not a capture.",
        authenticator_type_typo_steps, authenticator_type_typo_fix, needs=("fresh_user",)),
    Scenario(
        "already_enrolled", "\"User is already enrolled\" when adding a second factor",
        "already_enrolled", "already_enrolled",
        "The user has SMS; the app associates an authenticator app with the mfa_token of a fresh "
        "login, without completing MFA with the SMS first.",
        already_enrolled_steps, already_enrolled_fix),
    Scenario(
        "expired_mfa_token", "mfa_token used after 10 minutes", "expired_mfa_token", "expired_mfa_token",
        "The user leaves the MFA screen open for more than 10 minutes, then asks for the SMS.",
        expired_mfa_token_steps, expired_mfa_token_fix, needs=("fresh_user", "outbox", "clock")),
    Scenario(
        "malformed_mfa_token", "mfa_token cut short", "malformed_mfa_token", "malformed_mfa_token",
        "The app stores the mfa_token in a field too small for it and sends the truncated value.",
        malformed_mfa_token_steps, malformed_mfa_token_fix),
    Scenario(
        "missing_enroll_scope", "MFA API access token without the enroll scope",
        "insufficient_scope", "insufficient_scope",
        "The app gets an MFA API token with read:authenticators only, then tries to enroll a factor.",
        missing_enroll_scope_steps, missing_enroll_scope_fix),
    Scenario(
        "mfa_grant_not_enabled", "MFA grant types not enabled on the application",
        "grant_not_allowed", "mfa_grant_not_enabled",
        "The application has the password grant but not the MFA grants: login and enrollment work, "
        "confirming the factor does not.",
        mfa_grant_not_enabled_steps, mfa_grant_not_enabled_fix,
        needs=("fresh_user", "outbox", "client_without_mfa_grants")),
    Scenario(
        "wrong_otp_clock_skew", "Wrong OTP: the phone's clock is 2 minutes slow",
        "invalid_otp", "invalid_otp",
        "The authenticator app computes codes from the phone's clock; 2 minutes off, every code is wrong.",
        wrong_otp_clock_skew_steps, wrong_otp_clock_skew_fix, needs=("fresh_user",)),
    Scenario(
        "too_many_attempts", "Too many wrong OTPs", "too_many_attempts", "too_many_attempts",
        "With the skewed clock the user retries until Auth0 locks them out: after 10 wrong codes "
        "even a right one is refused until an attempt comes back (one every 6 minutes).",
        too_many_attempts_steps, too_many_attempts_fix, needs=("fresh_user", "clock")),
    Scenario(
        "oob_without_binding_code", "mfa-oob without the binding code after an SMS",
        "authorization_pending", "missing_binding_code",
        "The app treats the SMS like a push and polls the mfa-oob grant without the code the SMS "
        "carried: it stays pending forever.",
        oob_without_binding_code_steps, oob_without_binding_code_fix),
    Scenario(
        "push_polled_too_fast", "Push polled too fast: slow_down", "slow_down", "slow_down",
        "The app polls the mfa-oob grant in a tight loop while the user looks for their phone.",
        push_polled_too_fast_steps, push_polled_too_fast_fix,
        needs=("fresh_user", "outbox", "push_approval", "clock")),
    Scenario(
        "push_rejected", "Push rejected on the phone", "push_rejected", "push_rejected",
        "The user taps Deny in Guardian; the app keeps waiting for an approval that cannot come.",
        push_rejected_steps, push_rejected_fix, needs=("fresh_user", "outbox", "push_approval")),
    Scenario(
        "recovery_code_reused", "Recovery code used twice", "invalid_recovery_code", "recovery_code_reused",
        "The app does not show the new recovery code Auth0 returns; next time the user types the old one.",
        recovery_code_reused_steps, recovery_code_reused_fix),
    Scenario(
        "user_without_factor", "A user with no factor enrolled is challenged",
        "unsupported_challenge_type", "user_has_no_factor",
        "mfa_required lists only `enroll`, but the app goes straight to POST /mfa/challenge.",
        user_without_factor_steps, user_without_factor_fix, needs=("fresh_user",)),
)}


# ---------------------------------------------------------------------------------------------
# Playing a scenario

@dataclass
class Reproduction:
    """One scenario played on a client: the failure, its diagnosis, and the fix's outcome."""

    scenario: Scenario
    client: MfaClient = field(repr=False)
    case: Case = field(default_factory=Case, repr=False)
    failure: Auth0Error | None = field(default=None, repr=False)
    findings: list[Finding] = field(default_factory=list, repr=False)
    fixed: Any = field(default=None, repr=False)

    def reproduce(self) -> Auth0Error:
        """Run the steps; they must end in the scenario's symptom (NotReproduced otherwise)."""
        try:
            answer = self.scenario.steps(self.client, self.case)
        except Auth0Error as error:
            self.failure = error
        else:
            raise NotReproduced(f"{self.scenario.name}: the steps succeeded (answer fields "
                                f"{sorted(answer) if isinstance(answer, dict) else type(answer).__name__}); "
                                f"expected {self.scenario.symptom}.")
        if not self.failure.is_(self.scenario.symptom):
            raise NotReproduced(f"{self.scenario.name}: expected {self.scenario.symptom}, got "
                                f"{self.failure.status} {self.failure.error}: {self.failure.error_description}")
        self.findings = diagnose(self.client.session, canonical_domain=self.client.settings.domain)
        return self.failure

    @property
    def failing_exchange(self) -> int | None:
        """Index of the failing exchange in the client's session."""
        if self.failure is None:
            return None
        return next(i for i, x in enumerate(self.client.session.exchanges) if x is self.failure.exchange)

    @property
    def finding(self) -> Finding | None:
        """The diagnosis of the failing exchange."""
        number = None if self.failing_exchange is None else self.failing_exchange + 1  # diagnose counts from 1
        return next((f for f in self.findings if number in f.numbers), None)

    def apply_fix(self) -> Any:
        """Run the fix; its answer is the flow succeeding."""
        self.fixed = self.scenario.fix(self.client, self.case)
        return self.fixed

    def summary(self) -> dict[str, Any]:
        """What happened, without a secret: safe to record and to put in a report."""
        symptom = Outcome(self.scenario.name, error=self.failure, status=self.failure.status).summary() \
            if self.failure is not None else None
        finding = self.finding
        return {
            "scenario": self.scenario.name,
            "symptom": symptom,
            "reproduced": self.failure is not None and self.failure.is_(self.scenario.symptom),
            "diagnosis": finding.key if finding else None,
            "diagnosed": finding is not None and finding.key == self.scenario.diagnosis,
            "fixed": self.fixed is not None,
            "fix_answer": sorted(self.fixed) if isinstance(self.fixed, dict) else None,
        }

    def _repr_markdown_(self) -> str:
        s = self.scenario
        parts = [f"### {s.title}\n\n{s.explanation}\n\nExpected symptom: `{s.error.status} "
                 f"{s.error.error}: {s.error.description}`"]
        if self.failure is not None:
            parts.append(f"**Failure:** `{self.failure.status} {self.failure.error}: "
                         f"{self.failure.error_description}`")
        if self.finding is not None:
            parts.append(self.finding.to_markdown())
        if self.fixed is not None:
            parts.append(f"**Fixed:** the flow succeeds (answer fields: {self.summary()['fix_answer']}).")
        return "\n\n".join(parts)


def catalogue_table() -> Table:
    """The catalogue as a table: name, title, symptom (status error: description), needs."""
    return Table(("name", "title", "symptom", "needs"), tuple(
        (s.name, s.title, f"{s.error.status} {s.error.error}: {s.error.description}", ", ".join(s.needs))
        for s in CATALOGUE.values()))


def scenario(name: str) -> Scenario:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KitError(f"No scenario {name!r}. Known: {', '.join(CATALOGUE)}.") from None


def start(name: str, client: MfaClient, target: str = "auto") -> Reproduction:
    """A Reproduction of scenario `name` on `client`, checked against the target first."""
    chosen = scenario(name)
    kind = client.settings.target
    if target not in ("auto", kind):
        raise KitError(f"target={target!r} but the client targets the {kind} (AUTH0_DOMAIN "
                       f"{'is' if kind == 'tenant' else 'is not'} set).")
    missing = chosen.missing_on(client)
    if missing:
        raise ScenarioUnavailable(name, kind, missing)
    return Reproduction(chosen, client)


def run(name: str, client: MfaClient, target: str = "auto") -> Reproduction:
    """Play a scenario end to end: steps → failure → diagnosis → fix."""
    reproduction = start(name, client, target)
    reproduction.reproduce()
    reproduction.apply_fix()
    return reproduction
