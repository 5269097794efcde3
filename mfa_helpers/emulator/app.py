"""The HTTP surface: a plain list of routes over small handlers, one wrapper for all of them.

The wrapper parses the body, applies the general rate limit (Auth0's surface only), turns ApiError
into Auth0's JSON answer, and turns anything unexpected into a 400 rather than a 500: a bad request
must never crash the emulator's answer. Plain Starlette serves the list: the handlers read the raw
request themselves, so a framework that builds models per route (FastAPI) only cost start-up time.
/openapi.json and /docs are built here from the same list.
"""
from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass
from html import escape
from typing import Any, Awaitable, Callable

from starlette import routing
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from mfa_helpers import protocol

from . import cors, grants, login, mfa, outbox, users
from .errors import ApiError
from .runtime import Call, Runtime

log = logging.getLogger("mfa_helpers.emulator")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Callable[[Runtime, Call], Any]
    auth0: bool = True          # part of Auth0's surface: rate limited, x-ratelimit-* headers
    status: int = 200
    body: tuple[str, ...] = ()  # request body fields, for the OpenAPI document
    query: tuple[str, ...] = ()
    bearer: bool = False
    cors: bool = False          # a browser app may call it from its tenant's web origins (cors.py)
    content_type: str = protocol.JSON   # as recorded (protocol.JSON_UTF8 on /mfa/*)


# --- the OpenAPI document (/openapi.json): what the fuzzing work reads ---------------------------

_INTEGERS = ("advance_seconds",)
_LISTS = {"authenticator_types": protocol.AUTHENTICATOR_TYPES, "oob_channels": protocol.OOB_CHANNELS}
TOKEN_FIELDS = ("grant_type", "client_id", "client_secret", "username", "password", "realm", "audience",
                "scope", "refresh_token", "code", "redirect_uri", "code_verifier", "mfa_token", "otp",
                "oob_code", "binding_code", "recovery_code")


def _schema(name: str) -> dict:
    if name in _INTEGERS:
        return {"type": "integer"}
    if name in _LISTS:
        return {"type": "array", "items": {"type": "string", "enum": list(_LISTS[name])}}
    if name == "grant_type":
        return {"type": "string", "enum": list(protocol.ALL_GRANTS)}
    return {"type": "string"}


def _operation(route: Route, path: str) -> dict:
    """One operation of /openapi.json: its fields are declared here, as the handlers read the raw
    request."""
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in re.findall(r"{(\w+)", path)]
    params += [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
               for name in route.query]
    if route.bearer:
        params.append({"name": "Authorization", "in": "header", "required": True,
                       "schema": {"type": "string", "pattern": "^Bearer .+"}})
    answer: dict = {"description": "Successful Response"}
    if route.status != 204:
        answer["content"] = {route.content_type: {"schema": {}}}
    operation: dict = {"tags": ["Auth0 Authentication API (MFA)" if route.auth0 else "Emulator only"],
                       "summary": f"{route.method} {path}",
                       "operationId": re.sub(r"\W+", "_", f"{route.method} {path}").strip("_").lower(),
                       "responses": {str(route.status): answer}}
    if params:
        operation["parameters"] = params
    if route.body:
        schema = {"type": "object", "properties": {name: _schema(name) for name in route.body}}
        operation["requestBody"] = {"required": False, "content": {
            "application/json": {"schema": schema},
            "application/x-www-form-urlencoded": {"schema": schema}}}
    return operation


# --- Auth0's surface -------------------------------------------------------------------------

def _challenge(rt: Runtime, call: Call) -> dict:
    """client_id is required (docs); the secret is checked when sent (a pick)."""
    client = grants.authenticate_client(rt, call, secret_required=False)
    return mfa.challenge(rt, call, client.client_id)


def _discovery(rt: Runtime, call: Call) -> dict:
    base = rt.public_base(call)
    return {
        "issuer": rt.issuer(call),
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "mfa_challenge_endpoint": f"{base}/mfa/challenge",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(protocol.ALL_GRANTS),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(grants.OIDC_SCOPES),
        "claims_supported": ["aud", "email", "exp", "iat", "iss", "name", "nickname", "sub", "amr"],
    }


