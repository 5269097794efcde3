"""The one table of redaction rules. Every output path (curl, HAR, display, reprs, logs, reports,
support bundles, the verify run folder) goes through here, so a secret is hidden the same way everywhere.

Redaction is structural, not by field name alone:
- a header keeps its value only if its name is on a short list of harmless ones (HARMLESS_HEADERS);
- a URL keeps its scheme, host and path; every query and fragment parameter loses its value, except
  the few a diagnosis needs (KEPT_FIELDS), wherever the URL appears (request line, Location, Referer,
  a string inside a JSON body, free text);
- text that parses as JSON, a Python literal (a printed dict) or a form body is redacted as data, at
  any depth; JWTs anywhere keep header and claims (themselves redacted) and lose the signature;
- in JSON, a field is redacted by its name: the RULES table, then any secret-looking name
  (SECRET_NAME); in free text, `name=value` / `"name": "value"` pairs and bearer credentials too;
- every value the caller already knows to be secret (``Session.known_secrets()``, secret environment
  variables) is masked wherever it appears, raw or URL-encoded.
"""
from __future__ import annotations

import ast
import base64
import binascii
import json
import pprint
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

MASK = "[redacted]"
# Every mask ends like this: a value already masked is left as it is (redacting twice changes nothing).
MASK_END_RE = re.compile(r"(?:\[redacted(?:, \d+ chars)?\]|\[signature redacted\])$")
# A mask anywhere (also URL-encoded), for pieces cut out of masked text.
MASKED_RE = re.compile(r"(?:\[|%5B)(?:redacted|signature)", re.IGNORECASE)

# Kinds of rule:
#   mask     nothing of the value survives (passwords, client secrets, API keys)
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
    "api_key": "mask",
    "apikey": "mask",
    "x-api-key": "mask",
    "private_key": "mask",
    "access_token": "jwt",
    "id_token": "jwt",
    "id_token_hint": "jwt",
    "client_assertion": "jwt",
    "assertion": "jwt",
    "subject_token": "jwt",
    "logout_token": "jwt",
    "token": "jwt",
    "refresh_token": "opaque",
    "mfa_token": "opaque",
    "oob_code": "opaque",
    "login_ticket": "opaque",
    "device_code": "opaque",
    "ticket": "opaque",
    "session_token": "opaque",
    "code": "code",
    "code_verifier": "code",
    "co_verifier": "code",
    "co_id": "code",
    "user_code": "code",
    "otp": "code",
    "binding_code": "code",
    "recovery_code": "code",
    "recovery_codes": "code",
    "secret": "code",
    "state": "code",
    "nonce": "code",
    "barcode_uri": "uri",
    "phone_number": "phone",
    "email": "email",
    "username": "email",
    "to": "contact",
}
# Rules for header values, by lower-case header name; other headers are masked unless harmless.
HEADER_RULES: dict[str, str] = {
    "authorization": "authorization",
    "proxy-authorization": "authorization",
    "cookie": "cookie",
    "set-cookie": "set_cookie",
}
# Headers whose values hold no credential and help a diagnosis: content and caching, CORS (the SPA
# "allowed web origins" failures), rate limits (429), the bearer error in WWW-Authenticate, the host
# (custom domain pitfalls), user-agent and auth0-client (which browser or SDK, and its version), the
# request id Auth0 support looks up, fetch metadata. URL-valued ones (location, referer, :path)
# are kept too, but their query and fragment go through redact_url like any URL.
HARMLESS_HEADERS = frozenset({
    "accept", "accept-encoding", "accept-language", "accept-ranges", "age", "alt-svc",
    "cache-control", "connection", "content-encoding", "content-language", "content-length",
    "content-location", "content-type", "date", "dnt", "etag", "expires", "host", "keep-alive",
    "last-modified", "location", "origin", "pragma", "priority", "referer", "referrer-policy",
    "retry-after", "server", "strict-transport-security", "te", "transfer-encoding",
    "upgrade-insecure-requests", "user-agent", "vary", "via", "www-authenticate",
    "x-content-type-options", "x-frame-options", "x-xss-protection", "x-ratelimit-limit",
    "x-ratelimit-remaining", "x-ratelimit-reset", "x-auth0-requestid", "auth0-client",
    "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site", "sec-fetch-user",
    ":authority", ":method", ":path", ":scheme", ":status",
})
HARMLESS_HEADER_PREFIXES = ("access-control-",)
# Query, fragment and form parameters whose values a diagnosis needs; every other one is masked.
KEPT_FIELDS = frozenset({
    "error", "error_description", "error_uri", "status", "grant_type", "authenticator_type",
    "authenticator_types", "challenge_type", "oob_channel", "oob_channels", "token_type", "expires_in",
    "scope", "audience", "aud", "iss", "exp", "iat", "client_id", "redirect_uri", "response_type",
    "response_mode", "connection", "realm", "prompt", "code_challenge", "code_challenge_method",
    "max_age", "ui_locales", "screen_hint", "protocol", "binding_method", "organization",
})
# Names that say "secret" although no rule lists them (x-custom-token, sessionToken, db_password…);
# HARMLESS_NAME exempts the ones that only describe a secret (token_type, authenticator_types…).
SECRET_NAME = re.compile(r"secret|passw|pwd|^pw$|token|ticket|verifier|api.?key|private|credential|"
                         r"session|cookie|(?:^|[_.-])auth(?:$|[_.-])|otp|recovery|assertion|signature|csrf|xsrf|_key$",
                         re.IGNORECASE)
