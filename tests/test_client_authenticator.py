"""VirtualAuthenticator: the codes an authenticator app would show, never the same code twice."""
import pyotp
import pytest

from mfa_helpers import VirtualAuthenticator

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class FakeTime:
    """A clock that only moves when the authenticator sleeps, so waiting costs no real time."""

    def __init__(self, now: float):
        self.now, self.slept = now, 0.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def test_code_matches_pyotp_and_seconds_left_counts_down():
    clock = FakeTime(1_800_000_010.0)
    auth = VirtualAuthenticator(SECRET, clock=clock.time, sleep=clock.sleep)
    assert auth.code() == pyotp.TOTP(SECRET).at(clock.now)
    assert auth.seconds_left() == pytest.approx(20.0)


def test_fresh_code_waits_for_the_next_step_instead_of_reusing_a_code():
    clock = FakeTime(1_800_000_010.0)
    auth = VirtualAuthenticator(SECRET, clock=clock.time, sleep=clock.sleep)
    first = auth.fresh_code()
    assert clock.slept == 0  # nothing handed out yet: no wait
    second = auth.fresh_code()
    assert 20 <= clock.slept < 21 and second != first and second == pyotp.TOTP(SECRET).at(clock.now)


def test_from_enrollment_reads_the_barcode_uri_or_the_secret():
    uri = f"otpauth://totp/Demo:learner%40example.com?secret={SECRET}&issuer=Demo&digits=6&period=30"
    assert VirtualAuthenticator.from_enrollment({"barcode_uri": uri}).code() == pyotp.TOTP(SECRET).now()
    assert VirtualAuthenticator.from_enrollment({"secret": SECRET}).code() == pyotp.TOTP(SECRET).now()
    with pytest.raises(ValueError, match="otp enrollment"):
        VirtualAuthenticator.from_enrollment({"oob_code": "x", "barcode_uri": "otpauth://totp/x?enrollment_tx_id=1"})


def test_repr_does_not_show_the_secret():
    assert SECRET not in repr(VirtualAuthenticator(SECRET))
