"""The nbval stage: the golden executed notebooks re-run on the same target, outputs compared
through the sanitizer file. Driven as `python -m pytest --nbval` in a subprocess so the kernels get
the run's environment and the kit's own test configuration stays out of the way."""
from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .config import GoldenSet
from .executed import strip_ansi

JUNIT_ANSI = re.compile(r"#x1B\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class NbvalCase:
    name: str
    failure: str | None  # the failure/error message, None when the case passed


@dataclass(frozen=True)
class NbvalResult:
    status: str  # passed | failed | skipped
    reason: str = ""
    cases: list[NbvalCase] = field(default_factory=list)
    log: str = ""

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "reason": self.reason,
            "tests": len(self.cases),
            "failed": sum(c.failure is not None for c in self.cases),
            "cases": [{"name": c.name, "failure": c.failure} for c in self.cases],
        }


def skipped(reason: str) -> NbvalResult:
    return NbvalResult("skipped", reason)


def check_goldens(goldens: GoldenSet, env: dict[str, str], cell_timeout: float | None, workdir: Path) -> NbvalResult:
    """Run nbval over `goldens` with `env`; `workdir` (outside the run folder) receives its raw JUnit."""
    if goldens.skip_reason:
        return skipped(goldens.skip_reason)
    junit = workdir / "nbval-junit.xml"
    command = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-q", "-p", "no:cacheprovider",
               f"--confcutdir={goldens.notebooks[0].parent}", f"--junitxml={junit}"]
    if goldens.sanitize:
        command.append(f"--nbval-sanitize-with={goldens.sanitize}")
    if cell_timeout:
        command.append(f"--nbval-cell-timeout={cell_timeout:g}")
    command += [str(p) for p in goldens.notebooks]
    proc = subprocess.run(command, env=env, cwd=goldens.notebooks[0].parent, capture_output=True, text=True)
    log = _plain(f"$ {' '.join(command)}\n\n{proc.stdout}\n{proc.stderr}")
    cases = _cases(junit)
    if proc.returncode == 0:
        return NbvalResult("passed", "", cases, log)
    reason = f"{sum(c.failure is not None for c in cases)} of {len(cases)} golden cells differ or fail"
    if proc.returncode not in (0, 1):
        reason = f"nbval could not run (pytest exit {proc.returncode}): see nbval.log"
    return NbvalResult("failed", reason, cases, log)


def _plain(text: str) -> str:
    """Without nbval's colours, raw or as pytest's JUnit writer escapes them (#x1B[91m)."""
    return strip_ansi(JUNIT_ANSI.sub("", text)).strip()


def _cases(junit: Path) -> list[NbvalCase]:
    if not junit.is_file():
        return []
    cases = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        message = None if problem is None else _plain(problem.text or problem.get("message") or "failed")
        if case.find("skipped") is None or problem is not None:
            cases.append(NbvalCase(f"{case.get('classname', '')}::{case.get('name', '')}", message))
    return cases
