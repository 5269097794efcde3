"""The OTP flow end to end over HTTP: password grant → 403 mfa_required → associate otp →
mfa-otp grant; then list and delete."""
from __future__ import annotations

import re
import time
from urllib.parse import quote

import jwt
import pyotp
import requests

from mfa_helpers import protocol

from conftest import error_of


def test_first_login_requires_enrollment(wire, fresh_user):
    response = wire.login(fresh_user)
    body = response.json()
    assert response.status_code == 403
    assert body["error"] == "mfa_required"
    assert body["error_description"] == protocol.ERRORS["mfa_required"].description
    assert body["mfa_token"].startswith("Fe26.2*") and len(body["mfa_token"]) > 700
    assert "challenge" not in body["mfa_requirements"]
    assert {"type": "otp"} in body["mfa_requirements"]["enroll"]


def test_otp_enrollment_confirms_and_issues_tokens(wire, fresh_user, emulator):
    mfa_token = wire.mfa_token(fresh_user, scope="openid profile")
    enrolled = wire.associate(mfa_token, authenticator_types=["otp"])
    body = enrolled.json()
    assert enrolled.status_code == 200
    assert body["authenticator_type"] == "otp"
    assert re.fullmatch(r"[A-Z2-7]{32}", body["secret"])
    name = quote(emulator.tenant.name, safe="")
    assert body["barcode_uri"] == (
        f"otpauth://totp/{name}:{quote(fresh_user['username'], safe='')}?secret={body['secret']}"
        f"&issuer={name}&algorithm=SHA1&digits=6&period=30")
    assert len(body["recovery_codes"]) == 1 and re.fullmatch(r"[A-Z0-9]{24}", body["recovery_codes"][0])

    listed = wire.authenticators(mfa_token).json()
    assert [a["active"] for a in listed] == [False, False]  # inactive until confirmed

    tokens = wire.otp_grant(mfa_token, pyotp.TOTP(body["secret"]).now())
    assert tokens.status_code == 200, tokens.text
    answer = tokens.json()
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 86400
    assert answer["scope"] == "openid profile"
    claims = jwt.decode(answer["id_token"], options={"verify_signature": False})
    assert claims["amr"] == ["mfa"] and claims["aud"] == wire.client["client_id"]


def test_next_login_challenges_the_active_factor(wire, fresh_user):
    enrolled = wire.enroll_otp(fresh_user)
    response = wire.login(fresh_user)
    assert response.json()["mfa_requirements"] == {"challenge": [{"type": "otp"}, {"type": "recovery-code"}]}
    mfa_token = response.json()["mfa_token"]
    challenge = wire.post("/mfa/challenge", json={**wire.client, "mfa_token": mfa_token,
                                                   "challenge_type": "otp"})
    assert challenge.status_code == 200 and challenge.json() == {"challenge_type": "otp"}
    totp = pyotp.TOTP(enrolled["secret"])
    # the enrollment already used the current step: the next step's code is inside the ±1 window
    assert wire.otp_grant(mfa_token, totp.at(time.time() + 30)).status_code == 200


def test_list_and_delete_with_percent_encoded_id(wire, fresh_user):
    access = wire.mfa_api_token(fresh_user)
    listed = wire.authenticators(access)
    assert listed.status_code == 200
    otp = next(a for a in listed.json() if a["authenticator_type"] == "otp")
    assert re.fullmatch(r"totp\|dev_[A-Za-z0-9]{16}", otp["id"]) and otp["active"] is True
    assert set(otp) == {"id", "authenticator_type", "active", "type"}
    url = f"{wire.url}/mfa/authenticators/{quote(otp['id'], safe='')}"
    assert "%7C" in url
    deleted = requests.delete(url, headers={"Authorization": f"Bearer {access}"}, timeout=10)
    assert deleted.status_code == 204 and deleted.content == b""
    again = requests.delete(url, headers={"Authorization": f"Bearer {access}"}, timeout=10)
    assert error_of(again, "authenticator_not_found")
    # the last factor gone, the recovery code goes with it: the next login asks to enroll again
    assert wire.authenticators(access).json() == []
    assert "enroll" in wire.login(fresh_user).json()["mfa_requirements"]


def test_code_is_not_accepted_twice(wire, fresh_user):
    enrolled = wire.enroll_otp(fresh_user)
    # the very code that confirmed the enrollment, still inside the ±1 step window
    assert error_of(wire.otp_grant(wire.mfa_token(fresh_user), enrolled["otp"]), "otp_reused")


def test_wrong_code_and_window(wire, fresh_user):
    enrolled = wire.enroll_otp(fresh_user)
    totp = pyotp.TOTP(enrolled["secret"])
    mfa_token = wire.mfa_token(fresh_user)
    assert error_of(wire.otp_grant(mfa_token, totp.at(time.time() + 90)), "invalid_otp")  # 3 steps ahead
    assert error_of(wire.otp_grant(mfa_token, "12345a"), "invalid_otp")
    assert wire.otp_grant(mfa_token, totp.at(time.time() + 30)).status_code == 200


def test_mfa_token_reuse_after_success(wire, fresh_user):
    enrolled = wire.enroll_otp(fresh_user)
    assert error_of(wire.otp_grant(enrolled["mfa_token"], "000000"), "mfa_token_reused")


def test_already_enrolled_with_a_plain_mfa_token(wire, fresh_user):
    wire.enroll_otp(fresh_user)
    assert error_of(wire.associate(wire.mfa_token(fresh_user), authenticator_types=["otp"]),
                    "already_enrolled")
