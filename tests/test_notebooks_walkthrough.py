"""The notebooks' logic (mfa_helpers.walkthrough and .widgets), against a real emulator over HTTP."""
from __future__ import annotations

import json
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from mfa_helpers import walkthrough as wk
from mfa_helpers import live, widgets
from mfa_helpers.emulator import Emulator
from mfa_helpers.errors import CannotRemove, KitError
from mfa_helpers.settings import ENV


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as emu:
        yield emu


@pytest.fixture
def shown(monkeypatch):
    """What the walkthrough displayed (instead of a notebook's outputs)."""
    items = []
    for module in (wk, live):  # live: the live-only displays (codes, QR)
        monkeypatch.setattr(module, "display", lambda *objs, **kw: items.extend(objs))
    return items


@pytest.fixture
def connect(emulator, monkeypatch, shown):
    for var in ENV.values():
        if var.startswith("AUTH0_"):
            monkeypatch.setenv(var, "")
    monkeypatch.setenv("MFA_KIT_EMULATOR_URL", emulator.url)
    return lambda headless=True: wk.connect("99_test", headless)


# -- pure helpers --------------------------------------------------------------------------------

@pytest.mark.parametrize("value, env, expected", [
    ("auto", {}, False), ("auto", {"MFA_KIT_HEADLESS": "1"}, True), ("auto", {"MFA_KIT_HEADLESS": "0"}, False),
    ("auto", {"CI": "true"}, True), ("auto", {"CI": "false"}, False), ("auto", {"CI": ""}, False),
    ("true", {}, True), ("False", {"CI": "1"}, False), (True, {}, True), ("1", {}, True), ("no", {}, False),
])
def test_resolve_headless(value, env, expected):
    assert wk.resolve_headless(value, env) is expected


def test_resolve_headless_rejects_what_it_does_not_understand():
    with pytest.raises(KitError, match="headless='maybe'"):
        wk.resolve_headless("maybe", {})


FACTORS = [
    {"id": "totp|dev_AAAAAAAAAAAAAAAA", "authenticator_type": "otp", "active": True},
    {"id": "recovery-code|dev_BBBBBBBBBBBBBBBB", "authenticator_type": "recovery-code", "active": True},
    {"id": "sms|dev_CCCCCCCCCCCCCCCC", "authenticator_type": "oob", "oob_channel": "sms", "active": True},
    {"id": "push|dev_DDDDDDDDDDDDDDDD", "authenticator_type": "oob", "oob_channel": "auth0", "active": False},
]


def test_factor_summary_keeps_stable_fields_sorted():
    assert wk.factor_summary(FACTORS) == [
        {"kind": "push", "authenticator_type": "oob", "oob_channel": "auth0", "active": False},
        {"kind": "recovery-code", "authenticator_type": "recovery-code", "oob_channel": None, "active": True},
        {"kind": "sms", "authenticator_type": "oob", "oob_channel": "sms", "active": True},
        {"kind": "totp", "authenticator_type": "otp", "oob_channel": None, "active": True}]


def test_challengeable_skips_inactive_and_recovery_code_and_puts_the_preferred_kind_first():
    assert wk.challengeable(FACTORS) == ["totp|dev_AAAAAAAAAAAAAAAA", "sms|dev_CCCCCCCCCCCCCCCC"]
    assert wk.challengeable(FACTORS, "sms") == ["sms|dev_CCCCCCCCCCCCCCCC", "totp|dev_AAAAAAAAAAAAAAAA"]


def test_requirements_are_matched_to_active_authenticators():
    requirements = {"challenge": [{"type": "phone"}, {"type": "otp"}, {"type": "push-notification"}]}
    assert wk.requirement_types(requirements) == {"challenge": ["phone", "otp", "push-notification"]}
    assert wk.requirement_types(None) == {}
    matches = wk.match_requirements(requirements, FACTORS)
    assert matches == {"phone": ["sms|dev_CCCCCCCCCCCCCCCC"], "otp": ["totp|dev_AAAAAAAAAAAAAAAA"],
                       "push-notification": []}
    assert wk.match_counts(matches) == {"phone": 1, "otp": 1, "push-notification": 0}


