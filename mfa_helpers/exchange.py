"""Every HTTP request and its response, kept in order so a notebook, a HAR file or a support case
can show exactly what went over the wire (always through `mfa_helpers.redact`). HAR out
(`Session.har`) and HAR in (`from_har`: the kit's files and those browsers and proxies export)."""
from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from . import __version__, redact

# Headers a reader needs to replay a request; the rest (User-Agent, Content-Length, ...) is noise.
CURL_HEADERS = ("host", "content-type", "authorization", "accept", "cookie")
# The shell variable a curl command uses for a secret field (others: the field's name, upper-cased).
CURL_VARIABLES = {"client_secret": "AUTH0_CLIENT_SECRET", "password": "AUTH0_PASSWORD",
                  "username": "AUTH0_USERNAME"}


@dataclass
class Exchange:
    """One request and what came back: a response, or `error` when the network failed."""

    method: str
    url: str
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str | None = None
    status: int | None = None
    reason: str = ""
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    duration: float = 0.0
    error: str | None = None

    @property
    def request_json(self) -> Any:
        return _parse_json(self.request_body)

    @property
    def response_json(self) -> Any:
        return _parse_json(self.response_body)

    @property
    def request_content_type(self) -> str:
        return _header(self.request_headers, "content-type")

    @property
    def response_content_type(self) -> str:
        return _header(self.response_headers, "content-type")

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def request_data(self) -> dict[str, Any]:
        """The request body's fields as a dict, JSON or form-encoded ({} for no body)."""
        fields = self.request_fields()
        return dict(fields) if isinstance(fields, list) else fields if isinstance(fields, dict) else {}

    def request_fields(self) -> Any:
        """The request body as data: JSON value or form pairs (None for no body)."""
        if not self.request_body:
            return None
        if "x-www-form-urlencoded" in self.request_content_type:
            return parse_qsl(self.request_body, keep_blank_values=True)
        return self.request_json

    def own_secrets(self) -> set[str]:
        """Secret values this exchange carries, found by the redaction table's field names."""
        found = redact.header_secrets(self.request_headers) | redact.header_secrets(self.response_headers)
        found |= redact.url_secrets(self.url)
        found |= redact.collect_secrets(self.request_fields())
        found |= redact.collect_secrets(self.response_json)
        if self.response_json is None and "x-www-form-urlencoded" in self.response_content_type:
            found |= redact.pair_secrets(parse_qsl(self.response_body or "", keep_blank_values=True))
        return found

    def redacted(self, secrets: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
        """A display-safe view of this exchange, the input of curl, HAR and notebook rendering."""
        secrets = set(secrets) | self.own_secrets()
        return {
            "method": self.method,
            "url": redact.redact_url(self.url, secrets),
            "request_headers": redact.redact_headers(self.request_headers, secrets),
            "request_body": redact.redact_body(self.request_body, self.request_content_type, secrets),
            "status": self.status,
            "reason": self.reason,
            "response_headers": redact.redact_headers(self.response_headers, secrets),
            "response_body": redact.redact_body(self.response_body, self.response_content_type, secrets),
            "started": self.started.isoformat(),
            "duration": self.duration,
            "error": redact.redact_text(self.error, secrets) if self.error else None,
        }

    def to_curl(self) -> str:
        """A curl command for this request that runs as shown once its secrets are exported as the
        shell variables named in its first line ($AUTH0_CLIENT_SECRET, $MFA_TOKEN, ...)."""
        view = self.redacted()
        variables: dict[str, None] = {}

        def variable(field: str) -> str:
            name = CURL_VARIABLES.get(field.lower(), field.upper())
            variables[name] = None
            return f"${name}"

        lines = [f"curl -X {self.method} {shlex.quote(view['url'])}"]
        for name, value in self.request_headers.items():
            if name.lower() == "authorization" and " " in value:
                scheme, credentials = value.split(" ", 1)
                token = variable("access_token" if credentials.count(".") == 2 else "mfa_token")
                lines.append(f'  -H "{name}: {scheme} {token}"')
            elif name.lower() in CURL_HEADERS:
                header = f"{name}: {view['request_headers'].get(name, value)}"
                lines.append(f"  -H {shlex.quote(header)}")
        fields = self.request_fields()
        if isinstance(fields, list):  # a form: one --data-urlencode per field, secrets as variables
            for name, value in fields:
                lines.append(f'  --data-urlencode "{name}={variable(name)}"' if redact.redact_param(name, value) != value
                             else f"  --data-urlencode {shlex.quote(f'{name}={value}')}")
        elif isinstance(fields, dict):  # JSON: secrets spliced in as "'"$VAR"'"
            shown = redact.redact_json(fields)
            parts = [f"{json.dumps(k)}:\"'\"{variable(k)}\"'\"" if shown[k] != v and isinstance(v, str)
                     else f"{json.dumps(k)}:{json.dumps(v, ensure_ascii=False)}".replace("'", "'\\''")
                     for k, v in fields.items()]
            lines.append(f"  --data '{{{','.join(parts)}}}'")
        elif view["request_body"]:
            lines.append(f"  --data-raw {shlex.quote(view['request_body'])}")
        command = " \\\n".join(lines)
        if not variables:
            return command
        return f"# export first: {' '.join(variables)}\n{command}"

    def summary(self) -> str:
        outcome = self.error or f"{self.status} {_error_code(self.response_json) or self.reason}".strip()
        return f"{self.method} {redact.redact_url(self.url, self.own_secrets())} -> {outcome} ({self.duration * 1000:.0f} ms)"

    def __repr__(self) -> str:
        return f"<Exchange {self.summary()}>"

    def _repr_html_(self) -> str:
        from .display import exchange_html
        return exchange_html(self)


class Session:
    """The ordered log of a client's exchanges plus every secret value it has seen."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self._secrets: set[str] = set()

    def record(self, exchange: Exchange) -> Exchange:
        self.exchanges.append(exchange)
        return exchange

    def add_secrets(self, *values: str | None) -> None:
        """Values known to be secret although no field name says so (settings, emulator tenant)."""
        self._secrets.update(v for v in values if v)

    def known_secrets(self) -> set[str]:
        """Every secret value seen in any exchange or registered: the input of leak scans."""
        found = set(self._secrets)
        for exchange in self.exchanges:
            found |= exchange.own_secrets()
        return found

    @property
    def last(self) -> Exchange | None:
        return self.exchanges[-1] if self.exchanges else None

    def redacted(self) -> list[dict[str, Any]]:
        secrets = self.known_secrets()
        return [exchange.redacted(secrets) for exchange in self.exchanges]

    def to_har(self, path: str | Path) -> Path:
        """Write the session as HAR 1.2 (browser devtools and HAR viewers open it), redacted."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.har(), indent=2, ensure_ascii=False), encoding="utf-8")
        return path

    def har(self) -> dict[str, Any]:
        secrets = self.known_secrets()
        entries = [_har_entry(exchange.redacted(secrets)) for exchange in self.exchanges]
        return {"log": {"version": "1.2", "creator": {"name": "mfa-api-notebook-kit", "version": __version__},
                        "entries": entries}}

    def __len__(self) -> int:
        return len(self.exchanges)

    def __repr__(self) -> str:
        return f"<Session {len(self.exchanges)} exchanges>"

    def _repr_html_(self) -> str:
        from .display import session_html
        return session_html(self)


def _har_entry(view: dict[str, Any]) -> dict[str, Any]:
    body = view["request_body"]
    request_type = _header(view["request_headers"], "content-type")
    response_type = _header(view["response_headers"], "content-type")
    response_text = view["response_body"] or ""
    wait_ms = round(view["duration"] * 1000, 3)
    request: dict[str, Any] = {
        "method": view["method"], "url": view["url"], "httpVersion": "HTTP/1.1", "cookies": [],
        "headers": _har_pairs(view["request_headers"].items()),
        "queryString": _har_pairs(parse_qsl(urlsplit(view["url"]).query, keep_blank_values=True)),
        "headersSize": -1, "bodySize": len(body.encode()) if body else 0,
    }
    if body:
        request["postData"] = {"mimeType": request_type or "application/octet-stream", "text": body}
    entry = {
        "startedDateTime": view["started"],
        "time": wait_ms,
        "request": request,
        "response": {
            "status": view["status"] or 0, "statusText": view["reason"] or "", "httpVersion": "HTTP/1.1",
            "cookies": [], "headers": _har_pairs(view["response_headers"].items()),
            "content": {"size": len(response_text.encode()), "mimeType": response_type or "x-unknown",
                        "text": response_text},
            "redirectURL": _header(view["response_headers"], "location"),
            "headersSize": -1, "bodySize": len(response_text.encode()) if view["status"] else -1,
        },
        "cache": {},
        "timings": {"send": 0, "wait": wait_ms, "receive": 0},
    }
    if view["error"]:
        entry["_error"] = view["error"]  # HAR's convention for custom fields: a leading underscore
    return entry


def _har_pairs(pairs: Any) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs]


