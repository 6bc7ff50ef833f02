# SPDX-License-Identifier: Apache-2.0
"""examples/python/rest_server.py exercised over loopback with urllib."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import sihlicon
from conftest import START, hub_spec, job_request

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "python" / "rest_server.py"
spec = importlib.util.spec_from_file_location("rest_server", EXAMPLE)
assert spec is not None and spec.loader is not None
rest_server = importlib.util.module_from_spec(spec)
sys.modules["rest_server"] = rest_server
spec.loader.exec_module(rest_server)

SESSIONS = {"tok-ann": "ann", "tok-bob": "bob", "tok-op": "olga"}


class Client:
    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method: str, path: str, body: bytes | None = None, token: str | None = "tok-ann",
             content_type: str = "application/json") -> tuple[int, dict[str, Any], Any]:
        request = urllib.request.Request(self.base + path, data=body, method=method)
        if token is not None:
            request.add_header("Cookie", f"sihlhack_session={token}")
        if body is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), json.loads(error.read())

    def json(self, method: str, path: str, value: object, token: str = "tok-ann") -> tuple[int, dict[str, Any], Any]:
        return self.call(method, path, json.dumps(value).encode(), token)


@pytest.fixture
def server(tmp_path: Path, clock: sihlicon.ManualClock) -> Iterator[tuple[Client, sihlicon.Hub, Any]]:
    with sihlicon.Hub(tmp_path / "hub", clock=clock, durability=sihlicon.Durability.PROCESS_CRASH) as hub:
        hub.scheduler.register_hub(hub_spec())
        hub.scheduler.register_worker({"workerId": "bee-01", "hubId": "pool",
             "executors": ["native", "container"], "cpu": "64",
                                       "memory": "256Gi"})
        httpd = rest_server.make_server(hub, SESSIONS, {"olga"})
        assert httpd.server_address[0] == "127.0.0.1"
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield Client(f"http://127.0.0.1:{httpd.server_address[1]}"), hub, httpd
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join()


def multipart(fields: dict[str, tuple[bytes, str | None]]) -> tuple[bytes, str]:
    boundary = "----sihlicon-test-boundary"
    body = b""
    for name, (data, filename) in fields.items():
        disposition = f'form-data; name="{name}"'
        if filename:
            disposition += f'; filename="{filename}"'
        body += (f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_requests_without_a_valid_session_are_401(server: tuple[Client, sihlicon.Hub, Any]) -> None:
    client, _, _ = server
    status, _, body = client.call("GET", "/api/heat/stats?hubId=pool", token=None)
    assert status == 401 and body == {"error": "not authenticated"}
    assert client.call("GET", "/api/heat/stats?hubId=pool", token="forged")[0] == 401


def test_compute_hub_id_prefers_a_hub_and_lists_the_jobs_preferring_and_run_on_it(
    server: tuple[Client, sihlicon.Hub, Any], clock: sihlicon.ManualClock
) -> None:
    client, hub, _ = server
    hub.scheduler.register_hub(hub_spec("lake"))  # no worker
    job_id = client.json("POST", "/api/compute", job_request("page", hubId="lake"))[2]["jobId"]
    assert hub.scheduler.claim("bee-01") == []
    clock.advance(timedelta(seconds=60))
    assert hub.scheduler.claim("bee-01")[0].job.id == job_id
    for where in ("lake", "pool"):
        jobs = client.call("GET", f"/api/compute?hubId={where}")[2]["jobs"]
        assert [j["jobId"] for j in jobs] == [job_id]
        assert jobs[0]["runHubId"] == "pool" and jobs[0]["hubId"] == "lake"
    status, _, body = client.json(
        "POST", "/api/compute", job_request("pinned", constraints={"pinHub": "lake"})
    )
    assert status == 200
    assert client.call("GET", f"/api/compute/{body['jobId']}")[2]["job"]["pinHub"] == "lake"
    status, _, body = client.json(
        "POST", "/api/compute", job_request("lost", constraints={"pinHub": "nowhere"})
    )
    assert status == 404 and body["details"]["field"] == "constraints.pinHub"


def test_compute_jobs_are_submitted_read_listed_and_cancelled(server: tuple[Client, sihlicon.Hub, Any]) -> None:
    client, hub, _ = server
    status, headers, body = client.json("POST", "/api/compute", job_request("page", hubId="pool"))
    assert status == 200 and body["success"] is True and body["jobId"].startswith("job-")
    assert headers["X-RateLimit-Limit"] == "1000" and headers["X-RateLimit-Remaining"] == "999"
    assert int(headers["X-RateLimit-Reset"]) == sihlicon.to_ms(START) // 1000 + 3600
    job_id = body["jobId"]
    status, _, body = client.call("GET", f"/api/compute/{job_id}")
    assert status == 200 and body["success"] is True
    assert body["job"]["jobId"] == job_id and body["job"]["status"] == "queued"
    assert client.call("GET", f"/api/compute/{job_id}", token="tok-bob")[0] == 404
    status, _, body = client.call("GET", "/api/compute?hubId=pool&status=queued&limit=10")
    assert status == 200 and [j["jobId"] for j in body["jobs"]] == [job_id]
    assert client.call("GET", "/api/compute?hubId=pool", token="tok-bob")[2]["jobs"] == []
    status, _, body = client.call("GET", "/api/compute")
    assert status == 400 and body["details"]["field"] == "hubId"
    assert client.call("GET", "/api/compute?hubId=pool&status=asleep")[0] == 400
    assert client.call("GET", "/api/compute?hubId=pool&limit=x")[0] == 400
    # A running job completes with the seed's energy fields.
    lease = hub.scheduler.claim("bee-01")[0].lease
    hub.scheduler.complete(job_id, lease.token, energy_mwh=1_500_000)
    job = client.call("GET", f"/api/compute/{job_id}")[2]["job"]
    assert job["status"] == "completed" and job["actualComputeKwh"] == 1.5
    assert job["heatGeneratedKwh"] == 1.35
    second = client.json("POST", "/api/compute", job_request("other"))[2]["jobId"]
    status, _, body = client.call("DELETE", f"/api/compute/{second}")
    assert status == 200 and body == {"success": True, "message": "Job cancelled"}
    status, _, body = client.call("DELETE", f"/api/compute/{second}")
    assert status == 409 and body["details"]["code"] == "conflict"
    assert client.call("DELETE", f"/api/compute/{second}", token="tok-bob")[0] == 404
    assert client.call("PUT", f"/api/compute/{second}")[0] == 405


def test_invalid_jobs_get_the_seeds_error_shape(server: tuple[Client, sihlicon.Hub, Any]) -> None:
    client, _, _ = server
    request = job_request()
    request["workloadConfig"]["resources"]["memory"] = "lots"
    status, _, body = client.json("POST", "/api/compute", request)
    assert status == 400
    assert set(body) == {"error", "details"} and "lots" in body["error"]
    assert body["details"] == {"code": "invalid_argument", "field": "workloadConfig.resources.memory"}
    status, _, body = client.call("POST", "/api/compute", b"{oops")
    assert status == 400 and body["details"]["field"] == "body"
    assert client.call("POST", "/api/compute", b"[1]")[0] == 400


def test_request_bodies_are_read_as_strictly_as_the_library_reads_json(
    server: tuple[Client, sihlicon.Hub, Any]
) -> None:
    client, hub, _ = server
    text = json.dumps(job_request("Process ledger"))
    for body in (
        b'{"jobName":"first",' + text[1:].encode(),  # a repeated member name
        text.replace('"Process', '"\\ud800Process').encode(),  # a lone surrogate escape
        text.replace("Process", "Proc\xffess").encode("latin-1"),  # not UTF-8
    ):
        status, _, answer = client.call("POST", "/api/compute", body)
        assert status == 400, answer
        assert answer["details"]["field"] == "body"
    assert hub.scheduler.jobs() == []


def test_the_seeds_compute_limit_answers_429(server: tuple[Client, sihlicon.Hub, Any]) -> None:
    client, hub, _ = server
    hub.set_setting("submissionsPerHour", "10")
    statuses = [client.json("POST", "/api/compute", job_request(f"j{i}"))[0] for i in range(11)]
    assert statuses == [200] * 10 + [429]


def test_storage_uploads_read_and_delete(server: tuple[Client, sihlicon.Hub, Any]) -> None:
    client, _, _ = server
    data = bytes(range(256)) * 1500 + b"\r\n--not-a-boundary\r\n"
    metadata = {"storageTier": "cold", "accessLevel": "community", "minReplicas": 1,
                "metadata": {"source": "scan"}}
    body, content_type = multipart({"file": (data, "ledger.bin"),
                                    "metadata": (json.dumps(metadata).encode(), None)})
    status, _, answer = client.call("POST", "/api/storage", body, content_type=content_type)
    assert status == 200 and answer["success"] is True
    manifest = answer["manifest"]
    assert manifest["contentId"] == sihlicon.compute_cid(data)
    assert manifest["fileSizeBytes"] == len(data) and manifest["fileName"] == "ledger.bin"
    assert manifest["storageTier"] == "cold" and manifest["accessLevel"] == "community"
    assert manifest["replicaHubs"] == ["pool"] and manifest["createdAt"].endswith("Z")
    cid = manifest["contentId"]
    status, _, answer = client.call("GET", f"/api/storage?contentId={cid}")
    assert status == 200 and answer["manifest"]["contentId"] == cid
    # Content bob may not read looks unknown to him (no existence oracle): 404, not 403.
    status, _, answer = client.call("GET", f"/api/storage?contentId={cid}", token="tok-bob")
    assert status == 404 and answer["details"]["code"] == "not_found"
    assert client.call("DELETE", f"/api/storage?contentId={cid}", token="tok-bob")[0] == 404
    status, _, answer = client.call("DELETE", f"/api/storage?contentId={cid}")
    assert status == 200 and answer == {"success": True, "message": "Content deleted"}
    assert client.call("GET", f"/api/storage?contentId={cid}")[0] == 404
    assert client.call("GET", "/api/storage?contentId=nope")[0] == 400
    no_file, content_type = multipart({"metadata": (b"{}", None)})
    status, _, answer = client.call("POST", "/api/storage", no_file, content_type=content_type)
    assert status == 400 and answer["details"]["field"] == "file"
    bad, content_type = multipart({"file": (b"x", "x"), "metadata": (b'{"storageTier":"warm"}', None)})
    status, _, answer = client.call("POST", "/api/storage", bad, content_type=content_type)
    assert status == 400 and answer["details"]["field"] == "storageTier"  # the core's codec
    assert client.call("POST", "/api/storage", b"{}")[0] == 400  # not multipart
    unknown_hub, content_type = multipart({"file": (b"x", "x"),
                                           "metadata": (b'{"sourceHubId":"atlantis"}', None)})
    status, _, answer = client.call("POST", "/api/storage", unknown_hub, content_type=content_type)
    assert status == 404 and answer["details"]["field"] == "sourceHubId"


def test_heat_credits_stats_and_operator_settlement(
    server: tuple[Client, sihlicon.Hub, Any], clock: sihlicon.ManualClock
) -> None:
    client, hub, _ = server
    hub.heat_ledger.record("pool", thermal_mwh=3_000_000, tag="pool heater")
    clock.advance(timedelta(hours=2))
    status, _, body = client.call("GET", "/api/heat/credits?hubId=pool")
    assert status == 200
    assert body["credit"]["hubId"] == "pool" and body["credit"]["totalHeatKwh"] == 3
    assert body["credit"]["heatCreditChf"] == 15 and body["credit"]["settled"] is False
    start, end = "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"
    body = client.call("GET", f"/api/heat/credits?hubId=pool&start={start}&end={end}")[2]
    assert body["credit"]["periodStart"] == "2026-01-01T00:00:00.000Z"
    status, _, body = client.call("GET", "/api/heat/credits?hubId=pool&start=yesterday")
    assert status == 400 and body["details"]["field"] == "start"
    assert client.call("GET", "/api/heat/credits?hubId=atlantis")[0] == 404
    status, _, body = client.call("GET", "/api/heat/stats?hubId=pool")
    assert status == 200 and body["stats"]["totalHeatKwh"] == 3 and body["stats"]["periodCount"] == 0
    status, _, body = client.call("GET", "/api/heat/stats?region=CH")
    assert status == 200 and body["stats"]["totalHeatKwh"] == 3 and body["stats"]["groupBy"] == "region"
    assert client.call("GET", "/api/heat/stats?site=atlantis")[0] == 404
    settle = {"hubId": "pool", "periodStart": start, "periodEnd": "2026-01-01T02:00:00Z"}
    status, _, body = client.json("POST", "/api/heat/settle", settle)
    assert status == 403 and body == {"error": "only an operator may settle heat credits"}
    status, _, body = client.json("POST", "/api/heat/settle", settle, token="tok-op")
    assert status == 200 and body["success"] is True and body["settledCreditChf"] == 15
    assert client.json("POST", "/api/heat/settle", settle, token="tok-op")[2]["settledCreditChf"] == 15
    overlapping = dict(settle, periodStart="2026-01-01T00:30:00Z")
    assert client.json("POST", "/api/heat/settle", overlapping, token="tok-op")[0] == 409
    assert client.json("POST", "/api/heat/settle", {"hubId": "pool"}, token="tok-op")[0] == 400
    assert client.call("GET", "/api/heat/stats?hubId=pool")[2]["stats"]["periodCount"] == 1


def test_the_api_rate_limit_answers_429_until_the_hour_turns(
    server: tuple[Client, sihlicon.Hub, Any], clock: sihlicon.ManualClock
) -> None:
    client, hub, httpd = server
    httpd.api.limiter = rest_server.RateLimiter(hub, limit=3)
    remaining = [client.call("GET", "/api/heat/stats?hubId=pool")[1]["X-RateLimit-Remaining"]
                 for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    status, headers, body = client.call("GET", "/api/heat/stats?hubId=pool")
    assert status == 429 and headers["X-RateLimit-Remaining"] == "0" and "Retry-After" in headers
    assert client.call("GET", "/api/heat/stats?hubId=pool", token="tok-bob")[0] == 200  # per user
    clock.advance(timedelta(hours=1))
    assert client.call("GET", "/api/heat/stats?hubId=pool")[0] == 200


def test_unknown_routes_and_methods(server: tuple[Client, sihlicon.Hub, Any]) -> None:
    client, _, _ = server
    status, _, body = client.call("GET", "/api/nothing")
    assert status == 404 and "error" in body
    status, _, body = client.call("DELETE", "/api/heat/stats?hubId=pool")
    assert status == 405 and body["details"]["allow"] == ["GET"]


def test_no_session_signs_in_as_the_librarys_operator_principal(hub: sihlicon.Hub) -> None:
    with pytest.raises(ValueError, match="operator principal"):
        rest_server.make_server(hub, {"tok": sihlicon.OPERATOR_PRINCIPAL}, set())


def test_every_edge_refuses_upload_metadata_and_settle_bodies_as_the_library_does(
    server: tuple[Client, sihlicon.Hub, Any], clock: sihlicon.ManualClock
) -> None:
    """The example and sihlicon.Server decode with the same core codecs (PutOptions::from_json,
    HeatPeriod::from_json): the same refusal (status, message, field) for the same body."""
    example, hub, _ = server
    tokens = sihlicon.ApiTokens(hub)
    ann = tokens.create("ann", "client").secret
    operator = tokens.create("olga", "operator").secret
    clock.advance(timedelta(hours=3))
    with sihlicon.Server(hub, "127.0.0.1", 0, threads=1) as library_server:
        library = f"http://127.0.0.1:{library_server.port}"

        def library_call(path: str, body: bytes, content_type: str, token: str) -> tuple[int, Any]:
            request = urllib.request.Request(library + path, data=body, method="POST")
            request.add_header("Authorization", f"Bearer {token}")
            request.add_header("Content-Type", content_type)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read())

        uploads = [
            b'{"minReplicas":65}',  # out of the put's range (0..64)
            b'{"minReplicas":-1}',
            b'{"storageTier":"warm"}',  # not a tier
            b'{"colour":"red"}',  # not a field
            b'{"fileName":7}',  # a wrong type
            b'{"minReplicas":1,"minReplicas":2}',  # a repeated name
        ]
        for metadata in uploads:
            body, content_type = multipart({"file": (b"bytes", "f.bin"), "metadata": (metadata, None)})
            status, _, mine = example.call("POST", "/api/storage", body, content_type=content_type)
            theirs = library_call("/api/storage", body, content_type, ann)
            assert status == 400 and theirs[0] == 400, metadata
            assert mine["error"] == theirs[1]["error"], metadata
            assert mine["details"]["field"] == theirs[1]["details"]["field"], metadata
            with pytest.raises(sihlicon.InvalidArgument) as direct:
                hub.content_store.put(b"bytes", owner="ann", **sihlicon.put_options_from_json(metadata))
            assert str(direct.value) == mine["error"]

        end = "2026-01-01T02:00:00Z"
        periods = [
            {"hubId": "pool", "periodStart": "yesterday", "periodEnd": end},
            {"hubId": "pool", "periodStart": "2026-01-01T00:00:00Z"},
            {"hubId": 7, "periodStart": "2026-01-01T00:00:00Z", "periodEnd": end},
            {"hubId": "pool", "periodStart": "2026-01-01T00:00:00Z", "periodEnd": end, "x": 1},
        ]
        for period in periods:
            body = json.dumps(period).encode()
            status, _, mine = example.call("POST", "/api/heat/settle", body, token="tok-op")
            theirs = library_call("/api/heat/settle", body, "application/json", operator)
            assert status == 400 and theirs[0] == 400, period
            assert mine["error"] == theirs[1]["error"], period
            assert mine["details"]["field"] == theirs[1]["details"]["field"], period
        parsed = sihlicon.HeatPeriod.from_json(
            '{"hubId":"pool","periodStart":"2026-01-01T00:00:00Z","periodEnd":"2026-01-01T02:00:00Z"}'
        )
        assert parsed.hub_id == "pool" and sihlicon.to_iso8601(parsed.period_end) == (
            "2026-01-01T02:00:00.000Z"
        )
