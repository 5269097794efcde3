"""Factors: who is asking (mfa_token or MFA API access token), enrollment, challenges, listing,
deletion, and the code checks behind the three MFA grants."""
from __future__ import annotations

import hmac
import re
import time
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import quote

import jwt
import pyotp
from starlette.responses import Response

from mfa_helpers import protocol

from . import ids, outbox, users
from .errors import ApiError
from .runtime import Call, Runtime

OOB_KINDS = ("sms", "voice", "email", "auth0")
# Stored kind -> mfa_requirements type, and -> the tenant file's factor name.
REQUIREMENT = {"otp": "otp", "sms": "phone", "voice": "phone", "email": "email",
               "auth0": "push-notification", "recovery-code": "recovery-code"}
TENANT_FACTOR = {"otp": "otp", "sms": "sms", "voice": "voice", "email": "email", "auth0": "push",
                 "recovery-code": "recovery-code"}
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOTP_PERIOD = 30


@dataclass(frozen=True)
class MfaContext:
    """The user and login an mfa_token (or an MFA API access token) stands for."""

    user_id: str
    client_id: str | None
    audience: str
    scope: str
    kind: str            # "mfa_token" | "access_token"
    key: str             # digest of the mfa_token, or "jwt:" + jti
    scopes: frozenset[str] = frozenset()


# --- who is asking ---------------------------------------------------------------------------

def new_mfa_token(rt: Runtime, user_id: str, client_id: str, audience: str, scope: str) -> str:
    token = ids.sealed()
    rt.store.insert("mfa_tokens", digest=ids.digest(token), user_id=user_id, client_id=client_id,
                    audience=audience, scope=scope,
                    expires_at=rt.clock.now() + protocol.MFA_TOKEN_LIFETIME, used=0)
    return token


def _stored_token(rt: Runtime, value: str) -> dict | None:
    return rt.store.one("mfa_tokens", digest=ids.digest(value)) if value.startswith("Fe26.") else None


def _from_row(row: dict) -> MfaContext:
    return MfaContext(row["user_id"], row["client_id"], row["audience"], row["scope"] or "",
                      "mfa_token", row["digest"])


def _claims(rt: Runtime, value: str) -> dict | str | None:
    """Claims of a JWT this emulator signed, issued by one of the tenant's domains, for a user it
    knows; "expired"; or None."""
    try:
        claims = rt.signer.verify(value, rt.clock.now())
    except jwt.ExpiredSignatureError:
        return "expired"
    except jwt.InvalidTokenError:
        return None
    if claims.get("iss") not in rt.tenant.issuers:
        return None
    return claims if users.by_id(rt, str(claims.get("sub"))) else None


def _audiences(claims: dict) -> list[str]:
    aud = claims.get("aud")
    return aud if isinstance(aud, list) else [aud]


def _from_claims(claims: dict) -> MfaContext:
    scope = str(claims.get("scope") or "")
    return MfaContext(claims["sub"], claims.get("azp"), claims["aud"] if isinstance(claims["aud"], str)
                      else claims["aud"][0], scope, "access_token", f"jwt:{claims.get('jti')}",
                      frozenset(scope.split()))


def grant_context(rt: Runtime, value: str | None, client_id: str | None) -> MfaContext:
    """The `mfa_token` field of the MFA grants and /mfa/challenge."""
    if value is None:
        raise ApiError("missing_parameter", name="mfa_token")
    row = _stored_token(rt, value)
    if row:
        if row["used"]:
            raise ApiError("mfa_token_reused")
        if row["expires_at"] <= rt.clock.now():
            raise ApiError("expired_mfa_token")
        if client_id and row["client_id"] != client_id:
            raise ApiError("malformed_mfa_token")
        return _from_row(row)
    claims = _claims(rt, value)
    if claims is None:
        raise ApiError("malformed_mfa_token")
    if claims == "expired":
        raise ApiError("expired_mfa_token")
    if rt.tenant.mfa_audience not in _audiences(claims):
        raise ApiError("invalid_audience")
    return _from_claims(claims)


