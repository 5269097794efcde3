"""The nbval stage: the notebooks the run executed, compared with the golden executed notebooks
through the sanitizer file. nbval is the checker, driven as `python -m pytest --nbval` in a
subprocess (so the kit's own test configuration stays out of the way); the `nbval_replay` plugin
gives it the run's executed notebooks in place of kernels, so no notebook is executed twice."""
from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .config import GoldenSet
from .executed import strip_ansi
from .tenant import tenant_patterns

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


def check_goldens(goldens: GoldenSet, executed: Path, env: dict[str, str], workdir: Path,
                  on_tenant: bool = False) -> NbvalResult:
    """nbval over `goldens`, each compared with the notebook of the same name in `executed` (one
    pytest for all); `workdir` (outside the run folder) receives its JUnit file. On a tenant, the
    outputs are compared through the tenant's patterns too."""
    if goldens.skip_reason:
        return skipped(goldens.skip_reason)
    # Only the plugins named here (pytest would import every installed one); the replay first, so
    # that this package's import guard (runner/__init__.py) is in place before nbval imports nbformat.
    sanitize, plugins = goldens.sanitize, ["-p", "mfa_helpers.runner.nbval_replay", "-p", "nbval.plugin",
                                           f"--nbval-replay-dir={executed}"]
    if on_tenant:
        sanitize = workdir / "nbval_sanitize_tenant.cfg"
        committed = goldens.sanitize.read_text(encoding="utf-8") if goldens.sanitize else ""
        # The tenant's sections first: the committed ones rewrite 127.0.0.1:PORT addresses, which a
        # rehearsal's AUTH0_DOMAIN is.
        sanitize.write_text(tenant_patterns(env) + "\n" + committed, encoding="utf-8")
        plugins += ["-p", "mfa_helpers.runner.nbval_tenant"]
    junit = workdir / "nbval.xml"
    folder = goldens.notebooks[0].parent
    command = [sys.executable, "-m", "pytest", "--nbval", "-q", "-p", "no:cacheprovider", *plugins,
               f"--confcutdir={folder}", f"--junitxml={junit}"]
    if sanitize:
        command.append(f"--nbval-sanitize-with={sanitize}")
    command += [str(notebook) for notebook in goldens.notebooks]
    proc = subprocess.run(command, env={**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}, cwd=folder,
                          capture_output=True, text=True)
    cases = _cases(junit)
    log = _plain(f"$ {' '.join(command)}\n\n{proc.stdout}\n{proc.stderr}")
    if proc.returncode == 0:
        return NbvalResult("passed", "", cases, log)
    reason = f"{sum(c.failure is not None for c in cases)} of {len(cases)} golden cells differ or fail"
    if proc.returncode != 1:
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
