"""The case bundle: written when clean, refused (with file and place) when a secret would leak.

Built from a hand-made Session and executed notebook with planted secrets, so each test knows
exactly which values must never reach the zip. The scenario tests bundle a real emulator session.
"""
from __future__ import annotations

import argparse
import base64
import json
import zipfile
from datetime import datetime, timezone
from urllib.parse import quote_plus

import pytest

import mfa_helpers
from mfa_helpers import protocol
from mfa_helpers.exchange import Exchange, Session
from mfa_helpers.support import cli_bundle
from mfa_helpers.support.bundle import SecretLeak, redacted_notebook, scan, write_bundle

CLIENT_SECRET = "cl1ent+secret/with=odd&chars"
PASSWORD = "Pa55 word!"
MFA_TOKEN = "Fe26.2*1*" + "q" * 300
OTP = "482913"
ENV = {"AUTH0_CLIENT_SECRET": CLIENT_SECRET, "AUTH0_PASSWORD": PASSWORD}
SECRETS = (CLIENT_SECRET, PASSWORD, MFA_TOKEN, OTP)
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def session() -> Session:
    s = Session()
    s.record(Exchange(
        "POST", "https://acme.eu.auth0.com/oauth/token", {"Content-Type": "application/json"},
        json.dumps({"grant_type": "password", "client_id": "abc", "client_secret": CLIENT_SECRET,
                    "username": "u@example.com", "password": PASSWORD}),
        403, "Forbidden", {"Content-Type": "application/json"},
        json.dumps(protocol.ERRORS["mfa_required"].body() | {"mfa_token": MFA_TOKEN}), started=T0))
    s.record(Exchange(
        "POST", "https://acme.eu.auth0.com/oauth/token", {"Content-Type": "application/json"},
        json.dumps({"grant_type": protocol.GRANT_MFA_OTP, "client_id": "abc",
                    "client_secret": CLIENT_SECRET, "mfa_token": MFA_TOKEN, "otp": OTP}),
        403, "Forbidden", {"Content-Type": "application/json"},
        json.dumps(protocol.ERRORS["invalid_otp"].body()), started=T0))
    return s


def notebook(*texts: str, image: bool = False) -> dict:
    outputs = [{"output_type": "stream", "name": "stdout", "text": text} for text in texts]
    if image:
        outputs.append({"output_type": "display_data", "metadata": {},
                        "data": {"image/png": "iVBORw0KGgoAAAANSUhEUg==", "text/plain": "<QR>"}})
        outputs.append({"output_type": "display_data", "metadata": {},
                        "data": {"text/html": '<img src="data:image/png;base64,iVBORw0KGgo=">'}})
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3"}, "papermill": {"parameters": {"pw": PASSWORD}},
                         "widgets": {"state": {"otp": OTP}}},
            "cells": [{"cell_type": "code", "id": "a", "metadata": {}, "execution_count": 1,
                       "source": "client.login()", "outputs": outputs}]}


def write_notebook(tmp_path, nb) -> str:
    path = tmp_path / "executed.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return str(path)


