"""/oauth/token grants, client authentication, audiences, /authorize + PKCE, discovery and JWKS."""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pyotp
import requests

from mfa_helpers import protocol
from mfa_helpers.emulator.signing import Signer
from mfa_helpers.emulator.store import Store

from conftest import error_of

CUSTOM = {"Host": "login.mfa-kit-demo.example"}


def test_password_realm_grant(wire, fresh_user, emulator):
    ok = wire.token(grant_type=protocol.GRANT_PASSWORD_REALM, realm=emulator.tenant.connection,
                    username=fresh_user["username"], password=fresh_user["password"])
    assert ok.status_code == 403 and ok.json()["error"] == "mfa_required"
    bad = wire.token(grant_type=protocol.GRANT_PASSWORD_REALM, realm="Nope",
                     username=fresh_user["username"], password=fresh_user["password"])
    assert error_of(bad, "unknown_realm", realm="Nope")


def test_wrong_password(wire, fresh_user):
    assert error_of(wire.login({**fresh_user, "password": "wrong"}), "wrong_password")
    assert error_of(wire.login({"username": "nobody@example.com", "password": "x"}), "wrong_password")


def test_client_authentication(wire, fresh_user, emulator):
    fields = {"grant_type": "password", "username": fresh_user["username"],
              "password": fresh_user["password"]}
    cid, secret = wire.client["client_id"], wire.client["client_secret"]
    basic = requests.post(f"{wire.url}/oauth/token", data=fields, auth=(cid, secret), timeout=10)
    assert basic.json()["error"] == "mfa_required"
    wrong_basic = requests.post(f"{wire.url}/oauth/token", data=fields, auth=(cid, "nope"), timeout=10)
    assert error_of(wrong_basic, "unauthorized_client_auth")
    assert error_of(wire.post("/oauth/token", data={**fields, "client_id": cid, "client_secret": "x"}),
                    "unauthorized_client_auth")
    assert error_of(wire.post("/oauth/token", data={**fields, "client_id": cid}), "unauthorized_client_auth")
    assert error_of(wire.post("/oauth/token", data={**fields, "client_id": "ghost"}),
                    "unauthorized_client_auth")


def test_grant_not_enabled_and_unknown_grant(wire, fresh_user, emulator):
    mfa_token = wire.mfa_token(fresh_user)
    other = next(c for c in emulator.tenant.clients if protocol.GRANT_MFA_OTP not in c.grant_types
                 and c.client_secret)
    response = wire.post("/oauth/token", data={
        "client_id": other.client_id, "client_secret": other.client_secret,
        "grant_type": protocol.GRANT_MFA_OTP, "mfa_token": mfa_token, "otp": "123456"})
    assert error_of(response, "grant_not_allowed", grant_type=protocol.GRANT_MFA_OTP)
    assert error_of(wire.token(grant_type="client_credentials"), "unsupported_grant_type",
                    grant_type="client_credentials")


def test_json_body_with_null_and_empty_means_absent(wire, fresh_user):
    enrolled = wire.enroll_otp(fresh_user)
    response = wire.post("/oauth/token", json={
        **wire.client, "grant_type": "password", "username": fresh_user["username"],
        "password": fresh_user["password"], "scope": None, "audience": "", "realm": None})
    assert response.status_code == 403
    mfa_token = response.json()["mfa_token"]
    totp = pyotp.TOTP(enrolled["secret"])
    tokens = wire.post("/oauth/token", json={**wire.client, "grant_type": protocol.GRANT_MFA_OTP,
                                             "mfa_token": mfa_token, "otp": totp.at(time.time() + 30),
                                             "binding_code": None})
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["scope"] == "openid profile email address phone"


def test_refresh_token_grant(wire, fresh_user):
    tokens = wire.enroll_otp(fresh_user, scope="openid offline_access")["tokens"]
    refreshed = wire.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200
    assert set(refreshed.json()) == {"access_token", "id_token", "scope", "expires_in", "token_type"}
    claims = jwt.decode(refreshed.json()["id_token"], options={"verify_signature": False})
    assert claims["amr"] == ["mfa"]   # the login it continues did MFA
    assert error_of(wire.token(grant_type="refresh_token", refresh_token="nope"), "invalid_refresh_token")


