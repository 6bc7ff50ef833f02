// SPDX-License-Identifier: Apache-2.0
//
// hubId means "prefer this hub" (the seed's contract), constraints.pinHub pins a job, and a
// listing by hub lists the jobs that name the hub and those that ran on it.
#include "scheduler/fixture.hpp"
#include "support/errors.hpp"

#include "support/schema_rewind.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>
#include <sihlicon/principal.hpp>

#include <algorithm>
#include <set>

using namespace sihlicon;
using sihlicon::testing::error_from;
using sihlicon::testing::SchedulerFixture;

namespace {

// Hubs "near" and "far", each with one worker unless told otherwise.
struct TwoHubs : SchedulerFixture {
    explicit TwoHubs(bool near_worker = true) {
        add_hub("near");
        add_hub("far");
        if (near_worker) {
            add_worker("near-bee", "near");
        }
        add_worker("far-bee", "far");
    }

    JobRecord submit(const std::string& name, std::optional<std::string> prefer,
                     std::optional<std::string> pin = std::nullopt) {
        auto spec = job(name);
        spec.hub_id = std::move(prefer);
        spec.pin_hub = std::move(pin);
        return scheduler().submit(spec);
    }

    std::vector<std::string> claim(const std::string& worker, std::int64_t max = 10) {
        std::vector<std::string> names;
        for (const auto& claimed : scheduler().claim(worker, max)) {
            names.push_back(claimed.job.spec.name);
        }
        return names;
    }

    bool logged(const std::string& job_id, const std::string& text) {
        const auto events = scheduler().events(job_id);
        return std::any_of(events.begin(), events.end(), [&](const JobEvent& event) {
            return event.reason.find(text) != std::string::npos;
        });
    }
};

bool mentions(const std::vector<Placement>& lines, const std::string& hub,
              const std::string& text) {
    return std::any_of(lines.begin(), lines.end(), [&](const Placement& line) {
        return line.hub_id == hub && line.worker_id.empty() &&
               std::any_of(line.reasons.begin(), line.reasons.end(),
                           [&](const std::string& r) { return r.find(text) != std::string::npos; });
    });
}

const Placement& hub_line(const std::vector<Placement>& lines, const std::string& hub) {
    return *std::find_if(lines.begin(), lines.end(), [&](const Placement& line) {
        return line.hub_id == hub && line.worker_id.empty();
    });
}

std::vector<std::string> names_of(const std::vector<JobRecord>& jobs) {
    std::vector<std::string> names;
    for (const auto& job : jobs) {
        names.push_back(job.spec.name);
    }
    return names;
}

}  // namespace

TEST_CASE("a job preferring a hub runs there when that hub's worker claims within the window") {
    TwoHubs fixture;
    const auto job = fixture.submit("render", "near");
    CHECK(job.prefer_until == fixture.clock->now() + std::chrono::seconds(60));
    CHECK(fixture.claim("far-bee").empty());
    fixture.advance(std::chrono::seconds(59));
    CHECK(fixture.claim("far-bee").empty());
    CHECK(fixture.claim("near-bee") == std::vector<std::string>{"render"});
    const auto ran = fixture.scheduler().job(job.id);
    CHECK(ran.worker_id == "near-bee");
    CHECK(ran.run_hub_id == "near");
    CHECK_FALSE(ran.prefer_until);
    CHECK_FALSE(fixture.logged(job.id, "preference for hub"));
}