HARMLESS_NAME = re.compile(r"_types?$|_endpoint$|_supported$|_methods?$|_uri$|_id$|_channels?$|"
                           r"^auth0.?client$|^authenticators?$|_count$|_at$|_in$|_time$", re.IGNORECASE)
# Environment variables whose values are secrets whatever they hold (shared with `mfa-kit verify`).
SECRET_NAME_MARKERS = ("SECRET", "PASSWORD", "TOKEN", "_KEY", "CREDENTIAL")
# Values such variables hold that are settings, not secrets ("false" would mask every JSON false).
NOT_SECRET_VALUES = frozenset({"true", "false", "yes", "no", "none", "null", "on", "off"})

PERSONAL_KINDS = {"phone", "email", "contact"}  # masked with "•", which says they already are
# Kinds whose values are secrets (collected for leak scans); the others are personal data.
SECRET_KINDS = {"mask", "code", "opaque", "jwt", "uri", "token", "authorization", "cookie", "set_cookie"}

OPAQUE_PREFIX = 7          # "Fe26.2*": the format marker of Auth0's sealed tokens, nothing more
OPAQUE_MIN_FOR_PREFIX = 32  # shorter values show their length only
MIN_SECRET_LENGTH = 4      # shorter known values are not masked in free text (they would hit everything)
TOKEN_MIN_LENGTH = 8       # an unnamed value must be this long to count as token-shaped
MAX_STRUCTURED = 2_000_000  # longer JSON-looking spans are not parsed as data (the scan still runs)

JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")
SEALED_RE = re.compile(r"Fe26\.2\*[A-Za-z0-9_*.~-]{20,}")
OTPAUTH_RE = re.compile(r"otpauth://[^\s\"'<>]+")
EMAIL_RE = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
PHONE_RE = re.compile(r"(?<![\w+])\+\d[\d ()-]{6,18}\d\b")
# An absolute URL, or a path with a query or fragment ("/authorize?client_id=…").
URL_RE = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>`\\]+|(?<![\w/:.])/[\w./%~-]*[?#][^\s\"'<>`\\]+")
FORM_LINE_RE = re.compile(r"^[ \t]*([\w.%\[\]~*-]+=[^\s&]*(?:&[\w.%\[\]~*-]+=[^\s&]*)+)[ \t]*$", re.MULTILINE)
# `name=value`, `name: value`, `"name": "value"`, `name='value'`, in free text or source code.
PAIR_RE = re.compile(r"(?P<q>[\"']?)(?P<name>[A-Za-z_][\w.-]*)(?P=q)(?P<sep>[ \t]*[:=][ \t]*)"
                     r"(?P<value>\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|[^\s\"'&,;()}\]<>\[{][^\s\"'&,;()}\]<>]*)")
AUTHORIZATION_RE = re.compile(r"(?i)\b((?:proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?)"
                              r"([A-Za-z][\w-]*[ \t]+[^\s\"',;]+)")
