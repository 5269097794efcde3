"""OOB factors over HTTP: sms, voice, email (binding codes in the outbox) and push (approve/reject
through /emulator/push), with authorization_pending, slow_down and expiry."""
from __future__ import annotations

import re

import pytest

from mfa_helpers import protocol

from conftest import error_of

PHONE = "+15551234567"


def oob_grant(wire, mfa_token, oob_code, binding_code=None):
    fields = {"grant_type": protocol.GRANT_MFA_OOB, "mfa_token": mfa_token, "oob_code": oob_code}
    if binding_code is not None:
        fields["binding_code"] = binding_code
    return wire.token(**fields)


@pytest.mark.parametrize("channel, extra, to, name", [
    ("sms", {"phone_number": PHONE}, PHONE, "XXXXXXXX4567"),
    ("voice", {"phone_number": PHONE}, PHONE, "XXXXXXXX4567"),
    ("email", {"email": "test@example.com"}, "test@example.com", "****@exam*******"),
])
def test_binding_code_enrollment(wire, control, fresh_user, channel, extra, to, name):
    mfa_token = wire.mfa_token(fresh_user)
    response = wire.associate(mfa_token, authenticator_types=["oob"], oob_channels=[channel], **extra)
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"authenticator_type", "oob_channel", "oob_code", "binding_method", "recovery_codes"}
    assert body["oob_channel"] == channel and body["binding_method"] == "prompt"
    assert body["oob_code"].startswith("Fe26.2*")
    message = control.latest_message(to=to)
    assert message["channel"] == channel and message["username"] == fresh_user["username"]
    assert re.fullmatch(r"\d{6}", message["binding_code"]) and message["transaction"] is None

    assert error_of(oob_grant(wire, mfa_token, body["oob_code"]), "authorization_pending")
    wrong = "000000" if message["binding_code"] != "000000" else "111111"
    assert error_of(oob_grant(wire, mfa_token, body["oob_code"], wrong), "invalid_binding_code")
    ok = oob_grant(wire, mfa_token, body["oob_code"], message["binding_code"])
    assert ok.status_code == 200, ok.text
    listed = wire.authenticators(wire.mfa_token(fresh_user)).json()
    factor = next(a for a in listed if a["authenticator_type"] == "oob")
    assert factor == {"id": factor["id"], "authenticator_type": "oob", "active": True,
                      "oob_channel": channel, "name": name,
                      "type": "email" if channel == "email" else "phone"}
    prefix = {"sms": "sms", "voice": "voice", "email": "email"}[channel]
    assert re.fullmatch(rf"{prefix}\|dev_[A-Za-z0-9]{{16}}", factor["id"])


def test_push_enrollment_approved_then_a_challenge_rejected(wire, control, fresh_user, emulator):
    mfa_token = wire.mfa_token(fresh_user)
    body = wire.associate(mfa_token, authenticator_types=["oob"], oob_channels=["auth0"]).json()
    assert set(body) == {"authenticator_type", "oob_channel", "oob_code", "barcode_uri", "recovery_codes"}
    message = control.latest_message(channel="auth0")
    assert message["binding_code"] is None and message["transaction"]
    assert body["barcode_uri"].startswith("otpauth://totp/MFA%20Kit%20Demo:")
    assert f"enrollment_tx_id={message['transaction']}&base_url=https%3A%2F%2F" in body["barcode_uri"]
    assert error_of(oob_grant(wire, mfa_token, body["oob_code"]), "authorization_pending")
    assert control.approve_push(message["transaction"]) == {"transaction": message["transaction"],
                                                            "state": "approved"}
    assert oob_grant(wire, mfa_token, body["oob_code"]).status_code == 200

    login = wire.login(fresh_user).json()
    assert login["mfa_requirements"]["challenge"][0] == {"type": "push-notification"}
    challenge = wire.post("/mfa/challenge", data={**wire.client, "mfa_token": login["mfa_token"],
                                                   "challenge_type": "oob"})
    assert challenge.status_code == 200
    assert set(challenge.json()) == {"challenge_type", "oob_code"}   # no binding_method for push
    tx = control.latest_message(channel="auth0")["transaction"]
    control.reject_push(tx)
    assert error_of(oob_grant(wire, login["mfa_token"], challenge.json()["oob_code"]), "push_rejected")
    unknown = wire.post("/emulator/push/nope/approve")
    assert error_of(unknown, "emulator_unknown_transaction", transaction="nope")


def test_seeded_sms_user_challenge(wire, control, emulator):
    user = next(u for u in emulator.tenant.users if any(f.type == "sms" for f in u.factors))
    login = wire.login({"username": user.username, "password": user.password}).json()
    assert login["mfa_requirements"] == {"challenge": [{"type": "phone"}, {"type": "recovery-code"}]}
    challenge = wire.post("/mfa/challenge", json={**wire.client, "mfa_token": login["mfa_token"],
                                                   "challenge_type": "oob"}).json()
    assert challenge["challenge_type"] == "oob" and challenge["binding_method"] == "prompt"
    code = control.latest_message(to=user.factors[0].phone_number)["binding_code"]
    assert oob_grant(wire, login["mfa_token"], challenge["oob_code"], code).status_code == 200


def test_slow_down_when_polling_faster_than_12_per_minute(wire, control, fresh_user):
    mfa_token = wire.mfa_token(fresh_user)
    body = wire.associate(mfa_token, authenticator_types=["oob"], oob_channels=["auth0"]).json()
    answers = [oob_grant(wire, mfa_token, body["oob_code"]) for _ in range(13)]
    assert all(error_of(a, "authorization_pending") for a in answers[:12])
    assert error_of(answers[12], "slow_down")
    control.advance_clock(5)   # one poll back every 5 s
    assert error_of(oob_grant(wire, mfa_token, body["oob_code"]), "authorization_pending")
    assert error_of(oob_grant(wire, mfa_token, body["oob_code"]), "slow_down")


def test_oob_code_expires_after_5_minutes(wire, control, fresh_user):
    mfa_token = wire.mfa_token(fresh_user)
    body = wire.associate(mfa_token, authenticator_types=["oob"], oob_channels=["sms"],
                          phone_number=PHONE).json()
    code = control.latest_message(to=PHONE)["binding_code"]
    control.advance_clock(301)
    assert error_of(oob_grant(wire, mfa_token, body["oob_code"], code), "expired_oob_code")


def test_challenge_for_a_type_the_user_lacks(wire, fresh_user):
    wire.enroll_otp(fresh_user)
    mfa_token = wire.mfa_token(fresh_user)
    response = wire.post("/mfa/challenge", data={**wire.client, "mfa_token": mfa_token,
                                                  "challenge_type": "oob"})
    assert error_of(response, "unsupported_challenge_type", types="oob")


def test_oob_code_of_another_mfa_token_is_refused(wire, control, fresh_user):
    first = wire.mfa_token(fresh_user)
    body = wire.associate(first, authenticator_types=["oob"], oob_channels=["sms"],
                          phone_number=PHONE).json()
    code = control.latest_message(to=PHONE)["binding_code"]
    assert error_of(oob_grant(wire, wire.mfa_token(fresh_user), body["oob_code"], code), "invalid_oob_code")
