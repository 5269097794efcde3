"""Every `[pick]` / `[?]` the emulator makes where nothing (recording, user paste, docs, SDK) confirms
Auth0's exact answer. Each test asserts the picked behaviour; a live capture from a real tenant that
disagrees should correct the emulator AND the test here (and the `pick` entry in protocol.ERRORS).

Reference: ../shared/reference/auth0-mfa-api.md (`[pick]`, `[?]` marks).
"""
from __future__ import annotations

import time

import jwt
import pyotp
import requests

from mfa_helpers import protocol
from mfa_helpers.emulator import Emulator
from mfa_helpers.emulator.tenant import DEMO_TENANT

from conftest import Wire, error_of

PHONE = "+15557654321"


def test_mfa_requirements_shapes(wire, fresh_user):
    """Picks: no factor → only `enroll` (no empty `challenge`), from the tenant's factors in the tenant
    file's order with sms and voice both as `phone` (email never: docs); with factors → only
    `challenge`, the user's factor types in enrollment order, then `recovery-code` (docs example)
    when the tenant enables recovery codes (the one recorded 403, on a tenant we cannot see, lists
    only otp: test_conformance replays it on a tenant without recovery codes)."""
    first = wire.login(fresh_user).json()["mfa_requirements"]
    assert first == {"enroll": [{"type": "otp"}, {"type": "phone"}, {"type": "push-notification"}]}
    wire.enroll_otp(fresh_user)
    assert wire.login(fresh_user).json()["mfa_requirements"] == {
        "challenge": [{"type": "otp"}, {"type": "recovery-code"}]}


def test_no_mfa_requirements_when_customizable_mfa_is_off(tmp_path):
    """Pick: `mfa.customizable: false` drops `mfa_requirements` from the 403 (older docs samples lack it)."""
    tenant = tmp_path / "t.yaml"
    tenant.write_text(DEMO_TENANT.read_text().replace("customizable: true", "customizable: false"))
    with Emulator(tenant=tenant) as emu:
        wire = Wire(emu)
        body = wire.login(wire.post("/emulator/users", json={}).json()).json()
        assert body["error"] == "mfa_required" and "mfa_requirements" not in body


def test_policy_never_issues_tokens_without_mfa(tmp_path):
    """Pick: `mfa.policy: never` answers the password grant with tokens directly."""
    tenant = tmp_path / "t.yaml"
    tenant.write_text(DEMO_TENANT.read_text().replace("policy: always", "policy: never"))
    with Emulator(tenant=tenant) as emu:
        wire = Wire(emu)
        response = wire.login(wire.post("/emulator/users", json={}).json(), scope="openid offline_access")
        assert response.status_code == 200 and "amr" not in jwt.decode(
            response.json()["id_token"], options={"verify_signature": False})
        refreshed = wire.token(grant_type="refresh_token", refresh_token=response.json()["refresh_token"])
        assert "amr" not in jwt.decode(refreshed.json()["id_token"], options={"verify_signature": False})


def test_reuse_and_lockout_rules(wire, fresh_user, control):
    """Picks: a reused TOTP step answers `Invalid otp_code.` and counts as a wrong code; the lockout
    bucket (10, one back per 6 min) is per user and per kind (otp / binding code / recovery code),
    checked before the code, so even a right code is refused while locked."""
    enrolled = wire.enroll_otp(fresh_user)
    mfa_token = wire.mfa_token(fresh_user)
    assert error_of(wire.otp_grant(mfa_token, enrolled["otp"]), "otp_reused")
    for _ in range(protocol.OTP_FAILURES_BUCKET - 1):
        wire.otp_grant(mfa_token, "abcdef")
    right = pyotp.TOTP(enrolled["secret"]).at(time.time() + 30)
    assert error_of(wire.otp_grant(mfa_token, right), "too_many_attempts")
    recovery = wire.token(grant_type=protocol.GRANT_MFA_RECOVERY_CODE, mfa_token=mfa_token,
                          recovery_code=enrolled["recovery_codes"][0])
    assert recovery.status_code == 200   # a separate bucket


