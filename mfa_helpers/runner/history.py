"""The run history: one JSON line per run, in runs/history.jsonl whatever the run folder, read back
for the report."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path("runs") / "history.jsonl"
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


def check(path: Path) -> None:
    """Before a run: `path` is a history file (or a new one) that can be appended to. A file with
    no history line in it is someone else's, and is left alone."""
    from .config import ConfigError, require_writable

    fix = f"pass the history file of earlier runs, or a new file name (default {DEFAULT_PATH})"
    if path.is_dir():
        raise ConfigError(f"--history {path} is a folder", fix)
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--history {path} cannot be read as text "
                              f"({exc.strerror if isinstance(exc, OSError) else 'not UTF-8'})", fix) from None
        if text.strip() and not _entries(text):
            raise ConfigError(f"--history {path} holds no run history line (one JSON object per run)", fix)
    require_writable(path, "--history")


def append(path: Path, entry: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")


def load(path: Path, last: int = SHOWN_RUNS) -> list[dict[str, Any]]:
    """The last `last` runs, oldest first; a damaged line is skipped rather than failing the report."""
    if not path.is_file():
        return []
    return _entries(path.read_text(encoding="utf-8", errors="replace"))[-last:]


def _entries(text: str) -> list[dict[str, Any]]:
    entries = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("notebooks"), dict):
            entries.append(entry)
    return entries
