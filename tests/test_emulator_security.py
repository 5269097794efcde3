"""Auth0's documented security model and the seeds' thread, over HTTP: token lifetimes, companion
factors, the custom-domain lookalike API, mfa_requirements, /mfa/challenge's client_id, the
recorded Content-Types and the enrollment cap. Facts: ../shared/reference/auth0-mfa-api.md."""
from __future__ import annotations

import json
from pathlib import Path

import jwt
import pyotp
import pytest
import requests

from mfa_helpers import MfaClient, Settings, protocol
from mfa_helpers.walkthrough import REDIRECT_URI

from client_support import browser_login
from conftest import error_of

PHONE = "+15557654321"
MFA_SCOPE = " ".join(protocol.MFA_SCOPES)
RECORDINGS = Path(__file__).resolve().parents[1] / ".." / "shared" / "conformance" / "recorded-mfa-exchanges.json"


def _delete(wire, bearer: str, authenticator_id: str) -> requests.Response:
    return wire.http.delete(f"{wire.url}/mfa/authenticators/{authenticator_id.replace('|', '%7C')}",
                            timeout=10, headers={"Authorization": f"Bearer {bearer}"})


def _confirm_sms(wire, control, mfa_token: str, channel: str = "sms") -> dict:
    """Associate a phone on `channel` and confirm it with the code the outbox received."""
    body = wire.associate(mfa_token, authenticator_types=["oob"], oob_channels=[channel],
                          phone_number=PHONE).json()
    code = control.latest_message(to=PHONE)["binding_code"]
    answer = wire.token(grant_type=protocol.GRANT_MFA_OOB, mfa_token=mfa_token, oob_code=body["oob_code"],
                        binding_code=code)
    assert answer.status_code == 200, answer.text
    return body


def _signed_in(emulator, user: dict, audience: str, scope: str = "openid " + MFA_SCOPE) -> str:
    """An access token through /authorize and the login page (a user with no active factor passes
    on their password), as an app's own settings page gets one: no mfa_required on the way."""
    client = MfaClient(Settings(emulator_url=emulator.url))
    request = client.authorize_url(REDIRECT_URI, audience=audience, scope=scope)
    code = browser_login(request, user["username"], user["password"])
    return client.exchange_code(code, request)["access_token"]


# --- item 3: MFA API access tokens live 10 minutes -------------------------------------------------

def test_mfa_api_access_tokens_live_ten_minutes_others_a_day(wire, fresh_user, control, emulator):
    """[docs] "access tokens with the https://{yourDomain}/mfa/* audience ... 10 minutes. This value
    cannot be configured"; other audiences keep the recordings' 86400."""
    mfa_api = wire.enroll_otp(fresh_user, audience=emulator.tenant.mfa_audience, scope=MFA_SCOPE)["tokens"]
    claims = jwt.decode(mfa_api["access_token"], options={"verify_signature": False})
    assert mfa_api["expires_in"] == protocol.MFA_API_TOKEN_LIFETIME == claims["exp"] - claims["iat"] == 600
    other = wire.enroll_otp(control.create_user(), audience=emulator.tenant.apis[0].identifier)["tokens"]
    assert other["expires_in"] == protocol.ACCESS_TOKEN_LIFETIME == 86400
    assert wire.authenticators(mfa_api["access_token"]).status_code == 200
    control.advance_clock(protocol.MFA_API_TOKEN_LIFETIME)
    assert error_of(wire.authenticators(mfa_api["access_token"]), "invalid_token")


def test_tokens_minted_after_the_clock_moved_are_not_born_expired(wire, fresh_user, control, emulator):
    """The emulator checks access tokens against its own clock, so it mints them on that clock too."""
    control.advance_clock(protocol.MFA_API_TOKEN_LIFETIME * 3)
    token = wire.mfa_api_token(fresh_user)
    assert wire.authenticators(token).status_code == 200


# --- item 4: companion factors ----------------------------------------------------------------------

