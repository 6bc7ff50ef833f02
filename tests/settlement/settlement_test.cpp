// SPDX-License-Identifier: Apache-2.0
#include "settlement/epochs.hpp"
#include "settlement/fixture.hpp"

#include "support/errors.hpp"

#include "support/schema_rewind.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <functional>
#include <random>
#include <set>

using namespace sihlicon;
using sihlicon::testing::error_of;
using sihlicon::testing::kUsd;
using sihlicon::testing::SettlementFixture;
using sihlicon::testing::usd;

namespace {

AccountRef client(const std::string& owner) {
    return AccountRef{AccountKind::client, owner, kUsd};
}

TransferRequest move(const std::string& id, const AccountRef& from, const AccountRef& to,
                     const Money& amount, bool pending = false) {
    TransferRequest request;
    request.id = id;
    request.debit = from;
    request.credit = to;
    request.amount = amount;
    request.pending = pending;
    return request;
}

const AccountRef kEscrow{AccountKind::escrow, "hub", kUsd};

}  // namespace

// ---- journal ----------------------------------------------------------------------------

TEST_CASE("a top-up credits the client once per external reference") {
    SettlementFixture f;
    const auto first = f.settlement().top_up("alice", usd("5.00"), "0xabc1");
    CHECK_FALSE(first.exists);
    CHECK(first.kind == TransferKind::deposit);
    const auto again = f.settlement().top_up("alice", usd("5.00"), "0xabc1");
    CHECK(again.exists);
    CHECK(f.balance(AccountKind::client, "alice") == usd("5.00"));
    CHECK(error_of([&] { f.settlement().top_up("alice", usd("6.00"), "0xabc1"); }) ==
          ErrorCode::conflict);
    CHECK(error_of([&] { f.settlement().top_up("bob", usd("5.00"), "0xabc1"); }) ==
          ErrorCode::conflict);
    const auto history = f.settlement().history(client("alice"));
    REQUIRE(history.size() == 1);
    CHECK(history[0].kind == TransferKind::deposit);
    CHECK(history[0].amount == usd("5.00"));
    CHECK(history[0].balance_after == usd("5.00"));
    CHECK(history[0].reference == "0xabc1");
}

TEST_CASE("a transfer id is an idempotency key: the same fields return it, others conflict") {
    SettlementFixture f;
    f.settlement().top_up("alice", usd("10"), "tx-1");
    const auto request = move("t-1", client("alice"), client("bob"), usd("3"));
    CHECK_FALSE(f.settlement().transfer(request).exists);
    CHECK(f.settlement().transfer(request).exists);
    CHECK(f.balance(AccountKind::client, "bob") == usd("3"));
    auto other = request;
    other.amount = usd("4");
    CHECK(error_of([&] { f.settlement().transfer(other); }) == ErrorCode::conflict);
    CHECK(f.balance(AccountKind::client, "alice") == usd("7"));
}

TEST_CASE("a client balance never goes below zero and a refused transfer writes nothing") {
    SettlementFixture f;
    f.settlement().top_up("alice", usd("1"), "tx-1");
    const auto before = f.count("SELECT COUNT(*) FROM settlement_entries");
    CHECK(error_of([&] {
              f.settlement().transfer(move("t-1", client("alice"), client("bob"), usd("1.000001")));
          }) == ErrorCode::insufficient_funds);
    CHECK(f.count("SELECT COUNT(*) FROM settlement_entries") == before);
    CHECK(error_of([&] { f.settlement().transfer_by_id("t-1"); }) == ErrorCode::not_found);
    CHECK(error_of([&] {
              f.settlement().transfer(move("t-2", client("alice"), client("alice"), usd("1")));
          }) == ErrorCode::invalid_argument);
    CHECK(error_of([&] {
              f.settlement().transfer(move("t-3", client("alice"), client("bob"), usd("0")));
          }) == ErrorCode::invalid_argument);
}

TEST_CASE("a pending transfer reserves at once; a partial post releases the rest, once") {
    SettlementFixture f;
    f.settlement().top_up("alice", usd("1"), "tx-1");
    f.settlement().transfer(move("hold", client("alice"), kEscrow, usd("0.8"), true));
    CHECK(f.available(AccountKind::client, "alice") == usd("0.2"));
    CHECK(f.balance(AccountKind::client, "alice") == usd("1"));
    CHECK(error_of([&] {
              f.settlement().transfer(move("t-2", client("alice"), client("bob"), usd("0.3")));
          }) == ErrorCode::insufficient_funds);
    CHECK(error_of([&] { f.settlement().post_pending("cap", "hold", usd("0.9")); }) ==
          ErrorCode::invalid_argument);
    const auto posted = f.settlement().post_pending("cap", "hold", usd("0.5"));
    CHECK(posted.amount == usd("0.5"));
    CHECK(f.settlement().post_pending("cap", "hold", usd("0.5")).exists);
    CHECK(f.balance(AccountKind::client, "alice") == usd("0.5"));
    CHECK(f.available(AccountKind::client, "alice") == usd("0.5"));
    CHECK(f.balance(AccountKind::escrow, "hub") == usd("0.5"));
    CHECK(f.settlement().transfer_by_id("hold").status == TransferStatus::posted);
    CHECK(error_of([&] { f.settlement().void_pending("undo", "hold"); }) == ErrorCode::conflict);
    CHECK(error_of([&] { f.settlement().post_pending("cap", "nothing"); }) == ErrorCode::not_found);
}

