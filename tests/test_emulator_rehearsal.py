"""The tenant rehearsal: the emulator over real HTTPS as `127.0.0.1:PORT` (canonical) and
`localhost:PORT` (custom domain), reached the way the kit reaches a real tenant (TLS verified
against the rehearsal's own certificate, no mocks)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest
import requests

from mfa_helpers import MfaClient, Settings
from mfa_helpers.emulator import Emulator
from mfa_helpers.emulator.control import EmulatorControl
from mfa_helpers.errors import MfaRequired
from mfa_helpers.tokens import decode_token

from conftest import Wire


@pytest.fixture
def rehearsal():
    with Emulator(rehearse_tenant=True) as emu:
        yield emu


class TlsWire(Wire):
    """conftest's Wire trusting the rehearsal's certificate. Per request: a Session's `verify` loses
    to a REQUESTS_CA_BUNDLE in the environment (requests' merge_environment_settings)."""

    def __init__(self, emulator: Emulator):
        super().__init__(emulator)
        self.verify = emulator.ca_bundle

    def post(self, path: str, **kwargs) -> requests.Response:
        return super().post(path, verify=self.verify, **kwargs)


@pytest.fixture
def tls_wire(rehearsal) -> TlsWire:
    return TlsWire(rehearsal)


def _get(url: str, emu: Emulator, **kwargs) -> requests.Response:
    return requests.get(url, verify=emu.ca_bundle, timeout=10, **kwargs)


def test_the_rehearsal_is_a_tenant_at_127_0_0_1_and_localhost(rehearsal):
    port = rehearsal.port
    assert rehearsal.url == f"https://127.0.0.1:{port}"
    assert (rehearsal.tenant.domain, rehearsal.tenant.custom_domain) == (f"127.0.0.1:{port}", f"localhost:{port}")
    assert rehearsal.tenant.mfa_audience == f"https://127.0.0.1:{port}/mfa/"
    assert rehearsal.tenant.issuers == (f"https://127.0.0.1:{port}/", f"https://localhost:{port}/")
    # The demo's pitfall API, named after the custom domain, follows the custom domain.
    assert [a.identifier for a in rehearsal.tenant.apis] == [f"https://localhost:{port}/mfa"]
    assert rehearsal.tenant_environment() == {
        "AUTH0_DOMAIN": f"127.0.0.1:{port}", "AUTH0_CUSTOM_DOMAIN": f"localhost:{port}",
        "AUTH0_CLIENT_ID": "mfa-kit-demo-app", "AUTH0_CLIENT_SECRET": "demo-app-secret-local-emulator-only",
        "AUTH0_USERNAME": "learner@example.com", "AUTH0_PASSWORD": "Learner-demo-pass-1",
        "REQUESTS_CA_BUNDLE": rehearsal.ca_bundle, "NODE_EXTRA_CA_CERTS": rehearsal.ca_bundle}


def test_discovery_names_the_canonical_domain_over_https(rehearsal):
    base = f"https://127.0.0.1:{rehearsal.port}"
    discovery = _get(base + "/.well-known/openid-configuration", rehearsal).json()
    assert discovery["issuer"] == base + "/"
    endpoints = [discovery[k] for k in ("authorization_endpoint", "token_endpoint", "jwks_uri",
                                        "mfa_challenge_endpoint")]
    assert all(url.startswith(base + "/") for url in endpoints), endpoints
    assert _get(discovery["jwks_uri"], rehearsal).json()["keys"]


def test_localhost_is_the_custom_domain(rehearsal):
    custom = f"https://localhost:{rehearsal.port}"
    discovery = _get(custom + "/.well-known/openid-configuration", rehearsal).json()
    assert discovery["issuer"] == custom + "/"
    assert discovery["token_endpoint"] == custom + "/oauth/token"
    # By the Host header alone, as a proxy in front of a custom domain would send it.
    by_host = _get(rehearsal.url + "/.well-known/openid-configuration", rehearsal,
                   headers={"Host": f"localhost:{rehearsal.port}"}).json()
    assert by_host["issuer"] == custom + "/"
    # Another port on the same name is not the custom domain: the canonical one answers.
    other = _get(rehearsal.url + "/.well-known/openid-configuration", rehearsal,
                 headers={"Host": "localhost:1"}).json()
    assert other["issuer"] == rehearsal.url + "/"


def test_password_grant_needs_mfa_and_tokens_name_the_rehearsal_domains(rehearsal, tls_wire):
    user = rehearsal.tenant_environment()
    login = tls_wire.login({"username": user["AUTH0_USERNAME"], "password": user["AUTH0_PASSWORD"]})
    assert login.status_code == 403 and login.json()["error"] == "mfa_required", login.text
    fresh = tls_wire.post("/emulator/users", json={}).json()
    token = tls_wire.mfa_api_token(fresh)
    claims = decode_token(token).claims
    assert claims["iss"] == f"https://127.0.0.1:{rehearsal.port}/"
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    assert f"https://127.0.0.1:{rehearsal.port}/mfa/" in audiences
    listed = _get(rehearsal.url + "/mfa/authenticators", rehearsal, headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and listed.json()[0]["authenticator_type"] == "otp"


def test_a_login_through_the_custom_domain_is_issued_by_it(rehearsal, tls_wire):
    tls_wire.url = f"https://localhost:{rehearsal.port}"
    fresh = tls_wire.post("/emulator/users", json={}).json()
    tokens = tls_wire.enroll_otp(fresh, audience=rehearsal.tenant.mfa_audience, scope="openid enroll")["tokens"]
    assert decode_token(tokens["access_token"]).claims["iss"] == f"https://localhost:{rehearsal.port}/"


def test_only_tls_answers_and_only_with_its_certificate(rehearsal):
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{rehearsal.port}/emulator/health", timeout=5)
    with pytest.raises(requests.exceptions.SSLError):   # the system's CAs do not know it
        requests.get(rehearsal.url + "/emulator/health", timeout=5, verify=True)


def test_emulator_only_endpoints_work_over_https(rehearsal, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", rehearsal.ca_bundle)   # as the printed exports set it
    control = EmulatorControl(rehearsal.url)
    assert control.health()
    assert control.tenant()["domain"] == f"127.0.0.1:{rehearsal.port}"
    assert control.create_user("someone@example.com", "Pw-123456")["username"] == "someone@example.com"
    assert control.advance_clock(5) == 5


def test_the_kit_reaches_it_as_a_tenant(rehearsal, monkeypatch, tmp_path):
    env = rehearsal.tenant_environment()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", env["REQUESTS_CA_BUNDLE"])
    settings = Settings.from_env(env, dotenv=os.devnull)
    client = MfaClient.connect(settings)
    assert client.settings.target == "tenant" and client.emulator is None
    assert client.base_url == rehearsal.url
    assert client.mfa_audience == f"https://127.0.0.1:{rehearsal.port}/mfa/"
    assert client.openid_configuration()["issuer"] == f"https://{client.domain}/"
    with pytest.raises(MfaRequired) as required:
        client.login(audience=client.mfa_audience, scope="openid enroll read:authenticators")
    enrolled = client.associate(required.value.mfa_token, ["otp"])
    tokens = client.confirm_otp(required.value.mfa_token, pyotp.TOTP(enrolled["secret"]).now())
    claims = client.verify_token(tokens["access_token"], audience=client.mfa_audience)
    assert claims["iss"] == f"https://127.0.0.1:{rehearsal.port}/"
    assert client.list_authenticators(tokens["access_token"])[0]["active"] is True

    custom = MfaClient(settings, use_custom_domain=True)
    assert custom.base_url == f"https://localhost:{rehearsal.port}"
    assert custom.openid_configuration()["issuer"] == f"https://localhost:{rehearsal.port}/"
    with pytest.raises(MfaRequired):
        custom.login()


def test_the_certificate_lives_as_long_as_the_emulator():
    emu = Emulator(rehearse_tenant=True).start()
    bundle = Path(emu.ca_bundle)
    assert bundle.is_file() and (bundle.parent / "emulator-key.pem").stat().st_mode & 0o077 == 0
    emu.stop()
    assert not bundle.parent.exists() and emu.ca_bundle is None
    with pytest.raises(RuntimeError, match="rehearse_tenant"):
        emu.tenant_environment()


def test_a_rehearsal_listens_where_its_domains_point():
    with pytest.raises(RuntimeError, match="127.0.0.1"):
        Emulator(rehearse_tenant=True, host="::1").start()
    with Emulator() as plain:   # an ordinary emulator is no tenant
        assert plain.url.startswith("http://") and plain.ca_bundle is None
        with pytest.raises(RuntimeError):
            plain.tenant_environment()


def test_cli_prints_the_exports_of_a_tenant_run(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "mfa_helpers.cli", "emulator", "--rehearse-tenant",
                                "--port", "0", "--db", ":memory:"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    bundle = None
    try:
        lines = []
        while not lines or not lines[-1].startswith("Stop with Ctrl-C"):
            line = process.stdout.readline()
            assert line, f"the emulator exited early: {process.stderr.read()}"
            lines.append(line.rstrip("\n"))
        url = re.search(r"listening on (https://127\.0\.0\.1:\d+)", lines[0]).group(1)
        exports = dict(re.fullmatch(r"export (\w+)=(\S+)", line).groups()
                       for line in lines if line.startswith("export "))
        port = url.rsplit(":", 1)[1]
        assert exports["AUTH0_DOMAIN"] == f"127.0.0.1:{port}"
        assert exports["AUTH0_CUSTOM_DOMAIN"] == f"localhost:{port}"
        assert set(exports) == {"AUTH0_DOMAIN", "AUTH0_CUSTOM_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET",
                                "AUTH0_USERNAME", "AUTH0_PASSWORD", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"}
        assert exports["NODE_EXTRA_CA_CERTS"] == exports["REQUESTS_CA_BUNDLE"]
        bundle = Path(exports["REQUESTS_CA_BUNDLE"])
        assert bundle.is_file()
        # Another process, configured only by those lines, talks to it as to a tenant.
        probe = ("from mfa_helpers import MfaClient\nfrom mfa_helpers.errors import MfaRequired\n"
                 "client = MfaClient.connect()\nassert client.settings.target == 'tenant', client\n"
                 "try:\n    client.login()\nexcept MfaRequired as e:\n    print('mfa_required', client.base_url)\n")
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH0_", "MFA_KIT_"))}
        ran = subprocess.run([sys.executable, "-c", probe], env={**clean, **exports}, cwd=tmp_path,
                             capture_output=True, text=True, timeout=60)
        assert ran.returncode == 0 and ran.stdout.split() == ["mfa_required", url], ran.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "stopped" in out
    assert bundle is not None and not bundle.exists()   # the certificate goes with the process
