"""diagnose on what customers actually send: HARs in each browser's and proxy's shape, the
custom-domain pitfall whatever the clue, failed requests, HARs without bodies or without an MFA API
call, answers worded differently from the kit's table, redacted values, and files that are no HAR."""
from __future__ import annotations

import argparse
import base64
import codecs
import gzip
import json
import subprocess
import sys

import pytest

from har_shapes import WRITERS, Call, har_file
from mfa_helpers import protocol
from mfa_helpers.knowledge import DOCS
from mfa_helpers.support import cli_diagnose
from mfa_helpers.support.diagnose import diagnose, normalise_domain

CANONICAL, CUSTOM, APP = "acme.us.auth0.com", "login.acme.com", "https://app.acme.com"
MFA_TOKEN = "Fe26.2**" + "x" * 700
VENDORS = sorted(WRITERS)


def err(key, **fields):
    return protocol.ERRORS[key].body(**fields)


def jwt(claims):
    part = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2ln"


def token_call(host, grant, status=200, response=None, at=0.0, **form):
    return Call("POST", f"https://{host}/oauth/token", status,
                form={"grant_type": grant, "client_id": "spa-client", **form},
                response=response if response is not None else {"access_token": "opaque", "token_type": "Bearer"},
                at=at)


def login_ok(host=CUSTOM, at=0.0):
    """A login whose access token names the tenant in `iss` (how Auth0 tokens from the canonical
    domain read)."""
    return token_call(host, protocol.GRANT_PASSWORD, at=at, username="u@acme.com", password="pw",
                      response={"access_token": jwt({"iss": f"https://{CANONICAL}/", "aud": "https://api.acme.com"}),
                                "token_type": "Bearer"})


def one(findings, key=None):
    assert len(findings) == 1, [f.key for f in findings]
    if key:
        assert findings[0].key == key, findings[0]
    return findings[0]


# ----- every vendor's shape reads the same

@pytest.mark.parametrize("vendor", VENDORS)
def test_each_vendors_har_gives_the_same_diagnosis(vendor):
    audience = f"https://{CUSTOM}/mfa/"
    data = har_file(vendor,
                    Call("GET", "https://cdn.auth0.com/js/auth0-spa-js/2.1/auth0-spa-js.production.js", 200),
                    login_ok(at=1),
                    token_call(CUSTOM, protocol.GRANT_PASSWORD, 403, err("service_not_enabled", audience=audience),
                               at=2, username="u@acme.com", password="pw", audience=audience),
                    token_call(CANONICAL, protocol.GRANT_MFA_OTP, 403, err("invalid_otp"), at=3,
                               mfa_token=MFA_TOKEN, otp="123456"))
    findings = diagnose(data)
    assert [(f.key, f.exchange, f.at) for f in findings] == [
        ("custom_domain_audience", 3, {"fiddler": "05:00:02", "firefox": "11:00:02"}.get(vendor, "10:00:02")),
        ("invalid_otp", 4, {"fiddler": "05:00:03", "firefox": "11:00:03"}.get(vendor, "10:00:03"))]
    assert f"https://{CANONICAL}/mfa/" in findings[0].fix and CUSTOM in findings[0].explanation


# ----- the custom-domain pitfall, whatever the clue

def test_pitfall_from_the_tokens_aud_names_both_domains():
    pitfall = f"https://{CUSTOM}/mfa"
    data = har_file("chrome", login_ok(), token_call(
        CUSTOM, protocol.GRANT_MFA_OTP, 403, err("invalid_audience"), at=5, otp="123456",
        mfa_token=jwt({"iss": f"https://{CUSTOM}/", "aud": [pitfall, f"https://{CUSTOM}/userinfo"]})))
    f = one(diagnose(data), "custom_domain_audience")
    assert not f.explanation.startswith("Most likely")
    assert pitfall in f.explanation and CUSTOM in f.explanation and f"canonical domain {CANONICAL}" in f.explanation
    assert f"audience=https://{CANONICAL}/mfa/" in f.fix and f.doc_url == DOCS["custom_domains"]


