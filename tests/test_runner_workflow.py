"""The scheduled-verify workflow keeps the promises the README makes about it."""
from __future__ import annotations

from pathlib import Path

import yaml

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "scheduled-verify.yml"


def load() -> dict:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as a boolean
    return workflow


def steps() -> dict[str, dict]:
    return {step.get("name", step.get("uses")): step for step in load()["jobs"]["verify"]["steps"]}


def test_cron_and_manual_trigger_with_target_and_notebooks_inputs():
    triggers = load()["on"]
    assert triggers["schedule"][0]["cron"].split()[2:] == ["*", "*", "*"]
    inputs = triggers["workflow_dispatch"]["inputs"]
    assert inputs["target"]["options"] == ["auto", "emulator", "tenant"]
    assert "notebooks" in inputs


def test_runs_never_overlap():
    assert load()["concurrency"] == {"group": "scheduled-verify", "cancel-in-progress": False}


def test_secrets_are_passed_one_by_one_and_inputs_through_the_environment():
    verify = steps()["Verify"]
    assert "make verify" in verify["run"]
    assert "${{" not in verify["run"], "inputs pasted into the script can inject commands"
    for name in ("AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "AUTH0_USERNAME", "AUTH0_PASSWORD"):
        assert verify["env"][name] == f"${{{{ secrets.{name} }}}}"
    assert "toJSON(secrets)" not in WORKFLOW.read_text()


def test_run_folder_uploaded_whether_the_run_passed_or_not():
    upload = steps()["Upload the run folder"]
    assert upload["if"] == "always()" and upload["uses"].startswith("actions/upload-artifact@")
    assert "runs/${{ github.run_id }}-${{ github.run_attempt }}/" in upload["with"]["path"]
