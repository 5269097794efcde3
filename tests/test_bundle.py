"""The case bundle: redacted rather than refused, and nothing secret survives in any encoding.

Every test plants secrets in the inputs (HARs in five vendors' shapes, notebooks that print raw
answers, a real emulator session) and then looks for them in the zip two ways: with the bundle's
own scanner, and with `survivors` below, written independently (it decodes every base64 and hex
run it finds, URL-decodes, unescapes and squeezes whitespace, rather than encoding the secrets).
"""
from __future__ import annotations

import argparse
import base64
import binascii
import html
import json
import re
import zipfile
from urllib.parse import quote_plus, unquote_plus

import nbformat
import pytest

import mfa_helpers
from mfa_helpers import MfaClient, MfaRequired, Settings, VirtualAuthenticator
from mfa_helpers.exchange import Session
from mfa_helpers.support import cli_bundle
from mfa_helpers.support.bundle import (BundleInputError, SecretLeak, SecretMatcher, scan,
                                        write_bundle)
import vendor_hars
from client_support import emu  # noqa: F401  (fixture)

ENV = {"AUTH0_CLIENT_SECRET": "EnGiNeEr-ClIeNt-SeCrEt-0042", "AUTH0_PASSWORD": "EnGiNeEr-Pa55word",
       "MY_SERVICE_TOKEN": "ghp_EnGiNeErToKeN1234567890", "AUTH0_DOMAIN": "engineer.us.auth0.com"}


