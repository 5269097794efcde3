"""POST /oauth/token: client authentication, the seven grants, and the tokens they mint."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time

from mfa_helpers import protocol

from . import ids, mfa, users
from .errors import ApiError
from .runtime import Call, Runtime
from .tenant import Client

OIDC_SCOPES = ("openid", "profile", "email", "address", "phone", "offline_access")
DEFAULT_SCOPE = "openid profile email address phone"     # granted when none is asked [rec]
ID_TOKEN_LIFETIME = 36000


def authenticate_client(rt: Runtime, call: Call, *, secret_required: bool = True) -> Client:
    """client_secret_post or HTTP Basic; public clients send no secret. Anything wrong: 401."""
    basic = call.basic_auth()
    client_id = call.text("client_id")
    secret = call.text("client_secret")
    if basic:
        if client_id and client_id != basic[0]:
            raise ApiError("unauthorized_client_auth")
        client_id, secret = basic[0], basic[1] or secret
    if client_id is None:
        raise ApiError("missing_parameter", name="client_id")
    client = rt.tenant.client(client_id)
    if client is None:
        raise ApiError("unauthorized_client_auth")
    if client.public or (secret is None and not secret_required):
        return client
    if secret is None or not hmac.compare_digest(secret.encode(), client.client_secret.encode()):
        raise ApiError("unauthorized_client_auth")
    return client


def token(rt: Runtime, call: Call) -> dict:
    grant_type = call.text("grant_type", required=True)
    client = authenticate_client(rt, call)
    handler = GRANTS.get(grant_type)
    if handler is None:
        raise ApiError("unsupported_grant_type", grant_type=grant_type)
    if grant_type not in client.grant_types:
        raise ApiError("grant_not_allowed", grant_type=grant_type)
    return handler(rt, call, client)


def check_audience(rt: Runtime, audience: str | None) -> str:
    """The API a token is for: the MFA API, one of the tenant's APIs, or /userinfo when absent."""
    if audience is None:
        return f"https://{rt.tenant.domain}/userinfo"
    if audience == rt.tenant.mfa_audience or rt.tenant.api(audience):
        return audience
    raise ApiError("service_not_enabled", audience=audience)


def granted_scope(rt: Runtime, audience: str, requested: str | None) -> str:
    """Requested scopes this audience knows (OIDC ones always); Auth0's default when none asked."""
    if requested is None:
        return DEFAULT_SCOPE
    if audience == rt.tenant.mfa_audience:
        api_scopes = protocol.MFA_SCOPES
    else:
        api = rt.tenant.api(audience)
        api_scopes = api.scopes if api else ()
    known = set(OIDC_SCOPES) | set(api_scopes)
    return " ".join(dict.fromkeys(s for s in requested.split() if s in known))


def _password(rt: Runtime, call: Call, client: Client) -> dict:
    return _login(rt, call, client, realm=None)


def _password_realm(rt: Runtime, call: Call, client: Client) -> dict:
    realm = call.text("realm", required=True)
    if realm != rt.tenant.connection:
        raise ApiError("unknown_realm", realm=realm)
    return _login(rt, call, client, realm=realm)


def _login(rt: Runtime, call: Call, client: Client, realm: str | None) -> dict:
    username = call.text("username", required=True)
    password = call.text("password", required=True)
    audience = check_audience(rt, call.text("audience"))
    scope = granted_scope(rt, audience, call.text("scope"))
    user = users.check_password(rt, username, password)
    if user is None:
        raise ApiError("wrong_password")
    if rt.tenant.policy == "always":
        token_ = mfa.new_mfa_token(rt, user["user_id"], client.client_id, audience, scope)
        extra: dict = {"mfa_token": token_}
        requirements = mfa.mfa_requirements(rt, user["user_id"])
        if requirements is not None:
            extra["mfa_requirements"] = requirements
        raise ApiError("mfa_required", extra=extra)
    return issue(rt, call, client, user["user_id"], audience, scope, mfa_done=False)


def _refresh(rt: Runtime, call: Call, client: Client) -> dict:
    value = call.text("refresh_token", required=True)
    row = rt.store.one("refresh_tokens", digest=ids.digest(value))
    if row is None or row["client_id"] != client.client_id or not users.by_id(rt, row["user_id"]):
        raise ApiError("invalid_refresh_token")
    return issue(rt, call, client, row["user_id"], row["audience"], row["scope"],
                 mfa_done=bool(row["mfa"]), new_refresh=False)


