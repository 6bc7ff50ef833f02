// SPDX-License-Identifier: Apache-2.0
//
// What the scheduler's queries cost on a hub with a long history: a page of jobs in each
// state and the queue statistics, with `history` completed jobs behind a small live queue.
// Each figure is the median of 5 calls, printed beside the time SQLite takes to count the jobs
// table in the same run (the cost of any query that reads the whole history).
//
//   build/release/benchmarks/scheduler/query_benchmark [history]
#include "bench_hub.hpp"

#include <sihlicon/hub.hpp>
#include <sihlicon/scheduler.hpp>

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

using namespace sihlicon;
using Steady = std::chrono::steady_clock;

namespace {

double median_ms(const std::function<void()>& call) {
    std::vector<double> samples;
    for (int i = 0; i < 5; ++i) {
        const auto start = Steady::now();
        call();
        samples.push_back(std::chrono::duration<double, std::milli>(Steady::now() - start).count());
    }
    std::sort(samples.begin(), samples.end());
    return samples[2];
}

JobSpec pinned_job() {
    auto spec = bench::small_job();
    spec.hub_id = "bench";
    spec.max_attempts = 1;
    return spec;
}

}  // namespace

int main(int argc, char** argv) {
    const int history = argc > 1 ? std::max(1000, std::atoi(argv[1])) : 1'000'000;
    const auto folder = bench::fresh_folder("queries");
    {
        auto hub = bench::open_hub(folder);
        auto& scheduler = hub.scheduler();
        scheduler.register_hub(bench::big_hub());
        scheduler.register_worker(bench::big_worker("w"));
        const std::vector<JobSpec> batch(1000, pinned_job());
        const auto done = bench::done();
        const auto fill_start = Steady::now();
        for (int i = 0; i < history; i += 1000) {
            scheduler.submit_many(batch);
            std::vector<std::pair<Lease, JobCompletion>> completions;
            for (const auto& item : scheduler.claim("w", 1000)) {
                completions.emplace_back(item.lease, done);
            }
            scheduler.complete_many(completions);
        }
        // The live part: 100 queued, 10 running, 10 failed, 10 cancelled.
        scheduler.submit_many(std::vector<JobSpec>(130, pinned_job()));
        const auto running = scheduler.claim("w", 20);
        for (int i = 0; i < 10; ++i) {
            scheduler.fail(running[static_cast<std::size_t>(i)].lease.job_id,
                           running[static_cast<std::size_t>(i)].lease.token, "exit 1", false);
        }
        JobFilter queued;
        queued.status = JobStatus::queued;
        queued.limit = 10;
        for (const auto& job : scheduler.jobs(queued)) {
            scheduler.cancel(job.id, "operator");
        }
        std::printf("history of %d completed jobs written in %.1f s\n", history,
                    std::chrono::duration<double>(Steady::now() - fill_start).count());
    }
    auto hub = bench::open_hub(folder);  // reopened: SQLite's page cache starts empty
    auto& scheduler = hub.scheduler();

    sqlite3* db = nullptr;
    sqlite3_open_v2((folder / "hub.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    const double count_all = median_ms([&] {
        sqlite3_exec(db, "SELECT COUNT(*) FROM jobs WHERE status <> ''", nullptr, nullptr, nullptr);
    });
    sqlite3_close(db);
    std::printf("reference: SQLite reading every job's status : %8.2f ms\n", count_all);

    auto page = [&](const char* label, JobFilter filter) {
        std::size_t found = 0;
        const double ms = median_ms([&] { found = scheduler.jobs(filter).size(); });
        std::printf("%-46s: %8.3f ms (%zu jobs)\n", label, ms, found);
    };
    for (const bool by_hub : {false, true}) {
        for (const auto status : {JobStatus::queued, JobStatus::running, JobStatus::failed,
                                  JobStatus::cancelled, JobStatus::completed}) {
            JobFilter filter;
            filter.status = status;
            if (by_hub) {
                filter.hub_id = "bench";
            }
            const auto label =
                fmt::format("page of {} jobs{}", to_string(status), by_hub ? ", by hub" : "");
            page(label.c_str(), filter);
        }
    }
    const double stats = median_ms([&] { scheduler.queue_stats("bench"); });
    std::printf("%-46s: %8.3f ms\n", "queue statistics of the hub", stats);
    std::filesystem::remove_all(folder);
    return 0;
}
