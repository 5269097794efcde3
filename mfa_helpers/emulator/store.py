"""SQLite state: users, authenticators, tokens, codes, lockout counters, the clock and the outbox.

One connection guarded by a lock, shared by the server's threads, so ":memory:" works for tests and a
file keeps enrollments across restarts. Secrets a client presents (mfa_token, oob_code, refresh
token, authorization code) are stored as SHA-256 digests, never in the clear.

A state file belongs to one emulator at a time: the connection holds SQLite's exclusive lock for
its whole life, so a second process (`make emulator` and `make lab --port ...` on the same file)
is refused instead of sharing single-use codes and lockout counters with the first. The lock dies
with the process, even a SIGKILLed one; `FILE.owner` names the holder for the refusal.
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
CREATE TABLE IF NOT EXISTS buckets (key TEXT PRIMARY KEY, tokens REAL, at REAL);
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT, to_addr TEXT,
    username TEXT, binding_code TEXT, tx TEXT, text TEXT, sent_at REAL);
"""


class StateInUse(RuntimeError):
    """Another emulator holds the state file. `owner` is what it wrote about itself (pid, URL)."""

    def __init__(self, path: str, owner: str):
        self.path, self.owner = path, owner
        self.problem = f"the state file {path} is in use by another emulator ({owner})"
        self.fix = ("use that emulator (its URL above), stop it first, or give this one its own state "
                    "with --db OTHER_FILE or --db :memory:")
        super().__init__(f"{self.problem}; {self.fix}")


def persistent(path: str | Path) -> bool:
    """True when a store at `path` outlives its process (a file, not ":memory:")."""
    return str(path) != ":memory:"


class Store:
    """Tiny row helpers over fixed tables; table and column names only ever come from this code.

    `owner` (e.g. "pid 123, http://127.0.0.1:8787") is written next to a state file for a second
    emulator's refusal to name."""

    def __init__(self, path: str | Path = ":memory:", owner: str = ""):
        self.persistent = persistent(path)
        if self.persistent:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # timeout=0: a state file in use is refused at once, not after SQLite's busy wait
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=0)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0   # nesting of transaction()
        with self._lock:
            if self.persistent:
                self._claim(Path(path), owner)
            self._db.executescript(SCHEMA)
            if self.persistent:
                self._add_missing_columns()

    def _claim(self, path: Path, owner: str) -> None:
        """Take the file's exclusive lock for this connection's life, or raise StateInUse."""
        note = path.with_name(path.name + ".owner")
        try:
            self._db.execute("PRAGMA locking_mode = EXCLUSIVE")
            self._db.execute("BEGIN EXCLUSIVE")   # in EXCLUSIVE mode the lock outlives the COMMIT
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self._db.close()
            if "locked" not in str(exc):
                raise
            try:
                holder = note.read_text(encoding="utf-8").strip()
            except OSError:
                holder = "its pid and URL unknown"
            raise StateInUse(str(path), holder or "its pid and URL unknown") from None
        note.write_text(owner + "\n", encoding="utf-8")

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
    def transaction(self, keep: type[BaseException] | tuple[type[BaseException], ...] = ()) -> Iterator[None]:
        """Every write inside commits together or not at all: a crash (even SIGKILL) half-way leaves
        none of them. An exception of a `keep` type is an answer, not a failure: what was written
        before it (a wrong-code count) commits. Nested calls join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except keep:
                self._db.execute("COMMIT")
                raise
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

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
