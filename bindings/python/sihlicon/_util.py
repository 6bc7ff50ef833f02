# SPDX-License-Identifier: Apache-2.0
"""Functions that need no hub: CIDs, proofs of execution, ISO 8601 instants."""

from __future__ import annotations

import os
from datetime import datetime

from . import _core
from ._content import DEFAULT_CHUNK_SIZE, DEFAULT_MAX_LINKS, BytesLike
from ._records import Instant, from_ms, to_ms


def compute_cid(
    data: BytesLike, *, chunk_size: int = DEFAULT_CHUNK_SIZE, max_links: int = DEFAULT_MAX_LINKS
) -> str:
    """The CID ``ipfs add --cid-version=1`` computes for ``data`` (kubo's default chunking)."""
    return _core.compute_cid(data, chunk_size, max_links)


def compute_file_cid(
    path: str | os.PathLike[str],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_links: int = DEFAULT_MAX_LINKS,
) -> str:
    """The CID of the file at ``path``, read in chunks."""
    return _core.compute_file_cid(os.fspath(path), chunk_size, max_links)


def normalize_cid(text: str) -> str:
    """The CIDv1 base32 text of any CID (a CIDv0 "Qm..." included). Raises InvalidArgument."""
    return _core.normalize_cid(text)


def proof_of_execution(job_id: str, result_hash: str, worker_id: str) -> str:
    """The seed's proof of execution: hex of sha256(job_id || result_hash || worker_id)."""
    return _core.proof_of_execution(job_id, result_hash, worker_id)


def parse_iso8601(text: str, field: str = "timestamp") -> datetime:
    """The instant of a strict ISO 8601 / RFC 3339 date-time with a zone ("...Z" or "+01:00"),
    as the library reads it. Raises InvalidArgument naming ``field``."""
    return from_ms(_core.parse_iso8601(text, field))


def to_iso8601(instant: Instant) -> str:
    """``"2026-01-01T00:00:00.000Z"``: the instant in UTC with milliseconds."""
    return _core.to_iso8601(to_ms(instant))
