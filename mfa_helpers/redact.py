"""The one table of redaction rules. Every output path (curl, HAR, display, reprs, logs, reports,
support bundles) goes through here, so a secret is hidden the same way everywhere.

A field is redacted by its name (JSON keys, form fields, query parameters, headers) and, as a
safety net, free text is scrubbed of JWT signatures, sealed tokens, otpauth URIs, emails, phone
numbers and any value the caller already knows to be secret (``Session.known_secrets()``).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "[redacted]"

# Kinds of rule:
#   mask     nothing of the value survives (passwords, client secrets)
#   code     length only (short codes and seeds, where even a prefix would help a guesser)
#   opaque   a short prefix and the length (long sealed strings: the prefix names the format)
#   jwt      header and claims stay readable, the signature goes (opaque rule if not a JWT)
#   uri      scheme and path prefix only (otpauth:// URIs carry the TOTP seed)
#   phone    last four digits, as Auth0 itself lists phone authenticators
#   email    first letter and top-level domain
RULES: dict[str, str] = {
    "password": "mask",
    "client_secret": "mask",
    "new_password": "mask",
    "access_token": "jwt",
    "id_token": "jwt",
    "refresh_token": "opaque",
    "mfa_token": "opaque",
    "oob_code": "opaque",
    "code": "code",
    "code_verifier": "code",
    "otp": "code",
    "binding_code": "code",
    "recovery_code": "code",
    "recovery_codes": "code",
    "secret": "code",
    "barcode_uri": "uri",
    "phone_number": "phone",
    "email": "email",
    "username": "email",
    "to": "contact",
}
# Rules for header values, by lower-case header name.
HEADER_RULES: dict[str, str] = {
    "authorization": "authorization",
    "cookie": "opaque",
    "set-cookie": "opaque",
}
# Kinds whose values are secrets (collected for leak scans); the others are personal data.
SECRET_KINDS = {"mask", "code", "opaque", "jwt", "uri"}

OPAQUE_PREFIX = 7          # "Fe26.2*": the format marker of Auth0's sealed tokens, nothing more
OPAQUE_MIN_FOR_PREFIX = 32  # shorter values show their length only

JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
SEALED_RE = re.compile(r"Fe26\.2\*[A-Za-z0-9_*.~-]{20,}")
OTPAUTH_RE = re.compile(r"otpauth://[^\s\"'<>]+")
EMAIL_RE = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
PHONE_RE = re.compile(r"(?<![\w+])\+\d[\d ()-]{6,18}\d\b")


def _length(value: str) -> str:
    return f"[redacted, {len(value)} chars]"


def mask_opaque(value: str) -> str:
    prefix = value[:OPAQUE_PREFIX] if len(value) >= OPAQUE_MIN_FOR_PREFIX else ""
    return f"{prefix}…{_length(value)}" if prefix else _length(value)


def mask_jwt(value: str) -> str:
    parts = value.split(".")
    if len(parts) == 3 and parts[0].startswith("eyJ") and parts[1].startswith("eyJ"):
        return f"{parts[0]}.{parts[1]}.[signature redacted]"
    return mask_opaque(value)


def mask_uri(value: str) -> str:
    scheme = value.split("://", 1)[0] + "://" if "://" in value else ""
    return f"{scheme}…{_length(value)}"


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return ("+" if value.strip().startswith("+") else "") + "•" * max(len(digits) - 4, 0) + digits[-4:]


def mask_email(value: str) -> str:
    if "@" not in value:
        return value  # a username that is no email is not personal data worth hiding
    local, _, domain = value.partition("@")
    tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
    return f"{local[:1]}•••@•••.{tld}" if tld else f"{local[:1]}•••@•••"


def mask_authorization(value: str) -> str:
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return f"{scheme} {mask_jwt(credentials.strip())}"
    return f"{scheme} {MASK}" if credentials else MASK


def _mask_contact(value: str) -> str:
    return mask_email(value) if "@" in value else mask_phone(value) if PHONE_RE.fullmatch(value) else value


_MASKERS = {
    "mask": lambda v: MASK,
    "code": _length,
    "opaque": mask_opaque,
    "jwt": mask_jwt,
    "uri": mask_uri,
    "phone": mask_phone,
    "email": mask_email,
    "contact": _mask_contact,
    "authorization": mask_authorization,
}


def redact_field(name: str, value: Any) -> Any:
    """A field's value as it may be shown, by the field's name (lists redact item by item)."""
    kind = RULES.get(name.lower())
    if kind is None or value is None:
        return redact_json(value)
    if isinstance(value, list):
        return [redact_field(name, item) for item in value]
    if not isinstance(value, str):
        return _MASKERS[kind](str(value)) if kind in SECRET_KINDS else value
    return _MASKERS[kind](value)


def redact_json(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A JSON value with every rule applied to keys at any depth; strings scrubbed as free text."""
    secrets = tuple(secrets)
    if isinstance(value, Mapping):
        return {key: (redact_field(key, item) if key.lower() in RULES else redact_json(item, secrets))
                for key, item in value.items()}
    if isinstance(value, list):
        return [redact_json(item, secrets) for item in value]
    if isinstance(value, str):
        return redact_text(value, secrets)
    return value


