# SPDX-License-Identifier: Apache-2.0
"""HeatLedger: electricity in, recovered heat and heat credits out, each period settled once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NamedTuple
from datetime import datetime, timedelta

from . import _core
from ._enums import EnergySource, HeatKind, SeriesResolution, name_of
from ._records import (
    CreditRate,
    HeatCredit,
    HeatGroupSeries,
    HeatGroupStats,
    HeatRecord,
    HeatSeries,
    HeatSettlement,
    HeatStats,
    Instant,
    ManualHeat,
    Money,
    build,
    build_all,
    duration_ms,
    from_ms,
    to_ms,
)


class HeatPeriod(NamedTuple):
    """A period of one hub to settle: the body of the seed's ``POST /api/heat/settle``.
    ``ledger.settle(*period)`` settles it."""

    hub_id: str
    period_start: datetime
    period_end: datetime

    @classmethod
    def from_json(cls, text: str | bytes) -> HeatPeriod:
        """Decodes ``{"hubId", "periodStart", "periodEnd"}`` (ISO 8601) with the library's one
        codec, ``HeatPeriod::from_json``: all three required, no other member. Raises
        InvalidArgument naming the field; whether the period may be settled is
        :meth:`HeatLedger.settle`'s to check."""
        hub_id, start, end = _core.heat_period_from_json(text)
        return cls(hub_id, from_ms(start), from_ms(end))


class HeatLedger:
    """The hub's heat ledger (``Hub.heat_ledger``): the seed's Heat Services. Periods are
    half-open [start, end). Safe to use from many threads."""

    def __init__(self, native: _core.HeatLedger) -> None:
        self._native = native

    def record(
        self,
        hub_id: str,
        *,
        thermal_mwh: int,
        kind: HeatKind = HeatKind.OTHER,
        tag: str = "",
        at: Instant | None = None,
        electrical_mwh: int | None = None,
        energy_source: EnergySource = EnergySource.MEASURED,
    ) -> HeatRecord:
        """Records heat from a source other than a job. Raises InvalidArgument (kind job, no
        tag for other, ``at`` in the future, energy out of range), NotFound (unknown hub)."""
        heat = ManualHeat(hub_id, thermal_mwh, kind, tag, at, electrical_mwh, energy_source)
        return build(HeatRecord, self._native.record(heat._native()))

    def record_many(self, records: Iterable[ManualHeat]) -> list[HeatRecord]:
        """Records many in one transaction: all or none (errors name ``records[i].field``)."""
        return build_all(HeatRecord, self._native.record_many([r._native() for r in records]))

    def set_credit_rate(self, hub_id: str, per_kwh: Money, effective_from: Instant) -> CreditRate:
        """The hub's credit rate per kWh thermal from ``effective_from`` on. Raises Conflict
        before the end of the last settled period or for another currency."""
        return build(
            CreditRate,
            self._native.set_credit_rate(
                hub_id, per_kwh.minor_units, per_kwh.currency, to_ms(effective_from)
            ),
        )

    def credit_rates(self, hub_id: str) -> list[CreditRate]:
        return build_all(CreditRate, self._native.credit_rates(hub_id))

    def credits(
        self, hub_id: str, start: Instant | None = None, end: Instant | None = None
    ) -> HeatCredit:
        """The seed's credit over [start, end); defaults: the end of the last settled period,
        and now (so ``credits(hub)`` is what is owed and not yet settled)."""
        return build(
            HeatCredit,
            self._native.credits(
                hub_id, None if start is None else to_ms(start), None if end is None else to_ms(end)
            ),
        )

    def stats(self, hub_id: str) -> HeatStats:
        return build(HeatStats, self._native.stats(hub_id))

    def settle(self, hub_id: str, start: Instant, end: Instant) -> HeatSettlement:
        """Settles [start, end) once (repeating the same period returns the stored one).
        Raises InvalidArgument unless 0 <= start < end <= now, Conflict on an overlap."""
        return build(HeatSettlement, self._native.settle(hub_id, to_ms(start), to_ms(end)))

    def settlements(self, hub_id: str) -> list[HeatSettlement]:
        return build_all(HeatSettlement, self._native.settlements(hub_id))

    def series(
        self, hub_id: str, resolution: SeriesResolution, start: Instant, end: Instant
    ) -> HeatSeries:
        """Electricity, heat and heat demand per UTC hour or day over [start, end)."""
        return build(
            HeatSeries,
            self._native.series(
                hub_id, name_of(resolution), to_ms(start), to_ms(end)
            ),
        )

    def group_stats(self, group_by: Literal["site", "region"], group: str) -> HeatGroupStats:
        """Stats summed exactly over every hub of the site or region ``group``. Raises NotFound
        when no hub is there, Conflict when their credits are in different currencies."""
        return build(HeatGroupStats, self._native.group_stats(group_by, group))

    def group_series(
        self,
        group_by: Literal["site", "region"],
        group: str,
        resolution: SeriesResolution,
        start: Instant,
        end: Instant,
    ) -> HeatGroupSeries:
        """``series`` summed bucket by bucket over every hub of the site or region ``group``."""
        return build(
            HeatGroupSeries,
            self._native.group_series(
                group_by, group, name_of(resolution), to_ms(start), to_ms(end)
            ),
        )

    def unmet_heat_demand_w(
        self, hub_id: str, window: timedelta | int = timedelta(minutes=15)
    ) -> int:
        """max(0, demand - heat delivered over the window), in watts."""
        return self._native.unmet_heat_demand_w(hub_id, duration_ms(window))
