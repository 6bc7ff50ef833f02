# SPDX-License-Identifier: Apache-2.0
"""PowerMeter: a job's electrical energy when its worker has no meter of its own."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from . import _core
from ._enums import EnergySource
from ._hub import ManualClock
from ._records import from_ms, to_ms


@dataclass(frozen=True)
class MeterSample:
    """A meter's reading: RAPL counters in microjoules (empty for the power model)."""

    at: datetime
    counters_uj: list[int]


@dataclass(frozen=True)
class RaplDomain:
    zone: str  # "intel-rapl:0"
    name: str  # "package-0", "psys", ...
    energy_file: str
    max_energy_range_uj: int


@dataclass(frozen=True)
class MeteredEnergy:
    energy_mwh: int
    source: EnergySource  # measured (RAPL) or modelled


class PowerMeter:
    """The machine's RAPL counters (``/sys/class/powercap/intel-rapl:N``) when readable,
    else the power model (watts per core and per GPU, as the scheduler budgets a job).
    Take a sample when a job starts and one when it ends; :meth:`energy_between` turns them
    into milliwatt-hours with their source. Thread-safe; needs no hub."""

    def __init__(
        self,
        *,
        watts_per_core: int = 10,
        watts_per_gpu: int = 250,
        clock: ManualClock | None = None,
        use_rapl: bool = True,
        rapl_root: str | os.PathLike[str] = "/sys/class/powercap",
    ) -> None:
        self._native = _core.PowerMeter(
            watts_per_core,
            watts_per_gpu,
            None if clock is None else clock._native,
            use_rapl,
            os.fspath(rapl_root),
        )

    @property
    def rapl(self) -> bool:
        """True when the meter reads RAPL counters (measured), False for the model."""
        return self._native.rapl

    def domains(self) -> list[RaplDomain]:
        return [RaplDomain(*domain) for domain in self._native.domains()]

    def sample(self) -> MeterSample:
        """Reads the meter now. Raises IoError if a counter cannot be read."""
        at_ms, counters = self._native.sample()
        return MeterSample(from_ms(at_ms), counters)

    def energy_between(
        self, begin: MeterSample, end: MeterSample, *, cpu_millicores: int = 0, gpus: int = 0
    ) -> MeteredEnergy:
        """The energy drawn between two samples of this meter (the workload is used by the
        model only). Raises InvalidArgument if ``end`` is before ``begin``."""
        mwh, source = self._native.energy_between(
            to_ms(begin.at), begin.counters_uj, to_ms(end.at), end.counters_uj,
            cpu_millicores, gpus,
        )  # fmt: skip
        return MeteredEnergy(mwh, EnergySource(source))


def model_watts(
    *, cpu_millicores: int, gpus: int = 0, watts_per_core: int = 10, watts_per_gpu: int = 250
) -> int:
    """ceil(millicores x watts_per_core / 1000) + gpus x watts_per_gpu."""
    return _core.model_watts(watts_per_core, watts_per_gpu, cpu_millicores, gpus)
