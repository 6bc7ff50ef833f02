# SPDX-License-Identifier: Apache-2.0
"""sihlicon.Client: the REST API over HTTP, against a sihlicon.Server started in this process."""

from __future__ import annotations

import http.client
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

import sihlicon
from conftest import job_request


@dataclass
class Served:
    server: sihlicon.Server
    tokens: dict[str, str]
    clients: dict[str, sihlicon.Client]


@pytest.fixture
def served(site: sihlicon.Hub) -> Iterator[Served]:
    tokens = sihlicon.ApiTokens(site)
    secrets = {
        "ann": tokens.create("ann", "client").secret,
        "bob": tokens.create("bob", "client").secret,
        "operator": tokens.create("operator", "operator").secret,
    }
    with sihlicon.Server(site) as server:
        clients = {name: sihlicon.Client(f"{server.url}/api", secret)
                   for name, secret in secrets.items()}
        yield Served(server, secrets, clients)
        for client in clients.values():
            client.close()


def route_served(served: Served, method: str, path: str) -> bool:
    """Whether the server has ``method path`` (other branches add some routes): False when it
    answers an operator's request with 404 "no route" or 405."""
    connection = http.client.HTTPConnection("127.0.0.1", served.server.port, timeout=10)
    try:
        connection.request(method, path, body=b"",
                           headers={"Authorization": f"Bearer {served.tokens['operator']}"})
        response = connection.getresponse()
        text = response.read()
        return not (response.status == 405 or (response.status == 404 and b"no route" in text))
    finally:
        connection.close()


def refused(error: pytest.ExceptionInfo[sihlicon.Error], status: int, field: str = "") -> None:
    assert error.value.status == status, error.value
    assert isinstance(error.value.details, dict)
    assert error.value.message
    if field:
        assert error.value.field == field, error.value


def test_compute_over_http_submits_gets_and_lists_as_the_token_principal(served: Served) -> None:
    ann, bob, operator = (served.clients[name] for name in ("ann", "bob", "operator"))
    submitted = ann.compute.submit(job_request(hubId="pool"))
    assert submitted["success"] is True
    job_id = submitted["jobId"]
    job = ann.compute.get(job_id)
    assert job["jobId"] == job_id and job["status"] == "queued" and job["owner"] == "ann"
    assert [j["jobId"] for j in ann.compute.list(hub_id="pool")] == [job_id]
    assert ann.compute.list(hub_id="pool", status="running") == []
    assert len(ann.compute.list(hub_id="pool", limit=1)) == 1
    # Another client neither sees nor lists it; the operator sees everything.
    with pytest.raises(sihlicon.NotFound) as error:
        bob.compute.get(job_id)
    refused(error, 404, "jobId")
    assert bob.compute.list(hub_id="pool") == []
    assert operator.compute.get(job_id)["owner"] == "ann"
    # One keep-alive connection for many requests.
    for _ in range(5):
        assert ann.compute.get(job_id)["jobId"] == job_id


def test_a_connection_the_server_closed_while_idle_is_reopened(site: sihlicon.Hub) -> None:
    token = sihlicon.ApiTokens(site).create("ann", "client").secret
    with sihlicon.Server(site, idle_timeout_ms=100) as server, sihlicon.Client(
        f"{server.url}/api", token
    ) as client:
        for _ in range(3):
            client.compute.list(hub_id="pool")
            time.sleep(0.4)  # the server closes the kept-alive connection meanwhile
            # A POST is never retried, so it must go over a new connection from the start.
            assert client.compute.submit(job_request(hubId="pool"))["success"] is True


def test_http_errors_are_the_binding_exceptions_with_status_error_and_details(
    served: Served,
) -> None:
    ann = served.clients["ann"]
    with sihlicon.Client(f"{served.server.url}/api", "sih_" + "0" * 64) as stranger:
        with pytest.raises(sihlicon.PermissionDenied) as error:
            stranger.compute.list(hub_id="pool")
        assert error.value.status == 401 and error.value.message
    with pytest.raises(sihlicon.InvalidArgument) as invalid:
        ann.compute.submit(job_request(priority="urgent"))
    refused(invalid, 400, "priority")
    assert isinstance(invalid.value.details, dict)
    assert invalid.value.details["code"] == "invalid_argument"
    with pytest.raises(sihlicon.NotFound) as missing:
        ann.compute.get("no-such-job")
    refused(missing, 404, "jobId")
    with pytest.raises(sihlicon.InvalidArgument) as status:
        ann.compute.list(hub_id="pool", status="lost")
    refused(status, 400, "status")
    # Checked before sending.
    with pytest.raises(sihlicon.InvalidArgument) as empty:
        ann.compute.get("")
    assert empty.value.field == "job_id" and empty.value.status is None
    with pytest.raises(sihlicon.InvalidArgument) as url:
        sihlicon.Client("ftp://x/api", "t")
    assert url.value.field == "api_url"
    # No server answering: IoError.
    with sihlicon.Client("http://127.0.0.1:1/api", "t", timeout=5) as nowhere:
        with pytest.raises(sihlicon.IoError):
            nowhere.compute.list(hub_id="pool")


