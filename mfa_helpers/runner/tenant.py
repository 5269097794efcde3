"""A verification run against a real tenant: its one test user, checked before the run and put back
after each notebook, and the notebooks a headless run cannot replay there.

The notebooks share the test user. Before anything runs, the user must have no authenticator: every
notebook starts from "no factor" (it enrolls, then removes what it enrolled). When a notebook fails
half-way and leaves an enrollment behind, the runner removes it before the next notebook, which would
otherwise fail with "User is already enrolled". It removes only what the notebook's own enrollments
(its HAR) account for: a factor someone else adds to the user meanwhile is reported and left alone,
and so is one the runner cannot complete MFA for (Auth0 deletes only with the access token that
completing MFA returns), each with the manual fix.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mfa_helpers import protocol
from mfa_helpers.authenticator import VirtualAuthenticator
from mfa_helpers.client import REMOVAL_SCOPE, MfaClient
from mfa_helpers.errors import CannotRemove, KitError, MfaRequired
from mfa_helpers.ownership import claim, enrollments_in_har
from mfa_helpers.settings import Settings
from mfa_helpers.support.har import read_har

from .config import ConfigError

# What a notebook may declare in its metadata (`"mfa_kit": {"needs": [...]}`), and why a headless
# run on a tenant cannot give it.
NEEDS_ON_TENANT = {
    "phone": "reads SMS, voice and email codes and answers push from the emulator's outbox, which a "
             "tenant does not have: run it interactively, with a real phone",
    "custom_domain": "shows the custom-domain pitfall: set AUTH0_CUSTOM_DOMAIN to replay it",
    "browser_login": "signs in at /authorize, which on a tenant is Universal Login in a browser: run it "
                     "interactively",
}


def notebook_needs(notebook: Path) -> list[str]:
    """What a notebook declares it needs (`metadata.mfa_kit.needs`)."""
    import nbformat

    return list(nbformat.read(notebook, as_version=4).metadata.get("mfa_kit", {}).get("needs", []))


def not_replayable(notebooks: Sequence[Path], env: Mapping[str, str]) -> dict[Path, str]:
    """The notebooks a headless tenant run leaves out, with the reason."""
    left_out = {}
    for notebook in notebooks:
        for need in notebook_needs(notebook):
            if need == "custom_domain" and env.get("AUTH0_CUSTOM_DOMAIN"):
                continue
            if need in NEEDS_ON_TENANT:
                left_out[notebook] = NEEDS_ON_TENANT[need]
                break
    return left_out


class TestUser:
    """The tenant's test user (AUTH0_USERNAME), seen through the MFA API with the run's settings."""

    __test__ = False  # not a pytest class

    def __init__(self, env: Mapping[str, str]):
        self.client = MfaClient(Settings.from_env(env, dotenv=""), retry_on_429=3)

    def authenticators(self) -> tuple[str, list[dict[str, Any]]]:
        """An mfa_token of a fresh sign-in and the user's authenticators (the mfa_token lists them)."""
        try:
            tokens = self.client.login()
        except MfaRequired as required:
            return required.mfa_token, self.client.list_authenticators(required.mfa_token)
        raise ConfigError(
            f"the test user {self.client.settings.username} signed in without MFA "
            f"(the answer had {', '.join(sorted(tokens))})",
            "require MFA for this user: Security → Multi-factor Auth → Require Multi-factor Auth: Always")

    def check_ready(self) -> None:
        """Before the run: the user signs in, MFA applies, and no authenticator is enrolled yet."""
        try:
            _, factors = self.authenticators()
        except KitError as exc:
            raise ConfigError(f"the test user cannot sign in: {exc}",
                              "check AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, AUTH0_USERNAME and "
                              "AUTH0_PASSWORD (README: 'Configuration for a real tenant')") from None
        if factors:
            kinds = ", ".join(f"{a.get('authenticator_type')} ({a.get('id')})" for a in factors)
            raise ConfigError(
                f"the test user {self.client.settings.username} already has authenticators: {kinds}",
                "use a user kept for verification, with no factor enrolled: the notebooks enroll their own, "
                "and the kit never removes factors it did not create (remove these in the Dashboard: "
                "User Management → Users → the user → Multi-factor Authentication)")

    def factor_ids(self) -> frozenset[str]:
        """The ids on the user now: taken before each notebook, so that what appears is told apart."""
        return frozenset(a["id"] for a in self.authenticators()[1])

    def restore(self, before: frozenset[str], har: Path) -> Restored:
        """After a notebook: remove the factors it created and left (its HAR's enrollments account
        for them), and report, never touch, anything else that appeared meanwhile."""
        _, factors = self.authenticators()
        enrolled = enrollments_in_har(read_har(har)) if har.is_file() else []
        mine, others = claim([a for a in factors if a["id"] not in before], enrolled)
        if mine:
            self._remove(mine, factors)
        return Restored([kind_name(a) for a in mine], [f"{kind_name(a)} ({a['id']})" for a in others])

    def _remove(self, mine: list[dict[str, Any]], factors: list[dict[str, Any]]) -> None:
        """Deleting needs an access token from completing MFA. The runner holds no secret of what a
        notebook enrolled, so it completes MFA with an OTP factor of its own, enrolled for that
        (possible only while the user has no active factor, as an mfa_token may enroll a first
        one), then deletes the notebook's factors and its own."""
        if any(a.get("active") and a.get("authenticator_type") != "recovery-code" for a in factors):
            raise CannotRemove("the runner holds no secret of the user's active factor to complete MFA with", mine)
        own: list[dict] = []
        try:
            access_token = self.client.login(audience=self.client.mfa_audience,
                                             scope=f"{protocol.SCOPE_ENROLL} {REMOVAL_SCOPE}")["access_token"]
        except MfaRequired as required:
            enrollment = self.client.associate(required.mfa_token)
            code = VirtualAuthenticator.from_enrollment(enrollment).code()
            access_token = self.client.confirm_otp(required.mfa_token, code)["access_token"]
            seen = {a["id"] for a in factors}
            own, _ = claim([a for a in self.client.list_authenticators(access_token) if a["id"] not in seen], ["otp"])
        self.client.delete_authenticators(mine + own, access_token=access_token)