def zip_texts(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def _views(text: str) -> list[str]:
    """The text as it is, and as everything it could decode to."""
    views = [text, re.sub(r"\s+", "", text), unquote_plus(text), unquote_plus(unquote_plus(text)), html.unescape(text),
             re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)]
    for run in re.findall(r"[A-Za-z0-9+/_-]{12,}={0,2}", text):
        for start in range(4):
            chunk = run[start:].rstrip("=")
            chunk = chunk[: len(chunk) - len(chunk) % 4 or None] if len(chunk) % 4 == 1 else chunk
            for alphabet in (None, b"-_"):
                try:
                    views.append(base64.b64decode(chunk + "=" * (-len(chunk) % 4), altchars=alphabet).decode("latin-1"))
                except (binascii.Error, ValueError):
                    pass
    for run in re.findall(r"[0-9a-fA-F]{16,}", text):
        for start in range(2):
            chunk = run[start:]
            views.append(bytes.fromhex(chunk[: len(chunk) // 2 * 2]).decode("latin-1"))
    return views


def survivors(texts: dict[str, str], secrets: dict[str, str]) -> list[tuple[str, str]]:
    """(file, secret name) of every secret value found in any file, in any decoding of it."""
    found = []
    for name, text in texts.items():
        views = _views(text)
        for label, value in secrets.items():
            needle = value.encode("utf-8").decode("latin-1") if not value.isascii() else value
            pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(needle)}(?![A-Za-z0-9])") if len(value) < 12 else None
            if any((pattern.search(v) if pattern else needle in v) for v in views):
                found.append((name, label))
    return found


def assert_nothing_survives(texts: dict[str, str], secrets: dict[str, str]) -> None:
    assert texts, "no file in the bundle"
    assert survivors(texts, secrets) == []
    matcher = SecretMatcher({value: label for label, value in secrets.items()})
    assert [(name, hit[:2]) for name, text in texts.items() for hit in matcher.find(text)] == []


def test_the_independent_check_and_the_scanner_find_every_encoding():
    """Both detectors really find a secret in each encoding (so the other tests can fail)."""
    secret = "Tr1cky/Secret+Value=42"
    raw = secret.encode()
    hidden = {
        "raw": f"x {secret} y", "url": quote_plus(secret), "hex": raw.hex(),
        "base64 offset 1": base64.b64encode(b"a" + raw).decode(), "base64 offset 2": base64.b64encode(b"ab" + raw).decode(),
        "base64url": base64.urlsafe_b64encode(b"abc" + raw + b"zz").decode(), "\\u": "".join(f"\\u{ord(c):04x}" for c in secret),
        "split": secret[:9] + "\n   " + secret[9:], "html": html.escape(secret).replace("/", "&#x2F;"),
    }
    matcher = SecretMatcher({secret: "the secret"})
    for name, text in hidden.items():
        assert survivors({name: text}, {"s": secret}) == [(name, "s")], name
        assert matcher.find(text), name
    assert matcher.find("nothing here") == [] and survivors({"x": "nothing here"}, {"s": secret}) == []


@pytest.mark.parametrize("vendor", sorted(vendor_hars.VENDORS))
def test_a_vendor_har_bundles_redacted_and_no_secret_survives(vendor, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    har = tmp_path / f"{vendor}.har"
    har.write_text(json.dumps(vendor_hars.VENDORS[vendor](), indent=2), encoding="utf-8")
    out = write_bundle(tmp_path / "case.zip", har=har, env=ENV, canonical_domain=vendor_hars.TENANT)
    texts = zip_texts(out)
    assert sorted(texts) == ["diagnosis.md", "environment.json", "exchanges.har"]
    assert_nothing_survives(texts, {**vendor_hars.SECRETS, **vendor_hars.WHOLE_TOKENS, **ENV_SECRETS})
    shared = json.loads(texts["exchanges.har"])
    entries = shared["log"]["entries"]
    assert len(entries) == len(vendor_hars.exchanges())
    # what a diagnosis needs is still there: errors, grant types, hosts, token claims, header names
    bodies = [json.loads(e["response"]["content"]["text"]) for e in entries
              if e["response"]["content"]["text"].startswith("{")]
    assert {"mfa_required", "invalid_grant"} <= {body.get("error") for body in bodies}
    assert "Invalid otp_code." in {body.get("error_description") for body in bodies}
    assert "authorization_code" in texts["exchanges.har"] and "mfa-otp" in texts["exchanges.har"]
    auth = next(h["value"] for h in entries[-1]["request"]["headers"] if h["name"].lower() == "authorization")
    claims = json.loads(base64.urlsafe_b64decode(auth.split(".")[1] + "=="))
    assert claims["aud"] == f"https://{vendor_hars.TENANT}/mfa/" and claims["scope"].startswith("enroll")
    assert any(h["name"].lower() == "x-api-key" and "[redacted" in h["value"] for h in entries[0]["request"]["headers"])
    assert "engineer" not in "".join(texts.values())  # this machine's AUTH0_DOMAIN is not the customer's


ENV_SECRETS = {name: value for name, value in ENV.items() if name != "AUTH0_DOMAIN"}


def test_an_authorization_code_har_bundles_instead_of_being_refused(tmp_path):
    """The code in Location and Referer is redacted, not a reason to refuse."""
    har = tmp_path / "login.har"
    flow = vendor_hars.chromium()
    flow["log"]["entries"] = flow["log"]["entries"][1:4]
    har.write_text(json.dumps(flow), encoding="utf-8")
    texts = zip_texts(write_bundle(tmp_path / "case.zip", har=har, env={}))
    assert vendor_hars.SECRETS["auth_code"] not in "".join(texts.values())
    entries = json.loads(texts["exchanges.har"])["log"]["entries"]
    location = entries[0]["response"]["redirectURL"]
    assert location.startswith(f"{vendor_hars.APP}/callback?code=[redacted") and "state=[redacted" in location


PRINTED = vendor_hars.SECRETS


def printed_notebook() -> dict:
    """An executed notebook whose cells printed raw answers in every way a person does."""
    s = PRINTED
    answer = {"authenticator_type": "otp", "secret": s["totp_seed"], "recovery_codes": [s["recovery_code"]],
              "barcode_uri": f"otpauth://totp/acme:jane?secret={s['totp_seed']}"}
    tokens = {"access_token": vendor_hars.ACCESS_TOKEN, "refresh_token": s["refresh_token"], "id_token": vendor_hars.ID_TOKEN}
    form = (f"grant_type=password&username=jane%40customer.example&password={quote_plus(s['password'])}"
            f"&client_secret={s['client_secret']}&x_custom_token={s['x_custom_token']}")
    outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=[f"{answer}\n", json.dumps(tokens) + "\n"]),
        nbformat.v4.new_output("stream", name="stdout", text=json.dumps(tokens, indent=2).splitlines(keepends=True)),
        nbformat.v4.new_output("stream", name="stdout", text=form + "\n"),
        nbformat.v4.new_output("execute_result", execution_count=2,
                               data={"text/plain": repr({"login_ticket": s["login_ticket"], "co_verifier": s["co_verifier"],
                                                         "device_code": s["device_code"], "mfa_token": s["mfa_token"]})}),
        nbformat.v4.new_output("display_data", data={
            "text/html": f"<pre>Authorization: Bearer {vendor_hars.ACCESS_TOKEN}\nx-api-key: {s['x_api_key']}\n"
                         f"Cookie: auth0={s['cookie_auth0']}</pre><a href='{vendor_hars.APP}/#access_token="
                         f"{vendor_hars.FRAGMENT_ACCESS}&amp;id_token={vendor_hars.FRAGMENT_ID}'>back</a>",
            "text/plain": "<HTML>"}),
    ]
    parameters = nbformat.v4.new_code_cell("scenario = \"custom_domain\"\nheadless = True\n", metadata={"tags": ["injected-parameters"]})
    cell = nbformat.v4.new_code_cell("print(answer)", execution_count=2, outputs=outputs)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# case"), parameters, cell])
    nb.metadata["papermill"] = {"parameters": {"scenario": "custom_domain", "headless": True},
                                "input_path": "reproduce.ipynb"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2,
                                                                              "version_minor": 0}}
    return nb