def test_compute_cancel_over_http(served: Served) -> None:
    ann, bob = served.clients["ann"], served.clients["bob"]
    job_id = ann.compute.submit(job_request(hubId="pool"))["jobId"]
    if not route_served(served, "DELETE", f"/api/compute/{job_id}x"):
        pytest.skip("DELETE /api/compute/{jobId} is not served on this branch "
                    "(the contract branch adds it)")
    with pytest.raises(sihlicon.NotFound):
        bob.compute.cancel(job_id)
    assert ann.compute.cancel(job_id) == {"success": True, "message": "Job cancelled"}
    assert ann.compute.get(job_id)["status"] == "cancelled"


def test_storage_over_http_streams_a_file_from_disk(served: Served, tmp_path: Path) -> None:
    if not route_served(served, "POST", "/api/storage"):
        pytest.skip("POST/GET/DELETE /api/storage are not served on this branch "
                    "(the storage branch adds them)")
    ann, bob = served.clients["ann"], served.clients["bob"]
    data = bytes((i * 31) & 0xFF for i in range(3 * 1024 * 1024 + 17))
    path = tmp_path / "scan.bin"
    path.write_bytes(data)
    manifest = ann.storage.upload(path, {"storageTier": "cold"})
    assert manifest["contentId"] == sihlicon.compute_cid(data)
    assert manifest["fileName"] == "scan.bin"
    assert manifest["fileSizeBytes"] == len(data)
    assert manifest["storageTier"] == "cold"
    with path.open("rb") as stream:
        assert ann.storage.upload(stream)["contentId"] == manifest["contentId"]
    assert ann.storage.upload(b"hello", {"fileName": "h.txt"})["fileSizeBytes"] == 5
    assert ann.storage.get_manifest(manifest["contentId"])["contentId"] == manifest["contentId"]
    with pytest.raises(sihlicon.NotFound):
        bob.storage.get_manifest(manifest["contentId"])
    with pytest.raises(sihlicon.InvalidArgument) as error:
        ann.storage.upload(b"x", {"colour": "red"})
    refused(error, 400)
    assert error.value.field.endswith("colour")
    assert ann.storage.delete(manifest["contentId"]) == {
        "success": True, "message": "Content deleted"}
    with pytest.raises(sihlicon.NotFound):
        ann.storage.get_manifest(manifest["contentId"])


def test_heat_over_http_credits_stats_and_settle_for_the_operator_only(served: Served) -> None:
    if not route_served(served, "GET", "/api/heat/stats?hubId=pool"):
        pytest.skip("GET /api/heat/credits|stats and POST /api/heat/settle are not served on "
                    "this branch (the contract branch adds them)")
    ann, operator = served.clients["ann"], served.clients["operator"]
    start = datetime(2025, 12, 1, tzinfo=timezone.utc)
    end = datetime(2026, 1, 1, tzinfo=timezone.utc)
    credit = ann.heat.get_credits("pool", start, end)
    assert credit["hubId"] == "pool" and credit["settled"] is False
    assert isinstance(ann.heat.get_stats("pool")["periodCount"], int)
    with pytest.raises(sihlicon.PermissionDenied) as error:
        ann.heat.settle("pool", start, end)
    assert error.value.status == 403
    settled = operator.heat.settle("pool", start, end)
    assert settled["success"] is True and "settledCreditChf" in settled
    with pytest.raises(sihlicon.InvalidArgument) as bad:
        ann.heat.get_credits("pool", start="yesterday")
    refused(bad, 400, "start")


def test_client_over_https_trusts_the_certificate_it_is_given(
    site: sihlicon.Hub, tmp_path: Path
) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not on the PATH (scripts/setup.sh installs it)")
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(certificate), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True)
    token = sihlicon.ApiTokens(site).create("ann", "client").secret
    with sihlicon.Server(site, tls_certificate=certificate, tls_private_key=key) as server:
        assert server.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(certificate))
        with sihlicon.Client(f"{server.url}/api", token, ssl_context=context) as client:
            job_id = client.compute.submit(job_request(hubId="pool"))["jobId"]
            assert client.compute.get(job_id)["owner"] == "ann"
        with sihlicon.Client(f"{server.url}/api", token) as untrusting:
            with pytest.raises(sihlicon.IoError):
                untrusting.compute.list(hub_id="pool")


def test_a_body_the_server_refuses_unread_is_its_413_not_a_broken_pipe(served: Served) -> None:
    # The server answers 413 from the Content-Length and closes without reading the 8 MiB.
    with pytest.raises(sihlicon.InvalidArgument) as error:
        served.clients["ann"].compute.submit(
            job_request(hubId="pool", workloadConfig={
                "containerImage": "a:b", "env": {"A": "x" * (8 << 20)}}))
    assert error.value.status == 413
    # The client goes on over a new connection.
    assert served.clients["ann"].compute.list(hub_id="pool") == []
