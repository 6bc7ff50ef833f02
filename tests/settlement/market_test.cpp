// SPDX-License-Identifier: Apache-2.0
// Demand pricing, marketplace transactions between hubs, reputation and the operator key.
#include "settlement/demand.hpp"
#include "settlement/fixture.hpp"

#include "support/errors.hpp"

#include "support/schema_rewind.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>

#include <boost/json.hpp>

#include <sys/stat.h>

#include <fstream>

using namespace sihlicon;
using sihlicon::testing::error_of;
using sihlicon::testing::kUsd;
using sihlicon::testing::SettlementFixture;
using sihlicon::testing::usd;

namespace {

HubSettings demand_options(std::int64_t min_ppm, std::int64_t max_ppm,
                           std::int64_t full_depth = 100) {
    HubSettings options;
    options.demand_min_ppm = min_ppm;
    options.demand_max_ppm = max_ppm;
    options.demand_full_queue_depth = full_depth;
    return options;
}

settlement::DemandSignals signals(std::int64_t depth, std::int64_t leased, std::int64_t offered) {
    return settlement::DemandSignals{depth, leased, offered};
}

// A fixture whose hub prices by demand: 0.8× idle, 2× busy, full queue pressure at 4 jobs.
struct DemandFixture : SettlementFixture {
    DemandFixture() {
        hub.reset();
        hub = open_demand_hub();
    }
    std::unique_ptr<Hub> open_demand_hub() {
        HubOptions options;
        options.clock = clock;
        options.durability = Durability::process_crash;
        HubSettings settings;
        settings.submissions_per_hour = 0;
        settings.charge_jobs = true;
        settings.demand_min_ppm = 800'000;
        settings.demand_max_ppm = 2'000'000;
        settings.demand_full_queue_depth = 4;
        return sihlicon::testing::open_with_settings(dir.path(), options, settings);
    }
};

MarketRequest trade(const std::string& id, MarketType type, std::int64_t quantity,
                    const Money& unit_price, const std::string& buyer = "zurich",
                    const std::string& seller = "basel") {
    MarketRequest request;
    request.id = id;
    request.type = type;
    request.buyer_hub = buyer;
    request.seller_hub = seller;
    request.quantity = quantity;
    request.unit_price = unit_price;
    return request;
}

AccountRef operator_of(const std::string& hub) {
    return AccountRef{AccountKind::hub_operator, hub, kUsd};
}

}  // namespace

// ---- demand pricing ---------------------------------------------------------------------------