def _authorization_code(rt: Runtime, call: Call, client: Client) -> dict:
    code = call.text("code", required=True)
    row = rt.store.one("auth_codes", digest=ids.digest(code))
    if (row is None or row["used"] or row["client_id"] != client.client_id
            or row["expires_at"] <= rt.clock.now()):
        raise ApiError("invalid_authorization_code")
    if row["redirect_uri"] != call.text("redirect_uri"):
        raise ApiError("invalid_redirect_uri")
    if row["challenge"]:
        verifier = call.text("code_verifier") or ""
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        if not hmac.compare_digest(computed, row["challenge"].encode()):
            raise ApiError("invalid_code_verifier")
    rt.store.update("auth_codes", {"digest": row["digest"]}, used=1)
    return issue(rt, call, client, row["user_id"], row["audience"], row["scope"],
                 mfa_done=bool(row["mfa"]), nonce=row["nonce"])


def _mfa_otp(rt: Runtime, call: Call, client: Client) -> dict:
    ctx = mfa.grant_context(rt, call.text("mfa_token"), client.client_id)
    authenticator = mfa.verify_otp(rt, ctx, call.text("otp", required=True))
    return _finish(rt, call, client, ctx, authenticator)


def _mfa_oob(rt: Runtime, call: Call, client: Client) -> dict:
    ctx = mfa.grant_context(rt, call.text("mfa_token"), client.client_id)
    authenticator = mfa.verify_oob(rt, ctx, call.text("oob_code", required=True),
                                   call.text("binding_code"))
    return _finish(rt, call, client, ctx, authenticator)


def _mfa_recovery_code(rt: Runtime, call: Call, client: Client) -> dict:
    ctx = mfa.grant_context(rt, call.text("mfa_token"), client.client_id)
    authenticator, fresh = mfa.verify_recovery_code(rt, ctx, call.text("recovery_code", required=True))
    answer = _finish(rt, call, client, ctx, authenticator)
    answer["recovery_code"] = fresh
    return answer


def _finish(rt: Runtime, call: Call, client: Client, ctx: mfa.MfaContext, authenticator: dict) -> dict:
    mfa.complete(rt, ctx, authenticator)
    return issue(rt, call, client, ctx.user_id, ctx.audience, ctx.scope, mfa_done=True)


def issue(rt: Runtime, call: Call, client: Client, user_id: str, audience: str, scope: str, *,
          mfa_done: bool, new_refresh: bool = True, nonce: str | None = None) -> dict:
    """access_token (RS256 JWT), id_token when `openid` was granted, refresh_token with
    `offline_access` when the client may refresh.

    An access token for the MFA API lives 600 s, others 86400 s. Its times follow the emulator
    clock, against which the emulator checks it (so an advanced clock does not mint tokens already
    expired); the id_token's follow the wall clock, against which SDKs check its `iat`."""
    now = int(time.time())
    minted = int(rt.clock.now())
    lifetime = (protocol.MFA_API_TOKEN_LIFETIME if audience == rt.tenant.mfa_audience
                else protocol.ACCESS_TOKEN_LIFETIME)
    issuer = rt.issuer(call)
    scopes = scope.split()
    user = users.by_id(rt, user_id)
    userinfo = f"https://{rt.tenant.domain}/userinfo"
    aud: str | list[str] = audience
    if "openid" in scopes and audience != userinfo:
        aud = [audience, userinfo]
    access = {"iss": issuer, "sub": user_id, "aud": aud, "iat": minted,
              "exp": minted + lifetime, "scope": scope, "azp": client.client_id,
              "jti": ids.opaque(12)}
    answer: dict = {"access_token": rt.signer.sign(access)}
    if "openid" in scopes:
        claims = {"iss": issuer, "sub": user_id, "aud": client.client_id, "iat": now,
                  "exp": now + ID_TOKEN_LIFETIME, "email": user["username"], "name": user["username"],
                  "nickname": user["username"].split("@")[0]}
        if mfa_done:
            claims["amr"] = ["mfa"]
        if nonce:
            claims["nonce"] = nonce
        answer["id_token"] = rt.signer.sign(claims)
    if new_refresh and "offline_access" in scopes and protocol.GRANT_REFRESH_TOKEN in client.grant_types:
        refresh = ids.opaque(32)
        rt.store.insert("refresh_tokens", digest=ids.digest(refresh), user_id=user_id,
                        client_id=client.client_id, audience=audience, scope=scope, mfa=int(mfa_done))
        answer["refresh_token"] = refresh
    if scope:
        answer["scope"] = scope
    answer["expires_in"] = lifetime
    answer["token_type"] = "Bearer"
    return answer


GRANTS = {
    protocol.GRANT_PASSWORD: _password,
    protocol.GRANT_PASSWORD_REALM: _password_realm,
    protocol.GRANT_REFRESH_TOKEN: _refresh,
    protocol.GRANT_AUTHORIZATION_CODE: _authorization_code,
    protocol.GRANT_MFA_OTP: _mfa_otp,
    protocol.GRANT_MFA_OOB: _mfa_oob,
    protocol.GRANT_MFA_RECOVERY_CODE: _mfa_recovery_code,
}
