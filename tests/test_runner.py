"""`mfa-kit verify` end to end on small notebooks generated here: exit codes, the failing cell in
the report, artifact redaction, parallel replay, and the history across runs."""
from __future__ import annotations

import base64
import html
import json
import os
import re
import textwrap
from pathlib import Path

import nbformat
import pytest

from mfa_helpers import redact
from mfa_helpers.cli import main
from mfa_helpers.emulator import Emulator

RESULT_MIME = "application/vnd.mfa-kit.result+json"
PLANTED = {  # values that must never reach a file of the run folder (with the tenant's secrets)
    "MFA_KIT_TEST_API_TOKEN": "planted-api-token-Rr55",
}


def make_notebook(path: Path, *cells: str) -> Path:
    """A notebook with a `parameters` cell followed by `cells` (code)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell('headless = "auto"')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters] + [nbformat.v4.new_code_cell(textwrap.dedent(c).strip()) for c in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


RECORD = f"""
from IPython.display import display
import os
def record(key, value):  # what walkthrough.record displays
    display({{"{RESULT_MIME}": {{"notebook": "nb", "key": key, "value": value}}, "text/plain": repr(value)}}, raw=True)
"""


@pytest.fixture(scope="module")
def rehearsal():
    """A tenant for the runner: the emulator rehearsing one over HTTPS (the runner checks its test
    user before the run and after each notebook; the generated notebooks never contact it)."""
    with Emulator(rehearse_tenant=True) as emu:
        yield emu


@pytest.fixture
def tenant_env(rehearsal, monkeypatch, tmp_path):
    """The rehearsal's tenant settings and a planted secret; the working directory is `tmp_path`."""
    monkeypatch.chdir(tmp_path)  # runs/ and any .env are looked up here
    for name, value in {**rehearsal.tenant_environment(), **PLANTED}.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def planted() -> dict[str, str]:
    """Every secret of the run's environment: the tenant's client secret and password, and PLANTED."""
    return {name: os.environ[name] for name in ("AUTH0_CLIENT_SECRET", "AUTH0_PASSWORD", *PLANTED)}


def verify(*argv: str) -> int:
    return main(["verify", "--no-nbval", *argv])


def last_stdout_line(capsys) -> str:
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_broken_and_timed_out_notebooks_exit_1_and_the_report_names_their_cells(tenant_env, capsys):
    notebooks = tenant_env / "nbs"
    make_notebook(notebooks / "02_broken.ipynb", "x = 1", "# confirm the enrollment\nraise RuntimeError('enrollment refused')", "x = 3")
    make_notebook(notebooks / "04_slow.ipynb", "import time\ntime.sleep(60)")

    assert verify("--notebooks-dir", str(notebooks), "--jobs", "2", "--timeout", "2.5", "--out", "broken") == 1

    run = tenant_env / "broken"
    broken, slow = (nb["failure"] for nb in json.loads((run / "summary.json").read_text())["notebooks"])
    assert (broken["cell_index"], broken["execution_count"], broken["ename"]) == (2, 3, "RuntimeError")
    assert broken["evalue"] == "enrollment refused"
    assert (slow["cell_index"], slow["ename"]) == (1, "CellTimeoutError") and "after 3 seconds" in slow["evalue"]
    report = (run / "report.html").read_text()
    assert "cell 2 (In [3]): RuntimeError: enrollment refused" in report
    assert "# confirm the enrollment" in report
    assert 'message="cell 2 (In [3]): RuntimeError: enrollment refused"' in (run / "junit.xml").read_text()
    *_, target, report_line = capsys.readouterr().out.strip().splitlines()
    domain = os.environ["AUTH0_DOMAIN"]
    assert (target, report_line) == (f"target: TENANT {domain}", f"report: {Path('broken/report.html')}")
    assert f"Target: <strong>TENANT {domain}</strong>" in report
    # the history is where the README says, not next to a run folder given with --out
    assert (tenant_env / "runs" / "history.jsonl").is_file() and not (tenant_env / "history.jsonl").exists()


