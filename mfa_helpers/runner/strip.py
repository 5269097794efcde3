"""The git clean filter for the notebooks: what JupyterLab saves (outputs, execution counts, widget
state, the kernel's language_info, view metadata) is dropped on its way into git, so that running
and autosaving the notebooks leaves `git status` clean. Like nbstripout, but down to the exact form
the notebooks are committed in (tests/test_notebooks_contract.py checks it).

    git config filter.mfa-kit-notebook.clean "$PWD/.venv/bin/python -m mfa_helpers.runner.strip"

(`make lab` runs it; `.gitattributes` names the filter for notebooks/*.ipynb.)
"""
from __future__ import annotations

import json
import sys
from typing import Any

# What a committed notebook keeps: the kernel to start, the runner's `mfa_kit` needs, and per cell
# its tags (parameters, interactive, nbval-skip) and whether its source is hidden (the record cells).
NOTEBOOK_METADATA = ("kernelspec", "mfa_kit")
CELL_METADATA = ("tags",)


def strip(notebook: dict[str, Any]) -> dict[str, Any]:
    """`notebook` as committed: no outputs, no execution counts, only the metadata that matters."""
    metadata = {k: v for k, v in notebook.get("metadata", {}).items() if k in NOTEBOOK_METADATA}
    language = notebook.get("metadata", {}).get("language_info", {}).get("name")
    if language:
        metadata["language_info"] = {"name": language}
    return {**notebook, "metadata": metadata, "cells": [_cell(cell) for cell in notebook.get("cells", [])]}


def _cell(cell: dict[str, Any]) -> dict[str, Any]:
    old = cell.get("metadata", {})
    metadata = {k: old[k] for k in CELL_METADATA if k in old}
    if old.get("jupyter", {}).get("source_hidden"):
        metadata["jupyter"] = {"source_hidden": True}
    cell = {**cell, "metadata": metadata}
    if cell.get("cell_type") == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def dumps(notebook: dict[str, Any]) -> str:
    """As Jupyter writes a notebook (nbformat: one-space indent, sorted keys, UTF-8 kept)."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    """stdin -> stdout, as git runs a clean filter. Text that is not a notebook passes unchanged."""
    data = sys.stdin.buffer.read()
    try:
        notebook = json.loads(data)
    except ValueError:
        notebook = None
    if isinstance(notebook, dict) and "cells" in notebook:
        data = dumps(strip(notebook)).encode("utf-8")
    sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
