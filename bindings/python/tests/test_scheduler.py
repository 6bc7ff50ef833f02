# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest

import sihlicon
from conftest import START, hub_spec, job_request, run_job
from sihlicon import GridSignal, JobStatus, WorkerStatus


def test_hubs_are_registered_updated_listed_and_given_grid_and_heat_state(
    hub: sihlicon.Hub,
) -> None:
    s = hub.scheduler
    record = s.register_hub(hub_spec(routingPolicy="bin-packing"))
    assert record.id == "pool" and record.routing_policy is sihlicon.RoutingPolicy.BIN_PACKING
    assert record.created_at == START and record.grid_signal is GridSignal.NORMAL
    assert json.loads(record.to_json())["hubId"] == "pool"
    s.register_hub(json.dumps(hub_spec("lake")))  # JSON text works as well as a mapping
    assert [h.id for h in s.hubs()] == ["lake", "pool"]
    assert s.update_hub(hub_spec(name="Renamed")).name == "Renamed"
    assert s.hub("pool").name == "Renamed"
    until = START + timedelta(hours=1)
    state = s.set_grid_state("pool", GridSignal.THROTTLE, power_budget_w=500, valid_until=until)
    assert state.grid_signal is GridSignal.THROTTLE
    assert state.grid_power_budget_w == 500 and state.grid_valid_until == until
    demand = s.set_heat_demand("pool", 4_000, valid_until=until)
    assert demand.heat_demand_w == 4_000 and demand.heat_demand_valid_until == until
    with pytest.raises(sihlicon.Conflict):
        s.register_hub(hub_spec())
    with pytest.raises(sihlicon.NotFound):
        s.update_hub(hub_spec("absent"))


def test_workers_register_beat_drain_and_list(hub: sihlicon.Hub, clock: sihlicon.ManualClock) -> None:
    s = hub.scheduler
    s.register_hub(hub_spec())
    worker = s.register_worker(
        {
            "workerId": "gpu-01",
            "hubId": "pool",
            "cpu": "8",
            "memory": "32Gi",
            "gpus": [{"model": "A100", "vram": "80Gi"}],
            "labels": {"zone": "a"},
        }
    )
    assert worker.cpu_millicores == 8_000 and worker.memory_bytes == 32 << 30
    assert worker.gpus == [("A100", 80 << 30)] and worker.labels == {"zone": "a"}
    assert worker.executors == ["native"]  # no executors field: native jobs only
    assert worker.status is WorkerStatus.ONLINE
    clock.advance(1_000)
    beat = s.heartbeat("gpu-01", utilisation_ppm=500_000, power_draw_w=300)
    assert beat.utilisation_ppm == 500_000 and beat.power_draw_w == 300
    assert beat.last_heartbeat_at == START + timedelta(seconds=1)
    assert s.set_worker_status("gpu-01", WorkerStatus.DRAINING).status is WorkerStatus.DRAINING
    assert s.worker("gpu-01").status is WorkerStatus.DRAINING
    assert [w.id for w in s.workers()] == ["gpu-01"]
    assert [w.id for w in s.workers("pool")] == ["gpu-01"]
    assert s.workers("other") == []
    with pytest.raises(sihlicon.NotFound):
        s.register_worker({"hubId": "absent", "cpu": "1", "memory": "1Gi"})


