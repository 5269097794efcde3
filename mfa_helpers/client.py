"""MfaClient: one method per documented step of Auth0's MFA API, every exchange recorded.

Responses are returned as parsed JSON with Auth0's own field names, so a notebook teaches the wire
format; error answers raise the typed errors of `mfa_helpers.errors`.
"""
from __future__ import annotations

import atexit
import base64
import hashlib
import http.client
import json
import logging
import secrets as pysecrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode

import requests

from . import protocol
from .errors import (Auth0Error, AuthorizationPending, CannotRemove, ConfigurationError, ConnectionProblem, KitError,
                     MfaRequired, PollTimeout, RateLimited, SlowDown, classify_network_error, error_for)
from .exchange import Exchange, Session
from .settings import EMULATOR_URL, ENV, Settings

log = logging.getLogger("mfa_helpers.client")

DEFAULT_SCOPE = "openid profile email"
# What a sign-in for deleting factors asks for: list them, and remove them.
REMOVAL_SCOPE = f"{protocol.SCOPE_READ} {protocol.SCOPE_REMOVE}"
SLOW_DOWN_STEP = 5.0  # seconds added to the polling interval on slow_down (RFC 8628, section 3.5)

_embedded = None  # the emulator this process started, kept alive until exit


@dataclass
class Removal:
    """What `delete_authenticators` removed, in order, and the recovery code to keep (in memory
    only): a new one when completing MFA spent the old."""

    removed: list[dict[str, Any]]
    recovery_code: str | None = field(default=None, repr=False)


def _went_with_another(authenticator: Mapping[str, Any], removed: list[dict[str, Any]]) -> bool:
    """A 404 that is no error: the recovery code after a factor, or a companion after its twin
    (same `dev_X` after the `|`)."""
    if not removed:
        return False
    if authenticator.get("authenticator_type") == "recovery-code":
        return True
    device = str(authenticator["id"]).split("|", 1)[-1]
    return any(str(a["id"]).split("|", 1)[-1] == device for a in removed)


@dataclass(frozen=True)
class AuthorizeRequest:
    """An /authorize URL and the PKCE verifier and state to check when the code comes back."""

    url: str
    redirect_uri: str
    state: str
    code_verifier: str
    client_id: str

    def __repr__(self) -> str:  # the verifier is a secret until the code is exchanged
        return f"AuthorizeRequest(url={self.url!r}, redirect_uri={self.redirect_uri!r})"