def test_a_notebook_that_printed_raw_answers_bundles_without_them(tmp_path):
    path = tmp_path / "executed.ipynb"
    nbformat.write(nbformat.from_dict(printed_notebook()), path)
    texts = zip_texts(write_bundle(tmp_path / "case.zip", notebook=path, env={}))
    assert sorted(texts) == ["environment.json", "notebook.ipynb"]
    assert_nothing_survives(texts, {**PRINTED, **vendor_hars.WHOLE_TOKENS})
    shared = nbformat.reads(texts["notebook.ipynb"], as_version=4)
    nbformat.validate(shared)
    # the parameters it ran with stay (redacted like everything else); widget state goes
    assert shared.metadata["papermill"] == {"parameters": {"scenario": "custom_domain", "headless": True}}
    assert "injected-parameters" in shared.cells[1].metadata["tags"] and "custom_domain" in shared.cells[1].source
    assert "widgets" not in shared.metadata
    outputs = shared.cells[2].outputs
    assert "'authenticator_type': 'otp'" in outputs[0].text and "grant_type=password" in outputs[2].text


def test_a_secret_redaction_cannot_see_stops_the_bundle_naming_the_input_and_the_place(tmp_path):
    secret = ENV["AUTH0_CLIENT_SECRET"]
    nb = printed_notebook()
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text=[
        "blob: " + base64.b64encode(b"xy" + secret.encode() + b"!").decode() + "\n",
        "hex: " + secret.encode().hex() + "\n", "wrapped: " + secret[:10] + "\n         " + secret[10:] + "\n"])]
    path = tmp_path / "executed.ipynb"
    nbformat.write(nbformat.from_dict(nb), path)
    out = tmp_path / "case.zip"
    with pytest.raises(SecretLeak) as caught:
        write_bundle(out, notebook=path, env=ENV)
    assert not out.exists()
    places = {(leak.source, leak.place, leak.secret) for leak in caught.value.leaks}
    assert places == {(str(path), "cell 3 (In [2]), stream output text", "AUTH0_CLIENT_SECRET")}
    assert {leak.encoding for leak in caught.value.leaks} >= {"inside base64", "hex", "split by whitespace"}
    message = str(caught.value)
    assert str(path) in message and "case.zip" not in message and secret not in message


