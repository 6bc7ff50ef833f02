# SPDX-License-Identifier: Apache-2.0
"""The seed SDK's shape over HTTP (seed-api-contracts.md, "SDK Examples"), against a hub's
server (``sihlicon serve``, or :class:`sihlicon.Server`), on the standard library only::

    client = sihlicon.Client("https://hub.example:8443/api", token)
    job_id = client.compute.submit({"jobType": "ocr", ...})["jobId"]
    manifest = client.storage.upload("/data/scan.pdf", {"storageTier": "cold"})
    credit = client.heat.get_credits("pool")

Requests go over one keep-alive ``http.client`` connection (reopened when the server closed
it; serialised by a lock, so a Client may be shared by threads) and carry ``Authorization:
Bearer <token>``. Each method returns the contract's JSON payload as dicts with its camelCase
keys: the named record where the contract names one (job, jobs, manifest, credit, stats), the
whole body otherwise (submit: ``{"success", "jobId"}``; cancel and delete: ``{"success",
"message"}``; settle: ``{"success", "settledCreditChf"}``).

A refused request raises the binding's exception class of the server's ``details.code`` when
it sends one, else of the status (400/413 InvalidArgument, 401/403 PermissionDenied, 402
InsufficientFunds, 404/405 NotFound, 409 Conflict, 429 QuotaExceeded, 503 Busy, other 5xx
InternalError), with ``message`` the contract's ``error``, ``field`` from ``details.field``,
and ``status``, ``details`` and (429) ``retry_after`` set. No answer raises IoError.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import ssl
import threading
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import IO, Any, Union

from ._errors import (
    ERROR_CLASSES,
    Busy,
    Conflict,
    Error,
    InsufficientFunds,
    InternalError,
    InvalidArgument,
    IoError,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
)
from ._records import Instant
from ._util import to_iso8601

#: What :meth:`Storage.upload` takes: a path on disk (streamed), bytes, or a binary file.
Uploadable = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]

_BY_STATUS: dict[int, type[Error]] = {
    400: InvalidArgument,
    413: InvalidArgument,
    401: PermissionDenied,
    403: PermissionDenied,
    402: InsufficientFunds,
    404: NotFound,
    405: NotFound,
    409: Conflict,
    429: QuotaExceeded,
    503: Busy,
}
_BY_LABEL: dict[str, type[Error]] = {code.label: cls for code, cls in ERROR_CLASSES.items()}
_CHUNK = 1 << 16


def _error_of(status: int, headers: http.client.HTTPMessage, text: bytes) -> Error:
    """The exception of a refused request."""
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = None
    message = f"HTTP {status}"
    details: object = None
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            message = body["error"]
        details = body.get("details")
    field = ""
    cls: type[Error] | None = None
    if isinstance(details, dict):
        if isinstance(details.get("field"), str):
            field = details["field"]
        code = details.get("code")
        if isinstance(code, str):
            cls = _BY_LABEL.get(code)
    if cls is None:
        cls = _BY_STATUS.get(status, InternalError if status >= 500 else InvalidArgument)
    error = cls(message, field)
    error.status = status
    error.details = details
    retry_after = headers.get("Retry-After")
    if status == 429 and retry_after is not None and retry_after.isdigit():
        error.retry_after = int(retry_after)
    return error


def _required(value: object, field: str) -> str:
    if not isinstance(value, str) or value == "":
        raise InvalidArgument(f"{field}: a non-empty string is required", field)
    return value


def _iso(value: Instant | str | None, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    try:
        return to_iso8601(value)
    except (TypeError, ValueError, OverflowError) as error:
        raise InvalidArgument(f"{field}: {value!r} is not an instant", field) from error


def _query(values: Mapping[str, object]) -> str:
    present = {key: str(value) for key, value in values.items() if value is not None}
    return "?" + urllib.parse.urlencode(present) if present else ""


class _Body:
    """A request body with its exact length: bytes, or parts streamed from a file."""

    def __init__(self, content_type: str, length: int, parts: Iterator[bytes]) -> None:
        self.content_type = content_type
        self.length = length
        self.parts = parts


class _Transport:
    def __init__(
        self, api_url: str, token: str, timeout: float, ssl_context: ssl.SSLContext | None
    ) -> None:
        url = urllib.parse.urlsplit(_required(api_url, "api_url"))
        if url.scheme not in ("http", "https") or not url.hostname:
            raise InvalidArgument(f"api_url: {api_url!r} must be an http(s) URL", "api_url")
        if any(c in _required(token, "token") for c in "\r\n"):
            raise InvalidArgument("token: must be one line", "token")
        self._prefix = url.path.rstrip("/")
        self._token = token
        self._lock = threading.Lock()
        self._connection: http.client.HTTPConnection
        if url.scheme == "https":
            context = ssl_context if ssl_context is not None else ssl.create_default_context()
            self._connection = http.client.HTTPSConnection(
                url.hostname, url.port, timeout=timeout, context=context
            )
        else:
            self._connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)

    def _drop_if_closed_by_peer(self) -> None:
        """Closes the kept-alive connection when the server closed its end (idle timeout), so
        that the request goes over a new one instead of failing."""
        sock = self._connection.sock
        if sock is not None and select.select([sock], [], [], 0)[0]:
            self._connection.close()

    def request(
        self, method: str, route: str, json_body: object = None, body: _Body | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        data: bytes | Iterator[bytes] | None = None
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(len(data))
        elif body is not None:
            data = body.parts
            headers["Content-Type"] = body.content_type
            headers["Content-Length"] = str(body.length)
        with self._lock:
            try:
                self._drop_if_closed_by_peer()
                try:
                    self._connection.request(
                        method, self._prefix + route, body=data, headers=headers
                    )
                except (BrokenPipeError, ConnectionResetError):
                    # The server may have answered (413, 401) and closed before reading the
                    # whole body: its answer is what the caller needs, read below.
                    pass
                response = self._connection.getresponse()
                text = response.read()
            except (OSError, http.client.HTTPException) as error:
                self._connection.close()
                raise IoError(f"{method} {route}: no answer from the server: {error}") from error
            if response.will_close:
                self._connection.close()
        if not 200 <= response.status <= 299:
            raise _error_of(response.status, response.headers, text)
        try:
            return json.loads(text)
        except ValueError as error:
            raise IoError(f"{method} {route}: the server's answer is not JSON") from error

    def close(self) -> None:
        with self._lock:
            self._connection.close()


class Compute:
    """``/api/compute``: jobs submitted and read as the token's principal."""

    def __init__(self, transport: _Transport) -> None:
        self._transport = transport

    def submit(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /api/compute`` with the contract's body -> ``{"success", "jobId"}``."""
        result: dict[str, Any] = self._transport.request("POST", "/compute", json_body=dict(spec))
        return result

    def get(self, job_id: str) -> dict[str, Any]:
        """``GET /api/compute/{jobId}`` -> the job (NotFound for someone else's)."""
        route = "/compute/" + urllib.parse.quote(_required(job_id, "job_id"), safe="")
        job: dict[str, Any] = self._transport.request("GET", route)["job"]
        return job

    def list(
        self, hub_id: str | None = None, status: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """``GET /api/compute?hubId=&status=&limit=`` -> the jobs (a client's own only)."""
        route = "/compute" + _query({"hubId": hub_id, "status": status, "limit": limit})
        jobs: list[dict[str, Any]] = self._transport.request("GET", route)["jobs"]
        return jobs

    def cancel(self, job_id: str) -> dict[str, Any]:
        """``DELETE /api/compute/{jobId}`` -> ``{"success", "message"}``."""
        route = "/compute/" + urllib.parse.quote(_required(job_id, "job_id"), safe="")
        result: dict[str, Any] = self._transport.request("DELETE", route)
        return result


def _multipart(file: Uploadable, metadata: Mapping[str, Any]) -> _Body:
    """The multipart/form-data body of an upload: "metadata" (JSON) and the "file" part,
    streamed from disk or a file object, never read whole."""
    meta = dict(metadata)
    boundary = f"sihlicon-{uuid.uuid4().hex}"
    stream: IO[bytes] | None = None
    payload: bytes | None = None
    if isinstance(file, (str, os.PathLike)):
        path = os.fspath(file)
        if not os.path.isfile(path):
            raise InvalidArgument(f"file: {path!r} is not a file", "file")
        size = os.path.getsize(path)
        meta.setdefault("fileName", os.path.basename(path))
        stream = open(path, "rb")  # closed by parts() once sent
    elif isinstance(file, (bytes, bytearray, memoryview)):
        payload = bytes(file)
        size = len(payload)
    elif hasattr(file, "read") and hasattr(file, "seek"):
        stream = file
        start = file.tell()
        size = file.seek(0, os.SEEK_END) - start
        file.seek(start)
    else:
        raise InvalidArgument("file: a path, bytes or a binary file object is required", "file")
    name = str(meta.get("fileName", "upload")).translate({ord(c): "_" for c in '"\r\n\\'})
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n"
        f"Content-Type: application/json\r\n\r\n{json.dumps(meta)}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    owned = isinstance(file, (str, os.PathLike))

    def parts() -> Iterator[bytes]:
        try:
            yield head
            if payload is not None:
                yield payload
            elif stream is not None:
                left = size
                while left > 0:
                    chunk = stream.read(min(_CHUNK, left))
                    if not chunk:
                        raise IoError("file: the file became shorter while it was sent", "file")
                    left -= len(chunk)
                    yield chunk
            yield tail
        finally:
            if owned and stream is not None:
                stream.close()

    return _Body(f"multipart/form-data; boundary={boundary}", len(head) + size + len(tail), parts())


class Storage:
    """``/api/storage``: content stored, read and deleted as the token's principal."""

    def __init__(self, transport: _Transport) -> None:
        self._transport = transport

    def upload(self, file: Uploadable, metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``POST /api/storage`` (multipart/form-data): ``file`` is a path (streamed from
        disk), bytes, or a binary file object (read from its position to its end);
        ``metadata`` the contract's {fileName, mimeType, storageTier, accessLevel,
        minReplicas, sourceHubId, metadata}. -> the manifest."""
        body = _multipart(file, metadata or {})
        manifest: dict[str, Any] = self._transport.request("POST", "/storage", body=body)[
            "manifest"
        ]
        return manifest

    def get_manifest(self, content_id: str) -> dict[str, Any]:
        """``GET /api/storage?contentId=`` -> the manifest."""
        route = "/storage" + _query({"contentId": _required(content_id, "content_id")})
        manifest: dict[str, Any] = self._transport.request("GET", route)["manifest"]
        return manifest

    def delete(self, content_id: str) -> dict[str, Any]:
        """``DELETE /api/storage?contentId=`` -> ``{"success", "message"}``."""
        route = "/storage" + _query({"contentId": _required(content_id, "content_id")})
        result: dict[str, Any] = self._transport.request("DELETE", route)
        return result


class Heat:
    """``/api/heat``: heat credits and statistics; settling is the operator's."""

    def __init__(self, transport: _Transport) -> None:
        self._transport = transport

    def get_credits(
        self, hub_id: str, start: Instant | str | None = None, end: Instant | str | None = None
    ) -> dict[str, Any]:
        """``GET /api/heat/credits?hubId=&start=&end=`` -> the credit. Instants: datetimes,
        milliseconds since the epoch, or ISO 8601 text."""
        route = "/heat/credits" + _query(
            {
                "hubId": _required(hub_id, "hub_id"),
                "start": _iso(start, "start"),
                "end": _iso(end, "end"),
            }
        )
        credit: dict[str, Any] = self._transport.request("GET", route)["credit"]
        return credit

    def get_stats(self, hub_id: str) -> dict[str, Any]:
        """``GET /api/heat/stats?hubId=`` -> the stats."""
        route = "/heat/stats" + _query({"hubId": _required(hub_id, "hub_id")})
        stats: dict[str, Any] = self._transport.request("GET", route)["stats"]
        return stats

    def settle(
        self, hub_id: str, period_start: Instant | str, period_end: Instant | str
    ) -> dict[str, Any]:
        """``POST /api/heat/settle`` (operator) -> ``{"success", "settledCreditChf"}``."""
        body = {
            "hubId": _required(hub_id, "hub_id"),
            "periodStart": _iso(period_start, "period_start"),
            "periodEnd": _iso(period_end, "period_end"),
        }
        result: dict[str, Any] = self._transport.request("POST", "/heat/settle", json_body=body)
        return result


class Client:
    """A hub's REST API over HTTP(S). ``api_url``: the contract's base
    (``"https://host:port/api"``); ``token``: an API token (:class:`sihlicon.ApiTokens`,
    ``sihlicon token create``); ``ssl_context``: for HTTPS with a certificate of one's own
    (default: the system's trust store); ``timeout``: seconds to wait for the server. A context
    manager; :meth:`close` closes the connection (a later request opens a new one)."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        timeout: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._transport = _Transport(api_url, token, timeout, ssl_context)
        self.api_url = api_url
        self.compute = Compute(self._transport)
        self.storage = Storage(self._transport)
        self.heat = Heat(self._transport)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

