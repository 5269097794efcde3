"""The client against Auth0's recorded answers (../shared/conformance): recorded errors get the
right class and protocol spec, and redaction hides every secret in real-shaped bodies."""
import json
import re
from pathlib import Path

import pytest

from mfa_helpers import AuthorizationPending, MfaRequired, redact
from mfa_helpers.errors import error_for
from mfa_helpers.exchange import Exchange

RECORDINGS = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "recorded-mfa-exchanges.json"
if not RECORDINGS.exists():
    pytest.skip("../shared/conformance is not available", allow_module_level=True)
TRUSTED = ("recorded", "captured-looking", "docs-sample")
EXCHANGES = [x for x in json.loads(RECORDINGS.read_text()) if x["fidelity"].startswith(TRUSTED)]


def _exchange(recorded: dict) -> Exchange:
    body = recorded["response"].get("body")
    return Exchange(recorded["method"], f"https://tenant.example{recorded['path']}",
                    status=recorded["status"], response_headers={"Content-Type": "application/json"},
                    response_body=json.dumps(body) if body is not None else None,
                    request_headers={"Content-Type": "application/json"},
                    request_body=json.dumps(recorded["request"].get("body")) if recorded["request"].get("body") else None)


ERRORS = [x for x in EXCHANGES if x["status"] >= 400]


@pytest.mark.parametrize("recorded", ERRORS, ids=[f"{x['status']}-{x['response']['body']['error']}" for x in ERRORS])
def test_recorded_errors_get_their_class_and_spec(recorded):
    error = error_for(_exchange(recorded))
    expected = {"mfa_required": MfaRequired, "authorization_pending": AuthorizationPending}
    assert isinstance(error, expected.get(error.error, type(error)))
    assert error.specs, f"no protocol spec matches {recorded['status']} {recorded['response']['body']}"
    if isinstance(error, MfaRequired):
        assert error.mfa_token == recorded["response"]["body"]["mfa_token"]
        assert error.mfa_requirements == recorded["response"]["body"].get("mfa_requirements", {})


@pytest.mark.parametrize("recorded", EXCHANGES, ids=[f"{x['method']} {x['path']} {x['status']}" for x in EXCHANGES])
def test_redaction_hides_every_secret_of_recorded_bodies(recorded):
    exchange = _exchange(recorded)
    secrets = {s for s in exchange.own_secrets() if s != "..."}  # the docs samples' placeholder
    shown = json.dumps(exchange.redacted()) + exchange.to_curl()
    leaked = [s for s in secrets if re.search(redact.secret_pattern(s), shown)]
    assert not leaked
