"""What each MFA API error means, for every reader: one entry per `protocol.ERRORS` key.

`protocol` holds the wire facts (status, `error`, `error_description`); this module holds what they
mean to people: a short title, the cause in plain words, the fix for a developer using the kit
(`Auth0Error.fix`, `EmulatorError.fix`), the fix for a customer's app (what `diagnose` tells a
support engineer), and the Auth0 page that covers it. Texts name the canonical domain as
`TENANT.REGION.auth0.com`; `for_domain` puts the real one in when it is known.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

CANONICAL_PLACEHOLDER = "TENANT.REGION.auth0.com"
MFA_AUDIENCE_PLACEHOLDER = f"https://{CANONICAL_PLACEHOLDER}/mfa/"
DASHBOARD_GRANTS = ("Dashboard > Applications > Applications > (your application) > Settings > "
                    "Advanced Settings > Grant Types")
DASHBOARD_ORIGINS = ("Dashboard > Applications > Applications > (your application) > Settings > "
                     "Allowed Web Origins (and Allowed Origins (CORS))")

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
    "cors": "https://auth0.com/docs/get-started/applications/set-up-cors",
    "har": "https://auth0.com/docs/troubleshoot/troubleshooting-tools/generate-and-analyze-har-files",
    "emulator": "https://auth0.com/docs/api/authentication",
}


@dataclass(frozen=True)
class Knowledge:
    """One error, explained: `title` what it means, `cause` why it happens, `code_fix` for a
    developer (the kit's API), `support_fix` for a customer's app, `doc` Auth0's page."""

    key: str
    title: str
    cause: str
    code_fix: str
    support_fix: str
    doc: str

    def for_domain(self, canonical_domain: str | None) -> "Knowledge":
        """The same texts with the tenant's canonical domain in place of the placeholder."""
        if not canonical_domain:
            return self
        return replace(self, **{name: getattr(self, name).replace(CANONICAL_PLACEHOLDER, canonical_domain)
                                for name in ("title", "cause", "code_fix", "support_fix")})


def _k(key: str, title: str, cause: str, code_fix: str, support_fix: str, doc: str) -> Knowledge:
    return Knowledge(key, title, cause, code_fix, support_fix, DOCS[doc])


_ALL = [
    _k("mfa_required", "MFA required (a step of the flow, not a failure)",
       "The first factor worked and the tenant asks for MFA: the answer carries mfa_token and "
       "mfa_requirements.",
       "Continue with the MFA API: client.associate(mfa_token, ...) to enroll, or "
       "client.challenge(mfa_token, ...) then confirm with the matching grant.",
       "Continue with the MFA API: enroll (POST /mfa/associate) when mfa_requirements has only "
       "`enroll`, else challenge (POST /mfa/challenge), then the matching MFA grant with the mfa_token.",
       "ropg"),
    _k("wrong_password", "Wrong username or password",
       "The first factor failed: Auth0 did not get as far as MFA.",
       "Check AUTH0_USERNAME / AUTH0_PASSWORD and the connection (AUTH0_REALM).",
       "Check the username, password and realm (connection) the app sends.", "ropg"),
    _k("invalid_otp", "The one-time code was refused",
       "Auth0 compared the 6-digit code with the one it computes from the authenticator's secret and "
       "the current time, and they differ. The usual causes: the phone's clock is off (codes are "
       "derived from the time, so a clock a minute off gives wrong codes every time), the code came "
       "from another enrollment of the same account (each associate creates a new secret; an old QR "
       "entry in the app keeps showing codes for the old one), a code already used once, or a typo.",
       "Send the current 6-digit code from the authenticator app (codes change every 30 s and each is "
       "accepted once; VirtualAuthenticator.fresh_code() waits for a new one).",
       "Set the phone to automatic date and time (Google Authenticator: Settings → Time correction "
       "for codes → Sync now), delete stale entries for this account from the app, and send a fresh "
       "code.", "verify_otp"),
    _k("otp_reused", "The one-time code was already used",
       "Auth0 accepts each code once. This code was already accepted a moment before, in the same "
       "30-second step, so it is spent.",
       "Wait for the next code (VirtualAuthenticator.fresh_code() waits for it) and send that one.",
       "Wait for the authenticator to show the next code (at most 30 s) and send that one.",
       "verify_otp"),
    _k("invalid_binding_code", "The code from the SMS/voice/email was refused",
       "The binding_code must be the 6 digits Auth0 sent to the phone or inbox for this very "
       "oob_code. A code from an earlier message, or one for another challenge, does not match.",
       "Send the 6-digit code that the SMS, voice call or email delivered as binding_code.",
       "Send the binding_code from the latest message, with the oob_code of the same challenge.",
       "verify_oob"),
    _k("invalid_recovery_code", "The recovery code was refused",
       "Recovery codes are 24 upper-case letters and digits and work once. This one is wrong or "
       "already spent.",
       "The recovery code is wrong or already spent: use the newest one (each successful "
       "recovery-code grant returns a new recovery_code).",
       "Check the code the user typed (no spaces or dashes). If it was used before, use the new code "
       "Auth0 returned then (recovery_code in that response).", "recovery"),
    _k("authorization_pending", "Waiting for approval (a step of the flow, not a failure)",
       "The push is not approved yet, or the SMS/email code not sent with the grant.",
       "Approve the push on the phone (emulator: client.emulator.approve_push(...)), then repeat the "
       "mfa-oob request; client.poll_oob(...) does this for you.",
       "Poll the mfa-oob grant every 5 seconds until the user approves; for SMS, voice and email send "
       "the code from the message as binding_code.", "verify_oob"),
    _k("push_rejected", "The user rejected the push notification",
       "The user tapped Deny in the Guardian app (or the push was refused on the device). The answer "
       "is final: this oob_code will never succeed, so polling it further is pointless. If the user "
       "did not start this login, it may be someone else holding their password.",
       "The push was rejected on the phone: start again with client.challenge(...).",
       "Stop polling. If the user wants to try again, start a new challenge (POST /mfa/challenge) and "
       "poll the new oob_code; consider alerting on unexpected rejections.", "push"),
    _k("slow_down", "Polling faster than Auth0 allows",
       "Auth0 allows 12 mfa-oob token exchanges per minute for one mfa_token; the app polled faster "
       "and got slow_down.",
       "Poll less often: at most 12 mfa-oob requests a minute per mfa_token (client.poll_oob backs "
       "off by itself).",
       "Poll at most every 5 seconds, and add 5 seconds to the wait each time you get slow_down.",
       "verify_oob"),
    _k("malformed_mfa_token", "The mfa_token is not one Auth0 issued",
       "Auth0 could not read the mfa_token: it is cut short, has extra characters (quotes, 'Bearer ', "
       "a newline), was URL-decoded or re-encoded on the way, is another token altogether, or was "
       "already spent by a successful MFA grant. Real mfa_tokens are long opaque strings "
       "(700–1,400 characters).",
       "Pass the mfa_token of the latest mfa_required answer, unmodified. A successful MFA grant "
       "spends it: log in again for a new one.",
       "Pass the mfa_token exactly as it came in the mfa_required response; don't trim, decode or "
       "store it in a field that truncates it. After a successful MFA grant, log in again for a new one.",
       "ropg"),
    _k("mfa_token_reused", "The mfa_token was already spent",
       "An mfa_token works until MFA is completed once with it. After a successful MFA grant Auth0 "
       "answers 'Malformed mfa_token' for it.",
       "Log in again for a new mfa_token, or use the tokens the successful grant returned.",
       "Log in again for a new mfa_token, or use the tokens the successful grant returned.", "ropg"),
    _k("expired_mfa_token", "The mfa_token expired",
       "An mfa_token lives 10 minutes, and Auth0 does not let you change that. This one was used after "
       "that (an expired access token used as mfa_token gets the same answer).",
       "An mfa_token lives 10 minutes: log in again for a new one.",
       "Log in again (password grant) for a fresh mfa_token, and finish enrollment or challenge "
       "within 10 minutes; don't keep mfa_tokens in long-lived storage.", "ropg"),
    _k("expired_oob_code", "The SMS/voice/email code expired",
       "Codes sent by SMS, voice or email are valid 5 minutes.",
       "SMS, voice and email codes live 5 minutes: ask for a new one with "
       "client.challenge(mfa_token, 'oob').",
       "Ask for a new challenge (POST /mfa/challenge) and use its oob_code and the new message's code.",
       "sms"),
    _k("too_many_attempts", "Too many wrong codes: the user is locked out for a while",
       "Auth0 allows 10 wrong one-time codes; after that every attempt is refused, even a right one, "
       "and one attempt comes back every 6 minutes.",
       "Too many wrong codes: wait (one attempt comes back every 6 minutes), then send a current code.",
       "Stop retrying automatically. Wait at least 6 minutes before the next attempt, and find why the "
       "codes were wrong first (clock skew, stale authenticator entry) so the next one works.", "ropg"),
    _k("unsupported_challenge_type", "No enrolled factor of that type",
       "The user has no active authenticator for the challenge type asked for.",
       "The user has no active authenticator of that type: check client.list_authenticators(...) or "
       "enroll one with client.associate(...).",
       "List the user's authenticators (GET /mfa/authenticators) and challenge one of the types they "
       "have, or enroll one first (POST /mfa/associate).", "challenge"),
    _k("unauthorized_client_auth", "The application did not authenticate",
       "The client secret is missing or wrong for this confidential application.",
       "Check AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET: a confidential application must authenticate "
       "with its own secret.",
       "Send the application's client_secret (in the body or HTTP Basic), the one from its settings.",
       "ropg"),
    _k("origin_not_allowed", "The page's origin is not an Allowed Web Origin of the application",
       "A browser called /oauth/token from a page whose origin (scheme, host and port) is not in the "
       "application's Allowed Web Origins, so Auth0 refused it (the tenant log says \"Failed by CORS\") "
       "and sent no CORS headers: the page cannot even read the answer.",
       "Add the page's origin to the application's web origins (emulator: the tenant file's "
       "web_origins), or call the API from a server instead of the browser.",
       f"Add the page's origin (e.g. https://app.example.com, no path) to {DASHBOARD_ORIGINS}.",
       "cors"),
    _k("grant_not_allowed", "Grant type not enabled for the application",
       "The application is not allowed to use this grant type.",
       f"Enable the grant types on the application: {DASHBOARD_GRANTS} (tick MFA for the mfa-otp, "
       "mfa-oob and mfa-recovery-code grants).",
       f"Enable it in {DASHBOARD_GRANTS}.", "grant_types"),
    _k("service_not_enabled", "Unknown audience",
       "The audience asked for is no API of this tenant.",
       "The MFA API audience is built from the canonical domain "
       f"({MFA_AUDIENCE_PLACEHOLDER}), even when requests go to a custom domain: use client.mfa_audience.",
       "Ask for an API identifier exactly as it is registered (Dashboard → APIs). For the MFA API it "
       f"is {MFA_AUDIENCE_PLACEHOLDER}, trailing slash included, even through a custom domain.", "ropg"),
    _k("invalid_audience", "Token for another audience used as mfa_token",
       "The MFA grants accept an mfa_token, or an access token for the MFA API audience "
       f"({MFA_AUDIENCE_PLACEHOLDER}). The token sent was minted for another audience.",
       "This token was issued for another API (for example an API you created named "
       "https://CUSTOM_DOMAIN/mfa): ask for the MFA API audience client.mfa_audience (canonical "
       "domain, trailing slash) instead.",
       "Use the mfa_token from mfa_required, or an access token obtained with the MFA API audience "
       f"{MFA_AUDIENCE_PLACEHOLDER}.", "manage"),
    _k("rate_limited", "Rate limit exceeded",
       "Too many requests in a short time for this tenant, user or IP.",
       "Wait until reset_at (x-ratelimit-reset), or create the client with retry_on_429=N to wait and "
       "retry automatically.",
       "Wait until x-ratelimit-reset (epoch seconds in the response headers) and slow down.",
       "rate_limits"),
    _k("unsupported_grant_type", "Unknown grant type",
       "The grant_type is misspelled or not one Auth0 supports at the token endpoint.",
       "Use one of the grant types in mfa_helpers.protocol.ALL_GRANTS.",
       "Use the full URI for MFA grants, e.g. http://auth0.com/oauth/grant-type/mfa-otp.", "ropg"),
    _k("missing_parameter", "A required parameter is missing",
       "The request lacks a parameter this call needs.",
       "Send the named parameter.",
       "Add the parameter Auth0 names in error_description.", "mfa_api"),
    _k("invalid_refresh_token", "Refresh token refused",
       "The refresh token is unknown, revoked or belongs to another application.",
       "The refresh token is unknown, revoked or for another client: log in again with scope "
       "offline_access for a new one.",
       "Log in again to get a new refresh token (ask for offline_access).", "ropg"),
    _k("invalid_authorization_code", "Authorization code refused",
       "The code is wrong, expired or already used.",
       "An authorization code is used once and lives briefly: start again at client.authorize_url(...).",
       "Start the /authorize flow again and exchange the new code once.", "manage"),
    _k("invalid_code_verifier", "PKCE verifier does not match",
       "The code_verifier is not the one the code_challenge was made from.",
       "Send the code_verifier of the same PKCE pair that made the code_challenge "
       "(client.authorize_url returns both).",
       "Send the code_verifier generated with this authorization request.", "manage"),
    _k("invalid_redirect_uri", "redirect_uri mismatch",
       "The redirect_uri differs from the one used at /authorize.",
       "Send the same redirect_uri as in the /authorize request.",
       "Send exactly the same redirect_uri in both requests.", "manage"),
    _k("invalid_token", "The bearer token was refused",
       "The Authorization header of this MFA API call holds no valid mfa_token or MFA API access "
       "token: missing, cut short, expired (mfa_tokens live 10 minutes), or for another audience.",
       "Send the mfa_token from mfa_required, or an access token for the MFA API audience, as "
       "'Authorization: Bearer ...'; it may have expired.",
       "Send 'Authorization: Bearer <mfa_token>' with the token from mfa_required, or an access token "
       f"for {MFA_AUDIENCE_PLACEHOLDER}.", "manage"),
    _k("insufficient_scope", "The access token lacks the scope this call needs",
       "Access tokens for the MFA API carry scopes: enroll for POST /mfa/associate, "
       "read:authenticators for listing, remove:authenticators for deleting.",
       "Ask for the MFA API scope named in the message (enroll, read:authenticators, "
       "remove:authenticators) when getting the token.",
       "Ask for the scope when you get the token, with the MFA API audience.", "manage"),
    _k("authenticator_not_found", "No such authenticator",
       "The authenticator id does not exist for this user.",
       "Use an id from client.list_authenticators(...), unmodified.",
       "Take the id from GET /mfa/authenticators, percent-encoded in the path (push%7Cdev_...).",
       "manage"),
    _k("delete_needs_access_token", "Deleting a factor needs an access token, not the mfa_token",
       "An mfa_token proves only the password: it may list factors and enroll a first one, but not "
       "delete one, or anyone with the password could remove the only factor and enroll their own.",
       "An mfa_token proves only the password: complete MFA with the MFA API audience and scope "
       "remove:authenticators (client.mfa_api_token(...)), then delete with the access token it returns.",
       f"Sign in with audience {MFA_AUDIENCE_PLACEHOLDER} and scope remove:authenticators, complete MFA "
       "(challenge, then the matching MFA grant), and delete with the access token it returns.", "manage"),
    _k("already_enrolled", "User is already enrolled: challenge the existing factor first",
       "The user already has an active MFA factor, and the token used to add another one has not "
       "passed MFA. Auth0 lets a user add a factor only after proving one they have: otherwise anyone "
       "with the password could add their own phone.",
       "The user already has an active factor: challenge it and complete MFA first, then enroll with "
       "the resulting MFA API access token (scope enroll).",
       f"Get an access token for the MFA API (audience {MFA_AUDIENCE_PLACEHOLDER}, scope enroll) by "
       "completing MFA with the existing factor (challenge, then the matching MFA grant), and call "
       "POST /mfa/associate with that token.", "manage"),
    _k("too_many_authenticators", "Too many authenticators enrolled",
       "Auth0 caps how many authenticators one user may hold (about 51, unconfirmed enrollments "
       "included, per Auth0's knowledge base). Enrollments that were started and never confirmed "
       "pile up until the next one is refused.",
       "List the user's authenticators and delete the inactive ones the code started and never "
       "confirmed (client.delete_authenticators with an MFA API access token), then enroll again.",
       "Remove the user's unconfirmed enrollments (GET /mfa/authenticators shows them with "
       "\"active\": false; delete them with an MFA API access token, or in Dashboard > User "
       "Management > Users > (the user) > Multi-factor), and confirm each enrollment right after "
       "POST /mfa/associate instead of starting new ones.", "manage"),
    _k("invalid_authenticator_type", "Unknown authenticator type",
       "authenticator_types accepts only \"otp\" (an authenticator app) and \"oob\" (SMS, voice, "
       "email or push, with oob_channels).",
       "authenticator_types takes 'otp' or 'oob' (watch for the typo 'opt').",
       "Fix the value: [\"otp\"], or [\"oob\"] with oob_channels.", "otp"),
    _k("invalid_oob_channel", "Unknown OOB channel",
       "oob_channels accepts sms, voice, email and auth0 (push).",
       "oob_channels takes 'sms', 'voice', 'email' or 'auth0'.",
       "Fix the value in oob_channels.", "sms"),
    _k("invalid_challenge_type", "Unknown challenge type",
       "challenge_type accepts otp, oob, or both space-separated.",
       "challenge_type takes 'otp', 'oob' or both separated by a space.",
       "Fix the challenge_type.", "challenge"),
    _k("malformed_body", "The request body could not be read",
       "The body is not valid JSON or form data, or a field has the wrong type.",
       "Change the argument error_description names (EmulatorControl.create_user: a username not taken "
       "yet; advance_clock: whole seconds).",
       "Send a JSON object (Content-Type: application/json) or a form body with the documented fields.",
       "mfa_api"),
    _k("invalid_oob_code", "The oob_code is not one Auth0 issued",
       "The oob_code was changed on the way, belongs to another challenge, or was already used.",
       "Send the oob_code of the latest client.challenge(...) or associate answer, unmodified.",
       "Send the oob_code from the latest challenge (or associate) answer, unmodified, with the same "
       "mfa_token.", "verify_oob"),
    _k("unknown_authenticator", "No active authenticator with that id",
       "authenticator_id names no active factor of this user (removed, never confirmed, or another "
       "user's).",
       "Take authenticator_id from client.list_authenticators(...) (active ones only).",
       "Take authenticator_id from GET /mfa/authenticators and use an active one.", "challenge"),
    _k("unknown_realm", "Unknown connection (realm)",
       "The realm names no database connection of this tenant.",
       "Set AUTH0_REALM to a connection name of the tenant (e.g. Username-Password-Authentication).",
       "Send the connection's name as realm, exactly as in Dashboard → Authentication → Database.",
       "ropg"),
    _k("factor_not_enabled", "That factor is not enabled on the tenant",
       "The tenant's MFA settings do not offer this factor.",
       "Enable the factor in Dashboard > Security > Multi-factor Auth (emulator: the tenant file's "
       "mfa.factors).",
       "Enable the factor in Dashboard → Security → Multi-factor Auth, or enroll one that is enabled.",
       "mfa_api"),
    _k("invalid_phone_number", "The phone number was refused",
       "phone_number must be in E.164 form: + and the country code, digits only.",
       "Pass phone_number as E.164, e.g. '+15555550123' (papermill: use -r so the + survives).",
       "Send phone_number as E.164 (e.g. +15555550123): no spaces, dashes or leading zeros.", "sms"),
    _k("invalid_email", "The email address was refused",
       "The email to enroll is not a valid address.",
       "Pass a valid email address.",
       "Send a valid email address to enroll.", "mfa_api"),
    _k("invalid_authorize_request", "The /authorize request was refused",
       "A parameter of /authorize is missing or wrong (client_id, redirect_uri, response_type, PKCE).",
       "Build the request with client.authorize_url(...); error_description names the parameter.",
       "Fix the /authorize parameter error_description names (redirect_uri must be an Allowed "
       "Callback URL of the application).", "manage"),
    _k("emulator_unknown_transaction", "No push waiting under that transaction",
       "The emulator has no push transaction of that id waiting: it was decided already, or never sent.",
       "Approve or reject a push that is still waiting: take its transaction from "
       "latest_message(channel='auth0') right after the enrollment or challenge (a push is decided once).",
       "Only the kit's emulator answers /emulator/* endpoints: this is no Auth0 error.", "emulator"),
]

KNOWLEDGE: dict[str, Knowledge] = {entry.key: entry for entry in _ALL}


def about(key: str, canonical_domain: str | None = None) -> Knowledge | None:
    """What error `key` (a `protocol.ERRORS` key) means, with the canonical domain put in when known."""
    entry = KNOWLEDGE.get(key)
    return entry.for_domain(canonical_domain) if entry else None
