"""The one redaction table: each kind of secret is hidden the documented way, everywhere."""
import json
import random
import re

from mfa_helpers import redact
from mfa_helpers.exchange import Exchange, Session

JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhdXRoMHwxIiwic2NvcGUiOiJlbnJvbGwifQ.c2lnbmF0dXJlLXNlY3JldA"
MFA_TOKEN = "Fe26.2*1*" + "x9" * 400
BARCODE = "otpauth://totp/MFA%20Kit%20Demo:learner%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=MFA%20Kit%20Demo"


def test_jwt_keeps_header_and_claims_and_loses_the_signature():
    shown = redact.redact_field("access_token", JWT)
    header, claims, signature = JWT.split(".")
    assert shown == f"{header}.{claims}.[signature redacted]"
    assert signature not in shown


def test_opaque_secret_shows_a_short_prefix_and_the_length_only():
    assert redact.redact_field("mfa_token", MFA_TOKEN) == f"Fe26.2*…[redacted, {len(MFA_TOKEN)} chars]"
    assert redact.redact_field("oob_code", "short-code") == "[redacted, 10 chars]"


def test_passwords_and_client_secrets_are_fully_masked():
    assert redact.redact_field("password", "hunter2-long") == "[redacted]"
    assert redact.redact_field("client_secret", "s" * 64) == "[redacted]"


def test_codes_seeds_and_uris_show_no_character_of_the_value():
    for name, value in [("otp", "123456"), ("binding_code", "654321"), ("recovery_code", "MZCRK3YX5V3AKNNYY6JEBQCL"),
                        ("secret", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")]:
        assert redact.redact_field(name, value) == f"[redacted, {len(value)} chars]"
    assert redact.redact_field("recovery_codes", ["A" * 24]) == ["[redacted, 24 chars]"]
    assert redact.redact_field("barcode_uri", BARCODE) == f"otpauth://…[redacted, {len(BARCODE)} chars]"


def test_phone_numbers_and_emails_are_masked_in_fields_and_free_text():
    assert redact.redact_field("phone_number", "+15551239167") == "+•••••••9167"
    assert redact.redact_field("email", "learner@example.com") == "l•••@•••.com"
    text = redact.redact_text("sent to +1 555 123 9167 and learner@example.com")
    assert "learner@" not in text and "555 123" not in text and "9167" in text


def test_authorization_header_keeps_the_scheme_only():
    assert redact.redact_header("Authorization", f"Bearer {JWT}").endswith(".[signature redacted]")
    assert redact.redact_header("Authorization", f"Bearer {MFA_TOKEN}").startswith("Bearer Fe26.2*…[redacted")
    assert redact.redact_header("authorization", "Basic Y2xpZW50OnNlY3JldA==") == "Basic [redacted]"


def test_nested_json_form_bodies_and_urls_are_redacted_by_field_name():
    body = json.dumps({"grant_type": "password", "password": "pw-123456", "nested": {"mfa_token": MFA_TOKEN}})
    shown = redact.redact_body(body, "application/json")
    assert "pw-123456" not in shown and MFA_TOKEN not in shown and '"grant_type": "password"' in shown
    form = redact.redact_body("otp=123456&grant_type=x", "application/x-www-form-urlencoded")
    assert "123456" not in form and "grant_type=x" in form
    url = redact.redact_url("https://h/cb?code=abcdefgh1234&state=s1")
    assert "abcdefgh1234" not in url and "s1" not in url and "state=[redacted" in url


def test_known_secret_values_are_scrubbed_from_free_text():
    assert redact.redact_text("your code is 904512", ["904512"]) == "your code is [redacted, 6 chars]"
    assert JWT not in redact.redact_text(f"token={JWT}") and MFA_TOKEN not in redact.redact_text(MFA_TOKEN)


def test_known_secrets_are_masked_exactly_where_their_whole_word_pattern_matches():
    """mask_known searches strings, not compiled patterns: it masks where secret_pattern matches."""
    rng = random.Random(14)
    for _ in range(3000):
        secret = "".join(rng.choice("ab1") for _ in range(rng.randint(1, 3)))
        text = "".join(rng.choice("ab1_-. %\n") for _ in range(rng.randint(0, 30)))
        assert (redact._replace_word(text, secret, "[X]")
                == re.sub(redact.secret_pattern(secret), "[X]", text))
    assert redact.mask_known("otp=123456&t=20240123456789", ["123456"]) == "otp=[redacted, 6 chars]&t=20240123456789"


def test_collect_secrets_finds_values_under_secret_keys_only():
    found = redact.collect_secrets({"mfa_token": MFA_TOKEN, "recovery_codes": ["R1R1"], "error": "mfa_required",
                                    "phone_number": "+15551239167", "inner": [{"otp": "111111"}]})
    assert found == {MFA_TOKEN, "R1R1", "111111"}


def test_session_knows_secrets_from_requests_responses_headers_and_registrations():
    session = Session()
    session.add_secrets("client-secret-value")
    session.record(Exchange("POST", "http://e/oauth/token", {"Authorization": f"Bearer {JWT}"},
                            json.dumps({"otp": "123456"}), 200, "OK", {"Content-Type": "application/json"},
                            json.dumps({"access_token": JWT, "refresh_token": "rt-" + "z" * 40})))
    assert session.known_secrets() == {"client-secret-value", JWT, "123456", "rt-" + "z" * 40}


def test_a_curl_snippets_shell_variables_survive_redaction_and_real_credentials_do_not():
    """The curl shown in a notebook names secrets as $VARIABLES so it runs as shown; redaction
    (every header value, Bearer lines, secret-named pairs) must leave those names readable."""
    snippet = ('curl -H "Authorization: Bearer $MFA_TOKEN" -H "Authorization: Bearer ${ACCESS_TOKEN}" '
               '--data-urlencode "client_secret=$AUTH0_CLIENT_SECRET"')
    assert redact.redact_text(snippet) == snippet
    assert redact.redact_header("Authorization", "Bearer $MFA_TOKEN") == "Bearer $MFA_TOKEN"
    real = "Authorization: Bearer Fe26.2*abcdefghijklmnopqrstuvwxyz0123456789"
    assert "abcdefghijklmnop" not in redact.redact_text(real)
