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


def _message_bytes(message: str | bytes) -> bytes:
    return message.encode() if isinstance(message, str) else bytes(message)


def eip191_sign(private_key: str, message: str | bytes) -> str:
    """EIP-191 personal_sign of ``message`` (text as UTF-8) by the secp256k1 key ``private_key``
    (64 hex digits, "0x" optional): "0x" + 130 hex digits, r || s || v, as eth_account and
    ethers sign it. A worker signs its proof_of_execution so; a hub with
    require_worker_signatures refuses completions without it. Raises InvalidArgument naming
    "private_key" (the message never repeats the key)."""
    return _core.eip191_sign(private_key, _message_bytes(message))


def eip191_verify(message: str | bytes, signature: str, address: str) -> bool:
    """True if ``signature`` over ``message`` (EIP-191) was made by the key of ``address``.
    Raises InvalidArgument naming "signature" or "address" when either is malformed."""
    return _core.eip191_verify(_message_bytes(message), signature, address)


def parse_iso8601(text: str, field: str = "timestamp") -> datetime:
    """The instant of a strict ISO 8601 / RFC 3339 date-time with a zone ("...Z" or "+01:00"),
    as the library reads it. Raises InvalidArgument naming ``field``."""
    return from_ms(_core.parse_iso8601(text, field))


def to_iso8601(instant: Instant) -> str:
    """``"2026-01-01T00:00:00.000Z"``: the instant in UTC with milliseconds."""
    return _core.to_iso8601(to_ms(instant))
