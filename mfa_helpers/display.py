"""Notebook rendering: exchanges side by side, the enrollment QR code (live display only) and
authenticator tables. Everything shown goes through `mfa_helpers.redact`."""
from __future__ import annotations

import base64
import html
import io
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit


from . import redact
from .exchange import Exchange, Session

STATUS_COLOURS = {2: "#1a7f37", 3: "#0969da", 4: "#bc4c00", 5: "#cf222e"}
NETWORK_FAILURE_COLOUR = "#6e7781"
# Response headers worth showing next to the body; the full list is in the HAR.
SHOWN_RESPONSE_HEADERS = ("content-type", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
                          "retry-after", "location", "www-authenticate")
LIVE_ONLY_TEXT = ("QR code for the authenticator app: live display only, never saved with the notebook. "
                  "Click 'Show QR code' in JupyterLab, or call show_qr(barcode_uri, keep=True) to keep it.")


def _pretty(text: str | None, content_type: str = "") -> str:
    """JSON indented, a form one field a line, an HTML page by its title (the HAR keeps it whole)."""
    if not text:
        return ""
    if "x-www-form-urlencoded" in content_type:
        return "\n&".join(f"{k}={v}" for k, v in parse_qsl(text, keep_blank_values=True))  # decoded to read
    if "text/html" in content_type:
        title = re.search(r"<title>(.*?)</title>", text, re.S)
        return f"(HTML page{': ' + title.group(1).strip() if title else ''}, {len(text)} characters)"
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _status_badge(view: dict[str, Any]) -> str:
    if view["status"] is None:
        return (f"<span style='color:{NETWORK_FAILURE_COLOUR};font-weight:bold'>no response</span> "
                f"{html.escape(view['error'] or '')}")
    colour = STATUS_COLOURS.get(view["status"] // 100, NETWORK_FAILURE_COLOUR)
    return (f"<span style='color:{colour};font-weight:bold'>{view['status']} {html.escape(view['reason'])}</span>"
            f" <span style='color:{NETWORK_FAILURE_COLOUR}'>{view['duration'] * 1000:.0f} ms</span>")


def _headers_html(headers: dict[str, str]) -> str:
    rows = "".join(f"<div><code>{html.escape(k)}: {html.escape(v)}</code></div>" for k, v in headers.items())
    return f"<div style='font-size:85%'>{rows}</div>"


def exchange_html(exchange: Exchange, secrets: set[str] | frozenset[str] = frozenset()) -> str:
    """Request left, response right, then a collapsible curl equivalent; all redacted."""
    view = exchange.redacted(secrets)
    request_headers = {k: v for k, v in view["request_headers"].items() if k.lower() in
                       ("host", "content-type", "authorization")}
    response_headers = {k: v for k, v in view["response_headers"].items() if k.lower() in SHOWN_RESPONSE_HEADERS}
    pre = "style='white-space:pre-wrap;word-break:break-all;margin:4px 0;text-align:left'"
    box = "style='flex:1;min-width:0;border:1px solid #d0d7de;border-radius:6px;padding:6px;text-align:left'"
    curl = html.escape(redact.redact_text(exchange.to_curl(), secrets))
    return (
        "<div class='mfa-kit-exchange' style='margin:6px 0'>"
        f"<div style='display:flex;gap:8px'>"
        f"<div {box}><b>{html.escape(view['method'])}</b> <code>{html.escape(view['url'])}</code>"
        f"{_headers_html(request_headers)}{_query_html(view['url'])}"
        f"<pre {pre}>{html.escape(_pretty(view['request_body'], exchange.request_content_type))}</pre></div>"
        f"<div {box}>{_status_badge(view)}{_headers_html(response_headers)}"
        f"<pre {pre}>{html.escape(_pretty(view['response_body'], exchange.response_content_type))}</pre></div>"
        "</div>"
        f"<details><summary>curl</summary><pre {pre}>{curl}</pre></details>"
        "</div>"
    )


def _query_html(url: str) -> str:
    """A long query (an /authorize URL) one parameter a line, so audience and scope stand out."""
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    if len(pairs) < 4:
        return ""
    rows = "".join(f"<tr><td style='text-align:left'><code>{html.escape(k)}</code></td><td style='text-align:left'>"
                   f"<code>{html.escape(v)}</code></td></tr>" for k, v in pairs)
    return f"<table style='font-size:85%;margin:4px 0'>{rows}</table>"


def session_html(session: Session, exchanges: list[Exchange] | None = None) -> str:
    secrets = session.known_secrets()
    return "".join(exchange_html(exchange, secrets) for exchange in (session.exchanges if exchanges is None else exchanges))


def show(item: Exchange | Session | list[Exchange], session: Session | None = None) -> None:
    """Render an exchange, a list of exchanges (with `session`'s secrets known), or a whole session."""
    from IPython.display import HTML, display
    if isinstance(item, Session):
        display(HTML(session_html(item)))
    elif isinstance(item, list):
        display(HTML(session_html(session or Session(), item)))
    else:
        display(HTML(exchange_html(item, session.known_secrets() if session else frozenset())))


def qr_html(barcode_uri: str) -> str:
    """The QR code as an inline PNG plus the manual-entry secret. Holds the TOTP seed: show it live only."""
    import qrcode
    buffer = io.BytesIO()
    qrcode.make(barcode_uri).save(buffer, format="PNG")
    image = base64.b64encode(buffer.getvalue()).decode()
    secret = parse_qs(urlsplit(barcode_uri).query).get("secret", [""])[0]
    manual = (f"<div>Can't scan? Enter this key in the app: <code style='font-size:120%'>"
              f"{html.escape(' '.join(secret[i:i + 4] for i in range(0, len(secret), 4)))}</code> "
              "(time-based, 6 digits, 30 s)</div>") if secret else ""
    return f"<div><img alt='enrollment QR code' src='data:image/png;base64,{image}' width='220'/>{manual}</div>"


def show_qr(barcode_uri: str, *, keep: bool = False) -> Any:
    """Render the enrollment QR code and manual-entry key.

    By default only in live display: a button reveals it and running any other cell hides it
    again, so neither the image nor the key ends up in the saved notebook. `keep=True` renders a
    plain output instead, which IS saved: only for a throwaway test user."""
    from IPython.display import HTML, display
    if keep:
        display(HTML(qr_html(barcode_uri)))
        return None
    from mfa_helpers.live import live_qr

    return live_qr(barcode_uri)


@dataclass(frozen=True)
class Table:
    """Rows under named columns: an HTML table in a notebook, aligned text elsewhere. (pandas would
    cost every notebook's kernel about a second of start-up for these small tables.)"""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(_cell(v))}</td>" for v in row)
                       + "</tr>" for row in self.rows)
        return f"<table class='mfa-kit-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        lines = [self.columns, *([_cell(v) for v in row] for row in self.rows)]
        widths = [max(len(line[i]) for line in lines) for i in range(len(self.columns))]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def authenticators_table(authenticators: list[dict[str, Any]]) -> Table:
    """GET /mfa/authenticators as a table: id, type, channel, name (masked), active."""
    return Table(("id", "type", "channel", "name", "active"), tuple(
        (a.get("id"), a.get("authenticator_type") or a.get("type"), a.get("oob_channel"),
         redact.redact_text(a["name"]) if a.get("name") else None, bool(a.get("active"))) for a in authenticators))