TEST_CASE("voiding releases everything and a timed-out pending transfer can only expire") {
    SettlementFixture f;
    f.settlement().top_up("alice", usd("1"), "tx-1");
    f.settlement().transfer(move("a", client("alice"), kEscrow, usd("0.4"), true));
    f.settlement().void_pending("a-void", "a");
    CHECK(f.available(AccountKind::client, "alice") == usd("1"));
    CHECK(f.settlement().transfer_by_id("a").status == TransferStatus::voided);

    auto timed = move("b", client("alice"), kEscrow, usd("0.4"), true);
    timed.timeout_at = Timestamp::from_ms(f.clock->now().ms() + 1000);
    f.settlement().transfer(timed);
    CHECK(f.available(AccountKind::client, "alice") == usd("0.6"));
    f.clock->advance(std::chrono::milliseconds(1000));
    CHECK(error_of([&] { f.settlement().post_pending("b-post", "b"); }) == ErrorCode::conflict);
    CHECK(f.settlement().expire_pending() == 1);
    CHECK(f.settlement().transfer_by_id("b").status == TransferStatus::expired);
    CHECK(f.available(AccountKind::client, "alice") == usd("1"));
    CHECK(f.settlement().expire_pending() == 0);
}

TEST_CASE("random money movements conserve money and never apply a transfer twice") {
    SettlementFixture f;
    std::mt19937_64 random(42);
    const std::vector<std::string> clients{"c1", "c2", "c3"};
    std::vector<std::string> pending;
    std::int64_t attempts = 0;
    for (int step = 0; step < 600; ++step) {
        const auto pick = [&](std::int64_t n) {
            return static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(n));
        };
        const auto& who = clients[static_cast<std::size_t>(pick(3))];
        const auto amount = Money(1 + pick(3'000'000), kUsd);
        // Ids repeat on purpose: a retry must never apply twice.
        const auto id = fmt::format("op-{}", pick(400));
        ++attempts;
        try {
            switch (pick(6)) {
                case 0:
                    f.settlement().top_up(who, amount, "ext-" + id);
                    break;
                case 1:
                    f.settlement().transfer(move("r-" + id, client(who), kEscrow, amount, true));
                    pending.push_back("r-" + id);
                    break;
                case 2:
                    if (!pending.empty()) {
                        const auto p = pending[static_cast<std::size_t>(
                            pick(static_cast<std::int64_t>(pending.size())))];
                        f.settlement().post_pending("p-" + p, p);
                    }
                    break;
                case 3:
                    if (!pending.empty()) {
                        const auto p = pending[static_cast<std::size_t>(
                            pick(static_cast<std::int64_t>(pending.size())))];
                        f.settlement().void_pending("v-" + p, p);
                    }
                    break;
                case 4:
                    f.settlement().withdraw(AccountKind::client, who, amount, "w-" + id);
                    break;
                default:
                    f.settlement().transfer(move("m-" + id, client(who),
                                                 client(clients[static_cast<std::size_t>(pick(3))]),
                                                 amount));
            }
        } catch (const Error& error) {
            CHECK((error.code() == ErrorCode::insufficient_funds ||
                   error.code() == ErrorCode::conflict ||
                   error.code() == ErrorCode::invalid_argument));
        }
        if (step % 50 == 49) {
            std::int64_t internal = 0;
            for (const auto& account : f.settlement().accounts()) {
                if (account.ref.kind != AccountKind::external) {
                    internal += account.balance.minor_units();
                    CHECK(account.available().minor_units() >= 0);
                }
            }
            const auto deposits = f.settlement().deposits();
            const auto withdrawals = f.settlement().withdrawals();
            const auto in = deposits.contains("USD") ? deposits.at("USD") : 0;
            const auto out = withdrawals.contains("USD") ? withdrawals.at("USD") : 0;
            CHECK(internal == in - out);
            CHECK(f.count("SELECT COALESCE(SUM(balance), 0) FROM settlement_accounts") == 0);
            CHECK(f.count("SELECT COUNT(*) FROM (SELECT transfer_id FROM settlement_entries "
                          "GROUP BY transfer_id HAVING SUM(amount) <> 0 OR COUNT(*) <> 2)") == 0);
            CHECK(f.count("SELECT COUNT(*) FROM settlement_transfers WHERE pending_id IS NOT "
                          "NULL GROUP BY pending_id HAVING COUNT(*) > 1") == 0);
            CHECK(f.count("SELECT COUNT(*) FROM settlement_accounts a WHERE pending_debits <> "
                          "(SELECT COALESCE(SUM(amount), 0) FROM settlement_transfers t WHERE "
                          "t.status = 'pending' AND t.debit_account = a.id)") == 0);
        }
    }
    CHECK(attempts == 600);
}

// ---- jobs -------------------------------------------------------------------------------

