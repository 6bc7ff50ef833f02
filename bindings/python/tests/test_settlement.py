# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

import sihlicon
from conftest import hub_spec, job_request, open_hub, run_job
from sihlicon import AccountKind, AccountRef, Money, TransferKind, TransferRequest, TransferStatus

OPERATOR_KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


def usd(decimal: str) -> Money:
    return Money.parse(decimal, "USD")


@pytest.fixture
def charged(tmp_path: Path, clock: sihlicon.ManualClock) -> sihlicon.Hub:
    hub = open_hub(
        tmp_path / "charged",
        clock,
        settlement=sihlicon.SettlementOptions(
            charge_jobs=True, prices={"ai-inference": 250_000}, operator_key=OPERATOR_KEY
        ),
    )
    hub.scheduler.register_hub(hub_spec())
    hub.scheduler.register_worker({"workerId": "bee-01", "hubId": "pool", "cpu": "64",
                                   "memory": "256Gi"})
    return hub


def test_options_prices_and_the_operator(charged: sihlicon.Hub) -> None:
    s = charged.settlement
    options = s.options()
    assert options.charge_jobs and options.currency == "USD" and options.operator_key is None
    assert options.prices == {"ai-inference": 250_000}
    assert s.price_of("ocr") == usd("0.10") and s.price_of("ai-inference") == usd("0.25")
    assert s.operator_address() == "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
    charged.close()


def test_a_charged_job_reserves_then_charges_its_price(charged: sihlicon.Hub) -> None:
    s = charged.settlement
    with pytest.raises(sihlicon.InsufficientFunds):
        charged.scheduler.submit(job_request(), owner="alice")
    top_up = s.top_up("alice", usd("1"), "0xl1tx")
    assert top_up.kind is TransferKind.DEPOSIT and not top_up.exists
    assert s.top_up("alice", usd("1"), "0xl1tx").exists
    job = charged.scheduler.submit(job_request(), owner="alice")
    assert s.job_charge(job.id) == (usd("0.10"), "reserved")
    lease = charged.scheduler.claim("bee-01")[0].lease
    charged.scheduler.complete(job.id, lease.token, energy_mwh=1, result_hash="r")
    assert s.job_charge(job.id) == (usd("0.10"), "charged")
    assert s.job_charge("job-absent") is None
    alice = s.account(AccountRef(AccountKind.CLIENT, "alice"))
    assert alice.balance == usd("0.90") and alice.available == usd("0.90")
    assert json.loads(alice.to_json())["balance"] == "0.900000"
    history = s.history(AccountRef(AccountKind.CLIENT, "alice"), limit=10)
    assert history[0].amount == -usd("0.10") and history[0].balance_after == usd("0.90")
    assert history[-1].kind is TransferKind.DEPOSIT
    assert s.deposits() == {"USD": 1_000_000} and s.withdrawals() == {}
    charged.close()


def test_the_journal_moves_money_in_one_and_two_phases(charged: sihlicon.Hub, clock: sihlicon.ManualClock) -> None:
    s = charged.settlement
    s.top_up("alice", usd("5"), "tx-1")
    alice, bob = AccountRef(AccountKind.CLIENT, "alice"), AccountRef(AccountKind.WORKER, "bob")
    plain = s.transfer(TransferRequest("t-1", alice, bob, usd("1"), reference="gift"))
    assert plain.status is TransferStatus.POSTED and plain.debit_account == "client/alice/USD"
    assert s.transfer(TransferRequest("t-1", alice, bob, usd("1"), reference="gift")).exists
    with pytest.raises(sihlicon.Conflict):
        s.transfer(TransferRequest("t-1", alice, bob, usd("2")))
    with pytest.raises(sihlicon.InsufficientFunds):
        s.transfer(TransferRequest("t-2", alice, bob, usd("100")))
    with pytest.raises(sihlicon.InvalidArgument):
        s.transfer(TransferRequest("t-3", alice, bob, Money(1, "CHF")))
    pending = s.transfer(TransferRequest("p-1", alice, bob, usd("2"), pending=True,
                                         timeout_at=clock.now() + timedelta(hours=1)))
    assert pending.status is TransferStatus.PENDING
    assert s.account(alice).pending_debits == usd("2")
    posted = s.post_pending("p-1-post", "p-1", usd("1.5"))
    assert posted.amount == usd("1.5") and posted.pending_id == "p-1"
    with pytest.raises(sihlicon.Conflict):
        s.void_pending("p-1-void", "p-1")
    s.transfer(TransferRequest("p-2", alice, bob, usd("1"), pending=True))
    assert s.void_pending("p-2-void", "p-2").pending_id == "p-2"
    s.transfer(TransferRequest("p-3", alice, bob, usd("1"), pending=True,
                               timeout_at=clock.now() + timedelta(minutes=1)))
    clock.advance(timedelta(minutes=2))
    assert s.expire_pending() == 1
    with pytest.raises(sihlicon.NotFound):
        s.post_pending("x", "absent")
    assert s.transfer_by_id("t-1").reference == "gift"
    with pytest.raises(sihlicon.NotFound):
        s.transfer_by_id("absent")
    out = s.withdraw(AccountKind.WORKER, "bob", usd("2"), "w-1", "0xpayout")
    assert out.kind is TransferKind.WITHDRAWAL
    with pytest.raises(sihlicon.InsufficientFunds):
        s.withdraw(AccountKind.WORKER, "bob", usd("100"), "w-2")
    assert s.withdrawals() == {"USD": 2_000_000}
    assert {a.owner for a in s.accounts(AccountKind.CLIENT)} == {"alice"}
    assert len(s.accounts()) > 2
    with pytest.raises(sihlicon.NotFound):
        s.account(AccountRef(AccountKind.CLIENT, "nobody"))
    charged.close()


