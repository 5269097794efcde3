"""Users: seeded from the tenant file, created on demand (one fresh user per notebook or test run)."""
from __future__ import annotations

import secrets

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
        secret = factor.secret or factor.code
        target = factor.phone_number or factor.email
        rt.store.insert("authenticators", id=ids.authenticator_id(protocol.ID_PREFIXES[factor.type]),
                        user_id=uid, kind=factor.type, active=1, secret=secret, target=target,
                        last_step=0, created_at=rt.clock.now())


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