def test_tokens_verify_against_jwks_and_discovery(wire, fresh_user, emulator):
    """Discovery's `issuer` and the tokens' `iss` are `https://DOMAIN/` of the domain reached, as
    Auth0's SDKs check them (the emulator's own address stands for the canonical domain); the URLs
    discovery names stay reachable: the emulator's address, or `https://DOMAIN` when Host named it."""
    canonical, custom = emulator.tenant.domain, emulator.tenant.custom_domain
    tokens = wire.enroll_otp(fresh_user, audience=emulator.tenant.mfa_audience,
                             scope="openid offline_access read:authenticators")["tokens"]
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["iss"] == f"https://{canonical}/"
    assert claims["scope"] == "openid offline_access read:authenticators"
    assert claims["aud"] == [emulator.tenant.mfa_audience, f"https://{canonical}/userinfo"]
    assert claims["azp"] == wire.client["client_id"]
    jwks = requests.get(f"{emulator.url}/.well-known/jwks.json", timeout=10).json()
    for headers, domain, base in (({}, canonical, emulator.url), ({"Host": canonical}, canonical,
                                  f"https://{canonical}"), (CUSTOM, custom, f"https://{custom}")):
        discovery = requests.get(f"{emulator.url}/.well-known/openid-configuration", headers=headers,
                                 timeout=10).json()
        assert discovery["issuer"] == f"https://{domain}/"
        assert discovery["jwks_uri"] == f"{base}/.well-known/jwks.json"
        assert discovery["token_endpoint"] == f"{base}/oauth/token"
        minted = wire.http.post(f"{emulator.url}/oauth/token", headers=headers, timeout=10, data={
            **wire.client, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}).json()
        key = next(k for k in jwks["keys"] if k["kid"] == jwt.get_unverified_header(minted["id_token"])["kid"])
        jwt.decode(minted["id_token"], jwt.PyJWK(key).key, algorithms=["RS256"],
                   audience=wire.client["client_id"], issuer=discovery["issuer"])
        jwt.decode(minted["access_token"], jwt.PyJWK(key).key, algorithms=["RS256"],
                   audience=emulator.tenant.mfa_audience, issuer=discovery["issuer"])
        assert wire.authenticators(minted["access_token"]).status_code == 200   # either domain's


def test_a_token_of_another_issuer_is_refused(wire, fresh_user, emulator):
    """A JWT signed with the emulator's key is accepted only under one of the tenant's issuers:
    under any other `iss` it is `invalid_token` as a bearer and a malformed mfa_token."""
    access = wire.mfa_api_token(fresh_user)
    claims = jwt.decode(access, options={"verify_signature": False})
    signer = Signer(Store(":memory:"))   # in-memory stores of one process share one signing key
    assert signer.kid == jwt.get_unverified_header(access)["kid"]
    custom = signer.sign({**claims, "iss": f"https://{emulator.tenant.custom_domain}/"})
    assert wire.authenticators(custom).status_code == 200
    unnamed = {k: v for k, v in claims.items() if k != "iss"}
    for foreign_claims in ({**claims, "iss": f"{emulator.url}/"}, unnamed,
                           {**claims, "iss": "https://other-tenant.us.auth0.com/"}):
        foreign = signer.sign(foreign_claims)
        assert error_of(wire.authenticators(foreign), "invalid_token")
        assert error_of(wire.post("/mfa/challenge", json={**wire.client, "mfa_token": foreign,
                                                          "challenge_type": "otp"}), "malformed_mfa_token")


def test_custom_domain_answers_and_its_mfa_audience_is_no_api(wire, fresh_user, emulator):
    custom_audience = f"https://{emulator.tenant.custom_domain}/mfa/"
    response = wire.http.post(f"{wire.url}/oauth/token", headers=CUSTOM, timeout=10, data={
        **wire.client, "grant_type": "password", "username": fresh_user["username"],
        "password": fresh_user["password"], "audience": custom_audience})
    assert error_of(response, "service_not_enabled", audience=custom_audience)
    # the canonical MFA audience works through the custom domain
    ok = wire.http.post(f"{wire.url}/oauth/token", headers=CUSTOM, timeout=10, data={
        **wire.client, "grant_type": "password", "username": fresh_user["username"],
        "password": fresh_user["password"], "audience": emulator.tenant.mfa_audience})
    assert ok.json()["error"] == "mfa_required"


