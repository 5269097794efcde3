"""The emulator a run or a lab session starts for itself and stops when it ends."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .config import ConfigError


@contextmanager
def running_emulator(port: int = 0, db: str = ":memory:") -> Iterator[str]:
    """Start the emulator (port 0: a free one), yield its base URL, stop it on the way out."""
    try:
        from mfa_helpers.emulator import Emulator, StateFileError, StateInUse
    except ImportError as exc:
        raise ConfigError(f"the emulator cannot be imported ({exc})", "reinstall the kit: make install") from exc
    try:
        emulator = Emulator(port=port, db=db).start()
    except StateFileError as exc:
        raise ConfigError(f"the emulator's state file {exc.path}: {exc.problem}",
                          "move that file away (it is not removed for you: it may hold enrollments)") from None
    except StateInUse as exc:
        raise ConfigError(exc.problem, exc.fix) from exc
    except (OSError, RuntimeError) as exc:  # RuntimeError: the emulator's "could not start" (port in use)
        raise ConfigError(f"the emulator did not start: {exc}", "pick another port with --port") from exc
    try:
        yield emulator.url
    finally:
        emulator.stop()


def demo_secrets(url: str) -> list[str]:
    """The emulator tenant's client secrets and user passwords: no artifact may show them."""
    from mfa_helpers.emulator.control import EmulatorControl

    tenant = EmulatorControl(url).tenant()
    return [c["client_secret"] for c in tenant["clients"] if c.get("client_secret")] + [
        u["password"] for u in tenant["users"] if u.get("password")]
