"""Settings: environment first, `.env` fills gaps, the emulator when no tenant is named, no secret in reprs."""
from mfa_helpers.settings import Settings


def test_environment_wins_over_dotenv_and_dotenv_fills_the_gaps(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("AUTH0_DOMAIN=from-file.eu.auth0.com\nAUTH0_CLIENT_ID=file-client\nAUTH0_REALM=db-conn\n")
    settings = Settings.from_env({"AUTH0_DOMAIN": "https://real.us.auth0.com/"}, dotenv=dotenv)
    assert settings.domain == "real.us.auth0.com"
    assert settings.client_id == "file-client" and settings.realm == "db-conn"
    assert settings.target == "tenant"


def test_no_domain_means_the_emulator_and_its_setting_is_named_in_errors():
    settings = Settings.from_env({"MFA_KIT_EMULATOR_URL": "http://127.0.0.1:9999/"}, dotenv="/nonexistent/.env")
    assert settings.target == "emulator" and settings.emulator_url == "http://127.0.0.1:9999"
    assert settings.address_setting == "MFA_KIT_EMULATOR_URL"
    assert Settings.from_env({}, dotenv="/nonexistent/.env").target == "emulator"


def test_a_named_tenant_wins_over_an_emulator_address():
    settings = Settings.from_env({"AUTH0_DOMAIN": "t.us.auth0.com", "MFA_KIT_EMULATOR_URL": "http://x"},
                                 dotenv="/nonexistent/.env")
    assert settings.target == "tenant" and settings.emulator_url is None


def test_custom_domain_flag_changes_where_requests_go_and_the_setting_to_check():
    env = {"AUTH0_DOMAIN": "t.us.auth0.com", "AUTH0_CUSTOM_DOMAIN": "login.example.com",
           "AUTH0_USE_CUSTOM_DOMAIN": "true", "MFA_KIT_TIMEOUT": "2.5"}
    settings = Settings.from_env(env, dotenv="/nonexistent/.env")
    assert settings.request_domain == "login.example.com" and settings.address_setting == "AUTH0_CUSTOM_DOMAIN"
    assert settings.with_(use_custom_domain=False).request_domain == "t.us.auth0.com"
    assert settings.timeout == 2.5


def test_repr_masks_the_client_secret_and_password():
    settings = Settings(domain="t.us.auth0.com", client_id="cid", client_secret="S3cr3t-client", password="pw-Pl4nted")
    for text in (repr(settings), str(settings), f"{settings}"):
        assert "S3cr3t-client" not in text and "pw-Pl4nted" not in text and "cid" in text
    assert settings.secrets() == ("S3cr3t-client", "pw-Pl4nted")
