"""Notebooks saved as committed: what a run adds (outputs, execution counts, widget state, the
kernel's language_info, view metadata) is dropped when JupyterLab saves one of the kit's notebooks,
so that running and autosaving them during `make lab` leaves `git status` clean. (A git clean
filter, nbstripout's way, is not enough: `git status` flags a file whose size changed without
running the filter.) The outputs stay on screen during the session; reopened, the notebook is as
committed, ready to run again. tests/test_notebooks_contract.py checks the committed form.
"""
from __future__ import annotations

import json
from pathlib import PurePosixPath
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
    metadata = {k: old[k] for k in CELL_METADATA if old.get(k)}  # papermill adds "tags": []
    if old.get("jupyter", {}).get("source_hidden"):
        metadata["jupyter"] = {"source_hidden": True}
    cell = {**cell, "metadata": metadata}
    if cell.get("cell_type") == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def dumps(notebook: dict[str, Any]) -> str:
    """As Jupyter writes a notebook (nbformat: one-space indent, sorted keys, UTF-8 kept)."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def pre_save(model: dict[str, Any], path: str, **_: Any) -> None:
    """Jupyter Server's pre_save_hook (`mfa-kit lab` sets it): strip notebooks/*.ipynb."""
    if model.get("type") == "notebook" and PurePosixPath(path).parent.name == "notebooks":
        import nbformat
        model["content"] = nbformat.from_dict(strip(model["content"]))