def redact_header(name: str, value: str) -> str:
    kind = HEADER_RULES.get(name.lower())
    return _MASKERS[kind](value) if kind else value


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: redact_header(name, value) for name, value in headers.items()}


def redact_pairs(pairs: Iterable[tuple[str, str]], secrets: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Form fields or query parameters as (name, value) pairs."""
    secrets = tuple(secrets)
    return [(name, str(redact_field(name, value)) if name.lower() in RULES else redact_text(value, secrets))
            for name, value in pairs]


def redact_url(url: str, secrets: Iterable[str] = ()) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return redact_text(url, secrets)
    query = urlencode(redact_pairs(parse_qsl(parts.query, keep_blank_values=True), secrets), safe="[]…•, ")
    return urlunsplit(parts._replace(query=query))


def redact_body(text: str | None, content_type: str | None = None, secrets: Iterable[str] = ()) -> str | None:
    """A request or response body as text, redacted according to its content type."""
    if text is None or text == "":
        return text
    kind = (content_type or "").lower()
    if "json" in kind or text.lstrip()[:1] in "[{":
        try:
            return json.dumps(redact_json(json.loads(text), secrets), indent=None, ensure_ascii=False)
        except ValueError:
            pass
    if "x-www-form-urlencoded" in kind:
        return urlencode(redact_pairs(parse_qsl(text, keep_blank_values=True), secrets), safe="[]…•, ")
    return redact_text(text, secrets)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Free text scrubbed of known secret values and of anything that looks like a credential."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = re.sub(secret_pattern(secret), _length(secret), text)
    text = JWT_RE.sub(lambda m: mask_jwt(m.group(0)), text)
    text = SEALED_RE.sub(lambda m: mask_opaque(m.group(0)), text)
    text = OTPAUTH_RE.sub(lambda m: mask_uri(m.group(0)), text)
    text = EMAIL_RE.sub(lambda m: mask_email(m.group(0)), text)
    return PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text)


def secret_pattern(secret: str) -> str:
    """A secret as a whole word: a 6-digit code inside a timestamp or a base64 blob is no leak."""
    return rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])"


def collect_secrets(value: Any) -> set[str]:
    """Every secret value under a secret-bearing key of a JSON value or (name, value) pairs."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        for key, item in value.items():
            if RULES.get(str(key).lower()) in SECRET_KINDS:
                found.update(_strings(item))
            else:
                found.update(collect_secrets(item))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, tuple) and len(item) == 2:
                found.update(collect_secrets({item[0]: item[1]}))
            else:
                found.update(collect_secrets(item))
    return found


def header_secrets(headers: Mapping[str, str]) -> set[str]:
    """Credentials carried by headers (the bearer token, Basic credentials, cookies)."""
    found = set()
    for name, value in headers.items():
        if name.lower() in HEADER_RULES:
            credentials = value.partition(" ")[2] if name.lower() == "authorization" else value
            found.add(credentials.strip())
    return {s for s in found if s}


def _strings(value: Any) -> list[str]:
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [str(value)] if value not in (None, "") else []