def test_basic_credentials_and_secret_environment_variables_are_scanned():
    known = {"s3cr3t-value-for-basic": "AUTH0_CLIENT_SECRET"}
    basic = base64.b64encode(b"client:s3cr3t-value-for-basic").decode()
    [leak] = scan({"a.txt": f"Authorization: Basic {basic}"}, known)
    assert (leak.secret, leak.encoding) == ("AUTH0_CLIENT_SECRET", "inside base64")
    short = {"482913": "an OTP"}
    assert scan({"a.txt": "ts=170048291399 id=x482913"}, short) == []
    [leak] = scan({"a.txt": "line one\ncode: 482913\n"}, short)
    assert leak.place == "line 2, column 7"


def run_cli(*argv) -> int:
    parser = argparse.ArgumentParser()
    cli_bundle.add_arguments(parser)
    return cli_bundle.run(parser.parse_args(list(argv)))


def test_cli_checks_its_inputs_first_one_line_exit_2_nothing_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    har = tmp_path / "customer.har"
    har.write_text(json.dumps(vendor_hars.firefox()), encoding="utf-8")
    nb = tmp_path / "executed.ipynb"
    nbformat.write(nbformat.from_dict(printed_notebook()), nb)
    (tmp_path / "broken.json").write_text('{"log": {"entries": [', encoding="utf-8")
    (tmp_path / "shape.har").write_text('{"log": {"entries": ["not an entry"]}}', encoding="utf-8")
    (tmp_path / "entry.har").write_text('{"log": {"entries": [{"request": "GET /", "response": 7}]}}', encoding="utf-8")
    (tmp_path / "deep.har").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    (tmp_path / "bad.ipynb").write_text('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}')
    cases = [
        (("--notebook", str(har)), "customer.har is a HAR file, not a notebook: pass it with --har"),
        (("--har", str(nb)), "executed.ipynb is a notebook, not a HAR file"),
        (("--har", "broken.json"), "broken.json is not JSON"),
        (("--har", "shape.har"), "shape.har is not a HAR file"),
        (("--har", "entry.har"), "entry.har: entry 1 is not a HAR entry"),
        (("--har", "deep.har"), "deep.har is not JSON"),
        (("--notebook", "bad.ipynb"), "bad.ipynb is not a valid Jupyter notebook"),
        (("--har", "missing.har"), "missing.har: cannot read it (No such file or directory); fix: check the path"),
        (("--har", str(har), "--secret-env", "NOT_SET_ANYWHERE"), "--secret-env NOT_SET_ANYWHERE: no such environment"),
        ((), "give --notebook, --har or both"),
    ]
    for argv, expected in cases:
        assert run_cli(*argv, "--out", "case.zip") == 2, argv
        err = capsys.readouterr().err
        assert expected in err and err.count("\n") == 1 and "Traceback" not in err, (argv, err)
        assert not (tmp_path / "case.zip").exists()


