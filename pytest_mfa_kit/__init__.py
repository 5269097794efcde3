"""pytest plugin: the kit's emulator as an Auth0 tenant for your own app's tests.

Registered by entry point (`pytest11`), so installing the kit makes two fixtures available:

- `auth0_mfa_emulator` (session scope): one emulator posing as a tenant over HTTPS for the whole
  test session: its domain, the certificate to trust, its clients, users and the control API.
- `auth0_mfa_user` (function scope): a fresh user of that tenant with no factor, so tests never
  share enrollments.

The fixture names are distinct from the kit's own test fixtures (`emulator`, `control`, ...), and
nothing of the kit is imported until a test asks for a fixture: a pytest run that uses neither pays
only for importing this module.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

import pytest

if TYPE_CHECKING:   # imported for real only when a fixture runs
    from mfa_helpers.emulator import Emulator
    from mfa_helpers.emulator.control import EmulatorControl
    from mfa_helpers.emulator.tenant import Client, User

TENANT_OPTION = "auth0_mfa_tenant"


@dataclass(frozen=True)
class Auth0MfaEmulator:
    """A running emulator seen as a tenant. `domain` is what an SDK is configured with (no scheme),
    `ca_bundle` the PEM file its HTTPS client must trust; `clients` and `users` come from the tenant
    file; `control` drives the emulator-only endpoints (fresh users, outbox, push approval, clock)."""

    emulator: Emulator
    control: EmulatorControl

    @property
    def domain(self) -> str:
        return self.emulator.tenant.domain

    @property
    def custom_domain(self) -> str | None:
        return self.emulator.tenant.custom_domain

    @property
    def url(self) -> str:
        return self.emulator.url

    @property
    def issuer(self) -> str:
        return f"https://{self.domain}/"

    @property
    def mfa_audience(self) -> str:
        return self.emulator.tenant.mfa_audience

    @property
    def ca_bundle(self) -> str:
        return self.emulator.ca_bundle

    @property
    def clients(self) -> tuple[Client, ...]:
        return self.emulator.tenant.clients

    @property
    def users(self) -> tuple[User, ...]:
        return self.emulator.tenant.users

    def client(self, client_id: str | None = None) -> Client:
        """The client named `client_id`; by default the one a tenant run uses (the first
        confidential client with the MFA grants)."""
        wanted = client_id or self.environment()["AUTH0_CLIENT_ID"]
        found = self.emulator.tenant.client(wanted)
        if found is None:
            raise LookupError(f"the tenant file {self.emulator.tenant.source} has no client {wanted!r}")
        return found

    def environment(self) -> dict[str, str]:
        """Variables that point a child process at this tenant: AUTH0_* as a tenant run has them, and
        the certificate as REQUESTS_CA_BUNDLE (Python requests) and NODE_EXTRA_CA_CERTS (node)."""
        return self.emulator.tenant_environment()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(TENANT_OPTION, "tenant file (YAML or TOML) the auth0_mfa_emulator fixture serves; "
                                 "default: the kit's demo tenant")
    parser.addoption("--auth0-mfa-tenant", dest=TENANT_OPTION, metavar="FILE", default=None,
                     help="tenant file the auth0_mfa_emulator fixture serves (overrides the ini value)")


@pytest.fixture(scope="session")
def auth0_mfa_emulator(pytestconfig: pytest.Config) -> Iterator[Auth0MfaEmulator]:
    """One emulator posing as an Auth0 tenant over HTTPS for the test session (state in memory)."""
    from mfa_helpers.emulator import Emulator, TenantError
    from mfa_helpers.emulator.control import EmulatorControl
    tenant = None   # the kit's demo tenant
    if pytestconfig.getoption(TENANT_OPTION):   # relative to where pytest was started
        tenant = pytestconfig.invocation_params.dir / pytestconfig.getoption(TENANT_OPTION)
    elif pytestconfig.getini(TENANT_OPTION):    # relative to the ini file
        base = pytestconfig.inipath.parent if pytestconfig.inipath else pytestconfig.rootpath
        tenant = base / pytestconfig.getini(TENANT_OPTION)
    try:
        emulator = Emulator(tenant, rehearse_tenant=True)
    except TenantError as exc:
        problem = str(exc)
    else:
        problem = None
    if problem:
        pytest.fail(problem, pytrace=False)   # the file, the field and the fix; no traceback
    with emulator:
        yield Auth0MfaEmulator(emulator, EmulatorControl(emulator.url, verify=emulator.ca_bundle))


@pytest.fixture
def auth0_mfa_user(auth0_mfa_emulator: Auth0MfaEmulator) -> dict[str, Any]:
    """A new user with no factor, for one test: {"username", "password"}."""
    return auth0_mfa_emulator.control.create_user()
