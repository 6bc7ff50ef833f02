#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The seed's REST contract (seed-api-contracts.md) served over an embedded hub, with nothing
but the standard library's ThreadingHTTPServer:

    POST   /api/compute                       submit a job           -> {success, jobId}
    GET    /api/compute?hubId=&status=&limit= list jobs              -> {success, jobs}
           (the hub's jobs: those preferring it (hubId) or pinned to it (constraints.pinHub),
           and those that ran on it (runHubId); the caller's own only)
    GET    /api/compute/{jobId}               job status             -> {success, job}
    DELETE /api/compute/{jobId}               cancel                 -> {success, message}
    POST   /api/storage                       multipart upload       -> {success, manifest}
    GET    /api/storage?contentId=            manifest               -> {success, manifest}
    DELETE /api/storage?contentId=            delete                 -> {success, message}
    GET    /api/heat/credits?hubId=&start=&end=                      -> {success, credit}
    GET    /api/heat/stats?hubId= (or ?site= / ?region=: summed)     -> {success, stats}
    POST   /api/heat/settle {hubId, periodStart, periodEnd}          -> {success, settledCreditChf}

Errors are {error, details?} with the seed's status codes (400 validation, 401 no session, 403
access denied, 404 not found, 500 internal) and, beyond the seed, 409 for a state conflict,
413 for a body too large, 429 for a rate limit. Every authenticated response carries the
seed's rate-limit headers (1000 API requests per user per hour); compute submissions (10 per
hour) and storage uploads (100 MB per hour) are limited by the library itself.

Authentication: the seed's session cookie ``sihlhack_session=TOKEN``; the sessions (token to
user) are given on the command line, standing in for the host's magic-link sign-in. Settling
heat credits is reserved to the users named with --operator. No session may sign in as the
library's own operator principal (sihlicon.OPERATOR_PRINCIPAL), which administers the hub
locally. The server listens on 127.0.0.1 only.

    python3 examples/python/rest_server.py ./demo-hub --port 8080 \\
        --session secret-ann=ann --session secret-op=olga --operator olga
"""

from __future__ import annotations

import argparse
import json
import re
import threading
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sihlicon

API_REQUESTS_PER_HOUR = 1000
MAX_BODY_BYTES = 110_000_000  # the seed's 100 MB hourly upload volume, plus multipart framing
SESSION_COOKIE = "sihlhack_session"

STATUS_OF_ERROR: dict[sihlicon.ErrorCode, HTTPStatus] = {
    sihlicon.ErrorCode.INVALID_ARGUMENT: HTTPStatus.BAD_REQUEST,
    sihlicon.ErrorCode.NOT_FOUND: HTTPStatus.NOT_FOUND,
    sihlicon.ErrorCode.CONFLICT: HTTPStatus.CONFLICT,
    sihlicon.ErrorCode.PERMISSION_DENIED: HTTPStatus.FORBIDDEN,
    sihlicon.ErrorCode.QUOTA_EXCEEDED: HTTPStatus.TOO_MANY_REQUESTS,
    sihlicon.ErrorCode.INSUFFICIENT_FUNDS: HTTPStatus.PAYMENT_REQUIRED,
    sihlicon.ErrorCode.INTEGRITY: HTTPStatus.INTERNAL_SERVER_ERROR,
    sihlicon.ErrorCode.IO: HTTPStatus.INTERNAL_SERVER_ERROR,
    sihlicon.ErrorCode.BUSY: HTTPStatus.SERVICE_UNAVAILABLE,
    sihlicon.ErrorCode.INTERNAL: HTTPStatus.INTERNAL_SERVER_ERROR,
}

JOB_PATH = re.compile(r"^/api/compute/(?P<job_id>[A-Za-z0-9._-]{1,128})$")


class ApiError(Exception):
    """An error answered as {error, details} with `status`."""

    def __init__(self, status: HTTPStatus, message: str, details: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


class RateLimiter:
    """The seed's API limit: `limit` requests per user per clock hour (fixed windows), read
    from the hub's clock so that tests drive it with a ManualClock."""

    def __init__(self, hub: sihlicon.Hub, limit: int = API_REQUESTS_PER_HOUR) -> None:
        self._hub = hub
        self._limit = limit
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # user -> (window start s, count)

    def take(self, user: str) -> tuple[dict[str, str], bool]:
        """Counts one request of `user`; returns the headers and whether it is allowed."""
        now = sihlicon.to_ms(self._hub.now()) // 1000
        window = now - now % 3600
        with self._lock:
            start, count = self._windows.get(user, (window, 0))
            if start != window:
                start, count = window, 0
            allowed = count < self._limit
            if allowed:
                count += 1
            self._windows[user] = (start, count)
        headers = {
            "X-RateLimit-Limit": str(self._limit),
            "X-RateLimit-Remaining": str(self._limit - count),
            "X-RateLimit-Reset": str(start + 3600),
        }
        if not allowed:
            headers["Retry-After"] = str(start + 3600 - now)
        return headers, allowed


