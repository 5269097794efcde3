"""HAR files in: the kit's own and the ones browsers (Chrome, Firefox, Safari) and proxies (Charles,
Fiddler) export, checked here and read back as the client's `Exchange`s (`exchange.from_har`), so
that diagnosis and redaction treat a customer's HAR exactly like a session.

A customer's file can be anything: gzip-compressed, UTF-16 with a byte-order mark, JSON that is not
quite a HAR. `read_har` reads what it can (gzip, UTF-8/16/32 with or without a BOM) and refuses the
rest with `HarError`, one sentence that names the file, where in it, and what to do.
"""
from __future__ import annotations

import codecs
import gzip
import json
import zlib
from pathlib import Path
from typing import Any


EXPORT_AGAIN = ("export it again from the browser (devtools → Network → Export HAR) or the proxy "
                "(Charles: File → Export Session → HAR; Fiddler: File → Export Sessions → HTTPArchive)")


class HarError(ValueError):
    """The file is no HAR the kit can read; the message names the file, the place and the fix."""


def read_har(path: str | Path) -> dict:
    """A HAR file as a dict, checked to be one (entries a list of objects with the fields typed as
    HAR 1.2 says); gzip and UTF-16/32 are read too."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise HarError(f"{path} is a folder, not a HAR file: give the .har file's path") from None
    except OSError as exc:
        raise HarError(f"cannot read {path}: {exc.strerror or exc}; fix: check the path, or save the HAR "
                       "again where you can read it") from None
    return parse_har(raw, str(path))


def parse_har(raw: bytes | str, name: str = "the HAR") -> dict:
    """`read_har` for bytes or text already in memory (a notebook's upload widget)."""
    text = raw if isinstance(raw, str) else _text(raw, name)
    try:
        har = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HarError(f"{name} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): "
                       f"{EXPORT_AGAIN}") from None
    except RecursionError:
        raise HarError(f"{name} is JSON nested too deeply to be a HAR: {EXPORT_AGAIN}") from None
    check(har, name)
    return har


def _text(raw: bytes, name: str) -> str:
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise HarError(f"{name} is a damaged gzip file ({exc}): send the .har again") from None
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            break
    else:  # no byte-order mark: JSON starts with an ASCII character, so NULs give UTF-16 away
        encoding = ("utf-16-le" if raw[1:2] == b"\x00" else "utf-16-be" if raw[:1] == b"\x00"
                    else "utf-8")
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise HarError(f"{name} is not text in UTF-8 or UTF-16 (byte {exc.start} cannot be "
                       f"decoded as {encoding}): {EXPORT_AGAIN}") from None


# The HAR 1.2 fields the kit reads, by the object that holds them → the JSON type they must have.
_STRING, _NUMBER, _LIST, _OBJECT = (str,), (int, float), (list,), (dict,)
_FIELDS: dict[str, tuple[tuple[str, tuple[type, ...]], ...]] = {
    "": (("request", _OBJECT), ("response", _OBJECT), ("startedDateTime", _STRING), ("time", _NUMBER),
         ("_error", _STRING)),
    "request": (("method", _STRING), ("url", _STRING), ("headers", _LIST), ("postData", _OBJECT)),
    "request.postData": (("text", _STRING), ("params", _LIST), ("mimeType", _STRING)),
    "response": (("status", _NUMBER), ("headers", _LIST), ("content", _OBJECT), ("redirectURL", _STRING),
                 ("statusText", _STRING), ("_error", _STRING), ("_failureText", _STRING)),
    "response.content": (("text", _STRING), ("mimeType", _STRING), ("encoding", _STRING)),
}
_TYPE_NAMES = {str: "a string", int: "a number", float: "a number", list: "a list", dict: "an object",
               bool: "true/false", type(None): "null"}


def _what(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def check(har: Any, name: str = "the HAR") -> None:
    """Raise HarError unless `har` has log.entries, each entry typed as HAR 1.2 says (null or a
    missing optional field is fine: exporters leave many out)."""
    log = har.get("log") if isinstance(har, dict) else None
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        has = "has no log.entries" if isinstance(har, dict) else f"is {_what(har)} of JSON, not a HAR object"
        raise HarError(f"{name} is not a HAR file: it {has}; {EXPORT_AGAIN}")
    for number, entry in enumerate(log["entries"]):
        where = f"log.entries[{number}]"
        if not isinstance(entry, dict):
            raise HarError(f"{name} is not a HAR file a browser wrote: {where} is {_what(entry)}, "
                           f"not an object; {EXPORT_AGAIN}")
        request, response = entry.get("request"), entry.get("response")
        post = request.get("postData") if isinstance(request, dict) else None
        content = response.get("content") if isinstance(response, dict) else None
        for prefix, holder in (("", entry), ("request", request), ("request.postData", post),
                               ("response", response), ("response.content", content)):
            if not isinstance(holder, dict):
                continue
            for key, types in _FIELDS[prefix]:
                value = holder.get(key)
                if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
                    raise HarError(f"{name} is not a HAR file a browser wrote: {where}."
                                   f"{prefix + '.' if prefix else ''}{key} is {_what(value)}, not "
                                   f"{_TYPE_NAMES[types[0]]}; {EXPORT_AGAIN}")
        for part, kind, items in (("request", "headers", request and request.get("headers")),
                                  ("response", "headers", response and response.get("headers")),
                                  ("request", "postData.params", post and post.get("params"))):
            for i, pair in enumerate(items or ()):
                if not (isinstance(pair, dict) and isinstance(pair.get("name", ""), str)
                        and isinstance(pair.get("value", ""), (str, type(None)))):
                    raise HarError(f"{name} is not a HAR file a browser wrote: {where}.{part}.{kind}[{i}] "
                                   f"is no {{\"name\": ..., \"value\": ...}} pair of strings; {EXPORT_AGAIN}")
