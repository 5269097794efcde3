"""Errors as classes carrying the data a caller needs, with messages that name the fix."""
from __future__ import annotations

import socket
import ssl
from datetime import datetime, timedelta, timezone
from typing import Any

from . import knowledge, protocol
from .exchange import Exchange


class KitError(Exception):
    """Base of every error the kit raises."""


class ConfigurationError(KitError):
    """A setting is missing or inconsistent; the message names the environment variable."""


class ConnectionProblem(KitError):
    """The request never got an HTTP answer. `kind`: refused, dns, tls, timeout or other."""

    def __init__(self, kind: str, url: str, setting: str, detail: str, exchange: Exchange | None = None):
        self.kind, self.url, self.setting, self.detail, self.exchange = kind, url, setting, detail, exchange
        what = {
            "refused": "connection refused: nothing listens there",
            "dns": "the host name does not resolve",
            "tls": "the TLS handshake failed (wrong scheme or port, or a proxy intercepting TLS)",
            "timeout": "no answer in time",
        }.get(kind, "the request failed")
        super().__init__(f"Cannot reach {url}: {what}. Check {setting}. ({detail})")


MANUAL_REMOVAL = ("remove it by hand: Dashboard > User Management > Users > (the user) > Multi-factor "
                  "Authentication > Delete (on the emulator: start it again with --db :memory:)")


class CannotRemove(KitError):
    """The kit could not complete MFA, so it cannot delete these factors: Auth0 deletes only with
    the MFA API access token that completing MFA returns. Never silently left: the message names
    each factor and the manual fix."""

    def __init__(self, reason: str, authenticators: list[dict[str, Any]] | None = None):
        self.reason, self.authenticators = reason, list(authenticators or [])
        names = ", ".join(str(a.get("id")) for a in self.authenticators) or "the factors"
        super().__init__(f"Cannot delete {names}: {reason}; deleting needs an access token from completing "
                         f"MFA. Fix: {MANUAL_REMOVAL}.")


class PollTimeout(KitError):
    """poll_oob gave up: the push was not approved (or the code not confirmed) in time."""

    def __init__(self, timeout: float, last: "Auth0Error"):
        self.timeout, self.last = timeout, last
        super().__init__(f"No approval within {timeout:g} s (last answer: {last.error}). Approve the "
                         "push on the phone (emulator: client.emulator.approve_push(...)) and poll again.")


class Auth0Error(KitError):
    """An error answer from Auth0 (or the emulator), with the protocol facts it matches."""

    def __init__(self, exchange: Exchange):
        body = exchange.response_json if isinstance(exchange.response_json, dict) else {}
        self.exchange = exchange
        self.status: int = exchange.status or 0
        self.error: str = str(body.get("error") or "")
        self.error_description: str = str(body.get("error_description") or exchange.reason or "")
        self.specs: list[protocol.ErrorSpec] = protocol.identify(self.status, body)
        super().__init__(self._message())

    @property
    def request(self) -> Exchange:
        return self.exchange

    @property
    def fix(self) -> str | None:
        """What to change, for a developer using the kit (from mfa_helpers.knowledge)."""
        return next((k.code_fix for s in self.specs if (k := knowledge.about(s.key))), None)

    def is_(self, key: str) -> bool:
        """True when this answer is the protocol error `key` (see mfa_helpers.protocol.ERRORS)."""
        return any(spec.key == key for spec in self.specs)

    def _message(self) -> str:
        head = f"{self.status} {self.error or 'error'}: {self.error_description}".rstrip(": ")
        if not self.fix:
            return head
        return f"{head} {self.fix}" if head.endswith(".") else f"{head}. {self.fix}"

    def __reduce__(self):  # picklable for pytest-xdist and multiprocessing
        return (self.__class__, (self.exchange,))


class MfaRequired(Auth0Error):
    """The login worked but needs MFA: carry `mfa_token` and `mfa_requirements` to the next step."""

    def __init__(self, exchange: Exchange):
        super().__init__(exchange)
        body = exchange.response_json or {}
        self.mfa_token: str = body.get("mfa_token", "")
        self.mfa_requirements: dict[str, Any] = body.get("mfa_requirements") or {}

    def __repr__(self) -> str:
        return f"MfaRequired(mfa_requirements={self.mfa_requirements!r})"


class AuthorizationPending(Auth0Error):
    """The push or code is not approved yet: repeat the mfa-oob request a little later."""


class SlowDown(Auth0Error):
    """The mfa-oob grant is polled too fast: wait longer between requests."""


class RateLimited(Auth0Error):
    """HTTP 429: `reset_at` (from x-ratelimit-reset) says when to try again."""

    def __init__(self, exchange: Exchange):
        super().__init__(exchange)
        headers = {k.lower(): v for k, v in exchange.response_headers.items()}
        self.limit = _int(headers.get("x-ratelimit-limit"))
        self.remaining = _int(headers.get("x-ratelimit-remaining"))
        reset = _int(headers.get("x-ratelimit-reset"))
        retry_after = _int(headers.get("retry-after"))
        self.retry_after: int | None = retry_after
        if reset is not None:
            self.reset_at: datetime | None = datetime.fromtimestamp(reset, timezone.utc)
        elif retry_after is not None:
            self.reset_at = exchange.started + timedelta(seconds=exchange.duration + retry_after)
        else:
            self.reset_at = None

    def seconds_to_wait(self, now: datetime | None = None) -> float | None:
        if self.reset_at is None:
            return None
        return max(0.0, (self.reset_at - (now or datetime.now(timezone.utc))).total_seconds())


def error_for(exchange: Exchange) -> Auth0Error:
    """The most specific error class for an error answer."""
    body = exchange.response_json if isinstance(exchange.response_json, dict) else {}
    code = body.get("error")
    if code == "mfa_required":
        return MfaRequired(exchange)
    if code == "authorization_pending":
        return AuthorizationPending(exchange)
    if code == "slow_down":
        return SlowDown(exchange)
    if exchange.status == 429:
        return RateLimited(exchange)
    return Auth0Error(exchange)


def classify_network_error(exc: BaseException) -> str:
    """refused, dns, tls, timeout or other, from a requests exception and its causes."""
    import requests  # loaded already by the request that failed; the errors alone do not need it

    if isinstance(exc, requests.Timeout):
        return "timeout"
    if isinstance(exc, requests.exceptions.SSLError):
        return "tls"
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, socket.gaierror) or "NameResolutionError" in type(current).__name__:
            return "dns"
        if isinstance(current, ConnectionRefusedError):
            return "refused"
        if isinstance(current, ssl.SSLError):
            return "tls"
        if isinstance(current, (socket.timeout, TimeoutError)):
            return "timeout"
        stack.extend([current.__cause__, current.__context__, getattr(current, "reason", None),
                      *[a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]])
    return "other"


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None
