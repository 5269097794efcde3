"""Which factors a run created (mfa_helpers.ownership): matched to its own enrollments, companions
with their twin, the recovery code only when nothing else is new."""
from mfa_helpers.ownership import claim, enrolled_kind, enrollments_in_har


def factor(kind: str, device: str) -> dict:
    return {"id": f"{kind}|dev_{device}"}


def ids(factors: list[dict]) -> list[str]:
    return [a["id"] for a in factors]


def test_companions_go_with_their_twin_and_the_recovery_code_with_the_runs_factors():
    new = [factor("sms", "A"), factor("voice", "A"), factor("push", "B"), factor("totp", "B"),
           factor("recovery-code", "R")]
    mine, others = claim(new, ["sms", "auth0"])
    assert ids(mine) == ids(new) and others == []


def test_a_factor_no_enrollment_of_the_run_accounts_for_is_someone_elses_and_so_is_the_recovery_code():
    new = [factor("totp", "A"), factor("recovery-code", "R"), factor("totp", "C"), factor("email", "D")]
    mine, others = claim(new, ["otp"])
    assert ids(mine) == ["totp|dev_A"]
    assert ids(others) == ["recovery-code|dev_R", "totp|dev_C", "email|dev_D"]
    assert claim(new[:1], []) == ([], new[:1])


def test_kinds_come_from_the_associate_answers_of_a_har():
    def entry(path: str, status: int, body: str) -> dict:
        return {"startedDateTime": "2026-01-01T00:00:00Z", "time": 1,
                "request": {"method": "POST", "url": f"https://t.example{path}", "headers": []},
                "response": {"status": status, "headers": [], "content": {"mimeType": "application/json",
                                                                          "text": body}}}
    har = {"log": {"entries": [
        entry("/mfa/associate", 200, '{"authenticator_type": "otp", "secret": "[REDACTED]"}'),
        entry("/mfa/associate", 403, '{"error": "access_denied"}'),
        entry("/oauth/token", 200, '{"token_type": "Bearer"}'),
        entry("/mfa/associate", 200, '{"authenticator_type": "oob", "oob_channel": "sms"}')]}}
    assert enrollments_in_har(har) == ["otp", "sms"]
    assert enrolled_kind({"authenticator_type": "oob", "oob_channel": "auth0"}) == "auth0"
