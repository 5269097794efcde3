"""HARs made by a real browser: Debian's Chromium, driven by Playwright, records its traffic with
`record_har_path` while host names are mapped to a local server (`--host-resolver-rules`), so the
HAR reads like a customer's (`https://`-less, but with the tenant's real-looking names, ports hidden).

    with recording(tmp_path / "x.har", {"acme.us.auth0.com": emu_address}) as page:
        page.goto("http://acme.us.auth0.com/authorize?...")
    har = json.loads((tmp_path / "x.har").read_text())

Pages of an app that does not exist can be served from the test: `app_pages` answers every URL
under an origin with the HTML given (those requests are in the HAR too, as Playwright fulfilled them).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from browser_support import CHROMIUM_ARGS, TIMEOUT_MS, chromium_path


@contextmanager
def recording(har_path: Path, hosts: Mapping[str, str], *, app_pages: Mapping[str, str] | None = None,
              content: str = "embed") -> Iterator:
    """A fresh Chromium page; on exit its whole traffic is in `har_path` (bodies embedded).
    `hosts`: host name → `IP:PORT` it really is; `app_pages`: origin → HTML served for any path."""
    from playwright.sync_api import sync_playwright

    rules = ", ".join(f"MAP {name} {address}" for name, address in hosts.items())
    # The mapped names resolve to 127.0.0.1: without this, Chromium's private/local network access
    # checks would block a page served for a public name from calling them, and its HTTPS upgrades
    # would try https:// first on every navigation (the emulator speaks http).
    features = ("--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,"
                "PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks,HttpsUpgrades,"
                "HttpsFirstBalancedModeAutoEnable,HttpsFirstModeV2ForTypicallySecureUsers")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                             args=[*CHROMIUM_ARGS, f"--host-resolver-rules={rules}", features])
        try:
            context = browser.new_context(record_har_path=str(har_path), record_har_content=content)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            for origin, html in (app_pages or {}).items():
                page.route(f"{origin.rstrip('/')}/**", _serve(html))
            try:
                yield page
            finally:
                context.close()   # writes the HAR
        finally:
            browser.close()


def _serve(html: str):
    return lambda route, request: route.fulfill(status=200, content_type="text/html", body=html)


def fetch(page, url: str, *, method: str | None = None, form: Mapping[str, str] | None = None,
          json_body: object = None, headers: Mapping[str, str] | None = None) -> dict:
    """`fetch()` from the page, as a single-page app calls the MFA API: {status, body} or {error}.
    The method is POST when there is a body, else GET."""
    method = method or ("POST" if form is not None or json_body is not None else "GET")
    return page.evaluate(
        """async ([url, method, form, json, headers]) => {
             const init = {method, headers: {...headers}};
             if (form) { init.body = new URLSearchParams(form).toString();
                         init.headers['content-type'] = 'application/x-www-form-urlencoded'; }
             if (json !== null) { init.body = JSON.stringify(json); init.headers['content-type'] = 'application/json'; }
             try { const r = await fetch(url, init); return {status: r.status, body: await r.text()}; }
             catch (e) { return {error: String(e)}; }
           }""", [url, method, dict(form) if form else None, json_body, dict(headers or {})])
