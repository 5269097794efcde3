"""Shared by the test_client_* files: an emulator with a tenant whose secrets the tests planted,
and the browser half of the /authorize login (what a learner does by hand)."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
import yaml

import mfa_helpers.emulator as emulator_package
from mfa_helpers import MfaClient, MfaRequired, Settings
from mfa_helpers.client import AuthorizeRequest
from mfa_helpers.emulator import Emulator

DEMO_TENANT = Path(emulator_package.__file__).with_name("demo_tenant.yaml")
PLANTED = {
    "client_secret": "Planted-client-secret-9f8e7d6c5b4a",
    "password": "Planted-Passw0rd-for-learner",
    "otp_user_password": "Planted-Passw0rd-for-otp-user",
    "totp_seed": "KRUGS4ZANFZSAYJAORSXG5BAONSWKZDB",
    "seeded_recovery_code": "PLANTEDRECOVERYC0DE00001",
}
MFA_SCOPE = "openid enroll read:authenticators remove:authenticators offline_access"


def planted_tenant(path: Path, **top_level) -> Path:
    """The demo tenant with planted secrets (and any top-level changes, e.g. rate_limit)."""
    tenant = yaml.safe_load(DEMO_TENANT.read_text())
    tenant["clients"][0]["client_secret"] = PLANTED["client_secret"]
    users = {user["username"]: user for user in tenant["users"]}
    users["learner@example.com"]["password"] = PLANTED["password"]
    users["otp-user@example.com"]["password"] = PLANTED["otp_user_password"]
    users["otp-user@example.com"]["factors"] = [
        {"type": "otp", "secret": PLANTED["totp_seed"]},
        {"type": "recovery-code", "code": PLANTED["seeded_recovery_code"]}]
    tenant.update(top_level)
    path.write_text(yaml.safe_dump(tenant))
    return path


@pytest.fixture
def emu(tmp_path):
    with Emulator(tenant=planted_tenant(tmp_path / "tenant.yaml")) as running:
        yield running


@pytest.fixture
def client(emu):
    """A client on a fresh user with no factor."""
    fresh = MfaClient(Settings(emulator_url=emu.url))
    fresh.use_fresh_user()
    return fresh


def mfa_required(client: MfaClient, **login) -> MfaRequired:
    with pytest.raises(MfaRequired) as caught:
        client.login(**login)
    return caught.value


def browser_login(request: AuthorizeRequest, username: str, password: str, otp: str | None = None) -> str:
    """Play the browser on the emulator's login page; returns the code sent to the redirect_uri."""
    browser = requests.Session()
    page = browser.get(request.url, timeout=10)
    login_id = re.search(r'name="login" value="([^"]+)"', page.text).group(1)
    answer = browser.post(urljoin(request.url, "/u/login"), allow_redirects=False, timeout=10,
                          data={"login": login_id, "username": username, "password": password, "otp": otp or ""})
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == [request.state]
    return query["code"][0]
