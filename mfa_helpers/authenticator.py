"""A virtual authenticator app: holds an enrolled TOTP secret and gives codes like a phone would.
Headless runs use it, and so can learners without a phone."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp

# The emulator accepts a code one step either side of now (emulator/mfa.py, verify_otp).
EMULATOR_STEPS_AHEAD = 1


class VirtualAuthenticator:
    """RFC 6238 codes (SHA1, 6 digits, 30 s unless the enrollment says otherwise).

    `steps_ahead` is how many steps past the current one the verifier is known to accept: the
    emulator accepts one (RFC 6238 section 5.2's one step of drift, either way), so the next step's
    code can be handed out at once instead of waiting for it. Auth0 does not document its window,
    so against a tenant it is 0 and a second code waits for the next step.
    """

    def __init__(self, secret: str, *, digits: int = 6, period: int = 30, steps_ahead: int = 0,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        self._totp = pyotp.TOTP(secret, digits=digits, interval=period)
        self.period = period
        self.steps_ahead = steps_ahead
        self._clock, self._sleep = clock, sleep
        self._last_step: int | None = None

    @classmethod
    def from_uri(cls, barcode_uri: str, **kwargs: Any) -> VirtualAuthenticator:
        query = {k: v[0] for k, v in parse_qs(urlsplit(barcode_uri).query).items()}
        if "secret" not in query:
            raise ValueError("This otpauth URI has no secret (a push enrollment URI carries none).")
        return cls(query["secret"], digits=int(query.get("digits", 6)), period=int(query.get("period", 30)),
                   **kwargs)

    @classmethod
    def from_enrollment(cls, response: dict[str, Any], **kwargs: Any) -> VirtualAuthenticator:
        """From a /mfa/associate answer for otp (its `barcode_uri`, or its `secret`)."""
        if response.get("barcode_uri") and "secret=" in response["barcode_uri"]:
            return cls.from_uri(response["barcode_uri"], **kwargs)
        if response.get("secret"):
            return cls(response["secret"], **kwargs)
        raise ValueError("Not an otp enrollment: the answer has neither `secret` nor a `barcode_uri` "
                         "with one. Associate with authenticator_types=['otp'].")

    def _step(self) -> int:
        return int(self._clock() // self.period)

    def code(self) -> str:
        """The code on the screen now (it may be one already handed out)."""
        step = self._step()
        self._handed_out(step)
        return self._totp.generate_otp(step)

    def seconds_left(self) -> float:
        """Seconds until the code on the screen changes."""
        return self.period - (self._clock() % self.period)

    def fresh_code(self) -> str:
        """A code never handed out before, since Auth0 accepts each code once: the current step's,
        else the next one's, waiting for it unless the verifier accepts it early (`steps_ahead`)."""
        step = self._step() if self._last_step is None else max(self._step(), self._last_step + 1)
        while self._step() + self.steps_ahead < step:
            self._sleep(self.seconds_left() + 0.05)
        self._handed_out(step)
        return self._totp.generate_otp(step)

    def _handed_out(self, step: int) -> None:
        self._last_step = step if self._last_step is None else max(self._last_step, step)

    def __repr__(self) -> str:
        return f"VirtualAuthenticator(period={self.period}, seconds_left={self.seconds_left():.0f})"