def test_pitfall_when_the_aud_is_redacted_uses_the_audience_the_app_asked_for():
    pitfall = f"https://{CUSTOM}/mfa/"
    authorize = Call("GET", f"https://{CUSTOM}/authorize?client_id=spa-client&audience={pitfall}"
                            "&scope=openid%20enroll&response_type=code", 200)
    data = har_file("firefox", login_ok(), authorize, token_call(
        CUSTOM, protocol.GRANT_MFA_OTP, 403, err("invalid_audience"), at=5, otp="123456",
        mfa_token=jwt({"iss": "[REDACTED]", "aud": "[REDACTED]"})))
    f = one(diagnose(data), "custom_domain_audience")
    assert f.explanation.startswith("Most likely") and "aud redacted" in f.explanation
    assert pitfall in f.explanation


def test_pitfall_from_the_request_host_alone_with_an_opaque_token():
    data = har_file("charles", token_call(CUSTOM, protocol.GRANT_MFA_OTP, 403, err("invalid_audience"),
                                          otp="123456", mfa_token="[redacted]"))
    f = one(diagnose(data, canonical_domain="HTTPS://Acme.US.auth0.com/"), "custom_domain_audience")
    assert "Most likely" in f.explanation and "the request host" in f.explanation and "opaque" in f.explanation
    assert f"https://{CANONICAL}/mfa/" in f.fix


def test_pitfall_from_the_url_in_error_description_when_the_request_body_is_gone():
    failing = Call("POST", f"https://{CUSTOM}/oauth/token", 403,
                   response=err("service_not_enabled", audience=f"https://{CUSTOM}/mfa/"))
    f = one(diagnose(har_file("safari", failing), canonical_domain=CANONICAL), "custom_domain_audience")
    assert f"https://{CUSTOM}/mfa/" in f.explanation


def test_pitfall_in_an_authorize_redirect_is_read_once():
    description = f"Service not enabled within domain: https://{CUSTOM}/mfa/"
    from urllib.parse import urlencode
    back = f"{APP}/callback?" + urlencode({"error": "access_denied", "error_description": description,
                                          "state": "xyz"})
    authorize = Call("GET", f"https://{CUSTOM}/authorize?client_id=spa&audience=https%3A%2F%2F{CUSTOM}%2Fmfa%2F",
                     302, response_headers={"location": back}, with_body=False)
    callback = Call("GET", back, 200, at=1)
    for vendor in ("chrome", "firefox"):
        f = one(diagnose(har_file(vendor, authorize, callback), canonical_domain=CANONICAL),
                "custom_domain_audience")
        assert f.count == 1 and f.exchange == 1 and "(in the redirect)" in f.response
        assert "in the redirect back to the app" in f.explanation
    # the callback alone (the redirect itself was not recorded) tells the same
    f = one(diagnose(har_file("chrome", callback), canonical_domain=CANONICAL), "custom_domain_audience")
    assert f.exchange == 1


def test_domain_is_normalised_and_refused_when_it_is_no_host():
    assert normalise_domain(" HTTPS://Acme.US.auth0.com/ ") == CANONICAL
    assert normalise_domain("acme.us.auth0.com/mfa/") == CANONICAL
    with pytest.raises(ValueError, match="not a host name"):
        normalise_domain("not a domain!")


# ----- failed requests, missing bodies, no MFA API call

@pytest.mark.parametrize("vendor, error", [("chrome", "net::ERR_FAILED"), ("firefox", ""), ("safari", ""),
                                           ("charles", "")])
def test_a_request_with_no_answer_is_a_finding_with_the_spa_fix(vendor, error):
    blocked = Call("POST", f"https://{CUSTOM}/mfa/associate", 0, json_body={"authenticator_types": ["otp"]},
                   headers={"Origin": APP, "Authorization": "Bearer x"}, error=error, with_body=False)
    f = one(diagnose(har_file(vendor, blocked)))
    assert f.key == "no_answer_cors" and f.severity == "error" and f.response.startswith("no response")
    assert "Allowed Web Origins" in f.fix and f.doc_url == DOCS["cors"]
    if vendor != "safari":   # Safari's export keeps no Origin header here
        assert APP in f.fix


