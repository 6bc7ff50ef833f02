// SPDX-License-Identifier: Apache-2.0
//
// The scheduler's throughput and claim latency (issue 3), on a hub in WAL mode with
// durability process_crash (synchronous=NORMAL: a commit survives kill -9, not a power cut).
//
//   build/release/benchmarks/scheduler/scheduler_benchmark [jobs] [queued] [workers]
//
// (e) the reference: SQLite's own rate of one-row insert transactions, same pragmas, same run;
// (a) submit -> claim -> complete, one call per step;       target >= 20,000 jobs/s
// (b) the same in batches of 1,000;                          target >= 100,000 jobs/s
// (c) claim latency with `workers` workers and `queued` queued jobs; target p99 <= 100 us
// (d) peak RSS of the process with `queued` jobs;            target <= 256 MiB
// (f) SQLite's rate of commits writing about as many pages as a scheduler step, with SQLite's
//     default VFS and with the library's (src/store/wal_vfs.hpp): the latter bounds (a)
// (g) the floor under (b): SQLite alone storing the rows each lifecycle must store (the job,
//     its events, heat record and epoch entry), in the same transactions, nothing else
// (a) and (b) also run with the hub's write log (HubOptions::commit_interval 10 ms): each call
//     is acknowledged once it is in hub.db-log, which survives the same kill -9; hub.db commits
//     every 10 ms. Each such figure includes the last commit (a read at the end).
//
//   ... [jobs] [queued] [workers] a|b|c|g [clients|batch|-] [commit interval ms]   one part alone
#include "bench_hub.hpp"

#include <sihlicon/hub.hpp>
#include <sihlicon/scheduler.hpp>

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace sihlicon;
using namespace sihlicon::bench;
using Steady = std::chrono::steady_clock;

