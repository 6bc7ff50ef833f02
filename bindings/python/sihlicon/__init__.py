# SPDX-License-Identifier: Apache-2.0
"""sihlicon: an embeddable engine for compute-as-heat hubs, in-process (and on the network:
:class:`Server` serves a hub over HTTP, :class:`Client` is the REST API's client).

Open a :class:`Hub` (a directory: an SQLite database and a blob folder) and use its services:
:attr:`Hub.scheduler`, :attr:`Hub.content_store`, :attr:`Hub.heat_ledger`,
:attr:`Hub.settlement`. Every failure is a :class:`sihlicon.Error` subclass with ``.code`` and
``.field``. The native module ``sihlicon._core`` binds the C++ API; it is private.
"""

from __future__ import annotations

from . import _core
from ._agent import (
    NATIVE_IMAGE,
    AgentStatus,
    ExecutionOutcome,
    ExecutionRequest,
    ExecutionResult,
    Executor,
    WorkerAgent,
)
from ._client import Client
from ._content import OPERATOR_PRINCIPAL, ContentReader, ContentStore, put_options_from_json
from ._enums import (
    AccessLevel,
    AccountKind,
    Durability,
    EnergySource,
    EpochStatus,
    PayoutStatus,
    GridSignal,
    HeatKind,
    IntegrityCheck,
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
from ._errors import (
    Busy,
    Conflict,
    Error,
    ErrorCode,
    InsufficientFunds,
    IntegrityError,
    InternalError,
    InvalidArgument,
    IoError,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
)
from ._heat import HeatLedger, HeatPeriod
from ._hub import Hub, ManualClock
from ._records import (
    Account,
    AccountEntry,
    AccountRef,
    ClaimedJob,
    CreditRate,
    EpochBundle,
    EpochJob,
    EpochRecord,
    HeatCredit,
    HeatGroupSeries,
    HeatGroupStats,
    HeatRecord,
    HeatSeries,
    HeatSeriesPoint,
    HeatSettlement,
    HeatStats,
    HubInfo,
    HubRecord,
    HubSettings,
    Instant,
    JobCharge,
    JobCompletion,
    JobEvent,
    JobRecord,
    Lease,
    Manifest,
    ManualHeat,
    MarketRequest,
    MarketTransaction,
    Money,
    NamedReference,
    Payout,
    Placement,
    QueueStats,
    Quota,
    ReceiptCheck,
    RepairAction,
    ReplicaRecord,
    Reputation,
    SchedulerOptions,
    ScrubProblem,
    ScrubReport,
    SettingsChange,
    SettlementOptions,
    Transfer,
    TransferRequest,
    WorkerRecord,
    from_ms,
    kwh,
    parse_kwh,
    to_ms,
)
from ._power import MeteredEnergy, MeterSample, PowerMeter, RaplDomain, model_watts
from ._scheduler import Scheduler
from ._server import ApiTokens, IssuedToken, Server, TokenRecord
from ._settlement import ReceiptVerifier, Settlement, verify_receipt
from ._util import (
    compute_cid,
    compute_file_cid,
    eip191_sign,
    eip191_verify,
    normalize_cid,
    parse_iso8601,
    proof_of_execution,
    to_iso8601,
)

__version__: str = _core.__version__

__all__ = [
    "NATIVE_IMAGE", "AgentStatus", "ExecutionOutcome", "ExecutionRequest", "ExecutionResult",
    "Executor", "WorkerAgent",
    "OPERATOR_PRINCIPAL",
    "ApiTokens", "Client", "IssuedToken", "Server", "TokenRecord",
    "AccessLevel", "Account", "AccountEntry", "AccountKind", "AccountRef", "Busy", "ClaimedJob",
    "Conflict", "ContentReader", "ContentStore", "CreditRate", "Durability", "EnergySource",
    "EpochBundle", "EpochJob", "EpochRecord", "EpochStatus", "Error", "ErrorCode", "GridSignal",
    "HeatCredit", "HeatGroupSeries", "HeatGroupStats", "HeatKind", "HeatLedger", "HeatPeriod", "HeatRecord",
    "HeatSeries", "HeatSeriesPoint", "HeatSettlement", "HeatStats", "Hub", "HubInfo", "HubRecord", "HubSettings",
    "Instant", "InsufficientFunds",
    "IntegrityCheck", "IntegrityError", "InternalError", "InvalidArgument", "IoError",
    "JobCharge", "JobCompletion", "JobEvent", "JobRecord", "JobStatus", "JobType", "Lease",
    "Manifest", "ManualClock", "ManualHeat", "MarketRequest", "MarketStatus", "MarketTransaction",
    "MarketType", "MeterSample", "MeteredEnergy", "Money", "NamedReference", "NotFound",
    "Payout", "PayoutStatus", "PermissionDenied", "Placement", "PowerMeter", "QueueStats", "Quota",
    "QuotaExceeded", "RaplDomain", "ReceiptCheck", "ReceiptVerifier", "RepairAction",
    "ReplicaRecord", "ReplicaState", "Reputation", "ReputationSubject", "RoutingPolicy",
    "Scheduler", "SchedulerOptions", "ScrubProblem", "ScrubReport", "SeriesResolution", "Settlement", "SettingsChange", "SettlementOptions",
    "StorageTier", "Transfer", "TransferKind", "TransferRequest", "TransferStatus", "WorkerRecord",
    "WorkerStatus", "compute_cid", "compute_file_cid", "from_ms", "kwh", "model_watts",
    "eip191_sign", "eip191_verify", "normalize_cid", "parse_iso8601", "parse_kwh", "proof_of_execution", "put_options_from_json", "to_iso8601", "to_ms",
    "verify_receipt",
]  # fmt: skip
