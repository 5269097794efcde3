"""Live-only displays: a secret the learner needs (the enrollment QR code, the virtual authenticator's
code, an SMS, a recovery code) shown in the running notebook and hidden as soon as another cell runs,
so the saved notebook never keeps it.

They are widgets, so this module imports ipywidgets: it is imported when one is shown, never by a
headless run, which shows none.
"""
from __future__ import annotations

import html
from typing import Any

import ipywidgets
from IPython import get_ipython
from IPython.display import display

from mfa_helpers.display import LIVE_ONLY_TEXT, qr_html

HIDDEN_TEXT = "<i>(hidden once another cell ran, so it is never saved: run this cell again to see it)</i>"


class LivePanel(ipywidgets.HTML):
    """An HTML widget whose text form never shows its value (the saved output keeps only that)."""

    def __repr__(self) -> str:
        return "(live display only: hidden when another cell runs, never saved)"


def live_html(content: str) -> None:
    """Show HTML that holds a secret in the live notebook only: it is cleared as soon as another
    cell runs, so the saved notebook never keeps it (like the QR panel)."""
    panel = LivePanel(value=f"<div style='border:1px solid #999;border-radius:8px;padding:8px;"
                            f"max-width:32em'>{content}</div>")
    shell = get_ipython()
    if shell is not None:
        def clear(*_: Any) -> None:
            panel.value = HIDDEN_TEXT
            shell.events.unregister("pre_run_cell", clear)
        shell.events.register("pre_run_cell", clear)
    display(panel)


class LiveQrPanel(ipywidgets.VBox):
    """Shows the QR only when clicked, and hides it when another cell runs: the secret lives
    in the kernel and the browser, never in the notebook file (nothing clicks in a headless run,
    and the saved output is this widget's reference plus the text below)."""

    def __init__(self, barcode_uri: str):
        self._uri = barcode_uri
        self.button = ipywidgets.Button(description="Show QR code", icon="qrcode")
        self.view = ipywidgets.HTML(value="")
        self.button.on_click(lambda _: self.hide() if self.view.value else self.reveal())
        super().__init__(children=[ipywidgets.HTML(value=f"<i>{html.escape(LIVE_ONLY_TEXT)}</i>"),
                                   self.button, self.view])

    def reveal(self) -> None:
        self.view.value = qr_html(self._uri)
        self.button.description = "Hide QR code"

    def hide(self, *_: Any) -> None:
        if self.view.value:
            self.view.value = ""
            self.button.description = "Show QR code"

    def __repr__(self) -> str:
        return LIVE_ONLY_TEXT


def live_qr(barcode_uri: str) -> LiveQrPanel:
    """Show the QR panel, hidden again whenever another cell runs (see `display.show_qr`)."""
    panel = LiveQrPanel(barcode_uri)
    shell = get_ipython()
    if shell is not None:
        shell.events.register("pre_run_cell", panel.hide)
    display(panel)
    return panel