def test_a_phone_enrollment_lists_sms_and_voice_on_one_device(wire, fresh_user, control):
    """[docs] with sms and voice enabled, enrolling a phone enrolls a number both channels can
    challenge: sms|dev_X and voice|dev_X (one device id), both active once confirmed, and a
    challenge of either works (deleting one deletes the other: test_emulator_picks)."""
    _confirm_sms(wire, control, wire.mfa_token(fresh_user), channel="voice")
    listed = wire.authenticators(wire.mfa_token(fresh_user)).json()
    phones = [a for a in listed if a["authenticator_type"] == "oob"]
    assert [(a["oob_channel"], a["active"], a["name"]) for a in phones] == [
        ("voice", True, "XXXXXXXX4321"), ("sms", True, "XXXXXXXX4321")]
    assert len({a["id"].split("|")[1] for a in phones}) == 1
    login = wire.mfa_token(fresh_user)
    for phone in phones:
        answer = wire.post("/mfa/challenge", json={**wire.client, "mfa_token": login, "challenge_type": "oob",
                                                   "authenticator_id": phone["id"]})
        assert answer.status_code == 200, answer.text
        assert control.latest_message(to=PHONE)["channel"] == phone["oob_channel"]


def test_push_enrollment_also_enrolls_otp_and_deleting_one_deletes_both(wire, fresh_user, control, emulator):
    """[docs] "When you enroll a Push authenticator, Auth0 also enrolls an OTP one. If you delete
    any of them, the other one will be also deleted." """
    mfa_token = wire.mfa_token(fresh_user)
    body = wire.associate(mfa_token, authenticator_types=["oob"], oob_channels=["auth0"]).json()
    pending = wire.authenticators(mfa_token).json()
    assert [(a["authenticator_type"], a["active"]) for a in pending] == [
        ("oob", False), ("otp", False), ("recovery-code", False)]
    control.approve_push(control.latest_message(channel="auth0")["transaction"])
    assert wire.token(grant_type=protocol.GRANT_MFA_OOB, mfa_token=mfa_token,
                      oob_code=body["oob_code"]).status_code == 200
    recovery = body["recovery_codes"][0]
    required = wire.login(fresh_user, audience=emulator.tenant.mfa_audience, scope=MFA_SCOPE).json()
    assert required["mfa_requirements"] == {"challenge": [{"type": "push-notification"}, {"type": "otp"},
                                                          {"type": "recovery-code"}]}
    tokens = wire.token(grant_type=protocol.GRANT_MFA_RECOVERY_CODE, mfa_token=required["mfa_token"],
                        recovery_code=recovery).json()
    access = tokens["access_token"]
    listed = wire.authenticators(access).json()
    push, otp = (next(a for a in listed if a["id"].startswith(prefix)) for prefix in ("push|", "totp|"))
    assert push["id"].split("|")[1] == otp["id"].split("|")[1] and otp["active"] and push["active"]
    assert _delete(wire, access, otp["id"]).status_code == 204
    assert [a["authenticator_type"] for a in wire.authenticators(access).json()] == []
    assert error_of(_delete(wire, access, push["id"]), "authenticator_not_found")


# --- item 5: the seeds' thread, as told --------------------------------------------------------------

def test_the_lookalike_api_token_works_on_the_mfa_api_and_fails_only_at_the_confirm(emulator, control, wire):
    """[seeds] a token for the API the user created, https://CUSTOM_DOMAIN/mfa: /mfa/associate
    answers secret and barcode_uri, GET /mfa/authenticators lists the pending factor, and only the
    mfa-otp grant refuses it: 403 invalid_grant `invalid audience`. Expired, the same token
    answers as an expired mfa_token (the thread's red herring)."""
    lookalike = emulator.tenant.apis[0].identifier
    assert lookalike == f"https://{emulator.tenant.custom_domain}/mfa"
    user = control.create_user()
    token = _signed_in(emulator, user, lookalike)
    enrolled = wire.associate(token, authenticator_types=["otp"])
    assert enrolled.status_code == 200 and {"secret", "barcode_uri"} <= set(enrolled.json())
    listed = wire.authenticators(token)
    assert listed.status_code == 200 and listed.json()[0]["active"] is False
    code = pyotp.TOTP(enrolled.json()["secret"]).now()
    assert error_of(wire.otp_grant(token, code), "invalid_audience")
    control.advance_clock(protocol.ACCESS_TOKEN_LIFETIME + 1)
    assert error_of(wire.otp_grant(token, code), "expired_mfa_token")


