"""Every bad input to `mfa-kit emulator`, `verify` and `lab`, driven as a real subprocess: exit 2, one
line on stderr that names the input and the fix, no traceback, and nothing written or deleted."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

GARBAGE = bytes(range(256)) * 8  # neither UTF-8 nor SQLite


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tenant_with_otp_secret(secret: str) -> str:
    return f"""
name: t
domain: t.example.com
clients:
  - {{client_id: app, client_secret: s, grant_types: [password]}}
users:
  - username: u@example.com
    password: pw
    factors:
      - {{type: otp, secret: "{secret}"}}
"""


# id: (argv, environment, files to create in the working directory, text the one line must hold)
CASES = {
    # mfa-kit emulator
    "emulator-tenant-binary": (["emulator", "--tenant", "t.yaml"], {}, {"t.yaml": GARBAGE}, "not UTF-8"),
    "emulator-tenant-latin1": (["emulator", "--tenant", "t.yaml"], {}, {"t.yaml": "name: caf\xe9\n".encode("latin-1")},
                               "not UTF-8"),
    "emulator-tenant-folder": (["emulator", "--tenant", "dir"], {}, {"dir/x": b""}, "cannot read it"),
    "emulator-tenant-otp-secret": (["emulator", "--tenant", "t.yaml", "--db", ":memory:"], {},
                                   {"t.yaml": _tenant_with_otp_secret("not-base32!").encode()},
                                   "users[0].factors[0].secret"),
    "emulator-tenant-otp-short": (["emulator", "--tenant", "t.yaml", "--db", ":memory:"], {},
                                  {"t.yaml": _tenant_with_otp_secret("JBSWY3DP").encode()}, "16 characters"),
    "emulator-db-garbage": (["emulator", "--db", "state.db", "--port", "0"], {}, {"state.db": GARBAGE},
                            "state file state.db"),
    "emulator-db-folder": (["emulator", "--db", "dir", "--port", "0"], {}, {"dir/x": b""}, "it is a folder"),
    "emulator-db-under-a-file": (["emulator", "--db", "file/state.db", "--port", "0"], {}, {"file": b"x"},
                                 "state file file/state.db"),
    "emulator-port-too-big": (["emulator", "--port", "70000"], {}, {}, "'70000' is not a port"),
    "emulator-port-negative": (["emulator", "--port", "-1"], {}, {}, "'-1' is not a port"),
    "emulator-port-text": (["emulator", "--port", "http"], {}, {}, "'http' is not a port"),
    # mfa-kit verify (on the emulator unless said otherwise: nothing may start)
    "verify-out-is-a-file": (["verify", "--out", "taken"], {}, {"taken": b"x"}, "--out taken is a file"),
    "verify-out-under-a-file": (["verify", "--out", "taken/run"], {}, {"taken": b"x"}, "which is a file"),
    "verify-out-unwritable": (["verify", "--out", "/proc/mfa-kit-run"], {}, {}, "cannot be written"),
    "verify-out-not-empty": (["verify", "--out", "old"], {}, {"old/summary.json": b"{}"}, "not empty"),
    "verify-history-folder": (["verify", "--history", "dir"], {}, {"dir/x": b""}, "--history dir is a folder"),
    "verify-history-binary": (["verify", "--history", "h.jsonl"], {}, {"h.jsonl": GARBAGE}, "cannot be read"),
    "verify-history-someone-elses": (["verify", "--history", "notes.txt"], {}, {"notes.txt": b"my notes\n"},
                                     "holds no run history"),
    "verify-history-under-a-file": (["verify", "--history", "f/h.jsonl"], {}, {"f": b"x"}, "which is a file"),
    "verify-timeout-negative": (["verify", "--timeout", "-5"], {}, {}, "'-5' is not a number of seconds"),
    "verify-timeout-zero": (["verify", "--timeout", "0"], {}, {}, "'0' is not a number of seconds"),
    "verify-timeout-nan": (["verify", "--timeout", "nan"], {}, {}, "'nan' is not a number of seconds"),
    "verify-jobs-zero": (["verify", "--jobs", "0"], {}, {}, "'0' is not a whole number"),
    "verify-unknown-option": (["verify", "--bogus"], {}, {}, "mfa-kit verify: unrecognized arguments: --bogus; "
                              "fix: see `mfa-kit verify --help`"),
    "verify-env-timeout-text": (["verify"], {"MFA_KIT_TIMEOUT": "abc"}, {}, "MFA_KIT_TIMEOUT: 'abc'"),
    "verify-env-timeout-zero": (["verify"], {"MFA_KIT_TIMEOUT": "0"}, {}, "MFA_KIT_TIMEOUT: '0'"),
    "verify-domain-with-path": (["verify"], {"AUTH0_DOMAIN": "acme.eu.auth0.com/mfa"}, {}, "has a path"),
    "verify-domain-http": (["verify"], {"AUTH0_DOMAIN": "http://acme.eu.auth0.com"}, {}, "another scheme"),
    "verify-domain-garbage": (["verify"], {"AUTH0_DOMAIN": "acme eu auth0"}, {}, "is not a host name"),
    "verify-custom-domain-path": (["verify", "--target", "emulator"], {"AUTH0_CUSTOM_DOMAIN": "login.acme.com/x"},
                                  {}, "AUTH0_CUSTOM_DOMAIN"),
    "verify-emulator-url-garbage": (["verify"], {"MFA_KIT_EMULATOR_URL": "127.0.0.1:8787"}, {},
                                    "MFA_KIT_EMULATOR_URL"),
    "verify-dotenv-broken-domain": (["verify"], {}, {".env": b"AUTH0_DOMAIN acme.eu.auth0.com\n"},
                                    ".env, line 1: cannot be parsed (setting AUTH0_DOMAIN)"),
    "verify-dotenv-unbalanced-quote": (["verify"], {}, {".env": b"AUTH0_CLIENT_ID=x\nAUTH0_PASSWORD='pw\n"},
                                       "cannot be parsed"),
    "verify-dotenv-not-utf8": (["verify"], {}, {".env": "AUTH0_REALM=caf\xe9\n".encode("latin-1")}, "not UTF-8"),
    "verify-notebook-not-json": (["verify", "broken.ipynb"], {}, {"broken.ipynb": b"{not json"},
                                 "broken.ipynb is not a notebook"),
    "verify-notebook-binary": (["verify", "--notebooks-dir", "nbs"], {}, {"nbs/01_x.ipynb": GARBAGE},
                               "01_x.ipynb is not a notebook"),
    "verify-tenant-without-domain": (["verify", "--target", "tenant"], {}, {}, "AUTH0_DOMAIN"),
    # mfa-kit lab (MFA_KIT_LAB_COMMAND=true: even a missed check starts nothing heavy)
    "lab-port-too-big": (["lab", "--port", "65536"], {}, {}, "'65536' is not a port"),
    "lab-command-unbalanced": (["lab", "--port", "FREE"], {"MFA_KIT_LAB_COMMAND": "jupyter 'lab"}, {},
                               "MFA_KIT_LAB_COMMAND"),
    "lab-state-file-garbage": (["lab", "--port", "FREE"], {}, {".mfa-kit/emulator.sqlite3": GARBAGE},
                               "state file .mfa-kit/emulator.sqlite3"),
    "lab-dotenv-broken": (["lab", "--port", "FREE"], {}, {".env": b"AUTH0_DOMAIN acme.eu.auth0.com\n"},
                          "cannot be parsed"),
}


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def _run_case(folder: Path, argv: list[str], env: dict[str, str], files: dict[str, bytes]):
    """Run one case in `folder`: (the finished process, the folder before, the folder after)."""
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    before = _snapshot(folder)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH0_", "MFA_KIT_"))}
    argv = [str(_free_port()) if a == "FREE" else a for a in argv]
    process = subprocess.run([sys.executable, "-m", "mfa_helpers.cli", *argv], capture_output=True, text=True,
                             cwd=folder, timeout=300,
                             env={**clean, "MFA_KIT_LAB_COMMAND": "true", "PYTHONUNBUFFERED": "1", **env})
    return process, before, _snapshot(folder)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every case at once, a few processes at a time: each pays the kit's import time (seconds)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {case: pool.submit(_run_case, tmp_path_factory.mktemp(case), argv, env, files)
                   for case, (argv, env, files, _) in CASES.items()}
        return {case: future.result() for case, future in futures.items()}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_with_one_line_and_touches_nothing(outcomes, case):
    process, before, after = outcomes[case]
    expected = CASES[case][3]
    lines = process.stderr.splitlines()
    assert process.returncode == 2, process.stderr
    assert len(lines) == 1 and "Traceback" not in process.stderr, process.stderr
    assert expected in lines[0] and "fix" in lines[0].lower(), lines[0]
    assert process.stdout == ""
    assert after == before


def test_an_unused_secret_in_a_broken_dotenv_line_is_not_shown(tmp_path):
    """The line that cannot be parsed is named by number and setting, never shown: it may hold a secret."""
    from mfa_helpers.settings import SettingsError, read_dotenv

    (tmp_path / ".env").write_text("AUTH0_CLIENT_ID=x\nAUTH0_CLIENT_SECRET 'Sup3r-s3cret\n")
    with pytest.raises(SettingsError) as refused:
        read_dotenv(tmp_path / ".env")
    assert "line 2" in str(refused.value) and "AUTH0_CLIENT_SECRET" in str(refused.value)
    assert "Sup3r" not in str(refused.value)
