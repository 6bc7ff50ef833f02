# SPDX-License-Identifier: Apache-2.0
"""Many Python threads calling one hub at once; the GIL is released while the library works."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import sihlicon
from conftest import job_request
from sihlicon import JobStatus


def test_threads_submit_claim_and_complete_every_job_exactly_once(site: sihlicon.Hub) -> None:
    for i in range(2, 5):
        site.scheduler.register_worker(
            {"workerId": f"bee-0{i}", "hubId": "pool",
             "executors": ["native", "container"], "cpu": "64", "memory": "256Gi"}
        )
    events: list[sihlicon.JobEvent] = []
    lock = threading.Lock()

    def listen(event: sihlicon.JobEvent) -> None:
        with lock:
            events.append(event)

    site.scheduler.subscribe(listen)

    def submit(n: int) -> list[str]:
        return [site.scheduler.submit(job_request(f"t{n}-{i}"), owner=f"o{n}").id for i in range(10)]

    with ThreadPoolExecutor(8) as pool:
        submitted = {job for batch in pool.map(submit, range(8)) for job in batch}
    assert len(submitted) == 80

    def work(worker: str) -> list[str]:
        done = []
        while True:
            claimed = site.scheduler.claim(worker, max=3)
            if not claimed:
                return done
            for item in claimed:
                site.scheduler.complete(item.job.id, item.lease.token, energy_mwh=1_000)
                done.append(item.job.id)

    with ThreadPoolExecutor(4) as pool:
        completed = [job for batch in pool.map(work, [f"bee-0{i}" for i in range(1, 5)]) for job in batch]
    assert sorted(completed) == sorted(submitted)  # each exactly once
    assert all(j.status is JobStatus.COMPLETED for j in site.scheduler.iter_jobs(page_size=50))
    completions = [e for e in events if e.to_status is JobStatus.COMPLETED]
    assert len(completions) == 80


def test_threads_put_and_read_content_at_once(hub: sihlicon.Hub) -> None:
    def put_and_get(n: int) -> bool:
        data = hashlib.sha256(str(n).encode()).digest() * (1000 + n)
        cid = hub.content_store.put(data, owner=f"u{n % 3}").content_id
        return bytes(hub.content_store.get(cid, principal=f"u{n % 3}")) == data

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(put_and_get, range(40)))


# Run in a child process: if put_file kept the GIL, the child deadlocks, and only another
# process can notice that and report it as a failure.
_READ_A_FIFO_WRITTEN_BY_ANOTHER_THREAD = """
import hashlib, os, sys, threading
import sihlicon

folder = sys.argv[1]
fifo = os.path.join(folder, "pipe")
os.mkfifo(fifo)
data = b"".join(hashlib.sha256(str(i).encode()).digest() * 2_048 for i in range(16))  # 1 MiB
result = []
with sihlicon.Hub.open(os.path.join(folder, "hub")) as hub:
    worker = threading.Thread(target=lambda: result.append(hub.content_store.put_file(fifo, owner="ann")))
    worker.start()
    with open(fifo, "wb") as writer:  # this thread must run again and again while put_file reads
        for offset in range(0, len(data), 4_096):
            writer.write(data[offset : offset + 4_096])
            writer.flush()
    worker.join()
    assert bytes(hub.content_store.get(result[0].content_id, principal="ann")) == data
    print("stored", result[0].content_id)
"""


def test_the_gil_is_released_while_the_library_reads_and_hashes(tmp_path: Path) -> None:
    # The library reads a FIFO that only the child's main thread writes, 16 times more than a
    # pipe holds: the writer has to run Python again while put_file is still reading. No timing
    # is measured; a kept GIL is a deadlock, seen here as the child not finishing in 120 s.
    try:
        child = subprocess.run(
            [sys.executable, "-c", _READ_A_FIFO_WRITTEN_BY_ANOTHER_THREAD, str(tmp_path)],
            capture_output=True, text=True, timeout=120,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("put_file kept the GIL: the thread writing its input never ran again")
    assert child.returncode == 0, child.stderr
    assert child.stdout.startswith("stored bafy"), child.stdout  # a UnixFS DAG of several blocks


def test_close_waits_for_calls_in_progress_and_later_calls_fail(hub: sihlicon.Hub, tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"\x01" * (32 << 20))
    result: list[object] = []

    def put() -> None:
        try:
            result.append(hub.content_store.put_file(path, owner="ann"))
        except sihlicon.Error as error:
            result.append(error)

    worker = threading.Thread(target=put)
    worker.start()
    time.sleep(0.01)
    hub.close()
    worker.join()
    assert len(result) == 1  # either it ran to its end before the close, or it was refused
    assert isinstance(result[0], (sihlicon.Manifest, sihlicon.Conflict))
    assert hub.closed


def test_listeners_may_call_the_hub_but_not_close_it(site: sihlicon.Hub) -> None:
    seen: list[tuple[str, JobStatus]] = []
    refused: list[sihlicon.Error] = []

    def listen(event: sihlicon.JobEvent) -> None:
        seen.append((event.job_id, site.scheduler.job(event.job_id).status))  # a nested call
        try:
            site.close()
        except sihlicon.Conflict as error:
            refused.append(error)

    site.scheduler.subscribe(listen)
    job = site.scheduler.submit(job_request(), owner="alice")
    assert seen == [(job.id, JobStatus.QUEUED)]
    assert refused and "inside" in refused[0].message
    assert not site.closed
    site.close()
    assert site.closed


def test_progress_callbacks_may_call_the_hub(hub: sihlicon.Hub) -> None:
    counts: list[int] = []
    hub.content_store.put_stream(
        __import__("io").BytesIO(b"\x02" * 600_000),
        owner="ann",
        progress=lambda done: counts.append(len(hub.content_store.list(principal="ann"))),
    )
    assert counts and all(count == 0 for count in counts)