class Api:
    """The routes, over one hub. Each handler returns the JSON text of a success body."""

    def __init__(
        self, hub: sihlicon.Hub, sessions: Mapping[str, str], operators: set[str]
    ) -> None:
        if sihlicon.OPERATOR_PRINCIPAL in sessions.values():
            raise ValueError(
                f"sessions: no remote user may sign in as {sihlicon.OPERATOR_PRINCIPAL!r}, "
                "the library's operator principal"
            )
        self.hub = hub
        self.sessions = dict(sessions)
        self.operators = set(operators)
        self.limiter = RateLimiter(hub)

    # ---- compute ----

    def submit_job(self, user: str, body: bytes, query: dict[str, str]) -> str:
        job = self.hub.scheduler.submit(json_object(body), owner=user)
        return json.dumps({"success": True, "jobId": job.id})

    def list_jobs(self, user: str, body: bytes, query: dict[str, str]) -> str:
        hub_id = required(query, "hubId")
        status = None
        if "status" in query:
            try:
                status = sihlicon.JobStatus(query["status"])
            except ValueError:
                invalid("status", query["status"], "is not a job status")
        limit = integer(query.get("limit", "50"), "limit")
        jobs = self.hub.scheduler.jobs(hub_id=hub_id, owner=user, status=status, limit=limit)
        return '{"success":true,"jobs":[' + ",".join(j.to_json() for j in jobs) + "]}"

    def own_job(self, user: str, job_id: str) -> sihlicon.JobRecord:
        try:
            job = self.hub.scheduler.job(job_id)
        except sihlicon.InvalidArgument:
            raise ApiError(HTTPStatus.NOT_FOUND, f"no job '{job_id}'") from None
        if job.owner != user:  # other users' jobs are not revealed
            raise ApiError(HTTPStatus.NOT_FOUND, f"no job '{job_id}'")
        return job

    def get_job(self, user: str, job_id: str) -> str:
        return '{"success":true,"job":' + self.own_job(user, job_id).to_json() + "}"

    def cancel_job(self, user: str, job_id: str) -> str:
        self.own_job(user, job_id)
        self.hub.scheduler.cancel(job_id, by=user, reason="cancelled through the API")
        return json.dumps({"success": True, "message": "Job cancelled"})

    # ---- storage ----

    def upload(self, user: str, body: bytes, content_type: str) -> str:
        parts = multipart(body, content_type)
        if "file" not in parts:
            raise ApiError(HTTPStatus.BAD_REQUEST, "file: required", {"field": "file"})
        data, file_name = parts["file"]
        # The metadata part is decoded by the library's codec (PutOptions::from_json): its
        # fields, defaults and refusals are the library's, as in `sihlicon serve`.
        options = sihlicon.put_options_from_json(parts["metadata"][0] if "metadata" in parts else b"{}")
        if options["file_name"] is None:
            options["file_name"] = file_name
        manifest = self.hub.content_store.put(data, owner=user, **options)
        return '{"success":true,"manifest":' + manifest.to_json() + "}"

    def get_manifest(self, user: str, body: bytes, query: dict[str, str]) -> str:
        manifest = self.hub.content_store.stat(required(query, "contentId"), principal=user)
        return '{"success":true,"manifest":' + manifest.to_json() + "}"

    def delete_content(self, user: str, body: bytes, query: dict[str, str]) -> str:
        self.hub.content_store.remove(required(query, "contentId"), principal=user)
        return json.dumps({"success": True, "message": "Content deleted"})

    # ---- heat ----

    def heat_credits(self, user: str, body: bytes, query: dict[str, str]) -> str:
        start = query.get("start")
        end = query.get("end")
        credit = self.hub.heat_ledger.credits(
            required(query, "hubId"),
            None if start is None else sihlicon.parse_iso8601(start, "start"),
            None if end is None else sihlicon.parse_iso8601(end, "end"),
        )
        return '{"success":true,"credit":' + credit.to_json() + "}"

    def heat_stats(self, user: str, body: bytes, query: dict[str, str]) -> str:
        """?hubId=H, or ?site=S / ?region=R: summed over every hub there (district heating)."""
        if "site" in query:
            group = self.hub.heat_ledger.group_stats("site", query["site"])
            return '{"success":true,"stats":' + group.to_json() + "}"
        if "region" in query:
            group = self.hub.heat_ledger.group_stats("region", query["region"])
            return '{"success":true,"stats":' + group.to_json() + "}"
        stats = self.hub.heat_ledger.stats(required(query, "hubId"))
        return '{"success":true,"stats":' + stats.to_json() + "}"

    def heat_settle(self, user: str, body: bytes, query: dict[str, str]) -> str:
        if user not in self.operators:
            raise ApiError(HTTPStatus.FORBIDDEN, "only an operator may settle heat credits")
        # The body is decoded by the library's codec (HeatPeriod::from_json).
        settled = self.hub.heat_ledger.settle(*sihlicon.HeatPeriod.from_json(body))
        return json.dumps(
            {
                "success": True,
                "settledCreditChf": settled.credit.minor_units,
                "currency": settled.credit.currency,
                "settlement": json.loads(settled.to_json()),
            }
        )


