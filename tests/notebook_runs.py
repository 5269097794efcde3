"""Run the kit's notebooks headless with papermill, several at once, against one emulator.

Shared by tests/test_notebooks.py and tests/golden/regenerate.py. Each notebook runs in its own
papermill process (its own kernel), with the environment a headless runner gives it: MFA_KIT_HEADLESS=1,
MFA_KIT_EMULATOR_URL, MFA_KIT_HAR_PATH, and every AUTH0_* variable blanked so that a developer's
`.env` can never point a test at a real tenant.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from mfa_helpers import redact
from mfa_helpers.settings import ENV

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = REPO / "notebooks"
GOLDEN_DIR = REPO / "tests" / "golden"
SANITIZE_CFG = GOLDEN_DIR / "nbval_sanitize.cfg"
NOTEBOOK_TIMEOUT = 300  # seconds for one notebook


@dataclass(frozen=True)
class Run:
    name: str
    executed: Path
    har: Path
    returncode: int
    log: str
    seconds: float


def notebook_names() -> list[str]:
    return sorted(p.stem for p in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def headless_env(emulator_url: str, **extra: str) -> dict[str, str]:
    """The environment of a headless run on the emulator (no tenant settings leak in)."""
    env = {**os.environ, **{var: "" for var in ENV.values() if var.startswith("AUTH0_")}}
    env.update(MFA_KIT_HEADLESS="1", MFA_KIT_EMULATOR_URL=emulator_url, PYTHONUNBUFFERED="1", **extra)
    return env


def run_one(name: str, out_dir: Path, emulator_url: str) -> Run:
    executed, har = out_dir / f"{name}.ipynb", out_dir / f"{name}.har"
    command = [sys.executable, "-m", "papermill", str(NOTEBOOKS_DIR / f"{name}.ipynb"), str(executed),
               "-k", "python3", "--cwd", str(NOTEBOOKS_DIR), "--no-progress-bar",
               "--execution-timeout", str(NOTEBOOK_TIMEOUT)]
    started = time.monotonic()
    try:
        proc = subprocess.run(command, env=headless_env(emulator_url, MFA_KIT_HAR_PATH=str(har)),
                              capture_output=True, text=True, timeout=NOTEBOOK_TIMEOUT + 60)
        code, log = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        code, log = -1, f"timed out after {exc.timeout} s"
    return Run(name, executed, har, code, log, time.monotonic() - started)


def run_headless(names: list[str], out_dir: Path, emulator_url: str, workers: int | None = None) -> dict[str, Run]:
    """Execute `names` in parallel (default: all at once up to 2 per core, at least 3)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    workers = workers or max(3, min(len(names), 2 * (os.cpu_count() or 1)))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        runs = pool.map(lambda name: run_one(name, out_dir, emulator_url), names)
        return {run.name: run for run in runs}


# What a leaked secret looks like in a notebook, a HAR or a golden (redacted forms never match).
SECRET_SHAPES = [
    redact.JWT_RE,                                    # a whole JWT, signature included
    redact.SEALED_RE,                                 # an mfa_token / oob_code
    re.compile(r"otpauth://[^\"'\s]*secret="),        # an otpauth URI with its TOTP seed
    re.compile(r"(?<![A-Za-z0-9])[A-Z2-7]{32}(?![A-Za-z0-9])"),  # a base32 TOTP seed
    re.compile(r"(?<![A-Za-z0-9_|])[A-Z0-9]{24}(?![A-Za-z0-9])"),  # a recovery code
    re.compile(r"-secret-local-emulator-only"),       # the demo clients' secrets
    re.compile(r"\bPw-[A-Za-z0-9_-]{8,}"),             # the emulator's fresh-user passwords
]


def leaks(text: str) -> list[str]:
    """Every substring of `text` shaped like a secret."""
    return [m.group(0) for shape in SECRET_SHAPES for m in shape.finditer(text)]
