"""How much the emulator's MFA endpoints cost next to a static answer through the same server stack.

Starts the emulator in this process and drives it over real HTTP (requests.Session per thread) for
`--seconds` per measurement:

  baseline        GET /.well-known/jwks.json: a static answer through uvicorn, Starlette and the
                  emulator's route wrapper (rate-limit bucket included)
  password grant  POST /oauth/token grant_type=password, answered 403 mfa_required
  otp enrollment  one whole flow per iteration: fresh user, password grant, /mfa/associate (otp),
                  mfa-otp grant with a pyotp code (4 requests)

Figures are ratios against the baseline measured in the same run, because the absolute numbers
depend on the machine (and here the client threads share the interpreter with the server).

The demo tenant allows 600 requests a minute per endpoint and client address, which a load test
passes in about a second; by default the emulator gets a copy of the demo tenant with that limit
raised out of reach (the bucket is still checked on every request, so the work is the same).
`--keep-rate-limit` serves the demo tenant unchanged: 429s are then counted in their own column,
and as errors, never as successes.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import requests
import yaml

from mfa_helpers.emulator import Emulator
from mfa_helpers.emulator.tenant import DEMO_TENANT

from _common import fmt, machine, percentile, print_table, ratio, write_json

CLIENT = {"client_id": "mfa-kit-demo-app", "client_secret": "demo-app-secret-local-emulator-only"}
GRANT_MFA_OTP = "http://auth0.com/oauth/grant-type/mfa-otp"
TIMEOUT = 10.0
WARMUP = 3            # untimed iterations per thread before the clock starts (statuses still checked)
SAMPLES = 3           # distinct error messages kept per measurement
RELAXED_LIMIT = {"requests": 1_000_000_000, "per_seconds": 1}


class WrongAnswer(Exception):
    """A response whose status (or body) is not the one the step expects: an error, not a data point."""

    def __init__(self, what: str, response: requests.Response):
        self.status = response.status_code
        super().__init__(f"{what}: {response.status_code} {response.text[:160]}")


def expect(response: requests.Response, what: str, status: int, key: str | None = None,
           error: str | None = None) -> dict[str, Any]:
    """The JSON body when the status (and `key` / the `error` value) are the expected ones."""
    if response.status_code != status:
        raise WrongAnswer(what, response)
    try:
        body = response.json()
    except ValueError:
        raise WrongAnswer(f"{what} (not JSON)", response) from None
    if (key and key not in body) or (error and body.get("error") != error):
        raise WrongAnswer(f"{what} (unexpected body)", response)
    return body


# --- the three measurements: setup (untimed, per thread) and one timed iteration --------------------

def fresh_user(http: requests.Session, url: str) -> dict[str, str]:
    return expect(http.post(f"{url}/emulator/users", json={}, timeout=TIMEOUT),
                  "POST /emulator/users", 201, key="password")


def password_grant(http: requests.Session, url: str, user: dict[str, str]) -> str:
    """The mfa_token of a 403 mfa_required answer to the password grant."""
    response = http.post(f"{url}/oauth/token", timeout=TIMEOUT, data={
        **CLIENT, "grant_type": "password", "username": user["username"], "password": user["password"],
        "scope": "openid"})
    return expect(response, "password grant", 403, key="mfa_token", error="mfa_required")["mfa_token"]


def jwks(http: requests.Session, url: str, state: Any) -> None:
    expect(http.get(f"{url}/.well-known/jwks.json", timeout=TIMEOUT), "GET jwks.json", 200, key="keys")


def mfa_required(http: requests.Session, url: str, user: dict[str, str]) -> None:
    password_grant(http, url, user)


def otp_enrollment(http: requests.Session, url: str, state: Any) -> None:
    mfa_token = password_grant(http, url, fresh_user(http, url))
    enrolled = expect(http.post(f"{url}/mfa/associate", json={"authenticator_types": ["otp"]},
                                headers={"Authorization": f"Bearer {mfa_token}"}, timeout=TIMEOUT),
                      "POST /mfa/associate", 200, key="secret")
    response = http.post(f"{url}/oauth/token", timeout=TIMEOUT, data={
        **CLIENT, "grant_type": GRANT_MFA_OTP, "mfa_token": mfa_token,
        "otp": pyotp.TOTP(enrolled["secret"]).now()})
    expect(response, "mfa-otp grant", 200, key="access_token")


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    run: Callable[[requests.Session, str, Any], None]
    setup: Callable[[requests.Session, str], Any] = lambda http, url: None
    requests_per_iteration: int = 1


SCENARIOS = (
    Scenario("baseline", "baseline: GET /.well-known/jwks.json", jwks),
    Scenario("password_grant", "password grant -> 403 mfa_required", mfa_required, setup=fresh_user),
    Scenario("otp_enrollment", "OTP enrollment flow (4 requests)", otp_enrollment, requests_per_iteration=4),
)


# --- the load -------------------------------------------------------------------------------------

@dataclass
class Tally:
    """One thread's results, merged after the run (no locking in the hot loop)."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    rate_limited: int = 0
    samples: list[str] = field(default_factory=list)

    def attempt(self, step: Callable[[], None], record: bool) -> None:
        started = time.perf_counter()
        try:
            step()
        except Exception as exc:  # a wrong status, no answer, or a body the step cannot use
            self.errors += 1
            self.rate_limited += getattr(exc, "status", None) == 429
            if len(self.samples) < SAMPLES:
                self.samples.append(f"{type(exc).__name__}: {exc}")
            return
        if record:
            self.latencies.append(time.perf_counter() - started)


