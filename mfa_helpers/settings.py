"""Where the kit sends requests and with which credentials: environment variables, a `.env` file
(never overriding the real environment), or the local emulator when no tenant is named."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from dotenv import dotenv_values, find_dotenv

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
        values = {k: v for k, v in (dotenv_values(path) if path else {}).items() if v is not None}
        values.update(os.environ if env is None else env)
        raw = {name: (values.get(var) or "").strip() or None for name, var in ENV.items()}
        if raw["domain"]:
            raw["emulator_url"] = None  # a named tenant wins over an emulator address
        return cls(
            **{k: v for k, v in raw.items() if k not in ("use_custom_domain", "timeout", "domain",
                                                         "custom_domain", "emulator_url")},
            domain=_host(raw["domain"]),
            custom_domain=_host(raw["custom_domain"]),
            emulator_url=raw["emulator_url"].rstrip("/") if raw["emulator_url"] else None,
            use_custom_domain=(raw["use_custom_domain"] or "").lower() in TRUE,
            timeout=float(raw["timeout"]) if raw["timeout"] else DEFAULT_TIMEOUT,
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


def _host(value: str | None) -> str | None:
    """A bare host name: `https://x.auth0.com/` and `x.auth0.com` both give `x.auth0.com`."""
    if not value:
        return None
    return value.split("://", 1)[-1].strip("/")
