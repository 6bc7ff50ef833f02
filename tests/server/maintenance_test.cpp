// SPDX-License-Identifier: Apache-2.0
//
// The server's maintenance (server.hpp "Maintenance", src/server/maintenance.hpp) on a manual
// clock: a due epoch is sealed within one tick, nothing due does nothing, two servers on one
// hub seal once, a failing task is logged and retried, stop() is prompt.
#include "server/maintenance.hpp"
#include "settlement/settlement_internal.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/server.hpp>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace sihlicon;
using sihlicon::server::Maintenance;
using sihlicon::testing::TempDir;

namespace {

constexpr auto kDay = std::chrono::hours(24);

struct Lines {
    std::mutex mutex;
    std::vector<std::string> lines;
    std::function<void(std::string_view)> sink() {
        return [this](std::string_view line) {
            std::lock_guard lock(mutex);
            lines.emplace_back(line);
        };
    }
    std::vector<std::string> with(std::string_view part) {
        std::lock_guard lock(mutex);
        std::vector<std::string> found;
        std::copy_if(lines.begin(), lines.end(), std::back_inserter(found),
                     [&](const std::string& line) { return line.find(part) != std::string::npos; });
        return found;
    }
    std::size_t size() {
        std::lock_guard lock(mutex);
        return lines.size();
    }
};

struct MaintenanceFixture {
    TempDir dir;
    std::shared_ptr<ManualClock> clock =
        std::make_shared<ManualClock>(parse_iso8601("2026-03-01T00:00:00Z"));
    std::unique_ptr<Hub> hub = open_hub();

    std::unique_ptr<Hub> open_hub() {
        HubOptions options;
        options.clock = clock;
        return std::make_unique<Hub>(Hub::open(dir.path(), options));
    }
};

// Waits (at most 20 s) for `done`; false if it never came.
template <typename Done>
bool wait_for(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

}  // namespace

TEST_CASE("a maintenance tick with nothing due does nothing, and seals an epoch once it is due") {
    MaintenanceFixture f;
    Lines log;
    Maintenance maintenance(*f.hub, log.sink());
    // A hub that never used settlement has no epoch: nothing is due.
    auto tick = maintenance.tick();
    CHECK_FALSE(tick.sealed);
    CHECK(tick.errors == 0);
    CHECK(f.hub->settlement().epochs().empty());

    const auto first = f.hub->settlement().current_epoch();
    f.clock->advance(kDay - 1ms);
    tick = maintenance.tick();
    CHECK_FALSE(tick.sealed);
    CHECK(tick.expired == 0);
    CHECK(tick.errors == 0);
    CHECK(f.hub->settlement().epochs().size() == 1);
    CHECK(log.size() == 0);

    f.clock->advance(1ms);
    tick = maintenance.tick();
    REQUIRE(tick.sealed);
    CHECK(tick.sealed->id == first.id);
    CHECK(tick.sealed->status == EpochStatus::finalized);
    const auto sealed = log.with("maintenance sealed " + first.id);
    REQUIRE(sealed.size() == 1);
    CHECK(sealed[0].starts_with("2026-03-02T00:00:00.000Z maintenance sealed epoch-000001 jobs=0"));

    // The next epoch opened at the seal: not due again for a day.
    tick = maintenance.tick();
    CHECK_FALSE(tick.sealed);
    CHECK(f.hub->settlement().epochs().size() == 2);
    CHECK(maintenance.ticks() == 4);
}

TEST_CASE("a maintenance tick expires the pending transfers whose timeout passed") {
    MaintenanceFixture f;
    Lines log;
    Maintenance maintenance(*f.hub, log.sink());
    auto& settlement = f.hub->settlement();
    const auto usd = Currency::of("USD");
    settlement.top_up("ann", Money(5'000'000, usd), "deposit-1");
    TransferRequest hold;
    hold.id = "hold-1";
    hold.debit = AccountRef{AccountKind::client, "ann", usd};
    hold.credit = AccountRef{AccountKind::escrow, "hub", usd};
    hold.amount = Money(1'000'000, usd);
    hold.pending = true;
    hold.timeout_at = f.clock->now() + 1h;
    settlement.transfer(hold);

    CHECK(maintenance.tick().expired == 0);
    f.clock->advance(1h);
    CHECK(maintenance.tick().expired == 1);
    CHECK(settlement.transfer_by_id("hold-1").status == TransferStatus::expired);
    CHECK(log.with("maintenance expired 1 pending transfers").size() == 1);
    CHECK(maintenance.tick().expired == 0);
}

TEST_CASE("two servers' maintenance on one hub seals each due epoch once") {
    MaintenanceFixture f;
    auto other_hub = f.open_hub();  // another process's view of the same hub
    Lines log;
    Maintenance one(*f.hub, log.sink());
    Maintenance two(*other_hub, log.sink());
    f.hub->settlement().current_epoch();
    constexpr int kRounds = 6;
    for (int round = 0; round < kRounds; ++round) {
        CAPTURE(round);
        f.clock->advance(kDay);
        // Both tick at the same instant, as two processes would.
        std::barrier start(2);
        server::MaintenanceTick a;
        server::MaintenanceTick b;
        std::thread first([&] {
            start.arrive_and_wait();
            a = one.tick();
        });
        std::thread second([&] {
            start.arrive_and_wait();
            b = two.tick();
        });
        first.join();
        second.join();
        CHECK(a.errors == 0);
        CHECK(b.errors == 0);
        // One of them sealed the due epoch; the other did nothing, or finished the very same
        // seal it found in progress.
        REQUIRE((a.sealed || b.sealed));
        if (a.sealed && b.sealed) {
            CHECK(a.sealed->id == b.sealed->id);
        }
        // Whoever ticks next finds nothing due.
        CHECK_FALSE(one.tick().sealed);
        CHECK_FALSE(two.tick().sealed);
    }
    const auto epochs = f.hub->settlement().epochs();
    REQUIRE(epochs.size() == kRounds + 1);  // each round sealed one epoch and opened one
    for (int i = 0; i < kRounds; ++i) {
        CHECK(epochs[static_cast<std::size_t>(i)].status == EpochStatus::finalized);
        // Every sealed epoch is a day long: none was sealed just after it opened.
        CHECK(*epochs[static_cast<std::size_t>(i)].end -
                  epochs[static_cast<std::size_t>(i)].start ==
              std::chrono::milliseconds(kDay));
    }
    CHECK(epochs.back().status == EpochStatus::active);
}

TEST_CASE("a failing maintenance task is logged and retried at the next tick, never thrown") {
    MaintenanceFixture f;
    Lines log;
    Maintenance maintenance(*f.hub, log.sink());
    const auto first = f.hub->settlement().current_epoch();
    f.clock->advance(kDay);
    bool fail = true;
    SettlementAccess::set_seal_fault_point(f.hub->settlement(), [&](std::string_view at) {
        if (fail && at == "commit:begin") {
            throw Error(ErrorCode::io, "disk full (injected)");
        }
    });
    const auto failed = maintenance.tick();
    CHECK(failed.errors == 1);
    CHECK_FALSE(failed.sealed);
    const auto lines = log.with("maintenance seal failed (io): disk full (injected)");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].ends_with("; retried at the next tick"));
    CHECK(f.hub->settlement().epoch(first.id).status == EpochStatus::sealing);

    fail = false;
    const auto retried = maintenance.tick();
    CHECK(retried.errors == 0);
    REQUIRE(retried.sealed);
    CHECK(retried.sealed->id == first.id);
    CHECK(f.hub->settlement().epoch(first.id).status == EpochStatus::finalized);
    SettlementAccess::set_seal_fault_point(f.hub->settlement(), {});
}

