"""benchmarks/diagnose_har.py runs and reports what it says: two HAR sizes, every slow_down grouped,
ratios to json.loads of the same file. No timing threshold: speed is the machine's."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "diagnose_har.py"


def test_diagnose_benchmark_reports_two_sizes_as_ratios(tmp_path: Path) -> None:
    out = tmp_path / "diagnose.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--entries", "200", "--json", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["ok"] is True and (figures["small"]["entries"], figures["large"]["entries"]) == (200, 800)
    for size in ("small", "large"):
        m = figures[size]
        assert m["slow_down_count"] == m["entries"] - 1 - (m["entries"] - 1) // 4
        assert m["ratios"]["diagnose"] == round(m["diagnose_s"] / m["baseline_s"], 2)
    assert figures["time_per_exchange_growth"] > 0 and "1.0 is linear" in done.stdout