TEST_CASE("a submission reserves the job's price and its completion charges it") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", usd("1"), "tx-1");
    const auto job = f.scheduler().submit(SettlementFixture::job());
    CHECK(f.available(AccountKind::client, "alice") == usd("0.9"));
    CHECK(f.balance(AccountKind::client, "alice") == usd("1"));
    const auto claimed = f.scheduler().claim("bee-01", 1);
    REQUIRE(claimed.size() == 1);
    f.scheduler().complete(job.id, claimed[0].lease.token, SettlementFixture::done());
    CHECK(f.balance(AccountKind::client, "alice") == usd("0.9"));
    CHECK(f.balance(AccountKind::escrow, "hub") == usd("0.1"));
    const auto history = f.settlement().history(client("alice"));
    REQUIRE(history.size() == 2);
    CHECK(history[0].kind == TransferKind::job_charge);
    CHECK(history[0].amount == usd("-0.1"));
    CHECK(history[0].balance_after == usd("0.9"));
    CHECK(history[0].reference == job.id);
    const auto jobs = f.settlement().current_epoch();
    CHECK(jobs.status == EpochStatus::active);
}

TEST_CASE("a client without funds cannot submit and nothing is queued") {
    SettlementFixture f;
    f.add_site();
    f.settlement().top_up("alice", usd("0.05"), "tx-1");
    CHECK(error_of([&] { f.scheduler().submit(SettlementFixture::job()); }) ==
          ErrorCode::insufficient_funds);
    CHECK(error_of([&] { f.scheduler().submit(SettlementFixture::job("nobody")); }) ==
          ErrorCode::insufficient_funds);
    CHECK(f.count("SELECT COUNT(*) FROM jobs") == 0);
    CHECK(f.available(AccountKind::client, "alice") == usd("0.05"));
}

TEST_CASE("a cancellation or a final failure voids the reservation") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", usd("1"), "tx-1");
    const auto cancelled = f.scheduler().submit(SettlementFixture::job());
    f.scheduler().cancel(cancelled.id, "alice");
    CHECK(f.available(AccountKind::client, "alice") == usd("1"));
    const auto failing = f.scheduler().submit(SettlementFixture::job());
    const auto claimed = f.scheduler().claim("bee-01", 1);
    REQUIRE(claimed.size() == 1);
    f.scheduler().fail(failing.id, claimed[0].lease.token, "out of memory", false);
    CHECK(f.available(AccountKind::client, "alice") == usd("1"));
    CHECK(f.balance(AccountKind::client, "alice") == usd("1"));
    CHECK(f.count("SELECT COUNT(*) FROM settlement_transfers WHERE status = 'voided'") == 4);
}

TEST_CASE("a requeued job reserves its price again and is charged once when it completes") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", usd("1"), "tx-1");
    const auto job = f.scheduler().submit(SettlementFixture::job());
    CHECK(f.settlement().job_charge(job.id)->first == usd("0.1"));
    CHECK(f.settlement().job_charge(job.id)->second == "reserved");
    auto claimed = f.scheduler().claim("bee-01", 1);
    f.scheduler().fail(job.id, claimed.at(0).lease.token, "crashed", false);
    CHECK(f.settlement().job_charge(job.id)->second == "voided");
    CHECK(f.available(AccountKind::client, "alice") == usd("1"));
    f.scheduler().requeue(job.id, "operator");
    CHECK(f.available(AccountKind::client, "alice") == usd("0.9"));
    claimed = f.scheduler().claim("bee-01", 1);
    f.scheduler().complete(job.id, claimed.at(0).lease.token, SettlementFixture::done());
    CHECK(f.settlement().job_charge(job.id)->second == "charged");
    CHECK(f.balance(AccountKind::client, "alice") == usd("0.9"));
    CHECK(f.balance(AccountKind::escrow, "hub") == usd("0.1"));
    CHECK_FALSE(f.settlement().job_charge("job-unknown"));
}

TEST_CASE("a job type's price comes from the table, the seed's USD 0.10 otherwise") {
    testing::TempDir dir;
    HubOptions options;
    options.initial_settings.emplace().charge_jobs = true;
    options.initial_settings->prices.emplace("ai-inference", usd("0.25"));
    const auto hub = Hub::open(dir.path(), options);
    CHECK(hub.settlement().price_of("ai-inference") == usd("0.25"));
    CHECK(hub.settlement().price_of("ocr") == usd("0.1"));
    CHECK(error_of([&] { hub.settlement().price_of("nonsense"); }) == ErrorCode::invalid_argument);
}

TEST_CASE("without charging, jobs run free and still join the epoch") {
    SettlementFixture f;
    f.charge_jobs = false;
    f.reopen();
    f.add_site();
    f.add_worker("bee-01");
    f.run_job("alice", "bee-01");
    CHECK(f.count("SELECT COUNT(*) FROM settlement_transfers") == 0);
    CHECK(f.count("SELECT COUNT(*) FROM settlement_epoch_jobs") == 1);
}

