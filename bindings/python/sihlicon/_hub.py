# SPDX-License-Identifier: Apache-2.0
"""Hub: one sihlicon installation on disk, and the clock it reads time from."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from . import _core
from ._content import ContentStore
from ._enums import Durability, IntegrityCheck, name_of
from ._heat import HeatLedger
from ._records import (
    HubInfo,
    HubSettings,
    Instant,
    SchedulerOptions,
    SettingsChange,
    SettlementOptions,
    build,
    duration_ms,
    from_ms,
    to_ms,
)
from ._scheduler import Scheduler
from ._settlement import Settlement


class ManualClock:
    """A clock that moves only when told to, for tests and simulations. Thread-safe."""

    def __init__(self, start: Instant) -> None:
        self._native = _core.ManualClock(to_ms(start))

    def now(self) -> datetime:
        return from_ms(self._native.now_ms())

    def now_ms(self) -> int:
        return self._native.now_ms()

    def set(self, instant: Instant) -> None:
        """Moves the clock to ``instant``, which may be earlier than now."""
        self._native.set_ms(to_ms(instant))

    def advance(self, duration: timedelta | int) -> None:
        """Moves the clock by ``duration`` (a timedelta, or int milliseconds)."""
        self._native.advance_ms(duration_ms(duration))


class Hub:
    """A hub directory (``hub.db`` and ``blobs/``), opened (and created if missing) at
    construction. Use it as a context manager, or call :meth:`close`. Safe to use from many
    threads: every call releases the GIL while the library works, and :meth:`close` waits for
    calls in progress on other threads.

    ``commit_interval`` (a timedelta or int milliseconds, default 0): above 0, a write returns
    once it is in the hub's write log (``hub.db-log``) and ``hub.db`` commits the log when its
    oldest record is this old, before any read, and at close. Same crash guarantee as
    ``durability``; with process_crash, 3 to 4 times the scheduler's calls per second. Another
    process's reads and writes of the hub wait up to this long for the commit.

    ``scheduler`` and ``settlement``: their hub-wide fields are the initial hub settings of a
    hub this open creates, ignored when the hub exists (see :meth:`settings`).

    Raises :class:`sihlicon.NotFound` (no hub and ``create_if_missing`` false),
    :class:`sihlicon.IntegrityError` (not a healthy hub database), :class:`sihlicon.Conflict`
    (written by a newer sihlicon), :class:`sihlicon.IoError`, :class:`sihlicon.Busy`.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        clock: ManualClock | None = None,
        create_if_missing: bool = True,
        busy_timeout: timedelta | int = 30_000,
        durability: Durability = Durability.POWER_LOSS,
        integrity_check: IntegrityCheck = IntegrityCheck.QUICK,
        reader_connections: int = 4,
        commit_interval: timedelta | int = 0,
        scheduler: SchedulerOptions | None = None,
        settlement: SettlementOptions | None = None,
    ) -> None:
        scheduler_options = dataclasses.asdict(scheduler or SchedulerOptions())
        settlement_options = dataclasses.asdict(settlement or SettlementOptions())
        self._native = _core.Hub.open(
            os.fspath(directory),
            create_if_missing,
            duration_ms(busy_timeout),
            name_of(durability),
            name_of(integrity_check),
            reader_connections,
            duration_ms(commit_interval),
            None if clock is None else clock._native,
            scheduler_options,
            settlement_options,
        )
        self._clock = clock
        self._scheduler = Scheduler(_core.Scheduler(self._native))
        self._content_store = ContentStore(_core.ContentStore(self._native))
        self._heat_ledger = HeatLedger(_core.HeatLedger(self._native))
        self._settlement = Settlement(_core.Settlement(self._native))

    @classmethod
    def open(cls, directory: str | os.PathLike[str], **options: object) -> Hub:
        """Same as ``Hub(directory, **options)``."""
        return cls(directory, **options)  # type: ignore[arg-type]

    def close(self) -> None:
        """Waits for calls in progress, then closes the database. Closing twice does nothing;
        any later call raises :class:`sihlicon.Conflict`, and the listeners are dropped. Raises
        Conflict when called from inside one of the hub's own callbacks (it would wait for
        itself). Worker agents and servers of this hub are stopped first."""
        from ._lifetime import stop_all

        stop_all(self._native)
        self._native.close()

    @property
    def closed(self) -> bool:
        return self._native.closed

    def __enter__(self) -> Hub:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.directory
        return f"<sihlicon.Hub {state}>"

    @property
    def scheduler(self) -> Scheduler:
        return self._scheduler

    @property
    def content_store(self) -> ContentStore:
        return self._content_store

    @property
    def heat_ledger(self) -> HeatLedger:
        return self._heat_ledger

    @property
    def settlement(self) -> Settlement:
        return self._settlement

    @property
    def clock(self) -> ManualClock | None:
        """The ManualClock given at opening, or None for the system clock."""
        return self._clock

    @property
    def directory(self) -> str:
        return self._native.directory()

    @property
    def blob_directory(self) -> str:
        return self._native.blob_directory()

    def now(self) -> datetime:
        """The hub clock's current instant."""
        return from_ms(self._native.now_ms())

    def info(self) -> HubInfo:
        """The hub's identity, schema version and record counts, in one snapshot."""
        return build(HubInfo, self._native.info())

    # ---- settings ----

    def settings(self) -> HubSettings:
        """The hub's stored settings (money and routing for the whole hub), as every process
        that opens the hub applies them."""
        return HubSettings.from_json(self._native.settings())

    def set_setting(self, key: str, value: str, by: str = "operator") -> HubSettings:
        """Changes one setting from its text, as ``sihlicon settings set`` takes it ("true",
        "0.05", "60s", key "prices.ocr"), validated, written and audited in one transaction;
        returns the stored settings. Raises PermissionDenied unless ``by`` is the operator,
        InvalidArgument naming the key and the value (nothing changed)."""
        return HubSettings.from_json(self._native.set_setting(key, value, by))

    def update_settings(
        self, patch: dict[str, Any] | str, by: str = "operator"
    ) -> HubSettings:
        """Applies the given keys (camelCase, as ``HubSettings.to_json()`` writes them) over
        the stored settings; raises as :meth:`set_setting`."""
        text = patch if isinstance(patch, str) else json.dumps(patch)
        return HubSettings.from_json(self._native.update_settings(text, by))

    def settings_history(self, after_seq: int = 0, limit: int = 1000) -> list[SettingsChange]:
        """Who changed which setting when, oldest first (changes after ``after_seq``)."""
        return [
            SettingsChange(
                seq=row["seq"],
                at=from_ms(row["at"]),
                by=row["by"],
                key=row["key"],
                old=row["old"],
                new=row["new"],
            )
            for row in json.loads(self._native.settings_history(after_seq, limit))
        ]

    # ---- peers (include/sihlicon/peers.hpp) ----

    def add_peer(
        self, hub_id: str, url: str, token: str, by: str = "operator"
    ) -> dict[str, Any]:
        """Adds the hub ``hub_id`` whose server is at ``url`` (http:// or https://, a host, an
        optional port and path; no user information, query or fragment), to which this hub
        presents the API token ``token``; returns ``{"hubId", "url", "addedAt"}``, never the
        token. Raises PermissionDenied unless ``by`` is the operator, InvalidArgument naming
        "hubId", "url" or "token" (the token is never shown), Conflict for a hub already a
        peer."""
        result: dict[str, Any] = json.loads(self._native.peer_add(hub_id, url, token, by))
        return result

    def peers(self, by: str = "operator") -> list[dict[str, Any]]:
        """Every peer, by hub id, as ``{"hubId", "url", "addedAt"}``: never a token."""
        result: list[dict[str, Any]] = json.loads(self._native.peer_list(by))
        return result

    def remove_peer(self, hub_id: str, by: str = "operator") -> dict[str, Any]:
        """Removes a peer and its token; returns what it was. Raises NotFound for a hub that
        is not a peer."""
        result: dict[str, Any] = json.loads(self._native.peer_remove(hub_id, by))
        return result

    def events_after(
        self,
        after: int = 0,
        limit: int = 100,
        principal: str = "operator",
        worker_id: str = "",
        wait: float = 0.0,
    ) -> list[dict[str, Any]]:
        """The hub's events after sequence ``after`` that the reader may see, oldest first, at
        most ``limit`` (1..1000): the operator every event, a client (``principal``) those
        concerning it, ``worker_id`` those concerning that worker. With ``wait`` (seconds, at
        most 300) it waits for the first one, written by this process or another, and gives
        ``[]`` when the time is up. Each event is a dict: sequence, at, kind, subject, client,
        worker, payload."""
        events: list[dict[str, Any]] = json.loads(
            self._native.events_after(after, limit, principal, worker_id, round(wait * 1000))
        )
        return events

    def last_event_sequence(self) -> int:
        """The sequence of the last event in the hub's log (0: none)."""
        return self._native.last_event_sequence()

    @staticmethod
    def latest_schema_version() -> int:
        return _core.Hub.latest_schema_version()