BEARER_RE = re.compile(r"(?i)\b(bearer[ \t]+)([A-Za-z0-9._~+/=*-]{8,})(?![A-Za-z0-9._~+/=*\[-])")
COOKIE_LINE_RE = re.compile(r"(?im)^([ \t]*(set-cookie|cookie)[ \t]*:[ \t]*)([^\n<>\"'`]+)")
IDENTIFIERS_RE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?:\(\))?")
TOKEN_CHARS_RE = re.compile(r"[A-Za-z0-9._~+/=*%:-]+")


def _length(value: str) -> str:
    return f"[redacted, {len(value)} chars]"


def is_masked(value: str) -> bool:
    """Already redacted by this module: one mask, at the end (redacting twice must change nothing)."""
    return bool(MASK_END_RE.search(value)) and len(MASKED_RE.findall(value)) == 1


def has_mask(value: str) -> bool:
    """Holds a mask somewhere: a piece cut out of text this module already redacted."""
    return bool(MASKED_RE.search(value))


def mask_opaque(value: str) -> str:
    prefix = value[:OPAQUE_PREFIX] if len(value) >= OPAQUE_MIN_FOR_PREFIX else ""
    return f"{prefix}…{_length(value)}" if prefix else _length(value)


def mask_jwt(value: str) -> str:
    """header.claims.[signature redacted]: the claims say which audience, issuer, scope and expiry
    the token had (what a diagnosis reads); claims that are secrets or personal data are redacted too."""
    parts = value.split(".")
    if len(parts) == 3 and parts[0].startswith("eyJ") and parts[1].startswith("eyJ"):
        return f"{parts[0]}.{_redacted_claims(parts[1])}.[signature redacted]"
    return mask_opaque(value)


def _redacted_claims(segment: str) -> str:
    try:
        claims = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError):
        return segment
    shown = redact_json(claims)
    if shown == claims:
        return segment
    return base64.urlsafe_b64encode(json.dumps(shown, separators=(",", ":")).encode()).rstrip(b"=").decode()


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
    scheme, _, credentials = value.strip().partition(" ")
    if has_mask(credentials) or SHELL_VARIABLE_RE.fullmatch(credentials.strip()):
        return value
    if scheme.lower() in ("bearer", "dpop") and credentials:
        return f"{scheme} {mask_jwt(credentials.strip())}"
    return f"{scheme} {MASK}" if credentials else MASK


def mask_cookie(value: str) -> str:
    """Cookie names stay (which session cookies were sent), their values go."""
    return "; ".join(pair.strip() if is_masked(v.strip()) else f"{name.strip()}={_length(v)}" if sep else _length(name)
                     for pair, (name, sep, v) in ((p, p.partition("=")) for p in value.split(";")))


def mask_set_cookie(value: str) -> str:
    """The cookie's value goes; its attributes (Path, SameSite, Secure, Expires…) stay: they explain
    why a browser did not send it back. Several cookies may be joined by newlines (Firefox)."""
    lines = []
    for line in value.split("\n"):
        first, sep, attributes = line.partition(";")
        name, eq, v = first.partition("=")
        if is_masked(v.strip()):
            lines.append(line)
        else:
            lines.append(f"{name.strip()}={_length(v)}{sep}{attributes}" if eq else _length(line))
    return "\n".join(lines)


def _mask_contact(value: str) -> str:
    return mask_email(value) if "@" in value else mask_phone(value) if PHONE_RE.fullmatch(value) else value


_MASKERS = {
    "mask": lambda v: MASK,
    "code": _length,
    "opaque": mask_opaque,
    "jwt": mask_jwt,
    "token": mask_jwt,
    "uri": mask_uri,
    "phone": mask_phone,
    "email": mask_email,
    "contact": _mask_contact,
    "authorization": mask_authorization,
    "cookie": mask_cookie,
    "set_cookie": mask_set_cookie,
}


@lru_cache(maxsize=4096)
def field_kind(name: str) -> str | None:
    """How a field, parameter or header called `name` is redacted; None: by its value alone."""
    lowered = str(name).lower()
    kind = RULES.get(lowered) or HEADER_RULES.get(lowered)
    if kind:
        return kind
    if lowered in KEPT_FIELDS or _harmless_header(lowered):
        return None
    if SECRET_NAME.search(lowered) and not HARMLESS_NAME.search(lowered):
        return "token"
    return None


