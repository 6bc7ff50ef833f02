// SPDX-License-Identifier: Apache-2.0
// Payouts pending until withdrawn; epochs chained by their previous root and carrying what
// they distributed.
#include "settlement/fixture.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

using namespace sihlicon;
using sihlicon::testing::SettlementFixture;
using sihlicon::testing::usd;

TEST_CASE("each SUMMARY.json signs the previous epoch's root and the total distributed") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", usd("10"), "tx-1");
    f.run_job("alice", "bee-01");
    const auto first = f.settlement().seal_epoch();
    f.run_job("alice", "bee-01");
    f.run_job("alice", "bee-01");
    const auto second = f.settlement().seal_epoch();
    const auto third = f.settlement().seal_epoch();  // no jobs

    const auto summary_of = [&](const EpochRecord& epoch) {
        return boost::json::parse(f.settlement().epoch_bundle(epoch.id).summary_json).as_object();
    };
    // Epoch 1 has no previous epoch: null.
    CHECK(summary_of(first).at("previous_root").is_null());
    CHECK(first.previous_root.empty());
    CHECK(boost::json::parse(first.to_json()).at("previous_root").is_null());
    CHECK(summary_of(second).at("previous_root").as_string() == first.jobs_merkle_root);
    CHECK(second.previous_root == first.jobs_merkle_root);
    CHECK(summary_of(third).at("previous_root").as_string() == second.jobs_merkle_root);
    CHECK(boost::json::parse(third.to_json()).at("previous_root").as_string() ==
          second.jobs_merkle_root);
    // 0.10 per job less 7 % of fees goes to the workers.
    CHECK(first.total_distributed == usd("0.093"));
    CHECK(summary_of(first).at("total_distributed").as_string() == "0.093000");
    CHECK(second.total_distributed == usd("0.186"));
    CHECK(boost::json::parse(second.to_json()).at("total_distributed").as_string() == "0.186000");
    CHECK(third.total_distributed == usd("0"));
    CHECK(f.settlement().epoch(second.id).total_distributed == usd("0.186"));
    // The signature covers the chain link: the summary as stored verifies.
    CHECK(crypto::verify_message(std::string_view(second.summary_json),
                                 crypto::Signature::parse(second.signature),
                                 f.settlement().operator_address()));
}

TEST_CASE("a payout is pending until withdrawals pay it, oldest first") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.add_worker("bee-02");
    f.settlement().top_up("alice", usd("10"), "tx-1");
    f.run_job("alice", "bee-01");
    const auto first = f.settlement().seal_epoch();
    f.run_job("alice", "bee-01");
    const auto second = f.settlement().seal_epoch();
    const auto status_of = [&](const EpochRecord& epoch) {
        const auto payouts = f.settlement().epoch_payouts(epoch.id);
        REQUIRE(payouts.size() == 1);
        CHECK(payouts[0].worker_id == "bee-01");
        CHECK(payouts[0].total() == usd("0.093"));
        return payouts[0].status;
    };
    CHECK(status_of(first) == PayoutStatus::pending);
    CHECK(status_of(second) == PayoutStatus::pending);
    CHECK(boost::json::parse(f.settlement().epoch_payouts(first.id)[0].to_json())
              .at("status")
              .as_string() == "pending");

    // Part of the first payout: still pending.
    f.settlement().withdraw(AccountKind::worker, "bee-01", usd("0.05"), "w-1", "0xl1-1");
    CHECK(status_of(first) == PayoutStatus::pending);
    // The rest of the first: it is paid, the second is not.
    f.settlement().withdraw(AccountKind::worker, "bee-01", usd("0.043"), "w-2", "0xl1-2");
    CHECK(status_of(first) == PayoutStatus::paid);
    CHECK(status_of(second) == PayoutStatus::pending);
    CHECK(boost::json::parse(f.settlement().epoch_payouts(first.id)[0].to_json())
              .at("status")
              .as_string() == "paid");
    // A refused withdrawal (more than the balance) pays nothing.
    CHECK_THROWS(f.settlement().withdraw(AccountKind::worker, "bee-01", usd("1"), "w-3", "0xl1-3"));
    CHECK(status_of(second) == PayoutStatus::pending);
    f.settlement().withdraw(AccountKind::worker, "bee-01", usd("0.093"), "w-4", "0xl1-4");
    CHECK(status_of(second) == PayoutStatus::paid);
    CHECK(f.balance(AccountKind::worker, "bee-01") == usd("0"));
}