TEST_CASE("a completion with a wrong proof of execution or signature is refused") {
    SettlementFixture f;
    const auto key = crypto::PrivateKey::parse(
        "0xb25c7db31feed9122727bf0939dc769a96564b2de4c4726d035b36ecf1e5b364");
    f.add_site();
    f.add_worker("bee-01", {{"address", key.address().to_string()}});
    f.settlement().top_up("alice", usd("1"), "tx-1");
    const auto job = f.scheduler().submit(SettlementFixture::job());
    const auto claimed = f.scheduler().claim("bee-01", 1);
    REQUIRE(claimed.size() == 1);
    auto completion = SettlementFixture::done("result-1");
    completion.proof_of_execution = proof_of_execution(job.id, "result-1", "bee-02");
    CHECK(error_of([&] { f.scheduler().complete(job.id, claimed[0].lease.token, completion); }) ==
          ErrorCode::invalid_argument);
    const auto proof = proof_of_execution(job.id, "result-1", "bee-01");
    completion.proof_of_execution = proof;
    completion.worker_signature =
        crypto::PrivateKey::generate().sign_message(std::string_view(proof)).to_hex();
    CHECK(error_of([&] { f.scheduler().complete(job.id, claimed[0].lease.token, completion); }) ==
          ErrorCode::invalid_argument);
    CHECK(f.scheduler().job(job.id).status == JobStatus::running);
    completion.worker_signature = key.sign_message(std::string_view(proof)).to_hex();
    CHECK(f.scheduler().complete(job.id, claimed[0].lease.token, completion).status ==
          JobStatus::completed);
    const auto jobs = f.settlement().epoch_jobs(f.settlement().current_epoch().id);
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].poe_hash == proof);
}

TEST_CASE("a heat settlement posts its credit to the hub's heat account in the journal") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", usd("1"), "tx-1");
    const auto job = f.scheduler().submit(SettlementFixture::job());
    const auto claimed = f.scheduler().claim("bee-01", 1);
    auto completion = SettlementFixture::done();
    completion.energy = Energy::milliwatt_hours(100'000'000);  // 100 kWh → 90 kWh of heat
    f.scheduler().complete(job.id, claimed[0].lease.token, completion);
    f.clock->advance(std::chrono::hours(1));
    const auto settled =
        f.hub->heat_ledger().settle("zurich", Timestamp::from_ms(0), f.clock->now());
    REQUIRE(settled.credit.minor_units() > 0);
    const auto heat = f.settlement().account(
        AccountRef{AccountKind::heat_credits, "zurich", settled.credit.currency()});
    CHECK(heat.balance == settled.credit);
    f.hub->heat_ledger().settle("zurich", Timestamp::from_ms(0), f.clock->now());
    CHECK(f.count("SELECT COUNT(*) FROM settlement_transfers WHERE kind = 'heat_credit'") == 1);
}

// ---- epochs and receipts ------------------------------------------------------------------

TEST_CASE("sealing an epoch signs a bundle whose root covers its jobs and pays it out exactly") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.add_worker("bee-02");
    f.settlement().top_up("alice", usd("10"), "tx-1");
    f.settlement().top_up("bob", usd("10"), "tx-2");
    std::vector<std::string> ids;
    for (int i = 0; i < 7; ++i) {
        ids.push_back(f.run_job(i % 2 == 0 ? "alice" : "bob", i < 5 ? "bee-01" : "bee-02"));
        f.clock->advance(std::chrono::minutes(1));
        f.scheduler().heartbeat("bee-01", {});
        f.scheduler().heartbeat("bee-02", {});
    }
    const auto sealed = f.settlement().seal_epoch();
    CHECK(sealed.status == EpochStatus::finalized);
    CHECK(sealed.id == "epoch-000001");
    CHECK(sealed.jobs_count == 7);
    CHECK(sealed.revenue == usd("0.7"));
    CHECK(f.settlement().current_epoch().id == "epoch-000002");

    const auto bundle = f.settlement().epoch_bundle(sealed.id);
    CHECK(bundle.summary_json == sealed.summary_json);
    const auto summary = boost::json::parse(bundle.summary_json).as_object();
    CHECK(summary.at("jobs_count").as_int64() == 7);
    CHECK(summary.at("treasury").at("protocol_fee").as_string() == "0.014000");
    CHECK(summary.at("treasury").at("operator_fee").as_string() == "0.035000");
    CHECK(summary.at("artifacts").at("jobs.json").as_string() ==
          crypto::to_hex(crypto::sha256(bundle.jobs_json)));
    const auto jobs = boost::json::parse(bundle.jobs_json).as_array();
    REQUIRE(jobs.size() == 7);
    std::vector<std::string> leaves;
    for (const auto& job : jobs) {
        leaves.push_back(crypto::canonicalize_json(boost::json::serialize(job)));
    }
    CHECK(crypto::to_hex(crypto::MerkleTree::from_leaves(leaves).root()) ==
          sealed.jobs_merkle_root);
    CHECK(std::is_sorted(ids.begin(), ids.end()));
    CHECK(jobs[0].at("job_id").as_string() == ids[0]);
    CHECK(bundle.signature_txt ==
          f.settlement().operator_address().to_string() + "\n" + sealed.signature + "\n");
    CHECK(crypto::verify_message(std::string_view(bundle.summary_json),
                                 crypto::Signature::parse(sealed.signature),
                                 f.settlement().operator_address()));

    // Fees 2 % and 5 %, the rest to the workers; escrow drained; nothing created or lost.
    CHECK(f.balance(AccountKind::protocol_fee, "hub") == usd("0.014"));
    CHECK(f.balance(AccountKind::operator_fee, "hub") == usd("0.035"));
    CHECK(f.balance(AccountKind::escrow, "hub") == usd("0"));
    const auto payouts = f.settlement().epoch_payouts(sealed.id);
    REQUIRE(payouts.size() == 2);
    CHECK(payouts[0].jobs_completed == 5);
    CHECK((payouts[0].total() + payouts[1].total()) == usd("0.651"));
    CHECK(f.balance(AccountKind::worker, "bee-01") == payouts[0].total());
    CHECK(f.balance(AccountKind::worker, "bee-02") == payouts[1].total());
    // Sealing again seals the next (empty) epoch and pays nothing more.
    const auto next = f.settlement().seal_epoch();
    CHECK(next.id == "epoch-000002");
    CHECK(next.jobs_count == 0);
    CHECK(f.balance(AccountKind::worker, "bee-01") == payouts[0].total());
}

