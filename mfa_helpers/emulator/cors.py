"""CORS: a browser app calls /oauth/token and /mfa/* from an origin the tenant allows.

Each client of the tenant file lists its `web_origins`, as Auth0's "Allowed Web Origins" setting
[docs: scheme://host[:port] with no path, wildcards for subdomains; that `*.` stands for exactly one
subdomain level is a pick]. A request from an origin that the client it names allows is answered
with CORS headers; any other origin gets none, so the browser withholds the answer. At /oauth/token
Auth0 refuses such a request outright with 401 access_denied "Unauthorized" [user: "Failed by CORS
... Behavior used for check: WEB ORIGIN" in the tenant log, auth0-spa-js#454, auth0-cli#193], so no
grant runs for a page that may not read its answer. The header set and the preflight's answer are
picks: no capture shows Auth0's exact headers. A preflight names no client (it has no body and no
credentials), and the /mfa/* calls name theirs only inside the token, so those accept an origin any
client allows [pick].
"""
from __future__ import annotations

from urllib.parse import urlsplit

from .runtime import Call
from .tenant import Tenant

MAX_AGE = "86400"     # seconds a browser may cache a preflight [pick]


def client_named(call: Call) -> str | None:
    """The client_id a request names in its body or its HTTP Basic credentials, if any."""
    basic = call.basic_auth()
    return basic[0] if basic else call.text("client_id")


def _matches(origin: str, allowed: str) -> bool:
    if origin == allowed.rstrip("/"):
        return True
    pattern, given = urlsplit(allowed.rstrip("/")), urlsplit(origin)
    host = pattern.hostname or ""
    if not host.startswith("*.") or (pattern.scheme, pattern.port) != (given.scheme, given.port):
        return False
    label, dot, rest = (given.hostname or "").partition(".")
    return bool(label) and bool(dot) and rest == host[2:]


def allowed(tenant: Tenant, origin: str, client_id: str | None = None) -> bool:
    """True when `origin` is among the web origins of `client_id` (of any client when None)."""
    clients = [tenant.client(client_id)] if client_id else list(tenant.clients)
    return any(_matches(origin, pattern) for client in clients if client for pattern in client.web_origins)


def same_origin(tenant: Tenant, origin: str, call: Call) -> bool:
    """A page served by the tenant's own domains (or the emulator's address) needs no permission."""
    return origin in (call.base_url, *(issuer.rstrip("/") for issuer in tenant.issuers))


def headers(origin: str) -> dict[str, str]:
    """What an allowed origin's answer carries."""
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def preflight_headers(origin: str, method: str, requested_headers: str | None) -> dict[str, str]:
    """The answer to an allowed OPTIONS preflight: the route's method and the headers asked for."""
    answer = {**headers(origin), "Access-Control-Allow-Methods": method, "Access-Control-Max-Age": MAX_AGE}
    if requested_headers:
        answer["Access-Control-Allow-Headers"] = requested_headers
    return answer
