"""The run history: one JSON line per run, next to the run folders, read back for the report."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HISTORY_FILE = "history.jsonl"
SHOWN_RUNS = 20


def entry_for(summary: dict[str, Any]) -> dict[str, Any]:
    """The part of a summary the history keeps: per notebook status and duration."""
    return {
        "run": summary["run"],
        "started_at": summary["started_at"],
        "target": summary["target"],
        "passed": summary["passed"],
        "duration": summary["duration"],
        "nbval": summary["nbval"]["status"],
        "notebooks": {nb["name"]: {"status": nb["status"], "duration": nb["duration"]} for nb in summary["notebooks"]},
    }


def append(path: Path, entry: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")


def load(path: Path, last: int = SHOWN_RUNS) -> list[dict[str, Any]]:
    """The last `last` runs, oldest first; a damaged line is skipped rather than failing the report."""
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("notebooks"), dict):
            entries.append(entry)
    return entries[-last:]