namespace {

double seconds_since(Steady::time_point start) {
    return std::chrono::duration<double>(Steady::now() - start).count();
}

// The VFS of src/store/wal_vfs.hpp (one write per transaction's log frames), registered by the
// first Hub::open of the process.
constexpr const char* kLibraryVfs = "sihlicon-log";

// Transactions of one row inserted in each of `tables` tables: with tables = 1, the
// reference (e); with 10 (f), about as many pages per commit as a scheduler step writes (a
// submit 7, a claim 8, a completion 15, counted in the log), so (f) / 3 bounds (a).
// `vfs` null is SQLite's default VFS; kLibraryVfs the one every hub's connections use.
double reference_commits_per_second(int count, int tables = 1, const char* vfs = nullptr) {
    const auto folder = fresh_folder("reference");
    std::filesystem::create_directories(folder);
    sqlite3* db = nullptr;
    sqlite3_open_v2((folder / "ref.db").c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                    vfs);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", nullptr, nullptr,
                 nullptr);
    std::vector<sqlite3_stmt*> inserts;
    for (int t = 0; t < tables; ++t) {
        const auto name = fmt::format("t{}", t);
        sqlite3_exec(db,
                     ("CREATE TABLE " + name + " (id INTEGER PRIMARY KEY, payload TEXT)").c_str(),
                     nullptr, nullptr, nullptr);
        sqlite3_stmt* insert = nullptr;
        sqlite3_prepare_v2(db, ("INSERT INTO " + name + " (payload) VALUES ('job')").c_str(), -1,
                           &insert, nullptr);
        inserts.push_back(insert);
    }
    const auto start = Steady::now();
    for (int i = 0; i < count; ++i) {
        sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
        for (auto* insert : inserts) {
            sqlite3_step(insert);
            sqlite3_reset(insert);
        }
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
    const double rate = count / seconds_since(start);
    for (auto* insert : inserts) {
        sqlite3_finalize(insert);
    }
    sqlite3_close(db);
    std::filesystem::remove_all(folder);
    return rate;
}

constexpr std::chrono::milliseconds kCommitInterval{10};

// After a run with the write log: a read, which commits what the log still holds, so the time
// covers every job being in hub.db.
void read_back(Scheduler& scheduler) {
    JobFilter filter;
    filter.limit = 1;
    scheduler.jobs(filter);
}

double single_calls(int count, std::chrono::milliseconds commit_interval = {}) {
    auto hub = open_hub(fresh_folder("single"), commit_interval);
    auto& scheduler = hub.scheduler();
    scheduler.register_hub(big_hub());
    scheduler.register_worker(big_worker("w"));
    const auto spec = small_job();
    const auto completion = done();
    const auto start = Steady::now();
    for (int i = 0; i < count; ++i) {
        scheduler.submit(spec);
        const auto claimed = scheduler.claim("w", 1);
        scheduler.complete(claimed.at(0).lease.job_id, claimed.at(0).lease.token, completion);
    }
    read_back(scheduler);
    return count / seconds_since(start);
}

// (a) with `threads` clients calling at once, each with its own worker: one call per step, as
// a queue's many producers and consumers call it; the database commits them in groups.
double concurrent_single_calls(int count, int threads) {
    auto hub = open_hub(fresh_folder("concurrent"));
    auto& scheduler = hub.scheduler();
    scheduler.register_hub(big_hub());
    for (int t = 0; t < threads; ++t) {
        auto worker = big_worker(fmt::format("w{}", t));
        worker.cpu_millicores = 100;  // one job at a time: a claim takes this worker's own job
        scheduler.register_worker(worker);
    }
    const auto spec = small_job();
    const auto completion = done();
    const auto start = Steady::now();
    std::atomic<std::int64_t> finished{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < threads; ++t) {
        clients.emplace_back([&, t] {
            const auto worker = fmt::format("w{}", t);
            for (int i = 0; i < count / threads; ++i) {
                scheduler.submit(spec);
                const auto claimed = scheduler.claim(worker, 1);
                if (claimed.empty()) {
                    continue;
                }
                scheduler.complete(claimed.at(0).lease.job_id, claimed.at(0).lease.token,
                                   completion);
                finished.fetch_add(1);
            }
        });
    }
    for (auto& client : clients) {
        client.join();
    }
    return static_cast<double>(finished.load()) / seconds_since(start);
}

// (g) The floor under (b): SQLite alone storing the rows that a batched lifecycle writes for
// each job and that DESIGN.md requires: the job (inserted, then updated when it is claimed
// and when it completes), its three events, its heat record and its epoch entry. Same schema
// (a hub's, with its indexes), same statements, same pragmas, one transaction per step of
// `batch` jobs as (b) commits them, no reads and no other work. The counters (b) keeps per
// batch are left out, so no scheduler on this schema can run (b) faster than this.
double lifecycle_rows_floor(int count, int batch) {
    const auto folder = fresh_folder("floor");
    {
        auto hub = open_hub(folder);  // the schema, with one hub and one worker
        hub.scheduler().register_hub(big_hub());
        hub.scheduler().register_worker(big_worker("w"));
    }
    sqlite3* db = nullptr;
    sqlite3_open_v2((folder / "hub.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
    sqlite3_exec(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", nullptr, nullptr,
                 nullptr);
    const auto prepare = [&](const char* sql) {
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr) !=
            SQLITE_OK) {
            std::fprintf(stderr, "(g): %s\n", sqlite3_errmsg(db));
            std::exit(1);
        }
        return statement;
    };
    auto* insert_job = prepare(
        "INSERT INTO jobs (id, owner, idempotency_key, spec, hub_id, queue_hub, cpu_millicores, "
        "memory_bytes, gpu, gpu_vram_bytes, region, required_labels, priority, sort_key, "
        "timeout_ms, scheduled_at, deadline, status, wait_reason, ready_at, max_attempts, "
        "backoff_ms, error_message, created_at, updated_at, finished_at) VALUES (?1, 'bench', "
        "NULL, ?2, NULL, '', 1000, 0, 0, 0, NULL, '{}', 0, ?3, 3600000, NULL, NULL, 'queued', "
        "NULL, NULL, 3, 1000, NULL, ?3, ?3, NULL)");
    auto* claim_job = prepare(
        "UPDATE jobs SET status = 'running', wait_reason = NULL, ready_at = NULL, attempts = "
        "attempts + 1, worker_id = 'w', lease_token = ?2, lease_expires_at = ?3, power_w = 10, "
        "gpu_index = NULL, started_at = COALESCE(started_at, ?3), attempt_started_at = ?3, "
        "updated_at = ?3 WHERE id = ?1 AND status = 'queued'");
    auto* complete_job = prepare(
        "UPDATE jobs SET status = 'completed', lease_expires_at = NULL, power_w = 0, gpu_index = "
        "NULL, output_refs = '[]', actual_mwh = 1000, energy_source = 'measured', heat_mwh = "
        "900, result_hash = NULL, metrics = '{}', completion_digest = ?2, error_message = NULL, "
        "finished_at = ?3, updated_at = ?3 WHERE id = ?1");
    auto* insert_event = prepare(
        "INSERT INTO hub_events (at, kind, subject, client, worker, payload) SELECT ?4, "
        "'job.' || ?3, id, owner, worker_id, json_object('from', ?2, 'to', ?3, 'actor', "
        "'scheduler', 'reason', 'benchmark') FROM jobs WHERE id = ?1");
    auto* insert_heat = prepare(
        "INSERT INTO heat_records (hub_id, kind, job_id, tag, at, credit_at, electrical_mwh, "
        "thermal_mwh, energy_source, heat_recovery_ppm, recorded_at) VALUES ('bench', 'job', ?1, "
        "'', ?2, ?2, 1000, 900, 'measured', 900000, ?2)");
    auto* insert_epoch_job = prepare(
        "INSERT INTO settlement_epoch_jobs (job_id, epoch_number, client, worker, job_type, hub, "
        "fee, currency, result_hash, poe_hash, completed_at) VALUES (?1, 1, 'bench', 'w', "
        "'custom', 'bench', 0, 'USD', ?2, ?2, ?3) ON CONFLICT (job_id) DO NOTHING");
    // A stored spec as long as small_job()'s.
    const std::string spec =
        R"({"jobType":"custom","jobName":"no-op","jobDescription":"","workloadConfig":)"
        R"({"containerImage":"busybox:latest","command":[],"env":{},"resources":{"cpu":"1000m",)"
        R"("memory":"0","gpu":false},"timeoutSeconds":3600},"inputDataRefs":[],"priority":0,)"
        R"("owner":"bench","maxAttempts":3,"backoffMs":1000,"constraints":{"labels":{}},)"
        R"("dependsOn":[]})";
    const std::string digest(64, 'd');
    const auto run = [](sqlite3_stmt* statement) {
        sqlite3_step(statement);
        sqlite3_reset(statement);
    };
    const auto event = [&](const std::string& id, const char* from, const char* to,
                           std::int64_t at) {
        sqlite3_bind_text(insert_event, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
        sqlite3_bind_text(insert_event, 2, from, -1, SQLITE_STATIC);
        sqlite3_bind_text(insert_event, 3, to, -1, SQLITE_STATIC);
        sqlite3_bind_int64(insert_event, 4, at);
        run(insert_event);
    };
    std::vector<std::string> ids(static_cast<std::size_t>(batch));
    const auto start = Steady::now();
    for (int done = 0; done < count; done += batch) {
        const std::int64_t at = 1'800'000'000'000 + done;
        for (int i = 0; i < batch; ++i) {
            ids[static_cast<std::size_t>(i)] = fmt::format("job-{:026d}", done + i);
        }
        sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);  // submit
        for (const auto& id : ids) {
            sqlite3_bind_text(insert_job, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
            sqlite3_bind_text(insert_job, 2, spec.data(), static_cast<int>(spec.size()),
                              SQLITE_STATIC);
            sqlite3_bind_int64(insert_job, 3, at);
            run(insert_job);
            event(id, nullptr, "queued", at);
        }
        sqlite3_exec(db, "COMMIT; BEGIN IMMEDIATE", nullptr, nullptr, nullptr);  // claim
        for (const auto& id : ids) {
            sqlite3_bind_text(claim_job, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
            sqlite3_bind_text(claim_job, 2, digest.data(), 32, SQLITE_STATIC);
            sqlite3_bind_int64(claim_job, 3, at);
            run(claim_job);
            event(id, "queued", "running", at);
        }
        sqlite3_exec(db, "COMMIT; BEGIN IMMEDIATE", nullptr, nullptr, nullptr);  // complete
        for (const auto& id : ids) {
            for (auto* statement : {complete_job, insert_heat, insert_epoch_job}) {
                sqlite3_bind_text(statement, 1, id.data(), static_cast<int>(id.size()),
                                  SQLITE_STATIC);
            }
            sqlite3_bind_text(complete_job, 2, digest.data(), 64, SQLITE_STATIC);
            sqlite3_bind_int64(complete_job, 3, at);
            run(complete_job);
            event(id, "running", "completed", at);
            sqlite3_bind_int64(insert_heat, 2, at);
            run(insert_heat);
            sqlite3_bind_text(insert_epoch_job, 2, digest.data(), 64, SQLITE_STATIC);
            sqlite3_bind_int64(insert_epoch_job, 3, at);
            run(insert_epoch_job);
        }
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
    const double rate = count / seconds_since(start);
    std::int64_t completed = 0;
    sqlite3_stmt* check = prepare("SELECT COUNT(*) FROM jobs WHERE status = 'completed'");
    if (sqlite3_step(check) == SQLITE_ROW) {
        completed = sqlite3_column_int64(check, 0);
    }
    for (auto* statement : {insert_job, claim_job, complete_job, insert_event, insert_heat,
                            insert_epoch_job, check}) {
        sqlite3_finalize(statement);
    }
    sqlite3_close(db);
    std::filesystem::remove_all(folder);
    if (completed != count) {
        std::fprintf(stderr, "(g) completed %lld of %d jobs\n", static_cast<long long>(completed),
                     count);
        std::exit(1);
    }
    return rate;
}

double batch_calls(int count, int batch, std::chrono::milliseconds commit_interval = {}) {
    auto hub = open_hub(fresh_folder("batch"), commit_interval);
    auto& scheduler = hub.scheduler();
    scheduler.register_hub(big_hub());
    scheduler.register_worker(big_worker("w"));
    const std::vector<JobSpec> specs(static_cast<std::size_t>(batch), small_job());
    const auto completion = done();
    const auto start = Steady::now();
    // Only completed jobs count (a claim that returned fewer than the batch once let this
    // figure count jobs left queued).
    std::int64_t completed = 0;
    while (completed < count) {
        scheduler.submit_many(specs);
        const auto claimed = scheduler.claim("w", batch);
        if (static_cast<int>(claimed.size()) != batch) {
            std::fprintf(stderr, "claim returned %zu of %d jobs\n", claimed.size(), batch);
            std::exit(1);
        }
        std::vector<std::pair<Lease, JobCompletion>> completions;
        completions.reserve(claimed.size());
        for (const auto& job : claimed) {
            completions.emplace_back(job.lease, completion);
        }
        completed += static_cast<std::int64_t>(scheduler.complete_many(completions).size());
    }
    read_back(scheduler);
    return static_cast<double>(completed) / seconds_since(start);
}

std::int64_t peak_rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::atoll(line.c_str() + 6);
        }
    }
    return -1;
}

struct Latency {
    double p50_us;
    double p99_us;
    double max_us;
};

Latency claim_latency(int queued, int workers, int claims,
                      std::chrono::milliseconds commit_interval = {}) {
    auto hub = open_hub(fresh_folder("latency"), commit_interval);
    auto& scheduler = hub.scheduler();
    scheduler.register_hub(big_hub());
    for (int i = 0; i < workers; ++i) {
        auto spec = big_worker(fmt::format("w{}", i));
        spec.cpu_millicores = 4000;
        spec.memory_bytes = 16LL << 30;
        scheduler.register_worker(spec);
    }
    const std::vector<JobSpec> specs(10'000, small_job());
    const auto fill_start = Steady::now();
    for (int i = 0; i < queued; i += 10'000) {
        scheduler.submit_many(specs);
    }
    std::printf("    (queued %d jobs in %.1f s, registered %d workers)\n", queued,
                seconds_since(fill_start), workers);
    // The workers ask in turn: under the hub's least-loaded policy a worker that holds more jobs
    // than an idle one is handed nothing, so a random pick would measure refusals.
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(claims));
    for (int i = 0; i < claims; ++i) {
        const auto worker = fmt::format("w{}", i % workers);
        const auto start = Steady::now();
        const auto claimed = scheduler.claim(worker, 1);
        samples.push_back(seconds_since(start) * 1e6);
        if (claimed.empty()) {
            std::printf("    claim returned nothing: the benchmark is misconfigured\n");
            std::exit(1);
        }
    }
    std::sort(samples.begin(), samples.end());
    std::printf("    (p90 %.1f us, p99.9 %.1f us, %zu claims over 1 ms)\n",
                samples[samples.size() * 9 / 10], samples[samples.size() * 999 / 1000],
                static_cast<std::size_t>(samples.end() -
                                         std::lower_bound(samples.begin(), samples.end(), 1000.0)));
    return {samples[samples.size() / 2], samples[samples.size() * 99 / 100], samples.back()};
}

}  // namespace