def test_mfa_token_reuse_answers_malformed(wire, fresh_user):
    """Pick: an mfa_token spent by a successful MFA grant answers `Malformed mfa_token`."""
    enrolled = wire.enroll_otp(fresh_user)
    response = wire.token(grant_type=protocol.GRANT_MFA_RECOVERY_CODE, mfa_token=enrolled["mfa_token"],
                          recovery_code=enrolled["recovery_codes"][0])
    assert error_of(response, "mfa_token_reused")


def test_mfa_token_is_bound_to_its_client(wire, fresh_user, emulator):
    """Pick: an mfa_token presented by another client answers `Malformed mfa_token`."""
    mfa_token = wire.mfa_token(fresh_user)
    spa = next(c for c in emulator.tenant.clients if c.public)
    response = requests.post(f"{wire.url}/oauth/token", timeout=10, data={
        "client_id": spa.client_id, "grant_type": protocol.GRANT_MFA_OTP, "mfa_token": mfa_token,
        "otp": "123456"})
    assert error_of(response, "malformed_mfa_token")


def test_recovery_code_lifecycle(wire, fresh_user):
    """Picks: the recovery code comes with the first enrollment only (no active recovery code yet),
    a new unconfirmed enrollment replaces an unconfirmed one's code, it becomes active with the
    first confirmed factor, and a wrong code answers `MFA Authorization rejected.` (403)."""
    first = wire.mfa_token(fresh_user)
    code_a = wire.associate(first, authenticator_types=["otp"]).json()["recovery_codes"][0]
    second = wire.associate(first, authenticator_types=["otp"]).json()
    assert second["recovery_codes"][0] != code_a
    assert wire.otp_grant(first, pyotp.TOTP(second["secret"]).now()).status_code == 200
    access = wire.mfa_token(fresh_user)
    listed = wire.authenticators(access).json()
    assert [(a["authenticator_type"], a["active"]) for a in listed] == [
        ("otp", False), ("otp", True), ("recovery-code", True)]
    bad = wire.token(grant_type=protocol.GRANT_MFA_RECOVERY_CODE, mfa_token=access, recovery_code=code_a)
    assert error_of(bad, "invalid_recovery_code")


def test_deleting_the_last_factor_removes_the_recovery_code(wire, fresh_user):
    """Pick: with no active factor left, the recovery code is deleted too (the user enrolls afresh)."""
    enrolled = wire.enroll_otp(fresh_user, audience=wire.tenant.mfa_audience,
                             scope=" ".join(protocol.MFA_SCOPES))
    bearer = enrolled["tokens"]["access_token"]
    otp_id = next(a["id"] for a in wire.authenticators(bearer).json() if a["active"]
                  and a["authenticator_type"] == "otp")
    assert wire.http.delete(f"{wire.url}/mfa/authenticators/{otp_id.replace('|', '%7C')}", timeout=10,
                            headers={"Authorization": f"Bearer {bearer}"}).status_code == 204
    assert enrolled["recovery_codes"] and wire.authenticators(bearer).json() == []


def _delete(wire, bearer: str, authenticator_id: str) -> requests.Response:
    return wire.http.delete(f"{wire.url}/mfa/authenticators/{authenticator_id.replace('|', '%7C')}",
                            timeout=10, headers={"Authorization": f"Bearer {bearer}"})


def test_delete_refuses_a_plain_mfa_token(wire, fresh_user):
    """Pick (status from the docs' 401, wording after the community thread "When deleting
    authenticator it says mfa token is invalid"): an mfa_token proves only the password, so DELETE
    refuses it, even from a login that asked for the MFA API audience and remove:authenticators.
    Knowing the password alone, nobody can remove the only factor and enroll their own; the access
    token that completing MFA returns deletes."""
    enrolled = wire.enroll_otp(fresh_user)
    otp_id = next(a["id"] for a in wire.authenticators(wire.mfa_token(fresh_user)).json()
                  if a["authenticator_type"] == "otp")
    for login in ({}, {"audience": wire.tenant.mfa_audience, "scope": protocol.SCOPE_REMOVE}):
        plain = wire.mfa_token(fresh_user, **login)
        assert error_of(_delete(wire, plain, otp_id), "delete_needs_access_token")
        assert error_of(wire.associate(plain, authenticator_types=["otp"]), "already_enrolled")
    assert otp_id in [a["id"] for a in wire.authenticators(wire.mfa_token(fresh_user)).json()]
    mfa_token = wire.mfa_token(fresh_user, audience=wire.tenant.mfa_audience, scope=protocol.SCOPE_REMOVE)
    tokens = wire.otp_grant(mfa_token, pyotp.TOTP(enrolled["secret"]).at(time.time() + 30)).json()
    assert _delete(wire, tokens["access_token"], otp_id).status_code == 204


