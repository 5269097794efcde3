"""Replays notebooks with papermill in a process pool, with a progress bar (done, running, failed).

Each worker process runs one notebook at a time, so it can give the kernel its own environment
(the HAR path differs per notebook) by setting its process environment for the duration.
"""
from __future__ import annotations

import atexit
import logging
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm


@dataclass(frozen=True)
class Job:
    """One notebook to replay; `executed`, `har` and `log` are staging paths outside the run folder."""

    notebook: Path
    executed: Path
    har: Path
    log: Path  # the kernel's and papermill's own stdout/stderr, kept off the progress bar
    env: dict[str, str]
    cell_timeout: float | None
    restore_user: bool = False  # on a tenant: remove what the notebook left on the shared test user

    @classmethod
    def staged(cls, notebook: Path, staging: Path, env: dict[str, str], cell_timeout: float | None,
               restore_user: bool = False) -> "Job":
        """A job whose outputs land under `staging`; the notebook saves its HAR where MFA_KIT_HAR_PATH says."""
        har = staging / "har" / f"{notebook.stem}.har"
        for path in (staging / "executed", har.parent, staging / "logs"):
            path.mkdir(parents=True, exist_ok=True)
        return cls(notebook, staging / "executed" / notebook.name, har, staging / "logs" / f"{notebook.stem}.log",
                   {**env, "MFA_KIT_HAR_PATH": str(har)}, cell_timeout, restore_user)


@dataclass(frozen=True)
class Outcome:
    """What the worker saw; the cell-level story is read back from the executed notebook."""

    notebook: Path
    started_at: float
    finished_at: float
    error: str | None  # "ExceptionName: message" when the notebook failed, else None
    in_cell: bool = False  # the error is a cell's own exception (not a timeout or a dead kernel)
    left_behind: tuple[str, ...] = ()  # tenant: authenticators the notebook left, removed by the runner

    @property
    def duration(self) -> float:
        return self.finished_at - self.started_at


def replay(job: Job) -> Outcome:
    """Run one notebook headless (in a pool worker); never raises, the failure is in the Outcome."""
    import papermill
    from papermill.engines import papermill_engines
    from papermill.exceptions import PapermillExecutionError

    before, error = frozenset(), None
    if job.restore_user:  # on a tenant: what is on the shared test user before, told apart after
        from .tenant import factors_before
        before, error = factors_before(job.env)
    if error:
        now = time.time()
        return Outcome(job.notebook, now, now, error)
    papermill_engines.register(SAVE_AT_END, _save_at_end_engine())
    saved_env, saved_fds = dict(os.environ), {fd: os.dup(fd) for fd in (1, 2)}
    os.environ.clear()
    os.environ.update(job.env)
    log = job.log.open("ab")
    for fd in saved_fds:
        os.dup2(log.fileno(), fd)  # the kernel inherits both
    started = time.time()
    error, in_cell = None, False
    try:
        papermill.execute_notebook(
            str(job.notebook),
            str(job.executed),
            cwd=str(job.notebook.parent),
            kernel_name=_kernel_name(job.notebook),
            # nbclient counts whole seconds: a fraction (--timeout 10.5) rounds up
            execution_timeout=math.ceil(job.cell_timeout) if job.cell_timeout else None,
            progress_bar=False,
            log_output=False,
            engine_name=SAVE_AT_END,
        )
    except PapermillExecutionError as exc:
        error, in_cell = f"{exc.ename}: {exc.evalue}", True
    except Exception as exc:  # kernel death, cell timeout, unreadable notebook: all a failed notebook
        error = f"{type(exc).__name__}: {exc}"
    finally:
        for fd, saved in saved_fds.items():
            os.dup2(saved, fd)
            os.close(saved)
        log.close()
        os.environ.clear()
        os.environ.update(saved_env)
    finished = time.time()
    left_behind: tuple[str, ...] = ()
    if job.restore_user:
        from .tenant import put_back
        left_behind, restore_error = put_back(job.env, before, job.har)
        if restore_error:  # told even when a cell failed first: the user's state is the next notebook's
            error, in_cell = f"{error}; {restore_error}" if error else restore_error, False
    return Outcome(job.notebook, started, finished, error, in_cell, left_behind)