def test_heartbeats_carry_gpu_stats_checked_against_the_registered_gpus(
    site: sihlicon.Hub,
) -> None:
    s = site.scheduler
    s.register_worker(
        {"workerId": "gpu-01", "hubId": "pool", "cpu": "8", "gpus": [{"model": "L4", "vram": "1Gi"}]}
    )
    beat = s.heartbeat("gpu-01", utilisation_ppm=5, gpus=[(750_000, 1 << 30)])
    assert beat.gpu_stats == [(750_000, 1 << 30)]
    listed = {w.id: w.gpu_stats for w in s.workers("pool")}
    assert listed == {"bee-01": [], "gpu-01": [(750_000, 1 << 30)]}
    with pytest.raises(sihlicon.InvalidArgument) as refused:
        s.heartbeat("gpu-01", gpus=[(0, (1 << 30) + 1)])
    assert refused.value.field == "gpus[0].vramUsed" and "1073741825" in str(refused.value)
    with pytest.raises(sihlicon.InvalidArgument) as refused:
        s.heartbeat("gpu-01", gpus=[(0, 0), (0, 0)])
    assert refused.value.field == "gpus"
    assert s.worker("gpu-01").gpu_stats == [(750_000, 1 << 30)]  # nothing stored
    assert s.heartbeat("gpu-01").gpu_stats == []


def test_a_job_runs_from_submission_to_completion(site: sihlicon.Hub) -> None:
    s = site.scheduler
    job = s.submit(job_request("page", priority=5, inputDataRefs=[]), owner="alice")
    assert job.status is JobStatus.QUEUED and job.owner == "alice" and job.priority == 5
    assert job.type is sihlicon.JobType.OCR and job.cpu_millicores == 1_000
    claimed = s.claim("bee-01", max=4)
    assert len(claimed) == 1
    lease = claimed[0].lease
    assert lease.job_id == job.id and lease.worker_id == "bee-01" and lease.attempt == 1
    assert "token" not in repr(lease)  # the lease token is a secret
    assert claimed[0].job.status is JobStatus.RUNNING
    renewed = s.renew(job.id, lease.token)
    assert renewed.expires_at >= lease.expires_at
    done = s.complete(
        job.id,
        lease.token,
        output_refs=["bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"],
        energy_mwh=2_000_000,
        result_hash="abc",
        metrics={"pages": 1},
    )
    assert done.status is JobStatus.COMPLETED and done.status.final
    assert done.actual_energy_mwh == 2_000_000 and done.heat_generated_mwh == 1_800_000
    assert done.energy_source is sihlicon.EnergySource.MEASURED
    seed = json.loads(done.to_json())
    assert seed["jobId"] == job.id and seed["status"] == "completed"
    with pytest.raises(sihlicon.Conflict):
        s.complete(job.id, "stale-token")
    statuses = [(e.from_status, e.to_status) for e in s.events(job.id)]
    assert statuses[-1] == (JobStatus.RUNNING, JobStatus.COMPLETED)


def test_a_completion_without_energy_is_modelled(site: sihlicon.Hub, clock: sihlicon.ManualClock) -> None:
    s = site.scheduler
    job = s.submit(job_request(), owner="alice")
    lease = s.claim("bee-01")[0].lease
    clock.advance(timedelta(hours=1))
    done = s.complete(job.id, lease.token)
    assert done.energy_source is sihlicon.EnergySource.MODELLED
    assert done.actual_energy_mwh == 10_000  # 10 W per core for one hour


def test_failure_retry_cancel_and_requeue(site: sihlicon.Hub, clock: sihlicon.ManualClock) -> None:
    s = site.scheduler
    job = s.submit(job_request(maxAttempts=2, backoffMs=1000), owner="alice")
    lease = s.claim("bee-01")[0].lease
    failed = s.fail(job.id, lease.token, "out of memory")
    assert failed.status is JobStatus.PENDING and failed.wait_reason == "backoff"
    clock.advance(timedelta(seconds=2))
    assert s.tick() >= 1
    lease = s.claim("bee-01")[0].lease
    final = s.fail(job.id, lease.token, "again", retryable=False)
    assert final.status is JobStatus.FAILED and final.error_message == "again"
    requeued = s.requeue(job.id, by="operator", reason="fixed")
    assert requeued.status is JobStatus.QUEUED
    cancelled = s.cancel(job.id, by="alice", reason="no longer needed")
    assert cancelled.status is JobStatus.CANCELLED
    with pytest.raises(sihlicon.Conflict):
        s.cancel(job.id, by="alice")


