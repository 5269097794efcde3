"""CORS: Allowed Web Origins in the tenant file let a browser app call /oauth/token and /mfa/*
(Auth0's "Allowed Web Origins"), and only those origins; driven over HTTP with the Origin header a
browser sends. tests/test_browser_cors.py shows a real browser obeying the same answers."""
from __future__ import annotations

import pyotp
import pytest
import requests

from mfa_helpers import protocol
from mfa_helpers.emulator import Emulator
from mfa_helpers.emulator.tenant import TenantError, load_tenant

from conftest import error_of

ALLOWED = "http://localhost:3000"
BROWSER_APP = "browser-app"
TENANT = """\
name: CORS
domain: cors.us.auth0.com
clients:
  - client_id: {browser_app}
    grant_types: [password, {otp}]
    web_origins: [{allowed}, "https://*.app.example"]
  - client_id: server-app
    client_secret: server-secret
    grant_types: [password, {otp}]
    web_origins: [https://admin.example]
users:
  - username: user@example.com
    password: Pw-123456
"""


def tenant_file(tmp_path, **changes) -> str:
    path = tmp_path / "tenant.yaml"
    path.write_text(TENANT.format(browser_app=BROWSER_APP, otp=protocol.GRANT_MFA_OTP, allowed=ALLOWED)
                    .replace(*changes.get("replace", ("", ""))))
    return str(path)


@pytest.fixture
def cors_emulator(tmp_path):
    with Emulator(tenant_file(tmp_path)) as emu:
        yield emu


class Page:
    """What a page's fetch() sends from `origin`: the Origin header on every request."""

    def __init__(self, emulator: Emulator, origin: str, client_id: str = BROWSER_APP):
        self.url, self.origin, self.client_id = emulator.url, origin, client_id
        self.http = requests.Session()
        self.http.headers["Origin"] = origin

    def token(self, **fields) -> requests.Response:
        return self.http.post(self.url + "/oauth/token", json={"client_id": self.client_id, **fields}, timeout=10)

    def login(self) -> requests.Response:
        return self.token(grant_type="password", username="user@example.com", password="Pw-123456",
                          audience="https://cors.us.auth0.com/mfa/", scope="openid enroll read:authenticators")

    def bearer(self, method: str, path: str, token: str, **kwargs) -> requests.Response:
        return self.http.request(method, self.url + path, headers={"Authorization": f"Bearer {token}"},
                                 timeout=10, **kwargs)

    def preflight(self, path: str, method: str, headers: str = "authorization,content-type") -> requests.Response:
        return requests.options(self.url + path, timeout=10, headers={
            "Origin": self.origin, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers})


def cors_of(response: requests.Response) -> str | None:
    return response.headers.get("access-control-allow-origin")


def test_an_allowed_origin_walks_the_whole_flow_with_cors_answers(cors_emulator):
    page = Page(cors_emulator, ALLOWED)
    for path, method in (("/oauth/token", "POST"), ("/mfa/associate", "POST"), ("/mfa/authenticators", "GET"),
                         ("/mfa/authenticators/totp%7Cdev_x", "DELETE"), ("/mfa/challenge", "POST")):
        preflight = page.preflight(path, method)
        assert preflight.status_code == 204 and cors_of(preflight) == ALLOWED, path
        assert preflight.headers["access-control-allow-methods"] == method
        assert preflight.headers["access-control-allow-headers"] == "authorization,content-type"
    login = page.login()
    # The error bodies a browser app must read (mfa_required, mfa_token) come with the headers too.
    assert login.status_code == 403 and login.json()["error"] == "mfa_required"
    assert cors_of(login) == ALLOWED and login.headers["vary"] == "Origin"
    mfa_token = login.json()["mfa_token"]
    enrolled = page.bearer("POST", "/mfa/associate", mfa_token, json={"authenticator_types": ["otp"]})
    assert enrolled.status_code == 200 and cors_of(enrolled) == ALLOWED
    tokens = page.token(grant_type=protocol.GRANT_MFA_OTP, mfa_token=mfa_token,
                        otp=pyotp.TOTP(enrolled.json()["secret"]).now())
    assert tokens.status_code == 200 and cors_of(tokens) == ALLOWED
    listed = page.bearer("GET", "/mfa/authenticators", tokens.json()["access_token"])
    assert listed.status_code == 200 and cors_of(listed) == ALLOWED
    assert {a["authenticator_type"] for a in listed.json()} >= {"otp"}


