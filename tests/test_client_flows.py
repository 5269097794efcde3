"""Every MfaClient step against the real emulator over HTTP, in the order a learner meets them:
login → mfa_required → associate → confirm, then challenges, management, recovery and push."""
import threading
import time

import pytest
from client_support import MFA_SCOPE, PLANTED, browser_login, client, emu, mfa_required  # noqa: F401

from mfa_helpers import (Auth0Error, AuthorizationPending, CannotRemove, MfaClient, PollTimeout, Settings, VirtualAuthenticator,
                         decode_token, protocol)


def _enroll_otp(client):
    required = mfa_required(client)
    enrollment = client.associate(required.mfa_token)
    authenticator = VirtualAuthenticator.from_enrollment(enrollment)
    tokens = client.confirm_otp(required.mfa_token, authenticator.code())
    return required, enrollment, authenticator, tokens


def _last_otp(client) -> str:
    return next(e.request_data["otp"] for e in reversed(client.session.exchanges)
                if "otp" in e.request_data)


def _otp_user(emu) -> MfaClient:
    return MfaClient(Settings(emulator_url=emu.url, username="otp-user@example.com",
                              password=PLANTED["otp_user_password"]))


def test_otp_enrollment_login_mfa_required_associate_confirm(client):
    required, enrollment, _, tokens = _enroll_otp(client)
    assert {r["type"] for r in required.mfa_requirements["enroll"]} >= {"otp"}
    assert enrollment["authenticator_type"] == "otp" and len(enrollment["secret"]) == 32
    assert enrollment["barcode_uri"].startswith("otpauth://totp/") and len(enrollment["recovery_codes"]) == 1
    assert tokens["token_type"] == "Bearer" and decode_token(tokens["access_token"]).expires_at
    assert [e.status for e in client.session.exchanges] == [403, 200, 200]
    assert client.session.exchanges[2].request_data["grant_type"] == protocol.GRANT_MFA_OTP


def test_delete_authenticators_completes_mfa_first_and_removes_the_recovery_code_last(client):
    _, enrollment, authenticator, _ = _enroll_otp(client)
    listed = client.list_authenticators(mfa_required(client).mfa_token)  # an mfa_token may list
    with pytest.raises(Auth0Error) as refused:   # ... but not delete
        client.delete_authenticator(mfa_required(client).mfa_token, listed[0]["id"])
    assert refused.value.is_("delete_needs_access_token")
    mark = len(client.session)
    removal = client.delete_authenticators(listed, otp=authenticator.fresh_code,
                                           recovery_code=enrollment["recovery_codes"][0])
    assert [a["authenticator_type"] for a in removal.removed] == ["otp", "recovery-code"]
    # Signed in again for the MFA API audience, completed MFA with the OTP, deleted with its token;
    # the recovery code went with the last factor: its 404 is no error.
    sign_in, confirm, *deletes = client.session.exchanges[mark:]
    assert sign_in.status == 403 and sign_in.request_data["audience"] == client.mfa_audience
    assert "remove:authenticators" in sign_in.request_data["scope"].split()
    assert confirm.request_data["grant_type"] == protocol.GRANT_MFA_OTP and confirm.status == 200
    assert [(e.method, e.status) for e in deletes] == [("DELETE", 204), ("DELETE", 404)]
    assert all(e.request_headers["Authorization"] == f"Bearer {confirm.response_json['access_token']}"
               for e in deletes)
    assert client.list_authenticators(mfa_required(client).mfa_token) == []
    assert removal.recovery_code == enrollment["recovery_codes"][0]  # the OTP did: not spent


def test_delete_authenticators_with_the_recovery_code_keeps_the_new_one_and_any_other_404_is_an_error(client):
    _, enrollment, _, _ = _enroll_otp(client)
    listed = client.list_authenticators(mfa_required(client).mfa_token)
    otp = next(a for a in listed if a["authenticator_type"] == "otp")
    removal = client.delete_authenticators([otp], recovery_code=enrollment["recovery_codes"][0])
    assert removal.removed == [otp] and removal.recovery_code not in (None, enrollment["recovery_codes"][0])
    recovered = client.session.exchanges[-2]
    assert recovered.request_data["grant_type"] == protocol.GRANT_MFA_RECOVERY_CODE
    with pytest.raises(Auth0Error) as missing:  # a factor's own 404 is an error
        client.delete_authenticators([otp], access_token=recovered.response_json["access_token"])
    assert missing.value.is_("authenticator_not_found")


