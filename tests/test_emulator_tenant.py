"""Tenant files, the emulator-only surface, persistence across restarts, and `mfa-kit emulator`."""
from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest
import yaml
import requests

from mfa_helpers import protocol
from mfa_helpers.emulator import Emulator
from mfa_helpers.emulator.control import EmulatorControl, EmulatorError
from mfa_helpers.errors import KitError
from mfa_helpers.emulator.tenant import DEMO_TENANT, TenantError, load_tenant

from conftest import Wire


def test_demo_tenant_matches_the_contract():
    tenant = load_tenant()
    assert (tenant.name, tenant.domain, tenant.custom_domain) == (
        "MFA Kit Demo", "mfa-kit-demo.us.auth0.com", "login.mfa-kit-demo.example")
    assert tenant.mfa_audience == "https://mfa-kit-demo.us.auth0.com/mfa/"
    assert tenant.connection == "Username-Password-Authentication"
    assert tenant.users[0].username == "learner@example.com" and not tenant.users[0].factors
    assert tenant.policy == "always" and tenant.customizable
    assert [a.identifier for a in tenant.apis] == ["https://login.mfa-kit-demo.example/mfa"]
    assert sum(c.public for c in tenant.clients) == 1


@pytest.mark.parametrize("old, new, field, fix", [
    ("policy: always", "policy: sometimes", "mfa.policy", "never, always"),
    ("      - refresh_token\n", "      - refresh_tokn\n", "clients[0].grant_types[2]", "use one of"),
    ("domain: mfa-kit-demo.us.auth0.com", "domain: https://mfa-kit-demo.us.auth0.com/", "domain",
     "write only the host"),
    ("rate_limit:\n  requests: 600", "rate_limit:\n  requests: -1", "rate_limit.requests", "positive"),
    ("name: MFA Kit Demo\n", "nmae: MFA Kit Demo\n", "nmae", "remove it or use one of"),
    ("  - username: learner@example.com        # starts with no factor on a fresh database\n"
     "    password: Learner-demo-pass-1\n", "  - username: learner@example.com\n", "users[0].password",
     "add `password:`"),
    ("{type: sms, phone_number:", "{type: sms, phone:", "users[2].factors[0].phone", "remove it"),
    ("customizable: true", "customizable: [", "(syntax)", "fix the syntax"),
    ("secret: JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "secret: JBSWY3DP-EHPK3PXP", "users[1].factors[0].secret",
     "base32"),
])
def test_bad_tenant_files_name_file_field_and_fix(tmp_path, old, new, field, fix):
    text = DEMO_TENANT.read_text()
    assert old in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(old, new))
    with pytest.raises(TenantError) as caught:
        load_tenant(path)
    message = str(caught.value)
    assert str(path) in message and f"`{field}`" in message and fix in message, message


def test_missing_tenant_file_and_toml(tmp_path):
    with pytest.raises(TenantError, match="cannot read it"):
        load_tenant(tmp_path / "nope.yaml")
    toml = tmp_path / "t.toml"
    toml.write_text('name = "T"\ndomain = "t.eu.auth0.com"\n[[clients]]\nclient_id = "c"\n'
                    'grant_types = ["password"]\n[[users]]\nusername = "u@example.com"\npassword = "p"\n')
    tenant = load_tenant(toml)
    assert tenant.domain == "t.eu.auth0.com" and tenant.clients[0].public and tenant.custom_domain is None


def test_emulator_surface_through_control(emulator, control):
    assert control.health() is True
    view = control.tenant()
    assert set(view) == {"domain", "custom_domain", "name", "mfa_audience", "clients", "users"}
    assert view["users"][0] == {"username": "learner@example.com", "password": "Learner-demo-pass-1"}
    assert set(view["clients"][0]) == {"client_id", "client_secret", "grant_types", "name", "web_origins"}
    named = control.create_user("someone@example.com", "Pw-123456")
    assert named == {"username": "someone@example.com", "password": "Pw-123456"}
    generated = control.create_user()
    assert generated["username"] != named["username"] and generated["password"]
    with pytest.raises(EmulatorError) as taken:
        control.create_user("someone@example.com")
    assert (taken.value.status, taken.value.error) == (400, "invalid_request")
    assert taken.value.error_description == protocol.ERRORS["malformed_body"].describe(
        reason="user someone@example.com already exists")
    response = requests.post(emulator.url + "/emulator/users", json={}, timeout=10)
    assert response.status_code == 201
    assert control.outbox() == [] and control.latest_message() is None
    assert control.advance_clock(30) == 30 and control.advance_clock(5) == 35
    assert EmulatorControl("http://127.0.0.1:9").health() is False