TEST_CASE("a started server seals an epoch that is due within a tick and logs it") {
    MaintenanceFixture f;
    const auto first = f.hub->settlement().current_epoch();
    Lines log;
    ServerOptions options;
    options.maintenance_interval = 5ms;
    options.access_log = log.sink();
    Server server(*f.hub, options);
    server.start();
    f.clock->advance(kDay);
    CHECK(wait_for(
        [&] { return f.hub->settlement().epoch(first.id).status == EpochStatus::finalized; }));
    CHECK(wait_for([&] { return log.with("maintenance sealed " + first.id).size() == 1; }));
    server.stop();
    CHECK(log.with("maintenance sealed").size() == 1);
    CHECK(f.hub->settlement().epochs().size() == 2);
}

TEST_CASE("a server with maintenance every day stops at once") {
    MaintenanceFixture f;
    ServerOptions options;
    options.maintenance_interval = kDay;
    Server server(*f.hub, options);
    server.start();
    const auto begun = std::chrono::steady_clock::now();
    server.stop();
    CHECK(std::chrono::steady_clock::now() - begun < 10s);
}

TEST_CASE("the maintenance interval is 0 (none) or 1 ms to 1 day") {
    MaintenanceFixture f;
    const auto refusal = [&](std::chrono::milliseconds interval) {
        ServerOptions options;
        options.maintenance_interval = interval;
        try {
            Server server(*f.hub, options);
        } catch (const Error& error) {
            return error.field();
        }
        return std::string("accepted");
    };
    CHECK(refusal(-1ms) == "maintenanceIntervalMs");
    CHECK(refusal(kDay + 1ms) == "maintenanceIntervalMs");
    CHECK(refusal(0ms) == "accepted");
    CHECK(refusal(kDay) == "accepted");
    CHECK(ServerOptions{}.maintenance_interval == 60s);
    CHECK(ServerOptions::from_json(R"({"maintenanceIntervalMs":0})").maintenance_interval == 0ms);
    CHECK(ServerOptions::from_json(R"({"maintenanceIntervalMs":250})").maintenance_interval ==
          250ms);
    for (const auto* json :
         {R"({"maintenanceIntervalMs":-1})", R"({"maintenanceIntervalMs":86400001})",
          R"({"maintenanceIntervalMs":"60s"})"}) {
        CAPTURE(json);
        CHECK_THROWS_WITH_AS(ServerOptions::from_json(json),
                             doctest::Contains("maintenanceIntervalMs"), Error);
    }
}