# ---- request helpers ----------------------------------------------------------------------


def invalid(field: str, value: str, problem: str = "is not valid") -> Any:
    raise ApiError(
        HTTPStatus.BAD_REQUEST, f"{field}: {problem} (got '{value}')", {"field": field}
    )


def required(query: dict[str, str], name: str) -> str:
    value = query.get(name)
    if not value:
        invalid(name, "", "is required")
    assert value is not None
    return value


def integer(value: object, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,18}", value):
        return int(value)
    return int(invalid(field, str(value), "must be an integer"))


def json_object(body: bytes, field: str = "body") -> dict[str, Any]:
    """A JSON object read as strictly as the library reads JSON: valid UTF-8, no repeated
    member name (Python's json would keep the last), no lone surrogate escape ("\\ud800")."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        members: dict[str, Any] = {}
        for key, value in pairs:
            if key in members:
                invalid(field, key, "repeats a member name (duplicate member name)")
            members[key] = value
        return members

    try:
        value = json.loads(body.decode("utf-8"), object_pairs_hook=unique)
        json.dumps(value, ensure_ascii=False).encode("utf-8")  # refuses lone surrogates
    except (ValueError, UnicodeError) as error:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"{field}: not valid JSON ({error})",
                       {"field": field}) from None
    if not isinstance(value, dict):
        invalid(field, type(value).__name__, "must be a JSON object")
    result: dict[str, Any] = value
    return result


def multipart(body: bytes, content_type: str) -> dict[str, tuple[bytes, str | None]]:
    """The fields of a multipart/form-data body: name -> (bytes, file name or None)."""
    if not content_type.startswith("multipart/form-data"):
        invalid("Content-Type", content_type, "must be multipart/form-data")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        invalid("body", "", "is not a multipart body")
    assert isinstance(message, EmailMessage)
    fields: dict[str, tuple[bytes, str | None]] = {}
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        fields[name] = (payload if isinstance(payload, bytes) else b"", part.get_filename())
    return fields


# ---- the HTTP layer ---------------------------------------------------------------------

Route = Callable[[str, bytes, dict[str, str]], str]


class ApiServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that carries the Api its handlers answer with."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: Api, verbose: bool = False) -> None:
        super().__init__(address, Handler)
        self.api = api
        self.verbose = verbose


class Handler(BaseHTTPRequestHandler):
    server_version = "sihlicon-rest/" + sihlicon.__version__
    protocol_version = "HTTP/1.1"
    server: ApiServer

    @property
    def api(self) -> Api:
        return self.server.api

    def log_message(self, format: str, *args: Any) -> None:  # quiet unless asked
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self.dispatch("GET")

    def do_POST(self) -> None:
        self.dispatch("POST")

    def do_DELETE(self) -> None:
        self.dispatch("DELETE")

    def do_PUT(self) -> None:
        self.dispatch("PUT")

    def do_PATCH(self) -> None:
        self.dispatch("PATCH")

    def dispatch(self, method: str) -> None:
        headers: dict[str, str] = {}
        try:
            body = self.read_body()
            user = self.authenticate()
            headers, allowed = self.api.limiter.take(user)
            if not allowed:
                raise ApiError(HTTPStatus.TOO_MANY_REQUESTS,
                               f"rate limit of {API_REQUESTS_PER_HOUR} requests per hour reached")
            self.answer(HTTPStatus.OK, self.route(method, user, body), headers)
        except ApiError as error:
            self.fail(error.status, error.message, error.details, headers)
        except sihlicon.Error as error:
            self.fail(STATUS_OF_ERROR[error.code], error.message,
                      {"code": error.code.label, "field": error.field or None}, headers)
        except Exception as error:  # a bug: answer 500, keep serving
            self.log_error("internal error: %r", error)
            self.fail(HTTPStatus.INTERNAL_SERVER_ERROR, "internal server error", None, headers)

    def read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.isdigit():
            raise ApiError(HTTPStatus.BAD_REQUEST, "Content-Length: not a number")
        if int(length) > MAX_BODY_BYTES:
            self.close_connection = True
            raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                           f"the body exceeds {MAX_BODY_BYTES} bytes")
        return self.rfile.read(int(length))

    def authenticate(self) -> str:
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("Cookie", ""))
        except CookieError:
            pass
        morsel = cookie.get(SESSION_COOKIE)
        user = None if morsel is None else self.api.sessions.get(morsel.value)
        if user is None:
            raise ApiError(HTTPStatus.UNAUTHORIZED, "not authenticated")
        return user

    def route(self, method: str, user: str, body: bytes) -> str:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        api = self.api
        table: dict[str, dict[str, Route]] = {
            "/api/compute": {"POST": api.submit_job, "GET": api.list_jobs},
            "/api/storage": {"GET": api.get_manifest, "DELETE": api.delete_content},
            "/api/heat/credits": {"GET": api.heat_credits},
            "/api/heat/stats": {"GET": api.heat_stats},
            "/api/heat/settle": {"POST": api.heat_settle},
        }
        if url.path == "/api/storage" and method == "POST":
            return api.upload(user, body, self.headers.get("Content-Type", ""))
        match = JOB_PATH.match(url.path)
        if match:
            job_id = match.group("job_id")
            if method == "GET":
                return api.get_job(user, job_id)
            if method == "DELETE":
                return api.cancel_job(user, job_id)
            raise ApiError(HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not allowed here",
                           {"allow": ["GET", "DELETE"]})
        routes = table.get(url.path)
        if routes is None:
            raise ApiError(HTTPStatus.NOT_FOUND, f"no route {url.path}")
        handler = routes.get(method)
        if handler is None:
            raise ApiError(HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not allowed here",
                           {"allow": sorted(routes)})
        return handler(user, body, query)

    def answer(self, status: HTTPStatus, text: str, headers: dict[str, str]) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def fail(self, status: HTTPStatus, message: str, details: object,
             headers: dict[str, str]) -> None:
        error: dict[str, object] = {"error": message}
        if details is not None:
            error["details"] = details
        self.answer(status, json.dumps(error), headers)


def make_server(
    hub: sihlicon.Hub,
    sessions: Mapping[str, str],
    operators: set[str] | None = None,
    port: int = 0,
    verbose: bool = False,
) -> ApiServer:
    """A server of the seed's API over `hub` on 127.0.0.1:`port` (0: any free port). Call
    serve_forever() (on a thread of its own if you like) and shutdown() to stop."""
    return ApiServer(("127.0.0.1", port), Api(hub, sessions, operators or set()), verbose)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("hub", help="the hub directory (created if missing)")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--session", action="append", default=[], metavar="TOKEN=USER",
                        help="a session cookie value and the user it signs in (repeatable)")
    parser.add_argument("--operator", action="append", default=[], metavar="USER",
                        help="a user who may settle heat credits (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    arguments = parser.parse_args()
    sessions = {}
    for item in arguments.session:
        token, _, user = item.partition("=")
        if not token or not user:
            parser.error(f"--session {item!r}: expected TOKEN=USER")
        sessions[token] = user
    with sihlicon.Hub(arguments.hub) as hub:
        server = make_server(hub, sessions, set(arguments.operator), arguments.port,
                             arguments.verbose)
        host, port = server.server_address[:2]
        print(f"serving the seed's API over {hub.directory} on http://{host!s}:{port}/api/",
              flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
