"""`mfa-kit verify --target tenant`, against the emulator rehearsing a tenant over HTTPS: the path a
real tenant takes (one shared test user, TLS, https://DOMAIN), end to end."""
from __future__ import annotations

import json
from pathlib import Path

import pyotp
import pytest

from mfa_helpers import MfaClient, Settings
from mfa_helpers.cli import main
from mfa_helpers.emulator import Emulator
from mfa_helpers.errors import MfaRequired

from test_runner import make_notebook

PHONE_FREE = ["01_setup", "02_mfa_required", "03_enroll_otp", "04_list_and_remove", "06_recovery_codes", "diagnose",
             "reproduce"]


@pytest.fixture
def tenant(monkeypatch, tmp_path):
    """A fresh rehearsal (its test user has no factor) whose settings are the environment."""
    monkeypatch.chdir(tmp_path)
    with Emulator(rehearse_tenant=True) as emu:
        for name, value in emu.tenant_environment().items():
            monkeypatch.setenv(name, value)
        yield emu


def factors_of_test_user() -> list[dict]:
    client = MfaClient(Settings.from_env(dotenv=""))
    with pytest.raises(MfaRequired) as required:
        client.login()
    return client.list_authenticators(required.value.mfa_token)


def enroll_otp_for_test_user() -> str:
    """What a person might have done to the test user: enroll an authenticator app."""
    client = MfaClient(Settings.from_env(dotenv=""))
    with pytest.raises(MfaRequired) as required:
        client.login()
    enrollment = client.associate(required.value.mfa_token)
    client.confirm_otp(required.value.mfa_token, pyotp.TOTP(enrollment["secret"]).now())
    return next(a["id"] for a in factors_of_test_user() if a["authenticator_type"] == "otp")


@pytest.mark.notebooks
def test_every_notebook_a_tenant_can_replay_passes_twice_in_a_row(tenant, capsys):
    for run in ("first", "second"):
        assert main(["verify", "--target", "tenant", "--out", f"runs/{run}"]) == 0, capsys.readouterr().err
        summary = json.loads(Path(f"runs/{run}/summary.json").read_text())
        assert [nb["name"] for nb in summary["notebooks"]] == PHONE_FREE
        assert all(nb["status"] == "passed" and nb["left_behind"] == [] for nb in summary["notebooks"])
        assert summary["nbval"]["status"] == "passed" and summary["nbval"]["tests"] > 0
        assert {nb["name"] for nb in summary["left_out"]} == {"05_challenge", "07_enroll_oob", "08_customizable_mfa",
                                                              "09_manage_from_own_ui"}
    assert factors_of_test_user() == []  # as the run found the user
    err = capsys.readouterr().err
    assert "not replayed on a tenant: 07_enroll_oob: it reads SMS, voice and email codes" in err


def test_a_test_user_with_factors_is_refused_and_left_as_it_is(tenant, capsys):
    mine = enroll_otp_for_test_user()
    make_notebook(Path("nbs/01_ok.ipynb"), "pass")

    assert main(["verify", "--target", "tenant", "--notebooks-dir", "nbs", "--no-nbval"]) == 2

    err = capsys.readouterr().err
    assert "already has authenticators: otp" in err and "fix: use a user kept for verification" in err
    assert mine in {a["id"] for a in factors_of_test_user()}  # never removed: the kit did not create it


LEAVES_AN_ENROLLMENT = """
import os
from mfa_helpers import walkthrough
wt = walkthrough.connect("leaves_an_enrollment", "true")
wt.enroll("email", wt.mfa_required().mfa_token, email="tester@example.com")
assert not os.path.exists("fail-now"), "failed half-way"
"""
EXPECTS_NO_FACTOR = """
from mfa_helpers import MfaClient
from mfa_helpers.errors import MfaRequired
client = MfaClient.connect()
try:
    client.login()
except MfaRequired as required:
    assert client.list_authenticators(required.mfa_token) == [], "the previous notebook's factor is still there"
"""