@dataclass(frozen=True)
class Restored:
    """After a notebook: the kinds of its factors the runner removed, and what it left alone."""

    removed: list[str]
    foreign: list[str]


def kind_name(authenticator: Mapping[str, Any]) -> str:
    return str(authenticator.get("oob_channel") or authenticator.get("authenticator_type"))


def factors_before(env: dict[str, str]) -> tuple[frozenset[str], str | None]:
    """The tenant's test user's factors before a notebook (what appears later is told apart)."""
    try:
        return TestUser(env).factor_ids(), None
    except (KitError, ConfigError) as exc:
        return frozenset(), f"RestoreFailed: the test user's factors could not be listed before the notebook: {exc}"


def put_back(env: dict[str, str], before: frozenset[str], har: Path) -> tuple[tuple[str, ...], str | None]:
    """Put the tenant's test user back as the notebook found it, removing only the factors the
    notebook created; a notebook that passed but left some did not clean up, which is a failure of
    its own, and a factor nobody in the run created is reported and left alone."""
    try:
        restored = TestUser(env).restore(before, har)
    except (KitError, ConfigError) as exc:
        return (), f"RestoreFailed: the test user could not be put back as the notebook found it: {exc}"
    removed = tuple(restored.removed)
    problems = []
    if removed:
        problems.append(f"LeftBehind: the notebook left {len(removed)} authenticator(s) on the test user "
                        f"({', '.join(removed)}); the runner removed them")
    if restored.foreign:
        problems.append(f"ForeignFactor: {', '.join(restored.foreign)} appeared on the test user during the "
                        "notebook, and none of its enrollments account for it: left alone. Fix: nobody else may "
                        "use the test user during a run; if it is no one's, remove it by hand (Dashboard > User "
                        "Management > Users > the user > Multi-factor Authentication) before the next run")
    return removed, "; ".join(problems) or None


# nbval against a tenant. The golden notebooks were recorded on the emulator, so on a tenant the same
# cells answer from other addresses, for another user, with `target` "tenant": these patterns name
# those values alike on both sides. What stays compared is what verification is for: statuses,
# errors, field names, factor kinds.
DEMO_DOMAIN = r"mfa-kit-demo\.us\.auth0\.com"
DEMO_CUSTOM_DOMAIN = r"login\.mfa-kit-demo\.example"
EMULATOR_BASE = r"http://127\.0\.0\.1:\d+"  # the emulator's own address, in the goldens


def tenant_patterns(env: Mapping[str, str]) -> str:
    """Sanitizer sections (nbval's cfg format) that make a tenant's outputs comparable with the goldens."""
    domain = re.escape(env["AUTH0_DOMAIN"].split("://", 1)[-1].strip("/"))
    sections = {
        # A tenant's address is its domain: where the emulator's outputs show its own address next
        # to the canonical https://DOMAIN (issuer, audience), a tenant's show the same URL twice.
        "target_address": (rf"https://(?:{domain}|{DEMO_DOMAIN})|{EMULATOR_BASE}", "https://TENANT_DOMAIN"),
        "tenant_domain": (rf"{domain}|{DEMO_DOMAIN}", "TENANT_DOMAIN"),
        "target_kind": (r"""(["'])(?:tenant|emulator)\1""", r"\1TARGET\1"),
        "test_user": (r"username='[^']*'|\b\w•••@•••\.\w+", "USER"),
        # Settings that differ by nature: the emulator's address, the custom domain (optional on a
        # tenant), and the application's grant types (readable on the emulator only).
        "target_settings": (r"""\b(emulator_url|custom_domain)=(?:None|'[^']*')|"(custom_domain|mfa_grants_enabled)": """
                            r"""(?:true|false|null|"[^"]*")""", r"\1\2=?"),
    }
    custom = env.get("AUTH0_CUSTOM_DOMAIN", "").split("://", 1)[-1].strip("/")
    if custom:
        sections["custom_domain"] = (rf"{re.escape(custom)}|{DEMO_CUSTOM_DOMAIN}", "CUSTOM_DOMAIN")
    return "".join(f"\n[tenant_{name}]\nregex: {regex}\nreplace: {replace}\n"
                   for name, (regex, replace) in sections.items())
