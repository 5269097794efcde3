"""Replay the notebooks headless, check the golden notebooks, and write a report.

Exit codes: 0 every notebook (and the golden check) passed, 1 something failed, 2 a configuration
error (one line naming the fix, before anything runs), 128+N stopped by signal N (SIGTERM, Ctrl-C).
The last lines printed name the target and the report's path.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import history
from .config import (
    DEFAULT_GOLDEN_DIR, DEFAULT_NOTEBOOKS_DIR, ConfigError, Environment, GoldenSet, check_run_folder, default_jobs,
    find_goldens, resolve_target, select_notebooks,
)
from .executed import cleaned, find_failure, recorded_results
from .interrupt import Interrupted, stop_children_on_signal
from .junit import junit_xml
from .local_emulator import demo_secrets, running_emulator
from .nbval_check import GoldenCheck, NbvalResult
from .pool import Job, Outcome, Workers
from .report import render_report, target_label
from .scrub import Scrubber


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebooks", nargs="*", metavar="NOTEBOOK_GLOB",
                        help="notebooks to replay: globs on names in --notebooks-dir ('03*'), prefixes ('03') "
                             "or paths (default: all)")
    parser.add_argument("--out", type=Path, help="run folder to write (default: runs/<UTC timestamp>/)")
    parser.add_argument("--jobs", type=_positive_int, help="notebooks replayed at once (default: one per core on "
                        "the emulator, 1 on a tenant, whose test user the notebooks share)")
    parser.add_argument("--target", choices=("auto", "emulator", "tenant"), default="auto",
                        help="auto (default): the tenant when AUTH0_DOMAIN is set, else a fresh emulator")
    parser.add_argument("--notebooks-dir", type=Path, default=DEFAULT_NOTEBOOKS_DIR, help="where the notebooks are")
    parser.add_argument("--golden-dir", type=Path, help=f"golden executed notebooks for nbval (default: {DEFAULT_GOLDEN_DIR})")
    parser.add_argument("--no-nbval", action="store_true", help="skip the golden-notebook check")
    parser.add_argument("--timeout", type=_positive_seconds, default=300, metavar="S",
                        help="seconds one cell may run before the notebook fails (default: 300; fractions allowed)")
    parser.add_argument("--history", type=Path, default=history.DEFAULT_PATH,
                        help=f"history file (default: {history.DEFAULT_PATH}, whatever --out says)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0 (e.g. 300 or 10.5)")
    return value


def run(args: argparse.Namespace) -> int:
    try:
        plan = _plan(args)
    except ConfigError as exc:
        print(f"mfa-kit verify: {exc}", file=sys.stderr)
        return 2
    try:
        with stop_children_on_signal():
            summary = _execute(plan)
    except ConfigError as exc:
        print(f"mfa-kit verify: {exc}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        print(f"mfa-kit verify: stopped by {exc.name}: kernels, emulator and temporary files cleaned up, "
              "no report written", file=sys.stderr)
        return 128 + exc.signum
    for nb in summary["notebooks"]:
        detail = f"  {nb['failure']['headline']}" if nb["failure"] else ""
        print(f"{nb['status'].upper():6} {nb['name']}  {nb['duration']:.1f}s{detail}")
    print(f"nbval  {summary['nbval']['status']}{': ' + summary['nbval']['reason'] if summary['nbval']['reason'] else ''}")
    print(f"{summary['counts']['passed']} passed, {summary['counts']['failed']} failed in {summary['duration']:.1f}s")
    print(f"target: {target_label(summary)}")
    print(f"report: {plan.out / 'report.html'}")
    return summary["exit_code"]


@dataclass(frozen=True)
class Plan:
    """A run, fully checked before anything starts, so a configuration error leaves nothing behind."""

    env: Environment
    target: str
    notebooks: list[Path]
    goldens: GoldenSet
    started: datetime
    out: Path
    history: Path
    jobs: int
    cell_timeout: float
    left_out: dict[Path, str]  # on a tenant: notebooks a headless run cannot replay there, and why


def _plan(args: argparse.Namespace) -> Plan:
    env = Environment.load()
    target = resolve_target(args.target, env)
    notebooks = select_notebooks(args.notebooks_dir, args.notebooks)
    left_out = {}
    if target == "tenant":
        from .tenant import not_replayable
        left_out = not_replayable(notebooks, env.values)
    notebooks = [nb for nb in notebooks if nb not in left_out]
    if not notebooks:
        raise ConfigError("none of the selected notebooks can be replayed headless on a tenant: "
                          + "; ".join(f"{nb.stem} {why}" for nb, why in left_out.items()),
                          "select others, or run these against the emulator (--target emulator)")
    if args.no_nbval:
        goldens = GoldenSet(skip_reason="--no-nbval")
    else:
        goldens = find_goldens(args.golden_dir or DEFAULT_GOLDEN_DIR, explicit=args.golden_dir is not None)
        goldens = goldens.select(keep={nb.stem for nb in notebooks})
    started = datetime.now(timezone.utc)
    out = args.out or _fresh_run_dir(Path("runs"), started)
    check_run_folder(out)
    history.check(args.history)
    if target == "tenant" and args.jobs and args.jobs > 1:
        print("mfa-kit verify: warning: notebooks share the tenant's test user; --jobs > 1 may make them collide",
              file=sys.stderr)
    return Plan(env, target, notebooks, goldens, started, out, args.history,
                args.jobs or default_jobs(target, len(notebooks)), args.timeout, left_out)


def _fresh_run_dir(parent: Path, started: datetime) -> Path:
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    candidate, n = parent / stamp, 1
    while candidate.exists():
        n += 1
        candidate = parent / f"{stamp}-{n}"
    return candidate


def _execute(plan: Plan) -> dict[str, Any]:
    began = time.time()
    on_tenant = plan.target == "tenant"
    with tempfile.TemporaryDirectory(prefix="mfa-kit-verify-") as staging_dir:
        staging = Path(staging_dir)
        with Workers(plan.jobs) as workers, _kernel_environment(plan.env, plan.target) as (kernel_env, target_secrets):
            scrubber = Scrubber(plan.env.secrets() + target_secrets)
            if on_tenant:  # before any output: a test user with factors is one line, exit 2
                from .tenant import TestUser
                TestUser(kernel_env).check_ready()
            where = (f" at {kernel_env['MFA_KIT_EMULATOR_URL']}" if plan.target == "emulator"
                     else f" {plan.env.settings.domain}")
            print(f"mfa-kit verify: {len(plan.notebooks)} notebook(s) on the {plan.target}{where}, "
                  f"{plan.jobs} at a time", file=sys.stderr)
            for notebook, why in plan.left_out.items():
                print(f"mfa-kit verify: not replayed on a tenant: {notebook.stem}: it {why}", file=sys.stderr)
            _announce_nbval(plan.goldens)
            jobs = [Job.staged(nb, staging, kernel_env, plan.cell_timeout, restore_user=on_tenant)
                    for nb in plan.notebooks]
            collected: dict[Path, Collected] = {}
            with GoldenCheck(plan.goldens, staging / "executed", kernel_env, staging, on_tenant) as golden_check:
                def finished(job: Job, outcome: Outcome) -> None:
                    collected[job.notebook] = _collect(job, outcome, scrubber)
                    golden_check.done(job.notebook.stem)

                workers.replay_all(_goldens_first(jobs, plan.goldens), on_done=finished)
                nbval = golden_check.result()
    notebooks = [collected[job.notebook].write(plan.out) for job in jobs]
    if nbval.log:
        scrubber.write_text(plan.out / "nbval.log", nbval.log)
    summary = scrubber.tree(_summary(plan, notebooks, nbval, began))
    scrubber.write_json(plan.out / "summary.json", summary)
    scrubber.write_text(plan.out / "junit.xml", junit_xml(summary))
    history.append(plan.history, history.entry_for(summary))
    scrubber.write_text(plan.out / "report.html", render_report(summary, history.load(plan.history)))
    return summary


def _goldens_first(jobs: list[Job], goldens: GoldenSet) -> list[Job]:
    """The notebooks nbval waits for go first, so that its check overlaps the others' runs."""
    compared = {notebook.stem for notebook in goldens.notebooks}
    return sorted(jobs, key=lambda job: job.notebook.stem not in compared)


