# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import sihlicon
from conftest import START, open_hub


def test_a_hub_opens_creates_its_files_and_describes_itself(
    tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    with open_hub(tmp_path / "h", clock) as hub:
        info = hub.info()
        assert info.schema_version == sihlicon.Hub.latest_schema_version() > 0
        assert info.instance_id.startswith("hub-")
        assert info.created_at == START
        assert info.counts["hubs"] == 0
        assert '"schemaVersion"' in info.to_json()
        assert Path(hub.directory) == tmp_path / "h"
        assert Path(hub.blob_directory).is_dir()
        assert (tmp_path / "h" / "hub.db").exists()
        assert hub.clock is clock
        assert not hub.closed
        assert "sihlicon.Hub" in repr(hub)
    assert hub.closed
    assert "closed" in repr(hub)


def test_a_closed_hub_refuses_calls_and_closing_twice_does_nothing(
    tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    hub = open_hub(tmp_path / "h", clock)
    scheduler = hub.scheduler
    hub.close()
    hub.close()
    with pytest.raises(sihlicon.Conflict, match="closed"):
        scheduler.hubs()
    with pytest.raises(sihlicon.Conflict):
        hub.info()


def test_open_without_create_if_missing_raises_not_found(tmp_path: Path) -> None:
    with pytest.raises(sihlicon.NotFound) as raised:
        sihlicon.Hub(tmp_path / "absent", create_if_missing=False)
    assert raised.value.field == "directory"


def test_a_hub_reopens_with_its_data_and_options(tmp_path: Path, clock: sihlicon.ManualClock) -> None:
    with sihlicon.Hub.open(tmp_path / "h", clock=clock) as hub:
        hub.scheduler.register_hub({"hubId": "pool", "name": "P", "site": "s", "region": "CH",
                                    "heatRecoveryPpm": 0, "powerCapacityW": 1000})
    with sihlicon.Hub(
        tmp_path / "h",
        clock=clock,
        integrity_check=sihlicon.IntegrityCheck.FULL,
        durability=sihlicon.Durability.POWER_LOSS,
        reader_connections=2,
        busy_timeout=timedelta(seconds=5),
    ) as hub:
        assert [h.id for h in hub.scheduler.hubs()] == ["pool"]


def test_bad_hub_options_raise_invalid_argument(tmp_path: Path) -> None:
    with pytest.raises(sihlicon.InvalidArgument):
        sihlicon.Hub(tmp_path / "h", reader_connections=0)
    with pytest.raises(sihlicon.InvalidArgument, match="commit_interval"):
        sihlicon.Hub(tmp_path / "h", commit_interval=-1)


def test_a_hub_with_a_write_log_reads_its_writes_and_commits_them_at_close(
    tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    pool = {"hubId": "pool", "name": "P", "site": "s", "region": "CH", "heatRecoveryPpm": 0,
            "powerCapacityW": 1000}
    with sihlicon.Hub(tmp_path / "h", clock=clock, commit_interval=timedelta(hours=1)) as hub:
        hub.scheduler.register_hub(pool)
        # Acknowledged from the log, which starts with a record ("SIHW") until committed.
        assert (tmp_path / "h" / "hub.db-log").read_bytes()[:4] == b"SIHW"
        assert [h.id for h in hub.scheduler.hubs()] == ["pool"]
    assert (tmp_path / "h" / "hub.db-log").read_bytes()[:4] != b"SIHW"
    with sihlicon.Hub(tmp_path / "h", clock=clock) as hub:
        assert [h.id for h in hub.scheduler.hubs()] == ["pool"]


def test_the_manual_clock_drives_the_hubs_time(hub: sihlicon.Hub, clock: sihlicon.ManualClock) -> None:
    assert hub.now() == START == clock.now()
    clock.advance(timedelta(hours=1))
    assert hub.now() == START + timedelta(hours=1)
    clock.advance(500)
    assert clock.now_ms() == sihlicon.to_ms(START) + 3_600_500
    clock.set(datetime(2027, 1, 1, tzinfo=timezone.utc))
    assert hub.now().year == 2027


def test_the_system_clock_is_used_without_a_manual_one(tmp_path: Path) -> None:
    with sihlicon.Hub(tmp_path / "h") as hub:
        assert hub.clock is None
        assert abs(hub.now() - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_instants_convert_exactly_and_naive_datetimes_are_refused() -> None:
    assert sihlicon.to_ms(START) == 1_767_225_600_000
    assert sihlicon.from_ms(1_767_225_600_001) == START + timedelta(milliseconds=1)
    assert sihlicon.to_ms(5) == 5
    with pytest.raises(ValueError):
        sihlicon.to_ms(datetime(2026, 1, 1))


def test_money_and_energy_are_exact() -> None:
    money = sihlicon.Money.parse("0.10", "USD")
    assert money == sihlicon.Money(100_000, "USD")
    assert str(sihlicon.Money(150, "CHF")) == "1.50 CHF"
    assert (money + money).minor_units == 200_000
    assert (money - money).minor_units == 0
    assert (-money).minor_units == -100_000
    assert [m.minor_units for m in sihlicon.Money(100, "CHF").allocate([1, 1, 1])] == [34, 33, 33]
    with pytest.raises(ValueError):
        money + sihlicon.Money(1, "CHF")
    with pytest.raises(sihlicon.InvalidArgument):
        sihlicon.Money.parse("1.234", "CHF")
    assert sihlicon.kwh(1_500_000) == "1.5"
    assert sihlicon.parse_kwh("0.000001") == 1
    with pytest.raises(sihlicon.InvalidArgument):
        sihlicon.parse_kwh("1e3")


def test_the_version_is_the_librarys() -> None:
    assert sihlicon.__version__ == sihlicon._core.__version__


def test_iso8601_is_read_and_written_as_the_library_does() -> None:
    assert sihlicon.to_iso8601(START) == "2026-01-01T00:00:00.000Z"
    assert sihlicon.parse_iso8601("2026-01-01T05:30:00+05:30") == START
    with pytest.raises(sihlicon.InvalidArgument) as raised:
        sihlicon.parse_iso8601("2026-01-01 00:00", "periodStart")
    assert raised.value.field == "periodStart"
