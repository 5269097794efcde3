"""The case bundle: one zip a support engineer can attach to a ticket, safe to share.

It holds the redacted executed notebook, the redacted HAR, the diagnosis in Markdown and an
environment summary. Redaction goes through `mfa_helpers.redact` (the one table of rules); then,
before anything is written, every file is scanned for every secret value known (the session's,
the client settings', AUTH0_CLIENT_SECRET / AUTH0_PASSWORD from the environment, the ones the HAR
itself carries), raw, URL-encoded, JSON-escaped or inside base64. One hit and no zip is written:
`SecretLeak` says which file and where.
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import os
import platform
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import mfa_helpers
from mfa_helpers import redact
from mfa_helpers.diagnose import diagnose, findings_markdown
from mfa_helpers.errors import KitError
from mfa_helpers.exchange import Session
from mfa_helpers.runner.executed import cleaned
from mfa_helpers.settings import ENV, Settings
from mfa_helpers.support import har as har_files

NOTEBOOK_FILE = "notebook.ipynb"
HAR_FILE = "exchanges.har"
DIAGNOSIS_FILE = "diagnosis.md"
ENVIRONMENT_FILE = "environment.json"
# Libraries whose versions explain most behaviour differences between two machines.
LIBRARIES = ("requests", "pyotp", "PyJWT", "cryptography", "fastapi", "uvicorn", "nbformat",
             "nbclient", "papermill", "ipykernel", "ipywidgets", "pandas", "qrcode")
ENV_SECRETS = (ENV["client_secret"], ENV["password"])
MIN_SECRET_LENGTH = 4          # as redact.redact_text: shorter values are not masked anywhere
SHORT_SECRET = 12              # shorter values (OTPs, binding codes) only count as whole words
BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
IMAGE_REMOVED = "[image removed from the case bundle: images can hold QR codes]"
DATA_IMAGE = re.compile(r"data:image/[\w.+-]+;base64,[A-Za-z0-9+/=\s]+")


@dataclass(frozen=True)
class Leak:
    """Where a secret value sits in a bundle file (the value itself is never repeated)."""

    file: str
    line: int
    column: int
    secret: str                  # which secret: an environment variable's name, or a description
    encoding: str = "as is"      # "as is", "URL-encoded", "JSON-escaped", "inside base64"

    def __str__(self) -> str:
        return f"{self.file}, line {self.line}, column {self.column}: {self.secret} ({self.encoding})"


class SecretLeak(KitError):
    """The bundle would contain a secret: nothing was written. `leaks` says where."""

    def __init__(self, out: Path, leaks: list[Leak]):
        self.out, self.leaks = out, leaks
        listed = "\n".join(f"  - {leak}" for leak in leaks)
        super().__init__(
            f"Refusing to write {out}: {len(leaks)} secret value(s) would be in it:\n{listed}\n"
            "Remove the output that holds it (clear the cell's output and re-run it, or re-export "
            "the HAR without that request), then bundle again.")


def write_bundle(out: str | Path = "case.zip", *, client: Any = None, session: Session | None = None,
                 notebook: str | Path | None = None, har: str | Path | None = None,
                 target: str | None = None, canonical_domain: str | None = None,
                 secrets: Mapping[str, str] | None = None,
                 env: Mapping[str, str] | None = None) -> Path:
    """Write the case bundle zip and return its path; raise SecretLeak (writing nothing) on a leak.

    From a notebook cell: ``write_bundle("case.zip", client=client)``. From files (the CLI):
    ``write_bundle(out, notebook="executed.ipynb", har="session.har")``. ``secrets``: more
    name → value pairs to scan for.
    """
    out = Path(out)
    settings = client.settings if client is not None else Settings.from_env(env)
    if session is None and client is not None:
        session = client.session
    if har is not None:
        session = har_files.session(har_files.read_har(har))
    known = _known_secrets(session, settings, secrets or {}, env)
    values = set(known)
    files: dict[str, str] = {}
    if notebook is not None:
        files[NOTEBOOK_FILE] = json.dumps(redacted_notebook(_read_json(notebook), values),
                                          indent=1, ensure_ascii=False)
    if session is not None:
        files[HAR_FILE] = json.dumps(_redacted_har(session, values), indent=2, ensure_ascii=False)
        domain = canonical_domain or settings.domain or _emulator_domain(client)
        files[DIAGNOSIS_FILE] = findings_markdown(diagnose(session, canonical_domain=domain))
    files[ENVIRONMENT_FILE] = json.dumps(environment(settings, target), indent=2)
    leaks = scan(files, known)
    if leaks:
        raise SecretLeak(out, leaks)
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


def redacted_notebook(nb: Mapping[str, Any], secrets: Iterable[str] = ()) -> dict[str, Any]:
    """An executed notebook fit to share: no widget state, no papermill parameters, no images,
    every string through the kit's redaction rules and the known secret values."""
    nb = cleaned(dict(nb))
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


