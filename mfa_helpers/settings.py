"""Where the kit sends requests and with which credentials: environment variables, a `.env` file
(never overriding the real environment), or the local emulator when no tenant is named."""
from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from dotenv import dotenv_values, find_dotenv
from dotenv.parser import parse_stream

from .redact import MASK

EMULATOR_URL = "http://127.0.0.1:8787"
DEFAULT_TIMEOUT = 10.0

# Settings field -> environment variable.
ENV = {
    "domain": "AUTH0_DOMAIN",
    "custom_domain": "AUTH0_CUSTOM_DOMAIN",
    "client_id": "AUTH0_CLIENT_ID",
    "client_secret": "AUTH0_CLIENT_SECRET",
    "username": "AUTH0_USERNAME",
    "password": "AUTH0_PASSWORD",
    "realm": "AUTH0_REALM",
    "audience": "AUTH0_AUDIENCE",
    "scope": "AUTH0_SCOPE",
    "use_custom_domain": "AUTH0_USE_CUSTOM_DOMAIN",
    "emulator_url": "MFA_KIT_EMULATOR_URL",
    "timeout": "MFA_KIT_TIMEOUT",
}
SECRET_FIELDS = ("client_secret", "password")
TRUE = {"1", "true", "yes", "on"}
FALSE = {"", "0", "false", "no", "off"}
# A host name or IPv4 address, lower case, with an optional port (a rehearsal's `127.0.0.1:PORT`).
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$")


class SettingsError(ValueError):
    """A setting the kit cannot use: which variable (or file), what is wrong, and the fix. Raised
    before any request, because a setting read wrong sends every request to the wrong place."""

    def __init__(self, name: str, problem: str, fix: str):
        self.name, self.problem, self.fix = name, problem, fix
        super().__init__(f"{name}: {problem}; fix: {fix}")


@dataclass(frozen=True)
class Settings:
    """Connection settings. `domain` is the canonical tenant domain (TENANT.REGION.auth0.com)."""

    domain: str | None = None
    custom_domain: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    username: str | None = None
    password: str | None = None
    realm: str | None = None
    audience: str | None = None
    scope: str | None = None
    use_custom_domain: bool = False
    emulator_url: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, dotenv: str | Path | None = None) -> Settings:
        """Read the environment, with a `.env` file (found upwards from the working directory)
        filling only what the environment leaves unset."""
        path = str(dotenv) if dotenv is not None else find_dotenv(usecwd=True)
        values = read_dotenv(path)
        values.update(os.environ if env is None else env)
        raw = {name: (values.get(var) or "").strip() or None for name, var in ENV.items()}
        if raw["domain"]:
            raw["emulator_url"] = None  # a named tenant wins over an emulator address
        return cls(
            **{k: v for k, v in raw.items() if k not in ("use_custom_domain", "timeout", "domain",
                                                         "custom_domain", "emulator_url")},
            domain=_host(ENV["domain"], raw["domain"]),
            custom_domain=_host(ENV["custom_domain"], raw["custom_domain"]),
            emulator_url=_emulator_url(raw["emulator_url"]),
            use_custom_domain=_flag(ENV["use_custom_domain"], raw["use_custom_domain"]),
            timeout=_seconds(ENV["timeout"], raw["timeout"]),
        )

    @property
    def target(self) -> str:
        """"emulator" when an emulator address is set or no tenant domain is named, else "tenant"."""
        return "tenant" if self.domain and not self.emulator_url else "emulator"

    @property
    def request_domain(self) -> str | None:
        """The domain requests are addressed to: the custom domain when asked for, else canonical."""
        return self.custom_domain if self.use_custom_domain and self.custom_domain else self.domain

    @property
    def address_setting(self) -> str:
        """The environment variable that decides where requests go (named in connection errors)."""
        if self.target == "emulator":
            return ENV["emulator_url"]
        return ENV["custom_domain"] if self.request_domain == self.custom_domain != self.domain else ENV["domain"]

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)

    def secrets(self) -> tuple[str, ...]:
        return tuple(v for v in (getattr(self, f) for f in SECRET_FIELDS) if v)

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS and value:
                value = MASK
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    __str__ = __repr__


def read_dotenv(path: str | Path | None) -> dict[str, str]:
    """The variables a `.env` file sets (none when there is no file). A line python-dotenv cannot
    parse is an error: it would drop it silently, and a dropped AUTH0_DOMAIN sends a scheduled run
    to the emulator, where it passes without testing the tenant."""
    if not path or not Path(path).exists():
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise SettingsError(str(path), f"cannot be read ({reason})",
                            "make it a text file of NAME=value lines, or remove it") from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            # The line is not shown: it may hold a secret.
            name = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)", binding.original.string)
            what = f" (setting {name.group(1)})" if name else ""
            raise SettingsError(f"{path}, line {binding.original.line}", f"cannot be parsed{what}",
                                "write it as NAME=value, quoting a value that holds spaces, # or quotes")
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}


def _host(name: str, value: str | None) -> str | None:
    """A bare host name. `https://x.auth0.com/` is how the Dashboard and the quickstarts write a
    domain, so that scheme and a trailing slash are dropped; any other scheme, a path or a character
    no host name has is refused here, rather than failing later as a 404 or a DNS error."""
    if not value:
        return None
    host = value.lower()
    host = host[len("https://"):] if host.startswith("https://") else host
    host = host[:-1] if host.endswith("/") else host
    fix = "write only the host, e.g. acme.eu.auth0.com (https:// may stay, nothing after the host)"
    if "://" in host:
        raise SettingsError(name, f"{value!r} names another scheme than https://",
                            f"{fix}; to use the emulator, unset {name} and set MFA_KIT_EMULATOR_URL")
    if any(ch in host for ch in "/?#"):
        raise SettingsError(name, f"{value!r} has a path after the host", fix)
    port = host.rpartition(":")[2] if ":" in host else None
    if not _HOST.match(host) or (port is not None and not 0 < int(port) < 65536):
        raise SettingsError(name, f"{value!r} is not a host name", fix)
    return host


def _emulator_url(value: str | None) -> str | None:
    if not value:
        return None
    if not re.match(r"^https?://[^/?#\s]+", value):
        raise SettingsError(ENV["emulator_url"], f"{value!r} is not an http:// or https:// address",
                            "write it as http://127.0.0.1:8787, or unset it")
    return value.rstrip("/")


def _flag(name: str, value: str | None) -> bool:
    if (value or "").lower() in TRUE | FALSE:
        return (value or "").lower() in TRUE
    raise SettingsError(name, f"{value!r} is neither on nor off", "set it to 1 or 0 (or true/false), or unset it")


def _seconds(name: str, value: str | None) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise SettingsError(name, f"{value!r} is not a number of seconds above 0",
                            f"set it to e.g. {DEFAULT_TIMEOUT:g} (fractions allowed), or unset it")
    return seconds