int main(int argc, char** argv) {
    // The references run under the configuration Hub::open gives SQLite in a process that
    // has not used it yet (include/sihlicon/hub.hpp): memory statistics off.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    const int jobs = argc > 1 ? std::atoi(argv[1]) : 20'000;
    const int queued = argc > 2 ? std::atoi(argv[2]) : 1'000'000;
    const int workers = argc > 3 ? std::atoi(argv[3]) : 10'000;

    const auto interval = std::chrono::milliseconds(argc > 6 ? std::atoi(argv[6]) : 0);
    if (argc > 4 && std::string(argv[4]) == "a") {  // only (a), for a profiler: a [clients]
        const int clients = argc > 5 ? std::max(1, std::atoi(argv[5])) : 1;
        if (clients == 1) {
            std::printf("(a) %.0f jobs/s\n", single_calls(jobs, interval));
        } else {
            std::printf("(a) %d clients: %.0f jobs/s\n", clients,
                        concurrent_single_calls(jobs, clients));
        }
        return 0;
    }
    if (argc > 4 && std::string(argv[4]) == "b") {  // only (b), for a profiler: b [batch size]
        const int batch = argc > 5 ? std::max(1, std::atoi(argv[5])) : 1000;
        std::printf("(b) batches of %d: %.0f jobs/s\n", batch, batch_calls(jobs, batch, interval));
        return 0;
    }
    if (argc > 4 && std::string(argv[4]) == "g") {  // only (g): g [batch size]
        const int batch = argc > 5 ? std::max(1, std::atoi(argv[5])) : 1000;
        std::printf("(g) batches of %d: %.0f jobs/s\n", batch, lifecycle_rows_floor(jobs, batch));
        return 0;
    }
    if (argc > 4 && std::string(argv[4]) == "c") {  // only (c), for a profiler
        const auto latency = claim_latency(queued, workers, 10'000, interval);
        std::printf("(c) p50 %.1f us, p99 %.1f us, max %.1f us\n", latency.p50_us, latency.p99_us,
                    latency.max_us);
        return 0;
    }
    // Modes a, b and c (above) run one part alone, for a profiler: without the references,
    // whose own system calls would otherwise fill the profile.
    const double reference = reference_commits_per_second(jobs);
    std::printf("(e) SQLite one-row insert transactions : %10.0f commits/s (reference)\n",
                reference);
    const double ten_pages = reference_commits_per_second(jobs, 10);
    const auto vfs_folder = fresh_folder("vfs");
    open_hub(vfs_folder);  // registers the library's VFS for the second (f)
    std::filesystem::remove_all(vfs_folder);
    const double ten_pages_library = reference_commits_per_second(jobs, 10, kLibraryVfs);
    std::printf(
        "(f) SQLite, one row in each of 10 tables: %10.0f commits/s; through the library's VFS "
        "%.0f: (a) takes 3 such commits a job, so its bound is %.0f jobs/s\n",
        ten_pages, ten_pages_library, ten_pages_library / 3);
    const double single = single_calls(jobs);
    std::printf(
        "(a) submit, claim, complete, per call  : %10.0f jobs/s = %.3f x reference "
        "(target 20,000 jobs/s)\n",
        single, single / reference);
    const double logged = single_calls(jobs, kCommitInterval);
    std::printf(
        "(a) the same with the write log (10 ms): %8.0f jobs/s = %.3f x reference, %.2f x "
        "without (target 20,000 jobs/s)\n",
        logged, logged / reference, logged / single);
    for (int threads : {4, 16}) {
        const double concurrent = concurrent_single_calls(jobs, threads);
        std::printf(
            "(a) the same, %2d clients at once      : %10.0f jobs/s = %.3f x reference "
            "(target 20,000 jobs/s)\n",
            threads, concurrent, concurrent / reference);
    }
    const double batched = batch_calls(jobs * 5, 1000);
    std::printf(
        "(b) the same in batches of 1,000       : %10.0f jobs/s = %.3f x reference "
        "(target 100,000 jobs/s)\n",
        batched, batched / reference);
    const double batched_logged = batch_calls(jobs * 5, 1000, kCommitInterval);
    std::printf(
        "(b) the same with the write log (10 ms): %8.0f jobs/s = %.3f x reference, %.2f x "
        "without (a batch this large is committed, not logged)\n",
        batched_logged, batched_logged / reference, batched_logged / batched);
    const double floor = lifecycle_rows_floor(jobs * 5, 1000);
    std::printf(
        "(g) SQLite alone storing (b)'s rows     : %10.0f jobs/s = %.3f x reference: no "
        "scheduler on this schema runs (b) faster\n",
        floor, floor / reference);
    const auto latency = claim_latency(queued, workers, 10'000);
    std::printf(
        "(c) claim latency, %d workers, %d queued: p50 %.1f us, p99 %.1f us, max %.1f "
        "us (target p99 <= 100 us)\n",
        workers, queued, latency.p50_us, latency.p99_us, latency.max_us);
    const auto logged_latency = claim_latency(queued, workers, 10'000, kCommitInterval);
    std::printf(
        "(c) the same with the write log (10 ms) : p50 %.1f us, p99 %.1f us, max %.1f us (target "
        "p99 <= 100 us)\n",
        logged_latency.p50_us, logged_latency.p99_us, logged_latency.max_us);
    std::printf("(d) peak RSS with %d jobs               : %.1f MiB (target <= 256 MiB)\n", queued,
                static_cast<double>(peak_rss_kib()) / 1024.0);
    std::filesystem::remove_all(fresh_folder("single"));
    std::filesystem::remove_all(fresh_folder("batch"));
    std::filesystem::remove_all(fresh_folder("latency"));
    return 0;
}
