"""EmulatorControl: a thin Python wrapper over the emulator-only /emulator/* endpoints."""
from __future__ import annotations

from typing import Any

import requests

from mfa_helpers import knowledge, protocol
from mfa_helpers.errors import KitError, classify_network_error
from mfa_helpers.settings import ENV

START = f"start it with `mfa-kit emulator` or set {ENV['emulator_url']} to its address"
# How a request that got no answer failed (errors.classify_network_error) -> what to do.
NO_ANSWER = {
    "refused": ("connection refused", f"is the emulator running? {START}"),
    "timeout": ("no answer in time", f"the emulator is stuck or busy: restart it ({START})"),
    "tls": ("TLS handshake failed", f"the emulator speaks plain http: use http://, not https://, in "
                                    f"{ENV['emulator_url']} (a --rehearse-tenant emulator speaks https: "
                                    "set REQUESTS_CA_BUNDLE to the certificate it printed)"),
    "dns": ("the host name does not resolve", f"check the address in {ENV['emulator_url']} "
                                              "(default http://127.0.0.1:8787)"),
}


class EmulatorError(KitError):
    """An /emulator/* call failed. `status` is None when no answer came (nothing listens at `url`),
    else the HTTP status with `error` / `error_description` from the emulator's JSON body."""

    def __init__(self, url: str, problem: str, fix: str, status: int | None = None,
                 error: str | None = None, error_description: str | None = None):
        self.url, self.status, self.error, self.error_description = url, status, error, error_description
        self.fix = fix
        super().__init__(f"{url}: {problem.rstrip('.')}. Fix: {fix}")

    @classmethod
    def no_answer(cls, url: str, exc: requests.RequestException) -> EmulatorError:
        problem, fix = NO_ANSWER.get(classify_network_error(exc), ("the request failed",
                                                                   f"is the emulator running? {START}"))
        return cls(url, f"{problem} ({type(exc).__name__})", fix)

    @classmethod
    def from_answer(cls, url: str, response: requests.Response) -> EmulatorError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "error" not in body:   # not the emulator's answer
            return cls(url, f"{response.status_code} {response.reason or ''}".strip() + " without the "
                       "emulator's JSON error body", "is this the emulator? Only it has /emulator/* "
                       f"endpoints (an Auth0 tenant has none): {START}", status=response.status_code)
        fix = next((k.code_fix for spec in protocol.identify(response.status_code, body)
                    if (k := knowledge.about(spec.key))), "see error_description")
        return cls(url, f"{response.status_code} {body['error']}: {body.get('error_description', '')}", fix,
                   status=response.status_code, error=str(body["error"]),
                   error_description=body.get("error_description"))


class EmulatorControl:
    """`EmulatorControl(base_url)`: tenant facts, fresh users, the outbox ("your phone"), push
    approval, the clock. Not part of Auth0's API: only the emulator answers these. Every failure is
    an EmulatorError that names the fix."""

    def __init__(self, base_url: str, timeout: float = 10.0, verify: str | bool = True):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # Per request: a Session's own `verify` loses to REQUESTS_CA_BUNDLE from the environment.
        self.verify = verify   # a rehearsal's certificate file, or True for the system's CAs
        self._http = requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}/emulator/{path}"
        try:
            response = self._http.request(method, url, timeout=self.timeout, verify=self.verify, **kwargs)
        except requests.RequestException as exc:
            raise EmulatorError.no_answer(url, exc) from exc
        if not response.ok:
            raise EmulatorError.from_answer(url, response)
        try:
            return response.json()
        except ValueError:
            raise EmulatorError(url, f"{response.status_code} answer that is not JSON",
                                f"is this the emulator? {START}", status=response.status_code) from None

    def tenant(self) -> dict:
        return self._call("GET", "tenant")

    def create_user(self, username: str | None = None, password: str | None = None) -> dict:
        body = {k: v for k, v in (("username", username), ("password", password)) if v}
        return self._call("POST", "users", json=body)

    def outbox(self, to: str | None = None) -> list[dict]:
        return self._call("GET", "outbox", params={"to": to} if to else None)

    def latest_message(self, to: str | None = None, channel: str | None = None) -> dict | None:
        found = [m for m in self.outbox(to) if channel is None or m["channel"] == channel]
        return found[-1] if found else None

    def approve_push(self, transaction: str) -> dict:
        return self._call("POST", f"push/{transaction}/approve")

    def reject_push(self, transaction: str) -> dict:
        return self._call("POST", f"push/{transaction}/reject")

    def advance_clock(self, seconds: int) -> int:
        return self._call("POST", "clock", json={"advance_seconds": seconds})["offset_seconds"]

    def health(self) -> bool:
        try:
            return self._call("GET", "health").get("status") == "ok"
        except EmulatorError:
            return False
