// SPDX-License-Identifier: Apache-2.0
// A process killed in the middle of sealing: a forked child seals and is killed with SIGKILL
// at a chosen point inside the seal; the hub is reopened and sealed again.
#include "settlement/fixture.hpp"
#include "settlement/settlement_internal.hpp"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <string>

using namespace sihlicon;
using sihlicon::testing::kUsd;
using sihlicon::testing::SettlementFixture;
using sihlicon::testing::usd;

namespace {

// Runs seal_epoch() in a child process that kills itself with SIGKILL when the seal reaches
// `point`. Returns the child's wait status. The fixture's hub must be closed.
int seal_killed_at(SettlementFixture& f, const std::string& point) {
    const pid_t child = ::fork();
    if (child == 0) {
        try {
            auto hub = f.open_hub();
            SettlementAccess::set_seal_fault_point(hub->settlement(), [&](std::string_view at) {
                if (at == point) {
                    ::raise(SIGKILL);
                }
            });
            hub->settlement().seal_epoch();
            ::_exit(2);  // the point was never reached
        } catch (...) {
            ::_exit(3);
        }
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return status;
}

std::int64_t internal_balance(SettlementFixture& f) {
    return f.count(
        "SELECT COALESCE(SUM(balance), 0) FROM settlement_accounts WHERE kind <> 'external' "
        "AND currency = 'USD'");
}

}  // namespace

TEST_CASE("a seal killed at any point is finished on reopening and pays out exactly once") {
    for (const std::string point :
         {"stored:jobs.json", "stored:agents.json", "stored:SUMMARY.json", "stored:SIGNATURE.txt",
          "commit:begin", "commit:end", "committed"}) {
        CAPTURE(point);
        SettlementFixture f;
        f.add_site();
        f.add_worker("bee-01");
        f.add_worker("bee-02");
        f.settlement().top_up("alice", usd("5"), "tx-1");
        for (int i = 0; i < 6; ++i) {
            f.run_job("alice", i % 3 == 0 ? "bee-02" : "bee-01");
            f.clock->advance(std::chrono::minutes(1));
            f.scheduler().heartbeat("bee-01", {});
            f.scheduler().heartbeat("bee-02", {});
        }
        const auto deposits = f.settlement().deposits().at("USD");
        f.hub.reset();  // the child opens the hub on its own

        const int status = seal_killed_at(f, point);
        REQUIRE(WIFSIGNALED(status));
        CHECK(WTERMSIG(status) == SIGKILL);

        f.reopen();
        const bool committed = point == "committed";
        CHECK(f.settlement().epoch("epoch-000001").status ==
              (committed ? EpochStatus::finalized : EpochStatus::sealing));
        CHECK(f.count("SELECT COUNT(*) FROM settlement_transfers WHERE kind = 'payout'") ==
              (committed ? 2 : 0));
        CHECK(internal_balance(f) == deposits);

        // Sealing again finishes the interrupted seal (or, after a commit, seals the next).
        const auto sealed = f.settlement().seal_epoch();
        CHECK(sealed.id == (committed ? "epoch-000002" : "epoch-000001"));
        const auto first = f.settlement().epoch("epoch-000001");
        CHECK(first.status == EpochStatus::finalized);
        CHECK(first.jobs_count == 6);
        CHECK(f.count("SELECT COUNT(*) FROM settlement_transfers WHERE kind = 'payout'") == 2);
        CHECK(f.count("SELECT COUNT(*) FROM settlement_transfers WHERE kind = 'protocol_fee'") ==
              1);
        CHECK(f.count("SELECT COUNT(*) FROM settlement_payouts") == 2);
        const auto payouts = f.settlement().epoch_payouts("epoch-000001");
        REQUIRE(payouts.size() == 2);
        CHECK(f.balance(AccountKind::worker, "bee-01") == payouts[0].total());
        CHECK(f.balance(AccountKind::worker, "bee-02") == payouts[1].total());
        CHECK(f.balance(AccountKind::escrow, "hub") == usd("0"));
        CHECK(payouts[0].total() + payouts[1].total() +
                  f.balance(AccountKind::protocol_fee, "hub") +
                  f.balance(AccountKind::operator_fee, "hub") ==
              usd("0.6"));
        CHECK(internal_balance(f) == deposits);
        CHECK(f.count("SELECT COALESCE(SUM(balance), 0) FROM settlement_accounts") == 0);
        // Its bundle is whole and its receipts verify.
        const auto bundle = f.settlement().epoch_bundle("epoch-000001");
        CHECK(bundle.summary_json == first.summary_json);
        const auto job = f.settlement().epoch_jobs("epoch-000001").front().job_id;
        CHECK(verify_receipt(f.settlement().receipt(job), f.settlement().operator_address()).valid);
        CHECK(f.settlement().seal_epoch().id ==
              (committed ? "epoch-000003" : "epoch-000002"));  // and nothing more is paid
        CHECK(f.count("SELECT COUNT(*) FROM settlement_transfers WHERE kind = 'payout'") == 2);
    }
}