@contextmanager
def _kernel_environment(env: Environment, target: str) -> Iterator[tuple[dict[str, str], list[str]]]:
    """The kernels' environment and the target's own secrets (the emulator's demo credentials).

    Headless always; on the emulator, its URL and no AUTH0_* setting to divert the notebooks.
    """
    base = {**env.values, "MFA_KIT_HEADLESS": "1", "PYTHONUNBUFFERED": "1"}
    if target == "tenant":
        yield base, []
        return
    # Blank rather than absent: the notebooks' Settings would fill absent ones from a .env file.
    blanked = {name: "" for name in base if name.startswith("AUTH0_")} | {"AUTH0_DOMAIN": ""}
    with running_emulator() as url:
        yield {**base, **blanked, "MFA_KIT_EMULATOR_URL": url}, demo_secrets(url)


def _announce_nbval(goldens: GoldenSet) -> None:
    if goldens.skip_reason:
        print(f"mfa-kit verify: nbval skipped: {goldens.skip_reason}", file=sys.stderr)
    else:
        print(f"mfa-kit verify: nbval compares {len(goldens.notebooks)} executed notebook(s) with their goldens",
              file=sys.stderr)


@dataclass(frozen=True)
class Collected:
    """One notebook's artifacts, already scrubbed, and its summary entry: written at the end, so that
    a run stopped half-way leaves no run folder."""

    entry: dict[str, Any]
    files: dict[str, str]  # path in the run folder -> scrubbed text
    failed_har: str | None  # the HAR to diagnose once written: the notebook failed

    def write(self, out: Path) -> dict[str, Any]:
        for name, text in self.files.items():
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if self.failed_har is None:
            return self.entry
        from .diagnosis import diagnose_har

        return {**self.entry, "diagnosis": diagnose_har(out / self.failed_har)}