def test_delete_authenticators_renews_a_refused_access_token_and_reports_what_it_cannot_remove(client):
    _, _, authenticator, _ = _enroll_otp(client)
    listed = client.list_authenticators(mfa_required(client).mfa_token)
    with pytest.raises(CannotRemove) as nothing:   # no secret to complete MFA with: reported, kept
        client.delete_authenticators(listed)
    assert {a["id"] for a in nothing.value.authenticators} == {a["id"] for a in listed}
    assert "Dashboard > User Management > Users" in str(nothing.value)
    assert len(client.list_authenticators(mfa_required(client).mfa_token)) == 2
    with pytest.raises(CannotRemove) as refused:   # a wrong recovery code: MFA refused, reported
        client.delete_authenticators(listed, recovery_code="WRONGWRONGWRONGWRONGWRON")
    assert "invalid_grant" in refused.value.reason
    plain = mfa_required(client).mfa_token         # refused as bearer (401): renewed once, by MFA
    removal = client.delete_authenticators(listed, access_token=plain, otp=authenticator.fresh_code)
    assert len(removal.removed) == 2 and client.list_authenticators(mfa_required(client).mfa_token) == []


def test_challenge_otp_gives_an_mfa_api_token_to_list_delete_verify_and_refresh(emu):
    client = _otp_user(emu)
    required = mfa_required(client, audience=client.mfa_audience, scope=MFA_SCOPE)
    assert {r["type"] for r in required.mfa_requirements["challenge"]} >= {"otp"}
    assert client.challenge(required.mfa_token, "otp") == {"challenge_type": "otp"}
    tokens = client.confirm_otp(required.mfa_token, VirtualAuthenticator(PLANTED["totp_seed"]).code())
    claims = client.verify_token(tokens["access_token"], audience=client.mfa_audience)
    assert set(protocol.MFA_SCOPES) <= set(claims["scope"].split())
    listed = client.list_authenticators(tokens["access_token"])
    recovery = next(a for a in listed if a["authenticator_type"] == "recovery-code")
    assert client.delete_authenticator(tokens["access_token"], recovery["id"]) is None
    assert client.session.last.status == 204 and "recovery-code%7Cdev_" in client.session.last.url
    assert recovery["id"] not in {a["id"] for a in client.list_authenticators(tokens["access_token"])}
    with pytest.raises(Auth0Error) as missing:
        client.delete_authenticator(tokens["access_token"], recovery["id"])
    assert missing.value.is_("authenticator_not_found")
    refreshed = client.refresh(tokens["refresh_token"])
    assert decode_token(refreshed["access_token"]).audiences[0] == client.mfa_audience


def test_wrong_and_reused_otp_codes_are_refused(client):
    _enroll_otp(client)
    used = _last_otp(client)
    required = mfa_required(client)
    with pytest.raises(Auth0Error) as wrong:
        client.confirm_otp(required.mfa_token, "000000" if used != "000000" else "111111")
    assert wrong.value.is_("invalid_otp") and wrong.value.status == 403
    with pytest.raises(Auth0Error) as reused:
        client.confirm_otp(required.mfa_token, used)
    assert reused.value.is_("otp_reused")


@pytest.mark.parametrize("channel, contact", [("sms", {"phone_number": "+15555550188"}),
                                              ("voice", {"phone_number": "+15555550199"}),
                                              ("email", {"email": "inbox-test@example.com"})])