def test_bearer_rules(wire, fresh_user, emulator):
    """Picks: a plain mfa_token may associate (first factor only) and list without scopes (deleting
    needs an access token, above); a bearer that is no MFA API token (another audience: /userinfo;
    the custom-domain lookalike API counts as one, see test_emulator_security) is `invalid_token`,
    not insufficient_scope."""
    mfa_token = wire.mfa_token(fresh_user)
    assert wire.authenticators(mfa_token).status_code == 200
    tokens = wire.enroll_otp(wire.post("/emulator/users", json={}).json(), scope="openid read:authenticators")
    assert error_of(wire.authenticators(tokens["tokens"]["access_token"]), "invalid_token")


def _sms_factor(wire, control, user: dict, phone: str) -> tuple[str, str]:
    """Enroll and confirm SMS for `user`: its authenticator id, and the MFA API access token the
    confirmation returned (it may delete)."""
    mfa_token = wire.mfa_token(user, audience=wire.tenant.mfa_audience, scope=" ".join(protocol.MFA_SCOPES))
    body = wire.associate(mfa_token, authenticator_types=["oob"], oob_channels=["sms"],
                          phone_number=phone).json()
    code = control.latest_message(to=phone)["binding_code"]
    tokens = wire.token(grant_type=protocol.GRANT_MFA_OOB, mfa_token=mfa_token, oob_code=body["oob_code"],
                        binding_code=code)
    assert tokens.status_code == 200
    sms_id = next(a["id"] for a in wire.authenticators(wire.mfa_token(user)).json() if a.get("oob_channel") == "sms")
    return sms_id, tokens.json()["access_token"]


def test_challenge_picks(wire, fresh_user, control):
    """Picks: the client secret is optional on /mfa/challenge (checked when sent); an authenticator_id
    that is none of the user's active factors (unknown, another user's, deleted) is 404 `not_found`
    as DELETE answers, never a stand-in factor of the same kind; a named factor of a type not asked
    for, or no factor of the types asked (listed comma-separated), is `unsupported_challenge_type`;
    several types in challenge_type are tried in order."""
    sms_id, access = _sms_factor(wire, control, fresh_user, PHONE)
    others_id, _ = _sms_factor(wire, control, control.create_user(), "+15557650000")
    login = wire.mfa_token(fresh_user)

    def challenge(**body):
        return wire.post("/mfa/challenge", json={"client_id": wire.client["client_id"], "mfa_token": login,
                                                 "challenge_type": "otp oob", **body})

    no_secret = challenge(authenticator_id=sms_id)
    assert no_secret.status_code == 200 and no_secret.json()["binding_method"] == "prompt"
    assert error_of(challenge(authenticator_id="sms|dev_unknownunknown"), "unknown_authenticator")
    assert error_of(challenge(authenticator_id=others_id), "unknown_authenticator")
    assert error_of(challenge(authenticator_id=sms_id, challenge_type="otp"), "unsupported_challenge_type",
                    types="otp")
    assert error_of(challenge(client_secret="x"), "unauthorized_client_auth")
    assert error_of(challenge(challenge_type=["otp"]), "unsupported_challenge_type", types="otp")
    assert _delete(wire, access, sms_id).status_code == 204
    assert error_of(challenge(authenticator_id=sms_id), "unknown_authenticator")


