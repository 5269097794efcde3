"""The case bundle: one zip a support engineer can attach to a ticket, safe to share.

It holds the redacted executed notebook (with the parameters it ran with), the redacted HAR, the
diagnosis in Markdown and an environment summary. Redaction is `mfa_helpers.redact` (structural:
headers, URLs, JSON, printed dicts, form bodies, JWTs). The scan after it assumes redaction missed
something: it looks for every secret value known (the inputs' own, the client settings', every
secret-looking environment variable, `--secret-env`) raw, URL-encoded, JSON- or \\u-escaped, in hex,
at every base64 alignment (standard and URL-safe), and split by whitespace. One hit and nothing is
written: `SecretLeak` names the input file and where in it (HAR entry, notebook cell, field).
"""
from __future__ import annotations

import base64
import html
import io
import json
import os
import platform
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

import mfa_helpers
from mfa_helpers import redact
from mfa_helpers.support.diagnose import diagnose, findings_markdown
from mfa_helpers.errors import KitError
from mfa_helpers.exchange import Session, from_har_entry
from mfa_helpers.runner.executed import cleaned
from mfa_helpers.settings import Settings

NOTEBOOK_FILE = "notebook.ipynb"
HAR_FILE = "exchanges.har"
DIAGNOSIS_FILE = "diagnosis.md"
ENVIRONMENT_FILE = "environment.json"
# Libraries whose versions explain most behaviour differences between two machines.
LIBRARIES = ("requests", "pyotp", "PyJWT", "cryptography", "starlette", "uvicorn", "nbformat",
             "nbclient", "papermill", "ipykernel", "ipywidgets", "qrcode")
MIN_SECRET_LENGTH = redact.MIN_SECRET_LENGTH  # shorter values are not masked anywhere
SHORT_SECRET = 12              # shorter values (OTPs, binding codes) only count as whole words
MIN_ENCODED = 8                # a base64 or hex form shorter than this would match random text
LARGE_BODY = 65_536             # characters; larger bodies that are not JSON or a form are left out
IMAGE_REMOVED = "[image removed from the case bundle: images can hold QR codes]"
DATA_IMAGE = re.compile(r"data:image/[\w.+-]+;base64,[A-Za-z0-9+/=\s]+")
UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Leak:
    """Where a secret value would sit in the bundle, named by the input it came from (the value
    itself is never repeated)."""

    source: str                  # the input file (or "the session", "the diagnosis")
    place: str                   # where in it: HAR entry and field, notebook cell and output
    secret: str                  # which secret: an environment variable's name, or a description
    encoding: str = "as is"      # "as is", "URL-encoded", "inside base64", "hex", "split by whitespace"…

    def __str__(self) -> str:
        return f"{self.source}, {self.place}: {self.secret} ({self.encoding})"


class SecretLeak(KitError):
    """A secret value survived redaction: nothing was written. `leaks` says where, in the inputs."""

    def __init__(self, leaks: list[Leak]):
        self.leaks = leaks
        listed = "\n".join(f"  - {leak}" for leak in leaks)
        super().__init__(
            f"nothing written: {len(leaks)} secret value(s) would survive redaction:\n{listed}\n"
            "  fix: clear that output and re-run the cell, or re-export the HAR without that request, "
            "then bundle again")


class BundleInputError(KitError):
    """An input is not what it should be (not a notebook, not a HAR, unreadable)."""


