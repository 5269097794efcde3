"""HAR 1.2 written by the kit: parsed by a third-party reader, redacted like every other output."""
import json
from datetime import datetime, timezone

from haralyzer import HarParser

from mfa_helpers.exchange import Exchange, Session

MFA_TOKEN = "Fe26.2*1*" + "q7" * 400
PASSWORD = "Pl4nted-password!"


def _session() -> Session:
    session = Session()
    session.record(Exchange(
        "POST", "http://127.0.0.1:8787/oauth/token",
        {"Host": "login.example", "Content-Type": "application/json"},
        json.dumps({"grant_type": "password", "username": "learner@example.com", "password": PASSWORD}),
        403, "Forbidden", {"Content-Type": "application/json", "x-ratelimit-remaining": "9"},
        json.dumps({"error": "mfa_required", "error_description": "Multifactor authentication required",
                    "mfa_token": MFA_TOKEN, "mfa_requirements": {"challenge": [{"type": "otp"}]}}),
        datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc), 0.042))
    session.record(Exchange("GET", "https://nowhere.invalid/mfa/authenticators",
                            {"Authorization": f"Bearer {MFA_TOKEN}"}, error="dns: no such host"))
    return session


def test_har_parses_with_haralyzer_and_keeps_status_method_and_timing(tmp_path):
    path = _session().to_har(tmp_path / "flow.har")
    har = HarParser.from_file(str(path))
    entries = [entry for page in har.pages for entry in page.entries]
    assert har.har_data["version"] == "1.2"
    assert [(e.request.method, e.response.status, e.url) for e in entries] == [
        ("POST", 403, "http://127.0.0.1:8787/oauth/token"),
        ("GET", 0, "https://nowhere.invalid/mfa/authenticators")]
    assert entries[0].time == 42.0 and entries[0].raw_entry["startedDateTime"].startswith("2026-11-23T11:00:00")
    assert {"name": "Host", "value": "login.example"} in entries[0].request.headers
    assert entries[1].raw_entry["_error"].startswith("dns")


def test_har_holds_no_secret_but_keeps_the_error_and_masked_email(tmp_path):
    text = _session().to_har(tmp_path / "flow.har").read_text()
    assert MFA_TOKEN not in text and PASSWORD not in text and "learner@example.com" not in text
    assert "mfa_required" in text and "Fe26.2*…[redacted, 809 chars]" in text
