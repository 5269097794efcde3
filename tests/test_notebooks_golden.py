"""The golden executed notebooks (tests/golden, rebuilt by tests/golden/regenerate.py): one per
notebook, no secret in them, and nbval re-runs them headless on a fresh emulator with the same outputs
through the sanitizer."""
from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from mfa_helpers.emulator import Emulator
from mfa_helpers.walkthrough import results
from notebook_runs import GOLDEN_DIR, NOTEBOOKS_DIR, REPO, SANITIZE_CFG, headless_env, leaks, notebook_names

pytestmark = pytest.mark.notebooks
GOLDENS = sorted(GOLDEN_DIR.glob("*.ipynb"))


def test_a_golden_for_every_notebook_from_the_same_cells():
    assert [p.stem for p in GOLDENS] == notebook_names()
    for golden in GOLDENS:
        source = nbformat.read(NOTEBOOKS_DIR / golden.name, as_version=4)
        executed = nbformat.read(golden, as_version=4)
        assert [c.source for c in executed.cells] == [c.source for c in source.cells], (
            f"{golden.name} is stale: run tests/golden/regenerate.py {golden.stem}")


@pytest.mark.parametrize("golden", GOLDENS, ids=lambda p: p.stem)
def test_golden_holds_results_and_no_secret(golden):
    text = golden.read_text()
    assert not leaks(text), leaks(text)[:3]
    nb = nbformat.reads(text, as_version=4)
    assert "papermill" not in nb.metadata and "widgets" not in nb.metadata
    assert results(nb)["cleanup"]["left_untouched"] == 0


def test_nbval_replays_the_goldens_on_a_fresh_emulator():
    command = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", str(GOLDEN_DIR),
               "--nbval-sanitize-with", str(SANITIZE_CFG), "-p", "no:cacheprovider", "-q",
               "-n", "3", "--dist", "loadfile", f"--confcutdir={GOLDEN_DIR}", "-o", "addopts="]
    with Emulator() as emu:
        proc = subprocess.run(command, env=headless_env(emu.url), cwd=REPO, capture_output=True, text=True,
                              timeout=600)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
