# SPDX-License-Identifier: Apache-2.0
"""sihlicon.Server: the hub on the network started from Python; the hub's API tokens."""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any

import pytest

import sihlicon


def get(port: int, path: str, token: str | None = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_a_server_started_from_python_answers_logs_each_request_and_stops(
    site: sihlicon.Hub,
) -> None:
    lines: list[str] = []
    lock = threading.Lock()

    def log(line: str) -> None:
        with lock:
            lines.append(line)

    server = sihlicon.Server(site, "127.0.0.1", 0, threads=1, access_log=log)
    assert server.port == 0 and not server.running
    with server:
        port = server.port
        assert port > 0 and server.running
        assert server.url == f"http://127.0.0.1:{port}"
        status, body = get(port, "/.well-known/sihlicon.json")
        assert status == 200 and body["signer"].startswith("0x")

        tokens = sihlicon.ApiTokens(site)
        assert get(port, "/api/compute?hubId=pool")[0] == 401
        issued = tokens.create("ann", "client")
        assert issued.secret.startswith("sih_") and len(issued.secret) == 68
        assert issued.record.principal == "ann" and issued.record.role == "client"
        assert issued.record.worker_id is None and issued.record.revoked_at is None
        status, body = get(port, "/api/compute?hubId=pool", issued.secret)
        assert status == 200 and body["jobs"] == []
        revoked = tokens.revoke(issued.record.id)
        assert revoked.revoked_at is not None
        assert get(port, "/api/compute?hubId=pool", issued.secret)[0] == 401
        assert [record.id for record in tokens.list()] == [issued.record.id]
        with pytest.raises(sihlicon.PermissionDenied):
            tokens.create("ann", "client", by="ann")
        with pytest.raises(sihlicon.InvalidArgument) as error:
            tokens.create("bee", "worker")
        assert error.value.field == "workerId"
        with pytest.raises(sihlicon.Conflict):
            server.start()
    assert not server.running and server.port == 0
    with pytest.raises(OSError):
        get(port, "/.well-known/sihlicon.json")
    server.stop()  # idempotent
    with pytest.raises(sihlicon.Conflict):
        server.start()  # a stopped server is not started again
    assert len(lines) == 4
    assert '"GET /.well-known/sihlicon.json" 200' in lines[0]
    assert lines[2].endswith(" ann") and '"GET /api/compute?hubId=pool" 200' in lines[2]


def test_server_options_are_the_library_codec_and_bad_ones_are_named(
    site: sihlicon.Hub,
) -> None:
    with pytest.raises(sihlicon.InvalidArgument) as error:
        sihlicon.Server(site, port=70000)
    assert error.value.field == "port"
    with pytest.raises(sihlicon.InvalidArgument) as error:
        sihlicon.Server(site, read_timeout_ms=-1)
    assert error.value.field == "readTimeoutMs"
    with pytest.raises(sihlicon.InvalidArgument) as error:
        sihlicon.Server(site, address="localhost").start()
    assert error.value.field == "address"
    with pytest.raises(sihlicon.InvalidArgument) as error:
        sihlicon.Server(site, tls_certificate="/nonexistent.pem").start()
    assert error.value.field == "tlsPrivateKey"
    with pytest.raises(sihlicon.InvalidArgument) as error:
        sihlicon.Server(site, threads=0).start()
    assert error.value.field == "threads"


def test_closing_the_hub_stops_its_servers_first(site: sihlicon.Hub) -> None:
    server = sihlicon.Server(site)
    server.start()
    port = server.port
    assert get(port, "/.well-known/sihlicon.json")[0] == 200
    site.close()
    assert not server.running
    with pytest.raises(OSError):
        get(port, "/.well-known/sihlicon.json")
    server.stop()
    with pytest.raises(sihlicon.Conflict):
        sihlicon.Server(site).start()