TEST_CASE("a job preferring a hub that cannot take it runs elsewhere only after the window") {
    SUBCASE("the hub has no worker") {
        TwoHubs fixture(false);
        const auto job = fixture.submit("render", "near");
        fixture.advance(std::chrono::milliseconds(59'999));
        CHECK(fixture.claim("far-bee").empty());
        CHECK(fixture.scheduler().job(job.id).status == JobStatus::queued);
        fixture.advance(std::chrono::milliseconds(1));
        CHECK(fixture.claim("far-bee") == std::vector<std::string>{"render"});
        CHECK(fixture.logged(job.id, "preference for hub near elapsed"));
        const auto ran = fixture.scheduler().job(job.id);
        CHECK(ran.spec.hub_id == "near");
        CHECK(ran.run_hub_id == "far");
        const auto json = ran.to_json();
        CHECK(json.find(R"("hubId":"near","pinHub":null)") != std::string::npos);
        CHECK(json.find(R"("runHubId":"far")") != std::string::npos);
    }
    SUBCASE("the hub is curtailed") {
        TwoHubs fixture;
        fixture.scheduler().set_grid_state("near",
                                           {GridSignal::curtail, std::nullopt, std::nullopt});
        const auto job = fixture.submit("render", "near");
        CHECK(fixture.claim("near-bee").empty());
        CHECK(fixture.claim("far-bee").empty());
        fixture.advance(std::chrono::seconds(60));
        // tick() moves it as a claim would.
        CHECK(fixture.scheduler().tick() == 1);
        CHECK(fixture.logged(job.id, "preference for hub near elapsed"));
        CHECK(fixture.claim("far-bee") == std::vector<std::string>{"render"});
    }
    SUBCASE("the window is the hub's setting preferenceWindowMs") {
        TwoHubs fixture(false);
        fixture.hub.set_setting("preferenceWindowMs", "5000", kOperatorPrincipal);
        fixture.submit("render", "near");
        fixture.advance(std::chrono::seconds(5));
        CHECK(fixture.claim("far-bee") == std::vector<std::string>{"render"});
        CHECK(error_from([&] {
                  fixture.hub.set_setting("preferenceWindowMs", "-1", kOperatorPrincipal);
              }).field() == "preferenceWindowMs");
    }
}

TEST_CASE("a job pinned to a hub never leaves it") {
    TwoHubs fixture(false);
    const auto job = fixture.submit("render", std::nullopt, "near");
    CHECK(job.spec.hub_id == "near");
    CHECK(job.spec.pin_hub == "near");
    CHECK_FALSE(job.prefer_until);
    for (int i = 0; i < 10; ++i) {
        fixture.advance(std::chrono::minutes(10));
        CHECK(fixture.claim("far-bee").empty());
    }
    CHECK_FALSE(fixture.logged(job.id, "preference"));
    CHECK(mentions(fixture.scheduler().explain(job.id), "far", "job is pinned to hub near"));
    fixture.add_worker("near-bee", "near");
    CHECK(fixture.claim("near-bee") == std::vector<std::string>{"render"});
}

TEST_CASE("explain says whether a job prefers a hub until a time or is pinned to it") {
    TwoHubs fixture(false);
    const auto preferred = fixture.submit("preferred", "near");
    const auto until = to_iso8601(fixture.clock->now() + std::chrono::seconds(60));
    auto lines = fixture.scheduler().explain(preferred.id);
    CHECK(mentions(lines, "far", "job has preferred hub near until " + until + ", then any hub"));
    CHECK_FALSE(hub_line(lines, "far").eligible);
    CHECK(hub_line(lines, "near").eligible);
    // Once the window has passed, any hub may take it.
    fixture.advance(std::chrono::seconds(60));
    fixture.scheduler().tick();
    lines = fixture.scheduler().explain(preferred.id);
    CHECK(hub_line(lines, "far").eligible);
    // A preferred job not queued yet has its window still to start.
    auto later = SchedulerFixture::job("later");
    later.hub_id = "near";
    later.scheduled_at = fixture.clock->now() + std::chrono::hours(1);
    const auto scheduled = fixture.scheduler().submit(later);
    CHECK(mentions(fixture.scheduler().explain(scheduled.id), "far",
                   "job has preferred hub near for 60000 ms once queued, then any hub"));
    const auto pinned = fixture.submit("pinned", std::nullopt, "near");
    CHECK(mentions(fixture.scheduler().explain(pinned.id), "far", "job is pinned to hub near"));
}

TEST_CASE("pinHub names a registered hub and agrees with hubId") {
    TwoHubs fixture;
    const auto parsed = JobSpec::from_json(
        R"({"jobType":"ocr","jobName":"x","workloadConfig":{"containerImage":"i"},)"
        R"("constraints":{"pinHub":"near"}})",
        "client-a");
    CHECK(parsed.pin_hub == "near");
    const auto job = fixture.scheduler().submit(parsed);
    CHECK(job.spec.hub_id == "near");
    CHECK(job.to_json().find(R"("hubId":"near","pinHub":"near")") != std::string::npos);
    // The stored spec reads back the same.
    CHECK(fixture.scheduler().job(job.id).spec.pin_hub == "near");

    auto unknown = SchedulerFixture::job("unknown");
    unknown.pin_hub = "nowhere";
    const auto not_found = error_from([&] { fixture.scheduler().submit(unknown); });
    CHECK(not_found.code() == ErrorCode::not_found);
    CHECK(not_found.field() == "constraints.pinHub");

    auto both = SchedulerFixture::job("both");
    both.hub_id = "near";
    both.pin_hub = "far";
    const auto differ = error_from([&] { fixture.scheduler().submit(both); });
    CHECK(differ.code() == ErrorCode::invalid_argument);
    CHECK(differ.field() == "constraints.pinHub");
    both.pin_hub = "near";
    CHECK(fixture.scheduler().submit(both).spec.pin_hub == "near");

    auto bad = SchedulerFixture::job("bad");
    bad.pin_hub = std::string("ne\0ar", 5);
    CHECK(error_from([&] { fixture.scheduler().submit(bad); }).field() == "constraints.pinHub");
    CHECK(fixture.count_jobs() == 2);
}

TEST_CASE("a retried preferred job is back in its hub's queue with a fresh window") {
    TwoHubs fixture;
    auto spec = SchedulerFixture::job("flaky");
    spec.hub_id = "near";
    spec.backoff_ms = 0;
    const auto job = fixture.scheduler().submit(spec);
    fixture.scheduler().set_worker_status("near-bee", WorkerStatus::draining);
    fixture.advance(std::chrono::seconds(60));
    const auto lease = fixture.scheduler().claim("far-bee").at(0).lease;
    fixture.advance(std::chrono::seconds(5));
    const auto retried = fixture.scheduler().fail(job.id, lease.token, "oops");
    CHECK(retried.status == JobStatus::queued);
    CHECK(retried.prefer_until == fixture.clock->now() + std::chrono::seconds(60));
    CHECK_FALSE(retried.worker_id);
    CHECK_FALSE(retried.run_hub_id);
    CHECK(fixture.claim("far-bee").empty());
    fixture.scheduler().set_worker_status("near-bee", WorkerStatus::online);
    CHECK(fixture.claim("near-bee") == std::vector<std::string>{"flaky"});
}

TEST_CASE("a hub's listing holds the jobs that name it and the jobs that ran on it, once") {
    TwoHubs fixture(false);
    // Preferred near, ran far: near's and far's.
    const auto moved = fixture.submit("moved", "near");
    fixture.advance(std::chrono::seconds(60));
    const auto moved_lease = fixture.scheduler().claim("far-bee").at(0).lease;
    fixture.scheduler().complete(moved.id, moved_lease.token, fixture.completion());
    // Unpinned, ran far: far's only.
    const auto anywhere = fixture.submit("anywhere", std::nullopt);
    const auto anywhere_lease = fixture.scheduler().claim("far-bee").at(0).lease;
    fixture.scheduler().complete(anywhere.id, anywhere_lease.token, fixture.completion());
    // Unpinned, failed for good on far: far's, dead-lettered.
    auto once = SchedulerFixture::job("failed-far");
    once.max_attempts = 1;
    const auto failed = fixture.scheduler().submit(once);
    const auto failed_lease = fixture.scheduler().claim("far-bee").at(0).lease;
    fixture.scheduler().fail(failed.id, failed_lease.token, "broken");
    // Pinned to far, waiting; preferring near, waiting; preferring near, moved on, waiting.
    fixture.submit("pinned-far", std::nullopt, "far");
    fixture.scheduler().set_worker_status("far-bee", WorkerStatus::draining);
    fixture.submit("stale-near", "near");
    fixture.advance(std::chrono::seconds(60));
    fixture.scheduler().tick();
    fixture.submit("fresh-near", "near");
    // Nobody's.
    fixture.submit("unrelated", std::nullopt);

    auto list = [&](const std::string& hub, std::optional<JobStatus> status = std::nullopt,
                    std::int64_t limit = 50) {
        JobFilter filter;
        filter.hub_id = hub;
        filter.status = status;
        filter.limit = limit;
        std::vector<std::string> names;
        std::set<std::string> seen;
        for (;;) {
            const auto page = fixture.scheduler().jobs(filter);
            for (const auto& job : page) {
                CHECK(seen.insert(job.id).second);  // no job twice
                names.push_back(job.spec.name);
            }
            if (static_cast<std::int64_t>(page.size()) < limit) {
                return names;
            }
            filter.after = page.back().id;
        }
    };
    const std::vector<std::string> near{"moved", "stale-near", "fresh-near"};
    const std::vector<std::string> far{"moved", "anywhere", "failed-far", "pinned-far"};
    for (const std::int64_t limit : {1, 2, 50}) {
        CAPTURE(limit);
        CHECK(list("near", std::nullopt, limit) == near);
        CHECK(list("far", std::nullopt, limit) == far);
        CHECK(list("far", JobStatus::completed, limit) ==
              std::vector<std::string>{"moved", "anywhere"});
        CHECK(list("near", JobStatus::completed, limit) == std::vector<std::string>{"moved"});
        CHECK(list("far", JobStatus::failed, limit) == std::vector<std::string>{"failed-far"});
        CHECK(list("near", JobStatus::queued, limit) ==
              std::vector<std::string>{"stale-near", "fresh-near"});
        CHECK(list("far", JobStatus::queued, limit) == std::vector<std::string>{"pinned-far"});
    }
    // The filters by worker and dead letter combine with the hub.
    JobFilter filter;
    filter.hub_id = "far";
    filter.dead_letter = true;
    CHECK(names_of(fixture.scheduler().jobs(filter)) == std::vector<std::string>{"failed-far"});
    filter.status = JobStatus::failed;
    CHECK(names_of(fixture.scheduler().jobs(filter)) == std::vector<std::string>{"failed-far"});
    filter = {};
    filter.hub_id = "near";
    filter.worker_id = "far-bee";
    CHECK(names_of(fixture.scheduler().jobs(filter)) == std::vector<std::string>{"moved"});
    filter.hub_id = "far";
    filter.dead_letter = false;
    CHECK(names_of(fixture.scheduler().jobs(filter)) ==
          std::vector<std::string>{"moved", "anywhere"});
    // The record keeps the worker and hub that ran it after it ended.
    const auto ended = fixture.scheduler().job(failed.id);
    CHECK(ended.worker_id == "far-bee");
    CHECK(ended.run_hub_id == "far");
    // Running jobs are listed under the hub running them.
    fixture.scheduler().set_worker_status("far-bee", WorkerStatus::online);
    const auto claimed = fixture.claim("far-bee", 1);
    REQUIRE(claimed.size() == 1);
    CHECK(list("far", JobStatus::running) == claimed);
}

TEST_CASE("a hub made before the preferred-hub migration keeps its jobs pinned and their run hub") {
    TwoHubs fixture(false);
    const auto waiting = fixture.submit("waiting", std::nullopt, "near");
    const auto ran = fixture.submit("ran", std::nullopt, "far");
    const auto lease = fixture.scheduler().claim("far-bee").at(0).lease;
    fixture.scheduler().complete(ran.id, lease.token, fixture.completion());
    fixture.submit("anywhere", std::nullopt);
    // Back to the schema before it (migration 18; the later ones run again): jobs named a hub
    // only as a pin.
    const auto latest = Hub::latest_schema_version();
    constexpr int kPreferredHubs = 18;
    HubAccess::database(fixture.hub).write([&](store::Transaction& tx) {
        testing::restore_job_events_table(tx);
        for (const char* sql :
             {"DROP INDEX jobs_preference", "DROP INDEX jobs_by_run_hub",
              "DROP INDEX jobs_ended_on_hub",
              "UPDATE jobs SET spec = json_remove(spec, '$.constraints.pinHub')",
              "ALTER TABLE jobs DROP COLUMN pinned", "ALTER TABLE jobs DROP COLUMN prefer_until",
              "ALTER TABLE jobs DROP COLUMN run_hub_id"}) {
            tx.prepare(sql).run();
        }
        tx.prepare("DELETE FROM schema_migrations WHERE version >= ?")
            .bind_all(kPreferredHubs)
            .run();
        tx.prepare("PRAGMA user_version = " + std::to_string(kPreferredHubs - 1)).run();
    });
    fixture.hub = fixture.open_hub();
    CHECK(fixture.hub.info().schema_version == latest);
    CHECK(fixture.scheduler().job(waiting.id).spec.pin_hub == "near");
    CHECK(fixture.scheduler().job(ran.id).run_hub_id == "far");
    fixture.advance(std::chrono::minutes(10));
    CHECK(fixture.claim("far-bee") == std::vector<std::string>{"anywhere"});
    JobFilter filter;
    filter.hub_id = "far";
    CHECK(names_of(fixture.scheduler().jobs(filter)) ==
          std::vector<std::string>{"ran", "anywhere"});
}
