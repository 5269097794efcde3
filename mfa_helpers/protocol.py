"""Auth0 MFA API wire facts: grant types, scopes, audiences and every error the kit knows.

One source of truth. The emulator sends these errors, the client and the diagnosis rules match on
them, and the tests assert them. Each error carries where the fact comes from (see
``../shared/reference/auth0-mfa-api.md``): ``rec`` a live recording, ``user`` a real response a user
pasted, ``docs`` Auth0's docs, ``sdk`` what Auth0's SDKs send or match, ``pick`` the kit's choice
where nothing confirms Auth0's answer. A live capture that disagrees with a ``pick`` corrects it here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GRANT_PASSWORD = "password"
GRANT_PASSWORD_REALM = "http://auth0.com/oauth/grant-type/password-realm"
GRANT_REFRESH_TOKEN = "refresh_token"
GRANT_AUTHORIZATION_CODE = "authorization_code"
GRANT_MFA_OTP = "http://auth0.com/oauth/grant-type/mfa-otp"
GRANT_MFA_OOB = "http://auth0.com/oauth/grant-type/mfa-oob"
GRANT_MFA_RECOVERY_CODE = "http://auth0.com/oauth/grant-type/mfa-recovery-code"

MFA_GRANTS = (GRANT_MFA_OTP, GRANT_MFA_OOB, GRANT_MFA_RECOVERY_CODE)
LOGIN_GRANTS = (GRANT_PASSWORD, GRANT_PASSWORD_REALM)
ALL_GRANTS = (*LOGIN_GRANTS, GRANT_REFRESH_TOKEN, GRANT_AUTHORIZATION_CODE, *MFA_GRANTS)

SCOPE_ENROLL = "enroll"
SCOPE_READ = "read:authenticators"
SCOPE_REMOVE = "remove:authenticators"
MFA_SCOPES = (SCOPE_ENROLL, SCOPE_READ, SCOPE_REMOVE)

AUTHENTICATOR_TYPES = ("otp", "oob")
OOB_CHANNELS = ("sms", "voice", "email", "auth0")
CHALLENGE_TYPES = ("otp", "oob")
# mfa_requirements factor names, as Auth0 lists them in `challenge` and `enroll`.
REQUIREMENT_TYPES = ("otp", "push-notification", "phone", "email", "recovery-code")
# Authenticator id prefixes in GET /mfa/authenticators ("totp|dev_...").
ID_PREFIXES = {"otp": "totp", "sms": "sms", "voice": "voice", "email": "email",
               "auth0": "push", "recovery-code": "recovery-code"}

MFA_TOKEN_LIFETIME = 600          # seconds; not configurable at Auth0 [docs-community]
OOB_CODE_LIFETIME = 300           # SMS / email / voice codes [docs]
ACCESS_TOKEN_LIFETIME = 86400     # expires_in in recordings, other audiences [rec]
MFA_API_TOKEN_LIFETIME = 600      # audience https://DOMAIN/mfa/: 10 minutes, not configurable [docs]
MAX_AUTHENTICATORS = 51           # per user, confirmed or not; then enrolling fails [docs: Auth0 KB]
OTP_FAILURES_BUCKET = 10          # wrong codes before too_many_attempts [docs]
OTP_FAILURE_REFILL = 360          # one attempt back every 6 minutes [docs]
OOB_POLLS_PER_MINUTE = 12         # mfa-oob exchange per mfa_token [docs]
RECOVERY_CODE_LENGTH = 24
# Companion factors [docs]: a phone enrollment is one device that both sms and voice can challenge
# (listed as sms|dev_X and voice|dev_X when both are enabled); a push enrollment also enrolls an
# otp one (the Guardian app's codes). Deleting one of them deletes the other.
COMPANIONS = {"sms": ("voice",), "voice": ("sms",), "auth0": ("otp",)}

# Content-Type of the JSON answers [rec]: /mfa/* and the 403 mfa_required carry the charset, the
# other /oauth/token answers do not; DELETE's empty 204 still says application/json.
JSON = "application/json"
JSON_UTF8 = "application/json; charset=utf-8"


def mfa_audience(canonical_domain: str) -> str:
    """The MFA API audience: always the canonical domain, with the trailing slash."""
    return f"https://{canonical_domain}/mfa/"


@dataclass(frozen=True)
class ErrorSpec:
    """One error Auth0 answers with: status, `error`, `error_description` (may hold {fields})."""

    key: str
    status: int
    error: str
    description: str
    source: str
    content_type: str | None = None   # when it differs from the endpoint's answers


    def describe(self, **fields: Any) -> str:
        return self.description.format(**fields) if fields else self.description

    def body(self, **fields: Any) -> dict[str, str]:
        return {"error": self.error, "error_description": self.describe(**fields)}

    def matches(self, status: int, body: Any) -> bool:
        """True when a response is this error (descriptions with {fields} match on their prefix)."""
        if status != self.status or not isinstance(body, dict) or body.get("error") != self.error:
            return False
        text = body.get("error_description") or ""
        head = self.description.split("{", 1)[0]
        return text.startswith(head) if "{" in self.description else text == self.description


def _spec(key: str, status: int, error: str, description: str, source: str,
          content_type: str | None = None) -> ErrorSpec:
    return ErrorSpec(key, status, error, description, source, content_type)


_ALL = [
    # POST /oauth/token
    _spec("mfa_required", 403, "mfa_required", "Multifactor authentication required", "rec", JSON_UTF8),
    _spec("wrong_password", 403, "invalid_grant", "Wrong email or password.", "user"),
    _spec("invalid_otp", 403, "invalid_grant", "Invalid otp_code.", "sdk"),
    _spec("otp_reused", 403, "invalid_grant", "Invalid otp_code.", "pick"),
    _spec("invalid_binding_code", 403, "invalid_grant", "Invalid binding_code.", "sdk"),
    _spec("invalid_recovery_code", 403, "invalid_grant", "MFA Authorization rejected.", "sdk"),
    _spec("authorization_pending", 400, "authorization_pending",
          "Authorization pending: please repeat the request in a few seconds.", "rec"),
    _spec("push_rejected", 400, "access_denied", "MFA Authorization rejected.", "rec"),
    _spec("slow_down", 429, "slow_down",
          "You are polling faster than allowed. Try again in 5 seconds.", "pick"),
    _spec("malformed_mfa_token", 403, "invalid_grant", "Malformed mfa_token", "sdk"),
    _spec("expired_mfa_token", 403, "expired_token", "mfa_token is expired", "sdk"),
    _spec("expired_oob_code", 403, "expired_token", "oob_code is expired", "user"),
    _spec("mfa_token_reused", 403, "invalid_grant", "Malformed mfa_token", "pick"),
    _spec("too_many_attempts", 429, "too_many_attempts",
          "Too many failed codes. Wait for some minutes before retrying.", "docs"),
    _spec("unsupported_challenge_type", 401, "unsupported_challenge_type",
          "User does not have any enrolled authenticator with the supported challenge type ({types})",
          "user"),
    _spec("unauthorized_client_auth", 401, "access_denied", "Unauthorized", "user"),
    # a browser's Origin that the client's Allowed Web Origins lack ("Failed by CORS" in the tenant log)
    _spec("origin_not_allowed", 401, "access_denied", "Unauthorized", "user"),
    _spec("grant_not_allowed", 403, "unauthorized_client",
          "Grant type '{grant_type}' not allowed for the client.", "user"),
    _spec("service_not_enabled", 403, "access_denied",
          "Service not enabled within domain: {audience}", "user"),
    # an access token for another API (the seeds' https://CUSTOM_DOMAIN/mfa) as mfa_token: only the
    # grant refuses it, /mfa/associate and /mfa/authenticators take it [seeds: the thread, as told]
    _spec("invalid_audience", 403, "invalid_grant", "invalid audience", "seeds"),
    _spec("rate_limited", 429, "too_many_requests", "Rate limit exceeded.", "docs"),
    _spec("unsupported_grant_type", 403, "unsupported_grant_type",
          "Unsupported grant type: {grant_type}", "pick"),
    _spec("missing_parameter", 400, "invalid_request", "Missing required parameter: {name}", "pick"),
    _spec("invalid_refresh_token", 403, "invalid_grant", "Unknown or invalid refresh token.", "pick"),
    _spec("invalid_authorization_code", 403, "invalid_grant", "Invalid authorization code", "pick"),
    _spec("invalid_code_verifier", 403, "invalid_grant", "Failed to verify code verifier", "pick"),
    _spec("invalid_redirect_uri", 403, "invalid_grant",
          "The redirect_uri does not match the one used in the authorization request", "pick"),
    # Bearer endpoints: /mfa/associate, GET and DELETE /mfa/authenticators
    _spec("invalid_token", 401, "invalid_token", "The access token or mfa_token is invalid.", "pick"),
    _spec("insufficient_scope", 403, "insufficient_scope",
          "Insufficient scope, expected: {scope}", "pick"),
    _spec("authenticator_not_found", 404, "not_found", "Authenticator not found.", "docs"),
    # DELETE with a plain mfa_token (only the password proven): Auth0's Delete reference asks for an
    # access token with remove:authenticators for https://DOMAIN/mfa/ and lists 401 "Unauthorized -
    # Invalid access token" [docs]; the community thread "When deleting authenticator it says mfa token
    # is invalid" (cited by auth0-java PR #484) is the only public trace of the answer [user]. Its
    # exact error and description were never captured: both picked.
    _spec("delete_needs_access_token", 401, "invalid_token",
          "The mfa_token is invalid for this operation.", "pick"),
    _spec("already_enrolled", 403, "access_denied", "User is already enrolled.", "user"),
    # MAX_AUTHENTICATORS reached: the limit is Auth0's KB, the answer a pick (no public capture)
    _spec("too_many_authenticators", 403, "access_denied",
          "Too many authenticators enrolled: delete unconfirmed ones first.", "pick"),
    _spec("invalid_authenticator_type", 400, "invalid_request",
          "Invalid authenticator_types: {value}. Allowed values: otp, oob.", "pick"),
    _spec("invalid_oob_channel", 400, "invalid_request",
          "Invalid oob_channels: {value}. Allowed values: sms, voice, email, auth0.", "pick"),
    _spec("invalid_challenge_type", 400, "invalid_request",
          "Invalid challenge_type: {value}. Allowed values: otp, oob.", "pick"),
    # Added with the emulator (tagged pick: nothing confirms Auth0's exact answer yet)
    _spec("malformed_body", 400, "invalid_request", "Invalid request body: {reason}", "pick"),
    _spec("invalid_oob_code", 403, "invalid_grant", "Invalid oob_code.", "pick"),
    # /mfa/challenge naming an authenticator_id the user has no active factor with (same wire form
    # as DELETE's 404; a JSDoc example in nextjs-auth0 only hints at an `invalid_authenticator_id`)
    _spec("unknown_authenticator", 404, "not_found", "Authenticator not found.", "pick"),
    _spec("unknown_realm", 400, "invalid_request", "Unknown realm: {realm}", "pick"),
    _spec("factor_not_enabled", 400, "invalid_request",
          "The {factor} factor is not enabled for this tenant.", "pick"),
    _spec("invalid_phone_number", 400, "invalid_request", "Invalid phone number format", "pick"),
    _spec("invalid_email", 400, "invalid_request", "Email address is invalid", "pick"),
    _spec("invalid_authorize_request", 400, "invalid_request",
          "Invalid authorize request: {reason}", "pick"),
    # Emulator-only surface (/emulator/...): not Auth0's API
    _spec("emulator_unknown_transaction", 404, "not_found",
          "No push transaction {transaction} is waiting.", "emulator"),
]

ERRORS: dict[str, ErrorSpec] = {spec.key: spec for spec in _ALL}


def identify(status: int, body: Any) -> list[ErrorSpec]:
    """Every known error a response matches (several keys share one wire form, e.g. reuse)."""
    return [spec for spec in _ALL if spec.matches(status, body)]
