// SPDX-License-Identifier: Apache-2.0
//
// Long random sequences of scheduler operations, checked after every step against what must
// always hold: no job lost, no job leased to two workers, none completed twice, a stale token
// never accepted, and every counter (worker resources, hub power, queue depth) equal to the sum
// of what the jobs hold.
#include "scheduler/fixture.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace sihlicon;
using sihlicon::testing::SchedulerFixture;

namespace {

std::int64_t scalar(Hub& hub, const char* sql) {
    return HubAccess::database(hub).read([&](store::Transaction& tx) {
        auto row = tx.prepare(sql);
        row.step();
        return row.column_int64(0);
    });
}

void check_invariants(Hub& hub, std::int64_t submitted) {
    CHECK(scalar(hub, "SELECT COUNT(*) FROM jobs") == submitted);
    // Every running job has a worker and a lease; nothing else has a lease expiry.
    CHECK(scalar(hub,
                 "SELECT COUNT(*) FROM jobs WHERE status = 'running' AND (worker_id IS "
                 "NULL OR lease_token IS NULL OR lease_expires_at IS NULL)") == 0);
    CHECK(scalar(hub,
                 "SELECT COUNT(*) FROM jobs WHERE status <> 'running' AND "
                 "lease_expires_at IS NOT NULL") == 0);
    // Worker counters equal what their running jobs hold.
    CHECK(scalar(hub,
                 "SELECT COUNT(*) FROM workers w WHERE w.used_cpu_millicores <> "
                 "(SELECT COALESCE(SUM(cpu_millicores), 0) FROM jobs j WHERE j.worker_id = "
                 "w.id AND j.status = 'running') OR w.running_jobs <> (SELECT COUNT(*) FROM "
                 "jobs j WHERE j.worker_id = w.id AND j.status = 'running') OR "
                 "w.used_memory_bytes <> (SELECT COALESCE(SUM(memory_bytes), 0) FROM jobs j "
                 "WHERE j.worker_id = w.id AND j.status = 'running')") == 0);
    CHECK(scalar(hub,
                 "SELECT COUNT(*) FROM workers WHERE used_cpu_millicores > cpu_millicores "
                 "OR used_memory_bytes > memory_bytes") == 0);
    // Hub counters equal the sums over jobs.
    CHECK(scalar(hub,
                 "SELECT COUNT(*) FROM hubs h WHERE h.running_power_w <> (SELECT "
                 "COALESCE(SUM(j.power_w), 0) FROM jobs j JOIN workers w ON w.id = "
                 "j.worker_id WHERE w.hub_id = h.id AND j.status = 'running') OR "
                 "h.queue_depth <> (SELECT COUNT(*) FROM jobs j WHERE j.hub_id = h.id AND "
                 "j.status IN ('pending', 'queued'))") == 0);
    // No job completed twice; every job's last event is its status.
    CHECK(scalar(hub,
                 "SELECT COUNT(*) FROM (SELECT job_id FROM job_events WHERE to_status = "
                 "'completed' GROUP BY job_id HAVING COUNT(*) > 1)") == 0);
    CHECK(scalar(hub,
                 "SELECT COUNT(*) FROM jobs j WHERE j.status <> (SELECT e.to_status FROM "
                 "job_events e WHERE e.job_id = j.id ORDER BY e.sequence DESC LIMIT 1)") == 0);
    // The kept counts of each (named hub, state) equal the jobs there.
    CHECK(scalar(hub,
                 "SELECT COUNT(*) FROM (SELECT COALESCE(hub_id, '') AS queue_hub, status, "
                 "COUNT(*) AS n FROM jobs GROUP BY 1, status) j FULL JOIN (SELECT * FROM "
                 "job_counts WHERE count <> 0) c USING (queue_hub, status) WHERE j.n IS NOT "
                 "c.count") == 0);
    // A pinned job never leaves its hub's queue nor runs elsewhere; a preferred job waits in
    // its hub's queue with a preference end, or in the shared queue after it; the hub that runs
    // a job is its worker's.
    CHECK(scalar(hub,
                 "SELECT COUNT(*) FROM jobs WHERE pinned = 1 AND (queue_hub <> hub_id OR "
                 "run_hub_id <> hub_id OR prefer_until IS NOT NULL)") == 0);
    CHECK(scalar(hub,
                 "SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND pinned = 0 AND hub_id IS "
                 "NOT NULL AND (queue_hub = hub_id) <> (prefer_until IS NOT NULL)") == 0);
    CHECK(scalar(hub,
                 "SELECT COUNT(*) FROM jobs j JOIN workers w ON w.id = j.worker_id WHERE "
                 "j.status = 'running' AND j.run_hub_id IS NOT w.hub_id") == 0);
    // A preferred job runs on another hub only once its preference elapsed.
    CHECK(scalar(hub,
                 "SELECT COUNT(*) FROM jobs j WHERE j.status = 'running' AND j.pinned = 0 AND "
                 "j.run_hub_id <> j.hub_id AND j.queue_hub <> ''") == 0);
}

// The ids of the jobs in `status`, as SQL finds them: for queued jobs in the order claims
// take them, else in id order.
std::vector<std::string> ids_in(Hub& hub, JobStatus status, const std::string& hub_id) {
    return HubAccess::database(hub).read([&](store::Transaction& tx) {
        auto rows = tx.prepare(
            "SELECT id FROM jobs WHERE status = ?1 AND (?2 = '' OR hub_id = ?2 OR run_hub_id = ?2) "
            "ORDER BY CASE WHEN "
            "status = 'queued' THEN sort_key END, CASE WHEN status = 'queued' THEN created_at "
            "END, CASE WHEN status = 'queued' THEN rowid END, id");
        rows.bind_all(to_string(status), hub_id);
        std::vector<std::string> ids;
        while (rows.step()) {
            ids.push_back(rows.column_text(0));
        }
        return ids;
    });
}

// Every listing by state, paged, returns exactly the jobs in that state in its order, and the
// queue statistics equal what the jobs table holds.
void check_listings(Hub& hub, const std::vector<std::string>& hubs) {
    std::vector<std::string> hub_filters{""};
    hub_filters.insert(hub_filters.end(), hubs.begin(), hubs.end());
    for (int s = 0; s < 6; ++s) {
        const auto status = static_cast<JobStatus>(s);
        for (const auto& hub_id : hub_filters) {
            CAPTURE(to_string(status));
            CAPTURE(hub_id);
            JobFilter filter;
            filter.status = status;
            if (!hub_id.empty()) {
                filter.hub_id = hub_id;
            }
            filter.limit = 7;
            std::vector<std::string> listed;
            for (;;) {
                const auto page = hub.scheduler().jobs(filter);
                for (const auto& job : page) {
                    CHECK(job.status == status);
                    listed.push_back(job.id);
                }
                if (page.size() < 7) {
                    break;
                }
                filter.after = page.back().id;
            }
            CHECK(listed == ids_in(hub, status, hub_id));
        }
    }
    for (const auto& hub_id : hub_filters) {
        CAPTURE(hub_id);
        const auto stats = hub.scheduler().queue_stats(hub_id);
        const auto [expected, oldest] = HubAccess::database(hub).read([&](store::Transaction& tx) {
            std::map<JobStatus, std::int64_t> counts;
            for (int s = 0; s < 6; ++s) {
                counts[static_cast<JobStatus>(s)] = 0;
            }
            auto rows = tx.prepare(
                "SELECT status, COUNT(*) FROM jobs WHERE COALESCE(hub_id, '') = ? "
                "GROUP BY status");
            rows.bind_all(hub_id);
            while (rows.step()) {
                counts[parse_job_status(rows.column_text(0))] = rows.column_int64(1);
            }
            auto first = tx.prepare(
                "SELECT MIN(created_at) FROM jobs WHERE queue_hub = ? AND status IN "
                "('pending', 'queued')");
            first.bind_all(hub_id);
            first.step();
            std::optional<Timestamp> at;
            if (!first.is_null(0)) {
                at = Timestamp::from_ms(first.column_int64(0));
            }
            return std::pair{counts, at};
        });
        CHECK(stats.by_status == expected);
        CHECK(stats.oldest_waiting == oldest);
    }
}

}  // namespace

