# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import sihlicon
from sihlicon import EnergySource


def test_the_model_meter_integrates_the_declared_power(clock: sihlicon.ManualClock, tmp_path: Path) -> None:
    meter = sihlicon.PowerMeter(watts_per_core=10, watts_per_gpu=250, clock=clock,
                                rapl_root=tmp_path)  # no RAPL there: the model
    assert not meter.rapl and meter.domains() == []
    begin = meter.sample()
    assert begin.counters_uj == [] and begin.at == clock.now()
    clock.advance(timedelta(hours=1))
    end = meter.sample()
    metered = meter.energy_between(begin, end, cpu_millicores=2_000, gpus=1)
    assert metered == sihlicon.MeteredEnergy(270_000, EnergySource.MODELLED)  # 270 W for 1 h
    assert sihlicon.model_watts(cpu_millicores=2_000, gpus=1) == 270
    assert sihlicon.model_watts(cpu_millicores=1) == 1  # rounded up
    with pytest.raises(sihlicon.InvalidArgument):
        meter.energy_between(end, begin)
    with pytest.raises(sihlicon.InvalidArgument):
        sihlicon.model_watts(cpu_millicores=-1)


def test_rapl_counters_are_read_and_wraps_counted(clock: sihlicon.ManualClock, tmp_path: Path) -> None:
    zone = tmp_path / "intel-rapl:0"
    zone.mkdir()
    (zone / "name").write_text("package-0\n")
    (zone / "max_energy_range_uj").write_text("262143328850\n")
    (zone / "energy_uj").write_text("262143000000\n")
    meter = sihlicon.PowerMeter(clock=clock, rapl_root=tmp_path)
    assert meter.rapl
    assert [(d.zone, d.name) for d in meter.domains()] == [("intel-rapl:0", "package-0")]
    begin = meter.sample()
    assert begin.counters_uj == [262_143_000_000]
    (zone / "energy_uj").write_text("3599671150\n")  # wrapped: 328,850 + 3,599,671,150 uJ
    clock.advance(timedelta(minutes=1))
    metered = meter.energy_between(begin, meter.sample())
    assert metered == sihlicon.MeteredEnergy(1_000, EnergySource.MEASURED)  # 3,600 J = 1 Wh
    assert not sihlicon.PowerMeter(clock=clock, rapl_root=tmp_path, use_rapl=False).rapl
