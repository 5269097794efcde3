"""Run the local Auth0 MFA API emulator in the foreground until Ctrl-C (SIGINT) or SIGTERM.

State is kept in a SQLite file (default .mfa-kit/emulator.sqlite3 under the current directory), so
enrollments survive a restart; `--db :memory:` forgets everything on exit.

`--rehearse-tenant` serves HTTPS as a real tenant would (a self-signed certificate made for this run,
domains 127.0.0.1:PORT and localhost:PORT) and prints the `export` lines that point the kit at it.
"""
from __future__ import annotations

import argparse
import ipaddress
import shlex
import signal
import socket
import sys
import threading

from . import Emulator, StateFileError, StateInUse
from .tenant import TenantError

DEFAULT_PORT = 8787
DEFAULT_DB = ".mfa-kit/emulator.sqlite3"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", type=listen_host, default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; any other is reachable from the network)")
    parser.add_argument("--port", type=port_number, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--tenant", default=None, help="tenant file (YAML/TOML; default: the bundled demo)")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default {DEFAULT_DB}; or :memory:)")
    parser.add_argument("--rehearse-tenant", action="store_true",
                        help="act as a real tenant: HTTPS with a self-signed certificate, domains "
                             "127.0.0.1:PORT and localhost:PORT; prints the environment of a tenant run")


def port_number(text: str) -> int:
    """A TCP port, 0 (a free one) to 65535."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port from 0 to 65535 (0 picks a free one)")
    return port


def listen_host(text: str) -> str:
    """An address this machine can listen on, by IP or by name."""
    try:
        socket.getaddrinfo(text, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise argparse.ArgumentTypeError(f"{text!r} is not an address of this machine (e.g. 127.0.0.1)") from None
    return text


def exposed(host: str) -> bool:
    """True when `host` listens beyond this machine (0.0.0.0, ::, a LAN address or name)."""
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() != "localhost"


def run(args: argparse.Namespace) -> int:
    try:
        emulator = Emulator(tenant=args.tenant, db=args.db, port=args.port, host=args.host,
                            rehearse_tenant=args.rehearse_tenant)
        emulator.start()
    except TenantError as exc:
        print(f"mfa-kit emulator: bad tenant file: {exc}", file=sys.stderr)
        return 2
    except StateFileError as exc:
        print(f"mfa-kit emulator: {exc}", file=sys.stderr)
        return 2
    except StateInUse as exc:   # a second emulator on one state file would share single-use codes
        print(f"mfa-kit emulator: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"mfa-kit emulator: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C while a large tenant file is read
        print("mfa-kit emulator: interrupted while starting", file=sys.stderr)
        return 130
    if exposed(args.host):
        print(f"mfa-kit emulator: warning: listening on {args.host}, so other machines can reach it and "
              "its demo credentials; use --host 127.0.0.1 unless that is what you want", file=sys.stderr)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(banner(emulator), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
        print("mfa-kit emulator: stopped", flush=True)
    return 0


def banner(emulator: Emulator) -> str:
    """What a learner needs to start: where it listens, which domains, the demo credentials."""
    t = emulator.tenant
    lines = [
        f"Auth0 MFA API emulator ({t.name}) listening on {emulator.url}",
        f"  canonical domain : {t.domain}  (any Host other than the custom domain)",
        f"  custom domain    : {t.custom_domain}  (https://{t.custom_domain})" if emulator.rehearse_tenant
        else f"  custom domain    : {t.custom_domain}  (send Host: {t.custom_domain})" if t.custom_domain
        else "  custom domain    : -",
        f"  MFA API audience : {t.mfa_audience}",
        f"  realm            : {t.connection}",
        f"  tenant file      : {t.source}",
        f"  state            : {emulator.db}",
        "  clients:",
    ]
    for c in t.clients:
        secret = c.client_secret or "(public client, no secret)"
        lines.append(f"    {c.client_id:<28} secret {secret}  [{c.name}]")
    lines.append("  users:")
    lines += [f"    {u.username:<28} password {u.password}" for u in t.users]
    lines.append(f"  discovery: {emulator.url}/.well-known/openid-configuration   "
                 f"API docs: {emulator.url}/docs")
    if emulator.rehearse_tenant:
        lines.append(f"  certificate      : {emulator.ca_bundle}  (self-signed, removed on exit)")
        try:
            exports = [f"export {name}={shlex.quote(value)}"
                       for name, value in emulator.tenant_environment().items()]
        except RuntimeError as exc:   # a tenant file without a client that can do MFA
            exports = [f"  no tenant environment: {exc}"]
        lines.append("Tenant rehearsal: paste these lines into a shell, then run "
                     "`mfa-kit verify --target tenant` or the notebooks as against a real tenant:")
        lines += exports
    lines.append("Stop with Ctrl-C.")
    return "\n".join(lines)
