"""What the diagnose notebook shows, from mfa_helpers.support.har_view (the notebook itself only
calls and displays): the sequence diagram, the claims table, uploads; and the notebook's shape."""
from __future__ import annotations

import json

import pytest

import test_notebooks_contract as contract
from har_shapes import Call, har_file
from mfa_helpers import protocol
from mfa_helpers.support import har, har_view
from mfa_helpers.support.diagnose import diagnose, observe
from test_diagnose_customers import CANONICAL, CUSTOM, err, jwt, token_call


def test_the_diagram_numbers_exchanges_and_crosses_out_the_failing_ones():
    calls = [Call("GET", "https://cdn.example.net/app.js", 200),
             token_call(CUSTOM, protocol.GRANT_PASSWORD, 403, {**err("mfa_required"), "mfa_token": "Fe26.x"}, at=1),
             token_call(CUSTOM, protocol.GRANT_MFA_OTP, 403, err("invalid_otp"), at=2, otp="1; #2")]
    observed = observe(har_file("chrome", *calls))
    text = har_view.sequence_diagram(observed, diagnose(observed))
    assert text.startswith("sequenceDiagram") and "cdn.example.net" not in text
    assert f"participant H0 as {CUSTOM}" in text
    assert "App->>H0: 2. POST /oauth/token (password) at 10:00:01\n    H0-->>App: 403 mfa_required" in text
    assert ("App->>H0: 3. POST /oauth/token (mfa-otp) at 10:00:02\n    H0--xApp: 403 invalid_grant\n"
            "    Note over App,H0: The one-time code was refused") in text


def test_the_claims_table_reads_every_jwt_never_the_token():
    access = jwt({"iss": f"https://{CANONICAL}/", "aud": f"https://{CANONICAL}/mfa/", "exp": 1_800_000_000,
                  "email": "jo@acme.com"})
    call = Call("GET", f"https://{CANONICAL}/mfa/authenticators", 200, response=[],
                headers={"Authorization": f"Bearer {access}"})
    rows = har_view.token_claims(observe(har_file("firefox", call)))
    claims = {claim: value for _, where, claim, value in rows if where == "request bearer"}
    assert claims["aud"] == f"https://{CANONICAL}/mfa/" and claims["exp"].startswith("2027-01-15")
    assert claims["email"] != "jo@acme.com" and access not in json.dumps(rows, default=str)


def test_an_upload_is_checked_and_saved_out_of_git(tmp_path):
    good = json.dumps(har_file("safari")).encode("utf-16")
    saved = har_view.save_upload("../../customer.har", good, tmp_path)
    assert saved.parent == tmp_path and saved.name.endswith("-customer.har")
    with pytest.raises(har.HarError, match="customer.json is not a HAR file"):
        har_view.save_upload("customer.json", b'{"hello": 1}', tmp_path)


@pytest.mark.parametrize("check", [contract.test_committed_without_outputs_or_execution_counts,
                                   contract.test_cells_are_calls_and_displays])
def test_the_notebook_is_thin(check):
    check("diagnose")


def test_its_parameters_are_documented_and_secret_free():
    from papermill.inspection import _infer_parameters
    from papermill.iorw import load_notebook_node
    params = _infer_parameters(load_notebook_node(str(contract.NOTEBOOKS_DIR / "diagnose.ipynb")))
    assert [p.name for p in params] == ["har_path", "domain"] and all(p.help for p in params)