TEST_CASE("a seal interrupted by a crash is finished by the next seal and pays once") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", usd("1"), "tx-1");
    f.run_job("alice", "bee-01");
    f.run_job("alice", "bee-01");
    // The crash: the epoch went to `sealing` and nothing after that happened.
    f.database().write(
        [&](store::Transaction& tx) { settlement::begin_seal(tx, kUsd, f.clock->now()); });
    CHECK(f.settlement().epoch("epoch-000001").status == EpochStatus::sealing);
    f.reopen();
    f.run_job("alice", "bee-01");  // joins epoch 2, not the one being sealed
    const auto sealed = f.settlement().seal_epoch();
    CHECK(sealed.id == "epoch-000001");
    CHECK(sealed.jobs_count == 2);
    CHECK(f.balance(AccountKind::worker, "bee-01") == usd("0.186"));
    // Finishing the same seal again (as a second process would) changes nothing.
    settlement::finish_seal(
        HubAccess::core(*f.hub), f.hub->content_store(),
        crypto::LocalKeySigner::load(f.dir.path() / "operator.key"), f.hub->settings(),
        f.hub->settings().heartbeat_interval * f.hub->settings().missed_heartbeats, 1);
    CHECK(f.balance(AccountKind::worker, "bee-01") == usd("0.186"));
    CHECK(f.count("SELECT COUNT(*) FROM settlement_transfers WHERE kind = 'payout'") == 1);
}

TEST_CASE("a receipt verifies offline, and any tampering is caught") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", usd("1"), "tx-1");
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        ids.push_back(f.run_job("alice", "bee-01"));
    }
    CHECK(error_of([&] { f.settlement().receipt(ids[2]); }) == ErrorCode::conflict);
    f.settlement().seal_epoch();
    CHECK(error_of([&] { f.settlement().receipt("job-unknown"); }) == ErrorCode::not_found);
    const auto operator_address = f.settlement().operator_address();
    for (const auto& id : ids) {
        const auto receipt = f.settlement().receipt(id);
        const auto check = verify_receipt(receipt, operator_address);
        CHECK_MESSAGE(check.valid, check.problem);
        CHECK(check.job_id == id);
        CHECK(check.epoch_id == "epoch-000001");
    }
    const auto original = boost::json::parse(f.settlement().receipt(ids[3])).as_object();
    const auto tampered = [&](const std::function<void(boost::json::object&)>& change) {
        auto copy = original;
        change(copy);
        return verify_receipt(boost::json::serialize(copy), operator_address);
    };
    CHECK_FALSE(tampered([](auto& r) { r["leaf_index"] = 2; }).valid);
    CHECK_FALSE(tampered([](auto& r) { r["tree_size"] = 8; }).valid);
    CHECK_FALSE(tampered([](auto& r) { r["job_id"] = "job-other"; }).valid);
    CHECK_FALSE(tampered([](auto& r) {
                    auto leaf = std::string(r["leaf"].as_string());
                    leaf.replace(leaf.find("\"fee\":100000"), 12, "\"fee\":100001");
                    r["leaf"] = leaf;
                }).valid);
    CHECK_FALSE(tampered([](auto& r) {
                    auto summary = std::string(r["summary"].as_string());
                    summary.replace(summary.find("\"jobs_count\":5"), 14, "\"jobs_count\":6");
                    r["summary"] = summary;
                    r["tree_size"] = 6;
                }).valid);
    CHECK_FALSE(
        verify_receipt(boost::json::serialize(original), crypto::PrivateKey::generate().address())
            .valid);
    CHECK_FALSE(verify_receipt("not json", {}).valid);
}

