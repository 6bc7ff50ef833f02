# SPDX-License-Identifier: Apache-2.0
"""ContentStore: content addressed by the CID IPFS computes, in three storage tiers."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterable, Mapping
from builtins import list as _List
from typing import IO, Any, Protocol, Union

from . import _core
from ._enums import AccessLevel, StorageTier, name_of
from ._records import (
    Manifest,
    NamedReference,
    Quota,
    RepairAction,
    ReplicaRecord,
    ScrubReport,
    build,
    build_all,
)

BytesLike = Union[bytes, bytearray, memoryview]
"""Content given as bytes; any object with a contiguous buffer works at run time."""

Progress = Callable[[int], object]
"""Called with the bytes processed so far, after each chunk."""


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class Writable(Protocol):
    def write(self, data: memoryview, /) -> object: ...


OPERATOR_PRINCIPAL: str = _core.OPERATOR_PRINCIPAL
"""The hub operator's principal (kOperatorPrincipal in principal.hpp): it may change any
community's members. Never authenticate a remote user as this principal."""

DEFAULT_CHUNK_SIZE = 262_144
DEFAULT_MAX_LINKS = 174


def _options(
    file_name: str | None,
    mime_type: str | None,
    storage_tier: StorageTier,
    access_level: AccessLevel,
    min_replicas: int,
    source_hub_id: str | None,
    metadata: Mapping[str, Any] | None,
    allowed_regions: Iterable[str],
    chunk_size: int,
    max_links: int,
) -> dict[str, Any]:
    return {
        "file_name": file_name,
        "mime_type": mime_type,
        "storage_tier": name_of(storage_tier),
        "access_level": name_of(access_level),
        "min_replicas": min_replicas,
        "source_hub_id": source_hub_id,
        "metadata_json": json.dumps(dict(metadata or {}), separators=(",", ":")),
        "allowed_regions": list(allowed_regions),
        "chunk_size": chunk_size,
        "max_links": max_links,
    }


def put_options_from_json(text: str | bytes) -> dict[str, Any]:
    """The seed's upload metadata (the ``metadata`` part of ``POST /api/storage``) decoded by
    the library's one codec, ``PutOptions::from_json``: the keyword arguments of
    :meth:`ContentStore.put` (``file_name``, ``mime_type``, ``storage_tier``, ``access_level``,
    ``min_replicas``, ``source_hub_id``, ``metadata``, ``allowed_regions``), each with the
    library's default when absent. Raises InvalidArgument naming the field (an unknown one, a
    wrong type, a text that is not one strict JSON object); ranges are the put's to check."""
    values = _core.put_options_from_json(text)
    return {
        "file_name": values["file_name"],
        "mime_type": values["mime_type"],
        "storage_tier": StorageTier(values["storage_tier"]),
        "access_level": AccessLevel(values["access_level"]),
        "min_replicas": values["min_replicas"],
        "source_hub_id": values["source_hub_id"],
        "metadata": json.loads(values["metadata_json"]),
        "allowed_regions": list(values["allowed_regions"]),
    }