def bearer_audiences(rt: Runtime) -> set[str]:
    """Audiences whose access tokens /mfa/associate and /mfa/authenticators take: the MFA API's,
    and an API the tenant created as https://CUSTOM_DOMAIN/mfa(/). The seeds' thread, as told: "All
    MFA API calls also work on custom domains, even with an API audience of {{custom_domain}}/mfa/
    ... except for the /oauth/token endpoint" (where grant_context answers `invalid audience`)."""
    found = {rt.tenant.mfa_audience}
    if rt.tenant.custom_domain:
        lookalike = protocol.mfa_audience(rt.tenant.custom_domain)
        found |= {name for name in (lookalike, lookalike.rstrip("/")) if rt.tenant.api(name)}
    return found


def bearer_context(rt: Runtime, call: Call, scope: str) -> MfaContext:
    """The bearer of /mfa/associate and /mfa/authenticators: an mfa_token or an access token with
    `scope` for one of the bearer_audiences."""
    value = call.bearer()
    if value is None:
        raise ApiError("invalid_token")
    row = _stored_token(rt, value)
    if row:
        if row["used"] or row["expires_at"] <= rt.clock.now():
            raise ApiError("invalid_token")
        return _from_row(row)
    claims = _claims(rt, value)
    if not isinstance(claims, dict) or not bearer_audiences(rt) & set(_audiences(claims)):
        raise ApiError("invalid_token")
    ctx = _from_claims(claims)
    if scope not in ctx.scopes:
        raise ApiError("insufficient_scope", scope=scope)
    return ctx


# --- authenticators ----------------------------------------------------------------------------

def _authenticators(rt: Runtime, user_id: str, **where) -> list[dict]:
    return rt.store.rows("authenticators", order="created_at, rowid", user_id=user_id, **where)


def active_factors(rt: Runtime, user_id: str) -> list[dict]:
    """Active factors a user can be challenged with (the recovery code is not one)."""
    return [a for a in _authenticators(rt, user_id, active=1) if a["kind"] != "recovery-code"]


def mfa_requirements(rt: Runtime, user_id: str) -> dict | None:
    """`challenge` from the user's active factors, then `recovery-code` when the tenant enables
    recovery codes and the user holds one; or `enroll` from the tenant's factors when they have none,
    never `email` ("can only work with challenge"). Both as seed 001's Customize MFA example [docs]."""
    if not rt.tenant.customizable:
        return None
    active = active_factors(rt, user_id)
    if active:
        kinds = [a["kind"] for a in active]
        if "recovery-code" in rt.tenant.factors and _authenticators(rt, user_id, kind="recovery-code", active=1):
            kinds.append("recovery-code")
        return {"challenge": [{"type": t} for t in dict.fromkeys(REQUIREMENT[k] for k in kinds)]}
    enabled = [k for k, name in TENANT_FACTOR.items()
               if name in rt.tenant.factors and k not in ("recovery-code", "email")]
    return {"enroll": [{"type": t} for t in dict.fromkeys(REQUIREMENT[k] for k in enabled)]}


def _issue_recovery_code(rt: Runtime, user_id: str) -> str | None:
    """A first enrollment (no active recovery code yet) gets one, replacing any unconfirmed one."""
    if "recovery-code" not in rt.tenant.factors:
        return None
    if _authenticators(rt, user_id, kind="recovery-code", active=1):
        return None
    rt.store.delete("authenticators", user_id=user_id, kind="recovery-code")
    code = ids.recovery_code(protocol.RECOVERY_CODE_LENGTH)
    users.add_device(rt, user_id, "recovery-code", secret=code)
    return code


def _start_oob(rt: Runtime, ctx: MfaContext, authenticator: dict, username: str) -> tuple[dict, str | None]:
    """Send a code (sms/voice/email) or a push request to the outbox; the client gets an oob_code."""
    push = authenticator["kind"] == "auth0"
    code, binding = ids.sealed(), None if push else ids.binding_code()
    tx = ids.opaque(24) if push else None
    rt.store.insert("oob_codes", digest=ids.digest(code), context=ctx.key, user_id=ctx.user_id,
                    authenticator_id=authenticator["id"],
                    binding_code=ids.digest(binding) if binding else None, tx=tx, state="pending",
                    expires_at=rt.clock.now() + protocol.OOB_CODE_LIFETIME)
    outbox.send(rt, authenticator["kind"], authenticator["target"] or username, username,
                binding_code=binding, transaction=tx)
    answer = {"oob_code": code}
    if not push:
        answer["binding_method"] = "prompt"
    return answer, tx


