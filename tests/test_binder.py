"""binder/start (what repo2docker runs before JupyterLab, and a local way in): the emulator comes up
in the background, its URL is exported, the command runs, and the emulator stops when it exits."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from mfa_helpers.emulator import Emulator

REPO = Path(__file__).resolve().parents[1]
START = REPO / "binder" / "start"
CHECK = """
import json, os, urllib.request
url = os.environ["MFA_KIT_EMULATOR_URL"]
health = json.load(urllib.request.urlopen(url + "/emulator/health", timeout=5))
print(json.dumps({"url": url, "health": health}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_env(tmp_path: Path, port: int) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)  # mfa-kit, python and jupyter of this environment, as on Binder
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "MFA_KIT_EMULATOR_PORT": str(port), "MFA_KIT_EMULATOR_LOG": str(tmp_path / "emulator.log")}


def answers(url: str) -> bool:
    try:
        return json.load(urllib.request.urlopen(url + "/emulator/health", timeout=2)) == {"status": "ok"}
    except (OSError, ValueError):
        return False


def test_start_brings_the_emulator_up_runs_the_command_and_stops_the_emulator_after_it(tmp_path):
    port = free_port()
    proc = subprocess.run([str(START), "python", "-c", CHECK], cwd=tmp_path, env=start_env(tmp_path, port),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen == {"url": f"http://127.0.0.1:{port}", "health": {"status": "ok"}}
    assert "it stops when the command exits" in proc.stderr
    assert not answers(seen["url"]), "the emulator outlived the command"


def test_the_command_s_exit_code_is_the_script_s(tmp_path):
    proc = subprocess.run([str(START), "python", "-c", "raise SystemExit(3)"], cwd=tmp_path,
                          env=start_env(tmp_path, free_port()), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3


def test_a_port_taken_by_another_program_is_refused_before_anything_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([str(START), "python", "-c", "print('should not run')"], cwd=tmp_path,
                              env=start_env(tmp_path, port), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "should not run" not in proc.stdout
    assert f"port {port} is taken by another program" in proc.stderr and "MFA_KIT_EMULATOR_PORT" in proc.stderr
    assert not (tmp_path / "emulator.log").exists(), "an emulator was started anyway"


def test_an_emulator_already_on_the_port_is_used_and_left_running(tmp_path):
    port = free_port()
    with Emulator(port=port) as running:
        proc = subprocess.run([str(START), "python", "-c", CHECK], cwd=tmp_path, env=start_env(tmp_path, port),
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout.strip().splitlines()[-1])["url"] == running.url
        assert "using the emulator already at" in proc.stderr
        assert answers(running.url), "binder/start stopped an emulator it did not start"


def opened(url: str, seconds: float = 30):
    """The page at `url`, waiting while the server that printed it is not listening yet."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return urllib.request.urlopen(url, timeout=30)
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX only")
def test_jupyter_lab_prints_a_url_that_opens_01_and_a_sigterm_stops_both(tmp_path):
    """Real JupyterLab, as a learner starts it locally (as root here, where it needs --allow-root)."""
    port, lab_port = free_port(), free_port()
    command = [str(START), "jupyter", "lab", "--no-browser", f"--ServerApp.port={lab_port}",
               "--ServerApp.port_retries=0", "notebooks/01_setup.ipynb"]
    env = {**start_env(tmp_path, port), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url, lines = None, []
    try:
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
            lines.append(line)
            found = re.search(rf"http://127\.0\.0\.1:{lab_port}/\S*\?token=\S+", line)
            url = found.group(0) if found else None
        assert url, "".join(lines[-30:])
        assert f":{lab_port}/lab/tree/notebooks/01_setup.ipynb?token=" in url
        page = opened(url)
        assert page.status == 200 and "JupyterLab" in page.read().decode("utf-8", "replace")
        assert answers(f"http://127.0.0.1:{port}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert not answers(f"http://127.0.0.1:{port}"), "the emulator outlived JupyterLab"
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{lab_port}/api", timeout=5)