def test_oob_enrollment_confirmed_with_the_binding_code_from_the_outbox(client, channel, contact):
    required = mfa_required(client)
    enrollment = client.associate(required.mfa_token, ["oob"], oob_channels=[channel], **contact)
    assert (enrollment["oob_channel"], enrollment["binding_method"]) == (channel, "prompt")
    message = client.emulator.latest_message(to=next(iter(contact.values())), channel=channel)
    with pytest.raises(Auth0Error) as wrong:
        client.confirm_oob(required.mfa_token, enrollment["oob_code"], "000000"
                           if message["binding_code"] != "000000" else "111111")
    assert wrong.value.is_("invalid_binding_code")
    tokens = client.confirm_oob(required.mfa_token, enrollment["oob_code"], message["binding_code"])
    assert "access_token" in tokens


def test_sms_challenge_of_an_enrolled_user(emu):
    client = MfaClient(Settings(emulator_url=emu.url, username="sms-user@example.com", password="Sms-demo-pass-1"))
    required = mfa_required(client)
    sms = next(a for a in client.list_authenticators(required.mfa_token) if a.get("oob_channel") == "sms")
    challenge = client.challenge(required.mfa_token, "oob", authenticator_id=sms["id"])
    assert challenge["challenge_type"] == "oob" and challenge["binding_method"] == "prompt"
    code = client.emulator.latest_message(to="+15555550123", channel="sms")["binding_code"]
    assert "access_token" in client.confirm_oob(required.mfa_token, challenge["oob_code"], code)


def _enroll_push(client):
    required = mfa_required(client)
    enrollment = client.associate(required.mfa_token, ["oob"], oob_channels=["auth0"])
    transaction = client.emulator.latest_message(channel="auth0")["transaction"]
    return required, enrollment, transaction


def test_push_is_pending_until_approved_then_poll_oob_returns_tokens(client):
    required, enrollment, transaction = _enroll_push(client)
    with pytest.raises(AuthorizationPending):
        client.confirm_oob(required.mfa_token, enrollment["oob_code"])
    client.emulator.approve_push(transaction)
    assert "access_token" in client.poll_oob(required.mfa_token, enrollment["oob_code"], interval=0.2)


def test_poll_oob_backs_off_by_five_seconds_after_slow_down(client):
    required, enrollment, transaction = _enroll_push(client)

    def approve_after_slow_down():
        while not any(e.response_json and e.response_json.get("error") == "slow_down" for e in client.session.exchanges):
            time.sleep(0.02)
        client.emulator.approve_push(transaction)

    threading.Thread(target=approve_after_slow_down, daemon=True).start()
    tokens = client.poll_oob(required.mfa_token, enrollment["oob_code"], interval=0.05, timeout=20)
    polls = [e for e in client.session.exchanges if e.request_data.get("grant_type") == protocol.GRANT_MFA_OOB]
    slow = next(i for i, e in enumerate(polls) if e.status == 429)
    assert "access_token" in tokens and polls[slow].response_json["error"] == "slow_down"
    assert (polls[slow + 1].started - polls[slow].started).total_seconds() >= 5


def test_poll_oob_gives_up_after_its_timeout_and_a_rejected_push_is_an_error(client):
    required, enrollment, transaction = _enroll_push(client)
    with pytest.raises(PollTimeout) as timed_out:
        client.poll_oob(required.mfa_token, enrollment["oob_code"], interval=0.3, timeout=1)
    assert timed_out.value.last.is_("authorization_pending") and "approve_push" in str(timed_out.value)
    client.emulator.reject_push(transaction)
    with pytest.raises(Auth0Error) as rejected:
        client.poll_oob(required.mfa_token, enrollment["oob_code"], interval=0.3, timeout=5)
    assert rejected.value.is_("push_rejected")


def test_recovery_code_login_returns_a_new_code_and_spends_the_old(client):
    _, enrollment, _, _ = _enroll_otp(client)
    first = enrollment["recovery_codes"][0]
    required = mfa_required(client)
    answer = client.confirm_recovery_code(required.mfa_token, first)
    assert len(answer["recovery_code"]) == protocol.RECOVERY_CODE_LENGTH and answer["recovery_code"] != first
    with pytest.raises(Auth0Error) as spent:
        client.confirm_recovery_code(mfa_required(client).mfa_token, first)
    assert spent.value.is_("invalid_recovery_code")


