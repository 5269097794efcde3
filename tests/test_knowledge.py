"""One knowledge base: every error the kit knows is explained once, and the client's errors, the
diagnosis and the emulator's control all say what it holds."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from mfa_helpers import knowledge, protocol
from mfa_helpers.emulator.control import EmulatorControl, EmulatorError
from mfa_helpers.errors import error_for
from mfa_helpers.exchange import Exchange
from mfa_helpers.support.diagnose import diagnose

PACKAGE = Path(__file__).resolve().parents[1] / "mfa_helpers"


@pytest.mark.parametrize("key", sorted(protocol.ERRORS))
def test_every_protocol_error_is_explained_for_each_reader(key):
    k = knowledge.about(key)
    assert k is not None, f"add {key} to mfa_helpers/knowledge.py"
    assert all([k.title, k.cause, k.code_fix, k.support_fix]) and k.doc.startswith("https://auth0.com/docs/")
    assert "protocol.py" not in k.support_fix   # a customer's fix never asks to edit the kit


def test_the_canonical_domain_replaces_the_placeholder_everywhere():
    k = knowledge.about("already_enrolled", "acme.eu.auth0.com")
    assert "https://acme.eu.auth0.com/mfa/" in k.support_fix
    assert knowledge.CANONICAL_PLACEHOLDER not in k.support_fix + k.cause + k.code_fix


def _answer(key: str, **fields) -> Exchange:
    spec = protocol.ERRORS[key]
    return Exchange("POST", "https://acme.eu.auth0.com/oauth/token", status=spec.status,
                    request_headers={"Content-Type": "application/x-www-form-urlencoded"},
                    request_body="grant_type=password",
                    response_headers={"Content-Type": "application/json"},
                    response_body=json.dumps(spec.body(**fields)))


def test_the_client_and_the_diagnosis_read_the_same_entry():
    exchange = _answer("grant_not_allowed", grant_type=protocol.GRANT_REFRESH_TOKEN)
    k = knowledge.about("grant_not_allowed")
    assert error_for(exchange).fix == k.code_fix and k.code_fix in str(error_for(exchange))
    [finding] = diagnose([exchange])
    assert (finding.title, finding.explanation, finding.fix, finding.doc_url) == (
        k.title, k.cause, k.support_fix, k.doc)


def test_the_emulator_control_reads_it_too(emulator):
    with pytest.raises(EmulatorError) as caught:
        EmulatorControl(emulator.url).approve_push("no-such-transaction")
    assert caught.value.fix == knowledge.about("emulator_unknown_transaction").code_fix


def test_no_module_below_support_imports_support():
    """support/ sits on top: the client, errors, emulator and protocol never import it."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ("support", "runner") or relative.name == "cli.py" and len(relative.parts) == 1:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any("support" in name.split(".") for name in names):
                offenders.append(str(relative))
    assert sorted(set(offenders)) == []
