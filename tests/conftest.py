"""Shared fixtures: a fresh in-memory emulator per test, its control API, fresh users, and a small
`wire` helper that speaks Auth0's MFA API to it with plain `requests` (no mocked HTTP)."""
from __future__ import annotations

import pyotp
import pytest
import requests

from mfa_helpers import protocol
from mfa_helpers.emulator import Emulator
from mfa_helpers.emulator.control import EmulatorControl


@pytest.fixture
def emulator():
    with Emulator() as emu:
        yield emu


@pytest.fixture
def control(emulator) -> EmulatorControl:
    return EmulatorControl(emulator.url)


@pytest.fixture
def fresh_user(control) -> dict:
    """A new user with no factor: {"username", "password"}."""
    return control.create_user()


class Wire:
    """Auth0's MFA API calls against an emulator, as the demo confidential client."""

    def __init__(self, emulator: Emulator):
        self.url = emulator.url
        self.tenant = emulator.tenant
        app = next(c for c in emulator.tenant.clients
                   if c.client_secret and protocol.GRANT_MFA_OTP in c.grant_types)
        self.client = {"client_id": app.client_id, "client_secret": app.client_secret}
        self.http = requests.Session()

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.http.post(self.url + path, timeout=10, **kwargs)

    def token(self, **fields) -> requests.Response:
        return self.post("/oauth/token", data={**self.client, **fields})

    def login(self, user: dict, **fields) -> requests.Response:
        return self.token(grant_type="password", username=user["username"],
                          password=user["password"], **fields)

    def mfa_token(self, user: dict, **fields) -> str:
        response = self.login(user, **fields)
        assert response.status_code == 403, response.text
        return response.json()["mfa_token"]

    def associate(self, bearer: str, **body) -> requests.Response:
        return self.post("/mfa/associate", json=body, headers={"Authorization": f"Bearer {bearer}"})

    def authenticators(self, bearer: str) -> requests.Response:
        return self.http.get(self.url + "/mfa/authenticators", timeout=10,
                             headers={"Authorization": f"Bearer {bearer}"})

    def otp_grant(self, mfa_token: str, otp: str) -> requests.Response:
        return self.token(grant_type=protocol.GRANT_MFA_OTP, mfa_token=mfa_token, otp=otp)

    def enroll_otp(self, user: dict, **login_fields) -> dict:
        """Associate and confirm TOTP; returns the associate answer plus the grant's tokens."""
        mfa_token = self.mfa_token(user, **login_fields)
        enrolled = self.associate(mfa_token, authenticator_types=["otp"]).json()
        otp = pyotp.TOTP(enrolled["secret"]).now()
        tokens = self.otp_grant(mfa_token, otp)
        assert tokens.status_code == 200, tokens.text
        return {**enrolled, "tokens": tokens.json(), "mfa_token": mfa_token, "otp": otp}

    def mfa_api_token(self, user: dict, scope: str = " ".join(protocol.MFA_SCOPES)) -> str:
        """An access token for the MFA API audience (password grant + MFA with the user's TOTP)."""
        return self.enroll_otp(user, audience=self.tenant.mfa_audience, scope=scope)["tokens"]["access_token"]


@pytest.fixture
def wire(emulator) -> Wire:
    return Wire(emulator)


def error_of(response: requests.Response, key: str, **fields) -> bool:
    """True when a response is exactly protocol.ERRORS[key] (status, error, description)."""
    spec = protocol.ERRORS[key]
    return response.status_code == spec.status and response.json() == spec.body(**fields)