def test_an_expired_lease_is_taken_back_by_tick(site: sihlicon.Hub, clock: sihlicon.ManualClock) -> None:
    s = site.scheduler
    job = s.submit(job_request(maxAttempts=3), owner="alice")
    s.claim("bee-01")
    clock.advance(timedelta(minutes=5))
    s.tick()
    assert s.job(job.id).status is not JobStatus.RUNNING


def test_idempotent_submission_and_batches(site: sihlicon.Hub) -> None:
    s = site.scheduler
    first = s.submit(job_request(idempotencyKey="k1"), owner="alice")
    assert s.submit(job_request(idempotencyKey="k1"), owner="alice").id == first.id
    with pytest.raises(sihlicon.Conflict):
        s.submit(job_request("other", idempotencyKey="k1"), owner="alice")
    batch = s.submit_many([job_request(f"b{i}") for i in range(3)], owner="bob")
    assert [j.name for j in batch] == ["b0", "b1", "b2"]
    with pytest.raises(sihlicon.InvalidArgument):
        s.submit_many([job_request("ok"), {"jobType": "nope"}], owner="bob")
    assert len(s.jobs(owner="bob")) == 3  # all or none


def test_listing_pages_and_iterates(site: sihlicon.Hub) -> None:
    s = site.scheduler
    ids = [s.submit(job_request(f"j{i}"), owner="carol").id for i in range(7)]
    page = s.jobs(owner="carol", limit=3)
    assert [j.id for j in page] == ids[:3]
    assert [j.id for j in s.jobs(owner="carol", limit=3, after=page[-1].id)] == ids[3:6]
    assert [j.id for j in s.iter_jobs(owner="carol", page_size=2)] == ids
    assert len(list(s.iter_jobs(hub_id="pool", status=JobStatus.QUEUED, page_size=3))) == 0
    assert len(s.jobs(status=JobStatus.QUEUED, limit=1000)) == 7
    s.submit(job_request("pinned", hubId="pool"), owner="carol")
    stats = s.queue_stats("pool")
    assert stats.hub_id == "pool" and stats.by_status[JobStatus.QUEUED] == 1
    assert stats.oldest_waiting is not None


def test_explain_says_why_a_job_cannot_run(site: sihlicon.Hub) -> None:
    s = site.scheduler
    job = s.submit(
        job_request(workloadConfig={"containerImage": "x", "resources": {"cpu": "128"}}),
        owner="alice",
    )
    lines = s.explain(job.id)
    assert any(line.worker_id == "bee-01" and not line.eligible and line.reasons for line in lines)


def test_explain_gives_the_heat_a_job_is_expected_to_give_each_hub(site: sihlicon.Hub) -> None:
    s = site.scheduler
    job = s.submit(job_request(estimatedComputeKwh=2), owner="alice")
    assert job.estimated_energy_mwh == 2_000_000
    assert json.loads(job.raw_json)["estimatedComputeKwh"] == 2
    # the hub recovers 900,000 ppm of the electricity as heat
    assert {line.expected_heat_mwh for line in s.explain(job.id)} == {1_800_000}
    with pytest.raises(sihlicon.InvalidArgument, match="estimatedComputeKwh"):
        s.submit(job_request(estimatedComputeKwh=100_001), owner="alice")


def test_inputs_written_as_ipfs_urls_or_cidv0_are_stored_as_cidv1(site: sihlicon.Hub) -> None:
    v0 = "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR"
    v1 = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
    job = site.scheduler.submit(job_request(inputDataRefs=[f"ipfs://{v0}", v0]), owner="alice")
    assert job.input_refs == [v1, v1]
    with pytest.raises(sihlicon.InvalidArgument, match="ipfs://nope"):
        site.scheduler.submit(job_request(inputDataRefs=["ipfs://nope"]), owner="alice")