def test_challenge_without_such_factor_and_associate_when_enrolled(client):
    _enroll_otp(client)
    required = mfa_required(client)
    with pytest.raises(Auth0Error) as unsupported:
        client.challenge(required.mfa_token, "oob")
    assert unsupported.value.is_("unsupported_challenge_type") and unsupported.value.status == 401
    with pytest.raises(Auth0Error) as enrolled:
        client.associate(required.mfa_token)
    assert enrolled.value.is_("already_enrolled") and "challenge it" in str(enrolled.value)


def test_request_errors_carry_protocol_specs_and_fixes(emu, client):
    with pytest.raises(Auth0Error) as wrong_password:
        client.login(password="not-the-password")
    assert wrong_password.value.is_("wrong_password") and "AUTH0_PASSWORD" in str(wrong_password.value)
    required = mfa_required(client)
    with pytest.raises(Auth0Error) as typo:
        client.associate(required.mfa_token, ["opt"])
    assert typo.value.is_("invalid_authenticator_type") and typo.value.status == 400
    with pytest.raises(Auth0Error) as bad_bearer:
        client.list_authenticators("not-a-token")
    assert bad_bearer.value.is_("invalid_token")
    with pytest.raises(Auth0Error) as malformed:
        client.confirm_otp("not-an-mfa-token", "123456")
    assert malformed.value.is_("malformed_mfa_token")
    no_grants = MfaClient(Settings(emulator_url=emu.url, client_id="mfa-kit-demo-no-mfa-grants",
                                   username=client.settings.username, password=client.settings.password))
    with pytest.raises(Auth0Error) as not_allowed:
        no_grants.confirm_otp(mfa_required(no_grants).mfa_token, "123456")
    assert not_allowed.value.is_("grant_not_allowed") and "Advanced Settings > Grant Types" in str(not_allowed.value)


def test_custom_domain_sends_host_keeps_the_canonical_audience_and_shows_both_pitfalls(emu):
    client = MfaClient(Settings(emulator_url=emu.url), use_custom_domain=True)
    client.use_fresh_user()
    custom = client.settings.custom_domain
    assert client.mfa_audience == "https://mfa-kit-demo.us.auth0.com/mfa/" and client.domain == custom
    _, enrollment, authenticator, _ = _enroll_otp(client)
    assert client.session.last.request_headers["Host"] == custom and f"Host: {custom}" in client.session.last.to_curl()
    with pytest.raises(Auth0Error) as wrong_audience:
        client.login(audience=f"https://{custom}/mfa/", scope=MFA_SCOPE)
    assert wrong_audience.value.is_("service_not_enabled") and "canonical domain" in str(wrong_audience.value)
    # The seeds' thread: an API named https://CUSTOM/mfa yields a token the mfa-otp grant refuses.
    required = mfa_required(client, audience=f"https://{custom}/mfa", scope=MFA_SCOPE)
    pitfall = client.confirm_recovery_code(required.mfa_token, enrollment["recovery_codes"][0])["access_token"]
    with pytest.raises(Auth0Error) as refused:
        client.confirm_otp(pitfall, authenticator.code())
    assert refused.value.is_("invalid_audience") and "client.mfa_audience" in str(refused.value)


def test_authorize_with_pkce_gives_an_mfa_api_token_that_enrolls(client):
    request = client.authorize_url("http://localhost:9/callback", audience=client.mfa_audience, scope=MFA_SCOPE)
    assert "code_challenge_method=S256" in request.url and request.code_verifier not in request.url
    code = browser_login(request, client.settings.username, client.settings.password)
    tokens = client.exchange_code(code, request)
    assert decode_token(tokens["access_token"]).audiences[0] == client.mfa_audience
    enrollment = client.associate(tokens["access_token"])
    assert enrollment["authenticator_type"] == "otp"
    listed = client.list_authenticators(tokens["access_token"])
    assert [a["active"] for a in listed if a["authenticator_type"] == "otp"] == [False]  # until confirmed
