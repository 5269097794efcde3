"""What a verification run targets and replays, checked before anything starts.

Every problem the user can fix is a `ConfigError` naming the fix; the CLI turns it into exit code 2.
"""
from __future__ import annotations

import fnmatch
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import mfa_helpers
from mfa_helpers.redact import secret_variables
from mfa_helpers.settings import Settings, SettingsError, read_dotenv

REPO_ROOT = Path(mfa_helpers.__file__).resolve().parents[1]
DEFAULT_NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
DEFAULT_GOLDEN_DIR = REPO_ROOT / "tests" / "golden"
SANITIZE_FILE = "nbval_sanitize.cfg"

# A tenant run needs these (the notebooks sign in the tenant's test user with the application).
TENANT_REQUIRED = ("AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_USERNAME", "AUTH0_PASSWORD")


class ConfigError(Exception):
    """A setting the user must change; `fix` says how."""

    def __init__(self, problem: str, fix: str) -> None:
        problem, fix = " ".join(problem.split()), " ".join(fix.split())  # said in one line
        super().__init__(f"{problem}; fix: {fix}")
        self.problem = problem
        self.fix = fix


@dataclass(frozen=True)
class Environment:
    """The environment the run sees: the process environment over a `.env` file (found upwards from
    the working directory), empty values unset."""

    values: dict[str, str]
    settings: Settings = field(default_factory=Settings)  # what the notebooks' MfaClient will read

    @classmethod
    def load(cls, environ: dict[str, str] | None = None, dotenv: Path | None = None) -> "Environment":
        """Raises ConfigError for a `.env` line that cannot be parsed, and for a setting the
        notebooks could not use (AUTH0_DOMAIN with a path, MFA_KIT_TIMEOUT=abc, ...)."""
        from dotenv import find_dotenv

        path = str(dotenv) if dotenv is not None else find_dotenv(usecwd=True)  # as the notebooks' Settings do
        try:
            merged = read_dotenv(path)
            merged.update(os.environ if environ is None else environ)
            # CI passes unset secrets as "": treat them (and blanks) as absent so "auto" does not
            # pick the tenant, as the notebooks' Settings, which strip values, would not either.
            values = {k: v for k, v in merged.items() if v.strip() != ""}
            return cls(values, Settings.from_env(values, dotenv=""))
        except SettingsError as exc:
            raise ConfigError(f"{exc.name}: {exc.problem}", exc.fix) from None

    def secrets(self) -> list[str]:
        """The values of every variable that holds a secret, for the artifact scrubber."""
        return list(secret_variables(self.values).values())


def resolve_target(requested: str, env: Environment) -> str:
    """`auto` means the tenant when AUTH0_DOMAIN is set, else the emulator; a tenant needs its settings."""
    target = requested
    if requested == "auto":
        target = "tenant" if "AUTH0_DOMAIN" in env.values else "emulator"
    if target == "tenant":
        missing = [name for name in TENANT_REQUIRED if name not in env.values]
        if missing:
            reason = "--target tenant" if requested == "tenant" else "AUTH0_DOMAIN is set, so the run targets the tenant"
            raise ConfigError(
                f"{reason}, but {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set",
                f"set {', '.join(missing)} in the environment or in .env (see the README's "
                "'Configuration for a real tenant'), or run against the emulator with --target emulator",
            )
    return target


def check_run_folder(out: Path) -> None:
    """The run folder is new (or empty) and can be created: found out before any notebook runs,
    not after every one did."""
    try:
        if out.exists() and not out.is_dir():
            raise ConfigError(f"--out {out} is a file, not a folder", "pass a new folder, e.g. --out runs/NAME")
        if out.is_dir() and any(out.iterdir()):
            raise ConfigError(f"the run folder {out} already exists and is not empty",
                              "pass a new --out DIR or remove it")
    except OSError as exc:
        raise ConfigError(f"--out {out} cannot be read ({exc.strerror})", "pass a folder you can write") from None
    require_writable(out, "--out")


def require_writable(path: Path, option: str) -> None:
    """`path` (a folder or a file, existing or not) can be written: its nearest existing ancestor is
    a folder that takes a new file. Probed with a temporary file, removed at once, as permissions
    alone do not say (root, read-only mounts)."""
    ancestor = path
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if ancestor != path and not ancestor.is_dir():
        raise ConfigError(f"{option} {path} is under {ancestor}, which is a file",
                          f"pass a {option} path whose folders are folders")
    folder = ancestor if ancestor.is_dir() else ancestor.parent
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise ConfigError(f"{option} {path} cannot be written: {folder} refuses new files ({exc.strerror})",
                          f"pass a {option} path in a folder you can write") from None


def default_jobs(target: str, notebook_count: int) -> int:
    """One per core on the emulator; one on a tenant, whose single test user the notebooks share."""
    if target == "tenant":
        return 1
    return max(1, min(os.cpu_count() or 1, notebook_count))


