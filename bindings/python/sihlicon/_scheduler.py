# SPDX-License-Identifier: Apache-2.0
"""Scheduler: hubs, workers and the life of compute jobs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict
from typing import Any

from . import _core
from ._enums import EnergySource, GridSignal, JobStatus, WorkerStatus, name_of
from ._records import (
    ClaimedJob,
    HubRecord,
    Instant,
    JobCompletion,
    JobEvent,
    JobRecord,
    Lease,
    Placement,
    QueueStats,
    SchedulerOptions,
    WorkerRecord,
    build,
    build_all,
    to_ms,
)

JsonObject = Mapping[str, Any]
"""A JSON object given as a mapping (serialised with json.dumps) or as JSON text."""


def _json_text(value: JsonObject | str) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _optional_ms(instant: Instant | None) -> int | None:
    return None if instant is None else to_ms(instant)


class Scheduler:
    """Hubs, workers and jobs (``Hub.scheduler``). Safe to use from many threads.

    Specs are the seed's camelCase JSON objects (a mapping or JSON text), validated by the
    library: a bad field raises :class:`sihlicon.InvalidArgument` naming it
    (``"workloadConfig.resources.memory"``) and nothing is written.
    """

    def __init__(self, native: _core.Scheduler) -> None:
        self._native = native

    # ---- options ----

    def options(self) -> SchedulerOptions:
        return SchedulerOptions(**self._native.options())

    def set_options(self, options: SchedulerOptions) -> None:
        """Replaces the options (rate limit, lease duration, ...) for later calls."""
        self._native.set_options(asdict(options))

    # ---- hubs ----

    def register_hub(self, spec: JsonObject | str) -> HubRecord:
        """Registers a hub: {hubId, name, site, region, heatRecoveryPpm, powerCapacityW,
        routingPolicy?, wattsPerCore?, wattsPerGpu?, throttleMinPriority?, maxQueueDepth?}.
        Raises InvalidArgument, Conflict (the id exists)."""
        return build(HubRecord, self._native.register_hub(_json_text(spec)))

    def update_hub(self, spec: JsonObject | str) -> HubRecord:
        """Replaces a hub's spec. Raises NotFound for an unknown id."""
        return build(HubRecord, self._native.update_hub(_json_text(spec)))

    def hub(self, hub_id: str) -> HubRecord:
        return build(HubRecord, self._native.hub(hub_id))

    def hubs(self) -> list[HubRecord]:
        return build_all(HubRecord, self._native.hubs())

    def set_grid_state(
        self,
        hub_id: str,
        signal: GridSignal,
        *,
        power_budget_w: int | None = None,
        valid_until: Instant | None = None,
    ) -> HubRecord:
        """Sets the hub's grid signal (surplus, normal, throttle, curtail) and power budget."""
        return build(
            HubRecord,
            self._native.set_grid_state(
                hub_id, name_of(signal), power_budget_w, _optional_ms(valid_until)
            ),
        )

    def set_heat_demand(
        self, hub_id: str, watts: int, *, valid_until: Instant | None = None
    ) -> HubRecord:
        return build(
            HubRecord, self._native.set_heat_demand(hub_id, watts, _optional_ms(valid_until))
        )

    # ---- workers ----

    def register_worker(self, spec: JsonObject | str) -> WorkerRecord:
        """Registers (or re-registers) a worker: {workerId?, hubId, cpu, memory, gpus?,
        labels?, executors?} (executors: "native" and/or "container"; absent: ["native"]; a
        job goes only to a worker with the executor it needs). Raises NotFound (unknown hub),
        InvalidArgument (naming e.g. "executors[1]")."""
        return build(WorkerRecord, self._native.register_worker(_json_text(spec)))

    def heartbeat(
        self,
        worker_id: str,
        *,
        utilisation_ppm: int = 0,
        power_draw_w: int = 0,
        gpus: Iterable[tuple[int, int]] = (),
    ) -> WorkerRecord:
        """Records a heartbeat. ``gpus``: (utilisation ppm, VRAM in use in bytes) of the
        worker's registered GPUs, in order (stored as its ``gpu_stats``). Raises NotFound,
        InvalidArgument naming e.g. ``gpus[1].vramUsed`` (more GPUs than registered, VRAM
        above the GPU's, utilisation outside 0..1,000,000); nothing is stored then."""
        beat = {
            "utilisationPpm": utilisation_ppm,
            "powerDrawW": power_draw_w,
            "gpus": [{"utilisationPpm": ppm, "vramUsed": used} for ppm, used in gpus],
        }
        return build(WorkerRecord, self._native.heartbeat(worker_id, _json_text(beat)))

    def set_worker_status(self, worker_id: str, status: WorkerStatus) -> WorkerRecord:
        """online or draining; offline releases the worker's leases at once."""
        return build(
            WorkerRecord, self._native.set_worker_status(worker_id, name_of(status))
        )

    def worker(self, worker_id: str) -> WorkerRecord:
        return build(WorkerRecord, self._native.worker(worker_id))

    def workers(self, hub_id: str | None = None) -> list[WorkerRecord]:
        return build_all(WorkerRecord, self._native.workers(hub_id))

    # ---- jobs ----

    def submit(self, request: JsonObject | str, *, owner: str) -> JobRecord:
        """Submits the seed's ``POST /api/compute`` body for ``owner``; returns the job,
        pending or queued. Raises InvalidArgument, NotFound (unknown hub or dependency),
        QuotaExceeded (rate limit, queue depth), Conflict (idempotency key reused with
        another spec), InsufficientFunds (charging on)."""
        return build(JobRecord, self._native.submit_json(_json_text(request), owner))

    def submit_many(self, requests: Iterable[JsonObject | str], *, owner: str) -> list[JobRecord]:
        """Submits many jobs in one transaction: all are accepted or none."""
        return build_all(
            JobRecord, self._native.submit_many([_json_text(r) for r in requests], owner)
        )

    def claim(self, worker_id: str, max: int = 1) -> list[ClaimedJob]:
        """Leases up to ``max`` jobs the worker can run now (maybe none)."""
        return build_all(ClaimedJob, self._native.claim(worker_id, max))

    def renew(self, job_id: str, token: str) -> Lease:
        """Extends a lease. Raises Conflict for a stale or foreign token."""
        return build(Lease, self._native.renew(job_id, token))

    def complete(
        self,
        job_id: str,
        token: str,
        *,
        output_refs: Iterable[str] = (),
        energy_mwh: int | None = None,
        energy_source: EnergySource = EnergySource.MEASURED,
        result_hash: str | None = None,
        metrics: JsonObject | None = None,
        proof_of_execution: str | None = None,
        worker_signature: str | None = None,
    ) -> JobRecord:
        """Completes the attempt. ``energy_mwh`` None: modelled from the hub's power model.
        Raises Conflict for a stale or foreign token (nothing changes)."""
        return build(
            JobRecord,
            self._native.complete(
                job_id,
                token,
                list(output_refs),
                energy_mwh,
                name_of(energy_source),
                result_hash,
                json.dumps(dict(metrics or {}), separators=(",", ":")),
                proof_of_execution,
                worker_signature,
            ),
        )

    def complete_many(self, completions: Iterable[tuple[Lease, JobCompletion]]) -> list[JobRecord]:
        """Completes many attempts in one transaction: all or none."""
        return build_all(
            JobRecord,
            self._native.complete_many(
                [done._native(lease.job_id, lease.token) for lease, done in completions]
            ),
        )

    def fail(self, job_id: str, token: str, error: str, *, retryable: bool = True) -> JobRecord:
        """Fails the attempt: retried after back-off while attempts remain and retryable."""
        return build(JobRecord, self._native.fail(job_id, token, error, retryable))

    def cancel(self, job_id: str, *, by: str, reason: str = "") -> JobRecord:
        """Cancels a job that has not ended. Raises Conflict (already ended), NotFound."""
        return build(JobRecord, self._native.cancel(job_id, by, reason))

    def requeue(self, job_id: str, *, by: str, reason: str = "") -> JobRecord:
        """Puts a running or failed job back in the queue with a fresh attempt budget."""
        return build(JobRecord, self._native.requeue(job_id, by, reason))

    def tick(self) -> int:
        """Expires leases and silent workers, promotes due jobs. Returns jobs changed."""
        return self._native.tick()

    # ---- queries ----

    def job(self, job_id: str) -> JobRecord:
        return build(JobRecord, self._native.job(job_id))

    def jobs(
        self,
        *,
        hub_id: str | None = None,
        status: JobStatus | None = None,
        owner: str | None = None,
        limit: int = 50,
        after: str = "",
        worker_id: str | None = None,
        dead_letter: bool | None = None,
    ) -> list[JobRecord]:
        """One page of at most ``limit`` jobs, continuing after the job whose id is ``after``.

        Jobs come in id order (submission order), except queued jobs listed by status, which
        come in the order claims take them (highest aged priority first, then oldest).
        ``hub_id``: jobs preferring or pinned to that hub, and jobs run on it (each once);
        ``worker_id``: jobs whose running or last attempt was leased to that worker;
        ``dead_letter``: only dead-lettered jobs (True) or only the others (False).
        """
        return build_all(
            JobRecord,
            self._native.jobs(
                hub_id,
                None if status is None else name_of(status),
                owner,
                limit,
                after,
                worker_id,
                dead_letter,
            ),
        )

    def iter_jobs(
        self,
        *,
        hub_id: str | None = None,
        status: JobStatus | None = None,
        owner: str | None = None,
        page_size: int = 200,
    ) -> Iterator[JobRecord]:
        """Every matching job, fetched page by page (each page one read transaction)."""
        after = ""
        while True:
            page = self.jobs(
                hub_id=hub_id, status=status, owner=owner, limit=page_size, after=after
            )
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].id

    def events(self, job_id: str) -> list[JobEvent]:
        """The job's state changes, oldest first."""
        return build_all(JobEvent, self._native.events(job_id))

    def queue_stats(self, hub_id: str) -> QueueStats:
        return build(QueueStats, self._native.queue_stats(hub_id))

    def explain(self, job_id: str) -> list[Placement]:
        """Whether the job could be placed on each hub and worker now, and why not."""
        return build_all(Placement, self._native.explain(job_id))

    # ---- events ----

    def subscribe(self, listener: Callable[[JobEvent], object]) -> int:
        """Calls ``listener`` after every committed state change made through this hub
        object, on the thread that made it. Returns an id for :meth:`unsubscribe`. An
        exception from the listener is reported as unraisable and does not stop the change."""

        def forward(event: dict[str, Any]) -> None:
            listener(build(JobEvent, event))

        return self._native.subscribe(forward)

    def unsubscribe(self, subscription: int) -> None:
        """Stops the listener; unknown ids are ignored. Listeners end with the hub too."""
        self._native.unsubscribe(subscription)