def test_answer_kind_of_enrollments_and_challenges():
    assert wk.answer_kind({"authenticator_type": "otp", "secret": "X"}) == "otp"
    assert wk.answer_kind({"challenge_type": "otp"}) == "otp"
    assert wk.answer_kind({"oob_code": "x", "binding_method": "prompt"}) == "code"
    assert wk.answer_kind({"authenticator_type": "oob", "oob_channel": "auth0", "oob_code": "x"}) == "push"


def test_response_summary_keeps_no_secret():
    enrollment = {"authenticator_type": "otp", "secret": "S" * 32, "barcode_uri": "otpauth://totp/x?secret=S",
                  "recovery_codes": ["R" * 24]}
    summary = wk.response_summary(enrollment)
    assert summary == {"fields": ["authenticator_type", "barcode_uri", "recovery_codes", "secret"],
                       "authenticator_type": "otp", "secret_length": 32, "barcode_uri_scheme": "otpauth",
                       "recovery_code_count": 1}
    assert "S" * 32 not in str(summary) and "R" * 24 not in str(summary)


def test_token_summary_of_an_opaque_token_has_no_audience():
    tokens = {"access_token": "opaque", "token_type": "Bearer", "expires_in": 60, "scope": "b a"}
    assert wk.token_summary(tokens) == {"fields": ["access_token", "expires_in", "scope", "token_type"],
                                        "token_type": "Bearer", "expires_in": 60, "audiences": [],
                                        "scope": ["a", "b"]}


def test_results_reads_recorded_outputs_back_later_keys_win():
    def result(key, value):
        return new_output("display_data", data={wk.RESULT_MIME: {"notebook": "n", "key": key, "value": value},
                                                "text/plain": "x"})
    nb = new_notebook(cells=[new_code_cell("a", outputs=[result("a", 1), new_output("stream", text="hi")]),
                             new_code_cell("b", outputs=[result("b", [1]), result("a", 2)])])
    assert wk.results(nb) == {"a": 2, "b": [1]}
    assert wk.results(nbformat.from_dict(nb)) == {"a": 2, "b": [1]}


# -- a walkthrough against the emulator -----------------------------------------------------------

def test_connect_gives_each_run_a_fresh_user_and_records_as_the_result_mime(connect, shown):
    first, second = connect(), connect()
    assert first.username != second.username and first.client.settings.target == "emulator"
    assert first.username not in repr(first) and "user=" in repr(first)  # an email is personal data
    first.record("status", 200)
    payload = shown[-1]
    assert payload[wk.RESULT_MIME] == {"notebook": "99_test", "key": "status", "value": 200}
    assert payload["text/plain"] == "status = 200"
    assert first.recorded == {"status": 200}


def test_record_refuses_a_secret(connect):
    run = connect()
    with pytest.raises(KitError, match="Refusing to record 'secret'"):
        run.record("secret", {"nested": run.client.settings.client_secret})
    mfa = run.mfa_required()
    with pytest.raises(KitError):
        run.record("token", mfa.mfa_token)


def test_expect_error_keeps_the_auth0_error_and_fails_when_the_call_succeeds(connect):
    run = connect()
    wrong = run.expect_error("wrong", run.client.login, run.username, "nope")
    assert (wrong.ok, wrong.status, wrong.error.error) == (False, 403, "invalid_grant")
    assert wrong.summary()["error_description"] == "Wrong email or password."
    with pytest.raises(KitError, match="should have failed"):
        run.expect_error("discovery", run.client.openid_configuration)


