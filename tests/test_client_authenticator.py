"""VirtualAuthenticator: the codes an authenticator app would show, never the same code twice."""
import time

import pyotp
import pytest
from client_support import client, emu, mfa_required  # noqa: F401

from mfa_helpers import Auth0Error, VirtualAuthenticator
from mfa_helpers.authenticator import EMULATOR_STEPS_AHEAD

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


def test_a_verifier_that_accepts_the_next_step_gets_the_next_code_at_once():
    clock = FakeTime(1_800_000_010.0)
    auth = VirtualAuthenticator(SECRET, steps_ahead=1, clock=clock.time, sleep=clock.sleep)
    first, second = auth.fresh_code(), auth.fresh_code()
    assert clock.slept == 0
    assert (first, second) == (pyotp.TOTP(SECRET).at(clock.now), pyotp.TOTP(SECRET).at(clock.now + 30))
    assert auth.code() == first  # the screen still shows the current step's code
    third = auth.fresh_code()   # two steps ahead: only after the next step begins
    assert 20 <= clock.slept < 21 and third == pyotp.TOTP(SECRET).at(clock.now + 30)


def test_the_emulator_accepts_the_next_step_s_code_once_and_not_the_one_after(client):
    """What EMULATOR_STEPS_AHEAD promises the walkthrough, against the emulator itself."""
    required = mfa_required(client)
    enrollment = client.associate(required.mfa_token)
    if 30 - time.time() % 30 < 3:  # keep the step boundary away from the checks below
        time.sleep(30 - time.time() % 30 + 0.1)
    auth = VirtualAuthenticator.from_enrollment(enrollment, steps_ahead=EMULATOR_STEPS_AHEAD)
    client.confirm_otp(required.mfa_token, auth.fresh_code())
    totp, now = pyotp.TOTP(enrollment["secret"]), time.time()
    with pytest.raises(Auth0Error, match="Invalid otp_code"):
        client.confirm_otp(mfa_required(client).mfa_token, totp.at(now + 60))  # two steps ahead
    client.confirm_otp(mfa_required(client).mfa_token, auth.fresh_code())     # one step ahead, no wait
    with pytest.raises(Auth0Error, match="Invalid otp_code"):
        client.confirm_otp(mfa_required(client).mfa_token, totp.at(now + 30))  # spent


def test_from_enrollment_reads_the_barcode_uri_or_the_secret():
    uri = f"otpauth://totp/Demo:learner%40example.com?secret={SECRET}&issuer=Demo&digits=6&period=30"
    assert VirtualAuthenticator.from_enrollment({"barcode_uri": uri}).code() == pyotp.TOTP(SECRET).now()
    assert VirtualAuthenticator.from_enrollment({"secret": SECRET}).code() == pyotp.TOTP(SECRET).now()
    with pytest.raises(ValueError, match="otp enrollment"):
        VirtualAuthenticator.from_enrollment({"oob_code": "x", "barcode_uri": "otpauth://totp/x?enrollment_tx_id=1"})


def test_repr_does_not_show_the_secret():
    assert SECRET not in repr(VirtualAuthenticator(SECRET))
