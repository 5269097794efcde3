"""HAR files in: the kit's own and the ones Chrome and Firefox devtools export, read back as the
client's `Exchange`s so that diagnosis and redaction treat a customer's HAR exactly like a session."""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from mfa_helpers.exchange import Exchange, Session


def read_har(path: str | Path) -> dict:
    """A HAR file as a dict (devtools may write a byte-order mark)."""
    har = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    if not isinstance(har, dict) or not isinstance(har.get("log", {}).get("entries"), list):
        raise ValueError(f"{path} is not a HAR file: no log.entries")
    return har


def exchanges(har: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> list[Exchange]:
    """Every HAR entry as an Exchange, in the file's order (base64 bodies decoded)."""
    entries = har.get("log", {}).get("entries", []) if isinstance(har, Mapping) else har
    return [exchange(entry) for entry in entries]


def session(har: Mapping[str, Any]) -> Session:
    """A Session holding a HAR's exchanges: its known_secrets() and har() redact it like the kit's."""
    result = Session()
    for item in exchanges(har):
        result.record(item)
    return result


def exchange(entry: Mapping[str, Any]) -> Exchange:
    request = entry.get("request", {})
    response = entry.get("response", {})
    post = request.get("postData") or {}
    body = post.get("text")
    if body is None and post.get("params"):
        body = urlencode([(p.get("name", ""), p.get("value", "")) for p in post["params"]])
    request_headers = _headers(request.get("headers", []))
    if post.get("mimeType") and not any(k.lower() == "content-type" for k in request_headers):
        request_headers["Content-Type"] = post["mimeType"]
    content = response.get("content") or {}
    text = content.get("text")
    if text and content.get("encoding") == "base64":
        text = _b64decode(text)
    response_headers = _headers(response.get("headers", []))
    if content.get("mimeType") and not any(k.lower() == "content-type" for k in response_headers):
        response_headers["Content-Type"] = content["mimeType"]
    return Exchange(
        method=str(request.get("method", "GET")).upper(), url=request.get("url", ""),
        request_headers=request_headers, request_body=body or None,
        status=int(response.get("status") or 0) or None, reason=response.get("statusText", ""),
        response_headers=response_headers, response_body=text or None,
        started=_parse_iso(entry.get("startedDateTime")),
        duration=float(entry.get("time") or 0) / 1000, error=entry.get("_error"))


def _headers(pairs: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """HAR header pairs as a dict; HTTP/2's ':authority' pseudo-header becomes Host."""
    headers: dict[str, str] = {}
    for pair in pairs:
        name = pair.get("name", "")
        headers["Host" if name == ":authority" else name] = pair.get("value", "")
    return {name: value for name, value in headers.items() if not name.startswith(":")}


def _b64decode(text: str) -> str:
    try:
        return base64.b64decode(text).decode("utf-8")
    except (binascii.Error, ValueError):
        return ""  # binary content (an image, a font): nothing an MFA API diagnosis reads


def _parse_iso(value: str | None) -> datetime:
    try:  # Python 3.10's fromisoformat does not read a trailing "Z"
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.fromtimestamp(0, timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