def test_otp_grant_without_any_otp_factor(wire, fresh_user):
    """Pick: the mfa-otp grant for a user with no TOTP factor (active or pending) answers
    `unsupported_challenge_type` (otp), like /mfa/challenge does."""
    assert error_of(wire.otp_grant(wire.mfa_token(fresh_user), "123456"), "unsupported_challenge_type",
                    types="otp")


def test_oob_picks(wire, fresh_user, control):
    """Picks: sms/voice/email without binding_code answer authorization_pending; an unknown oob_code
    answers 403 `Invalid oob_code.`; slow_down answers do not use up a poll; push requests expire
    after 5 minutes like sms codes."""
    mfa_token = wire.mfa_token(fresh_user)
    body = wire.associate(mfa_token, authenticator_types=["oob"], oob_channels=["auth0"]).json()
    assert error_of(wire.token(grant_type=protocol.GRANT_MFA_OOB, mfa_token=mfa_token, oob_code="nope"),
                    "invalid_oob_code")
    poll = {"grant_type": protocol.GRANT_MFA_OOB, "mfa_token": mfa_token, "oob_code": body["oob_code"]}
    answers = [wire.token(**poll) for _ in range(protocol.OOB_POLLS_PER_MINUTE + 1)]  # "nope" was poll 1
    assert [a.json()["error"] for a in answers[-3:]] == ["authorization_pending", "slow_down", "slow_down"]
    control.advance_clock(5)
    assert error_of(wire.token(**poll), "authorization_pending")
    control.advance_clock(protocol.OOB_CODE_LIFETIME + 1)
    assert error_of(wire.token(**poll), "expired_oob_code")


def test_masking_and_list_fields(wire, fresh_user, control):
    """Picks: phone names keep the last 4 digits (every other character an X); email names keep all
    but 6 characters of the local part and the domain's first 4; list entries carry the newer
    tenants' `type`, with the values of mfa_requirements (otp, phone, email, push-notification,
    recovery-code)."""
    mfa_token = wire.mfa_token(fresh_user)
    body = wire.associate(mfa_token, authenticator_types=["oob"], oob_channels=["email"],
                          email="example123456@gmail.com").json()
    code = control.latest_message(to="example123456@gmail.com")["binding_code"]
    wire.token(grant_type=protocol.GRANT_MFA_OOB, mfa_token=mfa_token, oob_code=body["oob_code"],
               binding_code=code)
    listed = wire.authenticators(wire.mfa_token(fresh_user)).json()
    email = next(a for a in listed if a.get("oob_channel") == "email")
    assert email["name"] == "example******@gmai*****"   # as in the Auth0.swift capture
    assert [(a["authenticator_type"], a["type"]) for a in listed] == [
        ("oob", "email"), ("recovery-code", "recovery-code")]


def test_input_validation_picks(wire, fresh_user, tmp_path):
    """Picks: phone numbers must be E.164, emails look like emails, a factor the tenant does not
    enable is refused, a missing client_id is a missing parameter; list fields may also come as one
    space-separated string, and only the first authenticator type / channel is enrolled."""
    mfa_token = wire.mfa_token(fresh_user)
    lenient = wire.associate(mfa_token, authenticator_types="otp oob", oob_channels="sms")
    assert lenient.status_code == 200 and lenient.json()["authenticator_type"] == "otp"
    assert error_of(wire.associate(mfa_token, authenticator_types=["oob"], oob_channels=["sms"],
                                   phone_number="555-1234"), "invalid_phone_number")
    assert error_of(wire.associate(mfa_token, authenticator_types=["oob"], oob_channels=["email"],
                                   email="nope"), "invalid_email")
    assert error_of(wire.post("/oauth/token", data={"grant_type": "password"}), "missing_parameter",
                    name="client_id")
    tenant = tmp_path / "t.yaml"
    tenant.write_text(DEMO_TENANT.read_text().replace("factors: [otp, sms, voice, email, push, recovery-code]",
                                                      "factors: [otp]"))
    with Emulator(tenant=tenant) as emu:
        other = Wire(emu)
        token = other.mfa_token(other.post("/emulator/users", json={}).json())
        assert error_of(other.associate(token, authenticator_types=["oob"], oob_channels=["sms"],
                                        phone_number=PHONE), "factor_not_enabled", factor="sms")
        assert "recovery_codes" not in other.associate(token, authenticator_types=["otp"]).json()