def measure(url: str, scenario: Scenario, threads: int, seconds: float) -> dict[str, Any]:
    """Run `scenario` on `threads` threads for `seconds` after a common start; one figure set."""
    tallies = [Tally() for _ in range(threads)]
    start = {"at": 0.0}
    # The clock starts when every thread has finished its setup and warm-up (the barrier's action).
    ready = threading.Barrier(threads + 1, action=lambda: start.update(at=time.perf_counter()))

    def work(tally: Tally) -> None:
        http = requests.Session()
        state, ok = None, True
        try:
            state = scenario.setup(http, url)
        except Exception as exc:
            ok = False
            tally.errors += 1
            tally.samples.append(f"setup: {type(exc).__name__}: {exc}")
        if ok:
            for _ in range(WARMUP):
                tally.attempt(lambda: scenario.run(http, url, state), record=False)
        ready.wait()
        deadline = start["at"] + seconds
        while ok and time.perf_counter() < deadline:
            tally.attempt(lambda: scenario.run(http, url, state), record=True)
        http.close()

    workers = [threading.Thread(target=work, args=(t,), name=f"load-{i}") for i, t in enumerate(tallies)]
    for worker in workers:
        worker.start()
    ready.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - start["at"]   # the last iteration may run past the deadline

    latencies = [lat for t in tallies for lat in t.latencies]
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    return {
        "label": scenario.label,
        "requests_per_iteration": scenario.requests_per_iteration,
        "count": len(latencies),
        "errors": sum(t.errors for t in tallies),
        "rate_limited": sum(t.rate_limited for t in tallies),
        "error_samples": [s for t in tallies for s in t.samples][:SAMPLES],
        "seconds": round(elapsed, 3),
        "per_second": round(len(latencies) / elapsed, 1) if elapsed else None,
        "p50_ms": None if p50 is None else round(p50 * 1000, 3),
        "p95_ms": None if p95 is None else round(p95 * 1000, 3),
    }


def add_ratios(measurements: dict[str, dict[str, Any]], baseline: str = "baseline") -> None:
    """Each measurement's cost as a multiple of the baseline's: latency ratios, and how many baseline
    iterations fit in the time of one of its own (baseline per_second / its per_second)."""
    base = measurements[baseline]
    for figures in measurements.values():
        figures["ratios"] = {
            "p50": ratio(figures["p50_ms"], base["p50_ms"]),
            "p95": ratio(figures["p95_ms"], base["p95_ms"]),
            "time_per_iteration": ratio(base["per_second"], figures["per_second"]),
        }


def relaxed_tenant(folder: Path) -> Path:
    """A copy of the demo tenant whose general rate limit a load test cannot reach."""
    data = yaml.safe_load(DEMO_TENANT.read_text(encoding="utf-8"))
    data["rate_limit"] = dict(RELAXED_LIMIT)
    path = folder / "bench_tenant.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="timed load per measurement (default: 5)")
    parser.add_argument("--threads", type=int, default=4, help="client threads, one Session each (default: 4)")
    parser.add_argument("--keep-rate-limit", action="store_true",
                        help="serve the demo tenant's own rate limit (600/min): expect 429s, counted as errors")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.seconds <= 0:
        parser.error("--threads must be 1 or more and --seconds more than 0")

    with tempfile.TemporaryDirectory(prefix="mfa-kit-bench-") as folder:
        tenant = DEMO_TENANT if args.keep_rate_limit else relaxed_tenant(Path(folder))
        with Emulator(tenant=tenant) as emu:
            print(f"emulator at {emu.url}; {args.threads} threads, {args.seconds:g} s per measurement",
                  file=sys.stderr)
            measurements = {s.key: measure(emu.url, s, args.threads, args.seconds) for s in SCENARIOS}
    add_ratios(measurements)

    rows = [[m["label"], fmt(m["count"]), fmt(m["errors"]), fmt(m["rate_limited"]), fmt(m["per_second"]),
             fmt(m["p50_ms"], 2), fmt(m["p95_ms"], 2), fmt(m["ratios"]["p50"], 2, "x"),
             fmt(m["ratios"]["p95"], 2, "x"), fmt(m["ratios"]["time_per_iteration"], 2, "x")]
            for m in measurements.values()]
    print_table(["measurement", "count", "errors", "429s", "per s", "p50 ms", "p95 ms", "p50 vs base",
                 "p95 vs base", "time/iter vs base"], rows,
                title=f"emulator load: {args.threads} threads x {args.seconds:g} s, ratios against the baseline")
    errors = sum(m["errors"] for m in measurements.values())
    for m in measurements.values():
        for sample in m["error_samples"]:
            print(f"error in {m['label']}: {sample}", file=sys.stderr)
    write_json(args.json, {
        "benchmark": "emulator_load",
        "baseline": "baseline",
        "threads": args.threads,
        "seconds": args.seconds,
        "rate_limit": "demo tenant (600/min)" if args.keep_rate_limit else "relaxed (out of reach)",
        "machine": machine(),
        "measurements": measurements,
        "errors": errors,
        "ok": errors == 0,
    })
    if errors:
        print(f"emulator_load: {errors} error(s): see above", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