def test_cli_writes_a_bundle_from_a_customer_har_and_notebook(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("EXTRA_VALUE", "extra-value-from-the-engineer-77")
    har = tmp_path / "customer.har"
    har.write_text(json.dumps(vendor_hars.charles()), encoding="utf-8")
    nb = tmp_path / "executed.ipynb"
    nbformat.write(nbformat.from_dict(printed_notebook()), nb)
    assert run_cli("--notebook", str(nb), "--har", str(har), "--out", "case.zip", "--secret-env", "EXTRA_VALUE") == 0
    assert "Wrote case.zip" in capsys.readouterr().out
    texts = zip_texts(tmp_path / "case.zip")
    assert sorted(texts) == ["diagnosis.md", "environment.json", "exchanges.har", "notebook.ipynb"]
    assert_nothing_survives(texts, {**vendor_hars.SECRETS, **vendor_hars.WHOLE_TOKENS, **ENV_SECRETS})
    environment = json.loads(texts["environment.json"])
    assert environment["tenant_domain"] is None and environment["kit_version"] == mfa_helpers.__version__


def raw_har(session: Session) -> dict:
    """The session as a browser would have recorded it: nothing redacted (unlike Session.har())."""
    entries = [{"startedDateTime": e.started.isoformat(), "time": 10,
                "request": {"method": e.method, "url": e.url, "headers": [{"name": k, "value": v} for k, v in e.request_headers.items()],
                            **({"postData": {"mimeType": e.request_content_type, "text": e.request_body}} if e.request_body else {})},
                "response": {"status": e.status or 0, "headers": [{"name": k, "value": v} for k, v in e.response_headers.items()],
                             "content": {"mimeType": e.response_content_type, "text": e.response_body or ""}}}
               for e in session.exchanges]
    return {"log": {"version": "1.2", "entries": entries}}


def test_a_real_emulator_session_bundles_without_its_secrets(emu, tmp_path):  # noqa: F811
    client = MfaClient(Settings(emulator_url=emu.url))
    client.use_fresh_user()
    with pytest.raises(MfaRequired) as caught:
        client.login(scope="openid offline_access")
    enrolled = client.associate(caught.value.mfa_token)
    tokens = client.confirm_otp(caught.value.mfa_token, VirtualAuthenticator(enrolled["secret"]).code())
    client.refresh(tokens["refresh_token"])
    secrets = {f"session value {i}": value for i, value in enumerate(sorted(client.session.known_secrets())) if len(value) >= 6}
    assert {enrolled["secret"], tokens["refresh_token"], *enrolled["recovery_codes"]} <= set(secrets.values())
    kit_har = client.session.to_har(tmp_path / "kit.har")
    customer_har = tmp_path / "raw.har"
    customer_har.write_text(json.dumps(raw_har(client.session)), encoding="utf-8")
    nb = tmp_path / "executed.ipynb"
    printed = nbformat.v4.new_code_cell("print(enrolled, tokens)", execution_count=1, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text=f"{enrolled}\n{json.dumps(tokens)}\n")])
    nbformat.write(nbformat.v4.new_notebook(cells=[printed]), nb)
    for har in (kit_har, customer_har):
        texts = zip_texts(write_bundle(tmp_path / f"{har.stem}.zip", har=har, notebook=nb, env={}))
        assert_nothing_survives(texts, secrets)
        assert "mfa_required" in texts["exchanges.har"]
    from_client = zip_texts(write_bundle(tmp_path / "client.zip", client=client, notebook=nb))
    assert_nothing_survives(from_client, secrets)
    assert json.loads(from_client["environment.json"])["target"] == "emulator"


def test_a_utf16_har_with_a_byte_order_mark_bundles(tmp_path):
    har = tmp_path / "windows.har"
    har.write_text(json.dumps(vendor_hars.fiddler()), encoding="utf-16")
    texts = zip_texts(write_bundle(tmp_path / "case.zip", har=har, env={}))
    assert len(json.loads(texts["exchanges.har"])["log"]["entries"]) == len(vendor_hars.exchanges())
    assert_nothing_survives(texts, {**vendor_hars.SECRETS, **vendor_hars.WHOLE_TOKENS})


def test_bad_notebook_input_is_a_bundle_input_error(tmp_path):
    path = tmp_path / "x.ipynb"
    path.write_bytes("{}".encode("utf-16"))
    with pytest.raises(BundleInputError, match="x.ipynb is not a Jupyter notebook"):
        write_bundle(tmp_path / "case.zip", notebook=path, env={})
