"""EmulatorControl: a thin Python wrapper over the emulator-only /emulator/* endpoints."""
from __future__ import annotations

from typing import Any

import requests


class EmulatorControl:
    """`EmulatorControl(base_url)`: tenant facts, fresh users, the outbox ("your phone"), push
    approval, the clock. Not part of Auth0's API: only the emulator answers these."""

    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, f"{self.base_url}/emulator/{path}",
                                      timeout=self.timeout, **kwargs)
        response.raise_for_status()
        return response.json()

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
        except (requests.RequestException, ValueError):
            return False
