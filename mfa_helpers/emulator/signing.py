"""RS256 signing with a `kid`, and the JWKS that verifies it.

The key lives in the store's meta table, so tokens issued before a restart still verify after it.
In-memory stores of one process share one generated key: a fresh test emulator then starts in
milliseconds instead of spending a tenth of a second on RSA key generation, and the first one
generates it on a thread (`generate_process_key`) while the server stack is imported: OpenSSL
releases the GIL while it searches for primes.
"""
from __future__ import annotations

import functools
import hashlib
import json
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .store import Store


class Signer:
    def __init__(self, store: Store):
        pem = store.meta("signing_key")
        if pem is None:
            pem = _new_key_pem() if store.persistent else generate_process_key().result()
            store.insert("meta", key="signing_key", value=pem)
        # The key is this emulator's own (generated above, or by it into its state file): checking
        # its primes again would cost more than generating one.
        self._key = serialization.load_pem_private_key(pem.encode(), password=None,
                                                       unsafe_skip_rsa_key_validation=True)
        self._public = self._key.public_key()
        self._jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._public))
        self.kid = hashlib.sha256(self._jwk["n"].encode()).hexdigest()[:32]
        self._jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def verify(self, token: str, now: float) -> dict[str, Any]:
        """Claims of a token this emulator signed; raises jwt.InvalidTokenError otherwise.

        Expiry is checked against the emulator clock (`now`), not the wall clock.
        """
        claims = jwt.decode(token, self._public, algorithms=["RS256"],
                            options={"verify_aud": False, "verify_exp": False, "verify_iat": False})
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] <= now:
            raise jwt.ExpiredSignatureError("expired")
        return claims

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(self._jwk)]}


def _new_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@functools.cache
def generate_process_key() -> Future[str]:
    """The PEM key that in-memory stores of this process share, generated on a thread."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mfa-kit-signing-key")
    try:
        return pool.submit(_new_key_pem)
    finally:
        pool.shutdown(wait=False)
