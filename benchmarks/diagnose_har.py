"""How `mfa-kit diagnose` scales with a customer's HAR: linear in its size, as ratios.

Builds HARs in Chrome's shape of `--entries` exchanges and of 4× as many: each a page's worth of
noise (scripts and images with base64 bodies), a login answered mfa_required, and a push polled
into thousands of slow_down answers (the grouped "×N between ... and ..." case). For each size it
times reading the file (`read_har`: decoding and checking the HAR) and diagnosing it.

The baseline, measured in the same run, is `json.loads` of the same bytes, the least any reader
must do. Reported: each step as a multiple of that baseline, and how time per exchange changes
from the small HAR to the large one (1.0 is linear; 4.0 would be quadratic).
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, fmt, machine, print_table, ratio, timed, write_json

sys.path.insert(0, str(REPO_ROOT))
from mfa_helpers import protocol  # noqa: E402
from mfa_helpers.support.diagnose import diagnose  # noqa: E402
from mfa_helpers.support.har import read_har  # noqa: E402

HOST = "acme.us.auth0.com"


def _entry(number: int, url: str, status: int, *, form: dict | None = None, body: Any = None,
           binary: bytes | None = None) -> dict:
    content: dict[str, Any] = {"size": 0, "mimeType": "application/json"}
    if body is not None:
        content["text"] = json.dumps(body)
    if binary is not None:
        content = {"size": len(binary), "mimeType": "image/png", "encoding": "base64",
                   "text": base64.b64encode(binary).decode()}
    request: dict[str, Any] = {"method": "POST" if form else "GET", "url": url, "headers": [], "httpVersion": "h2"}
    if form:
        request["postData"] = {"mimeType": "application/x-www-form-urlencoded",
                               "text": "&".join(f"{k}={v}" for k, v in form.items()),
                               "params": [{"name": k, "value": v} for k, v in form.items()]}
    seconds = number / 10
    return {"startedDateTime": f"2026-11-23T10:{int(seconds // 60) % 60:02d}:{seconds % 60:06.3f}Z", "time": 50,
            "request": request, "response": {"status": status, "headers": [], "content": content,
                                             "redirectURL": ""}}


def customer_har(entries: int) -> dict:
    """A HAR of `entries` exchanges: one noise request in four, the rest MFA API polls."""
    picture = bytes(range(256)) * 40          # 10 kB of image per noise request
    items = [_entry(0, f"https://{HOST}/oauth/token", 403, form={"grant_type": protocol.GRANT_PASSWORD},
                    body={**protocol.ERRORS["mfa_required"].body(), "mfa_token": "Fe26.2**x"})]
    for n in range(1, entries):
        if n % 4 == 0:
            items.append(_entry(n, f"https://cdn.example.net/img/{n}.png", 200, binary=picture))
        else:
            items.append(_entry(n, f"https://{HOST}/oauth/token", 429,
                                form={"grant_type": protocol.GRANT_MFA_OOB, "oob_code": "Fe26.2**o"},
                                body=protocol.ERRORS["slow_down"].body()))
    return {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
                    "entries": items}}


def measure(entries: int, folder: Path) -> dict[str, Any]:
    path = folder / f"{entries}.har"
    path.write_text(json.dumps(customer_har(entries)), encoding="utf-8")
    raw = path.read_bytes()
    with timed() as baseline:
        json.loads(raw)
    with timed() as reading:
        har = read_har(path)
    with timed() as diagnosing:
        findings = diagnose(har)
    grouped = next(f for f in findings if f.key == "slow_down")
    return {"entries": entries, "megabytes": round(len(raw) / 1e6, 1), "baseline_s": baseline.seconds,
            "read_s": reading.seconds, "diagnose_s": diagnosing.seconds, "slow_down_count": grouped.count,
            "ratios": {"read": ratio(reading.seconds, baseline.seconds),
                       "diagnose": ratio(diagnosing.seconds, baseline.seconds)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=5000, help="exchanges in the small HAR (the large: 4x)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        small, large = (measure(n, Path(tmp)) for n in (args.entries, 4 * args.entries))
    per_entry = lambda m: (m["read_s"] + m["diagnose_s"]) / m["entries"]   # noqa: E731
    growth = ratio(per_entry(large), per_entry(small))
    ok = all(m["slow_down_count"] == m["entries"] - 1 - (m["entries"] - 1) // 4 for m in (small, large))
    print_table(["HAR", "MB", "read ×json.loads", "diagnose ×json.loads"],
                [[f"{m['entries']:,} exchanges", fmt(m["megabytes"]), fmt(m["ratios"]["read"], 2),
                  fmt(m["ratios"]["diagnose"], 2)] for m in (small, large)],
                title="mfa-kit diagnose, as multiples of json.loads of the same file")
    print(f"time per exchange, 4x the exchanges: {fmt(growth, 2)}x (1.0 is linear)")
    write_json(args.json, {"machine": machine(), "small": small, "large": large,
                           "time_per_exchange_growth": growth, "ok": ok})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