@pytest.mark.parametrize(
    ("argv", "env", "fix"),
    [
        ((), {"AUTH0_CLIENT_ID": None}, "AUTH0_CLIENT_ID"),
        (("--target", "tenant"), {"AUTH0_DOMAIN": None}, "AUTH0_DOMAIN"),
        (("zz*",), {}, "no notebook in"),
        (("--golden-dir", "missing", "--target", "tenant"), {}, "--golden-dir"),
    ],
)
def test_configuration_errors_exit_2_naming_the_fix(tenant_env, monkeypatch, capsys, argv, env, fix):
    make_notebook(tenant_env / "nbs" / "01_ok.ipynb", "pass")
    for name, value in env.items():
        monkeypatch.delenv(name)
    assert main(["verify", "--notebooks-dir", str(tenant_env / "nbs"), *argv]) == 2
    err = capsys.readouterr().err
    assert fix in err and "fix:" in err
    assert not (tenant_env / "runs").exists()


def test_empty_env_values_count_as_unset(tenant_env, monkeypatch):
    """CI passes a missing secret as "": AUTH0_DOMAIN="" must not select the tenant."""
    from mfa_helpers.runner.config import Environment, resolve_target

    monkeypatch.setenv("AUTH0_DOMAIN", "")
    assert resolve_target("auto", Environment.load()) == "emulator"


LEAKY = """
import json, os
secret, password, api_token = (os.environ[n] for n in ("AUTH0_CLIENT_SECRET", "AUTH0_PASSWORD", "MFA_KIT_TEST_API_TOKEN"))
print("client secret:", secret)
record("echo", {"password": password, "token": api_token})
with open(os.environ["MFA_KIT_HAR_PATH"], "w") as har:
    json.dump({"log": {"version": "1.2", "entries": [{"request": {"postData": {"text": f"client_secret={secret}&password={password}"}}}]}}, har)
from IPython.display import display
display({"application/vnd.jupyter.widget-view+json": {"model_id": api_token, "version_major": 2, "version_minor": 0},
         "text/plain": "widget"}, raw=True)
raise ValueError(f"login failed for password {password}")
"""


def test_planted_secrets_reach_no_file_of_the_run_folder(tenant_env):
    notebooks = tenant_env / "nbs"
    path = make_notebook(notebooks / "03_leaky.ipynb", RECORD, LEAKY)
    nb = nbformat.read(path, as_version=4)  # widget state saved in the source notebook
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {planted()["AUTH0_PASSWORD"]: {}}}}
    nbformat.write(nb, path)

    assert verify("--notebooks-dir", str(notebooks), "--out", "runs/leak") == 1

    run = tenant_env / "runs" / "leak"
    files = [p for p in run.rglob("*") if p.is_file()]
    assert {p.relative_to(run).as_posix() for p in files} >= {
        "report.html", "junit.xml", "summary.json", "notebooks/03_leaky.ipynb", "har/03_leaky.har"}
    for file in files + [tenant_env / "runs" / "history.jsonl"]:
        text = file.read_text(encoding="utf-8")
        for name, value in planted().items():
            assert value not in text, f"{name} leaked into {file.relative_to(tenant_env)}"
    executed = nbformat.read(run / "notebooks" / "03_leaky.ipynb", as_version=4)
    assert "widgets" not in executed.metadata
    outputs = [o for cell in executed.cells for o in cell.get("outputs", [])]
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert "ValueError: login failed for password [redacted" in (run / "report.html").read_text()
    assert json.loads((run / "har" / "03_leaky.har").read_text())["log"]["version"] == "1.2"


RENDEZVOUS = """
import os, pathlib, time
here = pathlib.Path(os.environ["MFA_KIT_TEST_STAMPS"])
me = pathlib.Path(os.environ["MFA_KIT_HAR_PATH"]).stem  # each notebook gets its own HAR path
(here / f"{me}.started").touch()
other = here / ("b.started" if me == "a" else "a.started")
deadline = time.time() + 30
while not other.exists():  # only returns if the other notebook is running at the same time
    assert time.time() < deadline, "the other notebook never started while this one ran"
    time.sleep(0.05)
"""


