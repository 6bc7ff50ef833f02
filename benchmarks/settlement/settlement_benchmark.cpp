// SPDX-License-Identifier: Apache-2.0
//
// Issue 6's figures.
//  1. Sealing an epoch of N completed jobs (default 1,000,000; at most 2 s): the jobs are
//     written straight into the settlement tables (not timed), escrow is funded with their
//     fees, then Settlement::seal_epoch() is timed whole — reading the jobs, jobs.json /
//     agents.json / SUMMARY.json, the RFC 9162 root, the EIP-191 signature, storing the four
//     files in the content store and posting the payouts. build_epoch_bundle() alone (root,
//     bundle and signature, from jobs in memory) is timed too.
//     Settlement::receipt() is timed too: the first of the epoch rebuilds its tree, the next
//     ones use the tree kept in memory.
//  2. Verifying receipts (at least 100,000 per second): R receipts (default 200,000) of that
//     epoch are made in memory (not timed) and checked with one ReceiptVerifier per thread
//     (each summary's signature is recovered once per thread, then cached); the figure for one
//     thread and for all hardware threads is printed, and the cost of one uncached
//     verify_receipt() for reference.
//
//   build/release/benchmarks/settlement/settlement_benchmark [jobs] [receipts] [hub directory]
//
// The seal stores jobs.json (322 MB for 1,000,000 jobs) as about 1,230 block files. On an
// ext4 without a journal (these machines' root), inodes freed in the last minute (five if their
// inode block is still dirty) are skipped when new files are created, so runs that follow
// each other at once (each deletes its hub) spend a second in the kernel's inode search:
// leave a few minutes between runs, or pass a folder on tmpfs to see the CPU's figure.
#include "hub/hub_internal.hpp"
#include "settlement/epochs.hpp"

#include <sihlicon/hub.hpp>
#include <sihlicon/settlement.hpp>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <thread>

#include <unistd.h>
#include <vector>

using namespace sihlicon;

namespace {

constexpr std::int64_t kJan1 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr std::int64_t kFee = 100'000;             // USD 0.10

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

EpochJob job_number(std::int64_t i) {
    EpochJob job;
    job.job_id = fmt::format("job-{:010}", i);
    job.client = fmt::format("client-{:04}", i % 1000);
    job.worker = fmt::format("bee-{:02}", i % 50);
    job.job_type = i % 3 ? "ocr" : "ai-inference";
    job.hub = "zurich";
    job.fee = Money(kFee, Currency::of("USD"));
    job.result_hash = fmt::format("{:064x}", i * 2654435761LL);
    job.poe_hash = proof_of_execution(job.job_id, job.result_hash, job.worker);
    job.completed_at = Timestamp::from_ms(kJan1 + i);
    return job;
}

void insert_jobs(Hub& hub, std::int64_t count) {
    auto& database = HubAccess::database(hub);
    database.write([&](store::Transaction& tx) {
        settlement::ensure_active_epoch(tx, Currency::of("USD"), Timestamp::from_ms(kJan1));
    });
    constexpr std::int64_t kBatch = 100'000;
    for (std::int64_t begin = 0; begin < count; begin += kBatch) {
        database.write([&](store::Transaction& tx) {
            for (std::int64_t i = begin; i < std::min(count, begin + kBatch); ++i) {
                const auto job = job_number(i);
                tx.prepare(
                      "INSERT INTO settlement_epoch_jobs (job_id, epoch_number, client, worker, "
                      "job_type, hub, fee, currency, result_hash, poe_hash, completed_at) "
                      "VALUES (?, 1, ?, ?, ?, ?, ?, 'USD', ?, ?, ?)")
                    .bind_all(job.job_id, job.client, job.worker, job.job_type, job.hub, kFee,
                              job.result_hash, job.poe_hash, job.completed_at.ms())
                    .run();
            }
        });
    }
    TransferRequest funding;
    funding.id = "bench-funding";
    funding.debit = AccountRef{AccountKind::external, "bench", Currency::of("USD")};
    funding.credit = AccountRef{AccountKind::escrow, "hub", Currency::of("USD")};
    funding.amount = Money(kFee * count, Currency::of("USD"));
    funding.kind = TransferKind::job_charge;
    hub.settlement().transfer(funding);
}

}  // namespace

