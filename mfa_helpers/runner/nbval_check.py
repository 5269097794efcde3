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


class GoldenCheck:
    """nbval over `goldens`, each compared with the notebook of the same name in `executed`, in one
    pytest subprocess that starts as soon as every notebook with a golden has run (`done(name)`
    for each), so the comparison overlaps the notebooks still running; `result()` waits for it.

    `workdir` (outside the run folder) receives its JUnit file and output. On a tenant, the outputs
    are compared through the tenant's patterns too. Leaving the block stops a check still running.
    """

    def __init__(self, goldens: GoldenSet, executed: Path, env: dict[str, str], workdir: Path,
                 on_tenant: bool = False) -> None:
        self.goldens, self.executed, self.env, self.workdir, self.on_tenant = goldens, executed, env, workdir, on_tenant
        self._waiting = {notebook.stem for notebook in goldens.notebooks}
        self._command: list[str] = []
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "GoldenCheck":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def done(self, name: str) -> None:
        """The notebook `name` has run (passed or not): its executed notebook is final."""
        self._waiting.discard(name)
        if not self._waiting:
            self.start()

    def start(self) -> None:
        if self._process is not None or self.goldens.skip_reason:
            return
        self._command = self._pytest_command()
        with (self.workdir / "nbval.out").open("wb") as out, (self.workdir / "nbval.err").open("wb") as err:
            self._process = subprocess.Popen(self._command, env={**self.env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
                                             cwd=self.goldens.notebooks[0].parent, stdout=out, stderr=err)

    def result(self) -> NbvalResult:
        """nbval's verdict, once it has finished (started now if no `done` started it)."""
        if self.goldens.skip_reason:
            return skipped(self.goldens.skip_reason)
        self.start()
        assert self._process is not None
        returncode = self._process.wait()
        output = [(self.workdir / name).read_text(encoding="utf-8", errors="replace") for name in ("nbval.out", "nbval.err")]
        cases = _cases(self.workdir / "nbval.xml")
        log = _plain(f"$ {' '.join(self._command)}\n\n{output[0]}\n{output[1]}")
        if returncode == 0:
            return NbvalResult("passed", "", cases, log)
        reason = f"{sum(c.failure is not None for c in cases)} of {len(cases)} golden cells differ or fail"
        if returncode != 1:
            reason = f"nbval could not run (pytest exit {returncode}): see nbval.log"
        return NbvalResult("failed", reason, cases, log)

    def _pytest_command(self) -> list[str]:
        # Only the plugins named here (pytest would import every installed one); the replay first, so
        # that this package's import guard (runner/__init__.py) is in place before nbval imports nbformat.
        sanitize, plugins = self.goldens.sanitize, ["-p", "mfa_helpers.runner.nbval_replay", "-p", "nbval.plugin",
                                                    f"--nbval-replay-dir={self.executed}"]
        if self.on_tenant:
            from .tenant import tenant_patterns

            sanitize = self.workdir / "nbval_sanitize_tenant.cfg"
            committed = self.goldens.sanitize.read_text(encoding="utf-8") if self.goldens.sanitize else ""
            # The tenant's sections first: the committed ones rewrite 127.0.0.1:PORT addresses, which a
            # rehearsal's AUTH0_DOMAIN is.
            sanitize.write_text(tenant_patterns(self.env) + "\n" + committed, encoding="utf-8")
            plugins += ["-p", "mfa_helpers.runner.nbval_tenant"]
        command = [sys.executable, "-m", "pytest", "--nbval", "-q", "-p", "no:cacheprovider", *plugins,
                   f"--confcutdir={self.goldens.notebooks[0].parent}", f"--junitxml={self.workdir / 'nbval.xml'}"]
        if sanitize:
            command.append(f"--nbval-sanitize-with={sanitize}")
        return command + [str(notebook) for notebook in self.goldens.notebooks]


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