def test_a_proxy_sees_the_401_a_disallowed_origin_gets():
    """Charles between browser and Auth0 records what the page could not read: 401 Unauthorized."""
    refused = Call("POST", f"https://{CANONICAL}/oauth/token", 401, form={"grant_type": "password",
                                                                          "client_id": "spa"},
                   response=err("origin_not_allowed"), headers={"Origin": APP})
    f = one(diagnose(har_file("charles", refused)), "origin_not_allowed")
    assert APP in f.explanation and f"add the page's origin ({APP}" in f.fix.lower()
    backend = Call("POST", f"https://{CANONICAL}/oauth/token", 401, response=err("unauthorized_client_auth"),
                   form={"grant_type": "password", "client_id": "web", "client_secret": "wrong"})
    assert one(diagnose(har_file("charles", backend))).key == "unauthorized_client_auth"


def test_network_failures_are_told_apart():
    dns = Call("POST", f"https://{CUSTOM}/oauth/token", 0, form={"grant_type": "password"},
               error="net::ERR_NAME_NOT_RESOLVED")
    f = one(diagnose(har_file("chrome", dns)))
    assert f.key == "no_answer_network" and "does not resolve" in f.title and CUSTOM in f.fix


def test_a_har_without_response_bodies_says_so_and_how_to_export_one():
    calls = [token_call(CANONICAL, protocol.GRANT_MFA_OTP, 403, err("invalid_otp"), at=i, otp="1")
             for i in range(3)]
    for call in calls:
        call.with_body = False
    f = one(diagnose(har_file("chrome", *calls)), "no_response_bodies")
    assert f.severity == "warning" and f.count == 3 and "no response body" in f.explanation
    assert "Export HAR" in f.fix and f.doc_url == DOCS["har"]


def test_a_har_with_no_mfa_api_call_says_what_it_saw():
    calls = [Call("GET", f"https://{CUSTOM}/authorize?client_id=x", 302),
             Call("GET", f"https://{CUSTOM}/u/login?state=abc", 200, at=1),
             Call("GET", f"https://{CUSTOM}/u/mfa-otp-challenge?state=abc", 200, at=2),
             Call("GET", "https://cdn.auth0.com/ulp/react-components/1.0/css/main.cdn.min.css", 200, at=3)]
    f = one(diagnose(har_file("chrome", *calls)), "no_mfa_api_call")
    assert "/u/mfa-otp-challenge" in f.explanation and "Universal Login" in f.explanation
    assert "cdn.auth0.com ×1" in f.explanation and f.severity == "warning"
    empty = one(diagnose(har_file("firefox")), "no_mfa_api_call")
    assert "no request at all" in empty.explanation


# ----- answers worded differently from the table

def test_other_status_or_missing_period_falls_back_on_the_error_code():
    otp = token_call(CANONICAL, protocol.GRANT_MFA_OTP, 400,
                     {"error": "invalid_grant", "error_description": "Invalid otp_code"}, otp="1")
    f = one(diagnose(har_file("chrome", otp)), "invalid_otp")
    assert f.severity == "error" and "not word for word" in f.explanation and "phone" in f.fix


def test_jwt_expired_is_read_by_error_code_and_endpoint():
    grant = token_call(CANONICAL, protocol.GRANT_MFA_OTP, 403,
                       {"error": "invalid_grant", "error_description": "jwt expired"}, otp="1",
                       mfa_token=jwt({"aud": f"https://{CANONICAL}/mfa/", "exp": 1}))
    assert one(diagnose(har_file("chrome", grant))).key == "expired_mfa_token"
    listing = Call("GET", f"https://{CANONICAL}/mfa/authenticators", 401,
                   response={"error": "invalid_token", "error_description": "jwt expired"},
                   headers={"Authorization": "Bearer " + jwt({"aud": f"https://{CANONICAL}/mfa/", "exp": 1})})
    f = one(diagnose(har_file("chrome", listing)), "invalid_token")
    assert "expired at 00:00:01 UTC" in f.explanation


def test_an_unknown_answer_is_shown_with_advice_for_the_customer(tmp_path, capsys):
    odd = Call("POST", f"https://{CANONICAL}/mfa/associate", 400, json_body={"x": 1},
               response={"error": "bad_wolf", "error_description": "Something new"})
    f = one(diagnose(har_file("chrome", odd)), "unrecognised_error")
    assert "protocol.py" not in f.fix + f.explanation and "bad_wolf" in f.explanation
    code, _, _ = run_cli(tmp_path, capsys, har_file("chrome", odd))
    assert code == 1


