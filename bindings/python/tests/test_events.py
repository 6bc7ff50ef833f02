# SPDX-License-Identifier: Apache-2.0
"""The hub's event log from Python: what each reader sees, and waiting for another process."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

import sihlicon
from conftest import job_request, open_hub


def test_each_reader_sees_the_events_that_concern_it(
    tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    with open_hub(tmp_path / "hub", clock) as hub:
        first = hub.last_event_sequence()
        ann = hub.scheduler.submit(job_request("a"), owner="ann")
        hub.scheduler.submit(job_request("b"), owner="bob")
        mine = hub.events_after(first, principal="ann")
        assert [(e["kind"], e["subject"], e["client"]) for e in mine] == [
            ("job.queued", ann.id, "ann")
        ]
        every = hub.events_after(first)
        assert len(every) == 2 and every[0]["sequence"] < every[1]["sequence"]
        assert every[0]["payload"]["to"] == "queued"
        assert hub.events_after(first, principal="mallory") == []
        with pytest.raises(sihlicon.InvalidArgument, match="limit"):
            hub.events_after(limit=0)


def test_a_waiting_reader_sees_what_another_process_writes(
    tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    directory = tmp_path / "hub"
    with open_hub(directory, clock) as hub:
        start = hub.last_event_sequence()
        found: list[dict[str, object]] = []
        waiter = threading.Thread(
            target=lambda: found.extend(hub.events_after(start, principal="ann", wait=20))
        )
        waiter.start()
        script = (
            "import sys, sihlicon\n"
            "hub = sihlicon.Hub(sys.argv[1])\n"
            f"hub.scheduler.submit({job_request('remote')!r}, owner='ann')\n"
            "hub.close()\n"
        )
        subprocess.run([sys.executable, "-c", script, str(directory)], check=True)
        waiter.join()
        assert [e["kind"] for e in found] == ["job.queued"]
        assert found[0]["client"] == "ann"
