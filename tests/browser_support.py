"""For test_browser: Debian's Chromium driven by Playwright (never a downloaded browser), and a
JupyterLab server started the way a learner starts it, isolated from the user's own Jupyter setup."""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from mfa_helpers.settings import ENV

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
TIMEOUT_MS = 60_000


def chromium_path() -> str | None:
    """Debian's chromium (`apt-get install chromium`), which CI installs; `playwright install`
    browsers are not used."""
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (requirements-dev.txt)"
    if chromium_path() is None:
        return "no Chromium: install Debian's chromium (/usr/bin/chromium or `chromium` on PATH)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Lab:
    url: str
    token: str

    def notebook_url(self, name: str) -> str:
        # ?reset: a fresh workspace, nothing restored from an earlier session
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"


def lab_environment(emulator_url: str, home: Path) -> dict[str, str]:
    """The learner's interactive setting: the emulator's address, neither CI nor MFA_KIT_HEADLESS
    (so the widgets show), no tenant settings, and Jupyter's config, settings and workspaces in
    `home` so nothing of the user's own JupyterLab setup takes part."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("CI", "MFA_KIT_HEADLESS", "MFA_KIT_HAR_PATH", *ENV.values())}
    env["MFA_KIT_EMULATOR_URL"] = emulator_url
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[name] = str(home / name.lower())
    # No "get notified about Jupyter news?" toast over the notebook.
    news = home / "jupyterlab_settings_dir" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text('{"fetchNews": "false"}')
    return env


@contextmanager
def jupyterlab(root_dir: Path, env: dict[str, str], log: Path, timeout: float = 60) -> Iterator[Lab]:
    """`python -m jupyterlab` serving `root_dir` on a free port with a random token; stopped (its
    whole process group, kernels included) on exit, whatever happened."""
    token, port = secrets.token_urlsafe(24), free_port()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--ServerApp.token={token}",
               f"--ServerApp.root_dir={root_dir}", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, cwd=root_dir, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}", token)
    try:
        _wait_ready(server, lab, log, timeout)
        yield lab
    finally:
        _stop(server)


def _wait_ready(server: subprocess.Popen, lab: Lab, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{lab.url}/api/status", params={"token": lab.token}, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM lets JupyterLab shut its kernels down; SIGKILL then takes whatever is left."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            break
        try:
            server.wait(grace)
        except subprocess.TimeoutExpired:
            pass