def test_token_picks(wire, fresh_user, emulator):
    """Picks: no audience → access token for /userinfo; refresh tokens are not rotated; a token
    used as mfa_token confirms and yields tokens for its own audience and scope."""
    tokens = wire.enroll_otp(fresh_user, scope="openid offline_access")["tokens"]
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["aud"] == f"https://{emulator.tenant.domain}/userinfo"
    refreshed = wire.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()
    assert "refresh_token" not in refreshed
    access = wire.mfa_api_token(wire.post("/emulator/users", json={}).json(), scope="enroll")
    second = wire.associate(access, authenticator_types=["otp"]).json()   # second factor, pending
    confirmed = wire.otp_grant(access, pyotp.TOTP(second["secret"]).now()).json()
    again = jwt.decode(confirmed["access_token"], options={"verify_signature": False})
    assert (again["aud"], again["scope"], confirmed["scope"]) == (emulator.tenant.mfa_audience,
                                                                   "enroll", "enroll")


def test_malformed_requests_answer_400_invalid_request(wire):
    """Pick: unreadable bodies (and, as a catch-all, anything the emulator cannot process) answer
    400 `invalid_request` `Invalid request body: ...`, never a 500."""
    response = wire.post("/mfa/challenge", data=b"{", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error_description"].startswith(
        "Invalid request body: ")


def test_rate_limit_picks(wire):
    """Picks: the general limit is a token bucket per client address and endpoint (so one endpoint's
    burst does not starve another), `x-ratelimit-reset` is when the bucket is full again, and the
    /emulator/* surface carries no rate-limit headers."""
    first = wire.http.get(wire.url + "/.well-known/jwks.json", timeout=10)
    other = wire.http.get(wire.url + "/.well-known/openid-configuration", timeout=10)
    assert first.headers["x-ratelimit-remaining"] == other.headers["x-ratelimit-remaining"] == "599"
    assert "x-ratelimit-limit" not in wire.http.get(wire.url + "/emulator/health", timeout=10).headers


def test_login_page_picks(emulator, wire, control):
    """Picks: the emulator's login page checks TOTP codes only: users without a factor pass on
    their password, users with only OOB factors are sent to the MFA API; public clients must use
    PKCE (S256); an empty `callbacks` list accepts any http(s) redirect_uri; an audience that is
    no API is reported back to the redirect_uri as `error`/`error_description`."""
    spa = next(c for c in emulator.tenant.clients if c.public)
    response = requests.get(f"{emulator.url}/authorize", allow_redirects=False, timeout=10, params={
        "response_type": "code", "client_id": spa.client_id, "redirect_uri": "https://app.example/cb",
        "code_challenge": "x" * 43, "code_challenge_method": "S256",
        "audience": f"https://{emulator.tenant.custom_domain}/mfa/"})
    assert response.status_code == 302
    assert "error=access_denied" in response.headers["location"]
    sms_user = next(u for u in emulator.tenant.users if any(f.type == "sms" for f in u.factors))
    page = requests.get(f"{emulator.url}/authorize", timeout=10, params={
        "response_type": "code", "client_id": spa.client_id, "redirect_uri": "https://app.example/cb",
        "code_challenge": "x" * 43, "code_challenge_method": "S256"}).text
    login_id = page.split('name="login" value="', 1)[1].split('"', 1)[0]
    refused = requests.post(f"{emulator.url}/u/login", timeout=10, allow_redirects=False, data={
        "login": login_id, "username": sms_user.username, "password": sms_user.password})
    assert refused.status_code == 400 and "TOTP codes only" in refused.text
    plain = requests.get(f"{emulator.url}/authorize", timeout=10, params={
        "response_type": "code", "client_id": spa.client_id, "redirect_uri": "https://app.example/cb",
        "code_challenge": "x" * 43, "code_challenge_method": "plain"})
    assert error_of(plain, "invalid_authorize_request", reason="code_challenge_method must be S256")