TEST_CASE("a receipt signed by a fresh key over a made-up epoch is never valid") {
    // The forger runs a hub of its own: a new key signs an epoch holding whatever it likes.
    SettlementFixture operator_hub;
    operator_hub.add_site();
    operator_hub.add_worker("bee-01");
    operator_hub.settlement().top_up("alice", usd("1"), "tx-1");
    operator_hub.run_job("alice", "bee-01");
    operator_hub.settlement().seal_epoch();
    SettlementFixture forger;
    forger.add_site();
    forger.add_worker("bee-01");
    forger.settlement().top_up("alice", usd("1"), "tx-1");
    const auto forged_job = forger.run_job("alice", "bee-01");
    forger.settlement().seal_epoch();
    const auto forged = forger.settlement().receipt(forged_job);

    // Consistent with the key it carries, but nobody said to trust that key: unverified.
    const auto alone = verify_receipt(forged, {});
    CHECK(alone.status == ReceiptStatus::unverified);
    CHECK_FALSE(alone.valid);
    CHECK_FALSE(alone.signer_trusted);
    CHECK(alone.signer == forger.settlement().operator_address().to_string());
    CHECK(alone.problem.find("unverified") != std::string::npos);
    // Checked against the real operator: invalid, naming both.
    const auto against = verify_receipt(forged, operator_hub.settlement().trusted_signers());
    CHECK(against.status == ReceiptStatus::invalid);
    CHECK_FALSE(against.valid);
    CHECK_FALSE(against.signer_trusted);
    CHECK(against.problem.find("not a trusted signer") != std::string::npos);
    CHECK(against.problem.find(operator_hub.settlement().operator_address().to_string()) !=
          std::string::npos);
    ReceiptVerifier verifier;
    CHECK(verifier.verify(forged, {}).status == ReceiptStatus::unverified);
    CHECK(verifier.verify(forged, operator_hub.settlement().operator_address()).status ==
          ReceiptStatus::invalid);
    // The forger's own hub does trust it: trust is the caller's choice, not the receipt's.
    const auto own = verify_receipt(forged, forger.settlement().trusted_signers());
    CHECK(own.status == ReceiptStatus::valid);
    CHECK(own.valid);
    CHECK(own.signer_trusted);
    CHECK(own.problem.empty());
    CHECK(to_string(ReceiptStatus::unverified) == "unverified");
}

TEST_CASE("a receipt that repeats a member name is invalid, even with a trusted signer") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", usd("1"), "tx-1");
    const auto job = f.run_job("alice", "bee-01");
    f.settlement().seal_epoch();
    const auto receipt = f.settlement().receipt(job);
    REQUIRE(verify_receipt(receipt, f.settlement().operator_address()).valid);
    // A second "job_id" that a lenient parser would let win over the first.
    const auto doubled = "{\"job_id\":\"job-other\"," + receipt.substr(1);
    const auto check = verify_receipt(doubled, f.settlement().trusted_signers());
    CHECK(check.status == ReceiptStatus::invalid);
    CHECK(check.problem.find("duplicate member name") != std::string::npos);
}

TEST_CASE("receipts of two epochs asked for in turn each carry their own epoch's tree") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", usd("1"), "tx-1");
    std::vector<std::string> first;
    for (int i = 0; i < 3; ++i) {
        first.push_back(f.run_job("alice", "bee-01"));
    }
    f.settlement().seal_epoch();
    std::vector<std::string> second;
    for (int i = 0; i < 5; ++i) {
        second.push_back(f.run_job("alice", "bee-01"));
    }
    f.settlement().seal_epoch();
    // The settlement keeps one epoch's tree: asking in turn swaps it each time.
    for (const auto* ids : {&first, &second, &first, &second}) {
        for (const auto& id : *ids) {
            const auto receipt = f.settlement().receipt(id);
            CHECK(receipt == settlement::receipt_of(f.database(), id));  // rebuilt, no cache
            const auto check = verify_receipt(receipt, f.settlement().operator_address());
            CHECK_MESSAGE(check.valid, check.problem);
            CHECK(check.epoch_id == (ids == &first ? "epoch-000001" : "epoch-000002"));
        }
    }
}

TEST_CASE("a hub made before migration 8 reopens with its epochs' jobs in epoch order") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", usd("1"), "tx-1");
    std::vector<std::string> sealed_jobs;
    for (int i = 0; i < 3; ++i) {
        sealed_jobs.push_back(f.run_job("alice", "bee-01"));
    }
    const auto first = f.settlement().seal_epoch();
    const auto open_job = f.run_job("alice", "bee-01");  // in the active epoch
    const auto receipt_before = f.settlement().receipt(sealed_jobs[1]);
    // Back to schema 7: the rowid table and index migration 5 made.
    f.database().write([](store::Transaction& tx) {
        testing::restore_job_events_table(tx);
        for (const char* sql : {
                 "CREATE TABLE old_epoch_jobs (job_id TEXT PRIMARY KEY, epoch_number INTEGER NOT "
                 "NULL, client TEXT NOT NULL, worker TEXT NOT NULL, job_type TEXT NOT NULL, hub "
                 "TEXT NOT NULL, fee INTEGER NOT NULL, currency TEXT NOT NULL, result_hash TEXT "
                 "NOT NULL, poe_hash TEXT NOT NULL, completed_at INTEGER NOT NULL)",
                 "INSERT INTO old_epoch_jobs SELECT job_id, epoch_number, client, worker, "
                 "job_type, hub, fee, currency, result_hash, poe_hash, completed_at FROM "
                 "settlement_epoch_jobs",
                 "DROP TABLE settlement_epoch_jobs",
                 "ALTER TABLE old_epoch_jobs RENAME TO settlement_epoch_jobs",
                 "CREATE INDEX settlement_epoch_jobs_by_epoch ON settlement_epoch_jobs "
                 "(epoch_number, job_id)",
                 "DELETE FROM schema_migrations WHERE version >= 8",
                 "PRAGMA user_version = 7",
             }) {
            tx.prepare(sql).run();
        }
    });
    f.reopen();
    CHECK(f.hub->info().schema_version == Hub::latest_schema_version());
    CHECK(f.count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'settlement_epoch_jobs' AND "
                  "sql LIKE '%WITHOUT ROWID'") == 1);
    CHECK(f.count("SELECT COUNT(*) FROM sqlite_master WHERE name = "
                  "'settlement_epoch_jobs_by_epoch'") == 0);
    CHECK(f.count("SELECT COUNT(*) FROM settlement_epoch_jobs") == 4);
    CHECK(f.settlement().receipt(sealed_jobs[1]) == receipt_before);
    CHECK(f.settlement().epoch_jobs(first.id).size() == 3);
    // Completions still join the active epoch, once each, and it seals over all its jobs.
    f.run_job("alice", "bee-01");
    const auto second = f.settlement().seal_epoch();
    CHECK(second.jobs_count == 2);
    const auto check =
        verify_receipt(f.settlement().receipt(open_job), f.settlement().operator_address());
    CHECK_MESSAGE(check.valid, check.problem);
}

