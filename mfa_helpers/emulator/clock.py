"""The emulator's clock: real time plus an offset that tests and notebooks can advance.

Expiry (mfa_token, oob codes, tokens) and rate-limit buckets follow this clock so that "wait ten
minutes" takes no time; TOTP checks use the real clock so a phone's authenticator app still works.
The offset is kept in the store, so a restart does not turn expired codes and tokens valid again.
"""
from __future__ import annotations

import threading
import time

from .store import Store

MAX_STEP = 366 * 86400   # one call moves at most a year: more is a typo (ms for s), not a test


class Clock:
    def __init__(self, store: Store | None = None) -> None:
        self._store = store
        self._offset = int(store.meta("clock_offset", "0")) if store else 0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: int) -> int:
        """Move forward by `seconds` (0..MAX_STEP); the new offset. Never backwards: codes and
        tokens already spent or expired would come back to life."""
        if seconds < 0:
            raise ValueError(f"advance_seconds must not be negative ({seconds}): the emulator's clock "
                             "only moves forward (restart with a fresh --db to start over)")
        if seconds > MAX_STEP:
            raise ValueError(f"advance_seconds {seconds} is more than a year ({MAX_STEP} s): give "
                             "whole seconds (not milliseconds), at most a year per call")
        with self._lock:
            self._offset += seconds
            if self._store is not None:
                self._store.insert("meta", key="clock_offset", value=str(self._offset))
            return self._offset