class MfaClient:
    """A client for one tenant (or the emulator) and one application."""

    def __init__(self, settings: Settings | None = None, *, use_custom_domain: bool | None = None,
                 retry_on_429: int = 0, max_retry_wait: float = 60.0, session: Session | None = None):
        settings = settings or Settings.from_env()
        if use_custom_domain is not None:
            settings = settings.with_(use_custom_domain=use_custom_domain)
        self.session = session if session is not None else Session()  # an empty Session is falsy
        self.emulator = None
        if settings.target == "emulator":
            settings = self._attach_emulator(settings)
        if not settings.domain:
            raise ConfigurationError(f"Set {ENV['domain']} to the tenant's canonical domain "
                                     "(TENANT.REGION.auth0.com).")
        if settings.use_custom_domain and not settings.custom_domain:
            raise ConfigurationError(f"Requests should go to the custom domain, but {ENV['custom_domain']} "
                                     "is not set.")
        if not settings.client_id:
            raise ConfigurationError(f"Set {ENV['client_id']} (and {ENV['client_secret']} for a confidential "
                                     "application): Dashboard > Applications > (your application) > Settings.")
        self.settings = settings
        self.retry_on_429 = retry_on_429
        self.max_retry_wait = max_retry_wait
        self.http = requests.Session()
        self.session.add_secrets(*settings.secrets())

    @classmethod
    def connect(cls, settings: Settings | None = None, **options: Any) -> MfaClient:
        """A client from the environment (and `.env`): the tenant named by AUTH0_DOMAIN, or else the
        emulator at MFA_KIT_EMULATOR_URL, at 127.0.0.1:8787, or started inside this process."""
        return cls(settings or Settings.from_env(), **options)

    # -- where requests go ------------------------------------------------------------------

    def _attach_emulator(self, settings: Settings) -> Settings:
        from .emulator.control import EmulatorControl, EmulatorError
        url = settings.emulator_url or _find_or_start_emulator()
        self.emulator = EmulatorControl(url)
        try:
            tenant = self.emulator.tenant()
        except EmulatorError as exc:   # its cause, when no answer came, gives the kind
            raise ConnectionProblem(classify_network_error(exc), exc.url, ENV["emulator_url"], str(exc)) from None
        client = _pick_client(tenant, settings.client_id)
        user = (tenant.get("users") or [{}])[0]
        return settings.with_(
            emulator_url=url, domain=tenant["domain"], custom_domain=tenant.get("custom_domain"),
            client_id=client["client_id"],
            client_secret=settings.client_secret or client.get("client_secret"),
            username=settings.username or user.get("username"),
            password=settings.password or user.get("password"),
        )

    @property
    def base_url(self) -> str:
        """Where requests are sent: the emulator's address, or https://DOMAIN of the tenant."""
        if self.emulator is not None:
            return self.settings.emulator_url
        return f"https://{self.settings.request_domain}"

    @property
    def domain(self) -> str:
        """The domain requests are addressed to (custom or canonical)."""
        return self.settings.request_domain

    @property
    def mfa_audience(self) -> str:
        """The MFA API audience: always from the canonical domain, with its trailing slash."""
        return protocol.mfa_audience(self.settings.domain)

    def use_fresh_user(self) -> str:
        """Emulator only: create a user with no factor and log in as it from now on. Returns the
        username (the password stays inside the client)."""
        if self.emulator is None:
            raise KitError("use_fresh_user() needs the emulator; on a real tenant set AUTH0_USERNAME "
                           "and AUTH0_PASSWORD.")
        user = self.emulator.create_user()
        self.settings = self.settings.with_(username=user["username"], password=user["password"])
        self.session.add_secrets(user["password"])
        return user["username"]

    # -- the steps --------------------------------------------------------------------------

    def login(self, username: str | None = None, password: str | None = None, *, audience: str | None = None,
              scope: str | None = None, realm: str | None = None) -> dict[str, Any]:
        """Resource-owner password login (password-realm when a realm/connection is given).
        Raises MfaRequired with `mfa_token` and `mfa_requirements` when MFA applies."""
        realm = realm or self.settings.realm
        return self._token({
            "grant_type": protocol.GRANT_PASSWORD_REALM if realm else protocol.GRANT_PASSWORD,
            "username": username or self.settings.username,
            "password": password or self.settings.password,
            "realm": realm,
            "audience": audience or self.settings.audience,
            "scope": scope or self.settings.scope or DEFAULT_SCOPE,
        })

    def associate(self, token: str, authenticator_types: tuple[str, ...] | list[str] = ("otp",), *,
                  oob_channels: tuple[str, ...] | list[str] | None = None, phone_number: str | None = None,
                  email: str | None = None) -> dict[str, Any]:
        """Enroll an authenticator (inactive until confirmed with the matching MFA grant). `token`
        is the mfa_token or an MFA API access token with scope `enroll`."""
        body = {"authenticator_types": list(authenticator_types),
                "oob_channels": list(oob_channels) if oob_channels else None,
                "phone_number": phone_number, "email": email}
        return self._call("POST", "/mfa/associate", body=body, bearer=token).response_json

    def confirm_otp(self, mfa_token: str, otp: str) -> dict[str, Any]:
        """The mfa-otp grant: confirms an otp enrollment or answers an otp challenge."""
        return self._token({"grant_type": protocol.GRANT_MFA_OTP, "mfa_token": mfa_token, "otp": otp})

    def confirm_oob(self, mfa_token: str, oob_code: str, binding_code: str | None = None) -> dict[str, Any]:
        """The mfa-oob grant, once. Raises AuthorizationPending until a push is approved."""
        return self._token({"grant_type": protocol.GRANT_MFA_OOB, "mfa_token": mfa_token,
                            "oob_code": oob_code, "binding_code": binding_code})

    def poll_oob(self, mfa_token: str, oob_code: str, *, binding_code: str | None = None,
                 timeout: float = 60.0, interval: float = 5.0) -> dict[str, Any]:
        """Repeat the mfa-oob grant until approved: waits `interval` seconds after
        authorization_pending and 5 s more after each slow_down. Raises PollTimeout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.confirm_oob(mfa_token, oob_code, binding_code)
            except AuthorizationPending as pending:
                last = pending
            except SlowDown as slow:
                last, interval = slow, interval + SLOW_DOWN_STEP
            if time.monotonic() + interval > deadline:
                raise PollTimeout(timeout, last)
            time.sleep(interval)

    def confirm_recovery_code(self, mfa_token: str, recovery_code: str) -> dict[str, Any]:
        """The mfa-recovery-code grant; the answer's `recovery_code` replaces the spent one."""
        return self._token({"grant_type": protocol.GRANT_MFA_RECOVERY_CODE, "mfa_token": mfa_token,
                            "recovery_code": recovery_code})

    def challenge(self, mfa_token: str, challenge_type: str = "otp",
                  authenticator_id: str | None = None) -> dict[str, Any]:
        """Ask for a challenge; for oob the answer's `oob_code` goes to the mfa-oob grant."""
        body = {**self._client_auth(), "mfa_token": mfa_token, "challenge_type": challenge_type,
                "authenticator_id": authenticator_id}
        return self._call("POST", "/mfa/challenge", body=body).response_json

    def list_authenticators(self, token: str) -> list[dict[str, Any]]:
        """The user's authenticators, inactive (unconfirmed) ones included."""
        return self._call("GET", "/mfa/authenticators", bearer=token).response_json

    def delete_authenticator(self, token: str, authenticator_id: str) -> None:
        """Remove one authenticator. `token` is an MFA API access token with remove:authenticators
        (from `mfa_api_token`, or from /authorize with the MFA API audience): an mfa_token, which
        proves only the password, is refused."""
        self._call("DELETE", f"/mfa/authenticators/{quote(authenticator_id, safe='')}", bearer=token)

    def mfa_api_token(self, *, otp: Callable[[], str] | None = None,
                      recovery_code: str | None = None) -> dict[str, Any]:
        """Sign in again for the MFA API audience and complete MFA, as Auth0 asks before deleting:
        "ask the user to authenticate again with /oauth/token, specifying the
        https://{yourDomain}/mfa/ audience" (Manage Authentication Factors). MFA is completed with
        `otp()` (a fresh code of an OTP factor you hold the secret of) or else `recovery_code`; the
        token response carries the new `recovery_code` when one was spent. Raises CannotRemove
        when neither is given or both are refused."""
        if otp is None and recovery_code is None:
            raise CannotRemove("no OTP secret and no recovery code to complete MFA with")
        try:
            return self.login(audience=self.mfa_audience, scope=REMOVAL_SCOPE)
        except MfaRequired as required:
            mfa_token = required.mfa_token
        refused: list[str] = []
        for grant, secret in ((self.confirm_otp, otp), (self.confirm_recovery_code, recovery_code)):
            if secret is None:
                continue
            try:
                return grant(mfa_token, secret() if callable(secret) else secret)
            except Auth0Error as error:
                refused.append(f"{error.error}: {error.error_description}")
        raise CannotRemove("MFA could not be completed (" + "; ".join(refused) + ")")

    def delete_authenticators(self, authenticators: Iterable[Mapping[str, Any]], *, access_token: str | None = None,
                              otp: Callable[[], str] | None = None,
                              recovery_code: str | None = None) -> Removal:
        """Remove each of `authenticators` (as listed) with an MFA API access token: `access_token`
        while it works, else a new one from `mfa_api_token(otp=..., recovery_code=...)`. The
        recovery code goes last, and a 404 is no error where the factor went with another: the
        recovery code with the last factor, a companion (`sms|dev_X` and `voice|dev_X`, push and its
        OTP) with its twin. Raises CannotRemove, naming the factors and the manual fix, when no
        access token can be had."""
        ordered = [dict(a) for a in sorted(authenticators,
                                           key=lambda a: a.get("authenticator_type") == "recovery-code")]
        removal = Removal([], recovery_code)
        token, renewed = access_token, False
        for authenticator in ordered:
            while True:
                if token is None:
                    token, renewed = self._removal_token(removal, ordered, otp), True
                try:
                    self.delete_authenticator(token, authenticator["id"])
                except Auth0Error as error:
                    if error.status == 401 and not renewed:   # expired (10 minutes), or no access token
                        token = None
                        continue
                    if error.status != 404 or not _went_with_another(authenticator, removal.removed):
                        raise
                break
            removal.removed.append(authenticator)
        return removal

    def _removal_token(self, removal: Removal, ordered: list[dict[str, Any]],
                       otp: Callable[[], str] | None) -> str:
        try:
            tokens = self.mfa_api_token(otp=otp, recovery_code=removal.recovery_code)
        except CannotRemove as error:
            raise CannotRemove(error.reason, [a for a in ordered if a not in removal.removed]) from None
        removal.recovery_code = tokens.get("recovery_code") or removal.recovery_code
        return tokens["access_token"]

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """The refresh_token grant (needs scope offline_access at login)."""
        return self._token({"grant_type": protocol.GRANT_REFRESH_TOKEN, "refresh_token": refresh_token})

    def authorize_url(self, redirect_uri: str, *, audience: str | None = None, scope: str | None = None,
                      client_id: str | None = None, **params: str) -> AuthorizeRequest:
        """An /authorize URL with PKCE (S256): the path to an MFA API access token through the
        browser, with audience=client.mfa_audience and the MFA scopes."""
        verifier = pysecrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = pysecrets.token_urlsafe(16)
        client_id = client_id or self.settings.client_id
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                 "scope": scope or self.settings.scope or DEFAULT_SCOPE, "audience": audience,
                 "state": state, "code_challenge": challenge, "code_challenge_method": "S256", **params}
        url = f"{self.base_url}/authorize?{urlencode({k: v for k, v in query.items() if v is not None})}"
        self.session.add_secrets(verifier)
        return AuthorizeRequest(url=url, redirect_uri=redirect_uri, state=state, code_verifier=verifier,
                                client_id=client_id)

    def exchange_code(self, code: str, request: AuthorizeRequest) -> dict[str, Any]:
        """The authorization_code grant for a code that came back to `request.redirect_uri`."""
        self.session.add_secrets(code)
        auth = self._client_auth() if request.client_id == self.settings.client_id else {"client_id": request.client_id}
        return self._token({"grant_type": protocol.GRANT_AUTHORIZATION_CODE, "code": code,
                            "redirect_uri": request.redirect_uri, "code_verifier": request.code_verifier},
                           auth=auth)

    def jwks(self) -> dict[str, Any]:
        return self._call("GET", "/.well-known/jwks.json").response_json

    def openid_configuration(self) -> dict[str, Any]:
        return self._call("GET", "/.well-known/openid-configuration").response_json

    def verify_token(self, token: str, *, audience: str | list[str] | None = None) -> dict[str, Any]:
        """Verify a JWT from this tenant: signature (JWKS), expiry, issuer from discovery, and
        `audience` when given."""
        from .tokens import verify_token
        issuer = self.openid_configuration()["issuer"]
        return verify_token(token, self.jwks(), audience=audience, issuer=issuer)

    def open_authorize(self, request: AuthorizeRequest) -> Exchange:
        """GET the /authorize URL as the browser does, recorded like every exchange (a HAR of the
        session shows the audience and scope asked for, as a customer's browser HAR would): the
        login page, or a redirect back to `redirect_uri` with `code`, or with `error`. Not raised."""
        return self._send("GET", request.url, self._headers("text/html"), None)

    def submit_login(self, fields: Mapping[str, str]) -> Exchange:
        """Post the emulator's login form (POST /u/login), recorded: a redirect back to the app with
        the code, or the page again with the error (a real tenant's Universal Login takes a person)."""
        headers = {**self._headers("text/html"), "Content-Type": "application/x-www-form-urlencoded"}
        return self._send("POST", f"{self.base_url}/u/login", headers, urlencode(dict(fields)))

    # -- HTTP -------------------------------------------------------------------------------

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {"Accept": accept}
        if self.emulator is not None and self.settings.use_custom_domain:
            headers["Host"] = self.settings.custom_domain
        return headers

    def _client_auth(self) -> dict[str, Any]:
        return {"client_id": self.settings.client_id, "client_secret": self.settings.client_secret}

    def _token(self, body: dict[str, Any], auth: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST /oauth/token, form-encoded as Auth0's docs and SDKs send it."""
        body = {**(self._client_auth() if auth is None else auth), **body}
        return self._call("POST", "/oauth/token", body=body, form=True).response_json

    def _call(self, method: str, path: str, *, body: dict[str, Any] | None = None,
              bearer: str | None = None, form: bool = False) -> Exchange:
        """Send, record, and raise the typed error for an error answer (waiting out 429s when the
        client was built with retry_on_429). `form`: the body as application/x-www-form-urlencoded."""
        headers = self._headers("application/json")
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        text = None
        if body is not None:
            fields = {k: v for k, v in body.items() if v is not None}
            text = urlencode(fields) if form else json.dumps(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded" if form else "application/json"
        retries = self.retry_on_429
        while True:
            exchange = self._send(method, self.base_url + path, headers, text)
            if exchange.ok:
                return exchange
            error = error_for(exchange)
            wait = error.seconds_to_wait() if isinstance(error, RateLimited) else None
            if retries <= 0 or wait is None or wait > self.max_retry_wait:
                raise error
            retries -= 1
            log.info("429 from %s: waiting %.1f s until the rate limit resets", path, wait)
            time.sleep(wait + 0.1)

    def _send(self, method: str, url: str, headers: dict[str, str], text: str | None) -> Exchange:
        started = datetime.now(timezone.utc)
        clock = time.perf_counter()
        try:
            response = self._request(method, url, headers, text)
        except requests.RequestException as exc:
            kind = classify_network_error(exc)
            exchange = self.session.record(Exchange(
                method=method, url=url, request_headers=dict(headers), request_body=text, started=started,
                duration=time.perf_counter() - clock, error=f"{kind}: {exc}"))
            log.warning("%s", exchange.summary())
            raise ConnectionProblem(kind, url, self.settings.address_setting, str(exc), exchange) from None
        exchange = self.session.record(Exchange(
            method=method, url=url, request_headers=dict(response.request.headers), request_body=text,
            status=response.status_code, reason=response.reason or "", response_headers=dict(response.headers),
            response_body=response.text, started=started, duration=time.perf_counter() - clock))
        log.info("%s", exchange.summary())
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s", json.dumps(exchange.redacted(self.session.known_secrets()), ensure_ascii=False))
        return exchange

    def _request(self, method: str, url: str, headers: dict[str, str], text: str | None) -> requests.Response:
        """One request; sent once more on a fresh connection when a kept-alive one turns out closed
        (the server dropped it while idle, before reading the request: nothing was processed)."""
        def send() -> requests.Response:
            return self.http.request(method, url, data=text.encode() if text is not None else None,
                                     headers=headers, timeout=self.settings.timeout, allow_redirects=False)
        try:
            return send()
        except requests.ConnectionError as exc:
            if not dropped_while_idle(exc):
                raise
            log.info("%s %s: the server had closed the kept-alive connection; sending again", method, url)
        return send()

    def __repr__(self) -> str:
        return (f"<MfaClient target={self.settings.target} url={self.base_url} domain={self.domain} "
                f"client_id={self.settings.client_id} exchanges={len(self.session)}>")


def dropped_while_idle(exc: BaseException) -> bool:
    """A reused connection the server had closed: no response byte came back (RemoteDisconnected),
    or the connection was reset or its pipe broken while the request was being written."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
            return True
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *getattr(current, "args", ())]
        stack.extend(a for a in linked if isinstance(a, BaseException))  # a reason may be a plain str
    return False


def _pick_client(tenant: dict[str, Any], client_id: str | None) -> dict[str, Any]:
    """The client named by AUTH0_CLIENT_ID, else the first confidential client with the MFA grants."""
    clients = tenant.get("clients") or []
    if client_id:
        for client in clients:
            if client["client_id"] == client_id:
                return client
        raise ConfigurationError(f"{ENV['client_id']}={client_id} is no client of the emulator's tenant.")
    for client in clients:
        if client.get("client_secret") and set(protocol.MFA_GRANTS) <= set(client.get("grant_types") or []):
            return client
    raise ConfigurationError("The emulator's tenant has no confidential client with the MFA grants.")


def _emulator_answers(url: str) -> bool:
    try:
        response = requests.get(f"{url}/emulator/health", timeout=0.5)
        return response.ok and response.json().get("status") == "ok"
    except (requests.RequestException, ValueError):
        return False


def _find_or_start_emulator() -> str:
    """127.0.0.1:8787 when an emulator answers there, else one started in this process (kept
    alive until the process exits, shared by every client)."""
    global _embedded
    if _embedded is not None:
        return _embedded.url
    if _emulator_answers(EMULATOR_URL):
        return EMULATOR_URL
    from .emulator import Emulator
    _embedded = Emulator(db=":memory:").start()
    atexit.register(_embedded.stop)
    log.info("started an emulator at %s", _embedded.url)
    return _embedded.url