def write_bundle(out: str | Path = "case.zip", *, client: Any = None, session: Session | None = None,
                 notebook: str | Path | None = None, har: str | Path | None = None,
                 target: str | None = None, canonical_domain: str | None = None,
                 secrets: Mapping[str, str] | None = None,
                 env: Mapping[str, str] | None = None) -> Path:
    """Write the case bundle zip and return its path; raise SecretLeak (writing nothing) on a leak.

    From a notebook cell: ``write_bundle("case.zip", client=client)``. From files (the CLI):
    ``write_bundle(out, notebook="executed.ipynb", har="customer.har", canonical_domain=...)``:
    then the tenant is only ``canonical_domain`` or what the HAR shows, never this machine's
    AUTH0_DOMAIN. ``secrets``: more name → value pairs to scan for.
    """
    out = Path(out)
    environ = os.environ if env is None else env
    settings = client.settings if client is not None else Settings.from_env(env)
    if session is None and client is not None:
        session = client.session
    nb = read_notebook(notebook) if notebook is not None else None
    raw_har = read_har(har) if har is not None else None
    if raw_har is not None:
        session = har_session(raw_har, har)
    known = known_secrets(session, settings, secrets or {}, environ, raw_har, nb)
    values = set(known)
    har_source = str(har) if har is not None else "the session"
    files: dict[str, str] = {}
    pieces: list[tuple[str, str, str]] = []
    if nb is not None:
        shared = redacted_notebook(nb, values)
        files[NOTEBOOK_FILE] = json.dumps(shared, indent=1, ensure_ascii=False)
        pieces += [(str(notebook), where, text) for where, text in notebook_places(shared)]
    if session is not None:
        shared_har = redacted_har(session, values)
        files[HAR_FILE] = json.dumps(shared_har, indent=2, ensure_ascii=False)
        pieces += [(har_source, where, text) for where, text in har_places(shared_har)]
        if client is not None:
            domain = canonical_domain or settings.domain or _emulator_domain(client)
        else:
            domain = canonical_domain
        markdown = redact.redact_text(findings_markdown(diagnose(session, canonical_domain=domain)), values)
        files[DIAGNOSIS_FILE] = markdown
        pieces.append((f"the diagnosis of {har_source}", DIAGNOSIS_FILE, markdown))
    summary = environment(settings if client is not None else None, target, canonical_domain)
    files[ENVIRONMENT_FILE] = json.dumps(summary, indent=2)
    pieces.append(("this machine's environment", ENVIRONMENT_FILE, files[ENVIRONMENT_FILE]))
    matcher = SecretMatcher(known)
    leaks = [Leak(source, where, label, encoding)
             for source, where, text in pieces for label, encoding, _ in matcher.find(text)]
    if leaks:
        raise SecretLeak(sorted(set(leaks), key=lambda leak: (leak.source, leak.place, leak.secret)))
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    out.write_bytes(buffer.getvalue())
    return out


def default_path(name: str = "case") -> Path:
    """.mfa-kit/cases/NAME-YYYYmmdd-HHMMSS.zip under the working directory (ignored by git)."""
    return Path(".mfa-kit", "cases", f"{name}-{datetime.now():%Y%m%d-%H%M%S}.zip")


def files_in(path: str | Path) -> list[str]:
    """The names of the files in a bundle."""
    with zipfile.ZipFile(path) as archive:
        return sorted(archive.namelist())


# --- inputs -------------------------------------------------------------------------------------