def test_headless_otp_enrollment_then_challenge_and_cleanup(connect):
    run = connect()
    mfa = run.mfa_required()
    enrollment = run.enroll("otp", mfa.mfa_token)
    confirmed = run.answer("enroll", mfa.mfa_token, enrollment)
    assert confirmed.ok and confirmed.status == 200 and run.access_token
    assert run.recovery_code and len(run.recovery_code) == 24
    assert wk.factor_summary(run.authenticators())[1] == {"kind": "totp", "authenticator_type": "otp",
                                                          "oob_channel": None, "active": True}
    run.finish()
    assert run.recorded["cleanup"] == {"deleted": ["totp", "recovery-code"], "left_untouched": 0}
    assert run.authenticators() == []


def test_cleanup_never_touches_the_baseline(connect):
    run = connect()
    run.baseline = {a["id"] for a in run.prepare_factors("sms")}  # as if the user had them before
    run.enroll("email")
    deleted, kept = run.cleanup()
    assert deleted == ["email"] and kept == 3  # the phone (sms and its voice twin) and the recovery code stay
    assert {wk.kind_of(a) for a in run.authenticators()} == {"sms", "voice", "recovery-code"}


def _deletes(run) -> list[tuple[str, int]]:
    return [(e.url.rsplit("/", 1)[-1].split("%7C")[0], e.status) for e in run.client.session.exchanges
            if e.method == "DELETE"]


def test_cleanup_completes_mfa_again_with_the_runs_otp_when_its_access_token_is_refused(connect):
    run = connect()
    run.prepare_factors("otp")
    run.access_token = run.mfa_required().mfa_token  # as refused as an expired one: 401
    mark = len(run.client.session)
    deleted, kept = run.cleanup()
    assert (deleted, kept) == (["totp", "recovery-code"], 0) and run.authenticators() == []
    grants = [e.request_data.get("grant_type") for e in run.client.session.exchanges[mark:]
              if e.url.endswith("/oauth/token")]
    assert grants == ["password", "http://auth0.com/oauth/grant-type/mfa-otp"]
    assert _deletes(run) == [("totp", 401), ("totp", 204), ("recovery-code", 404)]


def test_cleanup_completes_mfa_with_the_recovery_code_and_keeps_the_new_one_in_memory(connect):
    run = connect()
    run.prepare_factors("sms")           # no OTP secret: the recovery code completes MFA
    first = run.recovery_code
    run.access_token = None
    assert run.cleanup() == (["sms", "voice", "recovery-code"], 0)   # the phone's voice twin [docs]
    assert run.recovery_code not in (None, first) and run.authenticators() == []


def test_what_cleanup_cannot_complete_mfa_for_is_reported_with_the_fix_and_left(connect):
    run = connect()
    run.prepare_factors("sms")
    run.access_token = run.recovery_code = None
    with pytest.raises(CannotRemove, match="Dashboard > User Management > Users"):
        run.cleanup()
    assert {wk.kind_of(a) for a in run.authenticators()} == {"sms", "voice", "recovery-code"}


def test_cleanup_leaves_what_someone_else_enrolled_meanwhile(connect):
    run = connect()
    run.prepare_factors("otp")
    # Someone else, on the same user: not through this run's enroll(), so not the run's own.
    run.client.associate(run.access_token, ["oob"], oob_channels=["email"], email="someone@example.com")
    deleted, kept = run.cleanup()
    assert deleted == ["totp"] and kept == 2
    assert [wk.kind_of(a) for a in run.authenticators(run.mfa_required().mfa_token)] == ["email"]


def test_outbox_messages_are_this_runs_own(connect):
    mine, other = connect(), connect()
    mine.prepare_factors("sms")
    other.prepare_factors("email")
    assert mine.latest_message()["channel"] == "sms" and other.latest_message()["channel"] == "email"
    assert mine.latest_message("email") is None


