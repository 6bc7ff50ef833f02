# SPDX-License-Identifier: Apache-2.0
"""Fixtures: a hub in a temporary directory on a manual clock, with a site and a worker."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import sihlicon

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def hub_spec(hub_id: str = "pool", **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "hubId": hub_id,
        "name": f"Hub {hub_id}",
        "site": f"site-{hub_id}",
        "region": "CH",
        "heatRecoveryPpm": 900_000,
        "powerCapacityW": 1_000_000,
    }
    spec.update(extra)
    return spec


def job_request(name: str = "job", **extra: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "jobType": "ocr",
        "jobName": name,
        "workloadConfig": {
            "containerImage": "tesseract/tesseract:latest",
            "resources": {"cpu": "1", "memory": "1Gi"},
        },
        "maxAttempts": 1,
    }
    request.update(extra)
    return request


@pytest.fixture
def clock() -> sihlicon.ManualClock:
    return sihlicon.ManualClock(START)


def open_hub(path: Path, clock: sihlicon.ManualClock, **options: Any) -> sihlicon.Hub:
    options.setdefault("scheduler", sihlicon.SchedulerOptions(submissions_per_hour=0))
    return sihlicon.Hub(
        path, clock=clock, durability=sihlicon.Durability.PROCESS_CRASH, **options
    )


@pytest.fixture
def hub(tmp_path: Path, clock: sihlicon.ManualClock) -> Iterator[sihlicon.Hub]:
    with open_hub(tmp_path / "hub", clock) as opened:
        yield opened


@pytest.fixture
def site(hub: sihlicon.Hub) -> sihlicon.Hub:
    """The hub with a site "pool" and a worker "bee-01" (64 cores, 256 GiB)."""
    hub.scheduler.register_hub(hub_spec())
    hub.scheduler.register_worker(
        {"workerId": "bee-01", "hubId": "pool",
             "executors": ["native", "container"], "cpu": "64", "memory": "256Gi"}
    )
    return hub


def run_job(hub: sihlicon.Hub, owner: str = "alice", worker: str = "bee-01",
            energy_mwh: int = 1_000, **completion: Any) -> sihlicon.JobRecord:
    """Submits, claims and completes one job; returns the completed record."""
    job = hub.scheduler.submit(job_request(), owner=owner)
    claimed = hub.scheduler.claim(worker)
    assert len(claimed) == 1 and claimed[0].job.id == job.id
    completion.setdefault("result_hash", f"r-{job.id}")
    return hub.scheduler.complete(
        job.id, claimed[0].lease.token, energy_mwh=energy_mwh, **completion
    )