# `$MFA_TOKEN`, `"${AUTH0_CLIENT_SECRET}"`: a curl snippet's placeholder names a secret, it holds none.
SHELL_VARIABLE_RE = re.compile(r'"?\$\{?[A-Za-z_][A-Za-z0-9_]*\}?"?')


def _harmless_header(lowered: str) -> bool:
    return lowered in HARMLESS_HEADERS or lowered.startswith(HARMLESS_HEADER_PREFIXES)


def _mask(kind: str, value: Any) -> Any:
    """Everything under a secret field goes; {"name", "value"} pairs keep their names."""
    if isinstance(value, (list, tuple)):
        return [_mask(kind, item) for item in value]
    if isinstance(value, Mapping):
        if _is_pair(value):
            return redact_json(value)
        return {key: _mask(kind, item) for key, item in value.items()}
    if value is None or isinstance(value, bool):
        return None
    if not isinstance(value, str):
        return _MASKERS[kind](str(value)) if kind in SECRET_KINDS else value
    if is_masked(value) or (kind in PERSONAL_KINDS and "•" in value) or SHELL_VARIABLE_RE.fullmatch(value):
        return value
    return _MASKERS[kind](value)


def redact_field(name: str, value: Any, secrets: Iterable[str] = ()) -> Any:
    """A JSON field's value as it may be shown, by the field's name (lists redact item by item).
    Fields no rule names keep their value, scrubbed as data (nested JSON, URLs, JWTs, known secrets)."""
    kind = field_kind(name)
    if kind is None:
        return redact_json(value, secrets)
    return _mask(kind, value)


def redact_param(name: str, value: str, secrets: Iterable[str] = ()) -> str:
    """A query, fragment, form or cookie parameter: masked unless a diagnosis needs it (KEPT_FIELDS)."""
    lowered = name.lower()
    kind = field_kind(name)
    if kind is None and lowered not in KEPT_FIELDS:
        kind = "token"  # an unknown parameter: its value may be anything, so it goes
    if kind is None or is_masked(value):
        return redact_text(value, secrets)
    return _mask(kind, value)