def test_notebooks_really_run_at_the_same_time(tenant_env, monkeypatch):
    stamps = tenant_env / "stamps"
    stamps.mkdir()
    monkeypatch.setenv("MFA_KIT_TEST_STAMPS", str(stamps))
    notebooks = tenant_env / "nbs"
    for name in ("a", "b"):
        make_notebook(notebooks / f"{name}.ipynb", RENDEZVOUS)

    assert verify("--notebooks-dir", str(notebooks), "--jobs", "2", "--out", "runs/par") == 0

    assert {p.name for p in stamps.iterdir()} == {"a.started", "b.started"}
    assert json.loads((tenant_env / "runs" / "par" / "summary.json").read_text())["jobs"] == 2


def test_passing_run_then_failing_run_history_and_report(tenant_env, capsys):
    notebooks = tenant_env / "nbs"
    make_notebook(notebooks / "01_flaky.ipynb", RECORD, 'record("status", 200)\nrecord("headless", os.environ["MFA_KIT_HEADLESS"])',
                  "assert not os.path.exists('fail-now')")
    assert verify("--notebooks-dir", str(notebooks)) == 0
    first_report = last_stdout_line(capsys).removeprefix("report: ")
    (notebooks / "fail-now").touch()  # the notebook runs in its own folder
    assert verify("--notebooks-dir", str(notebooks)) == 1

    runs = sorted(p for p in (tenant_env / "runs").iterdir() if p.is_dir())
    assert Path(first_report) == (runs[0] / "report.html").relative_to(tenant_env)
    summary = json.loads((runs[0] / "summary.json").read_text())
    (nb,) = summary["notebooks"]
    assert (summary["passed"], summary["exit_code"], summary["target"], summary["jobs"]) == (True, 0, "tenant", 1)
    assert nb["status"] == "passed" and nb["failure"] is None
    assert nb["results"] == [{"key": "status", "value": 200}, {"key": "headless", "value": "1"}]
    assert summary["nbval"]["status"] == "skipped"
    executed = nbformat.read(runs[0] / nb["executed"], as_version=4)
    assert "papermill" not in executed.metadata
    assert all("papermill" not in cell.metadata for cell in executed.cells)
    assert (runs[0] / "junit.xml").read_text().count("<testcase") == 2  # the notebook + the skipped nbval stage

    first, second = (json.loads(line) for line in (tenant_env / "runs" / "history.jsonl").read_text().splitlines())
    assert [first["run"], second["run"]] == [p.name for p in runs]
    assert (first["passed"], second["passed"]) == (True, False)
    assert first["notebooks"]["01_flaky"]["status"] == "passed"
    assert second["notebooks"]["01_flaky"]["status"] == "failed"
    report = (runs[1] / "report.html").read_text()
    assert first["run"] in report and second["run"] in report
    assert "✓" in report and "✗" in report
    plot = base64.b64decode(report.split('src="data:image/svg+xml;base64,')[1].split('"')[0]).decode()
    assert plot.startswith("<svg") and "01_flaky" in plot
    assert plot.count("<circle") == 2 and plot.count(">×</text>") == 1  # two runs, the second one failed


EMULATOR_CHECK = """
import json, urllib.request
url = os.environ["MFA_KIT_EMULATOR_URL"]
record("health", json.load(urllib.request.urlopen(url + "/emulator/health", timeout=5))["status"])
record("url", url)
record("auth0_domain", os.environ.get("AUTH0_DOMAIN"))
"""
WRONG_OTP = """
from mfa_helpers import MfaClient
from mfa_helpers.errors import MfaRequired
client = MfaClient.connect()
client.use_fresh_user()
try:
    client.login(audience=client.mfa_audience, scope="enroll offline_access")
except MfaRequired as required:
    mfa_token = required.mfa_token
enrollment = client.associate(mfa_token)
from mfa_helpers import VirtualAuthenticator
tokens = client.confirm_otp(mfa_token, VirtualAuthenticator(enrollment["secret"]).code())
print(enrollment)  # raw answers displayed every way a person does: none may reach the run folder
print(json.dumps(tokens, indent=2))
print(f"secret={enrollment['secret']}&recovery_code={enrollment['recovery_codes'][0]}")
display(tokens)
try:
    client.login(audience=client.mfa_audience, scope="enroll")
except MfaRequired as required:
    mfa_token = required.mfa_token
try:
    client.confirm_otp(mfa_token, str(7 * 111111))  # a wrong code that the source does not spell
finally:
    client.session.to_har(os.environ["MFA_KIT_HAR_PATH"])
    with open(os.environ["TEST_KNOWN_SECRETS"], "w") as f:  # for the test only, outside the run folder
        json.dump(sorted(client.session.known_secrets()), f)
"""


