# SPDX-License-Identifier: Apache-2.0
"""Typed records: frozen dataclasses built from the native module's dicts.

Conventions: instants are timezone-aware :class:`datetime.datetime` in UTC (exact to the
millisecond); energies are ``int`` milliwatt-hours in fields ending ``_mwh``; amounts are
:class:`Money`; enumerations are the members of ``sihlicon._enums``. Records that have a JSON
form in the C++ API return it, byte for byte, from ``to_json()``.
"""

from __future__ import annotations

import dataclasses
import json
import types
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from . import _core
from ._enums import (
    name_of,
    AccessLevel,
    AccountKind,
    EnergySource,
    EpochStatus,
    PayoutStatus,
    GridSignal,
    HeatKind,
    JobStatus,
    JobType,
    MarketStatus,
    MarketType,
    ReplicaState,
    ReputationSubject,
    RoutingPolicy,
    SeriesResolution,
    StorageTier,
    TransferKind,
    TransferStatus,
    WorkerStatus,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

Instant = Union[datetime, int]
"""An instant given to the library: an aware datetime, or int milliseconds since the epoch."""


def to_ms(instant: Instant) -> int:
    """Milliseconds since the Unix epoch of ``instant`` (a naive datetime is refused)."""
    if isinstance(instant, bool):
        raise TypeError("an instant is a datetime or int milliseconds, not a bool")
    if isinstance(instant, int):
        return instant
    if instant.tzinfo is None:
        raise ValueError(f"naive datetime {instant!r}: give a timezone (e.g. timezone.utc)")
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_ms(ms: int) -> datetime:
    """The aware UTC datetime of ``ms`` milliseconds since the Unix epoch."""
    return _EPOCH + timedelta(milliseconds=ms)


def duration_ms(duration: timedelta | int) -> int:
    """Whole milliseconds of a timedelta (or an int already in milliseconds)."""
    if isinstance(duration, int):
        return duration
    return (duration.days * 86_400 + duration.seconds) * 1000 + duration.microseconds // 1000


@dataclass(frozen=True)
class Money:
    """An exact amount: ``minor_units`` of ``currency`` (centimes for CHF, micro-dollars for
    USD). ``str(Money(150, "CHF"))`` is ``"1.50 CHF"``."""

    minor_units: int
    currency: str

    @classmethod
    def parse(cls, decimal: str, currency: str) -> Money:
        """The amount written as exact decimal major units: ``Money.parse("0.10", "USD")``."""
        return cls(_core.money_parse(decimal, currency), currency)

    @property
    def decimal(self) -> str:
        """Exact major units with the currency's digits: ``"1.50"``."""
        return _core.money_decimal(self.minor_units, self.currency)

    def __str__(self) -> str:
        return f"{self.decimal} {self.currency}"

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"currency: {self.currency} and {other.currency} differ")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor_units + other.minor_units, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor_units - other.minor_units, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor_units, self.currency)

    def allocate(self, weights: list[int]) -> list[Money]:
        """Splits the amount by largest remainder; the parts always sum to the whole."""
        return [Money(part, self.currency) for part in _core.allocate(self.minor_units, weights)]


def kwh(mwh: int) -> str:
    """Exact decimal kWh of ``mwh`` milliwatt-hours: ``kwh(1_500_000) == "1.5"``."""
    return _core.energy_kwh_string(mwh)


def parse_kwh(text: str, field: str = "energy") -> int:
    """Milliwatt-hours of exact decimal kWh text (at most 6 fractional digits)."""
    return _core.energy_parse_kwh(text, field)


# ---- conversion from the native dicts ---------------------------------------------------

T = TypeVar("T")
_HINTS: dict[type, dict[str, Any]] = {}


