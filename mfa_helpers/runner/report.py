"""report.html: this run per notebook, the golden check, and the history (table and duration plot)."""
from __future__ import annotations

import base64
import io
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

GOLDEN_ROW = "golden check (nbval)"


def render_report(summary: dict[str, Any], history: list[dict[str, Any]]) -> str:
    """The HTML page for `summary`, with `history` (oldest first, this run included) below it."""
    env = Environment(loader=PackageLoader("mfa_helpers.runner", "templates"), autoescape=select_autoescape(["html", "j2"]))
    runs, rows = history_table(history)
    return env.get_template("report.html.j2").render(
        summary=summary, target=target_label(summary), runs=runs, rows=rows, plot=duration_plot(history)
    )


def target_label(summary: dict[str, Any]) -> str:
    """What the run checked, said so that a green run on the emulator cannot pass for one on the tenant."""
    if summary["target"] == "tenant":
        return f"TENANT {summary['tenant_domain']}"
    return "EMULATOR (no tenant was tested: set AUTH0_DOMAIN or use --target tenant)"


def history_table(history: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Run ids (columns) and one row per notebook ever seen (its status in each run, or None),
    then one for the golden check."""
    names = sorted({name for entry in history for name in entry["notebooks"]})
    rows = [
        {"name": name, "statuses": [entry["notebooks"].get(name, {}).get("status") for entry in history]}
        for name in names
    ]
    rows.append({"name": GOLDEN_ROW, "statuses": [entry.get("nbval") for entry in history]})
    return [entry["run"] for entry in history], rows


def duration_plot(history: list[dict[str, Any]]) -> str | None:
    """A PNG data URI plotting each notebook's duration over the runs (failed runs marked), or None."""
    if not history:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3.6), dpi=100)
    axes = figure.subplots()
    _, rows = history_table(history)
    for row in rows[:-1]:  # the notebooks; the golden check has no duration of its own
        points = [(i, e["notebooks"][row["name"]]) for i, e in enumerate(history) if row["name"] in e["notebooks"]]
        (line,) = axes.plot([i for i, _ in points], [nb["duration"] for _, nb in points], marker="o", label=row["name"])
        failed = [(i, nb["duration"]) for i, nb in points if nb["status"] != "passed"]
        if failed:
            axes.scatter(*zip(*failed), marker="x", s=80, color="red", zorder=3)
    axes.set_xticks(range(len(history)), [e["run"] for e in history], rotation=30, ha="right", fontsize=7)
    axes.set_ylabel("seconds")
    axes.set_title("Notebook durations over the last runs (red x: failed)", fontsize=10)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
