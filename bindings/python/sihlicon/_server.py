# SPDX-License-Identifier: Apache-2.0
"""The hub on the network from Python: :class:`Server` (``sihlicon::Server``, HTTP/1.1 or
HTTPS) and :class:`ApiTokens`, the bearer tokens its requests authenticate with."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable

from . import _core, _lifetime
from ._records import build

if TYPE_CHECKING:
    from ._hub import Hub

OPERATOR = "operator"

class Server:
    """Serves ``hub`` over HTTP/1.1 (HTTPS when ``tls_certificate`` and ``tls_private_key``
    name PEM files): the endpoints, roles, limits and timeouts of ``sihlicon::Server``
    (include/sihlicon/server.hpp). Requests authenticate with :class:`ApiTokens`.

    ``port=0`` picks a free port, which :attr:`port` gives once started. The other options are
    the library's defaults when None: ``max_connections`` (512), ``header_limit`` (16 KiB, at
    least 1024), ``body_limit`` (1 MiB), ``read_timeout_ms``/``write_timeout_ms`` (30 s),
    ``idle_timeout_ms`` (60 s), ``threads`` (2, at most 1024), ``maintenance_interval_ms`` (60 s;
    0: none; how often the server seals the epoch when it is due and expires pending
    transfers, on the hub's clock, logging each to ``access_log``). They are read by the library's
    codec (``ServerOptions::from_json``): a bad one raises :class:`sihlicon.InvalidArgument`
    naming it in camelCase ("readTimeoutMs"), here for a value out of its type's range, at
    :meth:`start` for the rest (an address that is not an IP literal, one TLS file alone).
    ``access_log`` receives one line per request from the server's threads.

    A context manager (entering starts it, leaving stops it). :meth:`Hub.close` stops the hub's
    servers first; a stopped server cannot be started again."""

    def __init__(
        self,
        hub: Hub,
        address: str = "127.0.0.1",
        port: int = 0,
        tls_certificate: str | os.PathLike[str] | None = None,
        tls_private_key: str | os.PathLike[str] | None = None,
        *,
        max_connections: int | None = None,
        header_limit: int | None = None,
        body_limit: int | None = None,
        read_timeout_ms: int | None = None,
        write_timeout_ms: int | None = None,
        idle_timeout_ms: int | None = None,
        threads: int | None = None,
        maintenance_interval_ms: int | None = None,
        access_log: Callable[[str], None] | None = None,
    ) -> None:
        options: dict[str, object] = {
            "address": address,
            "port": port,
            "tlsCertificate": None if tls_certificate is None else os.fspath(tls_certificate),
            "tlsPrivateKey": None if tls_private_key is None else os.fspath(tls_private_key),
            "maxConnections": max_connections,
            "headerLimit": header_limit,
            "bodyLimit": body_limit,
            "readTimeoutMs": read_timeout_ms,
            "writeTimeoutMs": write_timeout_ms,
            "idleTimeoutMs": idle_timeout_ms,
            "threads": threads,
            "maintenanceIntervalMs": maintenance_interval_ms,
        }
        self._address = address
        self._tls = tls_certificate is not None
        self._native = _core.Server(hub._native, json.dumps(options), access_log)
        _lifetime.register(hub._native, self)

    def start(self) -> None:
        """Listens and serves. Raises InvalidArgument for a bad option or a TLS file OpenSSL
        refuses, IoError when the address cannot be bound, Conflict when already started,
        stopped, or the hub is closed."""
        self._native.start()

    @property
    def port(self) -> int:
        """The port listened on; 0 when not running."""
        return int(self._native.port)

    @property
    def running(self) -> bool:
        return bool(self._native.running)

    @property
    def url(self) -> str:
        """``http(s)://ADDRESS:PORT`` of the running server."""
        scheme = "https" if self._tls else "http"
        host = f"[{self._address}]" if ":" in self._address else self._address
        return f"{scheme}://{host}:{self.port}"

    def stop(self) -> None:
        """Stops accepting, lets the requests in flight finish, closes every connection and
        joins the threads. Idempotent."""
        self._native.stop()

    def __enter__(self) -> Server:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<sihlicon.Server port={self.port}>" if self.running else "<sihlicon.Server>"


@dataclass(frozen=True)
class TokenRecord:
    """An API token as the hub stores it (never its secret). ``role``: "client", "worker" or
    "operator"; ``worker_id``: the worker a worker token acts as."""

    id: str
    principal: str
    role: str
    worker_id: str | None
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class IssuedToken:
    """A token just created: ``secret`` ("sih_" + 64 hex digits) is shown only now; send it
    as ``Authorization: Bearer <secret>``."""

    secret: str
    record: TokenRecord


class ApiTokens:
    """The API tokens of a hub (include/sihlicon/tokens.hpp): stored only as hashes; only the
    operator principal creates, lists and revokes them (PermissionDenied otherwise)."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def create(
        self, principal: str, role: str, worker_id: str | None = None, *, by: str = OPERATOR
    ) -> IssuedToken:
        """A new token for ``principal`` with ``role``; a worker token needs ``worker_id``.
        Raises InvalidArgument naming "principal", "role" or "workerId"."""
        values = _core.token_create(self._hub._native, by, principal, role, worker_id or "")
        secret = str(values.pop("secret"))
        return IssuedToken(secret=secret, record=build(TokenRecord, values))

    def list(self, *, by: str = OPERATOR) -> list[TokenRecord]:
        """Every token, revoked ones included, in creation order."""
        return [build(TokenRecord, values) for values in _core.token_list(self._hub._native, by)]

    def revoke(self, token_id: str, *, by: str = OPERATOR) -> TokenRecord:
        """Revokes the token: it authenticates nobody from now on. Raises NotFound."""
        return build(TokenRecord, _core.token_revoke(self._hub._native, by, token_id))