def test_control_errors_carry_the_answer_and_name_the_fix(emulator, control):
    """EmulatorControl raises EmulatorError (a KitError), never a raw `requests` exception: the
    URL, the status and the emulator's error fields, and a message that says what to do."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(EmulatorError) as refused:
        EmulatorControl(nobody).tenant()
    assert isinstance(refused.value, KitError) and refused.value.status is None
    assert refused.value.url == f"{nobody}/emulator/tenant"
    assert "is the emulator running?" in str(refused.value) and "`mfa-kit emulator`" in str(refused.value)
    assert "MFA_KIT_EMULATOR_URL" in str(refused.value)
    with pytest.raises(EmulatorError) as unknown:
        control.approve_push("no-such-transaction")
    assert (unknown.value.status, unknown.value.error) == (404, "not_found")
    assert unknown.value.error_description == protocol.ERRORS["emulator_unknown_transaction"].describe(
        transaction="no-such-transaction")
    assert "latest_message(channel='auth0')" in str(unknown.value)
    with pytest.raises(EmulatorError) as elsewhere:   # an address that is no emulator's base URL
        EmulatorControl(f"{emulator.url}/oauth").tenant()
    assert elsewhere.value.status == 404 and elsewhere.value.error is None
    assert "is this the emulator?" in str(elsewhere.value)


def test_seeded_otp_user_signs_in_with_the_tenant_file_secret(wire, emulator):
    user = next(u for u in emulator.tenant.users if any(f.type == "otp" for f in u.factors))
    secret = next(f.secret for f in user.factors if f.type == "otp")
    mfa_token = wire.mfa_token({"username": user.username, "password": user.password})
    assert wire.otp_grant(mfa_token, pyotp.TOTP(secret).now()).status_code == 200


def test_enrollments_and_tokens_survive_a_restart(tmp_path):
    db = tmp_path / "state" / "emulator.sqlite3"
    with Emulator(db=db) as first:
        wire = Wire(first)
        user = wire.post("/emulator/users", json={}).json()
        access = wire.mfa_api_token(user)
        factors = wire.authenticators(access).json()
    assert db.exists()
    with Emulator(db=db) as second:
        wire = Wire(second)
        assert wire.authenticators(access).json() == factors   # same key, same state
        assert "challenge" in wire.login(user).json()["mfa_requirements"]


def test_a_restart_follows_the_tenant_files_passwords_and_adds_its_new_users(tmp_path):
    db, changed = tmp_path / "state.sqlite3", tmp_path / "changed.yaml"
    with Emulator(db=db) as first:
        learner = {"username": "learner@example.com", "password": first.tenant.users[0].password}
        Wire(first).enroll_otp(learner)
    data = yaml.safe_load(DEMO_TENANT.read_text())
    data["users"][0]["password"] = "Changed-pass-2"
    data["users"].append({"username": "new@example.com", "password": "New-pass-3"})
    changed.write_text(yaml.safe_dump(data))
    with Emulator(tenant=changed, db=db) as second:
        wire = Wire(second)
        assert wire.login(learner).json()["error"] == "invalid_grant"   # the old password no longer works
        again = wire.login({**learner, "password": "Changed-pass-2"}).json()
        assert "challenge" in again["mfa_requirements"]   # the same user, enrolled before the restart
        assert "mfa_token" in wire.login({"username": "new@example.com", "password": "New-pass-3"}).json()


def test_two_emulators_run_side_by_side_and_stop_cleanly():
    with Emulator() as a, Emulator() as b:
        assert a.url != b.url
        assert requests.get(a.url + "/emulator/health", timeout=5).ok
        assert requests.get(b.url + "/emulator/health", timeout=5).ok
    with pytest.raises(requests.ConnectionError):
        requests.get(a.url + "/emulator/health", timeout=2)


def test_a_busy_port_is_reported_not_hung(emulator):
    with pytest.raises(RuntimeError, match=f"127.0.0.1:{emulator.port}.*port in use"):
        Emulator(port=emulator.port).start()


def test_the_control_api_leaves_the_server_stack_unloaded():
    """A notebook imports the package for EmulatorControl alone: the server, its signing and the
    tenant file parser load only when an emulator starts."""
    probe = ("import sys, mfa_helpers.emulator.control; print(sorted({m.split('.')[0] for m in sys.modules}"
             " & {'starlette', 'uvicorn', 'anyio', 'jwt', 'cryptography', 'yaml'}))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr


def test_start_stop_without_with():
    emu = Emulator().start()
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emu.url)
        assert requests.get(emu.url + "/openapi.json", timeout=5).json()["paths"]["/mfa/associate"]
    finally:
        emu.stop()


def test_cli_serves_until_sigterm_with_state_under_the_current_directory(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "mfa_helpers.cli", "emulator", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                               env=env)
    try:
        first = process.stdout.readline()
        url = re.search(r"listening on (http://\S+)", first).group(1)
        banner = "".join(process.stdout.readline() for _ in range(14))
        assert "login.mfa-kit-demo.example" in banner and "learner@example.com" in banner
        assert "mfa-kit-demo-app" in banner
        assert requests.get(url + "/emulator/health", timeout=5).json() == {"status": "ok"}
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "stopped" in out
    assert (Path(tmp_path) / ".mfa-kit" / "emulator.sqlite3").exists()


def test_cli_bad_tenant_exits_2_naming_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: X\n")
    process = subprocess.run([sys.executable, "-m", "mfa_helpers.cli", "emulator", "--tenant", str(bad),
                              "--db", ":memory:"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert process.returncode == 2
    assert str(bad) in process.stderr and "`domain`" in process.stderr


def test_a_state_file_from_an_older_emulator_gains_new_columns(tmp_path):
    db = tmp_path / "old.sqlite3"
    old = sqlite3.connect(db)
    old.execute("CREATE TABLE refresh_tokens (digest TEXT PRIMARY KEY, user_id TEXT, client_id TEXT, "
                "audience TEXT, scope TEXT)")
    old.commit()
    old.close()
    with Emulator(db=db) as emu:
        wire = Wire(emu)
        tokens = wire.enroll_otp(wire.post("/emulator/users", json={}).json(),
                                 scope="openid offline_access")["tokens"]
        assert wire.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code == 200
