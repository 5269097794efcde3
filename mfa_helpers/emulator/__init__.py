"""A local Auth0 MFA API emulator: `with Emulator() as emu: emu.url`.

Runs a real HTTP server (Starlette on uvicorn) in a background thread on a free port, with state in
SQLite (":memory:" by default for tests; a file keeps enrollments across restarts).

`Emulator(rehearse_tenant=True)` stands in for a real tenant instead: HTTPS with a fresh self-signed
certificate, canonical domain `127.0.0.1:PORT` and custom domain `localhost:PORT`, so the kit's
tenant code path (AUTH0_DOMAIN set, TLS verified) runs against it; `tenant_environment()` gives the
variables that point a client at it.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from mfa_helpers import protocol

from .clock import Clock
from .limits import Buckets
from .store import StateInUse, Store, persistent
from .tenant import Tenant, TenantError, load_tenant

if TYPE_CHECKING:
    import uvicorn

__all__ = ["Emulator", "StateFileError", "StateInUse", "Tenant", "TenantError", "load_tenant"]


class StateFileError(RuntimeError):
    """The SQLite state file (`db`) cannot be used: which file, why, and the fix. The file is never
    replaced or removed: it may hold enrollments someone wants."""

    def __init__(self, path: str, problem: str):
        self.path, self.problem = path, problem
        self.fix = "pass --db a new file name (or :memory:), or move this file away"
        super().__init__(f"state file {path}: {problem}; fix: {self.fix}")


class Emulator:
    """Start with `with Emulator(...) as emu:` or `emu = Emulator(...).start(); ...; emu.stop()`.

    With `rehearse_tenant=True` it serves HTTPS as a tenant would: once started, `tenant.domain` is
    `127.0.0.1:PORT`, `tenant.custom_domain` is `localhost:PORT`, `url` is `https://127.0.0.1:PORT`,
    `ca_bundle` is the certificate file to trust, and `tenant_environment()` gives the AUTH0_* and
    REQUESTS_CA_BUNDLE variables of a tenant run. The certificate is removed on stop.
    """

    def __init__(self, tenant: str | Path | None = None, db: str | Path = ":memory:", port: int = 0,
                 host: str = "127.0.0.1", rehearse_tenant: bool = False):
        self.tenant: Tenant = load_tenant(tenant)
        self.db, self.host, self.port = str(db), host, port
        self.rehearse_tenant = rehearse_tenant
        self.url = ""
        self.ca_bundle: str | None = None   # the certificate to trust, in a rehearsal
        self._cert_dir: str | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._store: Store | None = None
        self._listener: socket.socket | None = None

    def start(self, timeout: float = 15.0) -> "Emulator":
        # The server stack is imported here, not above: a notebook imports this package for
        # EmulatorControl alone, and Starlette, uvicorn and PyJWT would double its kernel's start-up.
        from .signing import Signer, generate_process_key
        if not persistent(self.db):
            generate_process_key()   # on a thread, while the rest is imported
        import uvicorn

        from . import users
        from .app import build_app
        from .runtime import Runtime
        from .tls import write_self_signed

        if self.rehearse_tenant and self.host not in REHEARSAL_HOSTS:
            raise RuntimeError(f"a tenant rehearsal serves the domains 127.0.0.1:PORT and localhost:PORT, "
                               f"which {self.host} does not answer: listen on 127.0.0.1 (the default) "
                               "or 0.0.0.0")
        # IPPROTO_TCP named: asyncio turns Nagle's algorithm off only on sockets that say they are
        # TCP; left at 0, every answer on a kept-alive connection waited ~40 ms for a delayed ACK.
        listener = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM,
                                 socket.IPPROTO_TCP)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self.port))   # bound here: a busy port fails in the caller
        except OSError as exc:
            listener.close()
            raise RuntimeError(f"the emulator could not listen on {self.host}:{self.port} "
                               f"({exc.strerror}; is the port in use? try another --port, or 0)") from None
        port = listener.getsockname()[1]
        tls: dict[str, str] = {}
        if self.rehearse_tenant:   # the domains name the port, so they are known only now
            self.tenant = rehearsal_tenant(self.tenant, port)
            self._cert_dir = tempfile.mkdtemp(prefix="mfa-kit-rehearsal-")
            cert, key = write_self_signed(self._cert_dir)
            tls = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
        scheme, shown = ("https", "127.0.0.1") if self.rehearse_tenant else (
            "http", f"[{self.host}]" if ":" in self.host else self.host)
        url = f"{scheme}://{shown}:{port}"
        try:
            store = open_state(self.db, owner=f"pid {os.getpid()}, {url}")
        except (StateInUse, StateFileError):
            listener.close()
            self._remove_certificate()
            raise
        clock = Clock(store)
        runtime = Runtime(self.tenant, store, clock, Signer(store), Buckets(clock, store))
        users.seed(runtime)
        config = uvicorn.Config(build_app(runtime), log_level="warning", access_log=False, lifespan="off",
                                **tls)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]},
                                  name="mfa-kit-emulator", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(timeout=5)
                listener.close()
                store.close()
                self._remove_certificate()
                raise RuntimeError(f"the emulator did not start on {self.host}:{self.port} within {timeout} s")
            time.sleep(0.01)
        self.port, self.url = port, url
        if self.rehearse_tenant:
            self.ca_bundle = tls["ssl_certfile"]
        self._server, self._thread, self._store = server, thread, store
        self._listener = listener
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=STOP_GRACE)
            if self._thread.is_alive():
                # Idle keep-alive connections close at once over http; over TLS each waits for the
                # client's close_notify (asyncio: up to 30 s), which an idle client never sends.
                self._server.force_exit = True
                self._thread.join(timeout=10)
            self._listener.close()
            self._store.close()
            self._server = self._thread = self._store = self._listener = None
        self._remove_certificate()

    def tenant_environment(self) -> dict[str, str]:
        """The environment of a run against this rehearsal as against a real tenant: AUTH0_DOMAIN,
        AUTH0_CUSTOM_DOMAIN, the first confidential client with the MFA grants, the first user
        (who has no factor on a fresh database), and the certificate to trust: REQUESTS_CA_BUNDLE
        (Python's requests) and NODE_EXTRA_CA_CERTS (node, read when it starts)."""
        if not (self.rehearse_tenant and self.ca_bundle):
            raise RuntimeError("tenant_environment() needs a started Emulator(rehearse_tenant=True)")
        t = self.tenant
        client = next((c for c in t.clients
                       if c.client_secret and set(protocol.MFA_GRANTS) <= set(c.grant_types)), None)
        if client is None:
            raise RuntimeError(f"the tenant file {t.source} has no confidential client with the MFA grants "
                               f"({', '.join(protocol.MFA_GRANTS)})")
        user = t.users[0]
        env = {"AUTH0_DOMAIN": t.domain, "AUTH0_CUSTOM_DOMAIN": t.custom_domain,
               "AUTH0_CLIENT_ID": client.client_id, "AUTH0_CLIENT_SECRET": client.client_secret,
               "AUTH0_USERNAME": user.username, "AUTH0_PASSWORD": user.password,
               "REQUESTS_CA_BUNDLE": self.ca_bundle, "NODE_EXTRA_CA_CERTS": self.ca_bundle}
        return {name: value for name, value in env.items() if value}

    def _remove_certificate(self) -> None:
        if self._cert_dir is not None:
            shutil.rmtree(self._cert_dir, ignore_errors=True)
            self._cert_dir = self.ca_bundle = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def open_state(db: str, owner: str) -> Store:
    """The state store, or a StateFileError saying why `db` is not one (a directory, under a file,
    not SQLite, read-only); StateInUse when another emulator holds it."""
    try:
        return Store(db, owner=owner)
    except (sqlite3.Error, OSError) as exc:
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        blocker = next((p for p in Path(db).parents if p.exists()), None)
        if Path(db).is_dir():
            problem = "it is a folder"
        elif blocker is not None and not blocker.is_dir():
            problem = f"it is under {blocker}, which is a file"
        elif isinstance(exc, sqlite3.DatabaseError):
            problem = f"not an SQLite state file ({exc})"
        raise StateFileError(db, problem) from None


STOP_GRACE = 1.0   # seconds for requests in flight to finish before open connections are dropped
REHEARSAL_HOSTS = ("127.0.0.1", "0.0.0.0")   # listen addresses that 127.0.0.1 and localhost reach


def rehearsal_tenant(tenant: Tenant, port: int) -> Tenant:
    """`tenant` as a rehearsal serves it: canonical domain 127.0.0.1:PORT, custom domain
    localhost:PORT, and API identifiers under the file's domains moved to the new ones (so the demo's
    pitfall API, https://CUSTOM_DOMAIN/mfa, stays a pitfall)."""
    domain, custom = f"127.0.0.1:{port}", f"localhost:{port}"
    moves = [(f"https://{old}", f"https://{new}") for old, new in
             ((tenant.custom_domain, custom), (tenant.domain, domain)) if old]

    def moved(identifier: str) -> str:
        for old, new in moves:
            if identifier == old or identifier.startswith(f"{old}/"):
                return new + identifier[len(old):]
        return identifier

    apis = tuple(dataclasses.replace(api, identifier=moved(api.identifier)) for api in tenant.apis)
    return dataclasses.replace(tenant, domain=domain, custom_domain=custom, apis=apis)
