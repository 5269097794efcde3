"""How long the emulator takes to start with a large tenant file, against the bundled demo tenant.

Writes a tenant file of --users users (the demo's clients, one user in ten with a TOTP factor) into
a temporary folder and starts the emulator on it three times with a state file: the demo tenant (the
baseline), the large file on a fresh state file (every user inserted), and again on that state file
(the start a learner pays every time). Each start is the wall time of `Emulator(...).start()`:
reading and checking the tenant file, opening the state, seeding the users, serving.

    .venv/bin/python benchmarks/tenant_start.py [--users 20000] [--json PATH]

Measured with 20,000 users on a 2-core machine shared with other jobs (so slow that the demo tenant
took 0.65-1.1 s): before the seeding was batched, 671 s for the first start and 376 s for every later
one (628x and 352x the demo's start: an autocommitted write, with its disk sync, per user, on every
start, and a quadratic duplicate check); after, 6.8 s and 4.1 s (10.4x and 6.2x).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import fmt, machine, print_table, ratio, timed, write_json  # noqa: E402
from mfa_helpers.emulator import Emulator  # noqa: E402
from mfa_helpers.emulator.tenant import DEMO_TENANT  # noqa: E402

OTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def large_tenant(path: Path, users: int) -> Path:
    tenant = yaml.safe_load(DEMO_TENANT.read_text(encoding="utf-8"))
    tenant["users"] = [{"username": f"user{i:06d}@example.com", "password": f"pw-{i}",
                        **({"factors": [{"type": "otp", "secret": OTP_SECRET}]} if i % 10 == 0 else {})}
                       for i in range(users)]
    path.write_text(yaml.safe_dump(tenant, sort_keys=False), encoding="utf-8")
    return path


def start_seconds(tenant: Path | None, db: Path) -> float:
    with timed() as watch:
        emulator = Emulator(tenant=tenant, db=db).start(timeout=600)
    emulator.stop()
    return watch.seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000, help="users in the large tenant file (20000)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mfa-kit-bench-") as folder:
        work = Path(folder)
        tenant = large_tenant(work / "large.yaml", args.users)
        seconds = {
            "demo tenant (baseline)": start_seconds(None, work / "demo.sqlite3"),
            f"{args.users} users, first start": start_seconds(tenant, work / "large.sqlite3"),
            f"{args.users} users, next start": start_seconds(tenant, work / "large.sqlite3"),
        }
    base = next(iter(seconds.values()))
    figures = {name: {"seconds": round(s, 3), "ratio": ratio(s, base)} for name, s in seconds.items()}
    print_table(["emulator start", "seconds", "x baseline"],
                [[name, fmt(f["seconds"], 2), fmt(f["ratio"], 1, "x")] for name, f in figures.items()],
                title=f"Emulator start with a tenant file of {args.users} users")
    write_json(args.json, {"users": args.users, "starts": figures, "machine": machine(), "ok": True})
    return 0


if __name__ == "__main__":
    sys.exit(main())
