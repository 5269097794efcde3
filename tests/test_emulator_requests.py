"""What real SDKs send and what goes wrong: body formats, bad bodies, bearer and scope errors,
mfa_token lifetime, wrong-code lockout and the general rate limit. No request may yield a 500."""
from __future__ import annotations

import time

import pyotp
import pytest
import requests

from mfa_helpers import protocol
from mfa_helpers.emulator import Emulator
from mfa_helpers.emulator.tenant import DEMO_TENANT

from conftest import error_of


@pytest.mark.parametrize("types, key, value", [
    (["opt"], "invalid_authenticator_type", "opt"),
    (["otp", "push"], "invalid_authenticator_type", "push"),
])
def test_unknown_authenticator_types(wire, fresh_user, types, key, value):
    assert error_of(wire.associate(wire.mfa_token(fresh_user), authenticator_types=types), key, value=value)


def test_unknown_oob_channel_and_challenge_type(wire, fresh_user):
    mfa_token = wire.mfa_token(fresh_user)
    assert error_of(wire.associate(mfa_token, authenticator_types=["oob"], oob_channels=["smss"]),
                    "invalid_oob_channel", value="smss")
    response = wire.post("/mfa/challenge", json={**wire.client, "mfa_token": mfa_token,
                                                  "challenge_type": "push"})
    assert error_of(response, "invalid_challenge_type", value="push")
    assert error_of(wire.associate(mfa_token), "missing_parameter", name="authenticator_types")


def test_recorded_request_shapes_are_accepted(wire, fresh_user):
    """Shapes from the recordings: client_id/secret in the associate body, form-encoded grants,
    JSON challenges with authenticator_id."""
    mfa_token = wire.mfa_token(fresh_user)
    associated = wire.associate(mfa_token, authenticator_types=["otp"], **wire.client)
    assert associated.status_code == 200
    secret = associated.json()["secret"]
    assert wire.otp_grant(mfa_token, pyotp.TOTP(secret).now()).status_code == 200
    listed = wire.authenticators(wire.mfa_token(fresh_user)).json()
    otp_id = next(a["id"] for a in listed if a["authenticator_type"] == "otp")
    response = wire.post("/mfa/challenge", json={
        "authenticator_id": otp_id, "challenge_type": "otp", **wire.client,
        "mfa_token": wire.mfa_token(fresh_user)})
    assert response.json() == {"challenge_type": "otp"}


