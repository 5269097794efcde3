"""The tenant file: domains, clients, users, factors and limits the emulator serves.

Loaded once at start. Every mistake is reported as a TenantError naming the file, the field and the
fix, because a learner editing YAML should never have to read a traceback.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mfa_helpers import protocol

DEMO_TENANT = Path(__file__).with_name("demo_tenant.yaml")
POLICIES = ("never", "always")
FACTORS = ("otp", "sms", "voice", "email", "push", "recovery-code")
FACTOR_TYPES = ("otp", "sms", "voice", "email", "recovery-code")  # seedable per user
_ORIGIN = re.compile(r"^https?://(\*\.)?[A-Za-z0-9.-]+(:\d+)?/?$")
_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


class TenantError(ValueError):
    """A tenant file problem: which file, which field, what is wrong and how to fix it."""

    def __init__(self, path: Path | str, field_name: str, problem: str, fix: str):
        self.path, self.field, self.problem, self.fix = str(path), field_name, problem, fix
        super().__init__(f"{self.path}: field `{field_name}`: {problem}. Fix: {fix}")


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str | None
    grant_types: tuple[str, ...]
    name: str
    callbacks: tuple[str, ...] = ()
    web_origins: tuple[str, ...] = ()   # Auth0's "Allowed Web Origins": CORS for browser apps (cors.py)

    @property
    def public(self) -> bool:
        return self.client_secret is None


@dataclass(frozen=True)
class SeedFactor:
    type: str
    secret: str | None = None          # otp
    code: str | None = None            # recovery-code
    phone_number: str | None = None    # sms, voice
    email: str | None = None           # email


@dataclass(frozen=True)
class User:
    username: str
    password: str
    factors: tuple[SeedFactor, ...] = ()


@dataclass(frozen=True)
class Api:
    identifier: str
    name: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Tenant:
    name: str
    domain: str
    custom_domain: str | None
    connection: str
    policy: str
    factors: tuple[str, ...]
    customizable: bool
    rate_limit: int
    rate_window: int
    clients: tuple[Client, ...]
    users: tuple[User, ...]
    apis: tuple[Api, ...] = field(default=())
    source: str = ""

    @property
    def mfa_audience(self) -> str:
        return protocol.mfa_audience(self.domain)

    @property
    def issuers(self) -> tuple[str, ...]:
        """`iss` of the tokens minted through the canonical and the custom domain (Auth0's form)."""
        return tuple(f"https://{d}/" for d in (self.domain, self.custom_domain) if d)

    def client(self, client_id: str | None) -> Client | None:
        return next((c for c in self.clients if c.client_id == client_id), None)

    def api(self, identifier: str) -> Api | None:
        return next((a for a in self.apis if a.identifier == identifier), None)

    def public_view(self) -> dict[str, Any]:
        """What GET /emulator/tenant shows: enough for tools to find the demo credentials."""
        return {
            "name": self.name, "domain": self.domain, "custom_domain": self.custom_domain,
            "mfa_audience": self.mfa_audience,
            "clients": [{"client_id": c.client_id, "client_secret": c.client_secret,
                         "grant_types": list(c.grant_types), "name": c.name,
                         "web_origins": list(c.web_origins)} for c in self.clients],
            "users": [{"username": u.username, "password": u.password} for u in self.users],
        }


def load_tenant(path: Path | str | None = None) -> Tenant:
    """Read and check a tenant file (YAML, or TOML by suffix); None means the bundled demo."""
    path = Path(path) if path else DEMO_TENANT
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TenantError(path, "(file)", f"cannot read it ({exc.strerror or exc})",
                          "pass an existing tenant file, or omit --tenant for the demo") from None
    except UnicodeDecodeError as exc:
        raise TenantError(path, "(file)", f"not UTF-8 text (byte {exc.start} is {exc.object[exc.start]:#04x})",
                          "pass a YAML or TOML tenant file saved as UTF-8") from None
    try:
        if path.suffix == ".toml":
            import tomllib
            data = tomllib.loads(text)
        else:
            import yaml   # here: a notebook imports this package for EmulatorControl alone
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 20,000 users in ~1 s, not ~10
            data = yaml.load(text, Loader=loader)
    except Exception as exc:  # yaml/toml syntax errors carry the line in their message
        raise TenantError(path, "(syntax)", f"not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}",
                          "fix the syntax at the line shown") from None
    return _Reader(path).tenant(data)


class _Reader:
    """Walks the parsed document and turns every problem into a TenantError."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, name: str, problem: str, fix: str) -> TenantError:
        return TenantError(self.path, name, problem, fix)

    def mapping(self, value: Any, name: str, allowed: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            raise self.fail(name, f"expected a mapping, got {type(value).__name__}",
                            f"write it as `key: value` lines with keys from: {', '.join(allowed)}")
        unknown = [k for k in value if k not in allowed]
        if unknown:
            raise self.fail(f"{name}.{unknown[0]}" if name else str(unknown[0]), "unknown field",
                            f"remove it or use one of: {', '.join(allowed)}")
        return value

    def text(self, data: dict, key: str, name: str, *, required: bool = True) -> str | None:
        value = data.get(key)
        if value is None or value == "":
            if required:
                raise self.fail(name, "missing", f"add `{key}:` with a non-empty value")
            return None
        if not isinstance(value, str):
            raise self.fail(name, f"expected text, got {type(value).__name__}",
                            f"quote the value: {key}: \"{value}\"")
        return value

    def strings(self, data: dict, key: str, name: str, allowed: tuple[str, ...] | None = None,
                default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = data.get(key, list(default))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, "expected a list of text values", f"write `{key}: [a, b]`")
        if allowed is not None:
            for i, item in enumerate(value):
                if item not in allowed:
                    raise self.fail(f"{name}[{i}]", f"unknown value {item!r}",
                                    f"use one of: {', '.join(allowed)}")
        return tuple(value)

    def positive(self, data: dict, key: str, name: str, default: int) -> int:
        value = data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise self.fail(name, f"expected a positive whole number, got {value!r}",
                            f"write e.g. `{key}: {default}`")
        return value

    def domain(self, data: dict, key: str, *, required: bool) -> str | None:
        value = self.text(data, key, key, required=required)
        if value is not None and not _DOMAIN.match(value):
            raise self.fail(key, f"{value!r} is not a bare host name",
                            "write only the host, e.g. `tenant.us.auth0.com` (no https://, no path)")
        return value

    def tenant(self, data: Any) -> Tenant:
        top = ("name", "domain", "custom_domain", "connection", "mfa", "rate_limit", "apis",
               "clients", "users")
        data = self.mapping(data if data is not None else {}, "", top)
        name = self.text(data, "name", "name")
        domain = self.domain(data, "domain", required=True)
        custom_domain = self.domain(data, "custom_domain", required=False)
        connection = self.text(data, "connection", "connection", required=False)
        mfa = self.mapping(data.get("mfa", {}), "mfa", ("policy", "factors", "customizable"))
        policy = mfa.get("policy", "always")
        if policy not in POLICIES:
            raise self.fail("mfa.policy", f"unknown policy {policy!r}",
                            f"use one of: {', '.join(POLICIES)}")
        factors = self.strings(mfa, "factors", "mfa.factors", FACTORS, default=FACTORS)
        customizable = mfa.get("customizable", True)
        if not isinstance(customizable, bool):
            raise self.fail("mfa.customizable", f"expected true or false, got {customizable!r}",
                            "write `customizable: true` or `customizable: false`")
        limits = self.mapping(data.get("rate_limit", {}), "rate_limit", ("requests", "per_seconds"))
        rate_limit = self.positive(limits, "requests", "rate_limit.requests", 600)
        rate_window = self.positive(limits, "per_seconds", "rate_limit.per_seconds", 60)
        apis = self.items(data, "apis", self.api_entry, required=False)
        clients = self.items(data, "clients", self.client_entry)
        self.unique([c.client_id for c in clients], "clients", "client_id")
        users = self.items(data, "users", self.user_entry)
        self.unique([u.username.lower() for u in users], "users", "username")
        return Tenant(name=name, domain=domain, custom_domain=custom_domain,
                      connection=connection or "Username-Password-Authentication", policy=policy,
                      factors=factors, customizable=customizable, rate_limit=rate_limit,
                      rate_window=rate_window, clients=clients, users=users, apis=apis,
                      source=str(self.path))

    def unique(self, values: list[str], key: str, name: str) -> None:
        seen: set[str] = set()
        for i, value in enumerate(values):
            if value in seen:
                raise self.fail(f"{key}[{i}].{name}", f"duplicate {name} {value!r}",
                                f"give every entry of `{key}` its own {name}")
            seen.add(value)

    def items(self, data: dict, key: str, entry, *, required: bool = True) -> tuple:
        value = data.get(key)
        if value is None and not required:
            return ()
        if not isinstance(value, list) or (required and not value):
            raise self.fail(key, "missing or not a list", f"add `{key}:` with at least one `- ...` entry")
        return tuple(entry(item, f"{key}[{i}]") for i, item in enumerate(value))

    def client_entry(self, item: Any, name: str) -> Client:
        item = self.mapping(item, name, ("name", "client_id", "client_secret", "grant_types", "callbacks",
                                         "web_origins"))
        grants = self.strings(item, "grant_types", f"{name}.grant_types", protocol.ALL_GRANTS)
        if not grants:
            raise self.fail(f"{name}.grant_types", "empty", "list the grant types this client may use")
        return Client(
            client_id=self.text(item, "client_id", f"{name}.client_id"),
            client_secret=self.text(item, "client_secret", f"{name}.client_secret", required=False),
            grant_types=grants,
            name=self.text(item, "name", f"{name}.name", required=False) or self.text(
                item, "client_id", f"{name}.client_id"),
            callbacks=self.strings(item, "callbacks", f"{name}.callbacks"),
            web_origins=self.origins(item, f"{name}.web_origins"),
        )

    def origins(self, item: dict, name: str) -> tuple[str, ...]:
        """Web origins as Auth0 takes them: scheme://host[:port], no path [docs]."""
        origins = self.strings(item, "web_origins", name)
        for i, origin in enumerate(origins):
            if not _ORIGIN.match(origin):
                raise self.fail(f"{name}[{i}]", f"{origin!r} is not an origin",
                                "write scheme://host[:port] with no path, e.g. `http://localhost:3000` "
                                "or `https://*.example.com`")
        return tuple(origin.rstrip("/") for origin in origins)

    def user_entry(self, item: Any, name: str) -> User:
        item = self.mapping(item, name, ("username", "password", "factors"))
        factors = []
        for i, seed in enumerate(item.get("factors") or []):
            where = f"{name}.factors[{i}]"
            seed = self.mapping(seed, where, ("type", "secret", "code", "phone_number", "email"))
            kind = self.text(seed, "type", f"{where}.type")
            if kind not in FACTOR_TYPES:
                raise self.fail(f"{where}.type", f"unknown factor {kind!r}",
                                f"use one of: {', '.join(FACTOR_TYPES)}")
            needs = {"otp": "secret", "recovery-code": "code", "sms": "phone_number",
                     "voice": "phone_number", "email": "email"}[kind]
            value = self.text(seed, needs, f"{where}.{needs}")
            if kind == "otp":
                self.otp_secret(value, f"{where}.secret")
            factors.append(SeedFactor(type=kind, **{needs: value}))
        return User(username=self.text(item, "username", f"{name}.username"),
                    password=self.text(item, "password", f"{name}.password"),
                    factors=tuple(factors))

    def otp_secret(self, value: str, name: str) -> None:
        """A seeded TOTP secret must be one an authenticator app takes (base32, 80 bits or more):
        any other makes every sign-in of that user fail later, far from the file. Never shown."""
        try:
            key = base64.b32decode(value + "=" * (-len(value) % 8), casefold=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) < 10:
            raise self.fail(name, "not a base32 TOTP secret of 16 characters or more (letters A-Z, digits 2-7)",
                            "use the key an authenticator app was given, e.g. `secret: JBSWY3DPEHPK3PXP`; "
                            "python -c 'import pyotp; print(pyotp.random_base32())' makes a new one")

    def api_entry(self, item: Any, name: str) -> Api:
        item = self.mapping(item, name, ("identifier", "name", "scopes"))
        ident = self.text(item, "identifier", f"{name}.identifier")
        return Api(identifier=ident, name=self.text(item, "name", f"{name}.name", required=False) or ident,
                   scopes=self.strings(item, "scopes", f"{name}.scopes"))
