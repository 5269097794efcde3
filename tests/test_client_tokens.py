"""decode_token reads header and claims without verifying; verify_token checks against a JWKS."""
import base64
import json
import random
import time
from datetime import datetime, timezone

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from mfa_helpers.tokens import decode_token, verify_token

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CLAIMS = {"iss": "https://t.us.auth0.com/", "sub": "auth0|1", "aud": "https://t.us.auth0.com/mfa/",
          "scope": "enroll read:authenticators", "iat": 1_800_000_000, "exp": 1_800_086_400,
          "email": "learner@example.com"}


def _jwks(key) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}


def _token(key=KEY, **claims) -> str:
    return jwt.encode({**CLAIMS, **claims}, key, algorithm="RS256", headers={"kid": "k1"})


def test_decode_shows_header_claims_and_dates_without_verifying():
    decoded = decode_token(_token(OTHER))
    assert decoded.header == {"alg": "RS256", "kid": "k1", "typ": "JWT"}
    assert decoded.expires_at == datetime(2027, 1, 16, 8, 0, tzinfo=timezone.utc)
    assert decoded.scopes == ["enroll", "read:authenticators"] and decoded.audiences == [CLAIMS["aud"]]
    readable = decoded.readable()["claims"]
    assert readable["exp"] == "2027-01-16T08:00:00+00:00" and readable["email"] == "l•••@•••.com"
    assert "2027-01-16" in repr(decoded) and "learner@example.com" not in decoded._repr_html_()


def test_decode_refuses_an_opaque_token_with_a_clear_message():
    with pytest.raises(ValueError, match="opaque"):
        decode_token("Fe26.2*" + "x" * 700)


def _pyjwt_reads(token: str):
    try:
        return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None


def _kit_reads(token: str):
    try:
        decoded = decode_token(token)
    except ValueError:
        return None
    return decoded.header, decoded.claims


def _segment(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_decode_reads_what_pyjwt_reads_and_refuses_what_it_refuses():
    """decode_token reads without PyJWT (so that notebooks need not load it): same answers."""
    good = _token()
    head, body, signature = good.split(".")
    tokens = [good, f"{head}.{body}.", f"{head}=.{body}.{signature}", f"{head}.{body}.[signature redacted]",
              good[:-1], good + ".", f"{head}..{body}.{signature}", f"{head}.{body}", f"{head}===.{body}.",
              f"{_segment([1])}.{body}.", f"{head}.{_segment('text')}.", "eyJ!.e30.", "", "Fe26.2*x"]
    rng = random.Random(14)
    for _ in range(300):  # one to three characters changed, as a copy-paste mangles a token
        chars = list(good)
        for _ in range(rng.randint(1, 3)):
            chars[rng.randrange(len(chars))] = rng.choice("A=.-_!b ")
        tokens.append("".join(chars))
    assert [_kit_reads(t) for t in tokens] == [_pyjwt_reads(t) for t in tokens]
    assert _kit_reads(good) is not None and _kit_reads(good[:-1]) is None


def test_verify_accepts_the_tenant_key_and_refuses_another_key_or_audience():
    now = int(time.time())
    good = _token(iat=now, exp=now + 60)
    assert verify_token(good, _jwks(KEY), audience=CLAIMS["aud"], issuer=CLAIMS["iss"])["sub"] == "auth0|1"
    with pytest.raises(jwt.InvalidSignatureError):
        verify_token(_token(OTHER, iat=now, exp=now + 60), _jwks(KEY))
    with pytest.raises(jwt.InvalidAudienceError):
        verify_token(good, _jwks(KEY), audience="https://login.example/mfa/")
    with pytest.raises(jwt.ExpiredSignatureError):
        verify_token(_token(iat=now - 120, exp=now - 60), _jwks(KEY))