def test_pitfall_api_token_enrolls_but_fails_as_mfa_token_with_invalid_audience(wire, fresh_user, emulator):
    """The seeds' thread: /mfa/associate takes the lookalike API's token, the mfa-otp grant does not."""
    pitfall = emulator.tenant.apis[0].identifier
    assert pitfall == f"https://{emulator.tenant.custom_domain}/mfa"
    tokens = wire.enroll_otp(fresh_user, audience=pitfall, scope="enroll")["tokens"]
    wire_token = tokens["access_token"]
    assert wire.associate(wire_token, authenticator_types=["otp"]).status_code == 200
    assert error_of(wire.otp_grant(wire_token, "123456"), "invalid_audience")


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize(emulator, user: dict, *, otp: str | None = None, challenge: str, scope: str):
    spa = next(c for c in emulator.tenant.clients if c.public)
    redirect = "http://localhost:3000/callback"
    page = requests.get(f"{emulator.url}/authorize", timeout=10, params={
        "response_type": "code", "client_id": spa.client_id, "redirect_uri": redirect,
        "code_challenge": challenge, "code_challenge_method": "S256", "state": "xyz",
        "audience": emulator.tenant.mfa_audience, "scope": scope})
    assert page.status_code == 200 and "<form" in page.text
    login_id = re.search(r'name="login" value="([^"]+)"', page.text).group(1)
    form = {"login": login_id, "username": user["username"], "password": user["password"]}
    if otp:
        form["otp"] = otp
    return spa, redirect, requests.post(f"{emulator.url}/u/login", data=form, allow_redirects=False,
                                        timeout=10)


def test_authorization_code_with_pkce_gives_an_mfa_api_token_that_confirms_enrollment(emulator, fresh_user):
    verifier, challenge = _pkce()
    spa, redirect, answer = _authorize(emulator, fresh_user, challenge=challenge,
                                       scope=" ".join(protocol.MFA_SCOPES))
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == ["xyz"]
    exchange = {"grant_type": "authorization_code", "client_id": spa.client_id,
                "code": query["code"][0], "redirect_uri": redirect}
    bad = requests.post(f"{emulator.url}/oauth/token", data={**exchange, "code_verifier": "wrong"},
                        timeout=10)
    assert error_of(bad, "invalid_code_verifier")
    tokens = requests.post(f"{emulator.url}/oauth/token", data={**exchange, "code_verifier": verifier},
                           timeout=10)
    assert tokens.status_code == 200, tokens.text
    access = tokens.json()["access_token"]
    again = requests.post(f"{emulator.url}/oauth/token", data={**exchange, "code_verifier": verifier},
                          timeout=10)
    assert error_of(again, "invalid_authorization_code")

    # the access token works where an mfa_token does: associate, then the mfa-otp grant confirms
    headers = {"Authorization": f"Bearer {access}"}
    enrolled = requests.post(f"{emulator.url}/mfa/associate", json={"authenticator_types": ["otp"]},
                             headers=headers, timeout=10).json()
    confirm = requests.post(f"{emulator.url}/oauth/token", timeout=10, data={
        "grant_type": protocol.GRANT_MFA_OTP, "client_id": spa.client_id, "mfa_token": access,
        "otp": pyotp.TOTP(enrolled["secret"]).now()})
    assert confirm.status_code == 200, confirm.text
    listed = requests.get(f"{emulator.url}/mfa/authenticators", headers=headers, timeout=10).json()
    assert [a["active"] for a in listed if a["authenticator_type"] == "otp"] == [True]
    # a second factor with the access token is fine (no "already enrolled" for it)
    second = requests.post(f"{emulator.url}/mfa/associate", json={"authenticator_types": ["otp"]},
                           headers=headers, timeout=10)
    assert second.status_code == 200 and "recovery_codes" not in second.json()


def test_login_page_asks_enrolled_users_for_their_code(emulator, wire, fresh_user):
    enrolled = wire.enroll_otp(fresh_user)
    _, challenge = _pkce()
    _, _, refused = _authorize(emulator, fresh_user, challenge=challenge, scope="openid")
    assert refused.status_code == 400 and protocol.ERRORS["invalid_otp"].description in refused.text
    _, _, ok = _authorize(emulator, fresh_user, challenge=challenge, scope="openid",
                          otp=pyotp.TOTP(enrolled["secret"]).at(time.time() + 30))
    assert ok.status_code == 302 and "code=" in ok.headers["location"]


def test_authorize_rejects_bad_requests_without_a_500(emulator):
    base = f"{emulator.url}/authorize"
    assert error_of(requests.get(base, timeout=10), "invalid_authorize_request", reason="unknown client_id")
    spa = next(c for c in emulator.tenant.clients if c.public)
    no_pkce = requests.get(base, timeout=10, params={"client_id": spa.client_id, "response_type": "code",
                                                       "redirect_uri": "http://localhost/cb"})
    assert no_pkce.status_code == 400 and "PKCE" in no_pkce.json()["error_description"]
