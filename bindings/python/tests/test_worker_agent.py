# SPDX-License-Identifier: Apache-2.0
"""The worker agent from Python: the library's process executor, a Python executor, failures
of a Python executor, and a hub closed under a running agent."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import pytest

import sihlicon
from conftest import hub_spec, job_request


def native_request(name: str, *command: str, **extra: object) -> dict[str, object]:
    request = job_request(name, **extra)
    request["workloadConfig"] = {
        "containerImage": sihlicon.NATIVE_IMAGE,
        "command": list(command),
        "resources": {"cpu": "1", "memory": "256Mi"},
        "timeoutSeconds": 10,
    }
    return request


def wait_final(hub: sihlicon.Hub, job_id: str, seconds: float = 60.0) -> sihlicon.JobRecord:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = hub.scheduler.job(job_id)
        if job.status in (sihlicon.JobStatus.COMPLETED, sihlicon.JobStatus.FAILED):
            return job
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} did not finish")


def agent(hub: sihlicon.Hub, tmp_path: Path, **options: object) -> sihlicon.WorkerAgent:
    return sihlicon.WorkerAgent(
        hub,
        worker_id="bee-py",
        hub_id="pool",
        slots=2,
        work_root=tmp_path / "work",
        poll_interval=10,
        heartbeat_interval=50,
        renew_interval=50,
        **options,  # type: ignore[arg-type]
    )


def test_the_process_executor_runs_a_native_command_and_ingests_its_output(
    hub: sihlicon.Hub, tmp_path: Path
) -> None:
    hub.scheduler.register_hub(hub_spec())
    job = hub.scheduler.submit(
        native_request("hello", "sh", "-c", 'printf "hello world\\n" > "$SIHLICON_OUTPUT_DIR/a"'),
        owner="alice",
    )
    events: list[str] = []
    with agent(hub, tmp_path, on_event=events.append) as running:
        done = wait_final(hub, job.id)
        # The agent counts the completion just after the hub has stored it.
        deadline = time.monotonic() + 10
        while running.status().completed != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert running.status().completed == 1, done.error_message
    assert done.status == sihlicon.JobStatus.COMPLETED, done.error_message
    assert done.output_refs == ["bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"]
    assert any("completed" in line for line in events)
    assert hub.scheduler.worker("bee-py").status == sihlicon.WorkerStatus.OFFLINE


def test_a_python_executor_runs_each_attempt_and_its_files_become_outputs(
    hub: sihlicon.Hub, tmp_path: Path
) -> None:
    hub.scheduler.register_hub(hub_spec())
    job = hub.scheduler.submit(job_request("python"), owner="alice")
    seen: list[sihlicon.ExecutionRequest] = []

    def execute(
        request: sihlicon.ExecutionRequest, stopped: Callable[[], bool]
    ) -> sihlicon.ExecutionResult:
        seen.append(request)
        assert not stopped()
        Path(request.output_dir, "result.txt").write_text("hello world")
        return sihlicon.ExecutionResult(sihlicon.ExecutionOutcome.SUCCEEDED, exit_code=0)

    with agent(hub, tmp_path, executor=execute):
        done = wait_final(hub, job.id)
    assert done.status == sihlicon.JobStatus.COMPLETED
    assert [request.job.id for request in seen] == [job.id]
    assert seen[0].attempt == 1
    assert done.output_refs == ["bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"]


def test_a_python_executor_that_raises_fails_the_attempt_with_its_message(
    hub: sihlicon.Hub, tmp_path: Path
) -> None:
    hub.scheduler.register_hub(hub_spec())
    job = hub.scheduler.submit(job_request("broken"), owner="alice")

    def execute(
        request: sihlicon.ExecutionRequest, stopped: Callable[[], bool]
    ) -> sihlicon.ExecutionResult:
        raise RuntimeError("the GPU caught fire")

    with agent(hub, tmp_path, executor=execute):
        done = wait_final(hub, job.id)
    assert done.status == sihlicon.JobStatus.FAILED  # maxAttempts 1: dead-lettered
    assert done.error_message is not None and "the GPU caught fire" in done.error_message


def test_closing_the_hub_stops_its_running_agent(tmp_path: Path, clock: sihlicon.ManualClock) -> None:
    from conftest import open_hub

    hub = open_hub(tmp_path / "hub", clock)
    hub.scheduler.register_hub(hub_spec())
    running = agent(hub, tmp_path)
    running.start()
    assert running.running
    hub.close()
    assert not running.running
    assert hub.closed


def test_closing_the_hub_stops_its_running_server_and_agent_once_each(
    tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    from conftest import open_hub

    hub = open_hub(tmp_path / "hub", clock)
    hub.scheduler.register_hub(hub_spec())
    server = sihlicon.Server(hub, "127.0.0.1", 0, threads=1)
    server.start()
    running = agent(hub, tmp_path)
    running.start()
    stops: list[str] = []
    for name, thing in (("server", server), ("agent", running)):
        original = thing.stop

        def counted(*args: object, _name: str = name, _stop: object = original) -> None:
            stops.append(_name)
            _stop(*args)  # type: ignore[operator]

        thing.stop = counted  # type: ignore[method-assign]
    assert server.running and running.running
    hub.close()
    assert not server.running and not running.running
    assert sorted(stops) == ["agent", "server"]  # one registry, each stopped once
    hub.close()  # closing again stops nothing twice
    assert sorted(stops) == ["agent", "server"]


def test_a_native_job_runs_sandboxed_and_cannot_read_the_operator_key(
    hub: sihlicon.Hub, tmp_path: Path
) -> None:
    hub.scheduler.register_hub(hub_spec())
    request = native_request("steal", "sh", "-c", 'cat "$HUB/operator.key"', maxAttempts=1)
    request["workloadConfig"]["env"] = {"HUB": hub.directory}  # type: ignore[index]
    job = hub.scheduler.submit(request, owner="alice")
    with agent(hub, tmp_path):
        done = wait_final(hub, job.id)
    assert done.status == sihlicon.JobStatus.FAILED
    assert done.error_message is not None and "No such file or directory" in done.error_message


def test_a_job_env_that_sets_ld_preload_is_refused(hub: sihlicon.Hub) -> None:
    hub.scheduler.register_hub(hub_spec())
    request = native_request("preload", "true")
    request["workloadConfig"]["env"] = {"LD_PRELOAD": "/tmp/x.so"}  # type: ignore[index]
    with pytest.raises(sihlicon.InvalidArgument, match="LD_PRELOAD"):
        hub.scheduler.submit(request, owner="alice")


def test_native_jobs_off_get_no_native_job_and_off_the_allow_list_fail_with_the_reason(
    hub: sihlicon.Hub, tmp_path: Path
) -> None:
    hub.scheduler.register_hub(hub_spec())
    job = hub.scheduler.submit(native_request("off", "true", maxAttempts=3), owner="alice")
    # Native jobs off: the agent registers no native executor and is handed no native job
    # (it used to be handed it and fail it); the job waits queued.
    with agent(hub, tmp_path, native_jobs=False) as running:
        time.sleep(0.3)
        running.wait_idle(5000)
        assert hub.scheduler.worker("bee-py").executors == []
    waiting = hub.scheduler.job(job.id)
    assert waiting.status == sihlicon.JobStatus.QUEUED and waiting.attempts == 0
    hub.scheduler.cancel(job.id, by="alice")

    shell = hub.scheduler.submit(native_request("shell", "sh", "-c", "true"), owner="alice")
    allowed = hub.scheduler.submit(native_request("allowed", "true"), owner="alice")
    with agent(hub, tmp_path, allowed_commands=["true"]):
        refused = wait_final(hub, shell.id)
        assert wait_final(hub, allowed.id).status == sihlicon.JobStatus.COMPLETED
    assert refused.status == sihlicon.JobStatus.FAILED
    assert refused.error_message is not None
    assert "'sh' is not a program worker bee-py allows (allowed: true)" in refused.error_message
    with pytest.raises(sihlicon.InvalidArgument, match="allowed_commands"):
        agent(hub, tmp_path, allowed_commands=["no-such-program-anywhere"]).start()


def test_without_bwrap_native_jobs_are_refused_unless_the_operator_opts_out(
    hub: sihlicon.Hub, tmp_path: Path
) -> None:
    hub.scheduler.register_hub(hub_spec())
    job = hub.scheduler.submit(native_request("nobwrap", "true"), owner="alice")
    with agent(hub, tmp_path, bwrap_program=tmp_path / "no-bwrap"):
        done = wait_final(hub, job.id)
    assert done.status == sihlicon.JobStatus.FAILED
    assert done.error_message is not None and "cannot make one" in done.error_message
    events: list[str] = []
    job = hub.scheduler.submit(native_request("trusted", "true"), owner="alice")
    with agent(
        hub,
        tmp_path,
        bwrap_program=tmp_path / "no-bwrap",
        unsandboxed_native=True,
        on_event=events.append,
    ):
        assert wait_final(hub, job.id).status == sihlicon.JobStatus.COMPLETED
    assert any("UNSANDBOXED" in line for line in events)


def test_a_work_root_inside_the_hub_folder_is_refused(hub: sihlicon.Hub, tmp_path: Path) -> None:
    hub.scheduler.register_hub(hub_spec())
    inside = sihlicon.WorkerAgent(
        hub, worker_id="bee-py", hub_id="pool", work_root=Path(hub.directory) / "agent"
    )
    with pytest.raises(sihlicon.InvalidArgument, match="work_root"):
        inside.start()


def test_an_agent_with_a_worker_key_signs_its_work_for_a_hub_requiring_signatures(
    tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    from conftest import open_hub

    key = pytest.importorskip("eth_account").Account.create()
    digits = key.key.hex().removeprefix("0x")
    settlement = sihlicon.SettlementOptions(require_worker_signatures=True)

    def execute(
        request: sihlicon.ExecutionRequest, stopped: Callable[[], bool]
    ) -> sihlicon.ExecutionResult:
        Path(request.output_dir, "result.txt").write_text("hello world")
        return sihlicon.ExecutionResult(sihlicon.ExecutionOutcome.SUCCEEDED, exit_code=0)

    with open_hub(tmp_path / "h", clock, settlement=settlement) as hub:
        hub.scheduler.register_hub(hub_spec())
        with pytest.raises(sihlicon.InvalidArgument) as refused:
            agent(hub, tmp_path, worker_key="zz" + digits[2:])
        assert refused.value.field == "worker_key"
        assert digits[2:18] not in str(refused.value)
        with pytest.raises(sihlicon.InvalidArgument) as refused:
            agent(hub, tmp_path, worker_key=b"\x01" * 31)
        assert refused.value.field == "worker_key"

        for name, worker_key in (("hex", digits), ("bytes", bytes(key.key))):
            job = hub.scheduler.submit(job_request(name), owner="alice")
            with agent(hub, tmp_path, executor=execute, worker_key=worker_key):
                # The worker's address, as eth-account derives it from the same key.
                assert hub.scheduler.worker("bee-py").labels["address"] == key.address
                done = wait_final(hub, job.id)
            # Completed on a hub that checks each completion's EIP-191 signature of the proof.
            assert done.status == sihlicon.JobStatus.COMPLETED, (name, done.error_message)

        unsigned = hub.scheduler.submit(job_request("unsigned", maxAttempts=1), owner="alice")
        with agent(hub, tmp_path, executor=execute):
            done = wait_final(hub, unsigned.id)
        assert done.status == sihlicon.JobStatus.FAILED
