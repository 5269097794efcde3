"""How long `mfa-kit verify` takes, as ratios: parallel speedup, and each notebook against a kernel start.

Runs `mfa-kit verify --no-nbval --target emulator` twice, with `--jobs 1` and `--jobs N` (N: the
machine's cores, at least 2), each into a temporary run folder with a temporary history file (the
repository's runs/ stays untouched), and reports the speedup N jobs give over one.

The baseline, measured in the same run, is what papermill takes to execute a trivial one-cell
notebook: mostly starting and stopping a kernel, a cost every notebook pays. Each notebook's
duration (from the run folder's summary.json) is reported as a multiple of it, so "5x" reads as
"five kernel starts' worth of work", whatever the machine.

05_challenge waits for the next 30 s TOTP step before it answers the challenge (the emulator, like
Auth0, accepts a code once), so its duration, and with it the speedup, moves by up to 30 s from one
run to the next; pass notebook globs (e.g. 01 02 03 04 06 07 08 09 reproduce) to leave it out.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, fmt, machine, print_table, ratio, timed, write_json


@contextmanager
def kernel_output_to(log: Path) -> Iterator[None]:
    """The kernel's own chatter (it inherits stdout and stderr) into `log`, as the runner's pool does."""
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    sys.stdout.flush()
    sys.stderr.flush()
    with log.open("ab") as sink:
        for fd in saved:
            os.dup2(sink.fileno(), fd)
        try:
            yield
        finally:
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)


def kernel_start(folder: Path, repeats: int) -> dict[str, Any]:
    """papermill on a one-cell notebook, `repeats` times (timed as the runner's pool times a notebook:
    the execute_notebook call, papermill already imported); the median is the baseline."""
    import nbformat
    import papermill

    source, output = folder / "trivial.ipynb", folder / "trivial.out.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, source)
    runs: list[float] = []
    error = None
    for _ in range(repeats):
        try:
            with timed() as watch, kernel_output_to(folder / "kernel.log"):
                papermill.execute_notebook(str(source), str(output), kernel_name="python3",
                                           progress_bar=False, log_output=False)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            break
        runs.append(round(watch.seconds, 3))
    return {"label": "papermill, one-cell notebook (kernel start)", "runs": runs,
            "median": round(statistics.median(runs), 3) if runs else None, "error": error}


def verify(jobs: int, folder: Path, notebooks: list[str]) -> dict[str, Any]:
    """One `mfa-kit verify` run in a subprocess; its wall time, exit code and summary.json."""
    out = folder / f"jobs-{jobs}"
    command = [sys.executable, "-m", "mfa_helpers.cli", "verify", "--no-nbval", "--target", "emulator",
               "--jobs", str(jobs), "--out", str(out), "--history", str(folder / "history.jsonl"), *notebooks]
    with timed() as watch:
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    summary_path = out / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else None
    failed = [] if summary is None else [nb["name"] for nb in summary["notebooks"] if nb["status"] != "passed"]
    error = None
    if done.returncode != 0 or summary is None or failed:
        error = (f"exit {done.returncode}" + (f", failed: {', '.join(failed)}" if failed else "")
                 + ("" if summary else ", no summary.json") + "\n" + (done.stdout + done.stderr)[-2000:])
    return {
        "jobs": jobs,
        "wall_seconds": round(watch.seconds, 2),
        "summary_duration": summary["duration"] if summary else None,
        "exit_code": done.returncode,
        "notebooks": {nb["name"]: {"status": nb["status"], "duration": nb["duration"]}
                      for nb in (summary or {}).get("notebooks", [])},
        "error": error,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", metavar="NOTEBOOK_GLOB",
                        help="passed to mfa-kit verify (default: every notebook)")
    parser.add_argument("--jobs", type=int, default=max(2, os.cpu_count() or 2),
                        help="notebooks at once in the parallel run (default: the cores, at least 2)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="kernel-start baseline runs; the median counts (default: 5)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.repeats < 1:
        parser.error("--jobs and --repeats must be 1 or more")

    with tempfile.TemporaryDirectory(prefix="mfa-kit-bench-replay-") as tmp:
        folder = Path(tmp)
        print(f"baseline: papermill on a one-cell notebook, {args.repeats} time(s)", file=sys.stderr)
        baseline = kernel_start(folder, args.repeats)
        runs = []
        for jobs in (1, args.jobs):
            print(f"mfa-kit verify --no-nbval --jobs {jobs}", file=sys.stderr)
            runs.append(verify(jobs, folder, args.notebooks))
    serial, parallel = runs
    base = baseline["median"]

    print_table(["baseline", "runs (s)", "median (s)"],
                [[baseline["label"], " ".join(f"{r:.2f}" for r in baseline["runs"]), fmt(base, 2)]],
                title="baseline, measured in this run")
    speedup = ratio(serial["wall_seconds"], parallel["wall_seconds"])
    print_table(["mfa-kit verify --no-nbval", "wall (s)", "summary duration (s)", "speedup vs --jobs 1"],
                [[f"--jobs {r['jobs']}", fmt(r["wall_seconds"], 1), fmt(r["summary_duration"], 1),
                  fmt(ratio(serial["wall_seconds"], r["wall_seconds"]), 2, "x")] for r in runs],
                title="parallel replay")
    notebooks: dict[str, dict[str, Any]] = {}
    for name in list(serial["notebooks"]) or list(parallel["notebooks"]):
        notebooks[name] = {}
        for key, run in (("serial", serial), ("parallel", parallel)):
            seen = run["notebooks"].get(name, {})
            notebooks[name][key] = {"status": seen.get("status"), "duration": seen.get("duration"),
                                    "x_kernel_start": ratio(seen.get("duration"), base)}
    print_table(["notebook", "--jobs 1 (s)", "x kernel start", f"--jobs {args.jobs} (s)", "x kernel start"],
                [[name, fmt(f["serial"]["duration"], 1), fmt(f["serial"]["x_kernel_start"], 1, "x"),
                  fmt(f["parallel"]["duration"], 1), fmt(f["parallel"]["x_kernel_start"], 1, "x")]
                 for name, f in notebooks.items()],
                title="each notebook as a multiple of the kernel-start baseline")

    errors = [f"baseline: {baseline['error']}"] if baseline["error"] else []
    errors += [f"verify --jobs {r['jobs']}: {r['error']}" for r in runs if r["error"]]
    for error in errors:
        print(f"replay: {error}", file=sys.stderr)
    write_json(args.json, {
        "benchmark": "replay",
        "baseline": baseline,
        "runs": runs,
        "speedup": speedup,
        "notebooks": notebooks,
        "machine": machine(),
        "errors": errors,
        "ok": not errors,
    })
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