def test_catch_all_turns_an_emulator_bug_into_a_logged_400(monkeypatch, caplog):
    """Pick: a handler that fails unexpectedly answers 400 `Invalid request body: ...` naming the
    exception (logged with its traceback), never a 500."""
    from mfa_helpers.emulator import app as app_module

    def broken(rt, call):
        raise ZeroDivisionError
    routes = [app_module.Route("GET", "/emulator/health", broken, auth0=False) if r.path == "/emulator/health"
              else r for r in app_module.ROUTES]
    monkeypatch.setattr(app_module, "ROUTES", routes)
    with Emulator() as emu:
        response = requests.get(emu.url + "/emulator/health", timeout=10)
    assert error_of(response, "malformed_body", reason="the emulator could not process it (ZeroDivisionError)")
    assert any("ZeroDivisionError" in r.getMessage() for r in caplog.records)


def test_companion_picks(wire, fresh_user, control):
    """Picks: a phone is one device, so deleting sms|dev_X also deletes voice|dev_X (docs say so for
    push and its otp); the requested channel is listed first, its twin after it; a push enrollment's
    otp companion is enrolled whatever the tenant's factors (docs: always)."""
    token = wire.mfa_api_token(fresh_user)   # TOTP enrolled: a second factor needs MFA done first
    body = wire.associate(token, authenticator_types=["oob"], oob_channels=["sms"], phone_number=PHONE).json()
    code = control.latest_message(to=PHONE)["binding_code"]
    assert wire.token(grant_type=protocol.GRANT_MFA_OOB, mfa_token=token, oob_code=body["oob_code"],
                      binding_code=code).status_code == 200
    listed = wire.authenticators(token).json()
    assert [a.get("oob_channel") for a in listed] == [None, None, "sms", "voice"]
    sms, voice = listed[2]["id"], listed[3]["id"]
    assert voice == sms.replace("sms|", "voice|")
    assert wire.http.delete(f"{wire.url}/mfa/authenticators/{sms.replace('|', '%7C')}", timeout=10,
                            headers={"Authorization": f"Bearer {token}"}).status_code == 204
    assert [a["authenticator_type"] for a in wire.authenticators(token).json()] == ["otp", "recovery-code"]


def test_enrollment_cap_answer(wire, fresh_user):
    """Pick: at protocol.MAX_AUTHENTICATORS listed authenticators (51, Auth0's KB; unconfirmed ones
    and the recovery code count) /mfa/associate answers 403 access_denied `Too many authenticators
    enrolled: ...` (no public capture of Auth0's answer)."""
    mfa_token = wire.mfa_token(fresh_user)
    count = 0
    while count < protocol.MAX_AUTHENTICATORS:
        answer = wire.associate(mfa_token, authenticator_types=["otp"])
        assert answer.status_code == 200, answer.text
        count = len(wire.authenticators(mfa_token).json())
    assert count == protocol.MAX_AUTHENTICATORS
    assert error_of(wire.associate(mfa_token, authenticator_types=["otp"]), "too_many_authenticators")


def test_clock_moves_forward_within_a_year(wire, control):
    """Pick (emulator only): POST /emulator/clock takes 0..366 days of whole seconds; a negative or
    absurd step is one clear 400 and leaves the clock where it was."""
    assert control.advance_clock(60) == 60
    for bad, says in ((-1, "must not be negative"), (10**12, "more than a year")):
        answer = wire.post("/emulator/clock", json={"advance_seconds": bad})
        assert answer.status_code == 400 and says in answer.json()["error_description"], answer.text
    assert control.advance_clock(0) == 60


def test_mfa_errors_carry_the_charset_too(wire):
    """Pick: error answers of /mfa/* use the endpoint's recorded Content-Type (with the charset),
    those of /oauth/token plain application/json (recorded for 400s)."""
    listed = wire.authenticators("not-a-token")
    assert listed.status_code == 401 and listed.headers["content-type"] == protocol.JSON_UTF8
    token = wire.post("/oauth/token", data={"grant_type": "password"})
    assert token.status_code == 400 and token.headers["content-type"] == protocol.JSON
