"""diagnose on HARs a real browser recorded: Debian's Chromium (Playwright, `record_har_path`) talking
to the emulator under a customer's names (`acme.us.auth0.com`, custom domain `login.acme.com`,
app `app.acme.com`), through `tests/har_recorder.py`."""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

import pyotp
import pytest

import browser_support
from har_recorder import fetch, recording
from mfa_helpers import protocol
from mfa_helpers.emulator import Emulator
from mfa_helpers.emulator.tenant import DEMO_TENANT
from mfa_helpers.support import cli_diagnose
from mfa_helpers.support.diagnose import diagnose

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(browser_support.missing_browser() is not None,
                                 reason=str(browser_support.missing_browser()))]

CANONICAL, CUSTOM, APP = "acme.us.auth0.com", "login.acme.com", "http://app.acme.com"
APP_PAGE = "<!doctype html><title>Acme account</title><h1>Your security settings</h1>"


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    """The demo tenant renamed as a customer's: canonical acme.us.auth0.com, custom login.acme.com
    (with the seeds' pitfall API https://login.acme.com/mfa)."""
    text = DEMO_TENANT.read_text().replace("mfa-kit-demo.us.auth0.com", CANONICAL).replace(
        "login.mfa-kit-demo.example", CUSTOM)
    path = tmp_path_factory.mktemp("acme") / "acme.yaml"
    path.write_text(text)
    with Emulator(tenant=path) as emu:
        yield emu


def hosts(emu) -> dict[str, str]:
    """Every name at the emulator; the app's own pages are served by the recorder (a redirect to
    the app's callback is not intercepted, so the emulator answers it: 404, as no such page)."""
    address = emu.url.split("://", 1)[1]
    return {CANONICAL: address, CUSTOM: address, APP.split("://")[1]: address}


def _user(emu, name):
    return next(u for u in emu.tenant.users if u.username == name)


def _app(emu):
    return next(c for c in emu.tenant.clients if c.client_secret and protocol.GRANT_MFA_OTP in c.grant_types)


def record_custom_domain_flow(emu, har_path: Path) -> None:
    """What the seeds' customer did, in a browser: the MFA audience on the custom domain, asked at
    /oauth/token, at /authorize, and as an API created under that name whose token the mfa-otp
    grant refuses."""
    app, user = _app(emu), _user(emu, "otp-user@example.com")
    seed = next(f.secret for f in user.factors if f.type == "otp")
    creds = {"client_id": app.client_id, "client_secret": app.client_secret}
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    with recording(har_path, hosts(emu), app_pages={f"http://{CUSTOM}/account": APP_PAGE,
                                                    APP: APP_PAGE}) as page:
        page.goto(f"http://{CUSTOM}/account/security")
        refused = fetch(page, f"http://{CUSTOM}/oauth/token", form={
            **creds, "grant_type": "password", "username": user.username, "password": user.password,
            "audience": f"https://{CUSTOM}/mfa/", "scope": "openid enroll"})
        assert refused.get("status") == 403 and "Service not enabled" in refused["body"], refused
        page.goto(f"http://{CANONICAL}/authorize?" + urlencode({
            "client_id": "mfa-kit-demo-spa", "response_type": "code", "state": "s1",
            "redirect_uri": f"{APP}/callback", "audience": f"https://{CUSTOM}/mfa/", "scope": "openid enroll",
            "code_challenge": challenge, "code_challenge_method": "S256"}))
        assert page.url.startswith(f"{APP}/callback?error=access_denied")
        page.goto(f"http://{CUSTOM}/account/security")
        login = fetch(page, f"http://{CUSTOM}/oauth/token", form={
            **creds, "grant_type": "password", "username": user.username, "password": user.password,
            "audience": f"https://{CUSTOM}/mfa", "scope": "openid enroll"})
        mfa_token = json.loads(login["body"])["mfa_token"]
        code = pyotp.TOTP(seed).now()
        tokens = fetch(page, f"http://{CUSTOM}/oauth/token", form={
            **creds, "grant_type": protocol.GRANT_MFA_OTP, "mfa_token": mfa_token, "otp": code})
        access_token = json.loads(tokens["body"])["access_token"]
        confirm = fetch(page, f"http://{CUSTOM}/oauth/token", form={
            **creds, "grant_type": protocol.GRANT_MFA_OTP, "mfa_token": access_token, "otp": "000000"})
        assert confirm["status"] == 403 and "invalid audience" in confirm["body"]


