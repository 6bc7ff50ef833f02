# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import json
from datetime import timedelta

import pytest

import sihlicon
from conftest import START, hub_spec, run_job
from sihlicon import EnergySource, HeatKind, Money


def test_a_completed_job_leaves_heat_that_credits_and_settles(
    site: sihlicon.Hub, clock: sihlicon.ManualClock
) -> None:
    heat = site.heat_ledger
    run_job(site, energy_mwh=1_000_000)  # 1 kWh -> 0.9 kWh of heat at 90 %
    clock.advance(timedelta(hours=1))
    credit = heat.credits("pool")
    assert credit.total_heat_mwh == 900_000 and credit.credit == Money(4, "CHF")  # 4.5 -> 4
    assert not credit.settled and credit.period_end == clock.now()
    assert json.loads(credit.to_json())["heatCreditChf"] == 4
    stats = heat.stats("pool")
    assert stats.total_heat_mwh == 900_000 and stats.unsettled_credit == Money(4, "CHF")
    assert stats.period_count == 0 and stats.last_period_end is None
    settled = heat.settle("pool", START, clock.now())
    assert settled.credit == Money(4, "CHF") and settled.record_count == 1
    assert settled.settled_at == clock.now()
    assert json.loads(settled.to_json())["settledCreditChf"] == 4
    assert heat.settle("pool", START, clock.now()) == settled  # idempotent
    assert heat.credits("pool", START, clock.now()).settled
    assert [s.period_end for s in heat.settlements("pool")] == [clock.now()]
    after = heat.stats("pool")
    assert after.period_count == 1 and after.last_period_end == clock.now()
    with pytest.raises(sihlicon.Conflict):
        heat.settle("pool", START + timedelta(minutes=1), clock.now())
    with pytest.raises(sihlicon.InvalidArgument):
        heat.settle("pool", clock.now(), clock.now() + timedelta(hours=1))


def test_manual_heat_is_recorded_one_by_one_or_all_at_once(
    site: sihlicon.Hub, clock: sihlicon.ManualClock
) -> None:
    heat = site.heat_ledger
    clock.advance(timedelta(hours=2))
    record = heat.record(
        "pool",
        thermal_mwh=500_000,
        kind=HeatKind.STANDALONE_HEATER,
        tag="pool heater 2",
        at=START + timedelta(hours=1),
        electrical_mwh=520_000,
        energy_source=EnergySource.ESTIMATED,
    )
    assert record.kind is HeatKind.STANDALONE_HEATER and record.tag == "pool heater 2"
    assert record.at == START + timedelta(hours=1) and record.recorded_at == clock.now()
    assert record.electrical_mwh == 520_000 and record.energy_source is EnergySource.ESTIMATED
    assert json.loads(record.to_json())["thermalKwh"] == 0.5
    many = heat.record_many(
        [
            sihlicon.ManualHeat("pool", 1_000, tag="a"),
            sihlicon.ManualHeat("pool", 2_000, kind=HeatKind.BATTERY_LOSSES),
        ]
    )
    assert [r.thermal_mwh for r in many] == [1_000, 2_000]
    with pytest.raises(sihlicon.InvalidArgument) as raised:
        heat.record_many([sihlicon.ManualHeat("pool", 1, tag="ok"), sihlicon.ManualHeat("pool", 1)])
    assert raised.value.field.startswith("records[1]")
    with pytest.raises(sihlicon.InvalidArgument):
        heat.record("pool", thermal_mwh=1, kind=HeatKind.JOB)
    with pytest.raises(sihlicon.NotFound):
        heat.record("absent", thermal_mwh=1, tag="x")


def test_credit_rates_apply_from_their_start(site: sihlicon.Hub, clock: sihlicon.ManualClock) -> None:
    heat = site.heat_ledger
    rates = heat.credit_rates("pool")
    assert rates[0].is_default and rates[0].per_kwh == Money(5, "CHF")
    rate = heat.set_credit_rate("pool", Money(10, "CHF"), START)
    assert rate.per_kwh == Money(10, "CHF") and rate.effective_from == START
    assert [r.per_kwh.minor_units for r in heat.credit_rates("pool")] == [5, 10]
    clock.advance(timedelta(hours=1))
    heat.record("pool", thermal_mwh=1_000_000, tag="x")
    clock.advance(timedelta(hours=1))
    assert heat.credits("pool").credit == Money(10, "CHF")
    with pytest.raises(sihlicon.Conflict):
        heat.set_credit_rate("pool", Money(10, "EUR"), START + timedelta(hours=1))


def test_series_and_unmet_demand(site: sihlicon.Hub, clock: sihlicon.ManualClock) -> None:
    heat = site.heat_ledger
    site.scheduler.set_heat_demand("pool", 10_000)
    clock.advance(timedelta(minutes=30))
    heat.record("pool", thermal_mwh=1_000_000, tag="x")
    series = heat.series("pool", sihlicon.SeriesResolution.HOUR, START, START + timedelta(hours=2))
    assert series.resolution is sihlicon.SeriesResolution.HOUR and len(series.points) == 2
    assert series.points[0].heat_mwh == 1_000_000 and series.points[0].records == 1
    assert series.points[0].start == START
    assert json.loads(series.to_json())["hubId"] == "pool"
    assert heat.unmet_heat_demand_w("pool") == 6_000  # 10 kW - 1 kWh over 15 min (4 kW)
    assert heat.unmet_heat_demand_w("pool", timedelta(hours=1)) == 9_000
    with pytest.raises(sihlicon.InvalidArgument):
        heat.unmet_heat_demand_w("pool", 0)


def test_heat_totals_by_site_and_region(site: sihlicon.Hub, clock: sihlicon.ManualClock) -> None:
    """District heating is fed by several hubs: stats and series sum them exactly."""
    heat = site.heat_ledger
    site.scheduler.register_hub(hub_spec("pool-2", site="site-pool"))
    site.scheduler.register_hub(hub_spec("lyon", region="FR"))
    clock.advance(timedelta(minutes=30))
    heat.record("pool", thermal_mwh=1_000_001, tag="x")
    heat.record("pool-2", thermal_mwh=2_000_000, tag="y")
    heat.record("lyon", thermal_mwh=4_000_000, tag="z")
    stats = heat.group_stats("site", "site-pool")
    assert stats.hub_ids == ["pool", "pool-2"] and stats.group_by == "site"
    assert stats.total_heat_mwh == 3_000_001
    assert [hub.total_heat_mwh for hub in stats.hubs] == [1_000_001, 2_000_000]
    assert stats.total_credit == sum(
        (hub.total_credit for hub in stats.hubs), Money(0, "CHF")
    )
    assert json.loads(stats.to_json())["groupBy"] == "site"
    assert heat.group_stats("region", "CH").total_heat_mwh == 3_000_001
    assert heat.group_stats("region", "FR").hub_ids == ["lyon"]
    series = heat.group_series(
        "region", "CH", sihlicon.SeriesResolution.HOUR, START, START + timedelta(hours=1)
    )
    assert len(series.points) == 1 and series.points[0].heat_mwh == 3_000_001
    assert series.points[0].records == 2
    with pytest.raises(sihlicon.NotFound):
        heat.group_stats("site", "nowhere")
    with pytest.raises(sihlicon.InvalidArgument):
        heat.group_stats("district", "site-pool")  # type: ignore[arg-type]
