"""Finding the target (environment, running emulator, embedded emulator, tenant) and living with
Auth0's rate limit (a tenant file with a tiny limit, over HTTP)."""
import socket

import pytest
from client_support import emu, planted_tenant  # noqa: F401

import mfa_helpers.client as client_module
from mfa_helpers import Auth0Error, ConfigurationError, KitError, MfaClient, RateLimited, Session, Settings
from mfa_helpers.emulator import Emulator


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No AUTH0_* / MFA_KIT_* variable and no .env: what a fresh clone sees."""
    monkeypatch.chdir(tmp_path)
    for name in ("AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "AUTH0_USERNAME", "AUTH0_PASSWORD",
                 "MFA_KIT_EMULATOR_URL", "AUTH0_USE_CUSTOM_DOMAIN"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_connect_uses_the_emulator_named_by_mfa_kit_emulator_url(emu, clean_env):
    clean_env.setenv("MFA_KIT_EMULATOR_URL", emu.url)
    client = MfaClient.connect()
    assert client.settings.target == "emulator" and client.base_url == emu.url
    assert client.settings.client_id == "mfa-kit-demo-app" and client.emulator.health()
    assert client.mfa_audience == "https://mfa-kit-demo.us.auth0.com/mfa/"
    first, second = client.use_fresh_user(), client.use_fresh_user()
    assert first != second and client.settings.username == second
    assert client.settings.password not in f"{first}{second}{client!r}"


def test_connect_starts_one_embedded_emulator_when_none_answers(clean_env):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{closed.getsockname()[1]}"
    clean_env.setattr(client_module, "EMULATOR_URL", nobody)
    client = MfaClient.connect()
    assert client.base_url != nobody and client.emulator.health()
    assert MfaClient.connect().base_url == client.base_url  # kept alive and shared for the process


def test_a_running_emulator_on_the_default_address_is_found(clean_env):
    with Emulator() as running:
        clean_env.setattr(client_module, "EMULATOR_URL", running.url)
        clean_env.setattr(client_module, "_embedded", None)
        assert MfaClient.connect().base_url == running.url


def test_clients_can_share_one_session_even_an_empty_one(emu):
    shared = Session()
    first = MfaClient(Settings(emulator_url=emu.url), session=shared)
    second = MfaClient(first.settings.with_(use_custom_domain=True), session=shared)
    with pytest.raises(Auth0Error):
        first.login(password="wrong")
    with pytest.raises(Auth0Error):
        second.login(password="wrong")
    assert first.session is second.session is shared and len(shared) == 2


def test_tenant_target_needs_no_emulator_and_refuses_emulator_only_helpers():
    client = MfaClient(Settings(domain="mfa-kit-demo.us.auth0.com", custom_domain="login.example.com",
                                client_id="cid"), use_custom_domain=True)
    assert client.emulator is None and client.base_url == "https://login.example.com"
    assert client.mfa_audience == "https://mfa-kit-demo.us.auth0.com/mfa/"
    with pytest.raises(KitError, match="AUTH0_USERNAME"):
        client.use_fresh_user()
    with pytest.raises(ConfigurationError, match="AUTH0_CUSTOM_DOMAIN"):
        MfaClient(Settings(domain="t.us.auth0.com"), use_custom_domain=True)
    with pytest.raises(ConfigurationError, match="AUTH0_CLIENT_ID"):
        MfaClient(Settings(domain="t.us.auth0.com"))


@pytest.fixture
def limited(tmp_path):
    """Two requests per endpoint, one back every second."""
    with Emulator(tenant=planted_tenant(tmp_path / "t.yaml", rate_limit={"requests": 2, "per_seconds": 2})) as running:
        yield running


def _exhaust(url: str) -> RateLimited:
    client = MfaClient(Settings(emulator_url=url))
    for _ in range(2):
        with pytest.raises(Auth0Error) as wrong:
            client.login(password="wrong")
        assert wrong.value.is_("wrong_password")
    with pytest.raises(RateLimited) as caught:
        client.login(password="wrong")
    return caught.value


def test_429_is_rate_limited_with_reset_at_from_the_headers(limited):
    error = _exhaust(limited.url)
    assert error.is_("rate_limited") and error.remaining == 0 and error.limit == 2
    assert error.reset_at is not None and 0 < error.seconds_to_wait() <= 3
    assert "retry_on_429" in str(error)


def test_retry_on_429_waits_until_the_reset_then_gets_the_real_answer(limited):
    reset_at = _exhaust(limited.url).reset_at
    client = MfaClient(Settings(emulator_url=limited.url), retry_on_429=3)
    with pytest.raises(Auth0Error) as answered:
        client.login(password="wrong")
    assert answered.value.is_("wrong_password")
    statuses = [e.status for e in client.session.exchanges]
    assert statuses[0] == 429 and statuses[-1] == 403 and len(statuses) <= 4
    assert client.session.exchanges[1].started >= reset_at


def test_retry_is_bounded_by_max_retry_wait(limited):
    _exhaust(limited.url)
    client = MfaClient(Settings(emulator_url=limited.url), retry_on_429=3, max_retry_wait=0.2)
    with pytest.raises(RateLimited):
        client.login(password="wrong")
    assert len(client.session) == 1