def _header(headers: dict[str, str], name: str) -> str:
    return next((value for key, value in headers.items() if key.lower() == name), "")


def _parse_json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _error_code(body: Any) -> str:
    return body.get("error", "") if isinstance(body, dict) else ""


# --- HAR in: the kit's own files and those browsers and proxies export ---------------------------

def from_har(har: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> list[Exchange]:
    """Every HAR entry (a HAR, or its entries) as an Exchange, in the file's order (base64 bodies
    decoded): the inverse of `Session.har`, and how a browser's or a proxy's HAR is read."""
    entries = har.get("log", {}).get("entries", []) if isinstance(har, Mapping) else har
    return [from_har_entry(entry) for entry in entries]


def from_har_entry(entry: Mapping[str, Any]) -> Exchange:
    """One entry as an Exchange. A request that got no answer (status 0 or -1; why in Chrome's
    `response._error`, Playwright's `response._failureText` or the kit's `_error`) has status None
    and `error` set, as the client records a network failure."""
    request = entry.get("request") or {}
    response = entry.get("response") or {}
    post = request.get("postData") or {}
    body = post.get("text")
    if not body and post.get("params"):
        body = urlencode([(p.get("name", ""), p.get("value") or "") for p in post["params"]])
    request_headers = _headers(request.get("headers") or [])
    if post.get("mimeType") and not any(k.lower() == "content-type" for k in request_headers):
        request_headers["Content-Type"] = post["mimeType"]
    content = response.get("content") or {}
    text = content.get("text")
    if text and content.get("encoding") == "base64":
        text = _b64decode(text) if _TEXTUAL.search(str(content.get("mimeType") or "")) else ""
    response_headers = _headers(response.get("headers") or [])
    if content.get("mimeType") and not any(k.lower() == "content-type" for k in response_headers):
        response_headers["Content-Type"] = content["mimeType"]
    if response.get("redirectURL") and not any(k.lower() == "location" for k in response_headers):
        response_headers["Location"] = response["redirectURL"]
    status = int(response.get("status") or 0)
    error = (entry.get("_error") or response.get("_error") or response.get("_failureText")
             or (None if status > 0 else "no response"))
    return Exchange(
        method=str(request.get("method") or "GET").upper(), url=request.get("url") or "",
        request_headers=request_headers, request_body=body or None,
        status=status if status > 0 else None, reason=response.get("statusText") or "",
        response_headers=response_headers, response_body=text or None,
        started=parse_time(entry.get("startedDateTime")),
        duration=max(float(entry.get("time") or 0), 0) / 1000, error=error)


def _headers(pairs: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """HAR header pairs as a dict; HTTP/2's ':authority' pseudo-header becomes Host."""
    headers: dict[str, str] = {}
    for pair in pairs:
        name = pair.get("name", "")
        headers["Host" if name == ":authority" else name] = pair.get("value") or ""
    return {name: value for name, value in headers.items() if not name.startswith(":")}


_TEXTUAL = re.compile(r"json|text|xml|javascript|form|^$")   # a font or an image: not decoded


def _b64decode(text: str) -> str:
    try:
        return base64.b64decode(text).decode("utf-8")
    except (binascii.Error, ValueError):
        return ""  # binary content (an image, a font): nothing an MFA API diagnosis reads


_FRACTION = re.compile(r"(\.\d{6})\d+")       # Fiddler writes 7 digits; datetime reads 6
_COMPACT_OFFSET = re.compile(r"([+-]\d\d)(\d\d)$")


def parse_time(value: Any) -> datetime:
    """startedDateTime as written by any exporter (Z, +01:00, +0100, 7 fraction digits); the
    epoch when it is missing or unreadable."""
    text = _COMPACT_OFFSET.sub(r"\1:\2", _FRACTION.sub(r"\1", str(value).strip().replace("Z", "+00:00")))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return datetime.fromtimestamp(0, timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
