"""The emulator's clock: real time plus an offset that tests and notebooks can advance.

Expiry (mfa_token, oob codes, tokens) and rate-limit buckets follow this clock so that "wait ten
minutes" takes no time; TOTP checks use the real clock so a phone's authenticator app still works.
"""
from __future__ import annotations

import threading
import time


class Clock:
    def __init__(self) -> None:
        self._offset = 0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: int) -> int:
        with self._lock:
            self._offset += seconds
            return self._offset