# --- emulator-only surface -------------------------------------------------------------------

def _tenant(rt: Runtime, call: Call) -> dict:
    return rt.tenant.public_view()


def _create_user(rt: Runtime, call: Call) -> dict:
    try:
        return users.create(rt, call.text("username"), call.text("password"))
    except ValueError as exc:
        raise ApiError("malformed_body", reason=str(exc)) from None


def _outbox(rt: Runtime, call: Call) -> list:
    return outbox.messages(rt, call.query.get("to") or None)


def _clock(rt: Runtime, call: Call) -> dict:
    seconds = call.fields.get("advance_seconds", 0)
    if isinstance(seconds, str) and seconds.lstrip("-").isdigit():
        seconds = int(seconds)
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        raise ApiError("malformed_body", reason="advance_seconds must be a whole number")
    try:
        return {"offset_seconds": rt.clock.advance(seconds)}
    except ValueError as exc:   # negative or absurd: one clear 400, the clock unmoved
        raise ApiError("malformed_body", reason=str(exc)) from None


def _push(state: str) -> Callable[[Runtime, Call], dict]:
    def decide(rt: Runtime, call: Call) -> dict:
        return mfa.push_decision(rt, call.path_params["transaction"], state)
    decide.__name__ = f"push_{state}"
    return decide


ROUTES = [
    Route("POST", "/oauth/token", grants.token, body=TOKEN_FIELDS, cors=True),
    Route("POST", "/mfa/associate", mfa.associate, bearer=True, cors=True, content_type=protocol.JSON_UTF8,
          body=("authenticator_types", "oob_channels", "phone_number", "email", "client_id", "client_secret")),
    Route("POST", "/mfa/challenge", _challenge, cors=True, content_type=protocol.JSON_UTF8, body=(
        "client_id", "client_secret", "mfa_token", "challenge_type", "authenticator_id")),
    Route("GET", "/mfa/authenticators", mfa.list_authenticators, bearer=True, cors=True,
          content_type=protocol.JSON_UTF8),
    Route("DELETE", "/mfa/authenticators/{authenticator_id:path}", mfa.delete_authenticator, bearer=True,
          cors=True, status=204),
    Route("GET", "/authorize", login.authorize, query=(
        "response_type", "client_id", "redirect_uri", "code_challenge", "code_challenge_method",
        "audience", "scope", "state", "nonce")),
    Route("POST", "/u/login", login.login, body=("login", "username", "password", "otp")),
    Route("GET", "/.well-known/openid-configuration", _discovery, cors=True),
    Route("GET", "/.well-known/jwks.json", lambda rt, call: rt.signer.jwks(), cors=True),
    Route("GET", "/emulator/health", lambda rt, call: {"status": "ok"}, auth0=False),
    Route("GET", "/emulator/tenant", _tenant, auth0=False),
    Route("POST", "/emulator/users", _create_user, auth0=False, status=201,
          body=("username", "password")),
    Route("GET", "/emulator/outbox", _outbox, auth0=False, query=("to",)),
    Route("POST", "/emulator/push/{transaction}/approve", _push("approved"), auth0=False),
    Route("POST", "/emulator/push/{transaction}/reject", _push("rejected"), auth0=False),
    Route("POST", "/emulator/clock", _clock, auth0=False, body=("advance_seconds",)),
]