def _label(rt: Runtime, username: str) -> str:
    return f"{quote(rt.tenant.name, safe='')}:{quote(username, safe='')}"


def _listed(call: Call, name: str, allowed: Collection[str], error: str) -> list[str]:
    """A list field of known words (authenticator_types, oob_channels): missing or with an unknown
    word (the classic "opt") is Auth0's 400, never a 500."""
    words = call.words(name)
    if not words:
        raise ApiError("missing_parameter", name=name)
    bad = [word for word in words if word not in allowed]
    if bad:
        raise ApiError(error, value=", ".join(bad))
    return words


def associate(rt: Runtime, call: Call) -> dict:
    ctx = bearer_context(rt, call, protocol.SCOPE_ENROLL)
    types = _listed(call, "authenticator_types", protocol.AUTHENTICATOR_TYPES, "invalid_authenticator_type")
    kind = "otp"
    if types[0] == "oob":
        kind = _listed(call, "oob_channels", protocol.OOB_CHANNELS, "invalid_oob_channel")[0]
    if TENANT_FACTOR[kind] not in rt.tenant.factors:
        raise ApiError("factor_not_enabled", factor=TENANT_FACTOR[kind])
    target = _target(call, kind)
    if ctx.kind == "mfa_token" and active_factors(rt, ctx.user_id):
        raise ApiError("already_enrolled")
    if len(_authenticators(rt, ctx.user_id)) >= protocol.MAX_AUTHENTICATORS:
        raise ApiError("too_many_authenticators")
    username = users.by_id(rt, ctx.user_id)["username"]
    answer: dict = {"authenticator_type": "otp" if kind == "otp" else "oob"}
    if kind == "otp":
        secret = pyotp.random_base32(32)
        users.add_device(rt, ctx.user_id, "otp", secret=secret)
        issuer = quote(rt.tenant.name, safe="")
        answer["secret"] = secret
        answer["barcode_uri"] = (f"otpauth://totp/{_label(rt, username)}?secret={secret}&issuer={issuer}"
                                 f"&algorithm=SHA1&digits=6&period={TOTP_PERIOD}")
    else:
        authenticator = users.add_device(rt, ctx.user_id, kind, target=target)
        oob, tx = _start_oob(rt, ctx, authenticator, username)
        answer["oob_channel"] = kind
        answer.update(oob)
        if tx:
            base = quote(f"https://{rt.tenant.domain}.guardian.us.auth0.com", safe="")
            answer["barcode_uri"] = f"otpauth://totp/{_label(rt, username)}?enrollment_tx_id={tx}&base_url={base}"
    code = _issue_recovery_code(rt, ctx.user_id)
    if code:
        answer["recovery_codes"] = [code]
    return answer


def _target(call: Call, kind: str) -> str | None:
    if kind in ("sms", "voice"):
        phone = call.text("phone_number", required=True).replace(" ", "")
        if not _PHONE.match(phone):
            raise ApiError("invalid_phone_number")
        return phone
    if kind == "email":
        email = call.text("email", required=True).strip()
        if not _EMAIL.match(email):
            raise ApiError("invalid_email")
        return email
    return None


def challenge(rt: Runtime, call: Call, client_id: str) -> dict:
    ctx = grant_context(rt, call.text("mfa_token"), client_id)
    types = call.words("challenge_type")
    if not types:
        raise ApiError("missing_parameter", name="challenge_type")
    bad = [t for t in types if t not in protocol.CHALLENGE_TYPES]
    if bad:
        raise ApiError("invalid_challenge_type", value=", ".join(bad))
    chosen = _choose(active_factors(rt, ctx.user_id), types, call.text("authenticator_id"))
    if chosen["kind"] == "otp":
        return {"challenge_type": "otp"}
    username = users.by_id(rt, ctx.user_id)["username"]
    oob, _ = _start_oob(rt, ctx, chosen, username)
    return {"challenge_type": "oob", **oob}


def _challenge_type(a: dict) -> str:
    return "otp" if a["kind"] == "otp" else "oob"


