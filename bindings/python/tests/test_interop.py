# SPDX-License-Identifier: Apache-2.0
"""Our wire formats checked by independent Python implementations from PyPI:
eth-account (EIP-191 signatures, EIP-55 addresses) and multiformats (CIDs, multihashes)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import sihlicon
from conftest import hub_spec, job_request, open_hub

eth_account = pytest.importorskip("eth_account")
multiformats = pytest.importorskip("multiformats")

from eth_account import Account  # noqa: E402
from eth_account.messages import encode_defunct  # noqa: E402
from multiformats import CID, multihash  # noqa: E402


def test_an_epoch_signature_is_verified_by_eth_account(
    tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    worker_key = Account.create()
    with open_hub(tmp_path / "h", clock) as hub:
        hub.scheduler.register_hub(hub_spec())
        hub.scheduler.register_worker(
            {"workerId": "bee-01", "hubId": "pool",
             "executors": ["native", "container"], "cpu": "4", "memory": "8Gi",
             "labels": {"address": worker_key.address}}
        )
        job = hub.scheduler.submit(job_request(), owner="alice")
        lease = hub.scheduler.claim("bee-01")[0].lease
        # The worker signs its proof of execution with eth-account; the library checks it.
        proof = sihlicon.proof_of_execution(job.id, "result-1", "bee-01")
        signature = worker_key.sign_message(encode_defunct(text=proof)).signature.hex()
        with pytest.raises(sihlicon.InvalidArgument):
            hub.scheduler.complete(job.id, lease.token, result_hash="result-1",
                                   proof_of_execution=proof,
                                   worker_signature="0x" + Account.create().sign_message(
                                       encode_defunct(text=proof)).signature.hex().removeprefix("0x"))
        done = hub.scheduler.complete(
            job.id, lease.token, energy_mwh=1, result_hash="result-1",
            proof_of_execution=proof, worker_signature="0x" + signature.removeprefix("0x"),
        )
        assert done.status is sihlicon.JobStatus.COMPLETED
        epoch = hub.settlement.seal_epoch()
        recovered = Account.recover_message(
            encode_defunct(text=epoch.summary_json), signature=epoch.signature
        )
        assert recovered == epoch.signer == hub.settlement.operator_address()
        summary = json.loads(epoch.summary_json)
        assert summary["jobs_merkle_root"].removeprefix("0x") == epoch.jobs_merkle_root.removeprefix("0x")
        # The receipt's embedded signature too.
        receipt = json.loads(hub.settlement.receipt(job.id))
        assert Account.recover_message(
            encode_defunct(text=receipt["summary"]), signature=receipt["signature"]
        ) == epoch.signer


@pytest.mark.parametrize("size", [0, 1, 1000, 262_144])
def test_single_block_cids_match_multiformats(hub: sihlicon.Hub, size: int) -> None:
    data = (b"sihlicon" * (size // 8 + 1))[:size]
    manifest = hub.content_store.put(data, owner="ann")
    expected = CID("base32", 1, "raw", multihash.digest(data, "sha2-256"))
    assert manifest.content_id == str(expected) == sihlicon.compute_cid(data)
    decoded = CID.decode(manifest.content_id)
    assert decoded.version == 1 and decoded.codec.name == "raw"
    assert decoded.hashfun.name == "sha2-256" and decoded.raw_digest == hashlib.sha256(data).digest()


def test_dag_cids_decode_as_dag_pb_and_convert_between_bases(hub: sihlicon.Hub) -> None:
    data = bytes(range(256)) * 2_000  # 512,000 bytes: two leaves and a dag-pb root
    cid_text = hub.content_store.put(data, owner="ann").content_id
    cid = CID.decode(cid_text)
    assert cid.version == 1 and cid.codec.name == "dag-pb" and cid.hashfun.name == "sha2-256"
    assert str(cid.set(base="base32")) == cid_text
    base58 = str(cid.set(base="base58btc"))
    assert sihlicon.normalize_cid(base58) == cid_text
    v0 = str(cid.set(version=0, base="base58btc"))
    assert v0.startswith("Qm") and sihlicon.normalize_cid(v0) == cid_text


IMPORTER = """
import { importBytes } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { readFileSync } from 'node:fs'
const [path, chunk, width] = process.argv.slice(1)
const entry = await importBytes(readFileSync(path), new MemoryBlockstore(), {
  cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: Number(chunk) }),
  layout: balanced({ maxChildrenPerNode: Number(width) }), reduceSingleLeafToSelf: true,
})
console.log(entry.cid.toString())
"""


@pytest.mark.parametrize(("size", "chunk", "width"), [(700_000, 262_144, 174), (50_000, 1_000, 4)])
def test_multi_block_cids_match_the_javascript_importer(
    hub: sihlicon.Hub, tmp_path: Path, size: int, chunk: int, width: int
) -> None:
    """npm ipfs-unixfs-importer (tests/interop, installed by `npm ci`) builds the same DAG."""
    import shutil
    import subprocess

    interop = Path(__file__).resolve().parents[3] / "tests" / "interop"
    if shutil.which("node") is None or not (interop / "node_modules" / "ipfs-unixfs-importer").exists():
        pytest.skip("node and tests/interop/node_modules (npm ci --prefix tests/interop) needed")
    data = hashlib.sha256(str(size).encode()).digest() * (size // 32)
    path = tmp_path / "input.bin"
    path.write_bytes(data)
    expected = subprocess.run(
        ["node", "--input-type=module", "-e", IMPORTER, str(path), str(chunk), str(width)],
        cwd=interop, check=True, capture_output=True, text=True,
    ).stdout.strip()
    manifest = hub.content_store.put_file(path, owner="ann", chunk_size=chunk, max_links=width)
    assert manifest.content_id == expected
    assert CID.decode(expected).codec.name == "dag-pb"


def test_eip191_sign_and_verify_agree_with_eth_account() -> None:
    account = Account.create()
    proof = sihlicon.proof_of_execution("job-1", "result-1", "worker-1")
    signature = sihlicon.eip191_sign(account.key.hex(), proof)
    assert Account.recover_message(encode_defunct(text=proof), signature=signature) == account.address
    theirs = Account.sign_message(encode_defunct(text=proof), account.key).signature.hex()
    theirs = theirs if theirs.startswith("0x") else "0x" + theirs
    assert signature == theirs  # RFC 6979: the same bytes
    assert sihlicon.eip191_verify(proof, theirs, account.address)
    assert sihlicon.eip191_verify(proof.encode(), signature, account.address)
    assert not sihlicon.eip191_verify("another message", signature, account.address)
    assert not sihlicon.eip191_verify(proof, signature, Account.create().address)
    with pytest.raises(sihlicon.InvalidArgument) as refused:
        sihlicon.eip191_sign("0x12", proof)
    assert refused.value.field == "private_key"
    with pytest.raises(sihlicon.InvalidArgument) as malformed:
        sihlicon.eip191_verify(proof, "0x12", account.address)
    assert malformed.value.field == "signature"


def test_require_worker_signatures_refuses_an_unsigned_completion(
    tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    worker_key = Account.create()
    settlement = sihlicon.SettlementOptions(require_worker_signatures=True)
    with open_hub(tmp_path / "h", clock, settlement=settlement) as hub:
        assert hub.settlement.options().require_worker_signatures
        hub.scheduler.register_hub(hub_spec())
        hub.scheduler.register_worker(
            {"workerId": "bee-01", "hubId": "pool",
             "executors": ["native", "container"], "cpu": "4", "memory": "8Gi",
             "labels": {"address": worker_key.address}}
        )
        job = hub.scheduler.submit(job_request(), owner="alice")
        lease = hub.scheduler.claim("bee-01")[0].lease
        with pytest.raises(sihlicon.InvalidArgument) as refused:
            hub.scheduler.complete(job.id, lease.token, result_hash="result-1")
        assert refused.value.field == "worker_signature"
        proof = sihlicon.proof_of_execution(job.id, "result-1", "bee-01")
        done = hub.scheduler.complete(
            job.id, lease.token, result_hash="result-1",
            worker_signature=sihlicon.eip191_sign(worker_key.key.hex(), proof),
        )
        assert done.status is sihlicon.JobStatus.COMPLETED