# ----- say what is known

def test_with_redacted_otps_reuse_is_one_possibility_not_a_fact():
    ok = token_call(CANONICAL, protocol.GRANT_MFA_OTP, otp="[REDACTED]", mfa_token=MFA_TOKEN)
    again = token_call(CANONICAL, protocol.GRANT_MFA_OTP, 403, err("invalid_otp"), at=4, otp="[REDACTED]",
                       mfa_token=MFA_TOKEN)
    f = one(diagnose(har_file("chrome", ok, again)), "invalid_otp")
    assert "one possibility" in f.explanation and "redacted" in f.explanation


@pytest.mark.parametrize("headers, says", [
    ({}, "no Authorization header"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, 'starts with "Basic"'),
    ({"Authorization": "Bearer " + jwt({"aud": f"https://{CANONICAL}/mfa/", "exp": 1_700_000_000})},
     "expired at 22:13:20 UTC"),
    ({"Authorization": "Bearer " + jwt({"aud": "https://api.acme.com", "exp": 4_000_000_000})},
     "another audience (aud: https://api.acme.com)"),
    ({"Authorization": "Bearer [redacted]"}, "redacted in this HAR"),
])
def test_bearer_failures_say_which_case_the_har_shows(headers, says):
    call = Call("GET", f"https://{CANONICAL}/mfa/authenticators", 401, response=err("invalid_token"),
                headers=headers)
    f = one(diagnose(har_file("chrome", call)), "invalid_token")
    assert says in f.explanation


# ----- grouping, numbering, linear time

def test_repeats_are_grouped_with_their_count_and_time_span():
    polls = [token_call(CANONICAL, protocol.GRANT_MFA_OOB, 429, err("slow_down"), at=131 + i * 0.1,
                        mfa_token=MFA_TOKEN, oob_code="oob") for i in range(7988)]
    f = one(diagnose(har_file("chrome", *polls)), "slow_down")
    assert f.headline == "Polling faster than Auth0 allows ×7,988 between 10:02:11 and 10:15:29"
    assert f.numbers[0] == 1 and f.numbers[-1] == 7988 and "7,988 times" in f.explanation


# ----- the command line: malformed input is one line and exit 2

def run_cli(tmp_path, capsys, data, *extra, raw: bytes | None = None):
    path = tmp_path / "customer.har"
    path.write_bytes(raw if raw is not None else json.dumps(data).encode())
    parser = argparse.ArgumentParser()
    cli_diagnose.add_arguments(parser)
    code = cli_diagnose.run(parser.parse_args([str(path), *extra]))
    out = capsys.readouterr()
    return code, out.out, out.err


GOOD = har_file("chrome", token_call(CANONICAL, protocol.GRANT_MFA_OTP, 403, err("expired_mfa_token")))
GOOD_TEXT = json.dumps(GOOD)


@pytest.mark.parametrize("raw", [
    GOOD_TEXT.encode("utf-8-sig"), codecs.BOM_UTF16_LE + GOOD_TEXT.encode("utf-16-le"),
    GOOD_TEXT.encode("utf-16-be"), gzip.compress(GOOD_TEXT.encode()),
], ids=["utf8-bom", "utf16-bom", "utf16-no-bom", "gzip"])
def test_encodings_and_gzip_are_read(tmp_path, capsys, raw):
    code, out, err_text = run_cli(tmp_path, capsys, None, raw=raw)
    assert code == 1 and "The mfa_token expired" in out and err_text == ""


