"""The golden check without a second execution: nbval compares the run's executed notebooks with the
goldens (runner/nbval_replay.py gives nbval the executed outputs in place of a kernel), and fails
what it cannot vouch for: a notebook changed since its golden, a cell the run never reached, a
notebook the run did not write."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import nbformat

from mfa_helpers.runner.config import GoldenSet
from mfa_helpers.runner.nbval_check import GoldenCheck


def notebook(path: Path, *cells: tuple[str, str | None]) -> Path:
    """An executed notebook: (source, what it printed) per cell; None: the run never reached it."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for count, (source, printed) in enumerate(cells, start=1):
        cell = nbformat.v4.new_code_cell(source, execution_count=None if printed is None else count)
        if printed:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
        nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def check(tmp_path: Path, *goldens: Path):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    with GoldenCheck(GoldenSet(list(goldens)), tmp_path / "executed", dict(os.environ), work) as check:
        return check.result()


def failures(result) -> dict[str, str]:
    return {case.name: case.failure for case in result.cases if case.failure}


def test_the_same_outputs_pass_and_a_different_output_fails_with_nbval_s_diff(tmp_path):
    same = notebook(tmp_path / "golden" / "01_same.ipynb", ("print('a')", "a\n"), ("x = 1", ""))
    drift = notebook(tmp_path / "golden" / "02_drift.ipynb", ("print(1 + 1)", "2\n"))
    notebook(tmp_path / "executed" / "01_same.ipynb", ("print('a')", "a\n"), ("x = 1", ""))
    notebook(tmp_path / "executed" / "02_drift.ipynb", ("print(1 + 1)", "3\n"))

    result = check(tmp_path, same, drift)

    assert (result.status, len(result.cases)) == ("failed", 3)
    assert list(failures(result)) == ["02_drift.ipynb::Cell 0"]
    assert "Cell outputs differ" in failures(result)["02_drift.ipynb::Cell 0"]
    assert "mismatch 'stdout'" in failures(result)["02_drift.ipynb::Cell 0"]


def test_a_notebook_changed_since_its_golden_fails_and_says_to_regenerate(tmp_path):
    golden = notebook(tmp_path / "golden" / "03_otp.ipynb", ("print('a')", "a\n"), ("print('b')", "b\n"))
    notebook(tmp_path / "executed" / "03_otp.ipynb", ("print('a')", "a\n"), ("print('B')", "B\n"))

    result = check(tmp_path, golden)

    assert list(failures(result)) == ["03_otp.ipynb::Cell 1"]
    assert "GoldenOutOfDate" in failures(result)["03_otp.ipynb::Cell 1"]
    assert "tests/golden/regenerate.py 03_otp" in failures(result)["03_otp.ipynb::Cell 1"]


def test_cells_after_a_failure_and_a_notebook_never_written_fail(tmp_path):
    stopped = notebook(tmp_path / "golden" / "04_stopped.ipynb", ("print('a')", "a\n"), ("print('b')", "b\n"))
    missing = notebook(tmp_path / "golden" / "05_missing.ipynb", ("print('c')", "c\n"))
    notebook(tmp_path / "executed" / "04_stopped.ipynb", ("print('a')", "a\n"), ("print('b')", None))

    result = check(tmp_path, stopped, missing)

    assert list(failures(result)) == ["04_stopped.ipynb::Cell 1", "05_missing.ipynb::Cell 0"]
    assert "the run stopped before this cell" in failures(result)["04_stopped.ipynb::Cell 1"]
    assert "wrote no executed notebook 05_missing.ipynb" in failures(result)["05_missing.ipynb::Cell 0"]


def test_an_error_the_golden_expects_passes_only_when_the_run_raised_it_too(tmp_path):
    source = "# NBVAL_RAISES_EXCEPTION\nraise ValueError('expected')"
    raised = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source, execution_count=1)
    cell.outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="expected", traceback=["ValueError"])]
    raised.cells = [cell]
    for path in ("golden/06_raises.ipynb", "executed/06_raises.ipynb", "golden/07_quiet.ipynb"):
        (tmp_path / path).parent.mkdir(exist_ok=True)
        nbformat.write(raised, tmp_path / path)
    notebook(tmp_path / "executed" / "07_quiet.ipynb", (source, "nothing raised\n"))

    result = check(tmp_path, tmp_path / "golden" / "06_raises.ipynb", tmp_path / "golden" / "07_quiet.ipynb")

    assert list(failures(result)) == ["07_quiet.ipynb::Cell 0"], result.log


def test_cells_nbval_skips_do_not_shift_the_ones_after_them(tmp_path):
    cells = (("print('a')", "a\n"), ("# NBVAL_SKIP\nprint('widget')", "widget\n"), ("print('b')", "b\n"))
    golden = notebook(tmp_path / "golden" / "08_skips.ipynb", *cells)
    notebook(tmp_path / "executed" / "08_skips.ipynb", *cells)

    result = check(tmp_path, golden)

    assert result.status == "passed", result.log


def test_the_check_starts_when_its_last_notebook_is_done_and_not_before(tmp_path):
    """verify reports each finished notebook; nbval then runs beside the notebooks without goldens."""
    goldens = [notebook(tmp_path / "golden" / f"0{n}_x.ipynb", ("print(1)", "1\n")) for n in (1, 2)]
    for golden in goldens:
        notebook(tmp_path / "executed" / golden.name, ("print(1)", "1\n"))
    work = tmp_path / "work"
    work.mkdir()
    with GoldenCheck(GoldenSet(goldens), tmp_path / "executed", dict(os.environ), work) as golden_check:
        golden_check.done("01_x")
        golden_check.done("diagnose")  # a notebook without a golden changes nothing
        assert not (work / "nbval.out").exists(), "nbval started before 02_x had run"
        golden_check.done("02_x")
        assert (work / "nbval.out").exists(), "nbval waited for result()"
        result = golden_check.result()
    assert (result.status, len(result.cases)) == ("passed", 2)


def test_leaving_the_block_stops_a_check_still_running(tmp_path):
    """A run that fails or is stopped while nbval runs leaves no pytest behind."""
    golden = notebook(tmp_path / "golden" / "01_x.ipynb", ("print(1)", "1\n"))
    work = tmp_path / "work"
    work.mkdir()
    with GoldenCheck(GoldenSet([golden]), tmp_path / "executed", dict(os.environ), work) as golden_check:
        golden_check.done("01_x")
        process = golden_check._process
    assert process is not None and process.returncode == -signal.SIGKILL  # pytest takes a second to start