def test_an_origin_no_client_allows_gets_no_cors_and_no_token(cors_emulator):
    evil = Page(cors_emulator, "https://evil.example")
    assert cors_of(evil.preflight("/oauth/token", "POST")) is None
    refused = evil.login()
    assert error_of(refused, "origin_not_allowed") and cors_of(refused) is None
    # The same request without a browser's Origin (a server, curl) is not a CORS matter.
    server = requests.post(cors_emulator.url + "/oauth/token", timeout=10, json={
        "client_id": BROWSER_APP, "grant_type": "password", "username": "user@example.com", "password": "Pw-123456"})
    assert server.status_code == 403 and server.json()["error"] == "mfa_required" and cors_of(server) is None
    # /mfa/* answers as always, without the headers: the browser keeps the answer from the page.
    listed = evil.bearer("GET", "/mfa/authenticators", server.json()["mfa_token"])
    assert listed.status_code == 200 and cors_of(listed) is None


def test_origins_are_per_client(cors_emulator):
    # https://admin.example is the server app's origin, not the browser app's.
    assert error_of(Page(cors_emulator, "https://admin.example").login(), "origin_not_allowed")
    admin = Page(cors_emulator, "https://admin.example", client_id="server-app")
    answer = admin.token(client_secret="server-secret", grant_type="password", username="user@example.com",
                         password="Pw-123456")
    assert answer.json()["error"] == "mfa_required" and cors_of(answer) == "https://admin.example"
    # A preflight names no client: an origin any client allows passes it.
    assert cors_of(admin.preflight("/oauth/token", "POST")) == "https://admin.example"


@pytest.mark.parametrize("origin, allowed", [
    ("https://shop.app.example", True),
    ("https://a.b.app.example", False),     # one subdomain level
    ("https://app.example", False),
    ("http://shop.app.example", False),     # scheme is part of the origin
    ("https://shop.app.example:8443", False),
    ("http://localhost:3001", False),       # so is the port
    ("null", False),                        # a file:// page or a sandboxed frame
])
def test_subdomain_placeholders_and_exact_origins(cors_emulator, origin, allowed):
    answer = Page(cors_emulator, origin).login()
    if allowed:
        assert answer.json()["error"] == "mfa_required" and cors_of(answer) == origin
    else:
        assert error_of(answer, "origin_not_allowed") and cors_of(answer) is None


def test_pages_of_the_tenant_itself_are_not_cross_origin(cors_emulator):
    own = Page(cors_emulator, cors_emulator.url).login()
    assert own.json()["error"] == "mfa_required" and cors_of(own) is None


def test_the_emulator_only_surface_has_no_cors(cors_emulator):
    page = Page(cors_emulator, ALLOWED)
    assert cors_of(page.http.get(cors_emulator.url + "/emulator/tenant", timeout=10)) is None
    assert page.preflight("/emulator/users", "POST").status_code == 405


def test_tenant_file_web_origins(tmp_path):
    tenant = load_tenant(tenant_file(tmp_path, replace=(ALLOWED, ALLOWED + "/")))
    assert tenant.client(BROWSER_APP).web_origins == (ALLOWED, "https://*.app.example")
    assert load_tenant().client("mfa-kit-demo-spa").web_origins == (ALLOWED,)
    for bad in ("http://localhost:3000/app", "localhost:3000", "ftp://files.example"):
        with pytest.raises(TenantError) as caught:
            load_tenant(tenant_file(tmp_path, replace=(ALLOWED, bad)))
        assert "`clients[0].web_origins[0]`" in str(caught.value) and "scheme://host[:port]" in str(caught.value)
