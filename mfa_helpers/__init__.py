"""MFA API notebook kit: client, emulator, display and runner for Auth0's MFA API flows."""

__version__ = "0.1.0"

# Re-exports below import `__version__` from here, so it must stay above them.
from . import errors, redact  # noqa: E402
from .authenticator import VirtualAuthenticator  # noqa: E402
from .client import AuthorizeRequest, MfaClient  # noqa: E402
from .errors import (Auth0Error, AuthorizationPending, CannotRemove, ConfigurationError,  # noqa: E402
                     ConnectionProblem, KitError, MfaRequired, PollTimeout, RateLimited, SlowDown)
from .exchange import Exchange, Session  # noqa: E402
from .settings import Settings  # noqa: E402
from .tokens import DecodedToken, decode_token, verify_token  # noqa: E402

__all__ = [
    "__version__", "MfaClient", "AuthorizeRequest", "Settings", "VirtualAuthenticator", "Session", "Exchange",
    "errors", "redact", "decode_token", "verify_token", "DecodedToken", "KitError", "ConfigurationError",
    "ConnectionProblem", "Auth0Error", "MfaRequired", "AuthorizationPending", "SlowDown", "RateLimited",
    "PollTimeout", "CannotRemove",
]
