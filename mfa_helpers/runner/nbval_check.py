"""The nbval stage: the golden executed notebooks re-run on the same target, outputs compared
through the sanitizer file. Driven as `python -m pytest --nbval` in subprocesses (one per golden,
several at once) so the kernels get the run's environment and the kit's own test configuration
stays out of the way."""
from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .config import GoldenSet
from .executed import strip_ansi
from .tenant import factors_before, put_back, tenant_patterns

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


def check_goldens(goldens: GoldenSet, env: dict[str, str], cell_timeout: float | None, workdir: Path,
                  jobs: int = 1, on_tenant: bool = False) -> NbvalResult:
    """Run nbval over `goldens` with `env`, `jobs` golden notebooks at a time (one pytest each);
    `workdir` (outside the run folder) receives their raw JUnit files. On a tenant, the outputs
    are compared through the tenant's patterns too, and the test user is put back after each."""
    if goldens.skip_reason:
        return skipped(goldens.skip_reason)
    sanitize, plugins = goldens.sanitize, []
    if on_tenant:
        sanitize = workdir / "nbval_sanitize_tenant.cfg"
        committed = goldens.sanitize.read_text(encoding="utf-8") if goldens.sanitize else ""
        # The tenant's sections first: the committed ones rewrite 127.0.0.1:PORT addresses, which a
        # rehearsal's AUTH0_DOMAIN is.
        sanitize.write_text(tenant_patterns(env) + "\n" + committed, encoding="utf-8")
        plugins = ["-p", "mfa_helpers.runner.nbval_tenant"]

    def check(notebook: Path) -> tuple[int, list[NbvalCase], str]:
        if not on_tenant:
            return _check_one(notebook, sanitize, plugins, env, cell_timeout, workdir)
        before, problem = factors_before(env)
        har = workdir / f"nbval-{notebook.stem}.har"  # tells which factors the notebook created
        code, cases, log = _check_one(notebook, sanitize, plugins, {**env, "MFA_KIT_HAR_PATH": str(har)},
                                      cell_timeout, workdir)
        if problem is None:
            _, problem = put_back(env, before, har)
        return (code or 1, cases, f"{log}\n\n{problem}") if problem else (code, cases, log)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        checks = list(pool.map(check, goldens.notebooks))
    cases = [case for _, case_list, _ in checks for case in case_list]
    log = "\n\n".join(text for _, _, text in checks)
    broken = [code for code, _, _ in checks if code not in (0, 1)]
    if not broken and all(code == 0 for code, _, _ in checks):
        return NbvalResult("passed", "", cases, log)
    reason = f"{sum(c.failure is not None for c in cases)} of {len(cases)} golden cells differ or fail"
    if broken:
        reason = f"nbval could not run (pytest exit {broken[0]}): see nbval.log"
    return NbvalResult("failed", reason, cases, log)


def _check_one(notebook: Path, sanitize: Path | None, plugins: list[str], env: dict[str, str],
               cell_timeout: float | None, workdir: Path) -> tuple[int, list[NbvalCase], str]:
    junit = workdir / f"nbval-{notebook.stem}.xml"
    command = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-q", "-p", "no:cacheprovider",
               *plugins, f"--confcutdir={notebook.parent}", f"--junitxml={junit}"]
    if sanitize:
        command.append(f"--nbval-sanitize-with={sanitize}")
    if cell_timeout:
        command.append(f"--nbval-cell-timeout={cell_timeout:g}")
    command.append(str(notebook))
    proc = subprocess.run(command, env=env, cwd=notebook.parent, capture_output=True, text=True)
    return proc.returncode, _cases(junit), _plain(f"$ {' '.join(command)}\n\n{proc.stdout}\n{proc.stderr}")


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