def _choose(active: list[dict], types: list[str], authenticator_id: str | None) -> dict:
    """The named authenticator (one of the user's active factors, of a requested type), or without
    a name the first active factor of the first requested type the user has."""
    if authenticator_id:
        named = next((a for a in active if a["id"] == authenticator_id), None)
        if named is None:   # unknown, deleted, unconfirmed or another user's: never a stand-in
            raise ApiError("unknown_authenticator")
        if _challenge_type(named) not in types:
            raise ApiError("unsupported_challenge_type", types=", ".join(types))
        return named
    for wanted in types:
        for a in active:
            if _challenge_type(a) == wanted:
                return a
    raise ApiError("unsupported_challenge_type", types=", ".join(types))


def _view(a: dict) -> dict:
    view: dict = {"id": a["id"], "authenticator_type": "otp" if a["kind"] == "otp" else
                  "recovery-code" if a["kind"] == "recovery-code" else "oob",
                  "active": bool(a["active"])}
    if a["kind"] in OOB_KINDS:
        view["oob_channel"] = a["kind"]
        if a["target"]:
            view["name"] = mask(a["kind"], a["target"])
    view["type"] = REQUIREMENT[a["kind"]]   # newer tenants add it; 2024 recordings lack it
    return view


def mask(kind: str, target: str) -> str:
    """Phones keep their last 4 digits; emails keep the local part's head (all but 6 characters) and
    the domain's first 4 characters, as in the recordings."""
    if kind == "email":
        local, _, domain = target.partition("@")
        keep = max(0, len(local) - 6)
        return f"{local[:keep]}{'*' * (len(local) - keep)}@{domain[:4]}{'*' * max(0, len(domain) - 4)}"
    return "X" * max(0, len(target) - 4) + target[-4:]


def list_authenticators(rt: Runtime, call: Call) -> list[dict]:
    ctx = bearer_context(rt, call, protocol.SCOPE_READ)
    return [_view(a) for a in _authenticators(rt, ctx.user_id)]


def delete_authenticator(rt: Runtime, call: Call) -> Response:
    """Only an access token for the MFA API with remove:authenticators deletes (from completing MFA
    or from a /mfa/-audience login): an mfa_token proves the password alone, and with it anyone
    could remove the only factor, enroll their own and finish MFA."""
    ctx = bearer_context(rt, call, protocol.SCOPE_REMOVE)
    if ctx.kind == "mfa_token":
        raise ApiError("delete_needs_access_token")
    if not remove_device(rt, ctx.user_id, call.path_params["authenticator_id"]):
        raise ApiError("authenticator_not_found")
    if not active_factors(rt, ctx.user_id):
        rt.store.delete("authenticators", user_id=ctx.user_id, kind="recovery-code")
    return Response(status_code=204)


def remove_device(rt: Runtime, user_id: str, authenticator_id: str) -> int:
    """Delete an authenticator and its companions (sms with voice, push with its otp) [docs:
    "If you delete any of them, the other one will be also deleted"]; how many rows went."""
    if not rt.store.one("authenticators", id=authenticator_id, user_id=user_id):
        return 0
    return sum(rt.store.delete("authenticators", id=a["id"], user_id=user_id)
               for a in users.device_rows(rt, user_id, authenticator_id))


# --- code checks behind the MFA grants ---------------------------------------------------------

def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _guard(rt: Runtime, what: str, user_id: str) -> None:
    if not rt.buckets.peek(f"fail:{what}:{user_id}", protocol.OTP_FAILURES_BUCKET,
                           protocol.OTP_FAILURE_REFILL).allowed:
        raise ApiError("too_many_attempts")


def _fail(rt: Runtime, what: str, user_id: str, error: str) -> ApiError:
    rt.buckets.take(f"fail:{what}:{user_id}", protocol.OTP_FAILURES_BUCKET, protocol.OTP_FAILURE_REFILL)
    return ApiError(error)


