"""Rebuild the golden executed notebooks: `.venv/bin/python tests/golden/regenerate.py [NAME ...]`.

Runs the notebooks (all, or the named ones) headless on a fresh emulator exactly as the tests do,
refuses any output shaped like a secret, drops papermill's and the widgets' metadata (timings,
parameters, widget state), and writes tests/golden/NAME.ipynb. Review the diff before committing:
nbval will hold every later run to these outputs (through nbval_sanitize.cfg).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for notebook_runs

from mfa_helpers.emulator import Emulator  # noqa: E402
from notebook_runs import GOLDEN_DIR, leaks, notebook_names, run_headless  # noqa: E402

DROPPED_NOTEBOOK_METADATA = ("papermill", "widgets")
DROPPED_CELL_METADATA = ("papermill", "execution")


def golden(executed: Path) -> nbformat.NotebookNode:
    """An executed notebook without run-specific metadata (outputs and execution counts stay)."""
    nb = nbformat.read(executed, as_version=4)
    for key in DROPPED_NOTEBOOK_METADATA:
        nb.metadata.pop(key, None)
    for cell in nb.cells:
        for key in DROPPED_CELL_METADATA:
            cell.metadata.pop(key, None)
    return nb


def regenerate(names: list[str]) -> list[Path]:
    with tempfile.TemporaryDirectory() as tmp, Emulator() as emu:
        runs = run_headless(names, Path(tmp), emu.url)
        failed = {name: run.log[-2000:] for name, run in runs.items() if run.returncode != 0}
        if failed:
            raise SystemExit(f"Not regenerated, these notebooks failed: {failed}")
        written = []
        for name, run in sorted(runs.items()):
            nb = golden(run.executed)
            text = nbformat.writes(nb)
            if leaks(text):
                raise SystemExit(f"{name}: an output looks like a secret ({leaks(text)[:3]}); fix the notebook.")
            path = GOLDEN_DIR / f"{name}.ipynb"
            path.write_text(text)
            written.append(path)
        return written


if __name__ == "__main__":
    for path in regenerate(sys.argv[1:] or notebook_names()):
        print(path)