def select_notebooks(notebooks_dir: Path, patterns: list[str]) -> list[Path]:
    """The notebooks to replay: all of `notebooks_dir`, or those matching a pattern or named by a path.

    A pattern matches a notebook's file name or stem (`03*`, `03_enroll_otp`); a pattern without
    wildcards also matches as a prefix, so `mfa-kit verify 03` works.
    """
    named = [Path(p) for p in patterns if p.endswith(".ipynb") and Path(p).is_file()]
    globs = [p for p in patterns if Path(p) not in named]
    available: list[Path] = []
    if globs or not patterns:
        if not notebooks_dir.is_dir():
            raise ConfigError(
                f"notebooks directory {notebooks_dir} does not exist",
                "run from the kit's repository (pip install -e .) or pass --notebooks-dir DIR",
            )
        available = sorted(p for p in notebooks_dir.glob("*.ipynb") if not p.name.startswith(("_", ".")))
    selected = list(dict.fromkeys(p.resolve() for p in named))
    if not patterns:
        selected = [p.resolve() for p in available]
    for pattern in globs:
        matches = [p.resolve() for p in available if _matches(p, pattern)]
        if not matches:
            names = ", ".join(p.name for p in available) or "none"
            raise ConfigError(
                f"no notebook in {notebooks_dir} matches {pattern!r} (available: {names})",
                "pass a glob such as '03*' or a notebook path, or point --notebooks-dir at the folder",
            )
        selected.extend(m for m in matches if m not in selected)
    if not selected:
        raise ConfigError(f"no notebooks found in {notebooks_dir}", "pass --notebooks-dir DIR or notebook paths")
    _require_unique_names(selected)
    for path in selected:
        _require_notebook(path)
    return selected


def _require_notebook(path: Path) -> None:
    """A file Jupyter can open; anything else would fail only once the emulator and a kernel ran.

    Checked as nbformat's reader does before it converts (JSON, a known major version, v4's cells),
    without importing nbformat: its import (jsonschema) would cost every run a third of a second
    before the first notebook starts.
    """
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    except UnicodeDecodeError:
        reason = "not UTF-8"
    except ValueError as exc:  # the message quotes the file, which may hold a secret: not shown
        reason = type(exc).__name__
    else:
        reason = _notebook_shape_problem(data)
    if reason:
        raise ConfigError(f"{path} is not a notebook Jupyter can open ({reason})",
                          "select .ipynb files saved by Jupyter, or repair this one")


def _notebook_shape_problem(data: object) -> str | None:
    if not isinstance(data, dict):
        return "not a JSON object"
    version = data.get("nbformat")
    if version not in (3, 4):
        return f"nbformat version {version!r}, not 3 or 4"
    cells = data.get("cells") if version == 4 else data.get("worksheets")
    if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
        return "no list of cells"
    return None


def _matches(path: Path, pattern: str) -> bool:
    if any(fnmatch.fnmatch(name, pattern) for name in (path.name, path.stem)):
        return True
    return not any(ch in pattern for ch in "*?[") and path.name.startswith(pattern)


def _require_unique_names(paths: list[Path]) -> None:
    seen: dict[str, Path] = {}
    for path in paths:
        if path.stem in seen:
            raise ConfigError(
                f"two selected notebooks share the name {path.stem!r} ({seen[path.stem]} and {path})",
                "select only one of them: the run folder names artifacts after the notebook",
            )
        seen[path.stem] = path


@dataclass(frozen=True)
class GoldenSet:
    """The golden notebooks nbval re-checks, or why that stage is skipped."""

    notebooks: list[Path] = field(default_factory=list)
    sanitize: Path | None = None
    skip_reason: str | None = None

    def select(self, keep: set[str]) -> "GoldenSet":
        """The goldens named in `keep`: those of the notebooks the run replays, whose executed
        notebooks nbval compares with them."""
        if self.skip_reason:
            return self
        kept = [nb for nb in self.notebooks if nb.stem in keep]
        if not kept:
            return GoldenSet(skip_reason="no golden notebook for the notebooks replayed")
        return GoldenSet(kept, self.sanitize)


def find_goldens(golden_dir: Path, explicit: bool) -> GoldenSet:
    """Goldens in `golden_dir`; a missing default folder skips the stage, a missing explicit one is an error."""
    if not golden_dir.is_dir():
        if explicit:
            raise ConfigError(f"golden directory {golden_dir} does not exist", "pass an existing --golden-dir or --no-nbval")
        return GoldenSet(skip_reason=f"no golden directory at {golden_dir}")
    notebooks = sorted(golden_dir.glob("*.ipynb"))
    if not notebooks:
        return GoldenSet(skip_reason=f"no golden notebooks in {golden_dir}")
    sanitize = next((d / SANITIZE_FILE for d in (golden_dir, golden_dir.parent) if (d / SANITIZE_FILE).is_file()), None)
    return GoldenSet(notebooks=notebooks, sanitize=sanitize)
