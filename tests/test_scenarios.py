"""Every scenario of the catalogue, played on the emulator over HTTP: the steps end in the
scenario's symptom, diagnose() names the expected problem (from the live session and from the HAR
the kit writes), and the fix then succeeds. A new scenario is tested by being in the catalogue."""
from __future__ import annotations

import argparse
import json
import zipfile

import pytest

from mfa_helpers import MfaClient, Settings, protocol
from mfa_helpers.support.diagnose import diagnose
from mfa_helpers.emulator import Emulator
from mfa_helpers.support import cli_diagnose, scenarios
from mfa_helpers.support.bundle import write_bundle


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as emu:
        yield emu


def client_for(emu) -> MfaClient:
    return MfaClient(Settings(emulator_url=emu.url))


@pytest.mark.parametrize("name", sorted(scenarios.CATALOGUE))
def test_scenario_reproduces_is_diagnosed_and_fixed(emulator, name, tmp_path):
    client = client_for(emulator)
    scenario = scenarios.CATALOGUE[name]
    repro = scenarios.start(name, client)
    failure = repro.reproduce()
    assert failure.is_(scenario.symptom), failure
    assert repro.finding is not None and repro.finding.key == scenario.diagnosis, repro.findings
    assert repro.finding.doc_url.startswith("https://auth0.com/docs/")

    # the HAR the kit writes (redacted) leads to the same diagnosis
    har = client.session.to_har(tmp_path / "session.har")
    from_har = [f for f in diagnose(har, canonical_domain=client.settings.domain)
                if repro.failing_exchange + 1 in f.numbers]   # diagnose numbers exchanges from 1
    assert [f.key for f in from_har] == [scenario.diagnosis]

    fixed = repro.apply_fix()
    assert fixed is not None
    summary = repro.summary()
    assert summary["reproduced"] and summary["diagnosed"] and summary["fixed"]
    assert summary["symptom"]["error"] == scenario.error.error
    text = json.dumps(summary)
    assert not [s for s in client.session.known_secrets() if len(s) >= 6 and s in text]


def test_catalogue_is_consistent():
    assert len(scenarios.CATALOGUE) >= 15
    for s in scenarios.CATALOGUE.values():
        assert s.symptom in protocol.ERRORS
        assert set(s.needs) <= set(scenarios.EMULATOR_FEATURES) | {"custom_domain"}
        assert s.title and s.explanation


def test_tenant_target_says_what_the_scenario_needs():
    tenant = MfaClient(Settings(domain="acme.eu.auth0.com", client_id="abc", client_secret="s",
                                username="u@example.com", password="p"))
    with pytest.raises(scenarios.ScenarioUnavailable) as caught:
        scenarios.start("expired_mfa_token", tenant)
    assert caught.value.missing == ["fresh_user", "outbox", "clock"]
    assert "POST /emulator/clock" in str(caught.value)
    with pytest.raises(scenarios.ScenarioUnavailable) as caught:
        scenarios.start("custom_domain_audience", tenant)
    assert caught.value.missing == ["custom_domain"]
    with_custom = MfaClient(tenant.settings.with_(custom_domain="login.acme.example"))
    assert scenarios.start("custom_domain_audience", with_custom).scenario.name == "custom_domain_audience"
    with pytest.raises(Exception, match="No scenario 'nope'"):
        scenarios.start("nope", tenant)
    with pytest.raises(Exception, match="target='emulator'"):
        scenarios.start("custom_domain_audience", with_custom, target="emulator")


def test_cli_explains_a_kit_written_har(emulator, tmp_path, capsys):
    client = client_for(emulator)
    scenarios.start("custom_domain_api", client).reproduce()
    har = client.session.to_har(tmp_path / "kit.har")
    parser = argparse.ArgumentParser()
    cli_diagnose.add_arguments(parser)
    assert cli_diagnose.run(parser.parse_args([str(har), "--domain", client.settings.domain])) == 1
    out = capsys.readouterr().out
    assert "MFA API audience uses the custom domain" in out
    assert "https://mfa-kit-demo.us.auth0.com/mfa/" in out and "invalid audience" in out


def test_bundle_of_a_real_session_holds_no_session_secret(emulator, tmp_path):
    client = client_for(emulator)
    scenarios.run("recovery_code_reused", client)
    out = write_bundle(tmp_path / "case.zip", client=client, env={})
    with zipfile.ZipFile(out) as archive:
        texts = {n: archive.read(n).decode() for n in archive.namelist()}
    assert sorted(texts) == ["diagnosis.md", "environment.json", "exchanges.har"]
    secrets = [s for s in client.session.known_secrets() if len(s) >= 8]
    assert secrets and not [s for s in secrets for t in texts.values() if s in t]
    assert "Recovery code reused" in texts["diagnosis.md"]
    assert json.loads(texts["environment.json"])["target"] == "emulator"