@pytest.mark.parametrize("raw, says", [
    (b"", "is not JSON"),
    (b"\x89PNG\r\n\x1a\n\xff\xfe\xfd", "not text in UTF-8 or UTF-16"),
    (b"\x1f\x8b\x08\x00broken", "damaged gzip"),
    (b'{"log": {}}', "no log.entries"),
    (b'[{"request": {}}]', "is a list of JSON, not a HAR object"),
    (b'{"log": {"entries": {}}}', "no log.entries"),
    (b'{"log": {"entries": [42]}}', "log.entries[0] is a number, not an object"),
    (b'{"log": {"entries": [{"request": {"method": "GET", "url": 7}}]}}',
     "log.entries[0].request.url is a number, not a string"),
    (b'{"log": {"entries": [{"request": {"method": "GET", "url": "x", "headers": [1]}}]}}',
     "request.headers[0] is no"),
    (b'{"log": {"entries": [{"request": {"method": "GET", "url": "x"}, "response": {"status": "200"}}]}}',
     "response.status is a string, not a number"),
    (b'{"log": {"entries": [{"request": {"method": "GET", "url": "x"}, "response": {"content": {"text": {"a": 1}}}}]}}',
     "response.content.text is an object, not a string"),
    (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
], ids=["empty", "binary", "bad-gzip", "no-entries", "list", "entries-object", "entry-number", "url-number",
        "header-number", "status-string", "text-object", "deep"])
def test_malformed_input_is_one_line_and_exit_2(tmp_path, capsys, raw, says):
    code, out, err_text = run_cli(tmp_path, capsys, None, raw=raw)
    assert code == 2 and out == ""
    assert err_text.count("\n") == 1 and says in err_text and err_text.startswith("mfa-kit diagnose: ")


def test_missing_file_folder_and_bad_domain_are_one_line_and_exit_2(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    cli_diagnose.add_arguments(parser)
    for argv, says in (([str(tmp_path / "nope.har")], "No such file or directory; fix: check the path"),
                       ([str(tmp_path)], "is a folder"),
                       ([str(tmp_path / "x.har"), "--domain", "no such domain"], "not a host name")):
        (tmp_path / "x.har").write_text(GOOD_TEXT)
        assert cli_diagnose.run(parser.parse_args(argv)) == 2
        err_text = capsys.readouterr().err
        assert err_text.count("\n") == 1 and says in err_text


def test_the_real_command_never_shows_a_traceback_even_into_a_closed_pipe(tmp_path):
    # 20,000 polls: the JSON lists every exchange number, far more than a pipe holds
    polls = [token_call(CANONICAL, protocol.GRANT_MFA_OOB, 429, err("slow_down"), at=i / 10, oob_code="o")
             for i in range(20_000)]
    path = tmp_path / "big.har"
    path.write_text(json.dumps(har_file("chrome", *polls)))
    command = f"{sys.executable} -m mfa_helpers.cli diagnose {path} --json | head -c 10"
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert done.stderr == "" and done.stdout == "[\n  {\n    "
    bad = tmp_path / "bad.har"
    bad.write_text('{"log": {"entries": [{"request": []}]}}')
    done = subprocess.run([sys.executable, "-m", "mfa_helpers.cli", "diagnose", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_any_value_of_any_type_anywhere_is_read_or_refused_in_one_line():
    """Every leaf of a realistic HAR replaced, one at a time, by a value of another JSON type:
    diagnose gives findings or a HarError, never another exception (a traceback at the CLI)."""
    import random

    from mfa_helpers.support.har import HarError

    base = har_file("chrome",
                    token_call(CUSTOM, protocol.GRANT_PASSWORD, 403, {**err("mfa_required"), "mfa_token": MFA_TOKEN,
                                                                       "mfa_requirements": {"enroll": [{"type": "otp"}]}}),
                    Call("POST", f"https://{CUSTOM}/mfa/challenge", 200, json_body={"challenge_type": "oob"},
                         response={"oob_code": "o", "binding_method": "prompt"}, at=1),
                    token_call(CUSTOM, protocol.GRANT_MFA_OOB, 400, err("authorization_pending"), at=2, oob_code="o"),
                    Call("GET", f"https://{CUSTOM}/authorize?x=1", 302,
                         response_headers={"location": f"{APP}/cb?error=access_denied&error_description=x"}))

    def leaves(node, path=()):
        if isinstance(node, dict):
            for key, value in node.items():
                yield from leaves(value, (*path, key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from leaves(value, (*path, i))
        yield path

    strange = [None, 0, -1, 1.5, True, "", "[1, 2]", "null", [], {}, [1, {"a": None}], {"error": 5}]
    rng = random.Random(12)
    paths = list(leaves(base))
    for path in rng.sample(paths, min(400, len(paths))):
        for value in rng.sample(strange, 4):
            data = json.loads(json.dumps(base))
            node = data
            for key in path[:-1]:
                node = node[key]
            if path:
                node[path[-1]] = value
            try:
                diagnose(data)
            except HarError:
                pass
