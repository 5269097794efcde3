"""Start the emulator in the background and JupyterLab at the first notebook; when JupyterLab
exits, the emulator stops.

An emulator already answering on --port (`make emulator` in another terminal) is reused and left
running. MFA_KIT_LAB_COMMAND replaces `jupyter lab` (e.g. "jupyter notebook"); the notebook path
is appended to it.
"""
from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .config import DEFAULT_NOTEBOOKS_DIR, ConfigError, Environment
from .local_emulator import running_emulator

LAB_COMMAND_ENV = "MFA_KIT_LAB_COMMAND"
# Autosave writes the kit's notebooks as committed (no outputs): `git status` stays clean.
SAVE_AS_COMMITTED = "--ContentsManager.pre_save_hook=mfa_helpers.runner.strip.pre_save"
FIRST_NOTEBOOK = "01_*.ipynb"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mfa_helpers.emulator.cli import DEFAULT_PORT, port_number

    parser.add_argument("--port", type=port_number, default=DEFAULT_PORT,
                        help=f"emulator port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--notebooks-dir", type=Path, default=DEFAULT_NOTEBOOKS_DIR, help="where the notebooks are")
    parser.add_argument("--no-browser", action="store_true", default=bool(os.environ.get("CI")),
                        help="do not open a browser (default when CI is set); open the printed URL yourself")
    parser.add_argument("lab_args", nargs=argparse.REMAINDER, metavar="-- JUPYTER_ARGS",
                        help="extra arguments for jupyter lab, after --")


def run(args: argparse.Namespace) -> int:
    try:
        notebook = first_notebook(args.notebooks_dir)
        command = lab_command(notebook, args.no_browser, args.lab_args)
        Environment.load()  # a .env the notebooks could not read fails here, not in every notebook
        with emulator_for_lab(args.port) as url:
            print(f"mfa-kit lab: emulator at {url} (MFA_KIT_EMULATOR_URL); JupyterLab opens {notebook.name}",
                  file=sys.stderr)
            env = {**os.environ, "MFA_KIT_EMULATOR_URL": url}
            return run_until_exit(command, env, args.notebooks_dir.parent)
    except ConfigError as exc:
        print(f"mfa-kit lab: {exc}", file=sys.stderr)
        return 2


def first_notebook(notebooks_dir: Path) -> Path:
    found = sorted(notebooks_dir.glob(FIRST_NOTEBOOK))
    if not found:
        raise ConfigError(f"no {FIRST_NOTEBOOK} in {notebooks_dir}", "run from the kit's repository or pass --notebooks-dir")
    return found[0].resolve()


@contextmanager
def emulator_for_lab(port: int) -> Iterator[str]:
    """The emulator already on `port`, left alone, or a new one on it, stopped afterwards."""
    from mfa_helpers.emulator.cli import DEFAULT_DB
    from mfa_helpers.emulator.control import EmulatorControl

    existing = f"http://127.0.0.1:{port}"
    if port and EmulatorControl(existing).health():
        yield existing
        return
    with running_emulator(port=port, db=DEFAULT_DB) as url:  # a file: enrollments survive a lab restart
        yield url


def lab_command(notebook: Path, no_browser: bool, extra: list[str]) -> list[str]:
    """`jupyter lab NOTEBOOK` from this environment, or MFA_KIT_LAB_COMMAND's command instead."""
    replacement = os.environ.get(LAB_COMMAND_ENV, "").strip()
    try:
        base = shlex.split(replacement) if replacement else [sys.executable, "-m", "jupyterlab"]
    except ValueError as exc:  # an unbalanced quote
        raise ConfigError(f"{LAB_COMMAND_ENV}={replacement!r} cannot be split into words ({exc})",
                          f"balance its quotes, or unset {LAB_COMMAND_ENV} for jupyter lab") from None
    options = [] if replacement else [*(["--no-browser"] if no_browser else []), *_root_option(), SAVE_AS_COMMITTED]
    return [*base, *options, *[a for a in extra if a != "--"], str(notebook)]


def _root_option() -> list[str]:
    """JupyterLab refuses to run as root without --allow-root: containers and Binder-like hosts
    often are root, and `make lab` should just work there."""
    return ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


def run_until_exit(command: list[str], env: dict[str, str], cwd: Path) -> int:
    """Run `command` in the foreground; Ctrl-C is JupyterLab's to handle, SIGTERM is passed on."""
    try:
        child = subprocess.Popen(command, env=env, cwd=cwd)
    except FileNotFoundError as exc:
        raise ConfigError(f"cannot start {command[0]!r} ({exc.strerror})", f"install it or fix {LAB_COMMAND_ENV}") from exc
    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, lambda *_: None),  # the child got it too, and decides
        signal.SIGTERM: signal.signal(signal.SIGTERM, lambda sig, _: child.send_signal(sig)),
    }
    try:
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