TEST_CASE("an epoch is due for sealing once its duration has passed") {
    SettlementFixture f;
    const auto first = f.settlement().current_epoch();
    CHECK(first.status == EpochStatus::active);
    CHECK_FALSE(f.settlement().seal_due_epoch());
    f.clock->advance(std::chrono::hours(24));
    const auto sealed = f.settlement().seal_due_epoch();
    REQUIRE(sealed);
    CHECK(sealed->id == first.id);
    CHECK(sealed->end == f.clock->now());
    CHECK(f.settlement().current_epoch().start == f.clock->now());
    const auto index = boost::json::parse(f.settlement().index_json()).as_object();
    CHECK(index.at("epochs").as_array().size() == 2);
    CHECK(index.at("operator").as_string() == f.settlement().operator_address().to_string());
}

// Writes `count` completed jobs straight into the active epoch (fees 1 to 5 micro-dollars,
// strings JCS escapes, 13 clients with non-ASCII names, 7 workers) and funds escrow with them.
void insert_epoch_jobs(SettlementFixture& f, std::int64_t count) {
    f.database().write([&](store::Transaction& tx) {
        settlement::ensure_active_epoch(tx, kUsd, f.clock->now());
        for (std::int64_t i = 0; i < count; ++i) {
            const auto id = fmt::format("job-{:08}", i);
            const auto worker = fmt::format("bee-{:02}", i % 7);
            const auto result = fmt::format("r\"{}\\\n", i);  // strings that JCS escapes
            tx.prepare(
                  "INSERT INTO settlement_epoch_jobs (job_id, epoch_number, client, worker, "
                  "job_type, hub, fee, currency, result_hash, poe_hash, completed_at) "
                  "VALUES (?, 1, ?, ?, 'ocr', 'zurich', ?, 'USD', ?, ?, ?)")
                .bind_all(id, fmt::format("client-{}-é", i % 13), worker, 1 + i % 5, result,
                          proof_of_execution(id, result, worker), 1'767'225'600'000 + i)
                .run();
        }
    });
    std::int64_t fees = 0;
    for (std::int64_t i = 0; i < count; ++i) {
        fees += 1 + i % 5;
    }
    TransferRequest funding;
    funding.id = "funding";
    funding.debit = AccountRef{AccountKind::external, "bench", kUsd};
    funding.credit = kEscrow;
    funding.amount = Money(fees, kUsd);
    f.settlement().transfer(funding);
}

// A blob backend whose writes fail with `io` while `failing` is set, after `good_blocks`.
class FailingBackend final : public BlobBackend {
  public:
    explicit FailingBackend(std::shared_ptr<BlobBackend> inner) : inner_(std::move(inner)) {}
    bool failing = false;
    int good_blocks = 0;

    std::unique_ptr<Batch> begin_batch(StorageTier tier) override {
        class FailingBatch final : public Batch {
          public:
            FailingBatch(FailingBackend& owner, std::unique_ptr<Batch> inner)
                : owner_(owner), inner_(std::move(inner)) {}
            void add(const Cid& cid, std::span<const std::uint8_t> bytes) override {
                if (owner_.failing && owner_.good_blocks-- <= 0) {
                    throw Error(ErrorCode::io, "no space left on device (injected)");
                }
                inner_->add(cid, bytes);
            }
            void commit() override { inner_->commit(); }
            const std::vector<Cid>& written() const override { return inner_->written(); }

          private:
            FailingBackend& owner_;
            std::unique_ptr<Batch> inner_;
        };
        return std::make_unique<FailingBatch>(*this, inner_->begin_batch(tier));
    }
    bool contains(StorageTier tier, const Cid& cid) override { return inner_->contains(tier, cid); }
    std::optional<std::vector<std::uint8_t>> read(StorageTier tier, const Cid& cid) override {
        return inner_->read(tier, cid);
    }
    void remove(StorageTier tier, const Cid& cid) override { inner_->remove(tier, cid); }
    void for_each(StorageTier tier, const std::function<void(const Cid&)>& visit) override {
        inner_->for_each(tier, visit);
    }