def test_epochs_seal_sign_pay_and_give_verifiable_receipts(
    charged: sihlicon.Hub, clock: sihlicon.ManualClock
) -> None:
    s = charged.settlement
    s.top_up("alice", usd("1"), "tx-1")
    active = s.current_epoch()
    assert active.status is sihlicon.EpochStatus.ACTIVE and active.number == 1
    jobs = [run_job(charged).id for _ in range(3)]
    clock.advance(timedelta(hours=1))
    assert s.seal_due_epoch() is None  # not 24 hours old yet
    sealed = s.seal_epoch()
    assert sealed.status is sihlicon.EpochStatus.FINALIZED and sealed.jobs_count == 3
    assert sealed.revenue == usd("0.30") and sealed.signer == s.operator_address()
    assert set(sealed.artifact_cids) >= {"SUMMARY.json"}
    assert s.epoch(sealed.id) == sealed and [e.id for e in s.epochs()][0] == sealed.id
    assert json.loads(sealed.to_json())["epoch_id"] == sealed.id
    assert [j.job_id for j in s.epoch_jobs(sealed.id)] == sorted(jobs)
    payouts = s.epoch_payouts(sealed.id)
    assert [p.worker_id for p in payouts] == ["bee-01"] and payouts[0].total.minor_units > 0
    bundle = s.epoch_bundle(sealed.id)
    assert bundle.summary_json == sealed.summary_json and sealed.signature in bundle.signature_txt
    receipt = s.receipt(jobs[0])
    check = sihlicon.verify_receipt(receipt, sealed.signer)
    assert check and check.valid and check.job_id == jobs[0] and check.epoch_id == sealed.id
    assert sihlicon.verify_receipt(json.loads(receipt)).valid
    tampered = json.loads(receipt)
    tampered["leaf"] = tampered["leaf"].replace(jobs[0], jobs[1])
    assert not sihlicon.verify_receipt(tampered).valid
    other = sihlicon.verify_receipt(receipt, "0x0000000000000000000000000000000000000001")
    assert not other and other.problem
    assert not sihlicon.verify_receipt("not json").valid
    with pytest.raises(sihlicon.InvalidArgument):
        sihlicon.verify_receipt(receipt, "not an address")
    verifier = sihlicon.ReceiptVerifier()
    assert all(verifier.verify(s.receipt(j), sealed.signer).valid for j in jobs)
    assert not verifier.verify(tampered).valid
    assert json.loads(s.index_json())["epochs"][0]["epoch_id"] == sealed.id
    clock.advance(timedelta(days=2))
    due = s.seal_due_epoch()
    assert due is not None and due.number == 2
    with pytest.raises(sihlicon.NotFound):
        s.epoch("epoch-999999")
    with pytest.raises(sihlicon.NotFound):
        s.receipt("job-absent")
    charged.close()


def test_proof_of_execution_is_the_seeds_hash() -> None:
    import hashlib

    assert sihlicon.proof_of_execution("job-1", "r", "bee-01") == hashlib.sha256(
        b"job-1rbee-01"
    ).hexdigest()
