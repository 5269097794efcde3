"""SIGTERM to a real `mfa-kit verify` process stops its kernels, worker processes and emulator, and
removes its temporary folder."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import requests

from tests.test_runner import make_notebook

REPORT_AND_WAIT = """
import json, os, time
with open(os.environ["TEST_PIDS"] + ".part", "w") as f:
    json.dump({"kernel": os.getpid(), "worker": os.getppid(), "url": os.environ["MFA_KIT_EMULATOR_URL"]}, f)
os.rename(os.environ["TEST_PIDS"] + ".part", os.environ["TEST_PIDS"])
time.sleep(300)
"""


def _wait_for(path, process, seconds=120):
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the notebook never started"
        time.sleep(0.2)
    return json.loads(path.read_text())


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_kernels_workers_and_emulator_and_removes_the_temporary_folder(tmp_path, signum):
    make_notebook(tmp_path / "nbs" / "01_wait.ipynb", REPORT_AND_WAIT)
    temp = tmp_path / "tmp"
    temp.mkdir()
    pids = tmp_path / "pids.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH0_", "MFA_KIT_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "mfa_helpers.cli", "verify", "--notebooks-dir", "nbs", "--no-nbval",
         "--target", "emulator", "--out", "runs/stopped"],
        cwd=tmp_path, env={**env, "TMPDIR": str(temp), "TEST_PIDS": str(pids)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = _wait_for(pids, process)
        assert [p.name for p in temp.iterdir() if p.name.startswith("mfa-kit-verify-")]
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + signum, err
    assert err.strip().splitlines()[-1].startswith(f"mfa-kit verify: stopped by {signal.Signals(signum).name}")
    assert "Traceback" not in err
    gone = psutil.wait_procs([psutil.Process(p) for p in (seen["kernel"], seen["worker"])
                              if psutil.pid_exists(p)], timeout=10)[1] == []
    assert gone, "a kernel or worker process outlived the run"
    with pytest.raises(requests.ConnectionError):
        requests.get(seen["url"] + "/emulator/health", timeout=2)
    assert not [p.name for p in temp.iterdir() if p.name.startswith("mfa-kit-verify-")]
    assert not (tmp_path / "runs" / "stopped").exists()
