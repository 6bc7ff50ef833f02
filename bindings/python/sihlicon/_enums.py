# SPDX-License-Identifier: Apache-2.0
"""The library's enumerations. Each value is the name the C++ API and the seed's JSON use, so
members compare equal to those strings (``JobStatus.QUEUED == "queued"``)."""

from __future__ import annotations

from enum import Enum

from . import _core


class JobType(str, Enum):
    OCR = "ocr"
    AI_INFERENCE = "ai-inference"
    TIME_SERIES = "time-series"
    VIDEO_PROCESSING = "video-processing"
    SCIENTIFIC = "scientific"
    CUSTOM = "custom"


class JobStatus(str, Enum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class GridSignal(str, Enum):
    SURPLUS = "surplus"
    NORMAL = "normal"
    THROTTLE = "throttle"
    CURTAIL = "curtail"


class WorkerStatus(str, Enum):
    ONLINE = "online"
    BUSY = "busy"
    OFFLINE = "offline"
    DRAINING = "draining"


class RoutingPolicy(str, Enum):
    LEAST_LOADED = "least-loaded"
    ROUND_ROBIN = "round-robin"
    GPU_MATCH = "gpu-match"
    BIN_PACKING = "bin-packing"
    HEAT_DEMAND_FIRST = "heat-demand-first"


class EnergySource(str, Enum):
    MEASURED = "measured"
    MODELLED = "modelled"
    ESTIMATED = "estimated"


class StorageTier(str, Enum):
    HOT = "hot"
    COLD = "cold"
    GLACIER = "glacier"


class AccessLevel(str, Enum):
    PRIVATE = "private"
    COMMUNITY = "community"
    PUBLIC = "public"


class ReplicaState(str, Enum):
    WANTED = "wanted"
    PINNED = "pinned"
    FAILED = "failed"


class HeatKind(str, Enum):
    JOB = "job"
    BATTERY_LOSSES = "battery-losses"
    STANDALONE_HEATER = "standalone-heater"
    OTHER = "other"


class SeriesResolution(str, Enum):
    HOUR = "hour"
    DAY = "day"


class AccountKind(str, Enum):
    CLIENT = "client"
    WORKER = "worker"
    HUB_OPERATOR = "hub_operator"
    ESCROW = "escrow"
    TREASURY = "treasury"
    PROTOCOL_FEE = "protocol_fee"
    OPERATOR_FEE = "operator_fee"
    HEAT_CREDITS = "heat_credits"
    MODEL_ROYALTIES = "model_royalties"
    EXTERNAL = "external"


class TransferKind(str, Enum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    JOB_CHARGE = "job_charge"
    REFUND = "refund"
    PAYOUT = "payout"
    PROTOCOL_FEE = "protocol_fee"
    OPERATOR_FEE = "operator_fee"
    HEAT_CREDIT = "heat_credit"
    ROYALTY = "royalty"
    TRANSFER = "transfer"


class TransferStatus(str, Enum):
    POSTED = "posted"
    PENDING = "pending"
    VOIDED = "voided"
    EXPIRED = "expired"


class EpochStatus(str, Enum):
    ACTIVE = "active"
    SEALING = "sealing"
    FINALIZED = "finalized"


class PayoutStatus(str, Enum):
    """``pending`` in the worker's account; ``paid`` once withdrawals cover it (oldest first)."""

    PENDING = "pending"
    PAID = "paid"


class MarketType(str, Enum):
    """What hubs trade; quantities are integers in :attr:`unit`."""

    COMPUTE = "compute"
    STORAGE = "storage"
    HEAT = "heat"
    ENERGY = "energy"

    @property
    def unit(self) -> str:
        """The unit of a quantity of this type: ``"job"``, ``"GB-month"`` or ``"Wh"``."""
        return _core.market_unit(self.value)


class MarketStatus(str, Enum):
    PENDING = "pending"  # created, its total reserved from the buyer
    SETTLED = "settled"  # paid to the seller
    CANCELLED = "cancelled"  # the reservation released


class ReputationSubject(str, Enum):
    WORKER = "worker"
    HUB = "hub"


class Durability(str, Enum):
    PROCESS_CRASH = "process_crash"
    POWER_LOSS = "power_loss"


class IntegrityCheck(str, Enum):
    NONE = "none"
    QUICK = "quick"
    FULL = "full"


def name_of(value: Enum | str) -> str:
    """The library's name of an enumeration member, or the string given (which the library
    then validates, raising InvalidArgument naming the field)."""
    if isinstance(value, Enum):
        name: str = value.value
        return name
    return value
