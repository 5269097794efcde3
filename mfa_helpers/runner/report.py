"""report.html: this run per notebook, the golden check, and the history (table and duration plot)."""
from __future__ import annotations

import base64
import html
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
    """An SVG data URI plotting each notebook's duration over the runs (failed runs marked with a red
    x), or None. Drawn by hand: a plotting library would cost every run seconds of imports."""
    if not history:
        return None
    _, rows = history_table(history)
    series = [(row["name"], [(i, e["notebooks"][row["name"]]) for i, e in enumerate(history)
                             if row["name"] in e["notebooks"]])
              for row in rows[:-1]]  # the last row, the golden check, has no duration
    top = max([nb["duration"] for _, points in series for _, nb in points] + [1.0])
    width, height, left, right, bottom = 900, 360, 50, 200, 90
    x = lambda i: left + (i + 0.5) * (width - left - right) / len(history)  # noqa: E731
    y = lambda seconds: 30 + (height - bottom - 30) * (1 - seconds / top)  # noqa: E731
    parts = [f"<text x='{width / 2}' y='18' text-anchor='middle' font-size='13'>Notebook durations over the last "
             "runs (red x: failed)</text>",
             f"<text x='12' y='{y(top / 2)}' font-size='11' transform='rotate(-90 12 {y(top / 2)})' "
             "text-anchor='middle'>seconds</text>"]
    for tick in (0, top / 2, top):
        parts.append(f"<line x1='{left}' x2='{width - right}' y1='{y(tick):.1f}' y2='{y(tick):.1f}' stroke='#ddd'/>"
                     f"<text x='{left - 4}' y='{y(tick) + 4:.1f}' font-size='10' text-anchor='end'>{tick:.0f}</text>")
    for i, entry in enumerate(history):
        parts.append(f"<text x='{x(i):.1f}' y='{height - bottom + 12}' font-size='8' text-anchor='end' "
                     f"transform='rotate(-30 {x(i):.1f} {height - bottom + 12})'>{html.escape(entry['run'])}</text>")
    for n, (name, points) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        line = " ".join(f"{x(i):.1f},{y(nb['duration']):.1f}" for i, nb in points)
        parts.append(f"<polyline points='{line}' fill='none' stroke='{colour}' stroke-width='1.5'/>")
        for i, nb in points:
            parts.append(f"<circle cx='{x(i):.1f}' cy='{y(nb['duration']):.1f}' r='3' fill='{colour}'/>")
            if nb["status"] != "passed":
                parts.append(f"<text x='{x(i):.1f}' y='{y(nb['duration']) + 5:.1f}' font-size='16' fill='red' "
                             "text-anchor='middle'>×</text>")
        parts.append(f"<rect x='{width - right + 10}' y='{26 + 14 * n}' width='10' height='3' fill='{colour}'/>"
                     f"<text x='{width - right + 24}' y='{31 + 14 * n}' font-size='10'>{html.escape(name)}</text>")
    svg = (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' font-family='sans-serif'>"
           + "".join(parts) + "</svg>")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
