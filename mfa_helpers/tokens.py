"""Read JWTs the way support does: header and claims, times as dates. `decode_token` does not
verify anything; `verify_token` checks the signature against the tenant's JWKS.

Reading needs only base64url and JSON, so PyJWT (and the cryptography it loads, a tenth of a second
in every notebook kernel) is imported by `verify_token` alone.
"""
from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from . import redact

TIME_CLAIMS = ("exp", "iat", "nbf", "auth_time", "updated_at")


@dataclass(frozen=True)
class DecodedToken:
    """A JWT's header and claims, unverified. The signature is never kept."""

    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def expires_at(self) -> datetime | None:
        return _date(self.claims.get("exp"))

    @property
    def issued_at(self) -> datetime | None:
        return _date(self.claims.get("iat"))

    @property
    def audiences(self) -> list[str]:
        aud = self.claims.get("aud")
        return [aud] if isinstance(aud, str) else list(aud or [])

    @property
    def scopes(self) -> list[str]:
        return str(self.claims.get("scope") or "").split()

    def readable(self) -> dict[str, Any]:
        """Header and claims for people: times as ISO dates, emails and phone numbers masked."""
        claims = {k: (_date(v).isoformat() if k in TIME_CLAIMS and _date(v) else v)
                  for k, v in self.claims.items()}
        return {"header": self.header, "claims": redact.redact_json(claims)}

    def __repr__(self) -> str:
        return f"DecodedToken({json.dumps(self.readable(), indent=2, ensure_ascii=False)})"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                       f"<td style='text-align:left'><code>{html.escape(json.dumps(v, ensure_ascii=False))}</code></td></tr>"
                       for k, v in self.readable()["claims"].items())
        header = html.escape(json.dumps(self.header))
        return f"<div><b>JWT header</b> <code>{header}</code><table>{rows}</table></div>"


def decode_token(token: str) -> DecodedToken:
    """Header and claims of a JWT, without verifying it (raises ValueError for a non-JWT, e.g. an
    opaque mfa_token, which no client can read). Its three segments are read as strictly as PyJWT
    reads them; what the header's parameters (kid, crit) say is left to `verify_token`."""
    segments = token.split(".")
    try:
        if len(segments) != 3:
            raise ValueError(f"{len(segments)} segments, not 3")
        header, payload, _signature = (_base64url(s, name) for s, name in zip(segments, _SEGMENT_NAMES))
        return DecodedToken(header=_json_object(header, "header"), claims=_json_object(payload, "payload"))
    except ValueError as exc:
        raise ValueError(f"Not a JWT ({exc}); mfa_token and refresh tokens are opaque strings.") from None


_SEGMENT_NAMES = ("header", "payload", "signature")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def _base64url(segment: str, name: str) -> bytes:
    """A segment's bytes: base64url, unpadded as JWS writes it (or padded, as some issuers do), and
    canonical (no stray bits), else ValueError."""
    data = segment.rstrip("=")
    padding = len(segment) - len(data)
    if padding > 2 or (padding and len(segment) % 4) or len(data) % 4 == 1 or not _BASE64URL.fullmatch(data):
        raise ValueError(f"Invalid {name} segment")
    decoded = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    if base64.urlsafe_b64encode(decoded).rstrip(b"=").decode() != data:
        raise ValueError(f"Invalid {name} segment")
    return decoded


def _json_object(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"Invalid {name} segment: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"Invalid {name} segment: must be a JSON object")
    return value


def verify_token(token: str, jwks: Mapping[str, Any] | str, *, audience: str | list[str] | None = None,
                 issuer: str | None = None, leeway: float = 0) -> dict[str, Any]:
    """The claims of an RS256 JWT whose signature matches a key of the tenant's JWKS (a JWKS dict,
    or its URL), checking `exp`, and `aud`/`iss` when given. Raises jwt.PyJWTError otherwise."""
    import jwt
    import requests

    if isinstance(jwks, str):
        response = requests.get(jwks, timeout=10)
        response.raise_for_status()
        jwks = response.json()
    kid = jwt.get_unverified_header(token).get("kid")
    keys = [k for k in jwt.PyJWKSet.from_dict(dict(jwks)).keys if kid is None or k.key_id == kid]
    if not keys:
        raise jwt.InvalidKeyError(f"No key with kid {kid!r} in the JWKS")
    return jwt.decode(token, keys[0], algorithms=["RS256"], audience=audience, issuer=issuer, leeway=leeway,
                      options={"verify_aud": audience is not None})


def _date(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, timezone.utc) if isinstance(value, (int, float)) else None
