"""`mfa-kit lab`: the emulator runs exactly as long as the lab command, which sees its URL.

The lab command is replaced (MFA_KIT_LAB_COMMAND) by a small Python script standing in for
JupyterLab; the real command line is checked separately."""
from __future__ import annotations

import importlib.util
import os
import json
import shlex
import sys
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from mfa_helpers.cli import main
from mfa_helpers.emulator import Emulator
from mfa_helpers.runner.lab import lab_command

FAKE_LAB = """
import json, os, sys, urllib.request
url = os.environ["MFA_KIT_EMULATOR_URL"]
health = json.load(urllib.request.urlopen(url + "/emulator/health", timeout=5))
json.dump({"url": url, "health": health, "argv": sys.argv[1:]}, open(os.environ["FAKE_LAB_OUT"], "w"))
sys.exit(3)
"""


@pytest.fixture
def fake_lab(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nbs").mkdir()
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "nbs" / "01_setup.ipynb")
    script = tmp_path / "fake_lab.py"
    script.write_text(FAKE_LAB)
    monkeypatch.setenv("MFA_KIT_LAB_COMMAND", f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}")
    monkeypatch.setenv("FAKE_LAB_OUT", str(tmp_path / "seen.json"))
    return tmp_path


def healthy(url: str) -> bool:
    try:
        return json.load(urllib.request.urlopen(url + "/emulator/health", timeout=2))["status"] == "ok"
    except urllib.error.URLError:
        return False


def test_lab_runs_the_command_with_the_emulator_and_stops_it_after(fake_lab):
    code = main(["lab", "--port", "0", "--notebooks-dir", str(fake_lab / "nbs"), "--", "--ServerApp.token=x"])

    seen = json.loads((fake_lab / "seen.json").read_text())
    assert code == 3  # the lab command's own exit status
    assert seen["health"] == {"status": "ok"}
    assert seen["argv"] == ["--ServerApp.token=x", str((fake_lab / "nbs" / "01_setup.ipynb").resolve())]
    assert not healthy(seen["url"]), "the emulator outlived the lab"


def test_lab_reuses_an_emulator_already_on_the_port_and_leaves_it_running(fake_lab):
    with Emulator(port=0) as running:
        assert main(["lab", "--port", str(running.port), "--notebooks-dir", str(fake_lab / "nbs")]) == 3
        assert json.loads((fake_lab / "seen.json").read_text())["url"] == running.url
        assert healthy(running.url)


def test_lab_without_notebooks_is_a_configuration_error(fake_lab, capsys):
    assert main(["lab", "--port", "0", "--notebooks-dir", str(fake_lab / "missing")]) == 2
    assert "fix:" in capsys.readouterr().err


def test_the_real_command_is_jupyterlab_from_this_environment(monkeypatch):
    monkeypatch.delenv("MFA_KIT_LAB_COMMAND", raising=False)
    notebook = Path("/repo/notebooks/01_setup.ipynb")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert lab_command(notebook, no_browser=True, extra=[]) == [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ContentsManager.pre_save_hook=mfa_helpers.runner.strip.pre_save", str(notebook)]
    assert importlib.util.find_spec("jupyterlab.__main__") is not None  # `python -m jupyterlab` runs


def test_as_root_jupyterlab_is_allowed_to_start(monkeypatch):
    monkeypatch.delenv("MFA_KIT_LAB_COMMAND", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    command = lab_command(Path("/repo/notebooks/01_setup.ipynb"), no_browser=False, extra=[])
    assert "--allow-root" in command
