// SPDX-License-Identifier: Apache-2.0
//
// The scheduler's per-principal checks: a principal reads, lists and cancels only its own
// jobs (the operator any), someone else's job reads exactly as one that does not exist, and
// only the operator requeues.
#include "scheduler/fixture.hpp"
#include "support/errors.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>
#include <sihlicon/principal.hpp>

#include <string>

using namespace sihlicon;
using sihlicon::testing::error_of;
using sihlicon::testing::SchedulerFixture;

namespace {

// The message and field of the error `action` throws.
std::pair<std::string, std::string> message_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& error) {
        return {error.what(), error.field()};
    }
    FAIL("no error");
    return {};
}

}  // namespace

TEST_CASE("a principal reads only its own job; someone else's reads as one that does not exist") {
    SchedulerFixture fixture;
    auto& scheduler = fixture.scheduler();
    const auto job = scheduler.submit(SchedulerFixture::job("mine"));  // owner client-a
    CHECK(scheduler.job(job.id, "client-a").id == job.id);
    CHECK(scheduler.job(job.id, kOperatorPrincipal).id == job.id);
    CHECK(error_of([&] { scheduler.job(job.id, "client-b"); }) == ErrorCode::not_found);
    const std::string missing = "job-01ARZ3NDEKTSV4RRFFQ69G5FAV";
    auto [foreign_message, foreign_field] = message_of([&] { scheduler.job(job.id, "client-b"); });
    const auto [missing_message, missing_field] =
        message_of([&] { scheduler.job(missing, "client-b"); });
    CHECK(foreign_field == missing_field);
    CHECK(foreign_message.replace(foreign_message.find(job.id), job.id.size(), missing) ==
          missing_message);
}

TEST_CASE("a principal's listing holds only its own jobs; the operator's every job") {
    SchedulerFixture fixture;
    auto& scheduler = fixture.scheduler();
    scheduler.submit(SchedulerFixture::job("a"));
    auto other = SchedulerFixture::job("b");
    other.owner = "client-b";
    const auto theirs = scheduler.submit(other);
    const auto listed = scheduler.jobs(JobFilter{}, "client-b");
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].id == theirs.id);
    CHECK(scheduler.jobs(JobFilter{}, kOperatorPrincipal).size() == 2);
    CHECK(scheduler.jobs(JobFilter{}, "client-c").empty());
    JobFilter foreign;
    foreign.owner = "client-a";
    CHECK(error_of([&] { scheduler.jobs(foreign, "client-b"); }) == ErrorCode::permission_denied);
    CHECK(message_of([&] { scheduler.jobs(foreign, "client-b"); }).second == "owner");
    CHECK(scheduler.jobs(foreign, kOperatorPrincipal).size() == 1);
}

TEST_CASE("only a job's owner or the operator cancels it; for anyone else it does not exist") {
    SchedulerFixture fixture;
    auto& scheduler = fixture.scheduler();
    const auto job = scheduler.submit(SchedulerFixture::job("mine"));
    CHECK(error_of([&] { scheduler.cancel(job.id, "client-b"); }) == ErrorCode::not_found);
    CHECK(message_of([&] { scheduler.cancel(job.id, "client-b"); }).first ==
          "no job '" + job.id + "'");
    CHECK(scheduler.job(job.id).status == JobStatus::queued);  // nothing changed
    CHECK(scheduler.cancel(job.id, "client-a").status == JobStatus::cancelled);
    const auto second = scheduler.submit(SchedulerFixture::job("second"));
    CHECK(scheduler.cancel(second.id, kOperatorPrincipal).status == JobStatus::cancelled);
}

TEST_CASE("only the operator requeues a job") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    auto& scheduler = fixture.scheduler();
    const auto job = scheduler.submit(SchedulerFixture::job("mine"));
    const auto claims = scheduler.claim("bee-01");
    REQUIRE(claims.size() == 1);
    CHECK(error_of([&] { scheduler.requeue(job.id, "client-a"); }) == ErrorCode::permission_denied);
    CHECK(message_of([&] { scheduler.requeue(job.id, "client-a"); }).second == "by");
    CHECK(scheduler.job(job.id).status == JobStatus::running);
    CHECK(scheduler.requeue(job.id, kOperatorPrincipal).status == JobStatus::queued);
}