def test_jobs_list_by_the_worker_that_ran_them_and_by_dead_letter(site: sihlicon.Hub) -> None:
    s = site.scheduler
    dead = s.submit(job_request(), owner="alice")  # maxAttempts 1
    lease = s.claim("bee-01")[0].lease
    assert s.fail(dead.id, lease.token, "boom").dead_letter
    waiting = s.submit(job_request(), owner="alice")
    assert [j.id for j in s.jobs(worker_id="bee-01")] == [dead.id]
    assert [j.id for j in s.jobs(dead_letter=True)] == [dead.id]
    assert [j.id for j in s.jobs(dead_letter=False)] == [waiting.id]


def test_listeners_see_every_change_until_unsubscribed(site: sihlicon.Hub) -> None:
    s = site.scheduler
    seen: list[sihlicon.JobEvent] = []
    subscription = s.subscribe(seen.append)
    job = s.submit(job_request(), owner="alice")
    lease = s.claim("bee-01")[0].lease
    s.complete(job.id, lease.token, energy_mwh=1)
    assert [e.to_status for e in seen if e.job_id == job.id][-1] is JobStatus.COMPLETED
    assert all(isinstance(e, sihlicon.JobEvent) for e in seen)
    s.unsubscribe(subscription)
    count = len(seen)
    s.submit(job_request(), owner="alice")
    assert len(seen) == count


def test_a_raising_listener_does_not_stop_the_change(
    site: sihlicon.Hub, recwarn: pytest.WarningsRecorder
) -> None:
    def boom(event: sihlicon.JobEvent) -> None:
        raise RuntimeError("listener failed")

    site.scheduler.subscribe(boom)
    job = site.scheduler.submit(job_request(), owner="alice")
    assert site.scheduler.job(job.id).status is JobStatus.QUEUED


def test_options_are_read_and_replaced(hub: sihlicon.Hub) -> None:
    options = hub.scheduler.options()
    assert options.submissions_per_hour == 0
    hub.scheduler.set_options(dataclasses.replace(options, lease_duration_ms=120_000))
    assert hub.scheduler.options().lease_duration_ms == 120_000
    # The rate limit is a hub setting: not a process option.
    with pytest.raises(sihlicon.InvalidArgument) as refused:
        hub.scheduler.set_options(dataclasses.replace(options, submissions_per_hour=2))
    assert refused.value.field == "submissions_per_hour"
    hub.set_setting("submissionsPerHour", "2")
    assert hub.scheduler.options().submissions_per_hour == 2


def test_the_seed_rate_limit_is_quota_exceeded(site: sihlicon.Hub) -> None:
    site.set_setting("submissionsPerHour", "1")
    site.scheduler.submit(job_request(), owner="dave")
    with pytest.raises(sihlicon.QuotaExceeded):
        site.scheduler.submit(job_request(), owner="dave")


def test_completed_jobs_are_the_runner_helpers(site: sihlicon.Hub) -> None:
    assert run_job(site).status is JobStatus.COMPLETED


def test_many_completions_commit_together_or_not_at_all(site: sihlicon.Hub) -> None:
    s = site.scheduler
    jobs = s.submit_many([job_request(f"m{i}") for i in range(3)], owner="alice")
    claimed = s.claim("bee-01", max=3)
    assert len(claimed) == 3
    stale = [(claimed[0].lease, sihlicon.JobCompletion(energy_mwh=1)),
             (sihlicon.Lease(claimed[1].job.id, "bee-01", "wrong-token", START, 1),
              sihlicon.JobCompletion(energy_mwh=1))]
    with pytest.raises(sihlicon.Conflict):
        s.complete_many(stale)
    assert all(s.job(j.id).status is JobStatus.RUNNING for j in jobs)
    done = s.complete_many(
        (item.lease, sihlicon.JobCompletion(output_refs=[], energy_mwh=1_000, result_hash="r",
                                            metrics={"n": 1}))
        for item in claimed
    )
    assert sorted(j.id for j in done) == sorted(j.id for j in jobs)
    assert all(j.status is JobStatus.COMPLETED and j.actual_energy_mwh == 1_000 for j in done)


