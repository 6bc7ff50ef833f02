// SPDX-License-Identifier: Apache-2.0
//
// The lease checks with an acting worker (Scheduler::renew, check_lease, complete,
// complete_many, fail): a worker learns nothing of a job it does not hold. Whether the job does
// not exist, is another worker's attempt (even with that attempt's own token), has ended or was
// put back in the queue, the worker gets one and the same conflict, and nothing changes. The
// host and the operator (no acting worker) still tell an unknown job from a stale token.
#include "scheduler/fixture.hpp"
#include "support/errors.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <functional>
#include <string>
#include <vector>

using namespace sihlicon;
using sihlicon::testing::error_from;
using sihlicon::testing::error_of;
using sihlicon::testing::SchedulerFixture;

namespace {

struct HolderFixture : SchedulerFixture {
    ClaimedJob mine;     // bee-01's running attempt
    ClaimedJob ended;    // bee-01's completed attempt
    ClaimedJob retried;  // bee-01's failed attempt, queued again for a retry
    ClaimedJob theirs;   // bee-02's running attempt

    HolderFixture() {
        add_hub("zurich");
        add_worker("bee-01", "zurich");
        for (const auto* name : {"mine", "ended", "retried"}) {
            scheduler().submit(job(name));
        }
        auto claimed = scheduler().claim("bee-01", 3);
        REQUIRE(claimed.size() == 3);
        mine = claimed[0];
        ended = claimed[1];
        retried = claimed[2];
        scheduler().complete(ended.lease.job_id, ended.lease.token, completion());
        scheduler().fail(retried.lease.job_id, retried.lease.token, "crashed", true);
        add_worker("bee-02", "zurich");
        scheduler().submit(job("theirs"));
        auto other = scheduler().claim("bee-02", 1);
        REQUIRE(other.size() == 1);
        REQUIRE(other[0].job.spec.name == "theirs");  // the retried one waits out its back-off
        theirs = other[0];
    }
};

// The one answer bee-01 gets for a job it does not hold.
void check_not_held(const std::function<void()>& action, const std::string& job_id) {
    const auto error = error_from(action);
    CHECK(error.code() == ErrorCode::conflict);
    CHECK(error.field() == "token");
    CHECK(std::string(error.what())
              .find(fmt::format("worker 'bee-01' holds no lease on job '{}' under this token",
                                job_id)) != std::string::npos);
}

}  // namespace

TEST_CASE(
    "a worker renewing, checking, completing or failing a job it does not hold gets one conflict, "
    "whether the job is absent, another worker's, ended or requeued, and nothing changes") {
    HolderFixture f;
    auto& scheduler = f.scheduler();
    const auto theirs_before = scheduler.job(f.theirs.lease.job_id);
    // (job id, token) pairs bee-01 does not hold: an absent job, bee-02's attempt with its own
    // token, bee-01's ended and requeued attempts with their old tokens, its running attempt
    // with a wrong token.
    const std::vector<std::pair<std::string, std::string>> not_held{
        {"job-that-never-was", f.mine.lease.token},
        {f.theirs.lease.job_id, f.theirs.lease.token},
        {f.ended.lease.job_id, f.ended.lease.token},
        {f.retried.lease.job_id, f.retried.lease.token},
        {f.mine.lease.job_id, f.theirs.lease.token},
    };
    for (const auto& [job_id, token] : not_held) {
        CAPTURE(job_id);
        check_not_held([&] { scheduler.renew(job_id, token, "bee-01"); }, job_id);
        check_not_held([&] { scheduler.check_lease(job_id, token, "bee-01"); }, job_id);
        check_not_held([&] { scheduler.fail(job_id, token, "no", false, "bee-01"); }, job_id);
        if (job_id == f.ended.lease.job_id) {
            continue;  // its own completed attempt: completing it again is below
        }
        check_not_held([&] { scheduler.complete(job_id, token, f.completion(7), "bee-01"); },
                       job_id);
        Lease lease{job_id, "bee-01", token, {}, 0};
        check_not_held(
            [&] {
                scheduler.complete_many({{f.mine.lease, f.completion()}, {lease, f.completion()}});
            },
            job_id);
    }
    // Its own completed attempt, under its token, completed again with another result: a
    // conflict about the result (the token proves the worker held it; nothing new is told).
    const auto again = error_from([&] {
        scheduler.complete(f.ended.lease.job_id, f.ended.lease.token, f.completion(7), "bee-01");
    });
    CHECK(again.code() == ErrorCode::conflict);
    CHECK(again.field() == "completion");
    const auto theirs_after = scheduler.job(f.theirs.lease.job_id);
    CHECK(theirs_after.status == JobStatus::running);
    CHECK(theirs_after.lease_expires_at == theirs_before.lease_expires_at);
    CHECK(theirs_after.updated_at == theirs_before.updated_at);
    CHECK(scheduler.job(f.mine.lease.job_id).status == JobStatus::running);  // batch: none
    CHECK(scheduler.job(f.retried.lease.job_id).status != JobStatus::running);

    // Its own attempt goes through, and so does repeating its accepted completion; another
    // worker repeating it with the token is refused as any job it does not hold.
    scheduler.renew(f.mine.lease.job_id, f.mine.lease.token, "bee-01");
    CHECK(scheduler.check_lease(f.mine.lease.job_id, f.mine.lease.token, "bee-01").id ==
          f.mine.lease.job_id);
    const auto done = scheduler.complete_many({{f.mine.lease, f.completion()}});
    CHECK(done.at(0).status == JobStatus::completed);
    CHECK(scheduler.complete(f.ended.lease.job_id, f.ended.lease.token, f.completion(), "bee-01")
              .status == JobStatus::completed);
    const auto by_other = error_from([&] {
        scheduler.complete(f.ended.lease.job_id, f.ended.lease.token, f.completion(), "bee-02");
    });
    CHECK(by_other.code() == ErrorCode::conflict);
    CHECK(by_other.field() == "token");
}

TEST_CASE(
    "the host and the operator, acting by the lease token alone, still tell an unknown job from "
    "a stale token") {
    HolderFixture f;
    auto& scheduler = f.scheduler();
    CHECK(error_of([&] { scheduler.renew("job-that-never-was", "x"); }) == ErrorCode::not_found);
    CHECK(error_of([&] { scheduler.check_lease("job-that-never-was", "x"); }) ==
          ErrorCode::not_found);
    CHECK(error_of([&] { scheduler.fail("job-that-never-was", "x", "no"); }) ==
          ErrorCode::not_found);
    CHECK(error_of([&] {
              scheduler.complete_many(
                  {{Lease{"job-that-never-was", "", "x", {}, 0}, f.completion()}});
          }) == ErrorCode::not_found);
    const auto stale = error_from([&] { scheduler.renew(f.theirs.lease.job_id, "stale"); });
    CHECK(stale.code() == ErrorCode::conflict);
    CHECK(std::string(stale.what()).find("is running") != std::string::npos);
    // The token alone is enough without an acting worker.
    CHECK(scheduler.complete(f.theirs.lease.job_id, f.theirs.lease.token, f.completion()).status ==
          JobStatus::completed);
}