class ContentReader(io.RawIOBase):
    """A seekable, read-only binary stream over stored content: each read fetches and
    verifies only the blocks it needs. Made by :meth:`ContentStore.open`."""

    def __init__(self, native: _core.ContentStore, content_id: str, principal: str, size: int):
        super().__init__()
        self._native = native
        self._content_id = content_id
        self._principal = principal
        self._size = size
        self._position = 0

    @property
    def size(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        position = base + offset
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        self._position = position
        return position

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        if self._position >= self._size or len(target) == 0:
            return 0
        data = self._native.get_bytes(self._content_id, self._principal, self._position, len(target))
        target[: len(data)] = data
        self._position += len(data)
        return len(data)


class ContentStore:
    """The hub's content store (``Hub.content_store``). Safe to use from many threads.

    A principal is the caller's identity as the host authenticated it; an empty principal sees
    only public content. Content the principal may not read raises NotFound exactly as unknown
    content does (same message: no existence oracle); PermissionDenied is left for content it
    may read but not act on (removing or moving another owner's content).
    """

    def __init__(self, native: _core.ContentStore) -> None:
        self._native = native

    # ---- put ----

    def put(
        self,
        data: BytesLike,
        *,
        owner: str,
        file_name: str | None = None,
        mime_type: str | None = None,
        storage_tier: StorageTier = StorageTier.HOT,
        access_level: AccessLevel = AccessLevel.PRIVATE,
        min_replicas: int = 3,
        source_hub_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        allowed_regions: Iterable[str] = (),
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_links: int = DEFAULT_MAX_LINKS,
    ) -> Manifest:
        """Stores bytes (or any contiguous buffer) and returns the manifest; its CID is the
        one ``ipfs add --cid-version=1`` prints. Raises InvalidArgument, QuotaExceeded, IoError.
        """
        options = _options(
            file_name, mime_type, storage_tier, access_level, min_replicas, source_hub_id,
            metadata, allowed_regions, chunk_size, max_links,
        )  # fmt: skip
        return build(Manifest, self._native.put_bytes(data, owner, options))

    def put_file(
        self,
        path: str | os.PathLike[str],
        *,
        owner: str,
        progress: Progress | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
        storage_tier: StorageTier = StorageTier.HOT,
        access_level: AccessLevel = AccessLevel.PRIVATE,
        min_replicas: int = 3,
        source_hub_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        allowed_regions: Iterable[str] = (),
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_links: int = DEFAULT_MAX_LINKS,
    ) -> Manifest:
        """Stores a file, read by the library in chunks (bounded memory, GIL released)."""
        options = _options(
            file_name, mime_type, storage_tier, access_level, min_replicas, source_hub_id,
            metadata, allowed_regions, chunk_size, max_links,
        )  # fmt: skip
        return build(Manifest, self._native.put_file(os.fspath(path), owner, options, progress))

    def put_stream(
        self,
        reader: Readable | IO[bytes],
        *,
        owner: str,
        progress: Progress | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
        storage_tier: StorageTier = StorageTier.HOT,
        access_level: AccessLevel = AccessLevel.PRIVATE,
        min_replicas: int = 3,
        source_hub_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        allowed_regions: Iterable[str] = (),
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_links: int = DEFAULT_MAX_LINKS,
        declared_size: int | None = None,
    ) -> Manifest:
        """Stores what a binary file object yields (``readinto`` when it has one, else
        ``read``) until it returns no bytes. An exception from the reader is re-raised after
        the library has cleaned up (no manifest, no orphan blocks).

        ``declared_size``: how many bytes the reader will yield, when known (a Content-Length,
        a file's size). The owner's quotas are checked against it before the reader is called
        at all (QuotaExceeded), and a reader that yields more or fewer bytes is refused
        (InvalidArgument naming ``declaredSize``); it must be 0 .. 2**63-1."""
        options = _options(
            file_name, mime_type, storage_tier, access_level, min_replicas, source_hub_id,
            metadata, allowed_regions, chunk_size, max_links,
        )  # fmt: skip
        options["declared_size"] = declared_size
        return build(Manifest, self._native.put_stream(reader, owner, options, progress))

    # ---- get ----

    def get(
        self, content_id: str, *, principal: str, offset: int = 0, length: int | None = None
    ) -> memoryview:
        """The content (or ``length`` bytes from ``offset``) as a read-only memoryview that
        owns its bytes (no copy). Every block read is verified against its CID. Raises
        InvalidArgument (bad CID), NotFound (unknown or unreadable), IntegrityError."""
        return self._native.get_bytes(content_id, principal, offset, length)

    def open(self, content_id: str, *, principal: str) -> io.BufferedReader:
        """A seekable binary stream over the content (reads fetch only what they need)."""
        size = self.stat(content_id, principal=principal).file_size_bytes
        raw = ContentReader(self._native, content_id, principal, size)
        return io.BufferedReader(raw, buffer_size=DEFAULT_CHUNK_SIZE)

    def get_to(
        self,
        content_id: str,
        destination: Writable | IO[bytes] | str | os.PathLike[str],
        *,
        principal: str,
        offset: int = 0,
        length: int | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Streams the content to a writable binary object or a file path in bounded memory.
        Returns the number of bytes written. A path is written through a temporary file in its
        folder, renamed over it only on success: on any error an existing file is left as it
        was and no temporary file remains."""
        if isinstance(destination, (str, os.PathLike)):
            return self._native.get_to_file(
                content_id, principal, os.fspath(destination), offset, length, progress
            )
        written = 0
        write = destination.write

        def sink(chunk: memoryview) -> None:
            nonlocal written
            write(chunk)
            written += len(chunk)

        self._native.get(content_id, principal, sink, offset, length, progress)
        return written

    def stat(self, content_id: str, *, principal: str) -> Manifest:
        """The principal's own manifest of the content, else the oldest visible one."""
        return build(Manifest, self._native.stat(content_id, principal))

    def list(
        self, *, principal: str, owner: str | None = None, limit: int = 1000
    ) -> _List[Manifest]:
        """Manifests visible to ``principal``, newest first (optionally only ``owner``'s)."""
        return build_all(Manifest, self._native.list(principal, owner, limit))

    def remove(self, content_id: str, *, principal: str) -> None:
        """Removes the principal's own manifest (blocks go when nothing references them).
        Named references never block it; they then resolve as NotFound. Raises NotFound
        (unknown or unreadable), PermissionDenied (readable but not owned)."""
        self._native.remove(content_id, principal)

    def move_to_tier(self, content_id: str, tier: StorageTier, *, principal: str) -> Manifest:
        return build(
            Manifest,
            self._native.move_to_tier(content_id, principal, name_of(tier)),
        )

    # ---- communities ----

    def add_community_member(self, community_id: str, member: str, *, principal: str) -> None:
        """Adds ``member``, acting as ``principal``: a member of the community, the founder
        of an empty one adding itself, or the operator (``OPERATOR_PRINCIPAL``). Raises
        PermissionDenied for anyone else, InvalidArgument for empty ids."""
        self._native.add_community_member(community_id, member, principal)

    def remove_community_member(self, community_id: str, member: str, *, principal: str) -> None:
        """Removes ``member``, acting as ``principal`` (a member, or the operator)."""
        self._native.remove_community_member(community_id, member, principal)

    def communities_of(self, member: str, *, principal: str) -> _List[str]:
        """The communities of ``member`` that ``principal`` may see: all of them when it is
        the member or the operator, else only those both belong to."""
        return self._native.communities_of(member, principal)

    # ---- named references ----

    def set_reference(
        self, name: str, version: str, content_id: str, *, principal: str
    ) -> NamedReference:
        """Points name@version at content visible to ``principal``."""
        return build(
            NamedReference, self._native.set_reference(name, version, content_id, principal)
        )

    def resolve_reference(
        self, name: str, version: str | None = None, *, principal: str
    ) -> NamedReference:
        """name@version, or the latest version whose content ``principal`` may read when
        ``version`` is None. Raises NotFound when there is none, or its content is unreadable
        or gone."""
        return build(NamedReference, self._native.resolve_reference(name, version, principal))

    def reference_versions(self, name: str, *, principal: str) -> _List[NamedReference]:
        """The versions of ``name`` whose content ``principal`` may read, oldest first."""
        return build_all(NamedReference, self._native.reference_versions(name, principal))

    def remove_reference(self, name: str, version: str, *, principal: str) -> None:
        """Deletes name@version; only the name's owner may. Raises NotFound (none visible),
        PermissionDenied (visible but not owned)."""
        self._native.remove_reference(name, version, principal)

    # ---- CAR files ----

    def export_car(
        self,
        content_id: str,
        destination: Writable | IO[bytes] | str | os.PathLike[str],
        *,
        principal: str,
    ) -> None:
        """Writes the content's DAG as a CAR v1 file (to a writable object or a path; a path
        is replaced only on success, as in :meth:`get_to`)."""
        if isinstance(destination, (str, os.PathLike)):
            self._native.export_car_to_file(content_id, principal, os.fspath(destination))
            return
        self._native.export_car(content_id, principal, destination.write)

    def import_car(
        self,
        source: Readable | IO[bytes] | str | os.PathLike[str],
        *,
        owner: str,
        storage_tier: StorageTier = StorageTier.HOT,
        access_level: AccessLevel = AccessLevel.PRIVATE,
        min_replicas: int = 3,
    ) -> _List[Manifest]:
        """Reads a CAR v1 stream, verifies every block and records a manifest per root."""
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as file:
                return self.import_car(
                    file, owner=owner, storage_tier=storage_tier, access_level=access_level,
                    min_replicas=min_replicas,
                )  # fmt: skip
        options = _options(
            None, None, storage_tier, access_level, min_replicas, None, None, (),
            DEFAULT_CHUNK_SIZE, DEFAULT_MAX_LINKS,
        )  # fmt: skip
        return build_all(Manifest, self._native.import_car(source, owner, options))

    # ---- replicas and maintenance ----

    def replicas(self, content_id: str, *, principal: str) -> _List[ReplicaRecord]:
        """The replica records of content ``principal`` may read (else NotFound)."""
        return build_all(ReplicaRecord, self._native.replicas(content_id, principal))

    def repair_plan(self, offline_hub_ids: Iterable[str] = ()) -> _List[RepairAction]:
        """The copies to make so every content has its minReplicas live replicas."""
        return build_all(RepairAction, self._native.repair_plan(list(offline_hub_ids)))

    def confirm_replica(self, content_id: str, hub_id: str) -> None:
        self._native.confirm_replica(content_id, hub_id)

    def fail_replica(self, content_id: str, hub_id: str) -> None:
        self._native.fail_replica(content_id, hub_id)

    def scrub(self, sample_blocks: int | None = None) -> ScrubReport:
        """Re-hashes stored blocks (all, or a random sample) and reports bad ones."""
        return build(ScrubReport, self._native.scrub(sample_blocks))

    def collect_garbage(self) -> int:
        """Removes blocks no manifest references. Returns how many."""
        return self._native.collect_garbage()

    def set_quota(self, owner: str, quota: Quota) -> None:
        """Sets the upload limits of ``owner`` ("*": the default)."""
        self._native.set_quota(owner, quota.upload_bytes_per_hour, quota.total_bytes)

    def quota(self, owner: str) -> Quota:
        return build(Quota, self._native.quota(owner))
