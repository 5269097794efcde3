"""Token buckets on the emulator clock: general rate limit, wrong-code lockout, mfa-oob polling.

Wrong-code lockout buckets (`fail:...`) are kept in the store, so a restart does not hand out ten
fresh guesses. The others live in memory and start full after a restart (a pick: they guard the
emulator's pace, not a secret).
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from .clock import Clock
from .store import Store

KEPT = ("fail:",)   # bucket keys kept in the store


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int          # epoch seconds when the bucket is full again
    retry_after: int    # seconds until one more request is allowed (0 when allowed)

    def headers(self) -> dict[str, str]:
        return {"x-ratelimit-limit": str(self.limit), "x-ratelimit-remaining": str(self.remaining),
                "x-ratelimit-reset": str(self.reset)}


class Buckets:
    """Named token buckets: `size` tokens, one back every `refill` seconds."""

    def __init__(self, clock: Clock, store: Store | None = None):
        self._clock = clock
        self._store = store
        self._state: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def _kept(self, key: str) -> bool:
        return self._store is not None and key.startswith(KEPT)

    def _level(self, key: str, size: int, refill: float, now: float) -> float:
        if self._kept(key):
            row = self._store.one("buckets", key=key)
            tokens, at = (row["tokens"], row["at"]) if row else (float(size), now)
        else:
            tokens, at = self._state.get(key, (float(size), now))
        return min(float(size), tokens + max(0.0, now - at) / refill)

    def _save(self, key: str, tokens: float, now: float) -> None:
        if self._kept(key):
            self._store.insert("buckets", key=key, tokens=tokens, at=now)
        else:
            self._state[key] = (tokens, now)

    def take(self, key: str, size: int, refill: float) -> Verdict:
        """Spend one token if there is one."""
        with self._lock:
            now = self._clock.now()
            tokens = self._level(key, size, refill, now)
            allowed = tokens >= 1
            if allowed:
                tokens -= 1
            self._save(key, tokens, now)
            return self._verdict(allowed, tokens, size, refill, now)

    def peek(self, key: str, size: int, refill: float) -> Verdict:
        """Whether a token is available, without spending it."""
        with self._lock:
            now = self._clock.now()
            tokens = self._level(key, size, refill, now)
            return self._verdict(tokens >= 1, tokens, size, refill, now)

    @staticmethod
    def _verdict(allowed: bool, tokens: float, size: int, refill: float, now: float) -> Verdict:
        reset = math.ceil(now + (size - tokens) * refill)
        retry = 0 if allowed else max(1, math.ceil((1 - tokens) * refill))
        return Verdict(allowed, size, int(tokens), reset, retry)
