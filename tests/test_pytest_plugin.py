"""The pytest plugin as a user meets it: a test suite of their own, in another folder, run with
`python -m pytest`, gets `auth0_mfa_emulator` and `auth0_mfa_user` from the installed kit (entry
point `pytest11`), and a run that uses neither loads nothing of the kit."""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path


from mfa_helpers.emulator.tenant import DEMO_TENANT

USER_SUITE = '''
import requests

DOMAINS = set()


def test_a_tenant_over_https(auth0_mfa_emulator, auth0_mfa_user):
    emu = auth0_mfa_emulator
    DOMAINS.add(emu.domain)
    assert emu.url == f"https://{emu.domain}" and emu.issuer == f"https://{emu.domain}/"
    assert emu.control.health() and emu.control.tenant()["domain"] == emu.domain
    app = emu.client()
    answer = requests.post(f"https://{emu.domain}/oauth/token", verify=emu.ca_bundle, timeout=10, data={
        "grant_type": "password", "client_id": app.client_id, "client_secret": app.client_secret,
        "username": auth0_mfa_user["username"], "password": auth0_mfa_user["password"]})
    assert answer.status_code == 403 and answer.json()["error"] == "mfa_required"
    print("USER", auth0_mfa_user["username"])


def test_the_same_server_and_a_new_user(auth0_mfa_emulator, auth0_mfa_user):
    assert DOMAINS == {auth0_mfa_emulator.domain}
    print("USER", auth0_mfa_user["username"])
    env = auth0_mfa_emulator.environment()
    assert env["AUTH0_DOMAIN"] == auth0_mfa_emulator.domain
    assert env["REQUESTS_CA_BUNDLE"] == env["NODE_EXTRA_CA_CERTS"] == auth0_mfa_emulator.ca_bundle
'''

UNRELATED_SUITE = '''
import sys


def test_nothing_of_the_kit_is_loaded(request):
    assert request.config.pluginmanager.has_plugin("mfa_kit")   # registered, but not imported further
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("mfa_helpers", "starlette", "uvicorn", "requests"))
    assert loaded == [], loaded
'''


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m pytest` in `folder`, a user's own project (the kit's conftest plays no part)."""
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-s", *args],
                          cwd=folder, capture_output=True, text=True, timeout=180)


def write_suite(folder: Path, source: str) -> None:
    (folder / "test_app.py").write_text(textwrap.dedent(source))


def test_the_plugin_is_registered_by_entry_point():
    [plugin] = [ep for ep in entry_points(group="pytest11") if ep.value == "pytest_mfa_kit"]
    assert plugin.name == "mfa_kit"


def test_a_users_suite_gets_one_server_and_a_fresh_user_per_test(tmp_path):
    write_suite(tmp_path, USER_SUITE)
    ran = run_pytest(tmp_path)
    assert ran.returncode == 0 and "2 passed" in ran.stdout, ran.stdout[-3000:] + ran.stderr[-2000:]
    users = re.findall(r"USER (\S+)", ran.stdout)
    assert len(users) == 2 and users[0] != users[1]


def test_a_run_that_does_not_use_it_loads_nothing_of_the_kit(tmp_path):
    write_suite(tmp_path, UNRELATED_SUITE)
    ran = run_pytest(tmp_path)
    assert ran.returncode == 0 and "1 passed" in ran.stdout, ran.stdout[-3000:]


def test_a_tenant_file_of_ones_own(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "tenant.yaml").write_text(
        DEMO_TENANT.read_text().replace("name: MFA Kit Demo\n", "name: My App Tests\n"))
    (tmp_path / "conf" / "broken.yaml").write_text("name: [")
    (tmp_path / "pytest.ini").write_text("[pytest]\nauth0_mfa_tenant = conf/broken.yaml\n")
    tests = tmp_path / "tests"
    tests.mkdir()
    write_suite(tests, '''
        def test_it_serves_my_tenant(auth0_mfa_emulator):
            assert auth0_mfa_emulator.control.tenant()["name"] == "My App Tests"
            assert auth0_mfa_emulator.client("mfa-kit-demo-spa").public
    ''')
    # The command line (relative to where pytest starts) wins over the ini file's broken value.
    assert run_pytest(tests, "--auth0-mfa-tenant", "../conf/tenant.yaml").returncode == 0
    broken = run_pytest(tests)   # the ini value, relative to the ini file
    assert broken.returncode == 1
    assert re.search(r"conf/broken\.yaml: field `\(syntax\)`.*Fix: ", broken.stdout, re.S), broken.stdout[-3000:]
    assert "Traceback" not in broken.stdout and "During handling" not in broken.stdout


def test_its_names_leave_the_kits_own_fixtures_alone():
    conftest = Path(__file__).with_name("conftest.py").read_text()
    assert "emulator" in re.findall(r"^def (\w+)\(", conftest, re.M)
    assert not {"auth0_mfa_emulator", "auth0_mfa_user"} & set(re.findall(r"^def (\w+)\(", conftest, re.M))
