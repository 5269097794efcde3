"""Users: seeded from the tenant file, created on demand (one fresh user per notebook or test run),
and the devices (authenticators with their companions) they enroll."""
from __future__ import annotations

import secrets

import pyotp

from mfa_helpers import protocol

from . import ids
from .runtime import Runtime
from .tenant import User


def seed(rt: Runtime) -> None:
    """Insert the tenant's users on first start; their passwords always follow the tenant file.
    One read and one transaction for them all, writing only what changed: a 20,000-user tenant
    file took 21 s on every start as a query and a disk sync per user."""
    known = {row["username"].lower(): row for row in rt.store.rows("users")}
    with rt.store.transaction():
        for user in rt.tenant.users:
            row = known.get(user.username.lower())
            if row is None:
                _seed_factors(rt, _insert(rt, user.username, user.password), user)
            elif not ids.password_matches(user.password, row["password_hash"]):
                rt.store.update("users", {"user_id": row["user_id"]}, password_hash=ids.password_hash(user.password))


def _seed_factors(rt: Runtime, uid: str, user: User) -> None:
    for factor in user.factors:
        add_device(rt, uid, factor.type, secret=factor.secret or factor.code,
                   target=factor.phone_number or factor.email, active=True)


def add_device(rt: Runtime, user_id: str, kind: str, *, secret: str | None = None,
               target: str | None = None, active: bool = False) -> dict:
    """One enrollment: the authenticator of `kind` and its companions, sharing one device id
    (`sms|dev_X` and `voice|dev_X`; `push|dev_X` and `totp|dev_X`). A phone gets its other channel
    only when the tenant enables both; a push enrollment always gets its otp one [docs]. The
    companion otp's secret is the Guardian app's (never shown). Returns the `kind` row."""
    device = ids.device_id()
    companions = [c for c in protocol.COMPANIONS.get(kind, ()) if kind == "auth0" or c in rt.tenant.factors]
    guardian_otp = {"secret": pyotp.random_base32(32), "target": None}
    rows = [{"id": ids.authenticator_id(protocol.ID_PREFIXES[k], device), "user_id": user_id, "kind": k,
             "active": int(active), "secret": secret, "target": target, "last_step": 0,
             "created_at": rt.clock.now(), **(guardian_otp if kind == "auth0" and k == "otp" else {})}
            for k in (kind, *companions)]
    for row in rows:
        rt.store.insert("authenticators", **row)
    return rows[0]


def device_rows(rt: Runtime, user_id: str, authenticator_id: str) -> list[dict]:
    """The user's authenticators sharing `authenticator_id`'s device id (itself included)."""
    device = authenticator_id.partition("|")[2]
    return [a for a in rt.store.rows("authenticators", user_id=user_id)
            if device and a["id"].partition("|")[2] == device]


def _insert(rt: Runtime, username: str, password: str) -> str:
    uid = ids.user_id()
    rt.store.insert("users", user_id=uid, username=username, password_hash=ids.password_hash(password),
                    created_at=rt.clock.now())
    return uid


def create(rt: Runtime, username: str | None = None, password: str | None = None) -> dict[str, str]:
    """A fresh user with no factor; a generated username and password unless given."""
    username = username or f"user-{secrets.token_hex(4)}@example.com"
    password = password or f"Pw-{secrets.token_urlsafe(12)}"
    if find(rt, username):
        raise ValueError(f"user {username} already exists")
    _insert(rt, username, password)
    return {"username": username, "password": password}


def find(rt: Runtime, username: str) -> dict | None:
    return rt.store.one("users", username=username)


def by_id(rt: Runtime, user_id: str) -> dict | None:
    return rt.store.one("users", user_id=user_id)


def check_password(rt: Runtime, username: str, password: str) -> dict | None:
    row = find(rt, username)
    return row if row and ids.password_matches(password, row["password_hash"]) else None