def _collect(job: Job, outcome: Outcome, scrubber: Scrubber) -> Collected:
    """One notebook's artifacts read from staging and scrubbed, and its summary entry."""
    name = job.notebook.stem
    files: dict[str, str] = {}
    executed = har = log = failure = None
    results: list[dict[str, Any]] = []
    if job.executed.is_file():
        nb = json.loads(job.executed.read_text(encoding="utf-8"))
        failure = find_failure(nb, outcome.error, outcome.in_cell)
        results = recorded_results(nb)
        executed = f"notebooks/{job.notebook.name}"
        files[executed] = scrubber.json_text(cleaned(nb))
    elif outcome.error:
        failure = find_failure({}, outcome.error, outcome.in_cell)
    if job.har.is_file():
        har = f"har/{name}.har"
        text = job.har.read_text(encoding="utf-8", errors="replace")
        try:
            files[har] = scrubber.json_text(json.loads(text))
        except json.JSONDecodeError:
            files[har] = scrubber.text(text)
    if job.log.is_file() and job.log.stat().st_size:
        log = f"logs/{name}.log"
        files[log] = scrubber.text(job.log.read_text(encoding="utf-8", errors="replace"))
    entry = {
        "name": name,
        "source": str(job.notebook),
        "status": "failed" if outcome.error else "passed",
        "duration": round(outcome.duration, 2),
        "executed": executed,
        "har": har,
        "log": log,
        "failure": None if failure is None else {**vars(failure), "headline": failure.headline},
        "left_behind": list(outcome.left_behind),
        "results": [{"key": r.get("key"), "value": r.get("value")} for r in results],
        "diagnosis": [],
    }
    return Collected(entry, files, har if har and outcome.error else None)


def _summary(plan: Plan, notebooks: list[dict[str, Any]], nbval: NbvalResult, began: float) -> dict[str, Any]:
    failed = sum(nb["status"] != "passed" for nb in notebooks)
    passed = failed == 0 and nbval.status != "failed"
    return {
        "schema": 1,
        "run": plan.out.name,
        "started_at": plan.started.isoformat(timespec="seconds"),
        "duration": round(time.time() - began, 2),
        "target": plan.target,
        "tenant_domain": plan.env.settings.domain if plan.target == "tenant" else None,
        "jobs": plan.jobs,
        "passed": passed,
        "exit_code": 0 if passed else 1,
        "counts": {"passed": len(notebooks) - failed, "failed": failed},
        "left_out": [{"name": nb.stem, "reason": why} for nb, why in plan.left_out.items()],
        "notebooks": notebooks,
        "nbval": {**nbval.to_dict(), "log": "nbval.log" if nbval.log else None},
    }
