// SPDX-License-Identifier: Apache-2.0
//
// What the scheduler's queries cost on a hub with a long history: a page of jobs in each
// state and the queue statistics, with `history` completed jobs behind a small live queue.
// Each figure is the median of 5 calls, printed beside the time SQLite takes to count the jobs
// table in the same run (the cost of any query that reads the whole history).
//
//   build/release/benchmarks/scheduler/query_benchmark [history]
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
    JobSpec spec;
    spec.type = JobType::custom;
    spec.name = "bench";
    spec.owner = "client";
    spec.hub_id = "bench";
    spec.max_attempts = 1;
    spec.workload.container_image = "busybox";
    spec.workload.resources.cpu_millicores = 100;
    spec.workload.resources.memory_bytes = 1 << 20;
    return spec;
}

}  // namespace

int main(int argc, char** argv) {
    const int history = argc > 1 ? std::max(1000, std::atoi(argv[1])) : 1'000'000;
    const auto folder = std::filesystem::temp_directory_path() / "sihlicon-bench-queries";
    std::filesystem::remove_all(folder);
    HubOptions options;
    options.durability = Durability::process_crash;
    options.integrity_check = IntegrityCheck::none;
    options.scheduler.submissions_per_hour = 0;
    {
        auto hub = Hub::open(folder, options);
        auto& scheduler = hub.scheduler();
        HubSpec hub_spec;
        hub_spec.id = "bench";
        hub_spec.name = "Benchmark hub";
        hub_spec.site = "lab";
        hub_spec.region = "CH";
        hub_spec.heat_recovery_ppm = 900'000;
        hub_spec.power_capacity_w = 1'000'000'000'000;
        scheduler.register_hub(hub_spec);
        WorkerSpec worker;
        worker.id = "w";
        worker.hub_id = "bench";
        worker.cpu_millicores = 1'000'000'000;
        worker.memory_bytes = 1LL << 50;
        scheduler.register_worker(worker);
        const std::vector<JobSpec> batch(1000, pinned_job());
        JobCompletion done;
        done.energy = Energy::milliwatt_hours(1000);
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
    auto hub = Hub::open(folder, options);
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
