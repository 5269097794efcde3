"""A local Auth0 MFA API emulator: `with Emulator() as emu: emu.url`.

Runs a real HTTP server (FastAPI on uvicorn) in a background thread on a free port, with state in
SQLite (":memory:" by default for tests; a file keeps enrollments across restarts).
"""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn

from .app import build_app
from .clock import Clock
from .limits import Buckets
from .runtime import Runtime
from .signing import Signer
from .store import Store
from .tenant import Tenant, TenantError, load_tenant
from . import users

__all__ = ["Emulator", "Tenant", "TenantError", "load_tenant"]


class Emulator:
    """Start with `with Emulator(...) as emu:` or `emu = Emulator(...).start(); ...; emu.stop()`."""

    def __init__(self, tenant: str | Path | None = None, db: str | Path = ":memory:", port: int = 0,
                 host: str = "127.0.0.1"):
        self.tenant: Tenant = load_tenant(tenant)
        self.db, self.host, self.port = str(db), host, port
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._store: Store | None = None
        self._listener: socket.socket | None = None

    def start(self, timeout: float = 15.0) -> "Emulator":
        listener = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self.port))   # bound here: a busy port fails in the caller
        except OSError as exc:
            listener.close()
            raise RuntimeError(f"the emulator could not listen on {self.host}:{self.port} "
                               f"({exc.strerror}; is the port in use? try another --port, or 0)") from None
        store = Store(self.db)
        clock = Clock()
        runtime = Runtime(self.tenant, store, clock, Signer(store), Buckets(clock))
        users.seed(runtime)
        config = uvicorn.Config(build_app(runtime), log_level="warning", access_log=False, lifespan="off")
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
                raise RuntimeError(f"the emulator did not start on {self.host}:{self.port} within {timeout} s")
            time.sleep(0.01)
        self.port = listener.getsockname()[1]
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{shown}:{self.port}"
        self._server, self._thread, self._store = server, thread, store
        self._listener = listener
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._listener.close()
            self._store.close()
            self._server = self._thread = self._store = self._listener = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