int main(int argc, char** argv) {
    const std::int64_t jobs = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
    const std::int64_t receipts = argc > 2 ? std::atoll(argv[2]) : 200'000;
    const std::filesystem::path directory =
        argc > 3 ? std::filesystem::path(argv[3])
                 : std::filesystem::temp_directory_path() /
                       fmt::format("settlement-benchmark-{}", ::getpid());
    std::filesystem::remove_all(directory);
    auto clock = std::make_shared<ManualClock>(Timestamp::from_ms(kJan1));
    HubOptions options;
    options.clock = clock;
    options.durability = Durability::process_crash;
    auto hub = Hub::open(directory, options);

    auto start = std::chrono::steady_clock::now();
    insert_jobs(hub, jobs);
    std::printf("setup: %lld jobs written in %.2f s (not part of the figures)\n",
                static_cast<long long>(jobs), seconds_since(start));

    clock->advance(std::chrono::hours(24));
    start = std::chrono::steady_clock::now();
    const auto epoch = hub.settlement().seal_epoch();
    const double seal_s = seconds_since(start);
    std::printf("seal_epoch of %lld jobs: %.3f s (limit 2 s: %s); root %s, jobs.json CID %s\n",
                static_cast<long long>(epoch.jobs_count), seal_s, seal_s <= 2.0 ? "met" : "NOT met",
                epoch.jobs_merkle_root.c_str(), epoch.artifact_cids.at("jobs.json").c_str());

    // Receipts from the hub: the first rebuilds the epoch's tree, the next ones reuse it.
    start = std::chrono::steady_clock::now();
    const auto first_receipt = hub.settlement().receipt(job_number(jobs / 2).job_id);
    const double first_s = seconds_since(start);
    constexpr int kHubReceipts = 200;
    start = std::chrono::steady_clock::now();
    for (int i = 0; i < kHubReceipts; ++i) {
        hub.settlement().receipt(job_number((i * 7919) % jobs).job_id);
    }
    std::printf(
        "Settlement::receipt from the hub: first %.1f ms (builds the tree), then %.1f us each "
        "(%d receipts)\n",
        first_s * 1e3, seconds_since(start) * 1e6 / kHubReceipts, kHubReceipts);

    std::vector<EpochJob> records;
    records.reserve(static_cast<std::size_t>(jobs));
    for (std::int64_t i = 0; i < jobs; ++i) {
        records.push_back(job_number(i));
    }
    const crypto::LocalKeySigner signer = crypto::LocalKeySigner::load(directory / "operator.key");
    EpochFigures figures;
    figures.epoch_id = epoch.id;
    figures.start = epoch.start;
    figures.end = *epoch.end;
    figures.revenue = epoch.revenue;
    figures.payouts = hub.settlement().epoch_payouts(epoch.id);
    start = std::chrono::steady_clock::now();
    const auto bundle = build_epoch_bundle(records, figures, signer);
    const double build_s = seconds_since(start);
    std::printf(
        "build_epoch_bundle (root, files, signature) of %lld jobs: %.3f s; jobs.json %zu "
        "bytes\n",
        static_cast<long long>(jobs), build_s, bundle.jobs_json.size());

    // The other parts of a seal, timed alone for reference: reading the jobs back, and storing
    // a jobs.json of this size in the content store (shifted by one byte, so that every block
    // is new and written).
    start = std::chrono::steady_clock::now();
    const auto read_back = hub.settlement().epoch_jobs(epoch.id);
    std::printf("  part: reading %zu epoch jobs from the database: %.3f s\n", read_back.size(),
                seconds_since(start));
    hub.content_store().set_quota("bench", Quota{std::numeric_limits<std::int64_t>::max(), {}});
    const auto altered = " " + bundle.jobs_json;
    start = std::chrono::steady_clock::now();
    PutOptions put;
    put.min_replicas = 0;
    hub.content_store().put_bytes(
        std::span(reinterpret_cast<const std::uint8_t*>(altered.data()), altered.size()), "bench",
        put);
    std::printf("  part: storing %zu bytes in the content store: %.3f s\n", altered.size(),
                seconds_since(start));

    // Receipts, made in memory from the sealed epoch.
    std::vector<std::string> leaves;
    leaves.reserve(records.size());
    for (const auto& record : records) {
        leaves.push_back(record.leaf());
    }
    const auto tree = crypto::MerkleTree::from_leaves(leaves);
    std::vector<std::string> documents;
    documents.reserve(static_cast<std::size_t>(receipts));
    for (std::int64_t i = 0; i < receipts; ++i) {
        const auto index = static_cast<std::size_t>((i * 7919) % jobs);
        documents.push_back(settlement::make_receipt(epoch, leaves, tree, index));
    }
    std::printf("receipts: %zu made, %zu bytes each on average\n", documents.size(),
                documents.empty() ? 0 : documents[0].size());

    start = std::chrono::steady_clock::now();
    const auto uncached = verify_receipt(documents[0], signer.address());
    const double uncached_s = seconds_since(start);
    std::printf("one uncached verify_receipt (with signature recovery): %.1f us, valid %s\n",
                uncached_s * 1e6, uncached.valid ? "yes" : "NO");

    const auto run = [&](unsigned threads) {
        std::atomic<std::int64_t> valid{0};
        const auto begin = std::chrono::steady_clock::now();
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < threads; ++t) {
            pool.emplace_back([&, t] {
                ReceiptVerifier verifier;
                std::int64_t mine = 0;
                for (std::size_t i = t; i < documents.size(); i += threads) {
                    mine += verifier.verify(documents[i], signer.address()).valid ? 1 : 0;
                }
                valid += mine;
            });
        }
        for (auto& thread : pool) {
            thread.join();
        }
        const double s = seconds_since(begin);
        const double rate = static_cast<double>(documents.size()) / s;
        std::printf(
            "verify %zu receipts on %u thread(s): %.3f s, %.0f receipts/s (target "
            "100,000: %s), %lld valid\n",
            documents.size(), threads, s, rate, rate >= 100'000 ? "met" : "NOT met",
            static_cast<long long>(valid.load()));
    };
    run(1);
    run(std::max(1u, std::thread::hardware_concurrency()));
    std::filesystem::remove_all(directory);
    return 0;
}
