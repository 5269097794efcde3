"""The benchmarks run and report what they say: emulator_load.py three measurements, every status
checked, ratios against the baseline of the same run; replay.py verify against its floor, with the
kernels counted. No timing threshold: speed is the machine's."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "emulator_load.py"


def test_emulator_load_reports_three_measurements_as_ratios(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--seconds", "0.5", "--threads", "2", "--json", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
    measurements = figures["measurements"]
    assert set(measurements) == {"baseline", "password_grant", "otp_enrollment"}
    assert figures["errors"] == 0 and figures["ok"] is True
    base = measurements["baseline"]
    for name, m in measurements.items():
        assert m["count"] > 0, name
        assert m["errors"] == 0 and m["rate_limited"] == 0, (name, m["error_samples"])
        assert 0 < m["p50_ms"] <= m["p95_ms"], name
        assert m["ratios"]["p50"] == round(m["p50_ms"] / base["p50_ms"], 2), name
        assert m["ratios"]["p95"] == round(m["p95_ms"] / base["p95_ms"], 2), name
        assert m["ratios"]["time_per_iteration"] == round(base["per_second"] / m["per_second"], 2), name
    assert base["ratios"] == {"p50": 1.0, "p95": 1.0, "time_per_iteration": 1.0}
    assert "baseline" in done.stdout and "OTP enrollment" in done.stdout   # the table on stdout


def test_tenant_start_times_a_large_tenant_file_against_the_demo(tmp_path: Path) -> None:
    out = tmp_path / "start.json"
    script = SCRIPT.with_name("tenant_start.py")
    done = subprocess.run([sys.executable, str(script), "--users", "300", "--json", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    starts = json.loads(out.read_text(encoding="utf-8"))["starts"]
    assert list(starts) == ["demo tenant (baseline)", "300 users, first start", "300 users, next start"]
    base = starts["demo tenant (baseline)"]["seconds"]
    for figures in starts.values():
        assert figures["seconds"] > 0 and figures["ratio"] == pytest.approx(figures["seconds"] / base, abs=0.01)
    assert "300 users, next start" in done.stdout


REPLAY = SCRIPT.with_name("replay.py")


@pytest.mark.notebooks
def test_replay_counts_the_kernels_verify_starts_and_prints_verify_over_floor(tmp_path: Path) -> None:
    out = tmp_path / "replay.json"
    done = subprocess.run([sys.executable, str(REPLAY), "01", "02", "--rounds", "1", "--repeats", "1",
                           "--jobs", "2", "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
    (only,) = figures["rounds"]
    run, base = only["verify"], only["kernel_start"]["median"]
    assert run["nbval"] == "passed" and set(run["notebooks"]) == {"01_setup", "02_mfa_required"}
    assert run["kernels"] == 2, "one kernel per notebook: the golden check executes nothing again"
    assert only["floor_seconds"] == round(base * 2 / 2, 3)
    assert only["ratio"] == round(run["wall_seconds"] / only["floor_seconds"], 2)
    assert f"verify / floor: {only['ratio']:.2f}x" in done.stdout