def test_the_mfa_api_audience_confirms_what_the_lookalike_token_enrolled(emulator, control, wire):
    """The fix in the thread: a token for https://CANONICAL/mfa/ confirms the same pending factor."""
    user = control.create_user()
    enrolled = wire.associate(_signed_in(emulator, user, emulator.tenant.apis[0].identifier),
                              authenticator_types=["otp"]).json()
    token = _signed_in(emulator, user, emulator.tenant.mfa_audience)
    confirmed = wire.otp_grant(token, pyotp.TOTP(enrolled["secret"]).now())
    assert confirmed.status_code == 200, confirmed.text


# --- item 6: mfa_requirements as seed 001 shows it ----------------------------------------------------

def test_mfa_requirements_follow_the_docs_example(wire, fresh_user):
    """[docs] seed 001 (Customize MFA): `challenge` lists recovery-code; email "can only work with
    challenge", so `enroll` never lists it."""
    first = wire.login(fresh_user).json()["mfa_requirements"]
    assert "email" not in {r["type"] for r in first["enroll"]} and "challenge" not in first
    wire.enroll_otp(fresh_user)
    assert wire.login(fresh_user).json()["mfa_requirements"] == {
        "challenge": [{"type": "otp"}, {"type": "recovery-code"}]}


# --- item 7: the smaller ones ---------------------------------------------------------------------------

def test_challenge_requires_client_id(wire, fresh_user):
    """[docs] /mfa/challenge: client_id is required."""
    wire.enroll_otp(fresh_user)
    login = wire.mfa_token(fresh_user)
    answer = wire.post("/mfa/challenge", json={"mfa_token": login, "challenge_type": "otp"})
    assert error_of(answer, "missing_parameter", name="client_id")
    ok = wire.post("/mfa/challenge", json={"client_id": wire.client["client_id"], "mfa_token": login,
                                           "challenge_type": "otp"})
    assert ok.json() == {"challenge_type": "otp"}


def _recorded_content_types() -> dict[tuple[str, str, int], str]:
    if not RECORDINGS.exists():
        pytest.skip("../shared/conformance is absent")
    found = {}
    for ex in json.loads(RECORDINGS.read_text()):
        if ex["fidelity"].startswith("recorded") and ex["response"].get("headers"):
            path = "/mfa/authenticators/{id}" if ex["method"] == "DELETE" else ex["path"]
            key = (ex["method"], path, ex["status"])
            found[key] = ex["response"]["headers"]["Content-Type"]
    return found


def test_content_types_are_the_recorded_ones(wire, fresh_user, control, emulator):
    """[rec] /mfa/* answers say `application/json; charset=utf-8`, as does the 403 mfa_required;
    other /oauth/token answers `application/json`; DELETE's empty 204 still names application/json."""
    recorded = _recorded_content_types()
    required = wire.login(fresh_user, audience=emulator.tenant.mfa_audience, scope=MFA_SCOPE)
    mfa_token = required.json()["mfa_token"]
    enrolled = wire.associate(mfa_token, authenticator_types=["otp"])
    listed = wire.authenticators(mfa_token)
    confirmed = wire.otp_grant(mfa_token, pyotp.TOTP(enrolled.json()["secret"]).now())
    access = confirmed.json()["access_token"]
    challenge = wire.post("/mfa/challenge", json={**wire.client, "mfa_token": wire.mfa_token(fresh_user),
                                                  "challenge_type": "otp"})
    pending = wire.post("/oauth/token", data={**wire.client, "grant_type": protocol.GRANT_MFA_OOB,
                                              "mfa_token": wire.mfa_token(fresh_user), "oob_code": "x"})
    totp_id = next(a["id"] for a in listed.json() if a["authenticator_type"] == "otp")
    deleted = _delete(wire, access, totp_id)
    got = {("POST", "/oauth/token", 403): required, ("POST", "/mfa/associate", 200): enrolled,
           ("GET", "/mfa/authenticators", 200): listed, ("POST", "/oauth/token", 200): confirmed,
           ("POST", "/mfa/challenge", 200): challenge, ("DELETE", "/mfa/authenticators/{id}", 204): deleted}
    for key, response in got.items():
        assert response.status_code == key[2], (key, response.text)
        assert response.headers["content-type"] == recorded[key], key
    assert pending.headers["content-type"] == recorded[("POST", "/oauth/token", 400)] == protocol.JSON
    assert deleted.content == b""
