"""Auth0's own SDKs, pointed at the emulator posing as a tenant with nothing but the domain, the
client and the certificate, walk the MFA flow: password grant -> mfa_required -> associate otp ->
mfa-otp grant -> list authenticators. Neither SDK was written here, so this checks the emulator
against what Auth0's SDKs expect (HTTPS endpoints, `https://DOMAIN/` as issuer, error shapes).
The tests use the kit's pytest plugin fixtures (`auth0_mfa_emulator`, `auth0_mfa_user`) as a user's
test suite would."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pyotp
import pytest

from mfa_helpers import protocol
from mfa_helpers.emulator import Emulator

JS = Path(__file__).with_name("js")
MFA_SCOPE = "openid enroll read:authenticators remove:authenticators"


def auth0_python():
    return pytest.importorskip("auth0.authentication", reason="auth0-python is not installed "
                                                               "(requirements-dev.txt)")


def test_auth0_python_walks_mfa_with_the_domain_and_the_certificate(auth0_mfa_emulator, auth0_mfa_user,
                                                                     monkeypatch):
    authentication = auth0_python()
    from auth0.authentication.token_verifier import AsymmetricSignatureVerifier, TokenVerifier
    from auth0.authentication.exceptions import Auth0Error
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", auth0_mfa_emulator.ca_bundle)   # how requests trusts it
    domain, app = auth0_mfa_emulator.domain, auth0_mfa_emulator.client()
    sdk = authentication.GetToken(domain, app.client_id, client_secret=app.client_secret)
    with pytest.raises(Auth0Error) as required:
        sdk.login(auth0_mfa_user["username"], auth0_mfa_user["password"], grant_type=protocol.GRANT_PASSWORD,
                  audience=auth0_mfa_emulator.mfa_audience, scope=MFA_SCOPE)
    assert (required.value.status_code, required.value.error_code) == (403, "mfa_required")
    mfa_token = required.value.content["mfa_token"]
    bearer = {"Authorization": f"Bearer {mfa_token}"}
    # The SDK has no MFA API methods: its generic calls carry them, with its client authentication.
    enrolled = sdk.post(f"https://{domain}/mfa/associate", data={"authenticator_types": ["otp"]}, headers=bearer)
    assert enrolled["authenticator_type"] == "otp" and len(enrolled["recovery_codes"]) == 1
    tokens = sdk.authenticated_post(f"https://{domain}/oauth/token", data={
        "client_id": app.client_id, "grant_type": protocol.GRANT_MFA_OTP, "mfa_token": mfa_token, "otp": pyotp.TOTP(enrolled["secret"]).now()})
    assert tokens["token_type"].lower() == "bearer" and tokens["expires_in"] > 0
    listed = sdk.get(f"https://{domain}/mfa/authenticators",
                     headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert {(a["authenticator_type"], a["active"]) for a in listed} >= {("otp", True)}
    # The SDK's own ID token check: signature from the JWKS, issuer https://DOMAIN/, audience the client.
    verifier = TokenVerifier(AsymmetricSignatureVerifier(f"https://{domain}/.well-known/jwks.json"),
                             issuer=auth0_mfa_emulator.issuer, audience=app.client_id)
    assert verifier.verify(tokens["id_token"])["iss"] == f"https://{domain}/"


def test_plain_http_cannot_serve_an_sdk_that_checks_the_issuer(monkeypatch):
    """Why the fixture serves HTTPS: the plain emulator signs for its tenant file's domain, so an SDK
    pointed at its address (protocol="http", a testing switch) finds an issuer it was not given."""
    authentication = auth0_python()
    from auth0.authentication.token_verifier import (AsymmetricSignatureVerifier, TokenValidationError,
                                                     TokenVerifier)
    from auth0.authentication.exceptions import Auth0Error
    with Emulator() as plain:
        domain = plain.url.removeprefix("http://")
        app = next(c for c in plain.tenant.clients if c.client_secret and protocol.GRANT_MFA_OTP in c.grant_types)
        sdk = authentication.GetToken(domain, app.client_id, client_secret=app.client_secret, protocol="http")
        user = plain.tenant.users[1]   # enrolled with TOTP in the demo tenant
        with pytest.raises(Auth0Error) as required:
            sdk.login(user.username, user.password, grant_type=protocol.GRANT_PASSWORD, scope="openid")
        secret = next(f.secret for f in user.factors if f.type == "otp")
        tokens = sdk.authenticated_post(f"http://{domain}/oauth/token", data={
            "client_id": app.client_id, "grant_type": protocol.GRANT_MFA_OTP, "mfa_token": required.value.content["mfa_token"],
            "otp": pyotp.TOTP(secret).now()})
        verifier = TokenVerifier(AsymmetricSignatureVerifier(f"http://{domain}/.well-known/jwks.json"),
                                 issuer=f"https://{domain}/", audience=app.client_id)
        with pytest.raises(TokenValidationError, match="Issuer"):
            verifier.verify(tokens["id_token"])


def js_walk(env: dict[str, str]) -> subprocess.CompletedProcess:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: Auth0's JavaScript SDK runs on node")
    if not (JS / "node_modules" / "@auth0" / "auth0-auth-js").is_dir():
        pytest.skip("tests/js has no node_modules: run `npm ci` in tests/js (.ci/run does when npm is present)")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH0_", "NODE_EXTRA_CA_CERTS"))}
    return subprocess.run(["node", "mfa_walk.mjs"], cwd=JS, env={**clean, **env}, capture_output=True,
                          text=True, timeout=120)


def test_auth0_auth_js_walks_mfa_with_the_domain_and_the_certificate(auth0_mfa_emulator, auth0_mfa_user):
    env = {**auth0_mfa_emulator.environment(), "AUTH0_USERNAME": auth0_mfa_user["username"],
           "AUTH0_PASSWORD": auth0_mfa_user["password"]}
    ran = js_walk(env)
    assert ran.returncode == 0, ran.stderr[-3000:]
    seen = json.loads(ran.stdout)
    assert seen["password_grant"] == "mfa_required"
    assert {"type": "otp"} in seen["mfa_requirements"]["enroll"]
    assert seen["enrolled"] == {"authenticatorType": "otp", "recoveryCodes": 1, "barcodeScheme": "otpauth:"}
    assert seen["token_type"].lower() == "bearer" and seen["has_access_token"]
    assert seen["lifetime"] > 0    # expiresAt, computed by the SDK from expires_in
    assert seen["id_token_issuer"] == auth0_mfa_emulator.issuer
    assert {"type": "otp", "active": True} in seen["authenticators"]


def test_auth0_auth_js_refuses_the_certificate_it_was_not_given(auth0_mfa_emulator, auth0_mfa_user):
    """The certificate is what makes it work: without NODE_EXTRA_CA_CERTS node does not trust it."""
    env = {k: v for k, v in auth0_mfa_emulator.environment().items() if k != "NODE_EXTRA_CA_CERTS"}
    ran = js_walk({**env, "AUTH0_USERNAME": auth0_mfa_user["username"], "AUTH0_PASSWORD": auth0_mfa_user["password"]})
    assert ran.returncode != 0 and "SELF_SIGNED_CERT" in ran.stderr, ran.stderr[-3000:]