def test_interactive_steps_read_what_the_widget_stored(connect):
    run = connect(headless=False)
    mfa = run.mfa_required()
    enrollment = run.enroll("otp", mfa.mfa_token)
    with pytest.raises(wk.StepPending, match="'enroll' has no result yet"):
        run.answer("enroll", mfa.mfa_token, enrollment)
    box = widgets.answer_entry(run, "enroll", mfa.mfa_token, enrollment)
    text, button = box.children[0].children
    text.value = "12345"
    assert button.disabled
    text.value = run._otp.code()
    assert not button.disabled
    button.click()
    stored = run.answer("enroll", mfa.mfa_token, enrollment)
    assert stored.ok and stored.status == 200
    assert len(box.children[1].outputs) == 1  # the outcome, shown in place


def test_a_wrong_typed_code_is_shown_as_the_auth0_error(connect):
    run = connect(headless=False)
    mfa = run.mfa_required()
    enrollment = run.enroll("otp", mfa.mfa_token)
    outcome = run.submit_code("enroll", mfa.mfa_token, enrollment, "000000" if run._otp.code() != "000000" else "111111")
    assert outcome.summary() == {"status": 403, "error": "invalid_grant", "error_description": "Invalid otp_code."}
    assert run.answer("enroll", mfa.mfa_token, enrollment) is outcome


def test_picker_stores_the_choice_and_push_buttons_approve(connect):
    run = connect(headless=False)
    factors = run.prepare_factors("sms", "push")
    picker = widgets.authenticator_picker(run, "pick", factors)
    # companions [docs]: the phone is also a voice factor, the push enrollment also an otp one
    assert [label.split(" · ")[0] for label, _ in picker.options] == [
        "SMS", "Voice call", "Push (Guardian)", "Authenticator app (OTP)"]
    assert all("|" not in label for label, _ in picker.options)  # readable: no raw id
    assert run.choose("pick", []) == picker.options[0][1]
    picker.value = picker.options[2][1]
    assert run.choose("pick", []).startswith("push|")
    mfa = run.mfa_required()
    push = run.challenge(mfa.mfa_token, run.choose("pick", []))
    approve, _ = widgets.push_buttons(run).children[0].children
    approve.click()
    assert run.answer("push", mfa.mfa_token, push).wait(30).status == 200


@pytest.mark.parametrize("approved, summary", [
    (True, {"status": 200, "token_type": "Bearer"}),
    (False, {"status": 400, "error": "access_denied", "error_description": "MFA Authorization rejected."})])
def test_push_buttons_work_while_the_poll_runs(connect, approved, summary):
    """The poll cell returns at once (the kernel stays free for widget clicks) and polls in a thread;
    the button clicked afterwards ends it."""
    run = connect(headless=False)
    run.prepare_factors("push")
    mfa = run.mfa_required()
    push = run.challenge(mfa.mfa_token, wk.challengeable(run.authenticators(), "push")[0])
    started = time.monotonic()
    poll = run.answer("push", mfa.mfa_token, push)
    assert time.monotonic() - started < 1 and isinstance(poll, wk.PushPoll)
    with pytest.raises(wk.StepPending, match="approve or reject the push"):
        poll.summary()
    assert run.answer("push", mfa.mfa_token, push) is poll  # running the cell again: the same poll
    buttons = widgets.push_buttons(run).children[0].children
    buttons[0 if approved else 1].click()
    outcome = poll.wait(30)
    assert {k: outcome.summary().get(k) for k in summary} == summary
    assert run.answer("push", mfa.mfa_token, push) is outcome
    assert outcome.summary()["status"] == summary["status"] and str(summary["status"]) in poll.view.value


def test_a_second_pass_never_shows_the_previous_pass_answer(connect):
    run = connect(headless=False)
    run.prepare_factors("sms")
    first = run.mfa_required()
    challenge = run.challenge(first.mfa_token, wk.challengeable(run.authenticators())[0])
    run.submit_code("picked", first.mfa_token, challenge, run.latest_message()["binding_code"])
    assert run.answer("picked", first.mfa_token, challenge).ok
    second = run.mfa_required()  # the learner runs the section again
    again = run.challenge(second.mfa_token, wk.challengeable(run.authenticators())[0])
    with pytest.raises(wk.StepPending):
        run.answer("picked", second.mfa_token, again)