def _endpoint(rt: Runtime, route: Route):
    async def endpoint(request: Request) -> Response:
        verdict = origin = None
        try:
            if route.auth0:
                address = request.client.host if request.client else "?"
                verdict = rt.buckets.take(f"rate:{address}:{route.path}", rt.tenant.rate_limit,
                                          rt.tenant.rate_window / rt.tenant.rate_limit)
                if not verdict.allowed:
                    raise ApiError("rate_limited", headers={"Retry-After": str(verdict.retry_after)})
            call = await Call.read(request)
            origin = _cross_origin(rt, route, request, call)
            # One transaction per request: a crash half-way through a grant leaves none of its writes
            # (never an active factor beside an inactive recovery code); an ApiError is an answer,
            # so what was written before it (a wrong-code count) stays.
            with rt.store.transaction(keep=ApiError):
                result = route.handler(rt, call)
            response = result if isinstance(result, Response) else JSONResponse(
                result, status_code=route.status, media_type=route.content_type)
            response.headers.setdefault("content-type", route.content_type)   # DELETE's empty 204 too
        except ApiError as err:
            response = err.response(route.content_type)
        except Exception as exc:  # never a 500 for a request: log it and answer 400
            log.error("unexpected error on %s %s:\n%s", route.method, route.path, traceback.format_exc())
            response = ApiError("malformed_body", reason=f"the emulator could not process it "
                                f"({type(exc).__name__})").response(route.content_type)
        if verdict is not None:
            response.headers.update(verdict.headers())
        if route.cors and origin:
            response.headers.update(cors.headers(origin))
        return response
    return endpoint


def _cross_origin(rt: Runtime, route: Route, request: Request, call: Call) -> str | None:
    """The Origin to answer with CORS headers, or None; /oauth/token refuses an origin its client
    does not allow (cors.py)."""
    origin = request.headers.get("origin")
    if not route.cors or not origin or cors.same_origin(rt.tenant, origin, call):
        return None
    if cors.allowed(rt.tenant, origin, cors.client_named(call)):
        return origin
    if route.path == "/oauth/token":
        raise ApiError("origin_not_allowed")
    return None


def _preflight(rt: Runtime, route: Route):
    async def preflight(request: Request) -> Response:
        origin = request.headers.get("origin")
        if not origin or not cors.allowed(rt.tenant, origin):
            return Response(status_code=204)
        return Response(status_code=204, headers=cors.preflight_headers(
            origin, route.method, request.headers.get("access-control-request-headers")))
    return preflight


# --- the application ---------------------------------------------------------------------------

DESCRIPTION = "Local emulator of Auth0's Authentication API for MFA (mfa-kit)."
SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"


def openapi_document(title: str) -> dict:
    """The OpenAPI 3.1 document of ROUTES, as /openapi.json serves it."""
    paths: dict = {}
    for route in ROUTES:
        path = re.sub(r"{(\w+):\w+}", r"{\1}", route.path)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route, path)
    return {"openapi": "3.1.0", "info": {"title": title, "description": DESCRIPTION, "version": "0.1.0"},
            "paths": paths}


def docs_page(document: dict) -> str:
    """/docs: Swagger UI from its CDN over /openapi.json; offline, the list of routes it replaces
    still says what the emulator serves and links the document."""
    title = document["info"]["title"]
    items = "".join(f"<li><code>{method.upper()} {escape(path)}</code></li>"
                    for path, operations in document["paths"].items() for method in operations)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{escape(title)}</title><link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css"></head>
<body><div id="swagger-ui"><h1>{escape(title)}</h1>
<p>{escape(DESCRIPTION)} Every route, as the <a href="openapi.json">OpenAPI document</a> describes it:</p>
<ul>{items}</ul></div>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>
<script>if (window.SwaggerUIBundle) SwaggerUIBundle({{url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true}});</script>
</body></html>"""


def _constant(answer: type[Response], content: Any) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return answer(content)
    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown path (404) or method (405): the JSON answer clients have always had from the
    emulator (FastAPI's `{"detail": ...}`); Auth0's own is not documented."""
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def build_app(rt: Runtime) -> Starlette:
    title = f"Auth0 MFA API emulator: {rt.tenant.name}"
    document = openapi_document(title)
    page = docs_page(document)
    routes = [routing.Route("/openapi.json", _constant(JSONResponse, document)),
              routing.Route("/docs", _constant(HTMLResponse, page))]
    for route in ROUTES:
        served = routing.Route(route.path, _endpoint(rt, route), methods=[route.method])
        served.methods = {route.method}   # Starlette adds HEAD to GET; the emulator never answered it
        routes.append(served)
        if route.cors:
            routes.append(routing.Route(route.path, _preflight(rt, route), methods=["OPTIONS"]))
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
