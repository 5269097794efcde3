"""What every handler works with: the running tenant's state (Runtime) and one request (Call)."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.datastructures import Headers
from starlette.requests import Request

from .clock import Clock
from .errors import ApiError
from .limits import Buckets
from .signing import Signer
from .store import Store
from .tenant import Tenant


@dataclass
class Runtime:
    tenant: Tenant
    store: Store
    clock: Clock
    signer: Signer
    buckets: Buckets

    def domain_named(self, call: Call) -> str | None:
        """The tenant domain (custom or canonical) a request's Host header names; None when it came
        to the emulator's own address, which stands for the canonical domain. A domain with a port
        (a tenant rehearsal's `localhost:PORT`) is matched with the port, any other without."""
        for domain in (self.tenant.domain, self.tenant.custom_domain):
            if domain and domain in (call.host, call.authority):
                return domain
        return None

    def issuer(self, call: Call) -> str:
        """Auth0's issuer for the domain a request reached: `https://DOMAIN/`, never the emulator's
        address, so SDKs that compare it with `https://<configured domain>/` accept it."""
        return f"https://{self.domain_named(call) or self.tenant.domain}/"

    def public_base(self, call: Call) -> str:
        """Base of the URLs discovery names: `https://DOMAIN` when the Host header named a tenant
        domain, else the emulator's own address (so every URL it names stays reachable)."""
        named = self.domain_named(call)
        return f"https://{named}" if named else call.base_url


@dataclass
class Call:
    """One request, with its body already parsed; JSON null and "" mean the field is absent."""

    fields: dict[str, Any]
    headers: Headers
    base_url: str       # how the request reached us (its Host header), no trailing slash
    host: str = ""      # the Host header's name: lower case, no port
    authority: str = "" # the Host header: lower case, with its port when it names one
    query: dict[str, str] = field(default_factory=dict)
    path_params: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def read(cls, request: Request) -> "Call":
        raw = await request.body()
        fields = _parse_body(raw, request.headers.get("content-type", ""))
        return cls(fields={k: v for k, v in fields.items() if v is not None and v != ""},
                   headers=request.headers, base_url=str(request.base_url).rstrip("/"),
                   host=(request.url.hostname or "").lower(), authority=request.url.netloc.lower(),
                   query=dict(request.query_params),
                   path_params=dict(request.path_params))

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.fields.get(name)
        if value is None:
            if required:
                raise ApiError("missing_parameter", name=name)
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ApiError("malformed_body", reason=f"{name} must be a string")
        return str(value)

    def words(self, name: str) -> list[str] | None:
        """A list field sent as a JSON array, repeated form fields, or one space-separated string."""
        value = self.fields.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value.split()
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise ApiError("malformed_body", reason=f"{name} must be a list of strings")

    def basic_auth(self) -> tuple[str, str] | None:
        header = self.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise ApiError("unauthorized_client_auth") from None
        return unquote(user), unquote(password)

    def bearer(self) -> str | None:
        header = self.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    kind = content_type.split(";")[0].strip().lower()
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError("malformed_body", reason="not UTF-8 text") from None
    if kind == "application/json" or kind.endswith("+json") or (not kind and text.lstrip()[:1] == "{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ApiError("malformed_body", reason=f"not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise ApiError("malformed_body", reason="expected a JSON object")
        return data
    if kind in ("application/x-www-form-urlencoded", "", "text/plain"):
        fields: dict[str, Any] = {}
        for key, value in parse_qsl(text, keep_blank_values=True):
            if key in fields:
                previous = fields[key]
                fields[key] = (previous if isinstance(previous, list) else [previous]) + [value]
            else:
                fields[key] = value
        return fields
    raise ApiError("malformed_body", reason=f"unsupported content type {kind!r}; send "
                   "application/json or application/x-www-form-urlencoded")