def test_a_spent_mfa_token_sent_again_says_why_and_that_the_answer_is_a_pick(connect):
    run = connect()
    mfa = run.mfa_required()
    enrollment = run.enroll("otp", mfa.mfa_token)
    first = run.answer("enroll", mfa.mfa_token, enrollment)
    assert first.ok and first.note == ""
    again = run.answer("enroll", mfa.mfa_token, enrollment)  # the cell run a second time
    assert again.summary() == {"status": 403, "error": "invalid_grant", "error_description": "Malformed mfa_token"}
    assert "already spent: step 'enroll'" in again.note and "pick" in again.note
    assert "already spent" in again._repr_html_() and "already spent" in repr(again)
    other = run.mfa_required()
    fresh_error = run.attempt("cut", run.client.challenge, other.mfa_token[:20], "otp")
    assert fresh_error.note == ""  # a malformed token never used before gets no such note


def test_widgets_are_no_ops_headless(connect):
    run = connect(headless=True)
    assert widgets.answer_entry(run, "s", "t", {"challenge_type": "otp"}) is None
    assert widgets.authenticator_picker(run, "p", FACTORS) is None
    assert widgets.push_buttons(run) is None


@pytest.mark.parametrize("typed, code", [("123456", "123456"), (" 123 456 ", "123456"), ("12345", None),
                                         ("1234567", None), ("12a456", None), ("", None)])
def test_clean_code(typed, code):
    assert widgets.clean_code(typed) == code


def test_custom_domain_pitfalls_and_the_authorize_fix(connect):
    run = connect()
    custom = run.custom_domain_client()
    assert custom.session is run.client.session and custom.domain == "login.mfa-kit-demo.example"
    assert wk.custom_domain_audience(custom) == "https://login.mfa-kit-demo.example/mfa/"
    lookalike = run.lookalike_token(custom)
    assert run.expect_error("lookalike", custom.confirm_otp, lookalike, "000000").error.is_("invalid_audience")
    assert run.access_token is None  # a token for another API is never taken for an MFA API token
    tokens = run.authorize(custom)
    assert run.access_token == tokens["access_token"]
    assert wk.token_summary(tokens)["audiences"][0] == custom.mfa_audience


def test_the_authorize_request_is_recorded_shown_and_in_the_har(connect, tmp_path):
    run = connect()
    request = run.authorize_request()
    asked = wk.authorize_parameters(request)
    assert asked["audience"] == run.client.mfa_audience and asked["code_challenge_method"] == "S256"
    code = run.authorization_code(request)
    record = wk.authorize_record(request, run.client.session)
    assert record["answers"] == ["GET /authorize 200", "POST /u/login 302"]
    assert record["audience"] == "https://mfa-kit-demo.us.auth0.com/mfa/" and "enroll" in record["scope"]
    har = run.client.session.har()["log"]["entries"]
    authorize = next(e for e in har if e["request"]["url"].split("?")[0].endswith("/authorize"))
    assert {"name": "audience", "value": run.client.mfa_audience} in authorize["request"]["queryString"]
    login = har[-1]
    assert code not in json.dumps(har) and run.client.settings.password not in json.dumps(har)
    assert "code=[redacted" in login["response"]["redirectURL"]
    assert run.exchange_code(code, request)["access_token"] == run.access_token


def test_the_audience_without_its_trailing_slash_is_refused_at_authorize(connect):
    run = connect()
    assert wk.without_trailing_slash(run.client.mfa_audience) == "https://mfa-kit-demo.us.auth0.com/mfa"
    refused = run.client.open_authorize(run.authorize_request(audience=wk.without_trailing_slash(run.client.mfa_audience)))
    assert wk.authorize_summary(refused) == {
        "status": 302, "redirect_to": "/settings/callback", "error": "access_denied",
        "error_description": "Service not enabled within domain: https://mfa-kit-demo.us.auth0.com/mfa"}