@pytest.mark.parametrize("kwargs, reason", [
    ({"data": b"{not json", "headers": {"Content-Type": "application/json"}}, "not valid JSON"),
    ({"data": b"[1, 2]", "headers": {"Content-Type": "application/json"}}, "expected a JSON object"),
    ({"data": b"\xff\xfe=\x00", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, "UTF-8"),
    ({"data": b"<xml/>", "headers": {"Content-Type": "application/xml"}}, "unsupported content type"),
    ({"json": {"grant_type": ["password"], "client_id": "x"}}, "grant_type must be a string"),
])
def test_malformed_bodies_get_400_not_500(wire, kwargs, reason):
    response = wire.post("/oauth/token", **kwargs)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request" and reason in response.json()["error_description"]


def test_no_request_yields_a_500(wire, fresh_user, caplog):
    mfa_token = wire.mfa_token(fresh_user)
    bodies = [None, {}, {"mfa_token": 5}, {"mfa_token": mfa_token, "otp": 123456},
              {"authenticator_types": "otp oob", "oob_channels": {"a": 1}},
              {"authenticator_types": [1, 2]}, {"grant_type": protocol.GRANT_MFA_OOB, "mfa_token": mfa_token,
                                               "oob_code": "x"},
              {"challenge_type": ["otp"], "mfa_token": mfa_token}, {"advance_seconds": "x"}]
    headers = [{}, {"Authorization": "Bearer"}, {"Authorization": f"Bearer {mfa_token}"},
               {"Authorization": "Basic !!!"}, {"Authorization": "Bearer a.b.c"}]
    paths = ["/oauth/token", "/mfa/associate", "/mfa/challenge", "/u/login", "/emulator/users",
             "/emulator/clock"]
    for path in paths:
        for body in bodies:
            for header in headers:
                response = wire.http.post(wire.url + path, json=body, headers=header, timeout=10)
                assert response.status_code < 500, (path, body, header, response.text)
    for path in ["/mfa/authenticators", "/mfa/authenticators/x%7Cy", "/authorize?client_id=%00",
                 "/emulator/outbox?to=%FF"]:
        for method in ("GET", "DELETE"):
            response = wire.http.request(method, wire.url + path, headers=headers[2], timeout=10)
            assert response.status_code < 500, (method, path, response.text)
    assert not [r for r in caplog.records if r.name == "mfa_helpers.emulator"], caplog.text


def test_form_body_on_challenge_and_associate_without_client_id(wire, fresh_user):
    mfa_token = wire.mfa_token(fresh_user)
    assert wire.associate(mfa_token, authenticator_types=["otp"]).status_code == 200
    response = wire.post("/mfa/challenge", data={**wire.client, "mfa_token": mfa_token,
                                                  "challenge_type": "otp", "authenticator_id": ""})
    assert error_of(response, "unsupported_challenge_type", types="otp")   # not confirmed yet


def test_bearer_errors(wire, control, fresh_user):
    assert error_of(wire.http.get(wire.url + "/mfa/authenticators", timeout=10), "invalid_token")
    assert error_of(wire.authenticators("garbage"), "invalid_token")
    assert error_of(wire.authenticators("Fe26.2*forged*token"), "invalid_token")
    mfa_token = wire.mfa_token(fresh_user)
    assert wire.authenticators(mfa_token).status_code == 200
    control.advance_clock(protocol.MFA_TOKEN_LIFETIME + 1)
    assert error_of(wire.authenticators(mfa_token), "invalid_token")


def test_mfa_token_lifetime_and_malformed_tokens_in_grants(wire, control, fresh_user):
    assert error_of(wire.otp_grant("bad", "123456"), "malformed_mfa_token")
    assert error_of(wire.otp_grant("a.b.c", "123456"), "malformed_mfa_token")
    mfa_token = wire.mfa_token(fresh_user)
    control.advance_clock(protocol.MFA_TOKEN_LIFETIME - 5)
    assert error_of(wire.otp_grant(mfa_token, "123456"), "unsupported_challenge_type", types="otp")
    control.advance_clock(10)
    assert error_of(wire.otp_grant(mfa_token, "123456"), "expired_mfa_token")
    assert error_of(wire.token(grant_type=protocol.GRANT_MFA_OTP, otp="123456"), "missing_parameter",
                    name="mfa_token")


def test_expired_access_token_is_invalid(wire, control, fresh_user):
    access = wire.mfa_api_token(fresh_user)
    assert wire.authenticators(access).status_code == 200
    control.advance_clock(protocol.ACCESS_TOKEN_LIFETIME + 1)
    assert error_of(wire.authenticators(access), "invalid_token")
    assert error_of(wire.otp_grant(access, "123456"), "expired_mfa_token")


def test_insufficient_scope(wire, fresh_user):
    access = wire.mfa_api_token(fresh_user, scope=protocol.SCOPE_READ)
    assert wire.authenticators(access).status_code == 200
    assert error_of(wire.associate(access, authenticator_types=["otp"]), "insufficient_scope",
                    scope=protocol.SCOPE_ENROLL)
    deleted = wire.http.delete(wire.url + "/mfa/authenticators/totp%7Cdev_x", timeout=10,
                               headers={"Authorization": f"Bearer {access}"})
    assert error_of(deleted, "insufficient_scope", scope=protocol.SCOPE_REMOVE)
    listing_only = wire.mfa_api_token(_fresh(wire), scope=protocol.SCOPE_ENROLL)
    assert error_of(wire.authenticators(listing_only), "insufficient_scope", scope=protocol.SCOPE_READ)


def _fresh(wire) -> dict:
    return wire.post("/emulator/users", json={}).json()


def test_too_many_attempts_after_10_wrong_codes(wire, control, fresh_user):
    enrolled = wire.enroll_otp(fresh_user)
    mfa_token = wire.mfa_token(fresh_user)
    for _ in range(protocol.OTP_FAILURES_BUCKET):
        assert error_of(wire.otp_grant(mfa_token, "000000" if enrolled["otp"] != "000000" else "111111"),
                        "invalid_otp")
    good = pyotp.TOTP(enrolled["secret"])
    assert error_of(wire.otp_grant(mfa_token, good.at(time.time() + 30)), "too_many_attempts")
    control.advance_clock(protocol.OTP_FAILURE_REFILL)   # one attempt back
    assert wire.otp_grant(mfa_token, good.at(time.time() + 30)).status_code == 200


def test_recovery_codes_single_use_and_rotated(wire, fresh_user):
    enrolled = wire.enroll_otp(fresh_user)
    first = enrolled["recovery_codes"][0]
    mfa_token = wire.mfa_token(fresh_user)
    used = wire.token(grant_type=protocol.GRANT_MFA_RECOVERY_CODE, mfa_token=mfa_token, recovery_code=first)
    assert used.status_code == 200
    fresh = used.json()["recovery_code"]
    assert fresh != first and len(fresh) == protocol.RECOVERY_CODE_LENGTH and fresh.isalnum()
    again = wire.token(grant_type=protocol.GRANT_MFA_RECOVERY_CODE, mfa_token=wire.mfa_token(fresh_user),
                       recovery_code=first)
    assert error_of(again, "invalid_recovery_code")
    rotated = wire.token(grant_type=protocol.GRANT_MFA_RECOVERY_CODE, mfa_token=wire.mfa_token(fresh_user),
                         recovery_code=fresh)
    assert rotated.status_code == 200


def test_general_rate_limit(tmp_path):
    text = DEMO_TENANT.read_text().replace("requests: 600", "requests: 3")
    tenant = tmp_path / "tenant.yaml"
    tenant.write_text(text)
    with Emulator(tenant=tenant) as emu:
        answers = [requests.get(emu.url + "/.well-known/jwks.json", timeout=10) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
        assert all(a.headers["x-ratelimit-limit"] == "3" for a in answers)
        assert int(answers[0].headers["x-ratelimit-reset"]) > 1_700_000_000
        assert error_of(answers[3], "rate_limited")
        assert answers[3].headers["Retry-After"] == "20"   # one request back every 60/3 s
        assert requests.get(emu.url + "/emulator/health", timeout=10).status_code == 200  # not limited
        requests.post(emu.url + "/emulator/clock", json={"advance_seconds": 20}, timeout=10)
        assert requests.get(emu.url + "/.well-known/jwks.json", timeout=10).status_code == 200


def test_openapi_driven_garbage_never_yields_a_500(wire, fresh_user, caplog):
    """Every operation in /openapi.json, every declared field set to a wrong shape, JSON and form;
    and none of them reached the catch-all (which would hide an emulator bug behind a 400)."""
    document = wire.http.get(wire.url + "/openapi.json", timeout=10).json()
    mfa_token = wire.mfa_token(fresh_user)
    variants = ["x", 12, ["a", 1], {"a": 1}, None, "", "Fe26.2*x", "a.b.c", "\u00e9\u0000"]
    checked = 0
    for path, operations in document["paths"].items():
        url = wire.url + path.replace("{authenticator_id}", "totp%7Cdev_x").replace("{transaction}", "t")
        for method, operation in operations.items():
            properties = (operation.get("requestBody", {}).get("content", {})
                          .get("application/json", {}).get("schema", {}).get("properties", {}))
            headers = {"Authorization": f"Bearer {mfa_token}"}
            for name in properties or [None]:
                for value in variants:
                    body = {name: value} if name else {}
                    for encoding in ("json", "data"):
                        if encoding == "data" and isinstance(value, dict):
                            continue
                        response = wire.http.request(method.upper(), url, headers=headers, timeout=10,
                                                     **{encoding: body})
                        checked += 1
                        assert response.status_code < 500, (method, path, body, response.text)
    assert checked > 300
    assert not [r for r in caplog.records if r.name == "mfa_helpers.emulator"], caplog.text
    ops = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert {("post", "/oauth/token"), ("post", "/mfa/associate"), ("post", "/mfa/challenge"),
            ("get", "/mfa/authenticators"), ("delete", "/mfa/authenticators/{authenticator_id}"),
            ("get", "/authorize"), ("get", "/.well-known/openid-configuration")} <= ops
    grant_schema = document["paths"]["/oauth/token"]["post"]["requestBody"]["content"][
        "application/x-www-form-urlencoded"]["schema"]["properties"]["grant_type"]
    assert set(grant_schema["enum"]) == set(protocol.ALL_GRANTS)


def test_unknown_paths_and_methods_get_the_json_answers_clients_always_had(wire):
    """Answers no handler gives: 404 for an unknown path, 405 with Allow for a known path's other
    method (HEAD included), `{"detail": ...}` JSON as the emulator has always sent; /docs lists
    every route offline and links the OpenAPI document."""
    missing = wire.http.post(wire.url + "/mfa/nothing", json={}, timeout=10)
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    assert missing.headers["content-type"] == "application/json"
    for method, path, allow in [("GET", "/oauth/token", "POST"), ("HEAD", "/emulator/health", "GET"),
                                ("OPTIONS", "/emulator/users", "POST")]:
        wrong = wire.http.request(method, wire.url + path, timeout=10)
        assert (wrong.status_code, wrong.headers["allow"]) == (405, allow), (method, path)
        assert wrong.headers["content-type"] == "application/json"
        assert wrong.content == (b"" if method == "HEAD" else b'{"detail":"Method Not Allowed"}')
    page = wire.http.get(wire.url + "/docs", timeout=10)
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<a href="openapi.json">' in page.text and "<code>DELETE /mfa/authenticators/" in page.text