TEST_CASE("the demand multiplier is the minimum with no demand and the maximum at full demand") {
    const auto options = demand_options(500'000, 3'000'000, 10);
    const auto idle = settlement::demand_price(100'000, signals(0, 0, 8'000), options);
    CHECK(idle.multiplier_ppm == 500'000);
    CHECK(idle.price == 50'000);
    const auto full = settlement::demand_price(100'000, signals(10, 8'000, 8'000), options);
    CHECK(full.demand_ppm == 1'000'000);
    CHECK(full.multiplier_ppm == 3'000'000);
    CHECK(full.price == 300'000);
    // Beyond full the multiplier stays at the maximum.
    CHECK(settlement::demand_price(100'000, signals(1'000, 9'000, 8'000), options).multiplier_ppm ==
          3'000'000);
    // Half the queue, a quarter of the CPU: demand (500,000 + 250,000) / 2.
    const auto half = settlement::demand_price(100'000, signals(5, 2'000, 8'000), options);
    CHECK(half.queue_ppm == 500'000);
    CHECK(half.utilisation_ppm == 250'000);
    CHECK(half.demand_ppm == 375'000);
    CHECK(half.multiplier_ppm == 500'000 + 2'500'000LL * 375'000 / 1'000'000);
    // No worker offers CPU: utilisation counts as full.
    CHECK(settlement::demand_price(100'000, signals(0, 0, 0), options).utilisation_ppm ==
          1'000'000);
}

TEST_CASE("a demand price is exact: rounded half up to a minor unit, refused when it overflows") {
    const auto options = demand_options(1'500'000, 1'500'000);
    CHECK(settlement::demand_price(1, signals(0, 0, 1), options).price == 2);  // 1.5 → 2
    CHECK(settlement::demand_price(3, signals(0, 0, 1), options).price == 5);  // 4.5 → 5
    const auto third = demand_options(333'333, 333'333);
    CHECK(settlement::demand_price(10, signals(0, 0, 1), third).price == 3);  // 3.33333 → 3
    CHECK(settlement::demand_price(INT64_MAX / 2, signals(0, 0, 1), demand_options(1, 1)).price ==
          (INT64_MAX / 2 + 500'000) / 1'000'000);
    CHECK(error_of([&] {
              settlement::demand_price(INT64_MAX / 2, signals(0, 0, 1),
                                       demand_options(3'000'000, 3'000'000));
          }) == ErrorCode::invalid_argument);
}

TEST_CASE("demand settings outside their bounds are refused when the hub opens") {
    testing::TempDir dir;
    const auto refused = [&](std::int64_t min_ppm, std::int64_t max_ppm, std::int64_t depth) {
        HubOptions options;
        options.initial_settings = demand_options(min_ppm, max_ppm, depth);
        return error_of([&] { Hub::open(dir.path(), options); });
    };
    CHECK(refused(0, 1'000'000, 100) == ErrorCode::invalid_argument);
    CHECK(refused(2'000'000, 1'000'000, 100) == ErrorCode::invalid_argument);
    CHECK(refused(1'000'000, 100'000'001, 100) == ErrorCode::invalid_argument);
    CHECK(refused(1'000'000, 2'000'000, 0) == ErrorCode::invalid_argument);
}

TEST_CASE("a job's price follows the queue and the workers' load, recorded on its charge") {
    DemandFixture f;
    f.add_site();
    WorkerSpec worker;
    worker.id = "bee-01";
    worker.hub_id = "zurich";
    worker.cpu_millicores = 2'000;  // two of the fixture's jobs fill it
    worker.memory_bytes = 64LL << 30;
    worker.executors = {"native", "container"};
    f.scheduler().register_worker(worker);
    f.settlement().top_up("alice", usd("10"), "tx-1");

    // Idle: no job ahead, no CPU leased → the minimum, 0.8 × USD 0.10.
    const auto first = f.scheduler().submit(SettlementFixture::job());
    auto charge = f.settlement().charge_of(first.id);
    REQUIRE(charge);
    CHECK(charge->base_price == usd("0.1"));
    CHECK(charge->multiplier_ppm == 800'000);
    CHECK(charge->price == usd("0.08"));
    CHECK(charge->queue_depth == 0);
    CHECK(charge->utilisation_ppm == 0);
    CHECK(charge->status == "reserved");
    CHECK(f.settlement().job_charge(first.id)->first == usd("0.08"));
    CHECK(f.available(AccountKind::client, "alice") == usd("9.92"));

    // One job ahead (a quarter of the full depth of 4): demand 125,000 → 0.95×.
    const auto second = f.scheduler().submit(SettlementFixture::job());
    charge = f.settlement().charge_of(second.id);
    CHECK(charge->queue_depth == 1);
    CHECK(charge->multiplier_ppm == 950'000);
    CHECK(charge->price == usd("0.095"));

    // Both leased: the worker's CPU is full and the queue empty: demand 500,000 → 1.4×.
    REQUIRE(f.scheduler().claim("bee-01", 2).size() == 2);
    const auto third = f.scheduler().submit(SettlementFixture::job());
    charge = f.settlement().charge_of(third.id);
    CHECK(charge->utilisation_ppm == 1'000'000);
    CHECK(charge->queue_depth == 0);
    CHECK(charge->multiplier_ppm == 1'400'000);
    CHECK(charge->price == usd("0.14"));
    const auto json = boost::json::parse(charge->to_json()).as_object();
    CHECK(json.at("multiplierPpm").as_int64() == 1'400'000);
    CHECK(json.at("basePrice").as_string() == "0.100000");
    CHECK(json.at("price").as_string() == "0.140000");

    // Completion charges exactly the recorded price.
    const auto claimed = f.scheduler().claim("bee-01", 1);
    CHECK(claimed.empty());  // no CPU left
    JobFilter running_jobs;
    running_jobs.status = JobStatus::running;
    const auto running = f.scheduler().jobs(running_jobs);
    REQUIRE(running.size() == 2);
    CHECK(f.balance(AccountKind::escrow, "hub") == usd("0"));
    const auto remaining = f.available(AccountKind::client, "alice");
    CHECK(remaining == usd("10") - usd("0.08") - usd("0.095") - usd("0.14"));
}

TEST_CASE("the default prices are flat: a multiplier of exactly 1 whatever the queue") {
    SettlementFixture f;
    f.add_site();
    f.settlement().top_up("alice", usd("1"), "tx-1");
    for (int i = 0; i < 3; ++i) {
        const auto job = f.scheduler().submit(SettlementFixture::job());
        const auto charge = f.settlement().charge_of(job.id);
        REQUIRE(charge);
        CHECK(charge->multiplier_ppm == 1'000'000);
        CHECK(charge->price == usd("0.1"));
    }
    CHECK_FALSE(f.settlement().charge_of("job-unknown"));
}

// ---- marketplace --------------------------------------------------------------------------

TEST_CASE("a market transaction reserves the buyer's total and settling pays the seller once") {
    SettlementFixture f;
    f.add_site("zurich");
    f.add_site("basel");
    f.settlement().top_up(operator_of("zurich"), usd("100"), "bank-1");
    const auto created = f.settlement().create_market_transaction(
        trade("m-1", MarketType::heat, 12'500, usd("0.00005")));  // 12.5 kWh at 0.05 per kWh
    CHECK_FALSE(created.exists);
    CHECK(created.status == MarketStatus::pending);
    CHECK(created.unit == "Wh");
    CHECK(created.total == usd("0.625"));
    CHECK(f.available(AccountKind::hub_operator, "zurich") == usd("99.375"));
    CHECK(f.balance(AccountKind::hub_operator, "zurich") == usd("100"));
    CHECK(f.settlement().transfer_by_id(created.transfer_id).status == TransferStatus::pending);

    const auto settled = f.settlement().settle_market_transaction("m-1");
    CHECK(settled.status == MarketStatus::settled);
    CHECK(settled.resolved_at == f.clock->now());
    CHECK(f.balance(AccountKind::hub_operator, "zurich") == usd("99.375"));
    CHECK(f.balance(AccountKind::hub_operator, "basel") == usd("0.625"));
    CHECK(f.settlement().settle_market_transaction("m-1").exists);
    CHECK(f.balance(AccountKind::hub_operator, "basel") == usd("0.625"));
    CHECK(error_of([&] { f.settlement().cancel_market_transaction("m-1"); }) ==
          ErrorCode::conflict);
    const auto json = boost::json::parse(settled.to_json()).as_object();
    CHECK(json.at("type").as_string() == "heat");
    CHECK(json.at("buyerHub").as_string() == "zurich");
    CHECK(json.at("total").as_string() == "0.625000");
    CHECK(json.at("status").as_string() == "settled");
}

TEST_CASE("cancelling a market transaction releases its reservation; bad ones write nothing") {
    SettlementFixture f;
    f.add_site("zurich");
    f.add_site("basel");
    f.settlement().top_up(operator_of("zurich"), usd("10"), "bank-1");
    const auto request = trade("m-2", MarketType::compute, 40, usd("0.25"));
    f.settlement().create_market_transaction(request);
    CHECK(f.available(AccountKind::hub_operator, "zurich") == usd("0"));
    CHECK(f.settlement().create_market_transaction(request).exists);
    auto other = request;
    other.quantity = 41;
    CHECK(error_of([&] { f.settlement().create_market_transaction(other); }) ==
          ErrorCode::conflict);
    CHECK(error_of([&] {
              f.settlement().create_market_transaction(
                  trade("m-3", MarketType::compute, 1, usd("0.01")));
          }) == ErrorCode::insufficient_funds);
    const auto cancelled = f.settlement().cancel_market_transaction("m-2");
    CHECK(cancelled.status == MarketStatus::cancelled);
    CHECK(f.available(AccountKind::hub_operator, "zurich") == usd("10"));
    CHECK(f.settlement().cancel_market_transaction("m-2").exists);
    CHECK(error_of([&] { f.settlement().settle_market_transaction("m-2"); }) ==
          ErrorCode::conflict);
    CHECK(error_of([&] { f.settlement().settle_market_transaction("m-404"); }) ==
          ErrorCode::not_found);

    const auto before = f.count("SELECT COUNT(*) FROM settlement_transfers");
    CHECK(error_of([&] {
              f.settlement().create_market_transaction(
                  trade("m-4", MarketType::energy, INT64_MAX / 2, usd("0.000003")));
          }) == ErrorCode::invalid_argument);  // the total overflows
    CHECK(error_of([&] {
              f.settlement().create_market_transaction(
                  trade("m-5", MarketType::energy, 1, usd("1"), "zurich", "zurich"));
          }) == ErrorCode::invalid_argument);
    CHECK(error_of([&] {
              f.settlement().create_market_transaction(
                  trade("m-6", MarketType::energy, 0, usd("1")));
          }) == ErrorCode::invalid_argument);
    CHECK(error_of([&] {
              f.settlement().create_market_transaction(
                  trade("m-7", MarketType::energy, 1, usd("1"), "zurich", "geneva"));
          }) == ErrorCode::not_found);
    CHECK(f.count("SELECT COUNT(*) FROM settlement_transfers") == before);
    CHECK(f.count("SELECT COUNT(*) FROM settlement_market_transactions") == 1);
}

TEST_CASE("market transactions are listed newest first and filtered by hub, type and status") {
    SettlementFixture f;
    for (const auto* hub : {"zurich", "basel", "bern"}) {
        f.add_site(hub);
        f.settlement().top_up(operator_of(hub), usd("100"), std::string("bank-") + hub);
    }
    f.settlement().create_market_transaction(trade("m-1", MarketType::heat, 10, usd("0.01")));
    f.settlement().create_market_transaction(
        trade("m-2", MarketType::storage, 3, usd("2"), "basel", "bern"));
    f.settlement().create_market_transaction(
        trade("m-3", MarketType::compute, 5, usd("0.1"), "bern", "zurich"));
    f.settlement().settle_market_transaction("m-2");
    const auto all = f.settlement().market_transactions();
    REQUIRE(all.size() == 3);
    CHECK(all[0].id == "m-3");
    MarketFilter filter;
    filter.hub = "zurich";
    CHECK(f.settlement().market_transactions(filter).size() == 2);
    filter.type = MarketType::heat;
    CHECK(f.settlement().market_transactions(filter).size() == 1);
    MarketFilter settled;
    settled.status = MarketStatus::settled;
    const auto done = f.settlement().market_transactions(settled);
    REQUIRE(done.size() == 1);
    CHECK(done[0].id == "m-2");
    CHECK(f.settlement().market_transaction("m-2").unit == "GB-month");
    CHECK(error_of([&] { f.settlement().market_transaction("m-9"); }) == ErrorCode::not_found);
    MarketFilter bad;
    bad.limit = 0;
    CHECK(error_of([&] { f.settlement().market_transactions(bad); }) ==
          ErrorCode::invalid_argument);
    CHECK(parse_market_type("energy") == MarketType::energy);
    CHECK(error_of([] { parse_market_status("open"); }) == ErrorCode::invalid_argument);
}

TEST_CASE("only clients and hub operators are topped up from outside") {
    SettlementFixture f;
    CHECK(error_of([&] {
              f.settlement().top_up(AccountRef{AccountKind::worker, "bee-01", kUsd}, usd("1"),
                                    "bank-9");
          }) == ErrorCode::invalid_argument);
    f.settlement().top_up(operator_of("zurich"), usd("1"), "bank-9");
    CHECK(f.settlement().top_up(operator_of("zurich"), usd("1"), "bank-9").exists);
    CHECK(f.settlement().deposits().at("USD") == 1'000'000);
}

// ---- reputation ---------------------------------------------------------------------------

TEST_CASE("reputation counts successes, on-time completions and uptime per worker and hub") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.add_worker("bee-02");
    f.settlement().top_up("alice", usd("10"), "tx-1");
    // bee-01: two completions, the second after its job's 60 s timeout.
    f.run_job("alice", "bee-01");
    auto spec = SettlementFixture::job();
    spec.workload.timeout_seconds = 60;
    const auto late = f.scheduler().submit(spec);
    auto claimed = f.scheduler().claim("bee-01", 1);
    REQUIRE(claimed.size() == 1);
    f.clock->advance(std::chrono::seconds(61));
    f.scheduler().heartbeat("bee-01", {});
    f.scheduler().heartbeat("bee-02", {});
    f.scheduler().complete(late.id, claimed[0].lease.token, SettlementFixture::done());
    // bee-02: one failure, one cancelled while running (not its fault, not counted).
    const auto failing = f.scheduler().submit(SettlementFixture::job());
    claimed = f.scheduler().claim("bee-02", 1);
    f.scheduler().fail(failing.id, claimed.at(0).lease.token, "crashed", false);
    const auto cancelled = f.scheduler().submit(SettlementFixture::job());
    claimed = f.scheduler().claim("bee-02", 1);
    REQUIRE(claimed.size() == 1);
    f.scheduler().cancel(cancelled.id, "alice");

    auto one = f.settlement().worker_reputation("bee-01");
    CHECK(one.attempts == 2);
    CHECK(one.successes == 2);
    CHECK(one.on_time == 1);
    CHECK(one.success_rate_ppm == 1'000'000);
    CHECK(one.on_time_rate_ppm == 500'000);
    CHECK(one.uptime_ppm == 1'000'000);  // heartbeats 61 s apart are within 90 s
    auto two = f.settlement().worker_reputation("bee-02");
    CHECK(two.attempts == 1);
    CHECK(two.successes == 0);
    CHECK(two.success_rate_ppm == 0);

    // bee-02 keeps beating; bee-01 falls silent for 5 minutes, then comes back.
    for (int i = 0; i < 10; ++i) {
        f.clock->advance(std::chrono::seconds(30));
        f.scheduler().heartbeat("bee-02", {});
    }
    f.scheduler().tick();  // bee-01 goes offline
    f.scheduler().heartbeat("bee-01", {});
    one = f.settlement().worker_reputation("bee-01");
    CHECK(one.observed_ms == 361'000);
    CHECK(one.uptime_ms == 61'000);
    CHECK(one.uptime_ppm == 61'000LL * 1'000'000 / 361'000);
    two = f.settlement().worker_reputation("bee-02");
    CHECK(two.uptime_ppm == 1'000'000);

    const auto hub = f.settlement().hub_reputation("zurich");
    CHECK(hub.subject == ReputationSubject::hub);
    CHECK(hub.attempts == 3);
    CHECK(hub.successes == 2);
    CHECK(hub.uptime_ms == one.uptime_ms + two.uptime_ms);
    CHECK(hub.observed_ms == one.observed_ms + two.observed_ms);
    const auto workers = f.settlement().reputations(ReputationSubject::worker);
    REQUIRE(workers.size() == 2);
    CHECK(workers[0].score_ppm >= workers[1].score_ppm);
    CHECK(f.settlement().reputations(ReputationSubject::hub).size() == 1);
    const auto json = boost::json::parse(one.to_json()).as_object();
    CHECK(json.at("onTimeRatePpm").as_int64() == 500'000);
    CHECK(error_of([&] { f.settlement().worker_reputation("bee-99"); }) == ErrorCode::not_found);
    CHECK(error_of([&] { f.settlement().hub_reputation("geneva"); }) == ErrorCode::not_found);
}

TEST_CASE("a batch of completions counts each job's attempt on its own worker") {
    // complete_many's changes reach settlement together: each worker's row is updated once
    // with the sum, which must equal completing the jobs one by one.
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", usd("10"), "tx-1");
    auto quick = SettlementFixture::job();
    quick.workload.timeout_seconds = 60;
    f.scheduler().submit(quick);                     // late: completed after 61 s
    f.scheduler().submit(SettlementFixture::job());  // on time
    const auto first = f.scheduler().claim("bee-01", 2);
    REQUIRE(first.size() == 2);
    // Registered only now: an idle bee-02 would have taken one of the two (least-loaded).
    f.add_worker("bee-02");
    f.scheduler().submit(SettlementFixture::job());
    const auto second = f.scheduler().claim("bee-02", 1);
    REQUIRE(second.size() == 1);
    f.clock->advance(std::chrono::seconds(61));
    f.scheduler().heartbeat("bee-01", {});
    f.scheduler().heartbeat("bee-02", {});
    f.scheduler().complete_many({{first[0].lease, SettlementFixture::done()},
                                 {second[0].lease, SettlementFixture::done()},
                                 {first[1].lease, SettlementFixture::done()}});
    const auto one = f.settlement().worker_reputation("bee-01");
    CHECK(one.attempts == 2);
    CHECK(one.successes == 2);
    CHECK(one.on_time == 1);
    const auto two = f.settlement().worker_reputation("bee-02");
    CHECK(two.attempts == 1);
    CHECK(two.successes == 1);
    CHECK(two.on_time == 1);
    CHECK(f.settlement().hub_reputation("zurich").attempts == 3);
}

TEST_CASE("between equally loaded workers the scheduler prefers the better reputation") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.add_worker("bee-02");
    f.settlement().top_up("alice", usd("10"), "tx-1");
    // bee-01 fails, bee-02 succeeds: bee-02 ranks first although its id is larger.
    const auto failing = f.scheduler().submit(SettlementFixture::job());
    auto claimed = f.scheduler().claim("bee-01", 1);
    f.scheduler().fail(failing.id, claimed.at(0).lease.token, "crashed", false);
    f.run_job("alice", "bee-02");
    const auto waiting = f.scheduler().submit(SettlementFixture::job());
    auto lines = f.scheduler().explain(waiting.id);
    REQUIRE(lines.size() == 3);
    CHECK(lines[1].worker_id == "bee-02");
    CHECK(lines[2].worker_id == "bee-01");
    // Load comes first: a busier bee-02 ranks after an idle bee-01.
    const auto next = f.scheduler().submit(SettlementFixture::job());
    claimed = f.scheduler().claim("bee-02", 1);
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0].job.id == waiting.id);
    lines = f.scheduler().explain(next.id);
    REQUIRE(lines.size() == 3);
    CHECK(lines[1].worker_id == "bee-01");
}

TEST_CASE("the migration computes reputations from the history stored before it") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.add_worker("bee-02");
    f.settlement().top_up("alice", usd("10"), "tx-1");
    for (int i = 0; i < 3; ++i) {
        f.run_job("alice", i == 1 ? "bee-02" : "bee-01");
    }
    const auto failing = f.scheduler().submit(SettlementFixture::job());
    auto claimed = f.scheduler().claim("bee-02", 1);
    f.scheduler().fail(failing.id, claimed.at(0).lease.token, "crashed", false);
    const auto counted = f.settlement().reputations(ReputationSubject::worker);
    // Back to schema 5, as a hub made before migration 6 was, then reopened (migration 7
    // runs again too).
    f.database().write([](store::Transaction& tx) {
        testing::restore_job_events_table(tx);
        for (const char* sql :
             {"DROP TABLE settlement_reputation", "DROP TABLE settlement_market_transactions",
              "ALTER TABLE settlement_job_charges DROP COLUMN base_price",
              "ALTER TABLE settlement_job_charges DROP COLUMN multiplier_ppm",
              "ALTER TABLE settlement_job_charges DROP COLUMN queue_depth",
              "ALTER TABLE settlement_job_charges DROP COLUMN utilisation_ppm",
              "DELETE FROM schema_migrations WHERE version >= 6", "PRAGMA user_version = 5"}) {
            tx.prepare(sql).run();
        }
    });
    f.reopen();
    const auto rebuilt = f.settlement().reputations(ReputationSubject::worker);
    REQUIRE(rebuilt.size() == counted.size());
    for (std::size_t i = 0; i < counted.size(); ++i) {
        CHECK(rebuilt[i].id == counted[i].id);
        CHECK(rebuilt[i].attempts == counted[i].attempts);
        CHECK(rebuilt[i].successes == counted[i].successes);
        CHECK(rebuilt[i].on_time == counted[i].on_time);
    }
    CHECK(rebuilt[0].attempts + rebuilt[1].attempts == 4);
    const auto charge = f.settlement().charge_of(failing.id);
    REQUIRE(charge);
    CHECK(charge->base_price == usd("0.1"));
    CHECK(charge->multiplier_ppm == 1'000'000);
}

// ---- the operator key ---------------------------------------------------------------------

TEST_CASE("an imported operator key signs later epochs; one that signed is replaced by force") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", usd("1"), "tx-1");
    const auto key = crypto::PrivateKey::parse(
        "0xb25c7db31feed9122727bf0939dc769a96564b2de4c4726d035b36ecf1e5b364");
    // Nothing signed yet: the generated key is replaced without force.
    const auto address = f.settlement().import_operator_key(key);
    CHECK(address.to_string() == "0x5ce9454909639D2D17A3F753ce7d93fa0b9aB12E");
    CHECK(f.settlement().operator_address() == address);
    const auto file = f.settlement().operator_key_file();
    CHECK(file == f.dir.path() / "operator.key");
    struct stat status {};
    REQUIRE(::stat(file.c_str(), &status) == 0);
    CHECK((status.st_mode & 0777) == 0600);
    CHECK(crypto::LocalKeySigner::load(file).address() == address);

    const auto job = f.run_job("alice", "bee-01");
    const auto sealed = f.settlement().seal_epoch();
    CHECK(sealed.signer == address.to_string());
    CHECK(error_of([&] { f.settlement().generate_operator_key(); }) == ErrorCode::conflict);
    CHECK(f.settlement().operator_address() == address);
    const auto fresh = f.settlement().generate_operator_key(true);
    CHECK_FALSE(fresh == address);
    CHECK(f.settlement().operator_address() == fresh);
    f.reopen();
    CHECK(f.settlement().operator_address() == fresh);
    // The sealed epoch keeps its signer: its receipts still verify against it.
    CHECK(verify_receipt(f.settlement().receipt(job), address).valid);
    CHECK(f.settlement().seal_epoch().signer == fresh.to_string());
    // The hub trusts its current key and the earlier one that signed a finalized epoch, so a
    // receipt of either epoch verifies against the hub alone.
    CHECK(f.settlement().trusted_signers() == std::vector<crypto::Address>{fresh, address});
    CHECK(verify_receipt(f.settlement().receipt(job), f.settlement().trusted_signers()).valid);
}

TEST_CASE("a host-supplied signer cannot be replaced through the hub") {
    testing::TempDir dir;
    HubOptions options;
    options.settlement.signer =
        std::make_shared<crypto::LocalKeySigner>(crypto::PrivateKey::generate());
    const auto hub = Hub::open(dir.path(), options);
    CHECK(hub.settlement().operator_key_file().empty());
    CHECK(error_of([&] { hub.settlement().generate_operator_key(true); }) == ErrorCode::conflict);
}
