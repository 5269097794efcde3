"""Random identifiers and secrets in the shapes Auth0 uses on the wire."""
from __future__ import annotations

import base64
import hashlib
import secrets
import string
import time

_ALNUM = string.ascii_letters + string.digits
_UPPER_ALNUM = string.ascii_uppercase + string.digits


def digest(value: str) -> str:
    """What the store keeps instead of a bearer secret."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _b64(nbytes: int) -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).rstrip(b"=").decode()


def sealed() -> str:
    """An opaque `Fe26.2*...` string shaped like Auth0's sealed mfa_token / oob_code (~800 chars)."""
    now = int(time.time())
    return "*".join(["Fe26.2", f"SERVER_{now}", secrets.token_hex(32), _b64(16), _b64(480),
                     str(now * 1000), secrets.token_hex(32), _b64(32)])


def device_id() -> str:
    """`dev_` + 16 letters and digits, like the recordings; companion factors share one."""
    return "dev_" + "".join(secrets.choice(_ALNUM) for _ in range(16))


def authenticator_id(prefix: str, device: str | None = None) -> str:
    """`totp|dev_...`: the kind's prefix and a device id (a new one unless given)."""
    return f"{prefix}|{device or device_id()}"


def user_id() -> str:
    return "auth0|" + secrets.token_hex(12)


def recovery_code(length: int) -> str:
    return "".join(secrets.choice(_UPPER_ALNUM) for _ in range(length))


def binding_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def opaque(nbytes: int = 24) -> str:
    return _b64(nbytes)


def password_hash(password: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    return f"{salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"


def password_matches(password: str, stored: str) -> bool:
    salt = stored.split("$", 1)[0]
    return secrets.compare_digest(password_hash(password, salt), stored)