def zip_texts(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def assert_no_secret(texts: dict[str, str]) -> None:
    for name, text in texts.items():
        for secret in SECRETS:
            assert secret not in text, (name, secret)
            assert quote_plus(secret) not in text, (name, secret)


def test_clean_bundle_holds_the_four_files_and_no_secret(tmp_path):
    nb = notebook(f"password was {PASSWORD}", f"token {MFA_TOKEN}", image=True)
    out = write_bundle(tmp_path / "case.zip", session=session(), env=ENV, target="tenant",
                       notebook=write_notebook(tmp_path, nb), canonical_domain="acme.eu.auth0.com")
    texts = zip_texts(out)
    assert sorted(texts) == ["diagnosis.md", "environment.json", "exchanges.har", "notebook.ipynb"]
    assert_no_secret(texts)
    shared = json.loads(texts["notebook.ipynb"])
    assert "widgets" not in shared["metadata"] and "papermill" not in shared["metadata"]
    outputs = shared["cells"][0]["outputs"]
    assert "image/png" not in outputs[2]["data"] and "image removed" in outputs[2]["data"]["text/plain"]
    assert "data:image" not in texts["notebook.ipynb"]
    assert "[redacted" in outputs[0]["text"]
    har = json.loads(texts["exchanges.har"])
    assert len(har["log"]["entries"]) == 2
    assert "The one-time code was refused" in texts["diagnosis.md"]
    env = json.loads(texts["environment.json"])
    assert env["kit_version"] == mfa_helpers.__version__ and env["target"] == "tenant"
    assert env["libraries"]["requests"]


def test_a_secret_the_redaction_cannot_see_stops_the_bundle(tmp_path):
    # A URL-encoded client secret in a printed URL: redact_text only knows the raw value.
    nb = notebook("ok\n", f"POST /oauth/token?client_secret={quote_plus(CLIENT_SECRET)}\n")
    out = tmp_path / "case.zip"
    with pytest.raises(SecretLeak) as caught:
        write_bundle(out, session=session(), env=ENV, notebook=write_notebook(tmp_path, nb))
    assert not out.exists()
    [leak] = caught.value.leaks
    assert (leak.file, leak.secret, leak.encoding) == ("notebook.ipynb", "AUTH0_CLIENT_SECRET", "URL-encoded")
    # line and column point at the encoded secret in the file the bundle would have held
    known = session().known_secrets() | set(ENV.values())
    lines = json.dumps(redacted_notebook(nb, known), indent=1, ensure_ascii=False).split("\n")
    assert lines[leak.line - 1][leak.column - 1:].startswith(quote_plus(CLIENT_SECRET))
    message = str(caught.value)
    assert f"notebook.ipynb, line {leak.line}, column {leak.column}" in message
    assert CLIENT_SECRET not in message and quote_plus(CLIENT_SECRET) not in message


def test_basic_auth_credentials_in_base64_are_found(tmp_path):
    basic = base64.b64encode(f"abc:{CLIENT_SECRET}".encode()).decode()
    nb = notebook(f"Authorization: Basic {basic}\n")
    with pytest.raises(SecretLeak) as caught:
        write_bundle(tmp_path / "case.zip", env=ENV, notebook=write_notebook(tmp_path, nb))
    assert [(l.secret, l.encoding) for l in caught.value.leaks] == [("AUTH0_CLIENT_SECRET", "inside base64")]


def test_short_secrets_count_only_as_whole_words():
    known = {OTP: "an OTP"}
    assert scan({"a.txt": f"ts=1700{OTP}99 id=x{OTP}"}, known) == []
    [leak] = scan({"a.txt": f"line one\ncode: {OTP}\n"}, known)
    assert (leak.line, leak.column) == (2, 7)


def test_a_devtools_har_with_secrets_in_it_is_redacted_before_bundling(tmp_path):
    entry = {"startedDateTime": "2026-11-23T10:00:00.000Z", "time": 80,
             "request": {"method": "POST", "url": "https://acme.eu.auth0.com/oauth/token",
                         "headers": [{"name": "authorization", "value": f"Bearer {MFA_TOKEN}"}],
                         "postData": {"mimeType": "application/x-www-form-urlencoded",
                                      "text": f"grant_type=password&client_secret={quote_plus(CLIENT_SECRET)}"
                                              f"&password={quote_plus(PASSWORD)}&otp={OTP}"}},
             "response": {"status": 403, "headers": [], "content": {
                 "mimeType": "application/json", "encoding": "base64",
                 "text": base64.b64encode(json.dumps(protocol.ERRORS["expired_mfa_token"].body()
                                                     | {"mfa_token": MFA_TOKEN}).encode()).decode()}}}
    har = tmp_path / "devtools.har"
    har.write_text(json.dumps({"log": {"version": "1.2", "entries": [entry]}}), encoding="utf-8")
    texts = zip_texts(write_bundle(tmp_path / "case.zip", har=har, env={}))
    assert sorted(texts) == ["diagnosis.md", "environment.json", "exchanges.har"]
    assert_no_secret(texts)
    assert "The mfa_token expired" in texts["diagnosis.md"]


def run_cli(*argv) -> int:
    parser = argparse.ArgumentParser()
    cli_bundle.add_arguments(parser)
    return cli_bundle.run(parser.parse_args(list(argv)))


def test_cli_writes_or_refuses(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    session().to_har(tmp_path / "kit.har")
    clean = write_notebook(tmp_path, notebook("all good\n"))
    assert run_cli("--notebook", clean, "--har", str(tmp_path / "kit.har"), "--out", "case.zip") == 0
    assert "Wrote case.zip" in capsys.readouterr().out
    assert_no_secret(zip_texts(tmp_path / "case.zip"))

    monkeypatch.setenv("MY_API_KEY", "k-1234/5678+abcdef")
    leaky = write_notebook(tmp_path, notebook(f"key={quote_plus('k-1234/5678+abcdef')}\n"))
    assert run_cli("--notebook", leaky, "--out", "leak.zip", "--secret-env", "MY_API_KEY") == 1
    err = capsys.readouterr().err
    assert "notebook.ipynb, line" in err and "MY_API_KEY (URL-encoded)" in err and "5678" not in err
    assert not (tmp_path / "leak.zip").exists()
    assert run_cli("--out", "x.zip") == 2
    assert run_cli("--har", "missing.har") == 2
