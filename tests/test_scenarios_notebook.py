"""notebooks/reproduce.ipynb headless under papermill, for a few scenarios at once on one emulator:
it records the symptom, the diagnosis and the fix, writes a case bundle, and its outputs and HAR
hold no secret."""
from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from mfa_helpers import redact
from mfa_helpers.support.diagnose import diagnose
from mfa_helpers.emulator import Emulator
from mfa_helpers.support.scenarios import CATALOGUE
from mfa_helpers.walkthrough import results
from notebook_runs import NOTEBOOKS_DIR, headless_env

pytestmark = pytest.mark.notebooks

SCENARIOS = ("custom_domain_audience", "push_polled_too_fast")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce")
    with Emulator() as emu:
        def run(name):
            command = [sys.executable, "-m", "papermill", str(NOTEBOOKS_DIR / "reproduce.ipynb"),
                       str(out / f"{name}.ipynb"), "-k", "python3", "--cwd", str(out),
                       "--no-progress-bar", "-p", "scenario", name]
            env = headless_env(emu.url, MFA_KIT_HAR_PATH=str(out / f"{name}.har"))
            return name, subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        with ThreadPoolExecutor(len(SCENARIOS)) as pool:
            done = dict(pool.map(run, SCENARIOS))
        tenant = emu.tenant
    return out, done, tenant


@pytest.mark.parametrize("name", SCENARIOS)
def test_reproduce_notebook_records_symptom_diagnosis_fix_and_bundle(runs, name):
    out, done, _ = runs
    assert done[name].returncode == 0, done[name].stderr[-3000:]
    recorded = results(out / f"{name}.ipynb")
    scenario = CATALOGUE[name]
    assert recorded["scenario"] == name
    assert recorded["symptom"]["error"] == scenario.error.error
    assert recorded["symptom"]["status"] == scenario.error.status
    assert recorded["diagnosis"] == scenario.diagnosis
    assert recorded["fixed"] == {"reproduced": True, "diagnosed": True, "fixed": True,
                                 "fix_answer": recorded["fixed"]["fix_answer"]}
    assert recorded["bundle"] == ["diagnosis.md", "environment.json", "exchanges.har"]
    assert list((out / ".mfa-kit" / "cases").glob(f"{name}-*.zip"))
    # the HAR the notebook saved tells the same story to `mfa-kit diagnose`
    assert scenario.diagnosis in [f.key for f in diagnose(out / f"{name}.har")]


@pytest.mark.parametrize("name", SCENARIOS)
def test_reproduce_notebook_outputs_hold_no_secret(runs, name):
    out, _, tenant = runs
    text = (out / f"{name}.ipynb").read_text() + (out / f"{name}.har").read_text()
    secrets = [c.client_secret for c in tenant.clients if c.client_secret]
    secrets += [u.password for u in tenant.users]
    assert not [s for s in secrets if s in text]
    assert not re.search(r"Fe26\.2\*[A-Za-z0-9_*.~-]{20,}", text)       # sealed tokens
    assert not [m for m in redact.JWT_RE.findall(text)]                  # full JWTs (signature kept)
    assert "otpauth://totp/" not in text.replace("otpauth://…", "")
