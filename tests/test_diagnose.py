"""diagnose() and `mfa-kit diagnose` on HAR files shaped like the ones browser devtools export.

The HARs are built here by hand, the way Chrome and Firefox write them (form posts with `params`,
JSON posts with `text`, response bodies possibly base64-encoded, noise from other hosts), with
error bodies taken from protocol.ERRORS. The scenario tests cover the same rules on real emulator
exchanges.
"""
from __future__ import annotations

import argparse
import base64
import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import urlencode

import pytest

from mfa_helpers import protocol
from mfa_helpers.knowledge import DOCS
from mfa_helpers.support.diagnose import diagnose, exchanges_from_har, findings_markdown, observe
from mfa_helpers.support import cli_diagnose

CANONICAL = "acme.eu.auth0.com"
CUSTOM = "login.acme.example"
T0 = datetime(2026, 11, 23, 10, 0, 0, tzinfo=timezone.utc)
MFA_TOKEN = "Fe26.2*" + "x" * 700


def entry(method, url, status, *, form=None, json_body=None, response=None, at=0.0,
          b64=False, server_skew=None, headers=()):
    """One HAR entry as devtools write it."""
    started = T0 + timedelta(seconds=at)
    request = {"method": method, "url": url, "httpVersion": "http/2.0", "cookies": [],
               "headers": [{"name": ":authority", "value": url.split("/")[2]}, *headers],
               "queryString": [], "headersSize": -1, "bodySize": 0}
    if form is not None:  # Chrome: both params and text for url-encoded forms
        request["postData"] = {"mimeType": "application/x-www-form-urlencoded",
                               "text": urlencode(form),
                               "params": [{"name": k, "value": v} for k, v in form.items()]}
    if json_body is not None:  # Firefox: text only, mimeType with charset
        request["postData"] = {"mimeType": "application/json; charset=UTF-8",
                               "params": [], "text": json.dumps(json_body)}
    text = json.dumps(response) if response is not None else ""
    content = {"size": len(text), "mimeType": "application/json", "text": text}
    if b64:
        content.update(text=base64.b64encode(text.encode()).decode(), encoding="base64")
    response_headers = [{"name": "content-type", "value": "application/json"}]
    if server_skew is not None:
        response_headers.append({"name": "date",
                                 "value": format_datetime(started + timedelta(seconds=server_skew),
                                                          usegmt=True)})
    return {"startedDateTime": started.isoformat().replace("+00:00", "Z"), "time": 120.5,
            "request": request,
            "response": {"status": status, "statusText": "", "httpVersion": "http/2.0",
                         "cookies": [], "headers": response_headers, "content": content,
                         "redirectURL": "", "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"send": 0, "wait": 120, "receive": 0}, "_resourceType": "fetch"}


def har(*entries):
    return {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
                    "pages": [], "entries": list(entries)}}


def err(key, **fields):
    return protocol.ERRORS[key].body(**fields)


def token(host, grant, at=0.0, status=200, response=None, **form):
    return entry("POST", f"https://{host}/oauth/token", status,
                 form={"grant_type": grant, "client_id": "abc", **form},
                 response=response if response is not None else {"access_token": "eyJ.x.y",
                                                                   "token_type": "Bearer"}, at=at)


def mfa_required(host=CUSTOM, at=0.0, enroll=False):
    body = err("mfa_required") | {"mfa_token": MFA_TOKEN, "mfa_requirements":
                                  {"enroll": [{"type": "otp"}, {"type": "phone"}]} if enroll
                                  else {"challenge": [{"type": "otp"}]}}
    return token(host, protocol.GRANT_PASSWORD, at, 403, body, username="u@example.com",
                 password="pw", audience=f"https://{CANONICAL}/mfa/")


def jwt(claims):
    """An unsigned JWT-shaped token (header.claims.signature), as a browser HAR would hold one."""
    part = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def keys(findings):
    return [f.key for f in findings]


NOISE = [entry("GET", "https://fonts.example.net/x.woff2", 404, response={"error": "nope"}),
         entry("GET", f"https://{CUSTOM}/favicon.ico", 404)]


def test_custom_domain_audience_service_not_enabled_in_a_devtools_har():
    audience = f"https://{CUSTOM}/mfa/"
    failing = token(CUSTOM, protocol.GRANT_PASSWORD, 1, 403,
                    err("service_not_enabled", audience=audience),
                    username="u@example.com", password="pw", audience=audience)
    findings = diagnose(har(*NOISE, failing), canonical_domain=CANONICAL)
    assert keys(findings) == ["custom_domain_audience"]
    f = findings[0]
    assert f.exchange == 3 and f.severity == "error" and f.at == "10:00:01"
    assert f"https://{CANONICAL}/mfa/" in f.explanation and f"https://{CANONICAL}/mfa/" in f.fix
    assert f.doc_url == DOCS["custom_domains"]
    assert f.request == "POST /oauth/token" and "Service not enabled" in f.response


def test_custom_domain_api_gives_invalid_audience_later():
    pitfall = f"https://{CUSTOM}/mfa"
    findings = diagnose(har(
        token(CUSTOM, protocol.GRANT_PASSWORD, 0, audience=pitfall, username="u", password="p"),
        token(CUSTOM, protocol.GRANT_MFA_OTP, 5, 403, err("invalid_audience"),
              mfa_token="eyJhbGciOi.eyJzdWIi.sig", otp="123456"),
    ))  # no canonical domain given: the custom domain is no *.auth0.com host
    assert keys(findings) == ["custom_domain_audience"]
    assert pitfall in findings[0].explanation and "delete it" in findings[0].fix


def test_canonical_domain_is_guessed_from_a_token_issuer_never_from_cdn_hosts_or_audiences():
    wrong, right = f"https://{CUSTOM}/mfa/", f"https://{CANONICAL}/mfa/"
    cdn = entry("GET", "https://cdn.auth0.com/js/lock/12.0.0/lock.min.js", 200)
    login = token(CUSTOM, protocol.GRANT_PASSWORD, 0, audience="https://other.us.auth0.com/api",
                  response={"access_token": jwt({"iss": f"https://{CANONICAL}/", "aud": "x"})})
    failing = token(CUSTOM, protocol.GRANT_PASSWORD, 1, 403, err("service_not_enabled", audience=wrong),
                    audience=wrong)
    [finding] = diagnose(har(cdn, login, failing))
    assert finding.key == "custom_domain_audience" and right in finding.fix
    [finding] = diagnose(har(cdn, failing))   # nothing names the tenant: say so, don't guess cdn
    assert "cdn" not in finding.fix and "TENANT.REGION.auth0.com" in finding.fix


def test_an_mfa_audience_on_the_canonical_domain_is_not_the_custom_domain_pitfall():
    audience = f"https://{CANONICAL}/mfa"  # trailing slash missing: another mistake
    failing = token(CANONICAL, protocol.GRANT_PASSWORD, 0, 403,
                    err("service_not_enabled", audience=audience), audience=audience)
    assert keys(diagnose(har(failing))) == ["service_not_enabled"]


def test_base64_encoded_response_bodies_are_read():
    failing = entry("POST", f"https://{CANONICAL}/mfa/associate", 400,
                    json_body={"authenticator_types": ["opt"]},
                    response=err("invalid_authenticator_type", value="opt"), b64=True)
    findings = diagnose(har(failing))
    assert keys(findings) == ["invalid_authenticator_type"]
    assert '"otp"' in findings[0].explanation


def test_wrong_otp_names_the_clock_offset_when_the_har_shows_it():
    failing = token(CANONICAL, protocol.GRANT_MFA_OTP, 0, 403, err("invalid_otp"),
                    mfa_token=MFA_TOKEN, otp="123456")
    failing["response"]["headers"].append(
        {"name": "Date", "value": format_datetime(T0 - timedelta(seconds=95), usegmt=True)})
    [finding] = diagnose(har(failing))
    assert finding.key == "invalid_otp"
    assert "clock" in finding.explanation and "95 s ahead of" in finding.explanation


def test_wrong_otp_without_dates_still_explains_clock_skew_and_counts_failures():
    entries = [token(CANONICAL, protocol.GRANT_MFA_OTP, i, 403, err("invalid_otp"),
                     mfa_token=MFA_TOKEN, otp=f"00000{i}") for i in range(3)]
    findings = diagnose(har(*entries), group=False)
    assert keys(findings) == ["invalid_otp"] * 3
    assert "phone's clock" in findings[0].explanation
    assert "wrong code number 3" in findings[2].explanation
    [grouped] = diagnose(har(*entries))
    assert grouped.count == 3 and grouped.numbers == (1, 2, 3)
    assert grouped.headline == "The one-time code was refused ×3 between 10:00:00 and 10:00:02"


def test_same_otp_right_after_it_succeeded_is_a_reused_code():
    ok = token(CANONICAL, protocol.GRANT_MFA_OTP, 0, mfa_token=MFA_TOKEN, otp="428915")
    again = token(CANONICAL, protocol.GRANT_MFA_OTP, 4, 403, err("otp_reused"),
                  mfa_token=MFA_TOKEN, otp="428915")
    other = token(CANONICAL, protocol.GRANT_MFA_OTP, 6, 403, err("invalid_otp"),
                  mfa_token=MFA_TOKEN, otp="111111")
    assert keys(diagnose(har(ok, again, other))) == ["otp_reused", "invalid_otp"]


def test_mfa_oob_without_binding_code_after_an_sms_challenge():
    challenge = entry("POST", f"https://{CANONICAL}/mfa/challenge", 200,
                      json_body={"mfa_token": MFA_TOKEN, "challenge_type": "oob"},
                      response={"challenge_type": "oob", "oob_code": "Fe26.2*oob",
                                "binding_method": "prompt"}, at=1)
    polls = [token(CANONICAL, protocol.GRANT_MFA_OOB, 2 + i * 5, 400,
                   err("authorization_pending"), mfa_token=MFA_TOKEN, oob_code="Fe26.2*oob")
             for i in range(2)]
    [finding] = diagnose(har(mfa_required(CANONICAL), challenge, *polls))
    assert finding.key == "missing_binding_code" and finding.exchange == 3 and finding.count == 2
    assert "binding_method" in finding.explanation and "binding_code" in finding.fix
    assert finding.doc_url == DOCS["verify_oob"]


def test_push_polling_without_binding_code_is_fine_until_slow_down():
    challenge = entry("POST", f"https://{CANONICAL}/mfa/challenge", 200,
                      json_body={"mfa_token": MFA_TOKEN, "challenge_type": "oob"},
                      response={"challenge_type": "oob", "oob_code": "Fe26.2*push"})
    polls = [token(CANONICAL, protocol.GRANT_MFA_OOB, 1 + i, 400, err("authorization_pending"),
                   mfa_token=MFA_TOKEN, oob_code="Fe26.2*push") for i in range(12)]
    slow = token(CANONICAL, protocol.GRANT_MFA_OOB, 13, 429, err("slow_down"),
                 mfa_token=MFA_TOKEN, oob_code="Fe26.2*push")
    [finding] = diagnose(har(challenge, *polls, slow))
    assert finding.key == "slow_down" and finding.exchange == 14
    assert "13 times in 12.0 s, about every 1.0 s" in finding.explanation
    assert "5 seconds" in finding.fix


def test_recovery_code_reused_after_it_succeeded_once():
    ok = token(CANONICAL, protocol.GRANT_MFA_RECOVERY_CODE, 0, mfa_token=MFA_TOKEN,
               recovery_code="A" * 24, response={"access_token": "x", "recovery_code": "B" * 24})
    again = token(CANONICAL, protocol.GRANT_MFA_RECOVERY_CODE, 30, 403,
                  err("invalid_recovery_code"), mfa_token=MFA_TOKEN, recovery_code="A" * 24)
    assert keys(diagnose(har(ok, again))) == ["recovery_code_reused"]
    assert keys(diagnose(har(again))) == ["invalid_recovery_code"]


def test_challenging_a_user_who_has_only_enroll_requirements():
    challenge = entry("POST", f"https://{CANONICAL}/mfa/challenge", 401,
                      json_body={"mfa_token": MFA_TOKEN, "challenge_type": "otp"},
                      response=err("unsupported_challenge_type", types="otp"), at=1)
    findings = diagnose(har(mfa_required(CANONICAL, enroll=True), challenge))
    assert [(f.key, f.severity) for f in findings] == [("enrollment_required", "info"),
                                                       ("user_has_no_factor", "error")]
    assert "otp, phone" in findings[1].explanation and "/mfa/associate" in findings[1].fix


def test_malformed_mfa_token_versus_one_already_spent():
    ok = token(CANONICAL, protocol.GRANT_MFA_OTP, 1, mfa_token=MFA_TOKEN, otp="123456")
    bad = token(CANONICAL, protocol.GRANT_MFA_OTP, 2, 403, err("malformed_mfa_token"),
                mfa_token=MFA_TOKEN, otp="654321")
    assert keys(diagnose(har(mfa_required(CANONICAL), ok, bad))) == ["mfa_token_reused"]
    assert keys(diagnose(har(mfa_required(CANONICAL), bad))) == ["malformed_mfa_token"]


def test_mfa_grant_not_enabled_on_the_application():
    grant = protocol.GRANT_MFA_OTP
    failing = token(CANONICAL, grant, 0, 403, err("grant_not_allowed", grant_type=grant),
                    mfa_token=MFA_TOKEN, otp="123456")
    [finding] = diagnose(har(failing))
    assert finding.key == "mfa_grant_not_enabled" and "Grant Types" in finding.fix
    assert finding.doc_url == DOCS["grant_types"]
    refresh = token(CANONICAL, protocol.GRANT_REFRESH_TOKEN, 0, 403,
                    err("grant_not_allowed", grant_type=protocol.GRANT_REFRESH_TOKEN))
    assert keys(diagnose(har(refresh))) == ["grant_not_allowed"]


def test_missing_enroll_scope_names_the_scope_that_was_asked_for():
    login = token(CANONICAL, protocol.GRANT_PASSWORD, 0, audience=f"https://{CANONICAL}/mfa/",
                  scope="openid read:authenticators")
    associate = entry("POST", f"https://{CANONICAL}/mfa/associate", 403,
                      json_body={"authenticator_types": ["otp"]},
                      response=err("insufficient_scope", scope="enroll"), at=2)
    [finding] = diagnose(har(login, associate))
    assert finding.key == "insufficient_scope"
    assert '"openid read:authenticators"' in finding.explanation and "enroll" in finding.fix


def test_unknown_mfa_errors_are_shown_and_other_hosts_ignored():
    odd = entry("POST", f"https://{CANONICAL}/mfa/associate", 418,
                json_body={}, response={"error": "teapot", "error_description": "short and stout"})
    findings = diagnose(har(*NOISE, odd))
    assert [(f.key, f.severity, f.exchange) for f in findings] == [("unrecognised_error", "warning", 3)]
    assert "teapot" in findings[0].response


def test_markdown_lists_findings_in_order():
    text = findings_markdown(diagnose(har(
        token(CANONICAL, protocol.GRANT_MFA_OTP, 0, 403, err("expired_mfa_token")),
        token(CANONICAL, protocol.GRANT_MFA_OOB, 1, 400, err("push_rejected")))))
    assert text.index("mfa_token expired") < text.index("rejected the push")
    assert findings_markdown([]).startswith("# Diagnosis\n\nNo MFA API failure")


def test_observe_reads_json_and_form_bodies_the_same_way():
    form = token(CANONICAL, protocol.GRANT_MFA_OTP, otp="1")
    as_json = entry("POST", f"https://{CANONICAL}/oauth/token", 200,
                    json_body={"grant_type": protocol.GRANT_MFA_OTP, "otp": "1"})
    a, b = observe(har(form, as_json))
    assert a.grant_type == b.grant_type == protocol.GRANT_MFA_OTP and a.field("otp") == b.field("otp")
    assert a.started == T0.timestamp()


def test_devtools_quirks_authority_header_params_only_and_binary_bodies():
    e = token(CUSTOM, protocol.GRANT_MFA_OTP, otp="1")
    del e["request"]["postData"]["text"]            # some exporters keep only params
    e["request"]["url"] = "https://127.0.0.1:8443/oauth/token"
    font = entry("GET", "https://cdn.example.net/f.woff2", 200)
    font["response"]["content"].update(text=base64.b64encode(b"\x00\xff\xfe").decode(), encoding="base64")
    a, b = observe(har(e, font))
    assert a.host == CUSTOM and a.field("otp") == "1" and a.grant_type == protocol.GRANT_MFA_OTP
    assert b.body is None and not b.is_mfa_api


# ----- the CLI

def run_cli(tmp_path, capsys, data, *extra, bom=False):
    path = tmp_path / "customer.har"
    path.write_text(("\ufeff" if bom else "") + json.dumps(data), encoding="utf-8")
    parser = argparse.ArgumentParser()
    cli_diagnose.add_arguments(parser)
    code = cli_diagnose.run(parser.parse_args([str(path), *extra]))
    return code, capsys.readouterr()


def test_cli_explains_failures_in_order(tmp_path, capsys):
    audience = f"https://{CUSTOM}/mfa/"
    data = har(*NOISE,
               token(CUSTOM, protocol.GRANT_PASSWORD, 1, 403,
                     err("service_not_enabled", audience=audience), audience=audience),
               mfa_required(CUSTOM, 2, enroll=True),
               entry("POST", f"https://{CUSTOM}/mfa/associate", 400,
                     json_body={"authenticator_types": ["opt"]},
                     response=err("invalid_authenticator_type", value="opt"), at=3))
    code, out = run_cli(tmp_path, capsys, data, "--domain", CANONICAL, bom=True)
    assert code == 1
    text = out.out
    assert text.startswith("2 finding(s) in 5 exchanges")
    assert text.index("MFA API audience uses the custom domain") < text.index("Unknown authenticator type")
    assert "exchange #3 at 10:00:01: POST /oauth/token" in text and DOCS["custom_domains"] in text
    assert "enroll" not in text.split("\n")[0]  # info findings only with --all
    code, out = run_cli(tmp_path, capsys, data, "--domain", CANONICAL, "--json", "--all")
    assert [f["key"] for f in json.loads(out.out)] == [
        "custom_domain_audience", "enrollment_required", "invalid_authenticator_type"]


def test_the_verify_report_reads_a_har_path_into_one_line_findings(tmp_path):
    path = tmp_path / "run.har"
    path.write_text(json.dumps(har(token(CANONICAL, protocol.GRANT_MFA_OTP, 0, 403,
                                         err("expired_mfa_token")))), encoding="utf-8")
    [line] = [str(f) for f in diagnose(exchanges_from_har(path))]
    assert line.startswith("The mfa_token expired (exchange #1 at 10:00:00: POST /oauth/token -> 403 expired_token")
    assert "Fix: Log in again" in line and DOCS["ropg"] in line


def test_cli_clean_har_and_unreadable_file(tmp_path, capsys):
    code, out = run_cli(tmp_path, capsys, har(*NOISE, token(CANONICAL, protocol.GRANT_MFA_OTP)))
    assert code == 0 and "No MFA API failure" in out.out
    code, out = run_cli(tmp_path, capsys, {"not": "a har"})
    assert code == 2 and "no log.entries" in out.err


@pytest.mark.parametrize("key", sorted(k for k in protocol.ERRORS
                                       if k not in ("mfa_required", "authorization_pending")))
def test_every_known_error_gets_a_finding(key):
    spec = protocol.ERRORS[key]
    fields = {name: "x" for name in ("types", "grant_type", "audience", "name", "scope", "value",
                                     "reason", "realm", "factor", "transaction")}
    body = {"error": spec.error, "error_description": spec.describe(**fields)}
    [finding] = diagnose(har(entry("POST", f"https://{CANONICAL}/oauth/token", spec.status,
                                   form={"grant_type": "password"}, response=body)))
    assert finding.key != "unrecognised_error" and finding.title and finding.fix
    assert finding.doc_url.startswith("https://auth0.com/docs/")