def test_emulator_run_fresh_emulator_diagnosis_and_no_session_secret(tmp_path, monkeypatch):
    """On a fresh emulator (stopped after): the wrong OTP fails the notebook at its cell, the
    report carries the diagnosis, and no secret of the session reaches the run folder."""
    import urllib.error
    import urllib.request

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTH0_DOMAIN", "must-not-be-used.example.invalid")  # --target emulator wins
    monkeypatch.setenv("TEST_KNOWN_SECRETS", str(tmp_path / "known.json"))
    make_notebook(tmp_path / "nbs" / "05_wrong_otp.ipynb", RECORD, EMULATOR_CHECK, WRONG_OTP)

    assert verify("--notebooks-dir", str(tmp_path / "nbs"), "--target", "emulator", "--out", "runs/emu") == 1

    run = tmp_path / "runs" / "emu"
    summary = json.loads((run / "summary.json").read_text())
    (nb,) = summary["notebooks"]
    results = {r["key"]: r["value"] for r in nb["results"]}
    assert (summary["target"], results["health"], results["auth0_domain"]) == ("emulator", "ok", "")
    assert "Target: <strong>EMULATOR (no tenant was tested" in (run / "report.html").read_text()
    assert nb["failure"]["cell_index"] == 3 and "Invalid otp_code." in nb["failure"]["evalue"]
    assert nb["har"] == "har/05_wrong_otp.har" and nb["diagnosis"], "no diagnosis for a wrong OTP"
    assert any("otp" in line.lower() for line in nb["diagnosis"]), nb["diagnosis"]
    assert html.escape(nb["diagnosis"][-1]) in (run / "report.html").read_text()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(results["url"] + "/emulator/health", timeout=2)
    secrets = json.loads((tmp_path / "known.json").read_text())
    assert len(secrets) >= 6  # password, client secret, mfa_tokens, TOTP seed, recovery code, refresh token...
    executed = (run / "notebooks" / "05_wrong_otp.ipynb").read_text()
    assert "'authenticator_type': 'otp'" in executed and "refresh_token" in executed  # the answers were shown
    for file in (p for p in run.rglob("*") if p.is_file()):
        text = file.read_text(encoding="utf-8")
        leaked = [s[:4] for s in secrets if re.search(redact.secret_pattern(s), text)]
        assert not leaked, f"session secrets (first characters shown) leaked into {file.name}: {leaked}"