TEST_CASE("random operation sequences keep every scheduler invariant") {
    for (const unsigned seed : {1U, 2U, 3U, 4U}) {
        CAPTURE(seed);
        SchedulerFixture fixture;
        auto& scheduler = fixture.scheduler();
        std::mt19937 random(seed);
        auto chance = [&](int percent) {
            return std::uniform_int_distribution<int>(0, 99)(random) < percent;
        };
        auto pick = [&](std::size_t n) {
            return std::uniform_int_distribution<std::size_t>(0, n - 1)(random);
        };
        const std::vector<std::string> hubs{"h0", "h1", "h2"};
        for (const auto& hub : hubs) {
            fixture.add_hub(hub, RoutingPolicy::least_loaded, 200);
        }
        std::vector<std::string> workers;
        for (int i = 0; i < 6; ++i) {
            workers.push_back("w" + std::to_string(i));
            fixture.add_worker(workers.back(), hubs[static_cast<std::size_t>(i) % 3], 4000,
                               8LL << 30);
        }
        std::vector<std::string> jobs;
        std::map<std::string, std::string> latest_token;  // job -> token of its latest lease
        std::vector<std::pair<std::string, std::string>> tokens_seen;
        std::set<std::string> completed;
        std::int64_t refused_stale = 0;

        for (int step = 0; step < 800; ++step) {
            const int action = std::uniform_int_distribution<int>(0, 99)(random);
            try {
                if (action < 25) {
                    auto spec =
                        SchedulerFixture::job("j" + std::to_string(step),
                                              std::uniform_int_distribution<int>(-5, 5)(random));
                    spec.workload.resources.cpu_millicores = 500 * (1 + static_cast<int>(pick(4)));
                    spec.backoff_ms = static_cast<std::int64_t>(pick(3)) * 1000;
                    spec.max_attempts = 1 + static_cast<std::int64_t>(pick(3));
                    if (chance(40)) {
                        // Half prefer the hub, half are pinned to it.
                        const auto& named = hubs[pick(hubs.size())];
                        (chance(50) ? spec.hub_id : spec.pin_hub) = named;
                    }
                    if (!jobs.empty() && chance(15)) {
                        spec.depends_on = {jobs[pick(jobs.size())]};
                    }
                    jobs.push_back(scheduler.submit(spec).id);
                } else if (action < 45) {
                    const auto worker = workers[pick(workers.size())];
                    std::vector<ClaimedJob> leased;
                    try {
                        leased = scheduler.claim(worker, 1 + static_cast<std::int64_t>(pick(3)));
                    } catch (const Error& error) {
                        // Only a worker that went silent may be refused.
                        CHECK(error.code() == ErrorCode::conflict);
                        CHECK(scheduler.worker(worker).status == WorkerStatus::offline);
                    }
                    for (const auto& claimed : leased) {
                        CHECK(claimed.job.worker_id == worker);
                        latest_token[claimed.job.id] = claimed.lease.token;
                        tokens_seen.emplace_back(claimed.job.id, claimed.lease.token);
                    }
                } else if (action < 65 && !tokens_seen.empty()) {
                    const auto [job, token] = tokens_seen[pick(tokens_seen.size())];
                    const bool current = latest_token[job] == token;
                    try {
                        if (chance(70)) {
                            scheduler.complete(job, token, fixture.completion());
                            CHECK(current);  // a stale token never completes a job
                            completed.insert(job);
                        } else {
                            scheduler.fail(job, token, "random failure", chance(70));
                            CHECK(current);
                        }
                    } catch (const Error& error) {
                        CHECK(error.code() == ErrorCode::conflict);
                        if (!current) {
                            ++refused_stale;
                        }
                    }
                } else if (action < 72 && !jobs.empty()) {
                    try {
                        scheduler.cancel(jobs[pick(jobs.size())], "client-a");
                    } catch (const Error& error) {
                        CHECK(error.code() == ErrorCode::conflict);
                    }
                } else if (action < 77 && !tokens_seen.empty()) {
                    const auto [job, token] = tokens_seen[pick(tokens_seen.size())];
                    try {
                        scheduler.renew(job, token);
                    } catch (const Error& error) {
                        CHECK(error.code() == ErrorCode::conflict);
                    }
                } else if (action < 82) {
                    scheduler.set_grid_state(
                        hubs[pick(hubs.size())],
                        {static_cast<GridSignal>(pick(4)), std::nullopt, std::nullopt});
                } else if (action < 92) {
                    fixture.clock->advance(std::chrono::seconds(1 + pick(40)));
                    for (const auto& worker : workers) {
                        if (chance(80)) {
                            scheduler.heartbeat(worker, {});
                        }
                    }
                    scheduler.tick();
                } else if (!jobs.empty()) {
                    try {
                        scheduler.requeue(jobs[pick(jobs.size())], "operator");
                    } catch (const Error& error) {
                        CHECK(error.code() == ErrorCode::conflict);
                    }
                }
            } catch (const Error& error) {
                FAIL("unexpected error at step " << step << ": " << std::string(error.what()));
            }
            check_invariants(fixture.hub, static_cast<std::int64_t>(jobs.size()));
            if (step % 50 == 49) {
                check_listings(fixture.hub, hubs);
            }
        }
        // The sequences did move preferred jobs on, and ran some of them elsewhere.
        CHECK(scalar(fixture.hub,
                     "SELECT COUNT(*) FROM job_events WHERE reason LIKE 'preference for hub %'") >
              0);
        MESSAGE("seed " << seed << ": " << jobs.size() << " jobs, " << completed.size()
                        << " completed, " << refused_stale << " stale tokens refused");
    }
}