def _convert(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = get_origin(kind)
    if origin is Union or origin is types.UnionType:
        inner = [arg for arg in get_args(kind) if arg is not type(None)]
        return _convert(inner[0], value)
    if origin is list:
        (item,) = get_args(kind)
        return [_convert(item, v) for v in value]
    if origin is dict:
        key, item = get_args(kind)
        return {_convert(key, k): _convert(item, v) for k, v in value.items()}
    if origin is tuple:
        return tuple(_convert(item, v) for item, v in zip(get_args(kind), value, strict=True))
    if kind is datetime:
        return from_ms(value)
    if kind is Money:
        return Money(int(value[0]), str(value[1]))
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(value)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return build(kind, value)
    return value


def build(cls: type[T], values: dict[str, Any]) -> T:
    """An instance of the record class ``cls`` from a native dict (unknown keys ignored)."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = get_type_hints(cls)
        _HINTS[cls] = hints
    arguments = {}
    for item in dataclasses.fields(cls):  # type: ignore[arg-type]
        if item.name == "raw_json":
            arguments["raw_json"] = values.get("json", "")
        elif item.name in values:
            arguments[item.name] = _convert(hints[item.name], values[item.name])
    return cls(**arguments)


def build_all(cls: type[T], values: list[dict[str, Any]]) -> list[T]:
    return [build(cls, value) for value in values]


class _Json:
    raw_json: str

    def to_json(self) -> str:
        """The record's JSON exactly as the C++ ``to_json()`` writes it (camelCase)."""
        return self.raw_json


def _raw() -> Any:
    return field(default="", repr=False, compare=False)


# ---- hub --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HubInfo(_Json):
    directory: str
    database_path: str
    blob_directory: str
    schema_version: int
    latest_schema_version: int
    library_version: str
    created_by_version: str
    instance_id: str
    created_at: datetime
    database_bytes: int
    counts: dict[str, int]
    raw_json: str = _raw()


# ---- scheduler --------------------------------------------------------------------------


@dataclass(frozen=True)
class HubRecord(_Json):
    id: str
    name: str
    site: str
    region: str
    heat_recovery_ppm: int
    power_capacity_w: int
    routing_policy: RoutingPolicy
    watts_per_core: int
    watts_per_gpu: int
    throttle_min_priority: int
    max_queue_depth: int
    grid_signal: GridSignal
    grid_power_budget_w: int | None
    grid_valid_until: datetime | None
    heat_demand_w: int
    heat_demand_valid_until: datetime | None
    running_power_w: int
    created_at: datetime
    updated_at: datetime
    raw_json: str = _raw()


@dataclass(frozen=True)
class WorkerRecord(_Json):
    id: str
    hub_id: str
    cpu_millicores: int
    memory_bytes: int
    gpus: list[tuple[str, int]]  # (model, VRAM bytes)
    labels: dict[str, str]
    # "native" and/or "container": the jobs the scheduler may hand the worker
    # (WorkerSpec::executors; a registration without the field means ["native"]).
    executors: list[str]
    status: WorkerStatus
    used_cpu_millicores: int
    used_memory_bytes: int
    gpus_in_use: int
    running_jobs: int
    utilisation_ppm: int
    power_draw_w: int
    # The last heartbeat's, per registered GPU: (utilisation ppm, VRAM in use in bytes).
    gpu_stats: list[tuple[int, int]]
    last_heartbeat_at: datetime
    registered_at: datetime
    raw_json: str = _raw()


@dataclass(frozen=True)
class JobRecord(_Json):
    id: str
    type: JobType
    name: str
    description: str
    container_image: str
    command: list[str]
    env: dict[str, str]
    cpu_millicores: int
    memory_bytes: int
    gpu: bool
    timeout_seconds: int
    input_refs: list[str]
    estimated_energy_mwh: int | None
    priority: int
    scheduled_at: datetime | None
    hub_id: str | None  # the hub the job prefers (or is pinned to)
    pin_hub: str | None  # constraints.pinHub: the job runs on this hub only
    owner: str
    idempotency_key: str | None
    max_attempts: int
    deadline: datetime | None
    depends_on: list[str]
    status: JobStatus
    wait_reason: str
    ready_at: datetime | None
    attempts: int
    dead_letter: bool
    worker_id: str | None  # holds the running attempt, or held the last one
    run_hub_id: str | None  # that worker's hub
    prefer_until: datetime | None  # a queued job preferring a hub: when any hub may take it
    lease_expires_at: datetime | None
    power_w: int
    output_refs: list[str]
    actual_energy_mwh: int | None
    energy_source: EnergySource | None
    heat_generated_mwh: int | None
    result_hash: str | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    raw_json: str = _raw()


@dataclass(frozen=True)
class Lease:
    job_id: str
    worker_id: str
    token: str = field(repr=False)  # secret: whoever holds it may complete the attempt
    expires_at: datetime
    attempt: int


@dataclass(frozen=True)
class ClaimedJob:
    lease: Lease
    job: JobRecord


@dataclass(frozen=True)
class JobCompletion:
    """What a worker reports when an attempt ends well (see Scheduler.complete)."""

    output_refs: list[str] = field(default_factory=list)  # CIDs
    energy_mwh: int | None = None  # None: modelled from the hub's power model
    energy_source: EnergySource = EnergySource.MEASURED
    result_hash: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    proof_of_execution: str | None = None
    worker_signature: str | None = None

    def _native(self, job_id: str, token: str) -> tuple[
        str, str, list[str], int | None, str, str | None, str, str | None, str | None
    ]:
        return (
            job_id,
            token,
            list(self.output_refs),
            self.energy_mwh,
            name_of(self.energy_source),
            self.result_hash,
            json.dumps(self.metrics, separators=(",", ":")),
            self.proof_of_execution,
            self.worker_signature,
        )


@dataclass(frozen=True)
class JobEvent(_Json):
    sequence: int
    job_id: str
    from_status: JobStatus | None
    to_status: JobStatus
    at: datetime
    actor: str
    reason: str
    raw_json: str = _raw()


@dataclass(frozen=True)
class QueueStats(_Json):
    hub_id: str
    by_status: dict[JobStatus, int]
    oldest_waiting: datetime | None
    raw_json: str = _raw()


@dataclass(frozen=True)
class Placement:
    hub_id: str
    worker_id: str  # empty: the line is about the hub as a whole
    eligible: bool
    reasons: list[str]
    # estimatedComputeKwh x the hub's heat recovery, in mWh; None when the job has no estimate
    expected_heat_mwh: int | None


# ---- content store ----------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest(_Json):
    content_id: str
    file_name: str | None
    file_size_bytes: int
    mime_type: str | None
    storage_tier: StorageTier
    access_level: AccessLevel
    replica_hubs: list[str]
    created_at: datetime
    owner: str
    min_replicas: int
    source_hub_id: str | None
    metadata_json: str
    allowed_regions: list[str]
    raw_json: str = _raw()

    @property
    def metadata(self) -> dict[str, Any]:
        """The free-form metadata object given at upload."""
        value: dict[str, Any] = json.loads(self.metadata_json)
        return value


@dataclass(frozen=True)
class NamedReference:
    name: str
    version: str
    content_id: str
    owner: str
    created_at: datetime


@dataclass(frozen=True)
class ReplicaRecord:
    content_id: str
    hub_id: str
    state: ReplicaState
    updated_at: datetime


@dataclass(frozen=True)
class RepairAction:
    content_id: str
    target_hub_id: str
    source_hub_ids: list[str]


@dataclass(frozen=True)
class ScrubProblem:
    block_cid: str
    tier: StorageTier
    problem: str  # "missing" or "corrupt"
    content_ids: list[str]


@dataclass(frozen=True)
class ScrubReport:
    blocks_checked: int
    bytes_checked: int
    problems: list[ScrubProblem]


@dataclass(frozen=True)
class Quota:
    """Upload limits of one owner; the seed's default is 100 MB per hour, no total limit."""

    upload_bytes_per_hour: int = 100_000_000
    total_bytes: int | None = None


# ---- heat ledger ------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatRecord(_Json):
    sequence: int
    hub_id: str
    kind: HeatKind
    job_id: str | None
    tag: str
    at: datetime
    credit_at: datetime
    electrical_mwh: int | None
    thermal_mwh: int
    energy_source: EnergySource
    heat_recovery_ppm: int | None
    recorded_at: datetime
    raw_json: str = _raw()


@dataclass(frozen=True)
class ManualHeat:
    """A heat record entered by hand (any kind but ``job``)."""

    hub_id: str
    thermal_mwh: int
    kind: HeatKind = HeatKind.OTHER
    tag: str = ""
    at: Instant | None = None  # when the heat was delivered; None: now
    electrical_mwh: int | None = None
    energy_source: EnergySource = EnergySource.MEASURED

    def _native(self) -> dict[str, Any]:
        return {
            "hub_id": self.hub_id,
            "thermal_mwh": self.thermal_mwh,
            "kind": name_of(self.kind),
            "tag": self.tag,
            "at_ms": None if self.at is None else to_ms(self.at),
            "electrical_mwh": self.electrical_mwh,
            "energy_source": name_of(self.energy_source),
        }


@dataclass(frozen=True)
class CreditRate(_Json):
    hub_id: str
    per_kwh: Money
    effective_from: datetime
    is_default: bool
    raw_json: str = _raw()


@dataclass(frozen=True)
class HeatCredit(_Json):
    hub_id: str
    period_start: datetime
    period_end: datetime
    total_heat_mwh: int
    credit: Money
    settled: bool
    raw_json: str = _raw()


@dataclass(frozen=True)
class HeatStats(_Json):
    hub_id: str
    total_heat_mwh: int
    total_credit: Money
    unsettled_credit: Money
    period_count: int
    last_period_end: datetime | None
    raw_json: str = _raw()


@dataclass(frozen=True)
class HeatSettlement(_Json):
    hub_id: str
    period_start: datetime
    period_end: datetime
    total_heat_mwh: int
    credit: Money
    record_count: int
    settled_at: datetime
    raw_json: str = _raw()


@dataclass(frozen=True)
class HeatSeriesPoint:
    start: datetime
    electricity_mwh: int
    heat_mwh: int
    heat_demand_mwh: int
    records: int


@dataclass(frozen=True)
class HeatSeries(_Json):
    hub_id: str
    resolution: SeriesResolution
    points: list[HeatSeriesPoint]
    raw_json: str = _raw()


@dataclass(frozen=True)
class HeatGroupStats(_Json):
    """Stats summed over every hub of a site or region (group_by "site" or "region")."""

    group_by: str
    group: str
    hub_ids: list[str]
    total_heat_mwh: int
    total_credit: Money
    unsettled_credit: Money
    period_count: int
    last_period_end: datetime | None
    hubs: list[HeatStats]
    raw_json: str = _raw()


@dataclass(frozen=True)
class HeatGroupSeries(_Json):
    """A series summed, bucket by bucket, over every hub of a site or region."""

    group_by: str
    group: str
    hub_ids: list[str]
    resolution: SeriesResolution
    points: list[HeatSeriesPoint]
    raw_json: str = _raw()


# ---- settlement -------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountRef:
    """An account: (kind, owner, currency); ``str()`` is its id, ``"client/alice/USD"``."""

    kind: AccountKind
    owner: str
    currency: str = "USD"

    def __str__(self) -> str:
        return f"{name_of(self.kind)}/{self.owner}/{self.currency}"


@dataclass(frozen=True)
class Account(_Json):
    id: str
    kind: AccountKind
    owner: str
    currency: str
    balance: Money
    pending_debits: Money
    pending_credits: Money
    available: Money
    created_at: datetime
    raw_json: str = _raw()


@dataclass(frozen=True)
class TransferRequest:
    id: str  # idempotency key
    debit: AccountRef
    credit: AccountRef
    amount: Money
    kind: TransferKind = TransferKind.TRANSFER
    reference: str = ""
    pending: bool = False  # two-phase: reserve now, post or void later
    timeout_at: Instant | None = None


@dataclass(frozen=True)
class Transfer(_Json):
    id: str
    debit_account: str
    credit_account: str
    amount: Money
    kind: TransferKind
    reference: str
    status: TransferStatus
    pending_id: str | None
    timeout_at: datetime | None
    created_at: datetime
    exists: bool  # this call found the transfer already stored
    raw_json: str = _raw()


@dataclass(frozen=True)
class AccountEntry(_Json):
    sequence: int
    transfer_id: str
    kind: TransferKind
    amount: Money  # signed: + credit, - debit
    balance_after: Money
    reference: str
    at: datetime
    raw_json: str = _raw()


@dataclass(frozen=True)
class EpochRecord(_Json):
    id: str
    number: int
    status: EpochStatus
    start: datetime
    end: datetime | None
    jobs_count: int
    jobs_merkle_root: str
    revenue: Money
    signer: str  # EIP-55 address
    signature: str  # 0x..., EIP-191 over summary_json
    artifact_cids: dict[str, str]
    summary_json: str  # the exact signed bytes
    total_distributed: Money  # the sum of its payouts; 0 until finalized
    previous_root: str | None  # the previous epoch's jobs_merkle_root; None for epoch 1
    raw_json: str = _raw()


@dataclass(frozen=True)
class EpochJob:
    job_id: str
    client: str
    worker: str
    job_type: str
    hub: str
    fee: Money
    result_hash: str
    poe_hash: str
    completed_at: datetime
    leaf: str  # the RFC 8785 JCS text the receipt's leaf hash is computed over


@dataclass(frozen=True)
class Payout(_Json):
    epoch_id: str
    worker_id: str
    work_share: Money
    readiness_share: Money
    jobs_completed: int
    uptime_ms: int  # within the epoch, the figure reputation counts
    status: PayoutStatus  # pending until withdrawals pay it
    raw_json: str = _raw()

    @property
    def total(self) -> Money:
        return self.work_share + self.readiness_share


@dataclass(frozen=True)
class EpochBundle:
    jobs_json: str
    agents_json: str
    summary_json: str
    signature_txt: str


@dataclass(frozen=True)
class ReceiptCheck:
    """What checking a receipt established. ``status`` is "valid" (a trusted signer signed
    it), "unverified" (consistent, but no trusted signer was given) or "invalid"; ``valid``
    is True only for "valid", and so is the check's truth value."""

    valid: bool
    problem: str  # why not valid; empty only when valid
    job_id: str
    epoch_id: str
    signer: str
    status: str = "invalid"
    signer_trusted: bool = False

    def __bool__(self) -> bool:
        return self.valid


@dataclass(frozen=True)
class JobCharge(_Json):
    """The charge of a job submitted with charging on: the table price, the demand multiplier
    and the signals it came from, the price reserved, and the reservation's state."""

    job_id: str
    client: str
    job_type: str
    base_price: Money  # the price table's
    multiplier_ppm: int  # the demand multiplier, ppm of 1x
    price: Money  # base_price x multiplier, reserved and charged
    queue_depth: int  # queued jobs ahead of it (capped at demand_full_queue_depth)
    utilisation_ppm: int  # of the workers that could run it
    status: str  # "reserved", "charged", "voided"
    raw_json: str = _raw()


@dataclass(frozen=True)
class MarketRequest:
    """A transaction between two hubs: ``quantity`` (an integer in ``type.unit``) at
    ``unit_price``, paid from the buyer's hub_operator account to the seller's."""

    id: str  # idempotency key
    type: MarketType
    buyer_hub: str
    seller_hub: str
    quantity: int
    unit_price: Money
    reference: str = ""  # an order, a heat settlement, ...


@dataclass(frozen=True)
class MarketTransaction(_Json):
    id: str
    type: MarketType
    buyer_hub: str
    seller_hub: str
    quantity: int
    unit: str
    unit_price: Money
    total: Money  # quantity x unit_price, exactly
    status: MarketStatus
    reference: str
    transfer_id: str  # the pending transfer that reserved the total
    resolution_id: str | None  # the transfer that posted or voided it
    created_at: datetime
    resolved_at: datetime | None
    exists: bool  # this call found the transaction already stored
    raw_json: str = _raw()


@dataclass(frozen=True)
class Reputation(_Json):
    """A worker's or hub's record of its ended attempts and its uptime; rates in ppm (0 with
    nothing to measure). ``score_ppm`` breaks the scheduler's ties between equal workers."""

    subject: ReputationSubject
    id: str
    attempts: int
    successes: int
    on_time: int
    uptime_ms: int
    observed_ms: int  # since registration
    success_rate_ppm: int  # successes / attempts
    on_time_rate_ppm: int  # on_time / successes
    uptime_ppm: int  # uptime_ms / observed_ms
    score_ppm: int  # the mean of the three rates
    raw_json: str = _raw()


# ---- options ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HubSettings(_Json):
    """The hub's stored settings (``Hub.settings()``): money and routing for the whole hub,
    applied by every process that opens it. Amounts are decimal texts in ``currency``
    ("0.100000"), durations ms; see include/sihlicon/settings.hpp for each one's range."""

    charge_jobs: bool
    require_worker_signatures: bool
    currency: str
    default_price: str
    prices: dict[str, str]
    protocol_fee_ppm: int
    operator_fee_ppm: int
    work_pool_ppm: int
    demand_min_ppm: int
    demand_max_ppm: int
    demand_full_queue_depth: int
    epoch_duration_ms: int
    preference_window_ms: int
    submissions_per_hour: int
    api_requests_per_hour: int
    aging_interval_ms: int
    heartbeat_interval_ms: int
    missed_heartbeats: int
    default_upload_bytes_per_hour: int
    default_total_bytes: int | None
    raw_json: str = _raw()

    @staticmethod
    def from_json(text: str) -> HubSettings:
        """From the JSON of ``to_json()`` (camelCase keys, the one codec of every edge)."""
        values = json.loads(text)
        snake = {
            "".join("_" + c.lower() if c.isupper() else c for c in key): value
            for key, value in values.items()
        }
        return HubSettings(**snake, raw_json=text)


@dataclass(frozen=True)
class SettingsChange:
    """One row of the settings' audit trail: ``by`` changed ``key`` from ``old`` to ``new``
    (JSON values) at ``at``."""

    seq: int
    at: datetime
    by: str
    key: str
    old: Any
    new: Any


@dataclass(frozen=True)
class SchedulerOptions:
    """This process's scheduler options (lease_duration_ms, claim_scan_limit). The other
    fields are hub settings: given to ``Hub(...)`` they are the initial settings of a hub that
    open creates (ignored for an existing hub); ``Scheduler.options()`` reports the stored ones,
    and ``Scheduler.set_options`` refuses to change them (use ``Hub.set_setting``)."""

    lease_duration_ms: int = 60_000
    heartbeat_interval_ms: int = 30_000
    missed_heartbeats: int = 3
    aging_interval_ms: int = 60_000
    submissions_per_hour: int = 10  # per owner (the seed); 0: unlimited
    claim_scan_limit: int = 256


@dataclass(frozen=True)
class SettlementOptions:
    """Given to ``Hub(...)``: every field but operator_key is a hub setting, written as the
    initial settings of a hub that open creates and ignored for an existing hub (change those
    with ``Hub.set_setting``/``update_settings``). ``Settlement.options()`` reports the stored
    settings."""

    charge_jobs: bool = False
    # requireWorkerSignatures: refuse completions without a valid worker signature
    require_worker_signatures: bool = False
    currency: str = "USD"
    default_price: int = 100_000  # minor units of `currency` (the seed's USD 0.10)
    prices: dict[str, int] = field(default_factory=dict)  # per job type, minor units
    protocol_fee_ppm: int = 20_000
    operator_fee_ppm: int = 50_000
    work_pool_ppm: int = 700_000
    # Demand pricing: the table price times a multiplier from demand_min_ppm (no demand) to
    # demand_max_ppm (full demand), from the job's queue depth (full at
    # demand_full_queue_depth) and its workers' utilisation. Equal: the flat table price.
    demand_min_ppm: int = 1_000_000
    demand_max_ppm: int = 1_000_000
    demand_full_queue_depth: int = 100
    epoch_duration_ms: int = 24 * 3600 * 1000
    # The operator's secp256k1 key (0x + 64 hex digits); None: the hub's operator.key file.
    operator_key: str | None = field(default=None, repr=False)
