// SPDX-License-Identifier: Apache-2.0
// Uptime, one figure for reputation and for the readiness pool: time online from heartbeats,
// gaps past the missed-heartbeat limit not counted.
#include "settlement/fixture.hpp"
#include "support/schema_rewind.hpp"

#include <doctest/doctest.h>

#include <chrono>

using namespace sihlicon;
using sihlicon::testing::SettlementFixture;
using sihlicon::testing::usd;

namespace {

// Advances the clock in 30 s steps for `minutes` minutes, `worker` beating at each step.
void beat_for(SettlementFixture& f, const char* worker, int minutes) {
    for (int step = 0; step < minutes * 2; ++step) {
        f.clock->advance(std::chrono::seconds(30));
        f.scheduler().heartbeat(worker, {});
    }
}

}  // namespace

TEST_CASE("the readiness pool is shared by uptime: a worker silent most of the epoch gets less") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.add_worker("bee-02");
    const auto start = f.settlement().current_epoch().start;
    f.settlement().top_up("alice", usd("10"), "tx-1");
    for (int i = 0; i < 10; ++i) {
        f.run_job("alice", "bee-01");  // revenue 1.00, all of the work pool to bee-01
    }
    // One hour: bee-01 beats every 30 s; bee-02 for the first 10 minutes, then is silent for
    // 45 minutes (offline), then beats again for the last 5.
    for (int step = 0; step < 119; ++step) {
        f.clock->advance(std::chrono::seconds(30));
        f.scheduler().heartbeat("bee-01", {});
        const auto second = (step + 1) * 30;
        if (second <= 600 || second >= 3300) {
            f.scheduler().heartbeat("bee-02", {});
        }
        f.scheduler().tick();
    }
    // Sealed at 60:00, 30 s after the last heartbeats: both are still alive then.
    f.clock->advance(std::chrono::seconds(30));
    CHECK(f.clock->now().ms() - start.ms() == 3'600'000);
    const auto one = f.settlement().worker_reputation("bee-01");
    const auto two = f.settlement().worker_reputation("bee-02");
    CHECK(one.uptime_ms == 3'600'000);
    CHECK(two.uptime_ms == 900'000);  // 10 + 5 minutes; the 45 silent ones are not counted
    const auto sealed = f.settlement().seal_epoch();
    REQUIRE(sealed.revenue == usd("1"));
    const auto payouts = f.settlement().epoch_payouts(sealed.id);
    REQUIRE(payouts.size() == 2);
    // Exactly the figures reputation reported at the epoch's end.
    CHECK(payouts[0].uptime_ms == one.uptime_ms);
    CHECK(payouts[1].uptime_ms == two.uptime_ms);
    // 1.00 less 2 % and 5 % fees is 0.93: 70 % (0.651) by work, 30 % (0.279) by uptime 4 : 1.
    CHECK(payouts[0].work_share == usd("0.651"));
    CHECK(payouts[1].work_share == usd("0"));
    CHECK(payouts[0].readiness_share == usd("0.2232"));
    CHECK(payouts[1].readiness_share == usd("0.0558"));
    CHECK(payouts[0].total() + payouts[1].total() + f.balance(AccountKind::protocol_fee, "hub") +
              f.balance(AccountKind::operator_fee, "hub") ==
          usd("1"));
    CHECK(f.balance(AccountKind::worker, "bee-02") == usd("0.0558"));
    CHECK(f.balance(AccountKind::escrow, "hub") == usd("0"));
}

TEST_CASE("uptime counts only the part of an online stretch inside the epoch") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().current_epoch();  // epoch 1 opens now
    f.settlement().top_up("alice", usd("10"), "tx-1");
    beat_for(f, "bee-01", 20);
    f.run_job("alice", "bee-01");
    const auto first = f.settlement().seal_epoch();
    const auto first_payouts = f.settlement().epoch_payouts(first.id);
    REQUIRE(first_payouts.size() == 1);
    CHECK(first_payouts[0].uptime_ms == 1'200'000);
    // One stretch goes on across the seal: epoch 2 counts only its own 10 minutes of it.
    beat_for(f, "bee-01", 10);
    f.run_job("alice", "bee-01");
    const auto second = f.settlement().seal_epoch();
    const auto second_payouts = f.settlement().epoch_payouts(second.id);
    REQUIRE(second_payouts.size() == 1);
    CHECK(second_payouts[0].uptime_ms == 600'000);
    CHECK(f.settlement().worker_reputation("bee-01").uptime_ms == 1'800'000);
}

TEST_CASE("a hub made before migration 13 keeps each worker's uptime total") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    beat_for(f, "bee-01", 2);
    f.scheduler().set_worker_status("bee-01", WorkerStatus::offline);
    // Back to schema 12, where uptime was one running total per worker, then reopened.
    f.database().write([](store::Transaction& tx) {
        testing::drop_unrepeatable_migrations(tx);
        for (const char* sql :
             {"DROP TABLE settlement_uptime",
              "INSERT INTO settlement_reputation (worker_id, uptime_ms) "
              "VALUES ('bee-01', 100000)",
              "DELETE FROM schema_migrations WHERE version >= 13", "PRAGMA user_version = 12"}) {
            tx.prepare(sql).run();
        }
    });
    f.reopen();
    CHECK(f.settlement().worker_reputation("bee-01").uptime_ms == 100'000);
    CHECK(f.count("SELECT COUNT(*) FROM settlement_reputation WHERE uptime_ms <> 0") == 0);
}
