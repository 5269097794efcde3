"""How close `mfa-kit verify` comes to its floor: the run's wall time over what its kernels alone cost.

Each round measures, one right after the other so both see the same machine:

  kernel start   papermill on a one-cell notebook (`--repeats` times, the median counts), in this
                 process with papermill already imported: mostly starting and stopping a kernel,
                 which every notebook execution pays
  verify         `mfa-kit verify --target emulator --jobs N` (golden check included) in a
                 subprocess, into a temporary run folder with a temporary history file (the
                 repository's runs/ stays untouched), timed from the command's start to its exit

The floor is kernel start x the kernels the run started / N jobs: the run could not be faster than
starting its kernels, N at a time. The kernels are counted, not assumed: an IPython startup file (in
a temporary IPYTHONDIR, used by the baseline too) leaves a line per kernel, so a run that executes a
notebook twice pays for it in its floor and not in its ratio. The figure printed is verify / floor;
the rounds show how much a busy machine moves it. Each notebook's duration is also given as a
multiple of the kernel start, which shows where the rest of the time goes.
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

TARGET = 2.5   # verify / floor the kit aims at (issue 14)
COUNT_KERNEL = "with open({path!r}, 'a') as log:\n    log.write('kernel\\n')\n"


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


def count_kernels_in(folder: Path) -> Path:
    """Point IPYTHONDIR (this process's, so the baseline's and the verify runs') at `folder` with a
    startup file that appends a line to the returned file each time a kernel starts."""
    counter = folder / "kernels.log"
    startup = folder / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-count-kernel.py").write_text(COUNT_KERNEL.format(path=str(counter)), encoding="utf-8")
    os.environ["IPYTHONDIR"] = str(folder / "ipython")
    return counter


def kernels_started(counter: Path) -> int:
    return len(counter.read_text(encoding="utf-8").splitlines()) if counter.is_file() else 0


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
        try:  # the timeouts turn a kernel that never answers (seen once on a loaded machine) into an error
            with timed() as watch, kernel_output_to(folder / "kernel.log"):
                papermill.execute_notebook(str(source), str(output), kernel_name="python3", progress_bar=False,
                                           log_output=False, start_timeout=60, execution_timeout=60)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            continue
        runs.append(round(watch.seconds, 3))
    return {"runs": runs, "median": round(statistics.median(runs), 3) if runs else None, "error": error}


def verify(jobs: int, out: Path, history: Path, notebooks: list[str], counter: Path) -> dict[str, Any]:
    """One `mfa-kit verify` run in a subprocess: wall time, kernels started, exit code, summary.json."""
    command = [sys.executable, "-m", "mfa_helpers.cli", "verify", "--target", "emulator", "--jobs", str(jobs),
               "--out", str(out), "--history", str(history), *notebooks]
    before = kernels_started(counter)
    with timed() as watch:
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    summary_path = out / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else None
    failed = [] if summary is None else [nb["name"] for nb in summary["notebooks"] if nb["status"] != "passed"]
    if summary is not None and summary["nbval"]["status"] == "failed":
        failed.append("golden check")
    error = None
    if done.returncode != 0 or summary is None or failed:
        error = (f"exit {done.returncode}" + (f", failed: {', '.join(failed)}" if failed else "")
                 + ("" if summary else ", no summary.json") + "\n" + (done.stdout + done.stderr)[-2000:])
    return {
        "wall_seconds": round(watch.seconds, 2),
        "kernels": kernels_started(counter) - before,
        "summary_duration": summary["duration"] if summary else None,
        "nbval": summary["nbval"]["status"] if summary else None,
        "exit_code": done.returncode,
        "notebooks": {nb["name"]: {"status": nb["status"], "duration": nb["duration"]}
                      for nb in (summary or {}).get("notebooks", [])},
        "error": error,
    }


def one_round(n: int, folder: Path, args: argparse.Namespace, counter: Path) -> dict[str, Any]:
    """A kernel-start baseline, then a verify run, and the ratio between them."""
    print(f"round {n}: kernel start x{args.repeats}, then mfa-kit verify --jobs {args.jobs}", file=sys.stderr)
    baseline = kernel_start(folder, args.repeats)
    run = verify(args.jobs, folder / f"run-{n}", folder / "history.jsonl", args.notebooks, counter)
    floor = None if baseline["median"] is None else round(baseline["median"] * run["kernels"] / args.jobs, 3)
    return {"round": n, "kernel_start": baseline, "verify": run, "floor_seconds": floor,
            "ratio": ratio(run["wall_seconds"], floor)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", metavar="NOTEBOOK_GLOB",
                        help="passed to mfa-kit verify (default: every notebook)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="notebooks at once (default: one per core, as mfa-kit verify does)")
    parser.add_argument("--rounds", type=int, default=3, help="baseline + verify rounds (default: 3)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="kernel starts per baseline; the median counts (default: 5)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if min(args.jobs, args.rounds, args.repeats) < 1:
        parser.error("--jobs, --rounds and --repeats must be 1 or more")

    with tempfile.TemporaryDirectory(prefix="mfa-kit-bench-replay-") as tmp:
        folder = Path(tmp)
        counter = count_kernels_in(folder)
        rounds = [one_round(n, folder, args, counter) for n in range(1, args.rounds + 1)]

    print_table(["round", "kernel start (s)", "kernels", "floor (s)", "verify (s)", "verify / floor"],
                [[str(r["round"]), fmt(r["kernel_start"]["median"], 2), fmt(r["verify"]["kernels"]),
                  fmt(r["floor_seconds"], 1), fmt(r["verify"]["wall_seconds"], 1), fmt(r["ratio"], 2, "x")]
                 for r in rounds],
                title=f"mfa-kit verify --jobs {args.jobs} against its floor (kernel start x kernels / jobs)")
    ratios = sorted(r["ratio"] for r in rounds if r["ratio"] is not None)
    median = statistics.median(ratios) if ratios else None
    middle = sorted(rounds, key=lambda r: (r["ratio"] is None, r["ratio"] or 0))[(len(ratios) - 1) // 2]
    base = middle["kernel_start"]["median"]
    print_table(["notebook", "seconds", "x kernel start"],
                [[name, fmt(nb["duration"], 1), fmt(ratio(nb["duration"], base), 1, "x")]
                 for name, nb in middle["verify"]["notebooks"].items()],
                title=f"each notebook in round {middle['round']} (the median round)")
    if ratios:
        print(f"verify / floor: {median:.2f}x (median of {len(ratios)}; {ratios[0]:.2f}x to {ratios[-1]:.2f}x); "
              f"target {TARGET}x or less")

    errors = [f"round {r['round']}: kernel start: {r['kernel_start']['error']}" for r in rounds
              if r["kernel_start"]["error"]]
    errors += [f"round {r['round']}: verify: {r['verify']['error']}" for r in rounds if r["verify"]["error"]]
    for error in errors:
        print(f"replay: {error}", file=sys.stderr)
    write_json(args.json, {
        "benchmark": "replay",
        "jobs": args.jobs,
        "rounds": rounds,
        "ratio_median": median,
        "ratio_range": [ratios[0], ratios[-1]] if ratios else None,
        "target": TARGET,
        "machine": machine(),
        "errors": errors,
        "ok": not errors,
    })
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
