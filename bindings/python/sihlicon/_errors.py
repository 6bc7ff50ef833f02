# SPDX-License-Identifier: Apache-2.0
"""sihlicon's exceptions: one class per C++ ErrorCode, all subclasses of :class:`Error`."""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar

from . import _core


class ErrorCode(IntEnum):
    """The library's error codes, with the stable numbers of ``sihlicon::ErrorCode``."""

    INVALID_ARGUMENT = 1
    NOT_FOUND = 2
    CONFLICT = 3
    PERMISSION_DENIED = 4
    QUOTA_EXCEEDED = 5
    INSUFFICIENT_FUNDS = 6
    INTEGRITY = 7
    IO = 8
    BUSY = 9
    INTERNAL = 10

    @property
    def label(self) -> str:
        """The name the C++ API, the CLI and JSON use: ``"invalid_argument"``, ..."""
        return self.name.lower()


class Error(Exception):
    """Every failure of the library. ``code`` says what kind; ``field`` names the input at fault
    (``"workloadConfig.resources.memory"``) or is empty; ``message`` names field and value."""

    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL
    #: Set by :class:`sihlicon.Client` for a request a server refused: the HTTP status, the
    #: contract's ``details`` (``{"code", "field"}`` for the library's errors) and, on 429,
    #: the ``Retry-After`` seconds. None for in-process errors.
    status: int | None = None
    details: object = None
    retry_after: int | None = None

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, field={self.field!r})"


class InvalidArgument(Error, ValueError):
    """The input is malformed or out of range; nothing was changed."""

    code = ErrorCode.INVALID_ARGUMENT


class NotFound(Error, LookupError):
    """The named object does not exist (or is not visible to the caller)."""

    code = ErrorCode.NOT_FOUND


class Conflict(Error):
    """The request contradicts the current state (duplicate id, stale lease, closed hub, ...)."""

    code = ErrorCode.CONFLICT


class PermissionDenied(Error):
    """The principal may not do this."""

    code = ErrorCode.PERMISSION_DENIED


class QuotaExceeded(Error):
    """A configured limit (rate limit, upload quota, queue depth) would be exceeded."""

    code = ErrorCode.QUOTA_EXCEEDED


class InsufficientFunds(Error):
    """An account balance would go below zero."""

    code = ErrorCode.INSUFFICIENT_FUNDS


class IntegrityError(Error):
    """Stored data failed verification (corrupt database or block)."""

    code = ErrorCode.INTEGRITY


class IoError(Error):
    """The operating system refused a read or write (ENOSPC, EIO, ...), or a Python file object
    or callback given to the library failed."""

    code = ErrorCode.IO


class Busy(Error):
    """The hub stayed locked by another process beyond the busy timeout."""

    code = ErrorCode.BUSY


class InternalError(Error):
    """A bug in sihlicon; please report it."""

    code = ErrorCode.INTERNAL


ERROR_CLASSES: dict[ErrorCode, type[Error]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        NotFound,
        Conflict,
        PermissionDenied,
        QuotaExceeded,
        InsufficientFunds,
        IntegrityError,
        IoError,
        Busy,
        InternalError,
    )
}

_core._set_error_classes({int(code): cls for code, cls in ERROR_CLASSES.items()})
