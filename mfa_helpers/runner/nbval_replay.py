"""A pytest plugin that lets nbval check the notebooks the run already executed, instead of executing
each golden a second time.

nbval stays the checker: it collects the golden notebooks, and its own code compares outputs (its
sanitizer, its cell markers, its failure reports). Only its kernel is replaced: `ReplayKernel`
answers each cell with the outputs papermill recorded for the same cell of the executed notebook of
the same name. A cell whose source differs from the golden's, or that the run never reached, answers
with an error, so nbval fails it. Loaded with `-p mfa_helpers.runner.nbval_replay
--nbval-replay-dir DIR`; without the option, nbval starts real kernels as usual.
"""
from __future__ import annotations

import uuid
from collections import deque
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
import pytest
from nbval.plugin import IPyNbFile

_start_kernel = IPyNbFile.setup


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--nbval-replay-dir", metavar="DIR",
                     help="compare each golden with the executed notebook of the same name in DIR "
                          "instead of executing it again")


class ReplayKernel:
    """The part of nbval's RunningKernel its cells use, answered from an executed notebook."""

    def __init__(self, executed: Path) -> None:
        self.executed = executed
        self._cells = _code_cells(executed) if executed.is_file() else []
        self._messages: deque[dict[str, Any]] = deque()
        self._alive = True

    def execute_cell_input(self, cell_input: str, allow_stdin: bool | None = None) -> str:
        msg_id = uuid.uuid4().hex
        for output in self._outputs_for(cell_input):
            self._messages.append(_message(msg_id, output.get("output_type"), _content(output)))
        self._messages.append(_message(msg_id, "status", {"execution_state": "idle"}))
        return msg_id

    def _outputs_for(self, source: str) -> list[dict[str, Any]]:
        if not self.executed.is_file():
            return [_error("NotExecuted", f"the run wrote no executed notebook {self.executed.name} "
                                          "(see the notebook's own failure in the report)")]
        # The next executed cell with this source: cells nbval skips (NBVAL_SKIP) are never asked for.
        index = next((i for i, cell in enumerate(self._cells) if cell.source == source), None)
        if index is None:
            return [_error("GoldenOutOfDate", f"{self.executed.name} has no cell with this source after the "
                                              "previous one: the notebook changed since its golden was made; "
                                              f"regenerate it (tests/golden/regenerate.py {self.executed.stem})")]
        cell, self._cells = self._cells[index], self._cells[index + 1:]
        if cell.execution_count is None and source.strip():
            return [_error("NotExecuted", "the run stopped before this cell (see the notebook's failure in the "
                                          "report)")]
        return cell.outputs

    def get_message(self, stream: str, timeout: float | None = None) -> dict[str, Any]:
        if not self._messages:
            raise Empty
        return self._messages.popleft()

    def await_reply(self, msg_id: str, timeout: float | None = None) -> None:
        """The outputs are all queued already."""

    def await_idle(self, parent_id: str, timeout: float | None) -> None:
        while self._messages:
            message = self._messages.popleft()
            if message["parent_header"]["msg_id"] == parent_id and message["msg_type"] == "status":
                return

    def is_alive(self) -> bool:
        return self._alive

    def interrupt(self) -> None:
        """Nothing runs, so nothing to interrupt."""

    def stop(self) -> None:
        self._alive = False


def _setup(self: IPyNbFile) -> None:
    folder = self.config.getoption("nbval_replay_dir")
    if folder is None:
        _start_kernel(self)
        return
    self.kernel = ReplayKernel(Path(folder) / Path(str(self.fspath)).name)
    self.setup_sanitize_files()


IPyNbFile.setup = _setup


def _code_cells(executed: Path) -> list[Any]:
    """The executed notebook's code cells, without the parameters papermill injected."""
    nb = nbformat.read(executed, as_version=4)
    return [cell for cell in nb.cells if cell.cell_type == "code"
            and "injected-parameters" not in cell.get("metadata", {}).get("tags", [])]


def _content(output: dict[str, Any]) -> dict[str, Any]:
    """An iopub message's content from a saved output (the inverse of nbformat's output_from_msg)."""
    return {key: value for key, value in output.items() if key != "output_type"}


def _error(ename: str, evalue: str) -> dict[str, Any]:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


def _message(msg_id: str, msg_type: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"msg_type": msg_type, "content": content, "parent_header": {"msg_id": msg_id}}
