"""binder/start (what repo2docker runs before JupyterLab): the emulator comes up in the background,
its URL is exported, and the given command takes over the process."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
START = REPO / "binder" / "start"
CHECK = """
import json, os, urllib.request
url = os.environ["MFA_KIT_EMULATOR_URL"]
health = json.load(urllib.request.urlopen(url + "/emulator/health", timeout=5))
print(json.dumps({"url": url, "health": health, "pid": os.getpid(), "emulator_pid": int(os.environ["MFA_KIT_EMULATOR_PID"])}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_env(tmp_path: Path, port: int) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)  # mfa-kit and python of this environment, as on Binder
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "MFA_KIT_EMULATOR_PORT": str(port), "MFA_KIT_EMULATOR_LOG": str(tmp_path / "emulator.log")}


def test_start_brings_the_emulator_up_and_execs_the_command(tmp_path):
    port = free_port()
    proc = subprocess.Popen([str(START), "python", "-c", CHECK], cwd=tmp_path, env=start_env(tmp_path, port),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    seen = json.loads(out.strip().splitlines()[-1])
    try:
        assert seen["url"] == f"http://127.0.0.1:{port}"
        assert seen["health"] == {"status": "ok"}
        assert seen["pid"] == proc.pid, "the command did not replace the start script (exec)"
    finally:
        os.kill(seen["emulator_pid"], signal.SIGTERM)


def test_start_fails_loudly_when_the_emulator_cannot_listen(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([str(START), "python", "-c", "print('should not run')"], cwd=tmp_path,
                              env=start_env(tmp_path, port), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "should not run" not in proc.stdout
    assert "did not answer" in proc.stderr
