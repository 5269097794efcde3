"""What both benchmarks share: percentiles, ratios to a baseline, the stdout table, the JSON file.

Figures are ratios against a baseline measured in the same run, because absolute numbers say more
about the machine than about the kit; the helpers here make that the easy thing to report.
"""
from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100): always a value that was measured; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))]


def ratio(value: float | None, base: float | None) -> float | None:
    """value / base, rounded for reading; None when either side is missing or the base is zero."""
    if value is None or not base:
        return None
    return round(value / base, 2)


@dataclass
class Stopwatch:
    """Wall-clock seconds of a `with timed() as watch:` block (perf_counter, so monotonic)."""

    started: float = 0.0
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Stopwatch]:
    watch = Stopwatch(started=time.perf_counter())
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - watch.started


def fmt(value: Any, digits: int = 1, suffix: str = "") -> str:
    """A table cell: numbers rounded, missing values as a dash."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}{suffix}"
    return f"{value}{suffix}"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None) -> None:
    """A plain aligned table on stdout: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    if title:
        print(title)
    print(line(headers))
    print(line(["-" * w for w in widths]))
    for row in rows:
        print(line(row))
    print()


def machine() -> dict[str, Any]:
    """Enough about the machine to read absolute figures in the JSON with the right suspicion."""
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def write_json(path: Path | None, data: dict[str, Any]) -> None:
    """Write the figures when --json was given (parents created); a no-op otherwise."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"figures written to {path}", file=sys.stderr)