def _redacted_har(session: Session, secrets: Iterable[str]) -> dict[str, Any]:
    """The session's HAR, redacted with every known secret too (the caller's session untouched)."""
    copy = Session()
    for item in session.exchanges:
        copy.record(item)
    copy.add_secrets(*secrets)
    return copy.har()


def environment(settings: Settings, target: str | None = None) -> dict[str, Any]:
    """Versions and target kind: what differs between the customer's machine and ours (no secrets)."""
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
        "target": target or settings.target,
        "tenant_domain": settings.domain,
        "custom_domain": settings.custom_domain,
        "uses_custom_domain": settings.use_custom_domain,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def scan(files: Mapping[str, str], secrets: Mapping[str, str]) -> list[Leak]:
    """Every place a secret value appears in the files: raw, URL-encoded, JSON-escaped, in base64.

    ``secrets``: value → what it is (shown instead of the value).
    """
    wanted = {v: label for v, label in secrets.items() if v and len(v) >= MIN_SECRET_LENGTH}
    leaks: list[Leak] = []
    for name, text in files.items():
        for value, label in wanted.items():
            for encoding, form in _forms(value):
                leaks += [Leak(name, *_line_col(text, at), label, encoding)
                          for at in _occurrences(text, form, short=len(value) < SHORT_SECRET)]
        for run in BASE64_RUN.finditer(text):
            decoded = _b64(run.group(0))
            for value, label in wanted.items():
                if decoded and _occurrences(decoded, value, short=len(value) < SHORT_SECRET):
                    leaks.append(Leak(name, *_line_col(text, run.start()), label, "inside base64"))
    return sorted(set(leaks), key=lambda leak: (leak.file, leak.line, leak.column))


def _known_secrets(session: Session | None, settings: Settings, extra: Mapping[str, str],
                   env: Mapping[str, str] | None) -> dict[str, str]:
    """value → label for every secret value known: environment, settings, session, caller."""
    environ = os.environ if env is None else env
    known = {v: f"a secret seen in the session ({len(v)} characters)"
             for v in (session.known_secrets() if session is not None else ())}
    known.update({v: "a secret from the client settings" for v in settings.secrets()})
    known.update({environ[n]: n for n in ENV_SECRETS if environ.get(n)})
    known.update({v: n for n, v in extra.items() if v})
    return {v: label for v, label in known.items() if "redacted" not in v}  # a HAR the kit redacted



def _forms(value: str) -> list[tuple[str, str]]:
    forms = {value: "as is"}
    forms.setdefault(quote(value, safe=""), "URL-encoded")
    forms.setdefault(quote_plus(value, safe=""), "URL-encoded")
    forms.setdefault(json.dumps(value)[1:-1], "JSON-escaped")
    forms.setdefault(json.dumps(json.dumps(value)[1:-1])[1:-1], "JSON-escaped")
    return [(encoding, form) for form, encoding in forms.items()]


def _occurrences(text: str, form: str, short: bool) -> list[int]:
    if short:  # a 6-digit code counts only as a whole word, not inside a timestamp or base64 blob
        pattern = rf"(?<![A-Za-z0-9]){re.escape(form)}(?![A-Za-z0-9])"
        return [m.start() for m in re.finditer(pattern, text)]
    found, at = [], text.find(form)
    while at >= 0:
        found.append(at)
        at = text.find(form, at + 1)
    return found


def _line_col(text: str, at: int) -> tuple[int, int]:
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def _b64(run: str) -> str:
    try:
        padded = run + "=" * (-len(run) % 4)
        raw = base64.urlsafe_b64decode(padded) if "-" in run or "_" in run else base64.b64decode(padded)
        return raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return ""


def _read_json(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _emulator_domain(client: Any) -> str | None:
    emulator = getattr(client, "emulator", None)
    return emulator.tenant().get("domain") if emulator is not None else None