def test_a_pasted_redirect_url_is_checked_and_recorded(connect):
    run = connect(headless=False)
    request = run.authorize_request()
    base = request.redirect_uri
    with pytest.raises(KitError, match="another /authorize request"):
        run.store_redirect("redirect", request, f"{base}?code=abc&state=not-this-one")
    with pytest.raises(KitError, match="access_denied: no"):
        run.store_redirect("redirect", request, f"{base}?error=access_denied&error_description=no")
    with pytest.raises(KitError, match="No code"):
        run.store_redirect("redirect", request, base)
    assert run.store_redirect("redirect", request, f" {base}?code=the-code-1234&state={request.state}\n") == "the-code-1234"
    recorded = run.client.session.last
    assert recorded.url == request.url and recorded.status == 302
    assert "the-code-1234" not in json.dumps(run.client.session.har())
    assert run.client.emulator is not None and run.authorization_code(request) != "the-code-1234"  # the emulator logs in itself


@pytest.mark.parametrize("move_clock, headless, moved", [("auto", True, False), ("auto", False, True),
                                                         ("false", False, False)])
def test_the_expired_lookalike_answers_as_an_expired_mfa_token_when_the_clock_may_move(
        move_clock, headless, moved, monkeypatch, shown):
    for var in ENV.values():
        if var.startswith("AUTH0_"):
            monkeypatch.setenv(var, "")
    with Emulator() as own:  # its own emulator: the clock moves a day
        monkeypatch.setenv("MFA_KIT_EMULATOR_URL", own.url)
        run = wk.connect("99_test", headless)
        custom = run.custom_domain_client()
        lookalike = run.lookalike_token(custom)
        outcome = run.after_expiry("expired", lookalike, move_clock, custom.confirm_otp, lookalike, "000000")
    if moved:
        assert outcome.summary() == {"status": 403, "error": "expired_token", "error_description": "mfa_token is expired"}
    else:
        assert list(outcome.summary()) == ["skipped"] and "shared clock" in outcome.summary()["skipped"]


def test_show_device_is_live_only_and_shows_what_the_phone_shows(connect, shown):
    headless = connect(headless=True)
    mfa = headless.mfa_required()
    headless.show_device(headless.enroll("otp", mfa.mfa_token))
    assert shown == []
    run = connect(headless=False)
    mfa = run.mfa_required()
    enrollment = run.enroll("otp", mfa.mfa_token)
    run.show_device(enrollment)
    assert run._otp.code() in shown[-1].value and run._otp.code() not in repr(shown[-1])
    sms = run.enroll("sms", run.access_token or mfa.mfa_token)
    run.show_device(sms)
    assert run.latest_message("sms")["binding_code"] in shown[-1].value
    run.show_device({"oob_channel": "auth0", "oob_code": "x"})  # push: nothing to read
    assert len(shown) == 2


def test_discovery_summary_checks_issuer_and_the_endpoints_the_flows_use():
    from types import SimpleNamespace
    client = SimpleNamespace(domain="tenant.eu.auth0.com", base_url="http://127.0.0.1:8080")
    good = {"issuer": "https://tenant.eu.auth0.com/", **{k: "https://x" for k in wk.DISCOVERY_ENDPOINTS}}
    assert wk.discovery_summary(good, client) == {"issuer_matches_domain": True, "missing_endpoints": []}
    bad = {**good, "issuer": "https://tenant.eu.auth0.com", "mfa_challenge_endpoint": None}
    assert wk.discovery_summary(bad, client) == {"issuer_matches_domain": False,
                                                 "missing_endpoints": ["mfa_challenge_endpoint"]}
