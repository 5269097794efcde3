"""State that survives and stays single: one emulator per state file, each request's writes in one
transaction (a SIGKILL mid-confirmation leaves none of them), and lockout counters and the clock
offset kept across a restart. Real processes where it matters."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pyotp
import pytest

from mfa_helpers import protocol
from mfa_helpers.emulator import Emulator, StateInUse, load_tenant
from mfa_helpers.emulator.control import EmulatorControl

from conftest import Wire, error_of

BIN = Path(sys.executable).parent


def test_a_second_emulator_on_a_state_file_in_use_is_refused(tmp_path):
    """The refusal names the first one (pid and URL); once it stops, the file is free again."""
    db = tmp_path / "state.sqlite3"
    with Emulator(db=db) as first:
        with pytest.raises(StateInUse) as refused:
            Emulator(db=db).start()
        assert f"pid {os.getpid()}, {first.url}" in str(refused.value)
        assert "--db" in refused.value.fix
        assert first.url and EmulatorControl(first.url).health()   # the first one is untouched
    with Emulator(db=db) as again:
        assert EmulatorControl(again.url).health()


def test_mfa_kit_emulator_refuses_with_one_line_and_exit_2(tmp_path):
    """`make emulator` then `make lab --port ...` on the same file: the second process says which
    emulator holds the file, on one line, and exits 2 (never a traceback)."""
    db = tmp_path / "state.sqlite3"
    with Emulator(db=db) as first:
        second = subprocess.run([str(BIN / "mfa-kit"), "emulator", "--port", "0", "--db", str(db)],
                                capture_output=True, text=True, timeout=60)
    assert second.returncode == 2, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and first.url in lines[0] and f"pid {os.getpid()}" in lines[0]
    assert "Traceback" not in second.stderr and second.stdout == ""


CONFIRM_THEN_HANG = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from mfa_helpers.emulator import Emulator, store

    db, marker = sys.argv[1], Path(sys.argv[2])
    update = store.Store.update

    def update_then_hang(self, table, where, **values):
        done = update(self, table, where, **values)
        if table == "authenticators" and values == {"active": 1}:   # the factor, before its recovery code
            marker.write_text("in the middle")
            time.sleep(600)
        return done

    store.Store.update = update_then_hang
    emulator = Emulator(db=db).start()
    print(emulator.url, flush=True)
    time.sleep(600)
""")


def test_sigkill_in_the_middle_of_a_confirmation_leaves_nothing_half_done(tmp_path):
    """A real process is killed (SIGKILL) after the factor became active and before its recovery code
    did: after a restart both are still inactive, and the confirmation can simply be done again."""
    db, marker = tmp_path / "state.sqlite3", tmp_path / "marker"
    process = subprocess.Popen([sys.executable, "-c", CONFIRM_THEN_HANG, str(db), str(marker)],
                               stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://"), "the emulator subprocess did not start"
        control = EmulatorControl(url)
        user = control.create_user()
        wire = Wire(SimpleNamespace(url=url, tenant=load_tenant(None)))
        mfa_token = wire.mfa_token(user)
        secret = wire.associate(mfa_token, authenticator_types=["otp"]).json()["secret"]
        threading.Thread(target=lambda: _quietly(wire.otp_grant, mfa_token, pyotp.TOTP(secret).now()),
                         daemon=True).start()
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert time.monotonic() < deadline and process.poll() is None, "never reached the middle"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    with Emulator(db=db) as restarted:
        wire = Wire(restarted)
        listed = wire.authenticators(wire.mfa_token(user)).json()
        assert [(a["authenticator_type"], a["active"]) for a in listed] == [
            ("otp", False), ("recovery-code", False)]
        again = wire.mfa_token(user)
        assert wire.otp_grant(again, pyotp.TOTP(secret).at(time.time() + 30)).status_code == 200
        assert {a["active"] for a in wire.authenticators(wire.mfa_token(user)).json()} == {True}


def _quietly(call, *args):
    try:
        call(*args)
    except Exception:   # the server dies under it: no answer is the expected outcome
        pass


def test_lockout_counts_and_the_clock_survive_a_restart(tmp_path):
    """A restart must not hand out ten fresh guesses, nor turn an expired mfa_token valid again."""
    db = tmp_path / "state.sqlite3"
    with Emulator(db=db) as first:
        wire, control = Wire(first), EmulatorControl(first.url)
        user = control.create_user()
        enrolled = wire.enroll_otp(user)
        stale = wire.mfa_token(user)
        offset = control.advance_clock(protocol.MFA_TOKEN_LIFETIME + 1)
        mfa_token = wire.mfa_token(user)
        for _ in range(protocol.OTP_FAILURES_BUCKET):
            wire.otp_grant(mfa_token, "000000")
        assert error_of(wire.otp_grant(mfa_token, "000000"), "too_many_attempts")
    with Emulator(db=db) as second:
        wire, control = Wire(second), EmulatorControl(second.url)
        right = pyotp.TOTP(enrolled["secret"]).at(time.time() + 30)
        assert error_of(wire.otp_grant(wire.mfa_token(user), right), "too_many_attempts")
        assert error_of(wire.post("/mfa/challenge", json={**wire.client, "mfa_token": stale,
                                                          "challenge_type": "otp"}), "expired_mfa_token")
        assert control.advance_clock(0) == offset