def verify_otp(rt: Runtime, ctx: MfaContext, otp: str) -> dict:
    """A TOTP code (±1 step, real clock) for an active otp factor or the newest pending enrollment;
    a time step once accepted is never accepted again for that authenticator."""
    _guard(rt, "otp", ctx.user_id)
    candidates = [a for a in active_factors(rt, ctx.user_id) if a["kind"] == "otp"]
    pending = _authenticators(rt, ctx.user_id, kind="otp", active=0)
    candidates += pending[-1:]
    if not candidates:
        raise ApiError("unsupported_challenge_type", types="otp")
    step = int(time.time() // TOTP_PERIOD)
    for a in candidates:
        totp = pyotp.TOTP(a["secret"])
        for s in (step - 1, step, step + 1):
            if _same(totp.at(s * TOTP_PERIOD), otp.strip()):
                if s <= (a["last_step"] or 0):
                    raise _fail(rt, "otp", ctx.user_id, "otp_reused")
                rt.store.update("authenticators", {"id": a["id"]}, last_step=s)
                return a
    raise _fail(rt, "otp", ctx.user_id, "invalid_otp")


def verify_oob(rt: Runtime, ctx: MfaContext, oob_code: str, binding_code: str | None) -> dict:
    """The mfa-oob exchange: polled at most 12 times a minute per mfa_token (a token bucket of 12,
    one poll back every 5 s); push waits for approval, sms/voice/email for the binding code."""
    per_poll = 60 / protocol.OOB_POLLS_PER_MINUTE
    if not rt.buckets.take(f"poll:{ctx.key}", protocol.OOB_POLLS_PER_MINUTE, per_poll).allowed:
        raise ApiError("slow_down")
    row = rt.store.one("oob_codes", digest=ids.digest(oob_code))
    if not row or row["context"] != ctx.key or row["state"] == "used":
        raise ApiError("invalid_oob_code")
    if row["expires_at"] <= rt.clock.now():
        raise ApiError("expired_oob_code")
    authenticator = rt.store.one("authenticators", id=row["authenticator_id"])
    if authenticator is None:
        raise ApiError("invalid_oob_code")
    if authenticator["kind"] == "auth0":
        if row["state"] == "rejected":
            raise ApiError("push_rejected")
        if row["state"] != "approved":
            raise ApiError("authorization_pending")
    else:
        if binding_code is None:
            raise ApiError("authorization_pending")
        _guard(rt, "oob", ctx.user_id)
        if not _same(ids.digest(binding_code.strip()), row["binding_code"]):
            raise _fail(rt, "oob", ctx.user_id, "invalid_binding_code")
    rt.store.update("oob_codes", {"digest": row["digest"]}, state="used")
    return authenticator


def verify_recovery_code(rt: Runtime, ctx: MfaContext, code: str) -> tuple[dict, str]:
    """A recovery code works once: the answer carries its replacement."""
    _guard(rt, "recovery", ctx.user_id)
    rows = _authenticators(rt, ctx.user_id, kind="recovery-code", active=1)
    given = code.replace(" ", "").replace("-", "").upper()
    if not rows or not _same(given, rows[0]["secret"]):
        raise _fail(rt, "recovery", ctx.user_id, "invalid_recovery_code")
    fresh = ids.recovery_code(protocol.RECOVERY_CODE_LENGTH)
    rt.store.update("authenticators", {"id": rows[0]["id"]}, secret=fresh)
    return rows[0], fresh


def complete(rt: Runtime, ctx: MfaContext, authenticator: dict) -> None:
    """After a successful MFA grant: the factor (and the recovery code) become active, and an
    mfa_token is spent."""
    if not authenticator["active"]:   # the device with its companions, and the recovery code
        for a in users.device_rows(rt, ctx.user_id, authenticator["id"]):
            rt.store.update("authenticators", {"id": a["id"]}, active=1)
        rt.store.update("authenticators", {"user_id": ctx.user_id, "kind": "recovery-code"}, active=1)
    if ctx.kind == "mfa_token":
        rt.store.update("mfa_tokens", {"digest": ctx.key}, used=1)


def push_decision(rt: Runtime, transaction: str, state: str) -> dict:
    """/emulator/push/{transaction}/approve|reject: the user's answer on their phone."""
    if not rt.store.update("oob_codes", {"tx": transaction, "state": "pending"}, state=state):
        raise ApiError("emulator_unknown_transaction", transaction=transaction)
    return {"transaction": transaction, "state": state}
