"""The leak scan: plant secrets, run every flow, and look for any secret in every output path
(curl, HAR, reprs, notebook HTML, logs). Secrets are matched as whole words."""
import logging
import re

import pytest
from client_support import MFA_SCOPE, PLANTED, browser_login, emu, mfa_required  # noqa: F401

from mfa_helpers import (Auth0Error, MfaClient, Settings, VirtualAuthenticator, decode_token, display, redact)


def _run_every_flow(client: MfaClient) -> list:
    """Drive otp, recovery, sms, push, refresh and PKCE; return every object a notebook might show."""
    shown = []
    required = mfa_required(client, scope="openid profile email offline_access")  # learner: planted password
    enrollment = client.associate(required.mfa_token)
    authenticator = VirtualAuthenticator.from_enrollment(enrollment)
    tokens = client.confirm_otp(required.mfa_token, authenticator.code())
    shown += [required, authenticator, decode_token(tokens["id_token"]), decode_token(tokens["access_token"])]
    with pytest.raises(Auth0Error) as wrong:
        client.confirm_otp(mfa_required(client).mfa_token, "000000")
    shown.append(wrong.value)
    required = mfa_required(client, audience=client.mfa_audience, scope=MFA_SCOPE)
    recovered = client.confirm_recovery_code(required.mfa_token, enrollment["recovery_codes"][0])
    client.refresh(tokens["refresh_token"])
    shown.append(display.authenticators_table(client.list_authenticators(recovered["access_token"])))

    seeded = MfaClient(Settings(emulator_url=client.base_url, username="otp-user@example.com",
                                password=PLANTED["otp_user_password"]), session=client.session)
    seeded.confirm_recovery_code(mfa_required(seeded).mfa_token, PLANTED["seeded_recovery_code"])

    client.use_fresh_user()
    required = mfa_required(client)
    sms = client.associate(required.mfa_token, ["oob"], oob_channels=["sms"], phone_number="+15555550188")
    code = client.emulator.latest_message(to="+15555550188")["binding_code"]
    client.confirm_oob(required.mfa_token, sms["oob_code"], code)

    client.use_fresh_user()
    required = mfa_required(client)
    push = client.associate(required.mfa_token, ["oob"], oob_channels=["auth0"])
    client.emulator.approve_push(client.emulator.latest_message(channel="auth0")["transaction"])
    client.poll_oob(required.mfa_token, push["oob_code"], interval=0.2)

    client.use_fresh_user()
    request = client.authorize_url("http://localhost:9/cb", audience=client.mfa_audience, scope=MFA_SCOPE)
    client.exchange_code(browser_login(request, client.settings.username, client.settings.password), request)
    shown += [request, client, client.settings, seeded]
    return shown


def _needles(client: MfaClient) -> set[str]:
    found = client.session.known_secrets() | set(PLANTED.values())
    signatures = {s.rsplit(".", 1)[1] for s in found if redact.JWT_RE.fullmatch(s)}
    return found | signatures


def test_no_secret_reaches_curl_har_reprs_html_or_logs(emu, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="mfa_helpers")
    client = MfaClient(Settings(emulator_url=emu.url))
    shown = _run_every_flow(client)
    session = client.session
    values = {e.request_data.get(k) for e in session.exchanges
              for k in ("otp", "binding_code", "recovery_code", "code", "code_verifier", "password", "client_secret")}
    values |= {e.response_json.get(k) if isinstance(e.response_json, dict) else None for e in session.exchanges
               for k in ("mfa_token", "secret", "barcode_uri", "oob_code", "access_token", "id_token", "refresh_token")}
    values.discard(None)
    secrets = _needles(client)
    assert values <= secrets and {PLANTED["password"], PLANTED["client_secret"]} <= secrets  # the scan knows them
    assert len(values) > 25

    outputs = {
        "curl": "\n".join(e.to_curl() for e in session.exchanges),
        "har": session.to_har(tmp_path / "session.har").read_text(),
        "reprs": "\n".join([repr(session), *map(repr, session.exchanges), *map(repr, shown), *map(str, shown)]),
        "html": display.session_html(session) + "".join(
            getattr(o, "_repr_html_", lambda: "")() or "" for o in [*shown, *session.exchanges]),
        "logs": caplog.text,
    }
    assert "mfa_required" in outputs["logs"] and "POST" in outputs["har"]  # the outputs are not empty
    for name, text in outputs.items():
        leaked = [s[:12] for s in secrets if re.search(redact.secret_pattern(s), text)]
        assert not leaked, f"secrets (first characters shown) leaked into {name}: {leaked}"
        assert "learner@example.com" not in text and "+15555550188" not in text