def redact_json(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A JSON value with every rule applied to keys at any depth; strings scrubbed as free text.
    A {"name": …, "value": …} object (HAR headers, cookies, query strings) is one parameter."""
    secrets = tuple(secrets)
    if isinstance(value, Mapping):
        if _is_pair(value):
            return {key: redact_header(value["name"], item, secrets) if key == "value" else redact_json(item, secrets)
                    for key, item in value.items()}
        return {key: redact_field(str(key), item, secrets) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_json(item, secrets) for item in value]
    if isinstance(value, str):
        return redact_text(value, secrets)
    return value


def _is_pair(value: Mapping[str, Any]) -> bool:
    return isinstance(value.get("name"), str) and isinstance(value.get("value"), str)


def redact_header(name: str, value: str, secrets: Iterable[str] = ()) -> str:
    """A header's value: harmless ones stay (URLs in them redacted), credentials keep their shape
    (scheme, cookie names), every other value goes."""
    lowered = name.lower()
    kind = HEADER_RULES.get(lowered)
    if kind:
        return _mask(kind, value)
    if _harmless_header(lowered) or lowered in KEPT_FIELDS or is_masked(value):
        return redact_text(value, secrets)
    return _mask(field_kind(name) or "token", value)


def redact_headers(headers: Mapping[str, str], secrets: Iterable[str] = ()) -> dict[str, str]:
    return {name: redact_header(name, value, secrets) for name, value in headers.items()}


def redact_query(query: str, secrets: Iterable[str] = ()) -> str:
    """A query string or form body, pair by pair; kept values stay byte for byte as they came."""
    secrets = tuple(secrets)
    shown = []
    for pair in query.split("&"):
        raw_name, eq, raw_value = pair.partition("=")
        if not eq:
            shown.append(pair if is_masked(unquote_plus(pair)) or len(pair) < TOKEN_MIN_LENGTH else _length(pair))
            continue
        value = unquote_plus(raw_value)
        redacted = redact_param(unquote_plus(raw_name), value, secrets)
        shown.append(f"{raw_name}={raw_value if redacted == value else quote_plus(redacted, safe='[]…•,*')}")
    return "&".join(shown)


def redact_url(url: str, secrets: Iterable[str] = ()) -> str:
    """Scheme, host and path stay; a password in the URL and every query and fragment parameter
    value go (except KEPT_FIELDS: error, error_description, scope…). Works on relative URLs too."""
    secrets = tuple(secrets)
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL after all ("https://[…"): everything after ? or # goes
        cut = min(i for i in (url.find("?"), url.find("#"), len(url)) if i >= 0)
        return url[:cut] + (url[cut] + _length(url[cut + 1:]) if cut < len(url) else "")
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{host}" if colon else f"{MASK}@{host}"
    fragment = parts.fragment
    if "=" in fragment:
        route, question, params = fragment.rpartition("?")
        fragment = f"{route}{question}{redact_query(params, secrets)}"
    path = _redact_text_plain(parts.path, secrets)
    query = redact_query(parts.query, secrets) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, path, query, fragment))


def redact_body(text: str | None, content_type: str | None = None, secrets: Iterable[str] = ()) -> str | None:
    """A request or response body as text, redacted according to its content type."""
    if text is None or text == "":
        return text
    kind = (content_type or "").lower()
    if "json" in kind or text.lstrip()[:1] in "[{":
        try:
            return json.dumps(redact_json(json.loads(text), secrets), indent=None, ensure_ascii=False)
        except (ValueError, RecursionError):
            pass
    if "x-www-form-urlencoded" in kind:
        return redact_query(text.strip(), secrets)
    return redact_text(text, secrets)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Free text scrubbed of known secret values, of data it holds (JSON, printed dicts, form
    bodies, URLs, name=value pairs) and of anything that looks like a credential."""
    secrets = tuple(secrets)
    text = mask_known(text, secrets)
    text = OTPAUTH_RE.sub(lambda m: m.group(0) if has_mask(m.group(0)) else mask_uri(m.group(0)), text)
    if "{" in text or "[" in text:
        text = _redact_structured(text, secrets)
    return _redact_text_plain(text, secrets, known_done=True)


def _redact_text_plain(text: str, secrets: tuple[str, ...], known_done: bool = False) -> str:
    """redact_text without looking for JSON inside (for URLs and for text already taken apart)."""
    if not known_done:
        text = mask_known(text, secrets)
    if "=" in text and "&" in text:
        text = FORM_LINE_RE.sub(lambda m: m.group(0).replace(m.group(1), redact_query(m.group(1), secrets)), text)
    if "/" in text:
        text = URL_RE.sub(lambda m: redact_url(m.group(0), secrets), text)
    if "uthorization" in text or "UTHORIZATION" in text:
        text = AUTHORIZATION_RE.sub(lambda m: m.group(1) + _mask("authorization", m.group(2)), text)
    text = BEARER_RE.sub(lambda m: m.group(1) + _mask("token", m.group(2)), text)
    if "ookie" in text or "OOKIE" in text:
        text = COOKIE_LINE_RE.sub(lambda m: m.group(1) + redact_header(m.group(2), m.group(3)), text)
    if ":" in text or "=" in text:
        text = PAIR_RE.sub(_redact_pair_match, text)
    text = JWT_RE.sub(lambda m: mask_jwt(m.group(0)), text)
    text = SEALED_RE.sub(lambda m: mask_opaque(m.group(0)), text)
    text = EMAIL_RE.sub(lambda m: mask_email(m.group(0)), text)
    return PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text)


def _redact_pair_match(match: re.Match[str]) -> str:
    """`secret_name = value` in text: a quoted value always goes; an unquoted one when it looks like
    a value rather than code (`otp=otp`, `password=settings.password` stay readable)."""
    kind = field_kind(match["name"])
    value = match["value"]
    if kind not in SECRET_KINDS or has_mask(value):
        return match.group(0)
    if kind in ("cookie", "set_cookie", "authorization") and value[:1] not in "\"'":
        return match.group(0)  # COOKIE_LINE_RE and AUTHORIZATION_RE know where such a value ends
    if value[:1] in "\"'":
        inner = value[1:-1]
        shown = value[0] + _mask(kind, inner) + value[0] if inner else value
    elif IDENTIFIERS_RE.fullmatch(value) and not any(ch.isdigit() for ch in value):
        return match.group(0)
    else:
        shown = _mask(kind, value)
    return match.group(0)[: match.start("value") - match.start()] + shown