def read_notebook(path: str | Path) -> dict[str, Any]:
    """An executed notebook, checked against the nbformat schema; else BundleInputError naming it."""
    import nbformat

    data = _read_json(path, "--notebook")
    if isinstance(data, dict) and isinstance(data.get("log"), dict) and "entries" in data["log"]:
        raise BundleInputError(f"{path} is a HAR file, not a notebook: pass it with --har")
    if not isinstance(data, dict) or "cells" not in data or "nbformat" not in data:
        raise BundleInputError(f"{path} is not a Jupyter notebook (no cells / nbformat): pass the "
                               "executed .ipynb with --notebook")
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(nb)
    except (nbformat.ValidationError, ValueError, TypeError, KeyError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BundleInputError(f"{path} is not a valid Jupyter notebook ({first[:160]}): pass the "
                               "executed .ipynb as Jupyter or papermill saved it") from None
    return json.loads(json.dumps(nb))  # plain dicts and lists, multi-line texts joined


def read_har(path: str | Path) -> dict[str, Any]:
    """A HAR file (any browser's or proxy's export), else BundleInputError naming it."""
    data = _read_json(path, "--har")
    if isinstance(data, dict) and "cells" in data and "nbformat" in data:
        raise BundleInputError(f"{path} is a notebook, not a HAR file: pass it with --notebook")
    log = data.get("log") if isinstance(data, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise BundleInputError(f"{path} is not a HAR file (no log.entries list): export it from the "
                               "browser's Network panel with 'Save all as HAR (with content)'")
    return data


def har_session(data: Mapping[str, Any], path: str | Path) -> Session:
    """The HAR's entries as a Session; an entry the reader cannot take is named with its index."""
    session = Session()
    for index, entry in enumerate(data["log"]["entries"], 1):
        try:
            session.record(from_har_entry(entry))
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise BundleInputError(f"{path}: entry {index} is not a HAR entry ({type(exc).__name__}: "
                                   f"{str(exc)[:120]})") from None
    return session


def _read_json(path: str | Path, option: str) -> Any:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise BundleInputError(f"{option} {path}: cannot read it ({exc.strerror or exc}); fix: check the path "
                               f"given to {option}") from None
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            return json.loads(raw.decode(encoding))
        except UnicodeDecodeError:
            continue
        except (ValueError, RecursionError) as exc:
            raise BundleInputError(f"{option} {path} is not JSON ({str(exc)[:120]})") from None
    raise BundleInputError(f"{option} {path} is not text in UTF-8 or UTF-16")


def known_secrets(session: Session | None, settings: Settings, extra: Mapping[str, str],
                  environ: Mapping[str, str], raw_har: Any = None, nb: Any = None) -> dict[str, str]:
    """value → label for every secret value known: the inputs' own, settings, environment, caller."""
    known: dict[str, str] = {}
    for values, where in ((session.known_secrets() if session is not None else (), "the HAR"),
                          (redact.collect_secrets(_without_bodies(raw_har)) if raw_har is not None else (), "the HAR"),
                          (redact.collect_secrets(nb) if nb is not None else (), "the notebook")):
        known.update({v: f"a secret seen in {where} ({len(v)} characters)" for v in values})
    known.update({v: "a secret from the client settings" for v in settings.secrets()})
    known.update({v: n for n, v in redact.secret_variables(environ).items()})
    known.update({v: n for n, v in extra.items() if v})
    return {v: label for v, label in known.items()
            if len(v) >= MIN_SECRET_LENGTH and not redact.has_mask(v)}


def _without_bodies(raw_har: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A HAR's entries without their bodies (the session read those already), for what only the
    raw file holds: cookie and query arrays, pseudo-headers, redirectURL, vendor fields."""
    entries = []
    for entry in raw_har["log"]["entries"]:
        request, response = entry.get("request"), entry.get("response")
        request = {k: v for k, v in request.items() if k != "postData"} if isinstance(request, Mapping) else {}
        response = {k: v for k, v in response.items() if k != "content"} if isinstance(response, Mapping) else {}
        entries.append({**entry, "request": request, "response": response})
    return entries


# --- redacted copies ----------------------------------------------------------------------------

def redacted_notebook(nb: Mapping[str, Any], secrets: Iterable[str] = ()) -> dict[str, Any]:
    """An executed notebook fit to share: no widget state, no images, the papermill parameters it
    ran with kept, every string through the kit's redaction and the known secret values."""
    nb = cleaned(dict(nb), keep_parameters=True)
    for cell in nb.get("cells", []):
        cell.pop("attachments", None)  # pasted images in Markdown cells
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data and any(kind.startswith("image/") for kind in data):
                output["data"] = {k: v for k, v in data.items() if not k.startswith("image/")}
                output["data"]["text/plain"] = IMAGE_REMOVED
    return _without_data_images(redact.redact_json(nb, secrets))


def _without_data_images(node: Any) -> Any:
    """Inline images in HTML or Markdown (<img src="data:image/png;base64,...">) removed too."""
    if isinstance(node, str):
        return DATA_IMAGE.sub(IMAGE_REMOVED, node)
    if isinstance(node, list):
        return [_without_data_images(item) for item in node]
    if isinstance(node, dict):
        return {key: _without_data_images(value) for key, value in node.items()}
    return node


def redacted_har(session: Session, secrets: Iterable[str]) -> dict[str, Any]:
    """The session's HAR, redacted with every known secret too (the caller's session untouched).
    Large bodies that are not data (pages, scripts, styles) are left out: no MFA diagnosis reads
    them, and each is one more place a secret could hide."""
    copy = Session()
    for item in session.exchanges:
        copy.record(replace(item, response_body=_shareable_body(item.response_body, item.response_content_type),
                            request_body=_shareable_body(item.request_body, item.request_content_type)))
    copy.add_secrets(*secrets)
    return copy.har()


def _shareable_body(body: str | None, content_type: str) -> str | None:
    if not body or len(body) <= LARGE_BODY or "x-www-form-urlencoded" in content_type.lower() \
            or body.lstrip()[:1] in ("{", "["):
        return body
    return f"[{len(body)} characters of {content_type or 'content'} left out of the case bundle]"


def environment(settings: Settings | None, target: str | None = None,
                domain: str | None = None) -> dict[str, Any]:
    """Versions and target kind: what differs between the customer's machine and ours (no secrets).
    Without `settings` (a bundle made from files) nothing of this machine's configuration is used."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "kit_version": mfa_helpers.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "libraries": versions,
        "target": target or (settings.target if settings else None),
        "tenant_domain": domain or (settings.domain if settings else None),
        "custom_domain": settings.custom_domain if settings else None,
        "uses_custom_domain": settings.use_custom_domain if settings else None,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


# --- where each string of a redacted input sits ---------------------------------------------------

def _strings(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _strings(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, path + (index,))


def har_places(har: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) for every string of a HAR: 'entry 4 (POST https://…/oauth/token), request header x-api-key'."""
    entries = har.get("log", {}).get("entries", [])
    for path, text in _strings(har):
        if len(path) < 3 or path[:2] != ("log", "entries"):
            yield ".".join(map(str, path)), text
            continue
        entry = entries[path[2]]
        request = entry.get("request", {})
        url = str(request.get("url", "?")).split("?")[0].split("#")[0]
        head = f"entry {path[2] + 1} ({request.get('method', '?')} {url})"
        yield f"{head}, {_field(entry, path[3:])}", text


_LISTS = {"headers": "header", "cookies": "cookie", "queryString": "query parameter", "params": "form field"}


def _field(entry: Any, path: tuple) -> str:
    """A HAR field path in words, list items by their name: 'request.header x-api-key'."""
    words, node = [], entry
    for index, key in enumerate(path):
        child = node[key] if isinstance(node, (list, Mapping)) else None
        if index and isinstance(child, Mapping) and "name" in child and path[index - 1] in _LISTS:
            words[-1] = f"{_LISTS[path[index - 1]]} {child['name']}"
            rest = [str(k) for k in path[index + 1:] if k != "value"]
            return ".".join(words + rest)
        words.append(str(key))
        node = child
    return ".".join(words)


def notebook_places(nb: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) for every string of a notebook: 'cell 3 (In [2]), output text/plain'."""
    cells = nb.get("cells", [])
    for path, text in _strings(nb):
        if len(path) < 3 or path[0] != "cells":
            yield ".".join(map(str, path)), text
            continue
        cell = cells[path[1]]
        count = cell.get("execution_count")
        head = f"cell {path[1] + 1}" + (f" (In [{count}])" if count else "")
        rest = path[2:]
        if rest[0] == "outputs" and len(rest) >= 3:
            output = cell["outputs"][rest[1]]
            kind = output.get("output_type", "output")
            what = rest[3] if rest[2] == "data" and len(rest) > 3 else rest[2]
            yield f"{head}, {kind} output {what}", text
        else:
            yield f"{head}, {'.'.join(map(str, rest))}", text


# --- the scan -----------------------------------------------------------------------------------

class SecretMatcher:
    """Finds known secret values in text in every encoding a leak could take."""

    def __init__(self, secrets: Mapping[str, str]):
        """``secrets``: value → what it is (shown instead of the value)."""
        self.needles: list[tuple[str, str, str, bool]] = []   # (form, label, encoding, whole word)
        self.squeezed: list[tuple[str, str]] = []             # long values without whitespace
        for value, label in secrets.items():
            if len(value) < MIN_SECRET_LENGTH:
                continue
            short = len(value) < SHORT_SECRET
            for form, encoding in encoded_forms(value).items():
                whole_word = short and encoding in ("as is", "URL-encoded", "JSON-escaped")
                if whole_word or len(form) >= MIN_ENCODED or encoding == "as is":
                    self.needles.append((form, label, encoding, whole_word))
            if not short:
                self.squeezed.append((WHITESPACE.sub("", value), label))

    def find(self, text: str) -> list[tuple[str, str, int | None]]:
        """(label, encoding, offset or None) of every hit; offsets only in the text as given."""
        hits = [(label, encoding, at) for form, label, encoding, whole in self.needles
                for at in _occurrences(text, form, whole)]
        views = []
        if "%" in text:
            once = unquote_plus(text)
            views += [(once, "URL-encoded"), (unquote_plus(once), "URL-encoded twice")]
        if "\\u" in text or "\\U" in text:
            views.append((UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text), "\\u-escaped"))
        if "&" in text:
            views.append((html.unescape(text), "HTML-escaped"))
        for view, encoding in views:
            hits += [(label, f"{encoding}, partly", None) for form, label, enc, whole in self.needles
                     if enc == "as is" and len(_occurrences(view, form, whole)) > len(_occurrences(text, form, whole))]
        if self.squeezed and any(ch.isspace() for ch in text):
            flat = WHITESPACE.sub("", text)
            hits += [(label, "split by whitespace", None) for value, label in self.squeezed
                     if flat.count(value) > text.count(value)]
        return hits


def encoded_forms(value: str) -> dict[str, str]:
    """form → encoding name, for every way a secret could be written down."""
    forms: dict[str, str] = {value: "as is"}
    for form in (quote(value, safe=""), quote_plus(value, safe=""), quote(value, safe="").lower()):
        forms.setdefault(form, "URL-encoded")
    forms.setdefault(json.dumps(value)[1:-1], "JSON-escaped")
    forms.setdefault(json.dumps(json.dumps(value)[1:-1])[1:-1], "JSON-escaped")
    escaped = "".join(f"\\u{ord(ch):04x}" for ch in value)
    forms.setdefault(escaped, "\\u-escaped")
    forms.setdefault(escaped.upper().replace("\\U", "\\u"), "\\u-escaped")
    raw = value.encode("utf-8")
    forms.setdefault(raw.hex(), "hex")
    forms.setdefault(raw.hex().upper(), "hex")
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        first = -(-8 * offset // 6)                  # the first character made of the value's bits only
        last = (8 * (offset + len(raw))) // 6        # the characters after it may mix in what follows
        core = encoded[first:last]
        forms.setdefault(core, "inside base64")
        forms.setdefault(core.replace("+", "-").replace("/", "_"), "inside base64url")
    return forms


def scan(files: Mapping[str, str], secrets: Mapping[str, str]) -> list[Leak]:
    """Every place a secret value appears in whole files, as `Leak(file, "line L, column C", …)`."""
    matcher = SecretMatcher(secrets)
    leaks = []
    for name, text in files.items():
        for label, encoding, at in matcher.find(text):
            where = "line {}, column {}".format(*_line_col(text, at)) if at is not None else "somewhere"
            leaks.append(Leak(name, where, label, encoding))
    return sorted(set(leaks), key=lambda leak: (leak.source, leak.place))


def _occurrences(text: str, form: str, whole_word: bool) -> list[int]:
    if form not in text:
        return []
    if whole_word:  # a 6-digit code counts only as a whole word, not inside a timestamp or base64 blob
        return [m.start() for m in re.finditer(redact.secret_pattern(form), text)]
    found, at = [], text.find(form)
    while at >= 0:
        found.append(at)
        at = text.find(form, at + 1)
    return found


def _line_col(text: str, at: int) -> tuple[int, int]:
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def _emulator_domain(client: Any) -> str | None:
    emulator = getattr(client, "emulator", None)
    return emulator.tenant().get("domain") if emulator is not None else None