def test_what_a_notebook_leaves_behind_is_removed_before_the_next_and_fails_a_passing_one(tenant, tmp_path):
    notebooks = tmp_path / "nbs"
    make_notebook(notebooks / "01_fails_half_way.ipynb", LEAVES_AN_ENROLLMENT)
    make_notebook(notebooks / "02_expects_no_factor.ipynb", EXPECTS_NO_FACTOR)
    (notebooks / "fail-now").touch()
    make_notebook(tmp_path / "more" / "03_passes_but_leaves_one.ipynb", LEAVES_AN_ENROLLMENT)

    assert main(["verify", "--target", "tenant", "--notebooks-dir", str(notebooks), "--no-nbval", "--out", "runs/a",
                 str(notebooks / "01_fails_half_way.ipynb"), str(notebooks / "02_expects_no_factor.ipynb"),
                 str(tmp_path / "more" / "03_passes_but_leaves_one.ipynb")]) == 1

    failing, clean, sloppy = json.loads((tmp_path / "runs" / "a" / "summary.json").read_text())["notebooks"]
    assert failing["status"] == "failed" and "failed half-way" in failing["failure"]["evalue"]
    assert failing["left_behind"] == ["email", "recovery-code"]  # the recovery code came with the enrollment
    assert clean["status"] == "passed" and clean["left_behind"] == []
    assert sloppy["status"] == "failed" and sloppy["left_behind"] == ["email", "recovery-code"]
    assert "LeftBehind" in sloppy["failure"]["headline"] and "the runner removed them" in sloppy["failure"]["headline"]
    assert "removed by the runner: email, recovery-code" in (tmp_path / "runs" / "a" / "report.html").read_text()
    assert factors_of_test_user() == []


SOMEONE_ELSE_ENROLLS = """
import pyotp
from mfa_helpers import MfaClient
from mfa_helpers.errors import MfaRequired
client = MfaClient.connect()  # a person on the same test user meanwhile: nothing of this run's
try:
    client.login()
except MfaRequired as required:
    enrollment = client.associate(required.mfa_token)
    client.confirm_otp(required.mfa_token, pyotp.TOTP(enrollment["secret"]).now())
"""
CONFIRMS_THEN_FAILS = """
from mfa_helpers import walkthrough
wt = walkthrough.connect("confirms_then_fails", "true")
wt.prepare_factors("otp")
raise RuntimeError("failed before its cleanup")
"""


def test_a_factor_nobody_in_the_run_created_is_reported_and_left_alone(tenant, tmp_path):
    make_notebook(tmp_path / "nbs" / "01_someone_else.ipynb", SOMEONE_ELSE_ENROLLS)

    assert main(["verify", "--target", "tenant", "--notebooks-dir", "nbs", "--no-nbval", "--out", "runs/a"]) == 1

    [notebook] = json.loads((tmp_path / "runs" / "a" / "summary.json").read_text())["notebooks"]
    assert notebook["status"] == "failed" and notebook["left_behind"] == []
    headline = notebook["failure"]["headline"]
    assert "ForeignFactor: otp (totp|dev_" in headline and "left alone" in headline and "Fix:" in headline
    assert [a["authenticator_type"] for a in factors_of_test_user()] == ["otp", "recovery-code"]


def test_an_active_factor_the_runner_cannot_complete_mfa_for_is_reported_with_the_fix(tenant, tmp_path):
    make_notebook(tmp_path / "nbs" / "01_confirms_then_fails.ipynb", CONFIRMS_THEN_FAILS)

    assert main(["verify", "--target", "tenant", "--notebooks-dir", "nbs", "--no-nbval", "--out", "runs/a"]) == 1

    [notebook] = json.loads((tmp_path / "runs" / "a" / "summary.json").read_text())["notebooks"]
    log = (tmp_path / "runs" / "a" / "summary.json").read_text()
    assert "failed before its cleanup" in notebook["failure"]["evalue"]
    assert "RestoreFailed" in log and "Cannot delete totp|dev_" in log and "Dashboard > User Management" in log
    assert [a["authenticator_type"] for a in factors_of_test_user()] == ["otp", "recovery-code"]