def mask_known(text: str, secrets: Iterable[str]) -> str:
    """Every known secret value masked wherever it appears (raw or URL-encoded); a known JWT keeps
    its header and claims, as everywhere."""
    for form, shown in _known_forms(tuple(secrets)):
        if form in text:
            text = _replace_word(text, form, shown)
    return text


@lru_cache(maxsize=16)
def _known_forms(secrets: tuple[str, ...]) -> list[tuple[str, str]]:
    """(form, mask) for each secret and its URL-encodings, longest first."""
    forms = []
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True):
        shown = mask_jwt(secret) if JWT_RE.fullmatch(secret) else _length(secret)
        forms += [(form, shown) for form in dict.fromkeys((secret, quote(secret, safe=""), quote_plus(secret, safe="")))]
    return forms


def secret_pattern(secret: str) -> str:
    """A secret as a whole word: a 6-digit code inside a timestamp or a base64 blob is no leak."""
    return rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])"


_WORD_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def _replace_word(text: str, word: str, shown: str) -> str:
    """`word` replaced by `shown` where `secret_pattern(word)` matches, by plain string search: a
    session knows dozens of secrets, and compiling a pattern for each (a JWT's takes ~1.5 ms) cost
    a notebook more than masking with them."""
    pieces, done, at = [], 0, text.find(word)
    while at >= 0:
        end = at + len(word)
        if (at == 0 or text[at - 1] not in _WORD_CHARACTERS) and text[end:end + 1] not in _WORD_CHARACTERS:
            pieces += [text[done:at], shown]
            done, at = end, text.find(word, end)
        else:
            at = text.find(word, at + 1)
    return "".join(pieces) + text[done:] if pieces else text


def _redact_structured(text: str, secrets: tuple[str, ...], depth: int = 0) -> str:
    """JSON or a Python literal (a printed dict, list or tuple) inside text, redacted as data."""
    pieces, last = [], 0
    for start, end in _balanced_spans(text):
        span = text[start:end]
        shown = _redacted_span(span, secrets)
        if shown is None and depth < 3 and end - start > 2:
            inner = _redact_structured(span[1:-1], secrets, depth + 1)
            shown = span[0] + inner + span[-1] if inner != span[1:-1] else None
        if shown is not None and shown != span:
            pieces += [text[last:start], shown]
            last = end
    return "".join(pieces) + text[last:] if pieces else text


def _redacted_span(span: str, secrets: tuple[str, ...]) -> str | None:
    """The span redacted in its own notation, or None if it is not data."""
    if len(span) > MAX_STRUCTURED or (":" not in span and "," not in span and '"' not in span and "'" not in span):
        return None
    try:
        value, python = json.loads(span), False
    except (ValueError, RecursionError):
        try:
            value, python = ast.literal_eval(span), True
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
    if not isinstance(value, (dict, list, tuple)):
        return None
    shown = redact_json(value, secrets)
    if shown == (list(value) if isinstance(value, tuple) else value):
        return span
    multiline = "\n" in span
    if python:
        return pprint.pformat(shown, width=max(len(line) for line in span.splitlines())) if multiline else repr(shown)
    if multiline:
        indent = re.search(r"\n( +)\S", span)
        return json.dumps(shown, indent=len(indent.group(1)) if indent else 1, ensure_ascii=False)
    compact = not re.search(r"[,:] ", span)
    return json.dumps(shown, ensure_ascii=False, separators=(",", ":") if compact else None)


_OPEN = {"{": "}", "[": "]"}


def _balanced_spans(text: str) -> Iterable[tuple[int, int]]:
    """(start, end) of each outermost balanced {...} or [...] in text, quotes respected inside."""
    at, n = 0, len(text)
    while True:
        starts = [i for i in (text.find("{", at), text.find("[", at)) if i >= 0]
        if not starts:
            return
        start = min(starts)
        end = _closing(text, start, n)
        if end is None:
            at = start + 1
            continue
        yield start, end
        at = end


_SCAN_RE = re.compile(r"[\[\]{}\"'\\\n]")


