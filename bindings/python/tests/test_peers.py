# SPDX-License-Identifier: Apache-2.0
"""Peers: the operator's list of other hubs, their URLs checked, their tokens never shown;
and the server's maintenance option."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import sihlicon
from conftest import open_hub


def test_peers_are_added_listed_and_removed_without_their_tokens(
    tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    secret = "peer-token-9b1f27"
    with open_hub(tmp_path / "hub", clock) as hub:
        added = hub.add_peer("hub-basel", "https://basel.example:8443", secret)
        assert added["hubId"] == "hub-basel" and added["url"] == "https://basel.example:8443"
        assert "token" not in added
        listed = hub.peers()
        assert [peer["hubId"] for peer in listed] == ["hub-basel"]
        assert secret not in json.dumps(listed)

        with pytest.raises(sihlicon.InvalidArgument) as refused:
            hub.add_peer("hub-x", "https://user:pw@x.example", "t")
        assert refused.value.field == "url" and "https://user:pw@x.example" in str(refused.value)
        with pytest.raises(sihlicon.InvalidArgument) as refused:
            hub.add_peer("hub-x", "https://x.example", "two words")
        assert refused.value.field == "token" and "two words" not in str(refused.value)
        with pytest.raises(sihlicon.PermissionDenied):
            hub.peers(by="alice")
        with pytest.raises(sihlicon.Conflict):
            hub.add_peer("hub-basel", "https://other.example", "t")

        assert hub.remove_peer("hub-basel")["hubId"] == "hub-basel"
        assert hub.peers() == []
        with pytest.raises(sihlicon.NotFound):
            hub.remove_peer("hub-basel")


def test_a_server_seals_a_due_epoch_on_the_hubs_clock(
    tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    lines: list[str] = []
    with open_hub(tmp_path / "hub", clock) as hub:
        first = hub.settlement.current_epoch()
        with pytest.raises(sihlicon.InvalidArgument) as refused:
            sihlicon.Server(hub, maintenance_interval_ms=-1)
        assert refused.value.field == "maintenanceIntervalMs"
        with sihlicon.Server(hub, maintenance_interval_ms=5, access_log=lines.append):
            clock.advance(24 * 3600 * 1000)
            deadline = time.monotonic() + 20
            while hub.settlement.epoch(first.id).status != sihlicon.EpochStatus.FINALIZED:
                assert time.monotonic() < deadline, "the epoch was never sealed"
                time.sleep(0.005)
        assert any(f"maintenance sealed {first.id}" in line for line in lines)