SAVE_AT_END = "mfa-kit-save-at-end"


def _save_at_end_engine() -> type:
    """papermill's nbclient engine, writing the executed notebook when the run stops (passed, failed,
    timed out or with a dead kernel, cell statuses included) rather than twice per cell as well:
    each write validates and serialises the whole notebook, which cost more than the cells' work."""
    from papermill.engines import NBClientEngine

    class SaveAtEnd(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):  # type: ignore[no-untyped-def]
            output_path, nb_man.output_path = nb_man.output_path, None  # no save per cell
            try:
                super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            finally:
                nb_man.output_path = output_path  # papermill's notebook_complete() then saves it

    return SaveAtEnd


def _kernel_name(notebook: Path) -> str:
    """The notebook's kernel, or python3 for a notebook saved without kernelspec metadata."""
    import nbformat

    spec = nbformat.read(notebook, as_version=4).metadata.get("kernelspec", {})
    return spec.get("name") or "python3"


class Workers:
    """The pool's processes, started as the block opens (`with Workers(n) as workers:`), so that
    their start (a Python and papermill's imports each) overlaps whatever comes before the first
    notebook, such as the emulator's start."""

    def __init__(self, count: int) -> None:
        self.count = count
        # spawn: no inherited threads (the in-process emulator)
        self._pool = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start_worker)

    def __enter__(self) -> "Workers":
        for _ in range(self.count):  # each submission to a pool with no idle process starts one
            self._pool.submit(os.getpid)
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)

    def replay_all(self, jobs: list[Job], show_progress: bool = True,
                   on_done: Callable[[Job, Outcome], None] | None = None) -> list[Outcome]:
        """Replay `jobs` on the workers, submitted in that order; outcomes come back in the same order.

        `on_done` runs here, in the calling process, as each notebook finishes: its work overlaps
        the notebooks still running."""
        outcomes: dict[Path, Outcome] = {}
        with tqdm(total=len(jobs), desc="notebooks", unit="nb", file=sys.stderr, disable=not show_progress) as bar:
            submitted = {self._pool.submit(replay, job): job for job in jobs}
            pending: set[Future[Outcome]] = set(submitted)
            failed, shown, ticking = 0, None, sys.stderr.isatty()  # a CI log gets a line per change only
            while pending:
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    outcome = _outcome(future, submitted[future])
                    outcomes[outcome.notebook] = outcome
                    if on_done is not None:
                        on_done(submitted[future], outcome)
                    failed += outcome.error is not None
                    bar.update(1)
                state = {"running": min(self.count, sum(1 for f in pending if f.running())), "failed": failed}
                if ticking or state != shown:
                    bar.set_postfix(state, refresh=True)
                    shown = state
        return [outcomes[job.notebook] for job in jobs]


def _start_worker() -> None:
    atexit.register(_exit_without_teardown)  # before papermill's imports: their exit handlers run first
    import papermill  # noqa: F401  (replay's import, done while the worker waits for its first job)


def _exit_without_teardown() -> None:
    """A spawned worker ends with a full interpreter shutdown, which frees papermill's and Jupyter's
    modules one by one: up to a second at the end of every run. Its results are sent by then (the
    pool's result queue writes synchronously); once the later handlers have run and logging and
    output are flushed, nothing else is needed."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0)


def _outcome(future: Future[Outcome], job: Job) -> Outcome:
    """The worker's outcome, or a failed one when the worker itself died (killed, out of memory)."""
    try:
        return future.result()
    except Exception as exc:
        now = time.time()
        return Outcome(job.notebook, now, now, f"{type(exc).__name__}: the worker process died ({exc})")
