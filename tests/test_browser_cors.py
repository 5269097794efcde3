"""A browser app against the emulator posing as a tenant: a page served from an allowed web origin
walks MFA with fetch() (preflights included) and reads every answer; a page from another origin is
stopped by the browser itself (Debian's Chromium through Playwright, the same CORS rules as users')."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyotp
import pytest

import browser_support
from browser_support import CHROMIUM_ARGS, TIMEOUT_MS, chromium_path
from mfa_helpers import protocol
from mfa_helpers.emulator import Emulator

from test_emulator_cors import ALLOWED, BROWSER_APP, tenant_file

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(browser_support.missing_browser() is not None,
                                 reason=str(browser_support.missing_browser()))]

# What the SPA runs: one call to the tenant, returning status and body, or the browser's refusal.
CALL = """async ([url, method, headers, body]) => {
  try {
    const answer = await fetch(url, {method, headers, body: body === null ? undefined : JSON.stringify(body)});
    return {status: answer.status, body: await answer.json()};
  } catch (error) {
    return {refused: String(error)};
  }
}"""


@pytest.fixture
def app_server():
    """The browser app's own web server, on a free port: one page, reached as two origins,
    http://localhost:PORT (allowed in the tenant file) and http://127.0.0.1:PORT (not). A real
    loopback server, so the browser's local network rules let the page call the local tenant."""
    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>My app</title><h1>My app</h1>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    yield f"http://localhost:{port}", f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def origins(app_server, tmp_path):
    """(allowed, other) origins, and the tenant file allows the first for the browser app."""
    allowed, other = app_server
    with Emulator(tenant_file(tmp_path, replace=(ALLOWED, allowed)), rehearse_tenant=True) as emu:
        yield emu, allowed, other


@pytest.fixture
def open_app():
    """open_app(origin) -> the browser app's page loaded from origin; the tenant's own certificate
    is accepted as a user's trusted one would be."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        context = chromium.new_context(ignore_https_errors=True)
        context.set_default_timeout(TIMEOUT_MS)

        def open_app(origin: str):
            page = context.new_page()
            page.goto(f"{origin}/app")
            return page

        yield open_app
        chromium.close()


def call(page, url: str, method: str = "POST", body: dict | None = None, bearer: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    return page.evaluate(CALL, [url, method, headers, body])


def login(tenant, page) -> dict:
    user = tenant.tenant.users[0]
    return call(page, f"{tenant.url}/oauth/token", body={
        "client_id": BROWSER_APP, "grant_type": "password", "username": user.username, "password": user.password,
        "audience": tenant.tenant.mfa_audience, "scope": "openid enroll read:authenticators"})


def test_a_page_on_an_allowed_origin_walks_mfa_with_fetch(origins, open_app):
    tenant, allowed, _ = origins
    page = open_app(allowed)
    required = login(tenant, page)
    assert required["status"] == 403 and required["body"]["error"] == "mfa_required", required
    mfa_token = required["body"]["mfa_token"]
    # Authorization and a JSON body make the browser send a preflight first.
    enrolled = call(page, f"{tenant.url}/mfa/associate", body={"authenticator_types": ["otp"]}, bearer=mfa_token)
    assert enrolled["status"] == 200, enrolled
    tokens = call(page, f"{tenant.url}/oauth/token", body={
        "client_id": BROWSER_APP, "grant_type": protocol.GRANT_MFA_OTP, "mfa_token": mfa_token,
        "otp": pyotp.TOTP(enrolled["body"]["secret"]).now()})
    assert tokens["status"] == 200 and tokens["body"]["access_token"], tokens
    listed = call(page, f"{tenant.url}/mfa/authenticators", "GET", bearer=tokens["body"]["access_token"])
    assert listed["status"] == 200 and {"otp", "recovery-code"} <= {a["authenticator_type"] for a in listed["body"]}


def test_a_page_on_another_origin_is_stopped_by_the_browser(origins, open_app):
    tenant, allowed, other = origins
    page = open_app(other)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    refused = login(tenant, page)
    assert "Failed to fetch" in refused.get("refused", ""), refused
    assert any("blocked by CORS policy" in line and "No 'Access-Control-Allow-Origin' header" in line
               for line in console), console
    # Not even the answers a server would get: the preflight of a bearer call fails too.
    assert "Failed to fetch" in call(page, f"{tenant.url}/mfa/authenticators", "GET", bearer="x").get("refused", "")
    # The same browser, from the allowed origin, is answered: the origin made the difference.
    assert login(tenant, open_app(allowed))["status"] == 403
