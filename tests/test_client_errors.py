"""Typed errors: each protocol error maps to its class with its data and a fix; each network
failure (real sockets, no mocks) names the setting to check."""
import json
import socket
import threading
from datetime import datetime, timezone

import pytest

from mfa_helpers import protocol
from mfa_helpers.client import MfaClient
from mfa_helpers.errors import (Auth0Error, AuthorizationPending, ConnectionProblem, MfaRequired, RateLimited,
                                SlowDown, error_for)
from mfa_helpers.exchange import Exchange
from mfa_helpers.settings import Settings


def _answer(spec_key: str, headers: dict | None = None, **fields) -> Exchange:
    spec = protocol.ERRORS[spec_key]
    body = {**spec.body(**fields)}
    if spec_key == "mfa_required":
        body |= {"mfa_token": "Fe26.2*abc", "mfa_requirements": {"enroll": [{"type": "otp"}]}}
    return Exchange("POST", "http://e/oauth/token", status=spec.status, response_body=json.dumps(body),
                    response_headers={"Content-Type": "application/json", **(headers or {})})


@pytest.mark.parametrize("key, cls", [("mfa_required", MfaRequired), ("authorization_pending", AuthorizationPending),
                                      ("slow_down", SlowDown), ("rate_limited", RateLimited),
                                      ("too_many_attempts", RateLimited), ("invalid_otp", Auth0Error)])
def test_each_error_answer_gets_its_class_with_status_error_description_and_exchange(key, cls):
    exchange = _answer(key)
    error = error_for(exchange)
    spec = protocol.ERRORS[key]
    assert type(error) is cls
    assert (error.status, error.error, error.error_description) == (spec.status, spec.error, spec.description)
    assert error.exchange is exchange and error.request is exchange and error.is_(key)


def test_mfa_required_carries_the_token_and_requirements():
    error = error_for(_answer("mfa_required"))
    assert error.mfa_token == "Fe26.2*abc" and error.mfa_requirements == {"enroll": [{"type": "otp"}]}
    assert "Fe26.2*abc" not in repr(error)


def test_messages_name_the_fix():
    grant = error_for(_answer("grant_not_allowed", grant_type=protocol.GRANT_MFA_OTP))
    assert "Advanced Settings > Grant Types" in str(grant) and grant.specs == [protocol.ERRORS["grant_not_allowed"]]
    assert "canonical domain" in str(error_for(_answer("service_not_enabled", audience="https://login.x/mfa/")))
    reused = error_for(_answer("invalid_otp"))
    assert {s.key for s in reused.specs} == {"invalid_otp", "otp_reused"} and "fresh_code" in str(reused)


def test_rate_limited_reads_reset_at_from_x_ratelimit_reset():
    error = error_for(_answer("rate_limited", {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "0",
                                               "x-ratelimit-reset": "1800000000"}))
    assert error.reset_at == datetime.fromtimestamp(1_800_000_000, timezone.utc)
    assert (error.limit, error.remaining) == (10, 0)
    assert error.seconds_to_wait(datetime.fromtimestamp(1_799_999_990, timezone.utc)) == 10


# -- network failures, each with a real socket ---------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(handler) -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def loop():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=handler, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return server, server.getsockname()[1]


def _plain_http(conn: socket.socket) -> None:
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    conn.close()


def _silent(conn: socket.socket) -> None:
    threading.Event().wait(5)
    conn.close()


def _tenant(domain: str, timeout: float = 3.0) -> MfaClient:
    return MfaClient(Settings(domain=domain, client_id="cid", client_secret="cs", timeout=timeout))


def test_connection_refused_names_the_emulator_url_setting():
    with pytest.raises(ConnectionProblem) as caught:
        MfaClient(Settings(emulator_url=f"http://127.0.0.1:{_free_port()}"))
    assert caught.value.kind == "refused" and "MFA_KIT_EMULATOR_URL" in str(caught.value)


def test_connection_refused_on_a_tenant_is_recorded_and_names_auth0_domain():
    client = _tenant(f"127.0.0.1:{_free_port()}")
    with pytest.raises(ConnectionProblem) as caught:
        client.login("u", "p")
    assert caught.value.kind == "refused" and "AUTH0_DOMAIN" in str(caught.value)
    assert client.session.last is caught.value.exchange and client.session.last.error.startswith("refused")


def test_dns_failure_names_auth0_domain():
    with pytest.raises(ConnectionProblem) as caught:
        _tenant("no-such-tenant.invalid").login("u", "p")
    assert caught.value.kind == "dns" and "does not resolve" in str(caught.value) and "AUTH0_DOMAIN" in str(caught.value)


def test_tls_failure_when_https_meets_a_plain_http_port():
    server, port = _serve(_plain_http)
    try:
        with pytest.raises(ConnectionProblem) as caught:
            _tenant(f"127.0.0.1:{port}").login("u", "p")
    finally:
        server.close()
    assert caught.value.kind == "tls" and "TLS handshake" in str(caught.value)


def test_timeout_when_the_server_accepts_and_never_answers():
    server, port = _serve(_silent)
    try:
        with pytest.raises(ConnectionProblem) as caught:
            _tenant(f"127.0.0.1:{port}", timeout=0.5).login("u", "p")
    finally:
        server.close()
    assert caught.value.kind == "timeout" and "no answer in time" in str(caught.value)


def test_custom_domain_failures_name_the_custom_domain_setting():
    settings = Settings(domain="t.us.auth0.com", custom_domain="login.mfa-kit.invalid", client_id="c",
                        use_custom_domain=True)
    with pytest.raises(ConnectionProblem) as caught:
        MfaClient(settings).login("u", "p")
    assert caught.value.kind == "dns" and "AUTH0_CUSTOM_DOMAIN" in str(caught.value)
