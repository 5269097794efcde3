"""MFA API notebook kit: client, emulator, display and runner for Auth0's MFA API flows.

The public names below are imported on first use (PEP 562): `mfa-kit verify`, its pool's workers
and nbval's plugin import this package for the runner alone, and should not pay for the client's
imports (requests, PyJWT, cryptography) in every process.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the submodule that defines it ("" : the name is a submodule itself)
_LAZY = {
    "errors": "", "redact": "",
    "VirtualAuthenticator": "authenticator",
    "AuthorizeRequest": "client", "MfaClient": "client",
    "Auth0Error": "errors", "AuthorizationPending": "errors", "CannotRemove": "errors", "ConfigurationError": "errors",
    "ConnectionProblem": "errors", "KitError": "errors", "MfaRequired": "errors", "PollTimeout": "errors",
    "RateLimited": "errors", "SlowDown": "errors",
    "Exchange": "exchange", "Session": "exchange",
    "Settings": "settings",
    "DecodedToken": "tokens", "decode_token": "tokens", "verify_token": "tokens",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_LAZY[name] or name}")
    value = getattr(module, name) if _LAZY[name] else module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from . import errors, redact
    from .authenticator import VirtualAuthenticator
    from .client import AuthorizeRequest, MfaClient
    from .errors import (Auth0Error, AuthorizationPending, CannotRemove, ConfigurationError, ConnectionProblem,
                         KitError, MfaRequired, PollTimeout, RateLimited, SlowDown)
    from .exchange import Exchange, Session
    from .settings import Settings
    from .tokens import DecodedToken, decode_token, verify_token
