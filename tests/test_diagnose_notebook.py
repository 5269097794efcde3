"""notebooks/diagnose.ipynb headless under papermill: with its own sample (what `mfa-kit verify`
runs, on the emulator or a tenant alike: it needs neither) and with a customer's HAR as a parameter.
It shows the timeline, the claims and the findings, writes the bundle, and shows no secret."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import nbformat
import pytest

from har_shapes import Call, har_file
from mfa_helpers import protocol
from mfa_helpers.support.diagnose import diagnose
from notebook_runs import NOTEBOOKS_DIR, leaks

pytestmark = pytest.mark.notebooks

SAMPLE = NOTEBOOKS_DIR / "samples" / "custom_domain.har"
SECRET, PASSWORD = "s3cr3t-client-value-123", "Hunter2-Password!"


def run(tmp_path, *params: str):
    out = tmp_path / "diagnose.ipynb"
    command = [sys.executable, "-m", "papermill", str(NOTEBOOKS_DIR / "diagnose.ipynb"), str(out), "-k", "python3",
               "--cwd", str(tmp_path), "--no-progress-bar", *params]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return nbformat.read(out, as_version=4)


def outputs(nb) -> str:
    return json.dumps([o for c in nb.cells if c.cell_type == "code" for o in c.outputs])


def test_the_sample_is_a_redacted_browser_recording_showing_the_pitfall():
    text = SAMPLE.read_text()
    assert not leaks(text) and "Otp-demo-pass-1" not in text
    [finding] = diagnose(SAMPLE)
    assert finding.key == "custom_domain_audience" and finding.count == 3


def test_with_its_sample_as_verify_runs_it(tmp_path):
    nb = run(tmp_path, "-p", "har_path", str(SAMPLE))
    shown = outputs(nb)
    assert "sequenceDiagram" in shown and "--xApp" in shown
    assert "MFA API audience uses the custom domain \\u00d73" in shown or "custom domain ×3" in shown
    assert "https://acme.us.auth0.com/mfa/" in shown and not leaks(shown)
    [zip_path] = (tmp_path / ".mfa-kit" / "cases").glob("custom_domain-*.zip")
    assert sorted(zipfile.ZipFile(zip_path).namelist()) == ["diagnosis.md", "environment.json", "exchanges.har"]


def test_with_a_customers_har_as_a_parameter(tmp_path):
    blocked = Call("POST", "https://login.acme.com/oauth/token", 0,
                   form={"grant_type": protocol.GRANT_PASSWORD, "client_id": "spa", "client_secret": SECRET,
                         "username": "jo@acme.com", "password": PASSWORD},
                   headers={"Origin": "https://app.acme.com"})
    polls = [Call("POST", "https://acme.us.auth0.com/oauth/token", 429, at=10 + i,
                  form={"grant_type": protocol.GRANT_MFA_OOB, "oob_code": "o", "client_secret": SECRET},
                  response=protocol.ERRORS["slow_down"].body()) for i in range(40)]
    path = tmp_path / "customer.har"
    path.write_text(json.dumps(har_file("fiddler", blocked, *polls)))
    nb = run(tmp_path, "-p", "har_path", str(path), "-p", "domain", "HTTPS://ACME.US.auth0.com/")
    shown = outputs(nb)
    assert SECRET not in shown and PASSWORD not in shown and not leaks(shown)
    assert "No answer recorded (CORS or network)" in shown and "https://app.acme.com" in shown
    assert "Polling faster than Auth0 allows \\u00d740 between 05:00:10 and 05:00:49" in shown \
        or "×40 between 05:00:10 and 05:00:49" in shown
    summary = next(o for c in nb.cells if c.source == "case.summary()" for o in c.outputs)
    assert "'domain': 'acme.us.auth0.com'" in summary["data"]["text/plain"]
    [zip_path] = (tmp_path / ".mfa-kit" / "cases").glob("customer-*.zip")
    assert SECRET not in zipfile.ZipFile(zip_path).read("exchanges.har").decode()
