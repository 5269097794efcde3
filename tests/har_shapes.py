"""HAR entries in the shapes other tools write, for tests: Chrome and Firefox devtools, Safari's Web
Inspector, Charles and Fiddler. Each writer takes one neutral exchange and writes it the way that
tool does (field order, header case, body encoding, time format, how a failed request looks), from
their exported files' documented quirks; the kit's reader must take them all."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode, urlsplit

T0 = datetime(2026, 11, 23, 10, 0, 0, tzinfo=timezone.utc)


@dataclass
class Call:
    """One exchange, before any tool wrote it down."""

    method: str
    url: str
    status: int                       # 0: no answer
    form: dict[str, str] | None = None
    json_body: Any = None
    response: Any = None              # JSON-able body, or None for none
    at: float = 0.0                   # seconds after T0
    headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    error: str = ""                   # Chrome's _error for a failed request
    with_body: bool = True            # False: the exporter left the response body out

    @property
    def started(self) -> datetime:
        return T0 + timedelta(seconds=self.at)

    def request_text(self) -> tuple[str, str] | None:
        if self.form is not None:
            return "application/x-www-form-urlencoded", urlencode(self.form)
        if self.json_body is not None:
            return "application/json", json.dumps(self.json_body)
        return None

    def response_text(self) -> str:
        return json.dumps(self.response) if self.response is not None else ""


def _pairs(headers: dict[str, str], lower: bool = False) -> list[dict[str, str]]:
    return [{"name": k.lower() if lower else k, "value": v} for k, v in headers.items()]


def _query(url: str) -> list[dict[str, str]]:
    from urllib.parse import parse_qsl
    return [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query)]


def chrome(call: Call) -> dict:
    """Chrome/Edge: HTTP/2 pseudo-headers in lower case, form posts with params and text,
    failed requests as status 0 with `response._error`, times in UTC with Z."""
    host = urlsplit(call.url).netloc
    request: dict[str, Any] = {"method": call.method, "url": call.url, "httpVersion": "http/2.0",
                               "headers": [{"name": ":authority", "value": host},
                                           {"name": ":method", "value": call.method},
                                           *_pairs(call.headers, lower=True)],
                               "queryString": _query(call.url), "cookies": [], "headersSize": -1,
                               "bodySize": 0}
    if (body := call.request_text()):
        request["postData"] = {"mimeType": body[0], "text": body[1]}
        if call.form is not None:
            request["postData"]["params"] = [{"name": k, "value": v} for k, v in call.form.items()]
    text = call.response_text()
    content: dict[str, Any] = {"size": len(text), "mimeType": "application/json"}
    if call.with_body and text:
        content["text"] = text
    entry = {"_initiator": {"type": "script"}, "_priority": "High", "_resourceType": "fetch",
             "cache": {}, "connection": "443", "request": request,
             "response": {"status": call.status, "statusText": "", "httpVersion": "http/2.0",
                          "headers": _pairs({"content-type": "application/json", **call.response_headers}, True)
                          if call.status else [],
                          "cookies": [], "content": content,
                          "redirectURL": call.response_headers.get("location", ""),
                          "headersSize": -1, "bodySize": -1, "_transferSize": 0,
                          "_error": call.error or None},
             "serverIPAddress": "", "startedDateTime": call.started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
             "time": 120.5, "timings": {"blocked": -1, "dns": -1, "ssl": -1, "connect": -1,
                                        "send": 0, "wait": 120, "receive": 0.5}}
    return entry


def firefox(call: Call) -> dict:
    """Firefox: header names as sent (a Host header, no pseudo-headers), JSON posts with empty
    params and a charset, times with the local offset, failed requests as status 0, no _error."""
    local = call.started.astimezone(timezone(timedelta(hours=1)))
    request: dict[str, Any] = {"bodySize": 0, "method": call.method, "url": call.url,
                               "httpVersion": "HTTP/2",
                               "headers": [{"name": "Host", "value": urlsplit(call.url).netloc},
                                           *_pairs(call.headers)],
                               "cookies": [], "queryString": _query(call.url), "headersSize": 412}
    if (body := call.request_text()):
        request["postData"] = {"mimeType": body[0] + "; charset=UTF-8", "params": [], "text": body[1]}
    text = call.response_text()
    content: dict[str, Any] = {"mimeType": "application/json", "size": len(text)}
    if call.with_body and text:
        content["text"] = text
    return {"pageref": "page_1", "startedDateTime": local.isoformat(timespec="milliseconds"),
            "request": request,
            "response": {"status": call.status, "statusText": "OK" if call.status == 200 else "",
                         "httpVersion": "HTTP/2",
                         "headers": _pairs({"Content-Type": "application/json", **call.response_headers}),
                         "cookies": [], "content": content,
                         "redirectURL": call.response_headers.get("Location", ""),
                         "headersSize": 300, "bodySize": len(text)},
            "cache": {}, "timings": {"blocked": 0, "dns": 0, "connect": 0, "ssl": 0, "send": 0,
                                     "wait": 80, "receive": 0},
            "time": 80, "_securityState": "secure", "serverIPAddress": "203.0.113.7", "connection": "443"}


def safari(call: Call) -> dict:
    """Safari's Web Inspector: `_fetchType`, content with `compression`, no status for a
    request that got none (-1 in some versions), times with milliseconds and Z."""
    request: dict[str, Any] = {"method": call.method, "url": call.url, "httpVersion": "",
                               "headers": [{"name": "Host", "value": urlsplit(call.url).netloc},
                                           *_pairs(call.headers)],
                               "cookies": [], "queryString": _query(call.url), "headersSize": -1,
                               "bodySize": 0}
    if (body := call.request_text()):
        request["postData"] = {"mimeType": body[0], "text": body[1], "params": []}
    text = call.response_text()
    content: dict[str, Any] = {"size": len(text), "compression": 0, "mimeType": "application/json"}
    if call.with_body and text:
        content["text"] = text
    return {"pageref": "page_0", "startedDateTime": call.started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "time": 42.0, "request": request,
            "response": {"status": call.status if call.status else -1, "statusText": "",
                         "httpVersion": "", "cookies": [],
                         "headers": _pairs({"Content-Type": "application/json", **call.response_headers}),
                         "content": content, "redirectURL": call.response_headers.get("Location", ""),
                         "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"blocked": 0, "dns": -1, "connect": -1, "ssl": -1, "send": 0,
                                     "wait": 40, "receive": 2},
            "_fetchType": "Network Load"}


def charles(call: Call) -> dict:
    """Charles Proxy: every body base64 with `encoding`, header names as on the wire, an explicit
    offset, `comment` fields, and 'status': 0 with `_charlesStatus` for a failed request."""
    request: dict[str, Any] = {"method": call.method, "url": call.url, "httpVersion": "HTTP/1.1",
                               "cookies": [], "headers": [{"name": "Host", "value": urlsplit(call.url).netloc},
                                                          *_pairs(call.headers)],
                               "queryString": _query(call.url), "headersSize": 250, "bodySize": 0}
    if (body := call.request_text()):
        request["postData"] = {"mimeType": body[0], "text": body[1], "params": [], "comment": ""}
    text = call.response_text()
    content: dict[str, Any] = {"size": len(text), "mimeType": "application/json;charset=utf-8", "comment": ""}
    if call.with_body and text:
        content.update(text=base64.b64encode(text.encode()).decode(), encoding="base64")
    return {"startedDateTime": call.started.isoformat(timespec="milliseconds"), "time": 95,
            "request": request,
            "response": {"_charlesStatus": "COMPLETE" if call.status else "FAILED",
                         "status": call.status, "statusText": "", "httpVersion": "HTTP/1.1",
                         "cookies": [], "headers": _pairs({"Content-Type": "application/json;charset=utf-8",
                                                           **call.response_headers}),
                         "content": content, "redirectURL": None, "headersSize": 200, "bodySize": len(text)},
            "serverIPAddress": "203.0.113.7", "cache": {}, "timings": {"dns": -1, "connect": -1,
                                                                        "ssl": -1, "send": 1, "wait": 90,
                                                                        "receive": 4},
            "comment": ""}


def fiddler(call: Call) -> dict:
    """Fiddler Classic: seven fraction digits and a local offset in startedDateTime, text bodies
    base64 only when binary, `params` for forms, status as a number, comments."""
    local = call.started.astimezone(timezone(timedelta(hours=-5)))
    stamp = local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond:06d}0" + local.strftime("%z")
    stamp = stamp[:-2] + ":" + stamp[-2:]
    request: dict[str, Any] = {"method": call.method, "url": call.url, "httpVersion": "HTTP/1.1",
                               "headersSize": 300, "bodySize": 0,
                               "headers": [{"name": "Host", "value": urlsplit(call.url).netloc},
                                           *_pairs(call.headers)],
                               "cookies": [], "queryString": _query(call.url)}
    if (body := call.request_text()):
        request["postData"] = {"mimeType": body[0], "text": body[1],
                               "params": [{"name": k, "value": v} for k, v in (call.form or {}).items()]}
    text = call.response_text()
    content: dict[str, Any] = {"size": len(text), "compression": 0, "mimeType": "application/json"}
    if call.with_body and text:
        content["text"] = text
    return {"startedDateTime": stamp, "time": 101, "request": request,
            "response": {"status": call.status, "statusText": "Forbidden" if call.status == 403 else "",
                         "httpVersion": "HTTP/1.1", "headersSize": 180, "bodySize": len(text),
                         "headers": _pairs({"Content-Type": "application/json", **call.response_headers}),
                         "cookies": [], "content": content,
                         "redirectURL": call.response_headers.get("Location", "")},
            "cache": {}, "timings": {"send": 0, "wait": 100, "receive": 1}, "comment": ""}


WRITERS = {"chrome": chrome, "firefox": firefox, "safari": safari, "charles": charles, "fiddler": fiddler}
CREATORS = {"chrome": ("WebInspector", "537.36"), "firefox": ("Firefox", "133.0"),
            "safari": ("WebKit Web Inspector", "18.1"), "charles": ("Charles Proxy", "4.6.7"),
            "fiddler": ("Fiddler", "5.0.20243.10853")}


def har_file(vendor: str, *calls: Call) -> dict:
    name, version = CREATORS[vendor]
    return {"log": {"version": "1.2", "creator": {"name": name, "version": version},
                    "pages": [{"startedDateTime": T0.isoformat(), "id": "page_1", "title": "app",
                               "pageTimings": {}}],
                    "entries": [WRITERS[vendor](call) for call in calls]}}
