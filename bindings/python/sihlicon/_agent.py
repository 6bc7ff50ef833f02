# SPDX-License-Identifier: Apache-2.0
"""The worker agent: claims jobs for one worker of the hub, runs them, measures them and reports
them (the C++ ``sihlicon::WorkerAgent``). Jobs run as child processes by default (image
``"native"``; a container runtime for other images), or through an executor written in Python.
"""

from __future__ import annotations

import dataclasses
import enum
import os
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Sequence

from . import _core, _lifetime
from ._records import JobRecord, WorkerRecord, build, duration_ms

if TYPE_CHECKING:
    from ._hub import Hub

NATIVE_IMAGE = "native"
"""The ``containerImage`` of a job that runs as a plain process on the worker."""


class ExecutionOutcome(str, enum.Enum):
    SUCCEEDED = "succeeded"  # exit status 0
    FAILED = "failed"  # retried while attempts remain
    TIMED_OUT = "timed_out"  # retried
    CANCELLED = "cancelled"  # stopped by a drain or a lost lease
    REFUSED = "refused"  # could not start: not retried


@dataclasses.dataclass(frozen=True)
class ExecutionRequest:
    """One attempt of a job, as an executor receives it. Inputs are already fetched into
    ``input_dir`` (in ``inputDataRefs`` order in ``inputs``); files written into ``output_dir``
    become the job's output CIDs; ``stdout_file`` and ``stderr_file`` are stored too."""

    job: JobRecord
    attempt: int
    work_dir: str
    input_dir: str
    output_dir: str
    inputs: list[str]
    stdout_file: str
    stderr_file: str


@dataclasses.dataclass(frozen=True)
class ExecutionResult:
    outcome: ExecutionOutcome
    exit_code: int | None = None
    message: str = ""


Executor = Callable[[ExecutionRequest, Callable[[], bool]], ExecutionResult]
"""``executor(request, stopped)``: runs the attempt and returns how it ended; ``stopped()`` turns
true when the agent drains or loses the lease, and the executor should then give up. It is
called on the agent's threads (one per slot) with the GIL held. An exception fails the attempt
(retried) with its text as the reason."""


@dataclasses.dataclass(frozen=True)
class AgentStatus:
    state: str  # "idle", "running", "draining", "stopped"
    worker_id: str
    slots: int
    running: list[dict[str, Any]]
    completed: int
    failed: int
    handed_back: int
    energy_mwh: int
    energy_source: str | None
    utilisation_ppm: int
    power_draw_w: int


class WorkerAgent:
    """Runs the jobs of worker ``worker_id`` on hub site ``hub_id`` in ``slots`` parallel slots
    (registered with the detected hardware at :meth:`start`), heartbeating and renewing leases
    on its own threads until :meth:`drain` or :meth:`stop`. A context manager: leaving it stops
    the agent. :meth:`Hub.close` stops the hub's agents first.

    ``executor``: a Python callable running each attempt (see :data:`Executor`); None uses the
    library's process executor (``workloadConfig.command`` with its ``env``, timeout, limits).
    ``on_event``: called with one line per event (start, completion, failure, drain).

    Native jobs (``containerImage`` "native") run in a bubblewrap sandbox that sees only a
    read-only system and the job's own input and output folders (no hub folder, no home, no
    network). ``native_jobs=False`` refuses them all; ``allowed_commands`` (names on the jobs'
    PATH or absolute paths) is the only programs they may run; ``bwrap_program`` is the
    bubblewrap to use. A refused job fails with the reason, not retried; where no sandbox can
    be made, native jobs are refused. ``unsandboxed_native=True`` is DANGEROUS: native jobs
    then run as this process's user and can read ``operator.key`` and ``hub.db``. ``work_root``
    must be outside the hub folder (default: a new private folder, removed with the agent).

    ``worker_key``: the worker's secp256k1 private key (64 hex digits, or 32 bytes). With it the
    worker registers with the key's ``address`` label and each completion carries its proof of
    execution signed with the key (EIP-191), so a hub with ``require_worker_signatures`` takes
    its work. A malformed key raises InvalidArgument naming ``worker_key`` (never showing it).
    """

    def __init__(
        self,
        hub: Hub,
        *,
        worker_id: str,
        hub_id: str,
        slots: int = 1,
        work_root: str | os.PathLike[str] = "",
        poll_interval: timedelta | int = 1_000,
        heartbeat_interval: timedelta | int = 0,
        renew_interval: timedelta | int = 0,
        labels: dict[str, str] | None = None,
        executor: Executor | None = None,
        on_event: Callable[[str], None] | None = None,
        native_jobs: bool = True,
        allowed_commands: Sequence[str] = (),
        bwrap_program: str | os.PathLike[str] = "",
        unsandboxed_native: bool = False,
        worker_key: str | bytes | None = None,
    ) -> None:
        native_executor = None if executor is None else _wrap(executor)
        key = worker_key.hex() if isinstance(worker_key, bytes) else worker_key
        self._native = _core.WorkerAgent(
            hub._native,
            worker_id,
            hub_id,
            slots,
            os.fspath(work_root),
            duration_ms(poll_interval),
            duration_ms(heartbeat_interval),
            duration_ms(renew_interval),
            dict(labels or {}),
            native_executor,
            on_event,
            native_jobs,
            list(allowed_commands),
            os.fspath(bwrap_program),
            unsandboxed_native,
            key,
        )
        _lifetime.register(hub._native, self)

    def start(self) -> WorkerRecord:
        """Registers (or updates) the worker and starts claiming. Raises Conflict if already
        started or if the hub is closed."""
        return build(WorkerRecord, self._native.start())

    def drain(self, grace: timedelta | int = 0) -> int:
        """Stops claiming; waits up to ``grace`` for running jobs, then hands the rest back.
        Returns how many were handed back."""
        return int(self._native.drain(duration_ms(grace)))

    def stop(self, grace: timedelta | int = 0) -> None:
        """Drains with ``grace``, stops the threads and marks the worker offline. Idempotent."""
        self._native.stop(duration_ms(grace))

    def wait_idle(self, timeout: timedelta | int) -> bool:
        """Waits until no job runs; True if that happened within ``timeout``."""
        return bool(self._native.wait_idle(duration_ms(timeout)))

    def status(self) -> AgentStatus:
        return AgentStatus(**self._native.status())

    @property
    def running(self) -> bool:
        return bool(self._native.running)

    def __enter__(self) -> WorkerAgent:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _wrap(executor: Executor) -> Callable[[dict[str, Any], Callable[[], bool]], dict[str, Any]]:
    def call(request: dict[str, Any], stopped: Callable[[], bool]) -> dict[str, Any]:
        values = dict(request)
        values["job"] = build(JobRecord, values["job"])
        result = executor(ExecutionRequest(**values), stopped)
        return {
            "outcome": ExecutionOutcome(result.outcome).value,
            "exit_code": result.exit_code,
            "message": result.message,
        }

    return call
