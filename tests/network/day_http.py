# SPDX-License-Identifier: Apache-2.0
"""The HTTP(S) keep-alive connection the day's workers and clients share (standard library).

`Link.call(method, path, body)` sends one request with the token and returns (status, JSON body)
or raises `Unreachable` when the connection failed (refused, reset, timed out, closed mid-answer):
the request may or may not have been applied, and the caller decides whether to repeat it.
`Backoff` is exponential backoff with full jitter.
"""
import http.client
import json
import random
import socket
import ssl
import time
import urllib.parse


class Unreachable(Exception):
    pass


class Link:
    def __init__(self, url, token, cafile=None, timeout=5.0):
        parts = urllib.parse.urlsplit(url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.token = token
        self.timeout = timeout
        self.context = None
        if self.https:
            self.context = ssl.create_default_context(cafile=cafile)
        self.connection = None

    def _connect(self):
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=self.context)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def call(self, method, path, body=None, raw_body=None, content_type=None):
        """`body` is sent as JSON; `raw_body` (bytes) as is, with `content_type`."""
        data = raw_body if raw_body is not None else (
            None if body is None else json.dumps(body).encode())
        headers = {"Authorization": "Bearer " + self.token}
        if data is not None:
            headers["Content-Type"] = content_type or "application/json"
        try:
            if self.connection is None:
                self.connection = self._connect()
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
            raw = response.read()
            if response.getheader("Connection", "").lower() == "close":
                self.close()
        except (OSError, http.client.HTTPException, socket.timeout, ssl.SSLError) as error:
            self.close()
            raise Unreachable(f"{type(error).__name__}: {error}") from error
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = {"error": "not JSON", "raw": raw[:200].decode(errors="replace")}
        return response.status, answer


class Backoff:
    """Delays of min(cap, base * 2**n) scaled by a uniform random factor (full jitter)."""

    def __init__(self, base=0.05, cap=2.0):
        self.base = base
        self.cap = cap
        self.failures = 0

    def reset(self):
        self.failures = 0

    def wait(self):
        delay = min(self.cap, self.base * (2 ** self.failures)) * random.random()
        self.failures = min(self.failures + 1, 30)
        time.sleep(delay)
        return delay
