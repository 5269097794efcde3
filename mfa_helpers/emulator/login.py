"""GET /authorize and its minimal login page: the authorization-code (PKCE) path to an MFA API
access token, for the "manage factors from your own UI" flow.

The page asks for username, password and, for users with an active TOTP factor, a one-time code.
Form fields (for scripted use): `login` (hidden), `username`, `password`, `otp`; it posts to /u/login
and answers 302 to `redirect_uri?code=...&state=...`.
"""
from __future__ import annotations

import html
from urllib.parse import urlencode, urlsplit

from starlette.responses import HTMLResponse, RedirectResponse

from mfa_helpers import protocol

from . import grants, ids, mfa, users
from .errors import ApiError
from .runtime import Call, Runtime

LOGIN_LIFETIME = 600
CODE_LIFETIME = 600
TOTP_ONLY = ("This emulator's login page checks TOTP codes only; sign this user in through the MFA "
             "API (/oauth/token, /mfa/challenge) instead.")


def _bad(reason: str) -> ApiError:
    return ApiError("invalid_authorize_request", reason=reason)


def authorize(rt: Runtime, call: Call):
    q = call.query
    client = rt.tenant.client(q.get("client_id"))
    if client is None:
        raise _bad("unknown client_id")
    redirect_uri = q.get("redirect_uri") or ""
    if urlsplit(redirect_uri).scheme not in ("http", "https") or (
            client.callbacks and redirect_uri not in client.callbacks):
        raise _bad("redirect_uri is not an allowed callback URL of this client")
    if q.get("response_type") != "code":
        raise _bad("response_type must be code")
    if protocol.GRANT_AUTHORIZATION_CODE not in client.grant_types:
        raise ApiError("grant_not_allowed", grant_type=protocol.GRANT_AUTHORIZATION_CODE)
    challenge = q.get("code_challenge") or None
    if challenge and q.get("code_challenge_method") != "S256":
        raise _bad("code_challenge_method must be S256")
    if client.public and not challenge:
        raise _bad("public clients must send code_challenge (PKCE, S256)")
    try:
        audience = grants.check_audience(rt, q.get("audience") or None)
    except ApiError as err:
        return _back(redirect_uri, q.get("state"), error=err.spec.error,
                     error_description=err.spec.describe(**err.fields))
    login_id = ids.opaque(18)
    rt.store.insert("logins", id=login_id, client_id=client.client_id, redirect_uri=redirect_uri,
                    state=q.get("state"), challenge=challenge, audience=audience,
                    scope=grants.granted_scope(rt, audience, q.get("scope") or None),
                    nonce=q.get("nonce"), expires_at=rt.clock.now() + LOGIN_LIFETIME)
    return _page(rt, login_id)


def login(rt: Runtime, call: Call):
    row = rt.store.one("logins", id=call.text("login") or "")
    if row is None or row["expires_at"] <= rt.clock.now():
        raise _bad("the login page expired; start again at /authorize")
    user = users.check_password(rt, call.text("username") or "", call.text("password") or "")
    if user is None:
        return _page(rt, row["id"], protocol.ERRORS["wrong_password"].describe(), status=400)
    active = mfa.active_factors(rt, user["user_id"]) if rt.tenant.policy == "always" else []
    if active and not any(a["kind"] == "otp" for a in active):
        return _page(rt, row["id"], TOTP_ONLY, status=400)
    if active:
        ctx = mfa.MfaContext(user["user_id"], row["client_id"], row["audience"], row["scope"],
                             "login", f"login:{row['id']}")
        try:
            mfa.verify_otp(rt, ctx, call.text("otp") or "")
        except ApiError as err:
            return _page(rt, row["id"], err.spec.describe(**err.fields), status=400)
    code = ids.opaque(24)
    rt.store.insert("auth_codes", digest=ids.digest(code), user_id=user["user_id"],
                    client_id=row["client_id"], redirect_uri=row["redirect_uri"],
                    challenge=row["challenge"], audience=row["audience"], scope=row["scope"],
                    nonce=row["nonce"], mfa=int(bool(active)),
                    expires_at=rt.clock.now() + CODE_LIFETIME, used=0)
    rt.store.delete("logins", id=row["id"])
    return _back(row["redirect_uri"], row["state"], code=code)


def _back(redirect_uri: str, state: str | None, **params: str) -> RedirectResponse:
    if state:
        params["state"] = state
    joiner = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{joiner}{urlencode(params)}", status_code=302)


def _page(rt: Runtime, login_id: str, message: str = "", status: int = 200) -> HTMLResponse:
    name = html.escape(rt.tenant.name)
    note = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    return HTMLResponse(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in | {name}</title></head>
<body><main><h1>{name}</h1><p>Local Auth0 emulator: log in to continue.</p>{note}
<form method="post" action="/u/login">
<input type="hidden" name="login" value="{html.escape(login_id)}">
<label>Email <input name="username" type="email" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<label>One-time code (if you enrolled an authenticator app)
<input name="otp" inputmode="numeric" autocomplete="one-time-code"></label>
<button type="submit">Continue</button>
</form></main></body></html>""", status_code=status)