def run_cli(path: Path, capsys, *extra) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    cli_diagnose.add_arguments(parser)
    code = cli_diagnose.run(parser.parse_args([str(path), *extra]))
    return code, capsys.readouterr().out


def test_a_recorded_custom_domain_flow_is_diagnosed_in_every_form(acme, tmp_path, capsys):
    har_path = tmp_path / "customer.har"
    record_custom_domain_flow(acme, har_path)
    recorded = json.loads(har_path.read_text())
    assert recorded["log"]["creator"]["name"] == "Playwright"
    findings = diagnose(recorded)    # no --domain: the tenant is read off the /authorize host
    f = next(f for f in findings if f.key == "custom_domain_audience")
    assert f.count == 3 and f.severity == "error"
    entries = recorded["log"]["entries"]
    tokens = [n for n, e in enumerate(entries, 1) if e["request"]["url"].endswith("/oauth/token")]
    [redirect] = [n for n, e in enumerate(entries, 1) if "/authorize?" in e["request"]["url"]
                  and "error=access_denied" in e["response"]["redirectURL"]]
    assert f.numbers == (tokens[0], redirect, tokens[-1])   # token, redirect, mfa-otp grant
    assert f"https://{CANONICAL}/mfa/" in f.fix and f"https://{CUSTOM}/mfa" in f.fix
    assert f"the custom domain {CUSTOM}" in f.explanation and f"canonical domain {CANONICAL}" in f.explanation
    code, text = run_cli(har_path, capsys, "--domain", f"https://{CANONICAL.upper()}/")
    assert code == 1 and "MFA API audience uses the custom domain ×3 between" in text
    user = _user(acme, "otp-user@example.com")
    for secret in (user.password, _app(acme).client_secret):
        assert secret in har_path.read_text() and secret not in text   # in the HAR, never in the diagnosis


def test_a_recorded_cors_failure_names_the_origin_to_allow(acme, tmp_path, capsys):
    """The SPA's origin is in no client's Allowed Web Origins: the token call is refused (401) and
    the MFA API call's preflight gets no CORS headers, so the browser reports no answer for either."""
    har_path = tmp_path / "spa.har"
    user = _user(acme, "learner@example.com")
    with recording(har_path, hosts(acme), app_pages={APP: APP_PAGE}) as page:
        page.goto(f"{APP}/settings")
        login = fetch(page, f"http://{CANONICAL}/oauth/token", form={
            "grant_type": "password", "client_id": "mfa-kit-demo-spa", "username": user.username,
            "password": user.password})
        answer = fetch(page, f"http://{CANONICAL}/mfa/authenticators", headers={"Authorization": "Bearer x"})
        assert "Failed to fetch" in login["error"] and "Failed to fetch" in answer["error"]
    [f] = diagnose(har_path)   # Chromium records both as failed (-1, net::ERR_FAILED), without the 401
    assert f.key == "no_answer_cors" and f.count == 2 and f.request == "POST /oauth/token"
    assert APP in f.fix and "Allowed Web Origins" in f.fix
    code, text = run_cli(har_path, capsys)
    assert code == 1 and user.password not in text


def test_a_recorded_universal_login_har_says_there_is_no_mfa_api_call(acme, tmp_path):
    har_path = tmp_path / "ul.har"
    with recording(har_path, hosts(acme), app_pages={APP: APP_PAGE}) as page:
        page.goto(f"http://{CUSTOM}/authorize?" + urlencode({
            "client_id": "mfa-kit-demo-spa", "response_type": "code", "redirect_uri": f"{APP}/callback",
            "code_challenge": "x" * 43, "code_challenge_method": "S256"}))
        page.get_by_label("Email").fill("learner@example.com")
        time.sleep(0.1)
    [f] = diagnose(har_path)
    assert f.key == "no_mfa_api_call" and "/authorize" in f.explanation
