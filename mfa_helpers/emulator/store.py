"""SQLite state: users, authenticators, tokens, codes and the outbox.

One connection guarded by a lock, shared by the server's threads, so ":memory:" works for tests and a
file keeps enrollments across restarts. Secrets a client presents (mfa_token, oob_code, refresh
token, authorization code) are stored as SHA-256 digests, never in the clear.
"""
from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS users (user_id TEXT PRIMARY KEY, username TEXT UNIQUE COLLATE NOCASE,
    password_hash TEXT, created_at REAL);
CREATE TABLE IF NOT EXISTS authenticators (id TEXT PRIMARY KEY, user_id TEXT, kind TEXT,
    active INTEGER, secret TEXT, target TEXT, last_step INTEGER, created_at REAL);
CREATE TABLE IF NOT EXISTS mfa_tokens (digest TEXT PRIMARY KEY, user_id TEXT, client_id TEXT,
    audience TEXT, scope TEXT, expires_at REAL, used INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS oob_codes (digest TEXT PRIMARY KEY, context TEXT, user_id TEXT,
    authenticator_id TEXT, binding_code TEXT, tx TEXT, state TEXT, expires_at REAL);
CREATE TABLE IF NOT EXISTS refresh_tokens (digest TEXT PRIMARY KEY, user_id TEXT, client_id TEXT,
    audience TEXT, scope TEXT, mfa INTEGER);
CREATE TABLE IF NOT EXISTS auth_codes (digest TEXT PRIMARY KEY, user_id TEXT, client_id TEXT,
    redirect_uri TEXT, challenge TEXT, audience TEXT, scope TEXT, nonce TEXT, mfa INTEGER,
    expires_at REAL, used INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS logins (id TEXT PRIMARY KEY, client_id TEXT, redirect_uri TEXT,
    state TEXT, challenge TEXT, audience TEXT, scope TEXT, nonce TEXT, expires_at REAL);
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT, to_addr TEXT,
    username TEXT, binding_code TEXT, tx TEXT, text TEXT, sent_at REAL);
"""


class Store:
    """Tiny row helpers over fixed tables; table and column names only ever come from this code."""

    def __init__(self, path: str | Path = ":memory:"):
        self.persistent = str(path) != ":memory:"
        if self.persistent:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._db.executescript(SCHEMA)
            if self.persistent:
                self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """A state file from an older emulator gains the columns added since (all nullable)."""
        fresh = sqlite3.connect(":memory:")
        fresh.executescript(SCHEMA)
        for (table,) in fresh.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            if table.startswith("sqlite_"):
                continue
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for _, column, kind, *_ in fresh.execute(f"PRAGMA table_info({table})"):
                if column not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        fresh.close()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Every write inside commits together, with one disk sync, or none does."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _run(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, args)

    def insert(self, table: str, **row: Any) -> int:
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        return self._run(f"INSERT OR REPLACE INTO {table} ({cols}) VALUES ({marks})",
                         tuple(row.values())).lastrowid

    def rows(self, table: str, order: str = "rowid", **where: Any) -> list[dict]:
        clause, args = _where(where)
        with self._lock:
            cur = self._db.execute(f"SELECT * FROM {table}{clause} ORDER BY {order}", args)
            return [dict(r) for r in cur.fetchall()]

    def one(self, table: str, **where: Any) -> dict | None:
        found = self.rows(table, **where)
        return found[0] if found else None

    def update(self, table: str, where: dict[str, Any], **values: Any) -> int:
        sets = ", ".join(f"{k} = ?" for k in values)
        clause, args = _where(where)
        return self._run(f"UPDATE {table} SET {sets}{clause}", tuple(values.values()) + args).rowcount

    def delete(self, table: str, **where: Any) -> int:
        clause, args = _where(where)
        return self._run(f"DELETE FROM {table}{clause}", args).rowcount

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.one("meta", key=key)
        return row["value"] if row else default


def _where(where: dict[str, Any]) -> tuple[str, tuple]:
    if not where:
        return "", ()
    return " WHERE " + " AND ".join(f"{k} = ?" for k in where), tuple(where.values())