def _closing(text: str, start: int, n: int) -> int | None:
    stack: list[str] = []
    quote_char = None
    escaped_at = -1
    for match in _SCAN_RE.finditer(text, start):
        ch, i = match.group(0), match.start()
        if quote_char:
            if i == escaped_at:
                continue
            if ch == "\\":
                escaped_at = i + 1
            elif ch == "\n":
                return None
            elif ch == quote_char:
                quote_char = None
            continue
        if ch in _OPEN:
            stack.append(_OPEN[ch])
        elif ch in "]}":
            if not stack or stack.pop() != ch:
                return None
            if not stack:
                return i + 1
        elif ch in "\"'" and stack:
            quote_char = ch
    return None


def token_shaped(value: str) -> bool:
    """A value that looks like a credential rather than a word: long, no spaces, not just letters."""
    return (len(value) >= TOKEN_MIN_LENGTH and bool(TOKEN_CHARS_RE.fullmatch(value))
            and not value.isalpha() and not has_mask(value))


def collect_secrets(value: Any) -> set[str]:
    """Every secret value under a secret-bearing key of a JSON value or (name, value) pairs."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        if _is_pair(value):
            return pair_secrets([(value["name"], value["value"])])
        for key, item in value.items():
            if field_kind(str(key)) in SECRET_KINDS:
                found.update(_strings(item))
            else:
                found.update(collect_secrets(item))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, tuple) and len(item) == 2:
                found.update(pair_secrets([item]))
            else:
                found.update(collect_secrets(item))
    elif isinstance(value, str):
        found.update(text_secrets(value))
    return found


def pair_secrets(pairs: Iterable[tuple[str, str]]) -> set[str]:
    """Secret values among parameters: named ones, and token-shaped values of any other unkept name."""
    found = set()
    for name, value in pairs:
        value = str(value)
        kind = field_kind(name)
        if kind in SECRET_KINDS or (kind is None and name.lower() not in KEPT_FIELDS
                                    and not _harmless_header(name.lower()) and token_shaped(value)):
            found.add(value)
        elif kind is None:
            found.update(text_secrets(value))
    return {s for s in found if s and not has_mask(s)}


def url_secrets(url: str) -> set[str]:
    """Secret values in a URL's query and fragment parameters (and a password in it)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return set()
    found = set()
    if parts.password:
        found.add(parts.password)
    for params in (parts.query, parts.fragment.rpartition("?")[2] if "=" in parts.fragment else ""):
        found |= pair_secrets((unquote_plus(n), unquote_plus(v)) for n, _, v in
                              (p.partition("=") for p in params.split("&") if "=" in p))
    return found


def text_secrets(text: str) -> set[str]:
    """Credentials recognisable in any text: JWTs, sealed tokens, URLs' secret parameters."""
    found = set(JWT_RE.findall(text)) | set(SEALED_RE.findall(text))
    for match in URL_RE.finditer(text):
        found |= url_secrets(match.group(0))
    return found


def header_secrets(headers: Mapping[str, str]) -> set[str]:
    """Credentials carried by headers: the bearer token, Basic credentials, cookie values, secret
    parameters of URLs in Location and Referer, and the value of every other non-harmless header."""
    found = set()
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in ("authorization", "proxy-authorization"):
            found.add(value.strip().partition(" ")[2].strip() or value.strip())
        elif lowered == "cookie":
            found.update(v.strip() for _, _, v in (pair.partition("=") for pair in value.split(";")))
        elif lowered == "set-cookie":
            found.update(line.partition(";")[0].partition("=")[2].strip() for line in value.split("\n"))
        elif _harmless_header(lowered):
            found |= text_secrets(value)
        else:
            found.add(value.strip())
    return {s for s in found if len(s) >= MIN_SECRET_LENGTH and not has_mask(s)}


def is_secret_name(name: str) -> bool:
    """An environment variable whose value is a secret: *SECRET*, *PASSWORD*, *TOKEN*, *_KEY…"""
    return any(marker in name.upper() for marker in SECRET_NAME_MARKERS)


def secret_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """name → value of every secret-looking variable that holds a real value."""
    return {name: value for name, value in environ.items()
            if is_secret_name(name) and value and len(value) >= MIN_SECRET_LENGTH
            and value.strip().lower() not in NOT_SECRET_VALUES}


def _strings(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, Mapping):
        items = [value["value"]] if _is_pair(value) else value.values()
        return [s for item in items for s in _strings(item)]
    return [str(value)] if value not in (None, "") and not isinstance(value, bool) else []
