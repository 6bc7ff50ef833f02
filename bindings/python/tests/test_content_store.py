# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import array
import hashlib
import io
import os
from pathlib import Path

import pytest

import sihlicon
from sihlicon import AccessLevel, StorageTier

EMPTY_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


def payload(size: int) -> bytes:
    return (hashlib.sha256(str(size).encode()).digest() * (size // 32 + 1))[:size]


def test_content_goes_in_from_any_buffer_and_keeps_its_ipfs_cid(hub: sihlicon.Hub) -> None:
    store = hub.content_store
    data = payload(1000)
    manifest = store.put(data, owner="ann", file_name="a.bin", mime_type="application/octet-stream",
                         metadata={"k": "v"})
    assert manifest.content_id == sihlicon.compute_cid(data)
    assert manifest.file_size_bytes == 1000 and manifest.file_name == "a.bin"
    assert manifest.owner == "ann" and manifest.access_level is AccessLevel.PRIVATE
    assert manifest.metadata_json == '{"k":"v"}'
    assert store.put(bytearray(data), owner="ann").content_id == manifest.content_id
    assert store.put(memoryview(data), owner="ann").content_id == manifest.content_id
    ints = array.array("I", range(100))
    assert store.put(ints, owner="ann").content_id == sihlicon.compute_cid(ints.tobytes())  # type: ignore[arg-type]
    assert store.put(b"", owner="ann").content_id == EMPTY_CID
    with pytest.raises(TypeError):
        store.put("text", owner="ann")  # type: ignore[arg-type]
    with pytest.raises(BufferError):
        store.put(memoryview(data)[::2], owner="ann")  # not contiguous


def test_content_comes_back_as_an_owning_read_only_memoryview(hub: sihlicon.Hub) -> None:
    store = hub.content_store
    data = payload(700_000)  # three leaves and a dag-pb root
    cid = store.put(data, owner="ann").content_id
    assert cid.startswith("bafybei")
    view = store.get(cid, principal="ann")
    assert isinstance(view, memoryview) and view.readonly and view.nbytes == len(data)
    assert view == data
    del store
    assert bytes(view[:10]) == data[:10]  # the view owns its bytes
    part = hub.content_store.get(cid, principal="ann", offset=262_000, length=1_000)
    assert bytes(part) == data[262_000:263_000]
    assert bytes(hub.content_store.get(cid, principal="ann", offset=699_990)) == data[699_990:]


def test_files_and_streams_go_in_with_progress(hub: sihlicon.Hub, tmp_path: Path) -> None:
    store = hub.content_store
    data = payload(600_000)
    path = tmp_path / "input.bin"
    path.write_bytes(data)
    reports: list[int] = []
    manifest = store.put_file(path, owner="ann", progress=reports.append, chunk_size=100_000)
    assert manifest.content_id == sihlicon.compute_cid(data, chunk_size=100_000)
    assert manifest.content_id == sihlicon.compute_file_cid(path, chunk_size=100_000)
    assert reports and reports[-1] == len(data) and reports == sorted(reports)
    streamed = store.put_stream(io.BytesIO(data), owner="ann")
    assert streamed.content_id == sihlicon.compute_cid(data)

    class ReadOnly:  # no readinto: read() is used
        def __init__(self) -> None:
            self.stream = io.BytesIO(data)

        def read(self, size: int = -1) -> bytes:
            return self.stream.read(min(size, 1_000))

    assert store.put_stream(ReadOnly(), owner="ann").content_id == streamed.content_id
    with open(path, "rb") as file:
        assert store.put_stream(file, owner="bob").content_id == streamed.content_id
    with pytest.raises(sihlicon.IoError):
        store.put_file(tmp_path / "absent.bin", owner="ann")


def test_an_exception_in_a_reader_is_re_raised_and_nothing_is_stored(hub: sihlicon.Hub) -> None:
    class Broken:
        def __init__(self) -> None:
            self.calls = 0

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise KeyError("disk gone")
            return b"x" * size

    with pytest.raises(KeyError, match="disk gone"):
        hub.content_store.put_stream(Broken(), owner="ann")
    assert hub.content_store.list(principal="ann") == []
    assert hub.content_store.collect_garbage() == 0

    def stop(done: int) -> None:
        raise RuntimeError("cancelled by progress")

    with pytest.raises(RuntimeError, match="cancelled"):
        hub.content_store.put_stream(io.BytesIO(payload(600_000)), owner="ann", progress=stop)
    assert hub.content_store.list(principal="ann") == []


def test_content_streams_out_to_files_and_readers(hub: sihlicon.Hub, tmp_path: Path) -> None:
    store = hub.content_store
    data = payload(555_555)
    cid = store.put(data, owner="ann").content_id
    sink = io.BytesIO()
    reports: list[int] = []
    assert store.get_to(cid, sink, principal="ann", progress=reports.append) == len(data)
    assert sink.getvalue() == data and reports[-1] == len(data)
    out = tmp_path / "out.bin"
    assert store.get_to(cid, out, principal="ann", offset=5, length=10) == 10
    assert out.read_bytes() == data[5:15]
    with store.open(cid, principal="ann") as reader:
        assert reader.read(4) == data[:4]
        reader.seek(300_000)
        assert reader.read(100) == data[300_000:300_100]
        reader.seek(-5, os.SEEK_END)
        assert reader.read() == data[-5:]
        reader.seek(0)
        assert reader.read() == data

    class Keeper:
        def __init__(self) -> None:
            self.kept: list[memoryview] = []

        def write(self, chunk: memoryview) -> None:
            self.kept.append(chunk)

    keeper = Keeper()
    store.get_to(cid, keeper, principal="ann")
    with pytest.raises(ValueError):
        bytes(keeper.kept[0])  # views of the library's buffer are released after each call


def test_access_levels_communities_and_removal(hub: sihlicon.Hub) -> None:
    store = hub.content_store
    private = store.put(b"mine", owner="ann").content_id
    shared = store.put(b"ours", owner="ann", access_level=AccessLevel.COMMUNITY).content_id
    public = store.put(b"all", owner="ann", access_level="public").content_id  # type: ignore[arg-type]
    with pytest.raises(sihlicon.NotFound):
        store.get(private, principal="bob")
    with pytest.raises(sihlicon.NotFound):
        store.stat(shared, principal="bob")
    store.add_community_member("choir", "ann", principal="ann")
    store.add_community_member("choir", "bob", principal="ann")
    assert store.communities_of("bob", principal="bob") == ["choir"]
    assert bytes(store.get(shared, principal="bob")) == b"ours"
    assert bytes(store.get(public, principal="")) == b"all"
    assert {m.content_id for m in store.list(principal="bob")} == {shared, public}
    assert len(store.list(principal="ann", owner="ann", limit=2)) == 2
    store.remove_community_member("choir", "bob", principal="bob")
    assert store.communities_of("bob", principal="bob") == []
    with pytest.raises(sihlicon.PermissionDenied):
        store.remove(public, principal="bob")
    store.remove(public, principal="ann")
    with pytest.raises(sihlicon.NotFound):
        store.stat(public, principal="ann")
    with pytest.raises(sihlicon.InvalidArgument):
        store.stat("not-a-cid", principal="ann")


def test_tiers_references_and_car_files(hub: sihlicon.Hub, tmp_path: Path) -> None:
    store = hub.content_store
    data = payload(400_000)
    cid = store.put(data, owner="ann").content_id
    moved = store.move_to_tier(cid, StorageTier.COLD, principal="ann")
    assert moved.storage_tier is StorageTier.COLD
    assert bytes(store.get(cid, principal="ann")) == data
    ref = store.set_reference("models/ocr", "1.0", cid, principal="ann")
    assert ref.name == "models/ocr" and ref.content_id == cid and ref.owner == "ann"
    assert store.resolve_reference("models/ocr", principal="ann").version == "1.0"
    assert store.resolve_reference("models/ocr", "1.0", principal="ann").content_id == cid
    assert [r.version for r in store.reference_versions("models/ocr", principal="ann")] == ["1.0"]
    with pytest.raises(sihlicon.NotFound):
        store.resolve_reference("absent", principal="ann")
    car = io.BytesIO()
    store.export_car(cid, car, principal="ann")
    path = tmp_path / "x.car"
    store.export_car(cid, path, principal="ann")
    assert path.read_bytes() == car.getvalue()
    car.seek(0)
    imported = store.import_car(car, owner="bob")
    assert [m.content_id for m in imported] == [cid] and imported[0].owner == "bob"
    assert [m.content_id for m in store.import_car(path, owner="carl")] == [cid]


def test_replicas_repair_scrub_and_garbage(site: sihlicon.Hub) -> None:
    store = site.content_store
    site.scheduler.register_hub({"hubId": "lake", "name": "Lake", "site": "s2", "region": "CH",
                                 "heatRecoveryPpm": 0, "powerCapacityW": 1000})
    cid = store.put(b"replicated", owner="ann", min_replicas=2).content_id
    replicas = store.replicas(cid, principal="ann")
    assert {r.hub_id for r in replicas} == {"pool", "lake"}
    assert all(r.state is sihlicon.ReplicaState.WANTED for r in replicas)
    store.confirm_replica(cid, "pool")
    store.fail_replica(cid, "lake")
    states = {r.hub_id: r.state for r in store.replicas(cid, principal="ann")}
    assert states == {"pool": sihlicon.ReplicaState.PINNED, "lake": sihlicon.ReplicaState.FAILED}
    plan = store.repair_plan()
    assert all(isinstance(action, sihlicon.RepairAction) for action in plan)
    assert store.repair_plan(offline_hub_ids=["pool"]) is not None
    report = store.scrub()
    assert report.blocks_checked >= 1 and report.problems == []
    assert store.scrub(sample_blocks=1).blocks_checked == 1
    assert store.collect_garbage() == 0
    with pytest.raises(sihlicon.NotFound):
        store.confirm_replica(cid, "absent")


def test_a_corrupt_block_is_an_integrity_error_and_scrub_reports_it(hub: sihlicon.Hub) -> None:
    store = hub.content_store
    cid = store.put(b"fragile", owner="ann").content_id
    blocks = [p for p in Path(hub.blob_directory).rglob(cid) if p.is_file()]
    assert len(blocks) == 1
    blocks[0].write_bytes(b"tampered")
    with pytest.raises(sihlicon.IntegrityError):
        store.get(cid, principal="ann")
    problems = store.scrub().problems
    assert [(p.block_cid, p.problem, p.tier) for p in problems] == [
        (cid, "corrupt", StorageTier.HOT)
    ]


def test_quotas_limit_uploads(hub: sihlicon.Hub) -> None:
    store = hub.content_store
    assert store.quota("ann") == sihlicon.Quota()
    store.set_quota("ann", sihlicon.Quota(upload_bytes_per_hour=10, total_bytes=100))
    assert store.quota("ann") == sihlicon.Quota(10, 100)
    store.put(b"12345", owner="ann")
    with pytest.raises(sihlicon.QuotaExceeded):
        store.put(b"1234567890", owner="ann")
    with pytest.raises(sihlicon.InvalidArgument):
        store.set_quota("ann", sihlicon.Quota(upload_bytes_per_hour=-1))


class CountingReader:
    """Yields `size` bytes through read(), counting the calls."""

    def __init__(self, size: int) -> None:
        self.stream = io.BytesIO(payload(size))
        self.calls = 0

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        return self.stream.read(size)


def test_put_stream_refuses_an_over_quota_declared_size_before_reading(hub: sihlicon.Hub) -> None:
    store = hub.content_store
    store.set_quota("ann", sihlicon.Quota(upload_bytes_per_hour=1_000, total_bytes=5_000))
    reader = CountingReader(10_000)
    with pytest.raises(sihlicon.QuotaExceeded):
        store.put_stream(reader, owner="ann", declared_size=10_000)
    assert reader.calls == 0
    assert store.list(principal="ann") == []
    fits = CountingReader(800)
    assert store.put_stream(fits, owner="ann", declared_size=800).file_size_bytes == 800
    assert fits.calls > 0


def test_put_stream_refuses_a_stream_that_is_not_its_declared_size(hub: sihlicon.Hub) -> None:
    store = hub.content_store
    for declared, real in ((100, 300_000), (300_000, 100)):
        with pytest.raises(sihlicon.InvalidArgument) as refused:
            store.put_stream(CountingReader(real), owner="ann", declared_size=declared)
        assert refused.value.field == "declaredSize"
        assert str(declared) in refused.value.message
    for bad in (-1, 2**63, True, "100"):
        with pytest.raises(sihlicon.InvalidArgument) as refused:
            store.put_stream(CountingReader(1), owner="ann", declared_size=bad)  # type: ignore[arg-type]
        assert refused.value.field == "declaredSize"
    assert store.list(principal="ann") == []
    assert store.collect_garbage() == 0


def test_cids_need_no_hub() -> None:
    assert sihlicon.compute_cid(b"") == EMPTY_CID
    v0 = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"  # the empty UnixFS directory
    assert sihlicon.normalize_cid(v0).startswith("bafybei")
    with pytest.raises(sihlicon.InvalidArgument):
        sihlicon.normalize_cid("nope")


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def test_a_car_holding_only_the_root_of_someones_file_grants_nothing(hub: sihlicon.Hub) -> None:
    store = hub.content_store
    cid = store.put(payload(300), owner="ann", chunk_size=64).content_id  # five leaves
    car = io.BytesIO()
    store.export_car(cid, car, principal="ann")
    whole = car.getvalue()
    header_size, at = _varint(whole, 0)
    section_size, at = _varint(whole, at + header_size)
    root_only = whole[: at + section_size]  # the header and the root's section only
    with pytest.raises(sihlicon.InvalidArgument, match="is not complete in the CAR"):
        store.import_car(io.BytesIO(root_only), owner="mallory")
    with pytest.raises(sihlicon.Error):
        store.stat(cid, principal="mallory")
    with pytest.raises(sihlicon.Error):
        store.get(cid, principal="mallory")
    assert store.list(principal="mallory") == []
    assert [m.owner for m in store.import_car(io.BytesIO(whole), owner="mallory")] == ["mallory"]


def test_stored_bytes_put_again_update_the_manifest_and_leave_no_copy(site: sihlicon.Hub) -> None:
    """Issue 26: other metadata update the owner's manifest; a new tier moves it wholly."""
    store = site.content_store
    first = store.put(b"district heat", owner="ann", file_name="a.txt")
    again = store.put(b"district heat", owner="ann", file_name="a.txt")
    assert again == first  # the same metadata: unchanged
    moved = store.put(
        b"district heat", owner="ann", file_name="b.txt", storage_tier=StorageTier.COLD,
        access_level=AccessLevel.PUBLIC, source_hub_id="pool", metadata={"v": 2},
    )
    assert moved.content_id == first.content_id and moved.file_name == "b.txt"
    assert moved.storage_tier is StorageTier.COLD and moved.source_hub_id == "pool"
    assert store.stat(first.content_id, principal="bob").file_name == "b.txt"  # public now
    hot = Path(site.blob_directory) / "hot"
    assert [p for p in hot.rglob("*") if p.is_file() and ".staging" not in p.parts] == []
    with pytest.raises(sihlicon.NotFound) as refused:
        store.put(b"other bytes", owner="ann", source_hub_id="atlantis")
    assert refused.value.field == "sourceHubId"
    assert [m.content_id for m in store.list(principal="ann")] == [first.content_id]
