"""Reading an executed notebook back: the failing cell, the recorded results, and a clean copy.

The clean copy keeps what a reader needs (sources, outputs, papermill's error markers) and drops
what could hold a secret or only bloats: widget state and views, and papermill's metadata
(its `parameters`, paths and per-cell bookkeeping).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

RESULT_MIME = "application/vnd.mfa-kit.result+json"
WIDGET_MIMES = ("application/vnd.jupyter.widget-view+json", "application/vnd.jupyter.widget-state+json")
PAPERMILL_MARKER_TAGS = ("papermill-error-cell-tag", "injected-parameters")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class Failure:
    """Where and why a notebook stopped; `cell_index` counts the source notebook's cells from 0."""

    cell_index: int | None
    execution_count: int | None
    source: str
    ename: str
    evalue: str
    traceback: str

    @property
    def headline(self) -> str:
        where = f"cell {self.cell_index}" if self.cell_index is not None else "outside the cells"
        if self.execution_count is not None:
            where += f" (In [{self.execution_count}])"
        first_line = self.evalue.strip().splitlines()[0] if self.evalue.strip() else ""
        return f"{where}: {self.ename}: {first_line}".rstrip(": ")


def find_failure(nb: dict[str, Any], error: str | None, in_cell: bool) -> Failure | None:
    """Where `error` struck: the cell with the error output, or the cell papermill was running.

    `in_cell` says the error is that cell's own exception; otherwise (a cell timeout, a dead kernel)
    `error` is the story and the cell's output, often the interrupt that followed, only the traceback.
    """
    if error is None:
        return None
    ename, _, evalue = error.partition(": ")
    index = 0
    for cell in nb.get("cells", []):
        if _is_marker(cell):
            continue
        source, count = _joined(cell.get("source", "")), cell.get("execution_count")
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and not _is_clean_exit(output):
                traceback = strip_ansi("\n".join(output.get("traceback", [])))
                if in_cell:
                    return Failure(index, count, source, output.get("ename", ""), output.get("evalue", ""), traceback)
                return Failure(index, count, source, ename, evalue, traceback)
        if status in ("running", "failed"):
            return Failure(index, count, source, ename, evalue, "")
        index += 1
    return Failure(None, None, "", ename, evalue, "")


def recorded_results(nb: dict[str, Any]) -> list[dict[str, Any]]:
    """Every `walkthrough.record(key, value)` of the run, in order: {"notebook", "key", "value"}."""
    results = []
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            value = output.get("data", {}).get(RESULT_MIME)
            if isinstance(value, dict):
                results.append(value)
    return results


def cleaned(nb: dict[str, Any], keep_parameters: bool = False) -> dict[str, Any]:
    """A copy without widget state or views and without papermill metadata; without the injected
    parameters too unless `keep_parameters` (a case bundle shows what the notebook ran with).

    Multi-line texts (stored as lists of lines) become one string each, so that redaction sees a
    printed JSON answer or a secret wrapped over two lines as a whole.
    """
    metadata = {k: v for k, v in nb.get("metadata", {}).items() if k not in ("widgets", "papermill")}
    parameters = nb.get("metadata", {}).get("papermill", {}).get("parameters")
    if keep_parameters and parameters is not None:
        metadata["papermill"] = {"parameters": parameters}
    cells = []
    for cell in nb.get("cells", []):
        if not keep_parameters and "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        cell = dict(cell, metadata={k: v for k, v in cell.get("metadata", {}).items() if k != "papermill"})
        cell["source"] = _joined(cell.get("source", ""))
        if "outputs" in cell:
            cell["outputs"] = [_joined_texts(o) for o in map(_without_widgets, cell["outputs"]) if o is not None]
        cells.append(cell)
    return dict(nb, metadata=metadata, cells=cells)


def _joined_texts(output: dict[str, Any]) -> dict[str, Any]:
    output = dict(output)
    if "text" in output:
        output["text"] = _joined(output["text"])
    if isinstance(output.get("data"), dict):
        output["data"] = {k: _joined(v) if k.startswith("text/") and isinstance(v, list) else v
                          for k, v in output["data"].items()}
    return output


def _without_widgets(output: dict[str, Any]) -> dict[str, Any] | None:
    if "data" not in output:
        return output
    data = {k: v for k, v in output["data"].items() if k not in WIDGET_MIMES}
    if not data:
        return None
    return dict(output, data=data)


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def _is_marker(cell: dict[str, Any]) -> bool:
    return any(tag in PAPERMILL_MARKER_TAGS for tag in cell.get("metadata", {}).get("tags", []))


def _is_clean_exit(output: dict[str, Any]) -> bool:
    return output.get("ename") == "SystemExit" and output.get("evalue") in ("", "0")


def _joined(source: str | list[str]) -> str:
    return source if isinstance(source, str) else "".join(source)