  private:
    std::shared_ptr<BlobBackend> inner_;
};

TEST_CASE(
    "a seal whose jobs.json cannot be stored fails with io, pays nothing, and finishes later") {
    SettlementFixture f;
    constexpr std::int64_t kJobs = 40'000;  // read in parallel parts, stored as they are read
    insert_epoch_jobs(f, kJobs);
    auto backend = std::make_shared<FailingBackend>(
        make_local_blob_backend(f.hub->blob_directory(), Durability::process_crash));
    f.hub->content_store().use_backend(backend);
    backend->failing = true;
    backend->good_blocks = 5;  // jobs.json fails part-way, while the jobs are still being read
    CHECK(error_of([&] { f.settlement().seal_epoch(); }) == ErrorCode::io);
    CHECK(f.settlement().epoch("epoch-000001").status == EpochStatus::sealing);
    CHECK(f.count("SELECT COUNT(*) FROM settlement_transfers WHERE kind = 'payout'") == 0);
    CHECK(f.count("SELECT COUNT(*) FROM cas_manifests") == 0);
    std::size_t blocks = 0;
    backend->for_each(StorageTier::hot, [&](const Cid&) { ++blocks; });
    CHECK(blocks == 0);  // the blocks written before the failure were removed

    backend->failing = false;
    const auto sealed = f.settlement().seal_epoch();
    CHECK(sealed.id == "epoch-000001");
    CHECK(sealed.status == EpochStatus::finalized);
    CHECK(sealed.jobs_count == kJobs);
    CHECK(f.count("SELECT COUNT(*) FROM settlement_transfers WHERE kind = 'payout'") == 7);
    const auto bundle = f.settlement().epoch_bundle(sealed.id);
    const auto summary = boost::json::parse(sealed.summary_json).as_object();
    CHECK(summary.at("artifacts").at("jobs.json").as_string() ==
          crypto::to_hex(crypto::sha256(bundle.jobs_json)));
}

TEST_CASE("a large epoch, read and hashed in parallel parts, seals the same bytes as one pass") {
    SettlementFixture f;
    constexpr std::int64_t kJobs = 40'000;  // above the size split over threads
    insert_epoch_jobs(f, kJobs);

    const auto sealed = f.settlement().seal_epoch();
    CHECK(sealed.jobs_count == kJobs);
    CHECK(sealed.revenue == Money(kJobs * 3, kUsd));
    const auto jobs = f.settlement().epoch_jobs(sealed.id);
    REQUIRE(jobs.size() == static_cast<std::size_t>(kJobs));
    std::vector<std::string> leaves;
    std::string joined = "[";
    for (const auto& job : jobs) {
        leaves.push_back(job.leaf());
        joined += (leaves.size() > 1 ? "," : "") + leaves.back();
    }
    joined += "]";
    // Escaped strings and non-ASCII names are written as RFC 8785 writes them.
    CHECK(crypto::canonicalize_json(leaves[7]) == leaves[7]);
    CHECK(leaves[7].find("\\\"") != std::string::npos);
    CHECK(crypto::to_hex(crypto::MerkleTree::from_leaves(leaves).root()) ==
          sealed.jobs_merkle_root);
    const auto bundle = f.settlement().epoch_bundle(sealed.id);
    CHECK(bundle.jobs_json == joined);
    // The public builder (parallel above 32,768 jobs) writes the very same files.
    EpochFigures figures;
    figures.epoch_id = sealed.id;
    figures.start = sealed.start;
    figures.end = *sealed.end;
    const auto summary = boost::json::parse(sealed.summary_json).as_object();
    const auto& treasury = summary.at("treasury").as_object();
    const auto money = [&](const char* name) {
        return Money::parse(treasury.at(name).as_string(), kUsd);
    };
    figures.revenue = money("revenue");
    figures.protocol_fee = money("protocol_fee");
    figures.operator_fee = money("operator_fee");
    figures.work_pool = money("work_pool");
    figures.readiness_pool = money("readiness_pool");
    figures.payouts = f.settlement().epoch_payouts(sealed.id);
    const auto rebuilt = build_epoch_bundle(
        jobs, figures, crypto::LocalKeySigner::load(f.dir.path() / "operator.key"));
    CHECK(rebuilt.jobs_json == bundle.jobs_json);
    CHECK(rebuilt.agents_json == bundle.agents_json);
    CHECK(rebuilt.summary_json == bundle.summary_json);
    CHECK(rebuilt.signature_txt == bundle.signature_txt);
    CHECK(summary.at("clients").at("count").as_int64() == 13);
    for (const auto index : {0, 255, 256, 257, 19'999, 20'000, 39'999}) {
        // The place found from the marks of every 256th job is the job's place.
        const auto receipt = f.settlement().receipt(jobs[static_cast<std::size_t>(index)].job_id);
        CHECK(boost::json::parse(receipt).at("leaf_index").as_int64() == index);
        const auto check = verify_receipt(receipt, f.settlement().operator_address());
        CHECK_MESSAGE(check.valid, check.problem);
    }
}
