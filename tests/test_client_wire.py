"""What goes over the wire as Auth0's docs and SDKs send it (form-encoded /oauth/token), curl snippets
that run as shown, and a kept-alive connection the server dropped while idle, sent again."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import threading

import pytest
from client_support import client, emu, mfa_required  # noqa: F401

from mfa_helpers import Auth0Error, ConnectionProblem, MfaClient, Settings
from mfa_helpers.exchange import Exchange


def test_oauth_token_requests_are_form_encoded_and_mfa_requests_json(client):
    required = mfa_required(client)
    login = client.session.last
    assert login.request_headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert login.request_data["grant_type"] == "password" and login.request_body.startswith("client_id=")
    client.associate(required.mfa_token, ["otp"])
    assert client.session.last.request_headers["Content-Type"] == "application/json"


def run_curl(exchange: Exchange, variables: dict[str, str]) -> tuple[int, dict]:
    """Run the snippet as a reader would paste it into bash, with the variables its first line names."""
    snippet = exchange.to_curl()
    named = snippet.splitlines()[0].removeprefix("# export first:").split() if snippet.startswith("#") else []
    assert set(named) <= set(variables), f"{named} named, but only {sorted(variables)} known"
    env = {**os.environ, **{k: variables[k] for k in named}}
    done = subprocess.run(["bash", "-c", snippet + " -s -w '\\n%{http_code}'"], env=env, capture_output=True,
                          text=True, timeout=30, check=True)
    body, _, status = done.stdout.rpartition("\n")
    return int(status), json.loads(body) if body.strip() else {}


def test_every_curl_snippet_runs_as_shown_with_its_secrets_as_variables(client):
    settings = client.settings
    required = mfa_required(client)
    with pytest.raises(Auth0Error):  # a JSON body with secrets (no factor yet: an error answer)
        client.challenge(required.mfa_token, "otp")
    enrollment = client.associate(required.mfa_token, ["otp"])
    variables = {"AUTH0_CLIENT_SECRET": settings.client_secret, "AUTH0_PASSWORD": settings.password,
                 "AUTH0_USERNAME": settings.username, "MFA_TOKEN": required.mfa_token}
    for exchange in client.session.exchanges:
        snippet = exchange.to_curl()
        assert "[redacted" not in snippet and settings.client_secret not in snippet
        assert required.mfa_token not in snippet and settings.password not in snippet
        status, body = run_curl(exchange, variables)
        assert status == exchange.status, snippet
        assert body.get("error") == exchange.response_json.get("error"), snippet
    assert enrollment["secret"]
    assert '"Authorization: Bearer $MFA_TOKEN"' in client.session.last.to_curl()
    assert client.session.exchanges[0].to_curl().startswith(
        "# export first: AUTH0_CLIENT_SECRET AUTH0_USERNAME AUTH0_PASSWORD\ncurl -X POST")


class DroppingServer:
    """A raw HTTP/1.1 server that answers a request and keeps the connection, then closes it without
    an answer when the next request arrives on it: the race a keep-alive timeout loses."""

    def __init__(self, drop_every_reused: bool = False):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.drop_every_reused = drop_every_reused
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                self._read(conn)
                if self.drop_every_reused and self.connections > 1:
                    continue  # closed at once, no answer
                body = json.dumps({"connection": self.connections}).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
                             b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
                self._read(conn)  # the next request on this kept-alive connection: dropped

    @staticmethod
    def _read(conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def tenant_client():
    return MfaClient(Settings(domain="tenant.example", client_id="app"))


def test_a_kept_alive_connection_dropped_by_the_server_is_sent_again(tenant_client):
    server = DroppingServer()
    try:
        first = tenant_client._send("GET", f"{server.url}/poll", {"Accept": "application/json"}, None)
        second = tenant_client._send("GET", f"{server.url}/poll", {"Accept": "application/json"}, None)
    finally:
        server.close()
    assert first.response_json == {"connection": 1}
    assert second.status == 200 and second.response_json == {"connection": 2}  # sent once more, fresh
    assert [e.error for e in tenant_client.session.exchanges] == [None, None]


def test_a_server_that_keeps_dropping_is_still_a_connection_problem(tenant_client):
    server = DroppingServer(drop_every_reused=True)
    try:
        tenant_client._send("GET", f"{server.url}/poll", {}, None)
        with pytest.raises(ConnectionProblem):
            tenant_client._send("GET", f"{server.url}/poll", {}, None)
    finally:
        server.close()
    assert server.connections == 2  # the kept-alive one, then one retry on a new connection, no more