def test_submit_refuses_a_job_spec_over_one_mib_naming_job_spec(hub: sihlicon.Hub) -> None:
    s = hub.scheduler
    text = json.dumps(job_request())
    padded = text + " " * (1 << 20)
    for request in (padded, job_request(jobName="x" * (1 << 20))):
        with pytest.raises(sihlicon.InvalidArgument) as refused:
            s.submit(request, owner="ann")
        assert refused.value.field == "jobSpec"
    with pytest.raises(sihlicon.InvalidArgument):
        s.submit_many([job_request(), padded], owner="ann")
    assert s.jobs() == []
    fits = text + " " * ((1 << 20) - len(text))
    assert s.submit(fits, owner="ann").owner == "ann"


def test_a_worker_registers_its_executors_and_gets_only_jobs_it_can_run(
    hub: sihlicon.Hub,
) -> None:
    s = hub.scheduler
    s.register_hub(hub_spec())
    plain = s.register_worker({"workerId": "plain", "hubId": "pool", "cpu": "8", "memory": "8Gi"})
    assert plain.executors == ["native"]
    job = s.submit(job_request(), owner="alice")  # a container image
    assert s.claim("plain", 10) == []
    assert any("worker has no container runtime" in reason
               for line in s.explain(job.id) for reason in line.reasons)
    docker = s.register_worker(
        {"workerId": "docker", "hubId": "pool", "cpu": "8", "memory": "8Gi",
         "executors": ["native", "container"]}
    )
    assert docker.executors == ["native", "container"]
    assert '"executors":["native","container"]' in docker.to_json()
    assert [c.job.id for c in s.claim("docker", 10)] == [job.id]
    with pytest.raises(sihlicon.InvalidArgument) as refused:
        s.register_worker({"hubId": "pool", "cpu": "1", "executors": ["native", "vm"]})
    assert refused.value.field == "executors[1]"


def test_hub_id_prefers_a_hub_for_a_window_and_pin_hub_pins(
    site: sihlicon.Hub, clock: sihlicon.ManualClock
) -> None:
    s = site.scheduler
    s.register_hub(hub_spec("lake"))  # no worker
    preferred = s.submit(job_request("preferred", hubId="lake"), owner="alice")
    pinned = s.submit(job_request("pinned", constraints={"pinHub": "lake"}), owner="alice")
    assert preferred.hub_id == "lake" and preferred.pin_hub is None
    assert preferred.prefer_until == START + timedelta(seconds=60)
    assert pinned.hub_id == "lake" and pinned.pin_hub == "lake" and pinned.prefer_until is None
    assert s.claim("bee-01", 10) == []
    clock.advance(timedelta(seconds=60))
    claimed = s.claim("bee-01", 10)
    assert [c.job.id for c in claimed] == [preferred.id]  # the pinned job never leaves lake
    ran = s.job(preferred.id)
    assert ran.run_hub_id == "pool" and ran.worker_id == "bee-01"
    assert json.loads(ran.raw_json)["runHubId"] == "pool"
    # Listed under the hub it prefers and the hub that runs it.
    assert [j.id for j in s.jobs(hub_id="lake")] == [preferred.id, pinned.id]
    assert [j.id for j in s.jobs(hub_id="pool")] == [preferred.id]
    with pytest.raises(sihlicon.InvalidArgument, match="constraints.pinHub"):
        s.submit(job_request(hubId="pool", constraints={"pinHub": "lake"}), owner="alice")
    with pytest.raises(sihlicon.NotFound):
        s.submit(job_request(constraints={"pinHub": "nowhere"}), owner="alice")
