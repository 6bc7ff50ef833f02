# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest

import sihlicon
from conftest import hub_spec, job_request, open_hub, run_job
from sihlicon import (
    AccountKind,
    AccountRef,
    MarketRequest,
    MarketStatus,
    MarketType,
    Money,
    ReputationSubject,
    TransferKind,
    TransferRequest,
    TransferStatus,
)

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
    hub.scheduler.register_worker({"workerId": "bee-01", "hubId": "pool",
             "executors": ["native", "container"], "cpu": "64",
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


def test_a_receipt_self_signed_by_a_fresh_key_is_never_valid(
    charged: sihlicon.Hub, tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    """A forger's own hub signs a made-up epoch with a fresh key: the receipt is unverified
    with no trusted signer, invalid against the real operator, valid only for the forger."""
    charged.settlement.top_up("alice", usd("1"), "tx-1")
    run_job(charged)
    charged.settlement.seal_epoch()
    forger = open_hub(tmp_path / "forger", clock,
                      settlement=sihlicon.SettlementOptions(charge_jobs=True))
    forger.scheduler.register_hub(hub_spec())
    forger.scheduler.register_worker({"workerId": "bee-01", "hubId": "pool",
             "executors": ["native", "container"], "cpu": "64",
                                      "memory": "256Gi"})
    forger.settlement.top_up("alice", usd("1"), "tx-1")
    job = run_job(forger)
    forger.settlement.seal_epoch()
    forged = forger.settlement.receipt(job.id)
    assert sihlicon.verify_receipt(forged).status == "unverified"
    assert not sihlicon.verify_receipt(forged)
    against = sihlicon.verify_receipt(forged, charged.settlement.trusted_signers())
    assert against.status == "invalid" and not against.valid and not against.signer_trusted
    assert "not a trusted signer" in against.problem
    assert sihlicon.verify_receipt(forged, forger.settlement.trusted_signers()).valid
    forger.close()


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
    # Pending until withdrawn; the epoch records what it paid and, as epoch 1, no previous root.
    assert payouts[0].status is sihlicon.PayoutStatus.PENDING
    assert sealed.total_distributed == payouts[0].total and sealed.previous_root is None
    assert json.loads(sealed.summary_json)["previous_root"] is None
    s.withdraw(AccountKind.WORKER, "bee-01", payouts[0].total, "w-1", "0xl1")
    assert s.epoch_payouts(sealed.id)[0].status is sihlicon.PayoutStatus.PAID
    assert json.loads(s.epoch_payouts(sealed.id)[0].to_json())["status"] == "paid"
    bundle = s.epoch_bundle(sealed.id)
    assert bundle.summary_json == sealed.summary_json and sealed.signature in bundle.signature_txt
    receipt = s.receipt(jobs[0])
    check = sihlicon.verify_receipt(receipt, sealed.signer)
    assert check and check.valid and check.job_id == jobs[0] and check.epoch_id == sealed.id
    assert check.status == "valid" and check.signer_trusted
    # No trusted signer: the receipt is consistent only with the key it carries. Never valid.
    alone = sihlicon.verify_receipt(json.loads(receipt))
    assert not alone and not alone.valid and alone.status == "unverified"
    assert not alone.signer_trusted and "unverified" in alone.problem
    assert sihlicon.verify_receipt(receipt, s.trusted_signers()).valid
    assert sihlicon.verify_receipt(receipt, ["0x0000000000000000000000000000000000000001",
                                             sealed.signer]).valid
    # A repeated member name is refused, not read with the last value.
    doubled = '{"job_id":"job-other",' + receipt[1:]
    refused = sihlicon.verify_receipt(doubled, sealed.signer)
    assert refused.status == "invalid" and "duplicate member name" in refused.problem
    tampered = json.loads(receipt)
    tampered["leaf"] = tampered["leaf"].replace(jobs[0], jobs[1])
    assert not sihlicon.verify_receipt(tampered, sealed.signer).valid
    other = sihlicon.verify_receipt(receipt, "0x0000000000000000000000000000000000000001")
    assert not other and other.problem and other.status == "invalid"
    assert not sihlicon.verify_receipt("not json").valid
    with pytest.raises(sihlicon.InvalidArgument):
        sihlicon.verify_receipt(receipt, "not an address")
    verifier = sihlicon.ReceiptVerifier()
    assert all(verifier.verify(s.receipt(j), sealed.signer).valid for j in jobs)
    assert not verifier.verify(tampered, sealed.signer).valid
    assert verifier.verify(receipt).status == "unverified"
    assert json.loads(s.index_json())["epochs"][0]["epoch_id"] == sealed.id
    clock.advance(timedelta(days=2))
    due = s.seal_due_epoch()
    assert due is not None and due.number == 2
    assert due.previous_root == sealed.jobs_merkle_root
    assert json.loads(due.summary_json)["previous_root"] == sealed.jobs_merkle_root
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


# ---- demand pricing, the operator key, top-ups of hub operators ---------------------------


def test_a_charged_jobs_price_follows_the_demand_for_its_queue(
    tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    options = sihlicon.SettlementOptions(
        charge_jobs=True, demand_min_ppm=800_000, demand_max_ppm=2_000_000,
        demand_full_queue_depth=2,
    )
    with open_hub(tmp_path / "demand", clock, settlement=options) as hub:
        hub.scheduler.register_hub(hub_spec())
        hub.scheduler.register_worker({"workerId": "bee-01", "hubId": "pool",
             "executors": ["native", "container"], "cpu": "64",
                                       "memory": "256Gi"})
        s = hub.settlement
        assert s.options().demand_max_ppm == 2_000_000
        assert s.options().demand_full_queue_depth == 2
        s.top_up("alice", usd("1"), "tx-1")
        idle = hub.scheduler.submit(job_request("first"), owner="alice")
        charge = s.charge_of(idle.id)
        assert charge is not None
        assert (charge.job_id, charge.client, charge.job_type) == (idle.id, "alice", "ocr")
        assert charge.base_price == usd("0.10") and charge.queue_depth == 0
        assert charge.utilisation_ppm == 0 and charge.multiplier_ppm == 800_000
        assert charge.price == usd("0.08") and charge.status == "reserved"
        assert json.loads(charge.to_json())["multiplierPpm"] == 800_000
        # One job ahead of a queue full at two: demand (500,000 + 0) / 2 → 1.1×.
        busier = s.charge_of(hub.scheduler.submit(job_request("second"), owner="alice").id)
        assert busier is not None and busier.queue_depth == 1
        assert busier.multiplier_ppm == 1_100_000 and busier.price == usd("0.11")
        assert s.job_charge(idle.id) == (usd("0.08"), "reserved")
        assert s.charge_of("job-absent") is None


def test_demand_options_out_of_order_are_refused_at_open(
    tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    options = sihlicon.SettlementOptions(demand_min_ppm=2_000_000, demand_max_ppm=1_000_000)
    with pytest.raises(sihlicon.InvalidArgument) as refused:
        open_hub(tmp_path / "refused", clock, settlement=options)
    assert refused.value.field == "demandMaxPpm" and "1000000" in str(refused.value)


def test_the_operator_key_is_generated_or_imported_into_the_key_file(
    tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    with open_hub(tmp_path / "keys", clock) as hub:
        s = hub.settlement
        key_file = s.operator_key_file()
        assert key_file == tmp_path / "keys" / "operator.key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        first = s.operator_address()
        generated = s.generate_operator_key()
        assert generated != first and s.operator_address() == generated
        imported = s.import_operator_key(OPERATOR_KEY)
        assert imported == "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
        assert key_file.read_text().strip() == OPERATOR_KEY
        with pytest.raises(sihlicon.InvalidArgument) as malformed:
            s.import_operator_key("0x12")
        assert malformed.value.field == "key" and s.operator_address() == imported
        sealed = s.seal_epoch()
        assert sealed.signer == imported
        with pytest.raises(sihlicon.Conflict) as signed:
            s.generate_operator_key()
        assert signed.value.field == "key" and s.operator_address() == imported
        assert s.generate_operator_key(replace_signer=True) != imported
        assert s.epoch(sealed.id).signer == imported  # sealed epochs keep their signature


def test_a_host_supplied_operator_key_cannot_be_replaced(charged: sihlicon.Hub) -> None:
    s = charged.settlement
    assert s.operator_key_file() is None
    with pytest.raises(sihlicon.Conflict):
        s.generate_operator_key()
    with pytest.raises(sihlicon.Conflict):
        s.import_operator_key(OPERATOR_KEY, replace_signer=True)
    charged.close()


def test_a_hub_operator_is_topped_up_from_outside(charged: sihlicon.Hub) -> None:
    s = charged.settlement
    pool = AccountRef(AccountKind.HUB_OPERATOR, "pool")
    deposit = s.top_up(pool, usd("10"), "wire-1")
    assert deposit.kind is TransferKind.DEPOSIT
    assert deposit.credit_account == "hub_operator/pool/USD"
    assert s.top_up(pool, usd("10"), "wire-1").exists
    assert s.account(pool).balance == usd("10")
    with pytest.raises(sihlicon.Conflict):
        s.top_up(pool, usd("11"), "wire-1")
    with pytest.raises(sihlicon.InvalidArgument) as worker:
        s.top_up(AccountRef(AccountKind.WORKER, "bee-01"), usd("1"), "wire-2")
    assert worker.value.field == "kind"
    with pytest.raises(sihlicon.InvalidArgument) as currency:
        s.top_up(AccountRef(AccountKind.HUB_OPERATOR, "pool", "CHF"), usd("1"), "wire-3")
    assert currency.value.field == "currency"
    assert s.deposits() == {"USD": 10_000_000}
    charged.close()


def test_a_top_up_past_the_int64_balance_is_refused_and_changes_nothing(
    charged: sihlicon.Hub,
) -> None:
    s = charged.settlement
    carol = AccountRef(AccountKind.CLIENT, "carol")
    s.top_up("carol", usd("9223372036854.775807"), "tx-max")
    with pytest.raises(sihlicon.InvalidArgument) as refused:
        s.top_up("carol", usd("0.000001"), "tx-one")
    assert refused.value.field == "amount"
    assert "client/carol/USD" in str(refused.value)
    assert s.account(carol).balance == usd("9223372036854.775807")
    with pytest.raises(sihlicon.NotFound):
        s.transfer_by_id("deposit:tx-one")
    charged.close()


# ---- marketplace ------------------------------------------------------------------------


def test_a_market_transaction_reserves_then_pays_or_releases_its_total(
    charged: sihlicon.Hub,
) -> None:
    charged.scheduler.register_hub(hub_spec("mill"))
    s = charged.settlement
    pool = AccountRef(AccountKind.HUB_OPERATOR, "pool")
    mill = AccountRef(AccountKind.HUB_OPERATOR, "mill")
    s.top_up(pool, usd("10"), "wire-1")
    heat = MarketRequest("m-1", MarketType.HEAT, "pool", "mill", 5_000, usd("0.001"), "order-7")
    created = s.create_market_transaction(heat)
    assert created.status is MarketStatus.PENDING and not created.exists
    assert created.unit == "Wh" == MarketType.HEAT.unit and created.total == usd("5")
    assert created.transfer_id == "market:m-1:reserve" and created.resolution_id is None
    assert s.account(pool).available == usd("5")
    assert s.create_market_transaction(heat).exists
    with pytest.raises(sihlicon.Conflict):
        s.create_market_transaction(MarketRequest("m-1", MarketType.HEAT, "pool", "mill", 1,
                                                  usd("0.001")))
    settled = s.settle_market_transaction("m-1")
    assert settled.status is MarketStatus.SETTLED and settled.resolved_at is not None
    assert s.account(mill).balance == usd("5") and s.account(pool).balance == usd("5")
    assert s.settle_market_transaction("m-1").exists
    with pytest.raises(sihlicon.Conflict):
        s.cancel_market_transaction("m-1")
    s.create_market_transaction(
        MarketRequest("m-2", MarketType.COMPUTE, "pool", "mill", 2, usd("1"))
    )
    cancelled = s.cancel_market_transaction("m-2")
    assert cancelled.status is MarketStatus.CANCELLED and cancelled.unit == "job"
    assert s.account(pool).available == usd("5")
    assert s.market_transaction("m-2") == dataclasses.replace(cancelled, exists=False)
    assert json.loads(s.market_transaction("m-1").to_json())["total"] == "5.000000"
    assert [t.id for t in s.market_transactions(hub="mill")] == ["m-2", "m-1"]
    assert [t.id for t in s.market_transactions(status=MarketStatus.SETTLED)] == ["m-1"]
    assert [t.id for t in s.market_transactions(type=MarketType.COMPUTE, limit=1)] == ["m-2"]
    assert s.market_transactions(hub="elsewhere") == []
    charged.close()


def test_a_market_transaction_with_a_bad_field_writes_nothing(charged: sihlicon.Hub) -> None:
    charged.scheduler.register_hub(hub_spec("mill"))
    s = charged.settlement
    s.top_up(AccountRef(AccountKind.HUB_OPERATOR, "pool"), usd("1"), "wire-1")
    with pytest.raises(sihlicon.InvalidArgument) as quantity:
        s.create_market_transaction(
            MarketRequest("m-1", MarketType.ENERGY, "pool", "mill", 0, usd("1"))
        )
    assert quantity.value.field == "quantity"
    with pytest.raises(sihlicon.NotFound) as seller:
        s.create_market_transaction(
            MarketRequest("m-1", MarketType.ENERGY, "pool", "nowhere", 1, usd("1"))
        )
    assert seller.value.field == "seller_hub"
    with pytest.raises(sihlicon.InsufficientFunds):
        s.create_market_transaction(
            MarketRequest("m-1", MarketType.STORAGE, "pool", "mill", 3, usd("1"))
        )
    with pytest.raises(sihlicon.InvalidArgument) as kind:
        gold = MarketRequest("m-1", "gold", "pool", "mill", 1, usd("1"))  # type: ignore[arg-type]
        s.create_market_transaction(gold)
    assert kind.value.field == "type"
    with pytest.raises(sihlicon.NotFound) as absent:
        s.settle_market_transaction("m-1")
    assert absent.value.field == "id"
    with pytest.raises(sihlicon.InvalidArgument) as limit:
        s.market_transactions(limit=0)
    assert limit.value.field == "limit"
    assert s.market_transactions() == []
    charged.close()


# ---- reputation -------------------------------------------------------------------------


def test_reputation_counts_a_workers_ended_attempts_and_sums_them_per_hub(
    site: sihlicon.Hub,
) -> None:
    site.scheduler.register_worker(
        {"workerId": "bee-02", "hubId": "pool",
             "executors": ["native", "container"], "cpu": "64", "memory": "256Gi"}
    )
    run_job(site, worker="bee-01")
    run_job(site, worker="bee-01")
    s = site.settlement
    bee = s.worker_reputation("bee-01")
    assert bee.subject is ReputationSubject.WORKER and bee.id == "bee-01"
    assert (bee.attempts, bee.successes, bee.on_time) == (2, 2, 2)
    assert bee.success_rate_ppm == 1_000_000 and bee.on_time_rate_ppm == 1_000_000
    assert json.loads(bee.to_json())["successRatePpm"] == 1_000_000
    newcomer = s.worker_reputation("bee-02")
    assert newcomer.attempts == 0 and newcomer.success_rate_ppm == 0
    pool = s.hub_reputation("pool")
    assert pool.subject is ReputationSubject.HUB and (pool.attempts, pool.successes) == (2, 2)
    assert [r.id for r in s.reputations()] == ["bee-01", "bee-02"]
    assert [r.id for r in s.reputations(ReputationSubject.HUB)] == ["pool"]
    with pytest.raises(sihlicon.NotFound) as worker:
        s.worker_reputation("bee-99")
    assert worker.value.field == "workerId"
    with pytest.raises(sihlicon.NotFound) as hub:
        s.hub_reputation("nowhere")
    assert hub.value.field == "hubId"
    with pytest.raises(sihlicon.InvalidArgument) as subject:
        s.reputations("team")  # type: ignore[arg-type]
    assert subject.value.field == "subject"