def golden(path: Path, *cells: str) -> None:
    """A golden executed notebook: `cells` are pairs of a cell's source and what it must print again."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for count, (source, printed) in enumerate(zip(cells[::2], cells[1::2]), start=1):
        cell = nbformat.v4.new_code_cell(source, execution_count=count)
        if printed:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
        nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_nbval_compares_each_executed_notebook_with_its_golden_through_the_sanitizer(tenant_env):
    count = "_ = open('executions.txt', 'a').write('x')  # each execution of this notebook leaves an x"
    make_notebook(tenant_env / "nbs" / "01_same.ipynb", "import os, uuid\nprint(os.environ['MFA_KIT_HEADLESS'], uuid.uuid4())", count)
    make_notebook(tenant_env / "nbs" / "02_drift.ipynb", "print(1 + 1)")
    goldens = tenant_env / "golden"
    golden(goldens / "01_same.ipynb", 'headless = "auto"', "",
           "import os, uuid\nprint(os.environ['MFA_KIT_HEADLESS'], uuid.uuid4())",
           "1 0b7c3a52-1c6f-4f43-9d0e-3f3b8f0b9d11\n", count, "")  # another uuid each run: the sanitizer's job
    golden(goldens / "02_drift.ipynb", 'headless = "auto"', "", "print(1 + 1)", "3\n")
    golden(goldens / "03_not_replayed.ipynb", "print(1)", "1\n")  # no such notebook in the run: not compared
    (goldens / "nbval_sanitize.cfg").write_text(
        "[uuid]\nregex: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\nreplace: UUID\n")

    assert main(["verify", "--notebooks-dir", str(tenant_env / "nbs"), "--golden-dir", str(goldens),
                 "--out", "runs/nbval"]) == 1

    run = tenant_env / "runs" / "nbval"
    nbval = json.loads((run / "summary.json").read_text())["nbval"]
    assert (nbval["status"], nbval["tests"], nbval["failed"]) == ("failed", 5, 1)
    (drift,) = [c for c in nbval["cases"] if c["failure"] is not None]
    assert "02_drift" in drift["name"] and "Cell outputs differ" in drift["failure"]
    assert "02_drift" in (run / "report.html").read_text() and (run / "nbval.log").is_file()
    assert (tenant_env / "nbs" / "executions.txt").read_text() == "x", "a notebook was executed twice"


def test_notebook_selection_by_glob_prefix_stem_and_path(tmp_path):
    from mfa_helpers.runner.config import select_notebooks

    for name in ("01_setup", "03_enroll_otp", "05_challenge", "_draft"):
        make_notebook(tmp_path / f"{name}.ipynb", "pass")
    other = make_notebook(tmp_path / "elsewhere" / "extra.ipynb", "pass")
    names = lambda patterns: [p.name for p in select_notebooks(tmp_path, patterns)]  # noqa: E731

    assert names([]) == ["01_setup.ipynb", "03_enroll_otp.ipynb", "05_challenge.ipynb"]
    assert names(["0[35]*"]) == ["03_enroll_otp.ipynb", "05_challenge.ipynb"]
    assert names(["05", "01_setup"]) == ["05_challenge.ipynb", "01_setup.ipynb"]
    assert names([str(other), "03*"]) == ["extra.ipynb", "03_enroll_otp.ipynb"]


@pytest.mark.parametrize("text, reason", [
    ('[1, 2]', "not a JSON object"),
    ('{"nbformat": 5, "cells": []}', "nbformat version 5"),
    ('{"nbformat": 4, "metadata": {}}', "no list of cells"),
    ('{"nbformat": 4, "cells": ["print(1)"]}', "no list of cells"),
    ('{"nbformat": 3, "cells": []}', "no list of cells"),
])
def test_a_file_nbformat_would_refuse_is_refused_before_the_run(tmp_path, text, reason):
    """The same files nbformat's reader refuses, found without importing nbformat in the run's process."""
    from mfa_helpers.runner.config import ConfigError, select_notebooks

    (tmp_path / "01_x.ipynb").write_text(text)
    with pytest.raises(ConfigError, match=re.escape(f"01_x.ipynb is not a notebook Jupyter can open ({reason}")):
        select_notebooks(tmp_path, [])
    with pytest.raises(Exception):
        nbformat.read(tmp_path / "01_x.ipynb", as_version=4)


def test_verify_plans_without_importing_nbformat_or_the_other_commands(tmp_path):
    """The plan runs before any worker starts, so what it imports delays every notebook: a bad
    selection is refused with nbformat, the emulator's CLI and the support commands unloaded."""
    code = ("import sys; from mfa_helpers.cli import main; code = main(['verify', 'no-such-notebook']); "
            "print(code, sorted(m for m in ('nbformat', 'mfa_helpers.emulator.cli', 'mfa_helpers.support.bundle', "
            "'mfa_helpers.support.cli_diagnose', 'mfa_helpers.runner.lab') if m in sys.modules))")
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.stdout.strip() == "2 []", done.stdout + done.stderr
    assert "no notebook in" in done.stderr


def test_dotenv_fills_what_the_environment_leaves_unset(tmp_path, monkeypatch):
    from mfa_helpers.runner.config import Environment, resolve_target

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTH0_DOMAIN", raising=False)
    monkeypatch.setenv("AUTH0_CLIENT_ID", "from-env")
    (tmp_path / ".env").write_text("AUTH0_DOMAIN=t.example.auth0.com\nAUTH0_CLIENT_ID=from-dotenv\n")
    env = Environment.load()
    assert env.values["AUTH0_CLIENT_ID"] == "from-env"
    with pytest.raises(Exception, match="AUTH0_USERNAME, AUTH0_PASSWORD are not set"):
        resolve_target("auto", env)
