"""Widgets for the interactive notebooks: code entry, authenticator picker, push approval.

Each callback calls a plain `Walkthrough` method that stores its result under a step name; the next
cell reads that stored result (`Walkthrough.outcome`, `Walkthrough.choose`), so no cell ever waits
for a human and the kernel stays free. Headless, every builder returns None and shows nothing: the
same next cell computes the result with the virtual authenticator or the emulator instead.

ipywidgets is imported by the builders, once they know a widget is wanted: a headless run never
loads it (a tenth of a second in each notebook's kernel).
"""
from __future__ import annotations

import html
import re
import warnings
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from mfa_helpers import redact
from mfa_helpers.client import AuthorizeRequest
from mfa_helpers.errors import KitError
from mfa_helpers.walkthrough import Outcome, Walkthrough, answer_kind, challengeable

if TYPE_CHECKING:
    import ipywidgets as w

_SIX_DIGITS = re.compile(r"\d{6}")


def clean_code(value: str) -> str | None:
    """The 6-digit code typed (spaces allowed, as apps show "123 456"), or None if it is not one."""
    compact = re.sub(r"\s+", "", value or "")
    return compact if _SIX_DIGITS.fullmatch(compact) else None


def answer_entry(wt: Walkthrough, step: str, mfa_token: str, response: Mapping[str, Any]) -> w.VBox | None:
    """The widget that completes an enrollment or challenge: a code box (the authenticator app's
    code, or the binding code the SMS, call or email delivered), or push approval buttons."""
    kind = answer_kind(response)
    if kind == "push":
        return push_buttons(wt)
    label = "Code from your authenticator app" if kind == "otp" else "Code from the SMS, call or email"
    return code_entry(wt, label, lambda code: wt.submit_code(step, mfa_token, response, code))


def code_entry(wt: Walkthrough, label: str, submit: Callable[[str], Outcome]) -> w.VBox | None:
    """A 6-digit box whose Confirm button (enabled once 6 digits are typed) shows `submit`'s result."""
    if wt.headless:
        return None
    import ipywidgets as w

    text = w.Text(placeholder="6 digits", description=label, style={"description_width": "initial"})
    button = w.Button(description="Confirm", button_style="primary", disabled=True)
    result = w.Output()

    def on_type(change: Mapping[str, Any]) -> None:
        button.disabled = clean_code(change["new"]) is None

    def on_confirm(_: Any) -> None:
        code = clean_code(text.value)
        show_in_place(result, submit(code) if code else "Type the 6 digits first.")

    text.observe(on_type, names="value")
    on_enter(text, on_confirm)  # Enter submits, as in any login form
    button.on_click(on_confirm)
    return w.VBox([w.HBox([text, button]), result])


def redirect_entry(wt: Walkthrough, step: str, request: AuthorizeRequest) -> w.VBox | None:
    """On a tenant: a box for the URL the browser was sent to after logging in at /authorize (the
    callback page need not exist: the address bar keeps the code). On the emulator the kit plays
    the browser, so there is nothing to paste."""
    if wt.headless or wt.client.emulator is not None:
        return None
    import ipywidgets as w

    link = w.HTML(f"<a href='{html.escape(request.url)}' target='_blank'>Open /authorize and log in</a>, "
                  "then paste the address your browser was sent to:")
    text = w.Text(placeholder=f"{request.redirect_uri}?code=...&state=...", layout=w.Layout(width="60em"))
    button = w.Button(description="Use it", button_style="primary")
    result = w.Output()

    def use(_: Any) -> None:
        try:
            wt.store_redirect(step, request, text.value)
            show_in_place(result, "Code received: run the next cell.")
        except KitError as problem:
            show_in_place(result, str(problem))

    on_enter(text, use)
    button.on_click(use)
    return w.VBox([link, w.HBox([text, button]), result])


def on_enter(text: w.Text, callback: Callable[[Any], None]) -> None:
    """Call `callback` when Enter is pressed in `text`. ipywidgets 8 marks Text.on_submit deprecated
    but has no other Enter event (continuous_update=False also fires on blur, which would submit a
    code twice when the button is then clicked)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        text.on_submit(callback)


def show_in_place(area: w.Output, value: Any) -> None:
    """Replace what an Output area shows (works from a callback, with or without a live kernel)."""
    area.outputs = ()
    area.append_display_data(value)


def picker_options(authenticators: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(label, id) for each active authenticator that can be challenged (not the recovery code)."""
    by_id = {factor["id"]: factor for factor in authenticators}
    options = []
    for authenticator_id in challengeable(authenticators):
        factor = by_id[authenticator_id]
        options.append((picker_label(factor), authenticator_id))
    return options


FACTOR_LABELS = {"otp": "Authenticator app (OTP)", "sms": "SMS", "voice": "Voice call", "email": "Email",
                 "auth0": "Push (Guardian)"}


def picker_label(factor: Mapping[str, Any]) -> str:
    """"SMS to [masked number]" rather than an id: the id's random part goes last, shortened."""
    kind = factor.get("oob_channel") or factor.get("authenticator_type")
    name = f" · {redact.redact_text(factor['name'])}" if factor.get("name") else ""
    return f"{FACTOR_LABELS.get(kind, kind)}{name} · {factor['id'].split('|')[-1][:10]}"


def authenticator_picker(wt: Walkthrough, step: str,
                         authenticators: Sequence[Mapping[str, Any]]) -> w.Dropdown | None:
    """A dropdown fed by GET /mfa/authenticators; the choice is stored for the next cell."""
    if wt.headless:
        return None
    import ipywidgets as w

    options = picker_options(authenticators)
    picker = w.Dropdown(options=options, description="Authenticator",
                        style={"description_width": "initial"}, layout=w.Layout(width="32em"))
    if options:
        wt.store_choice(step, picker.value)
    picker.observe(lambda change: wt.store_choice(step, change["new"]), names="value")
    return picker


def push_buttons(wt: Walkthrough) -> w.VBox | None:
    """Approve or reject the latest push on the emulator, as the Guardian app would."""
    if wt.headless:
        return None
    import ipywidgets as w

    if wt.client.emulator is None:
        return w.VBox([w.HTML("Approve the notification in the Guardian app on your phone, then run "
                              "the next cell.")])
    approve = w.Button(description="Approve", button_style="success")
    reject = w.Button(description="Reject", button_style="danger")
    result = w.Output()

    def answer(approved: bool) -> None:
        show_in_place(result, wt.answer_push(approve=approved))

    approve.on_click(lambda _: answer(True))
    reject.on_click(lambda _: answer(False))
    return w.VBox([w.HBox([approve, reject]), result])
