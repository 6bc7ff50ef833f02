// SPDX-License-Identifier: Apache-2.0
//
// How much group commit buys on the hub's one writer path: durable (fsynced) single-row writes
// from 1 thread, then from 8 threads, on the same machine in the same process. The figure to
// read is the ratio; absolute numbers depend on the disk.
//
//   build/release/benchmarks/store_write_benchmark [writes_per_thread]
#include "store/database.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

using sihlicon::store::Database;
using sihlicon::store::Transaction;

namespace {

struct Run {
    double writes_per_second;
    double bodies_per_commit;
};

Run measure(const std::filesystem::path& path, int threads, int writes_per_thread) {
    std::filesystem::remove(path);
    std::filesystem::remove(path.string() + "-wal");
    std::filesystem::remove(path.string() + "-shm");
    Database database(path, {});
    database.write([](Transaction& tx) {
        tx.exec("CREATE TABLE rows (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)");
    });
    const auto before = database.write_stats();
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            for (int i = 0; i < writes_per_thread; ++i) {
                database.write([](Transaction& tx) {
                    tx.prepare("INSERT INTO rows (payload) VALUES (?)").bind_all("payload").run();
                });
            }
        });
    }
    for (auto& worker : workers) {
        worker.join();
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    const auto after = database.write_stats();
    const auto bodies = static_cast<double>(after.bodies - before.bodies);
    return {bodies / elapsed.count(), bodies / static_cast<double>(after.commits - before.commits)};
}

}  // namespace

int main(int argc, char** argv) {
    const int writes = argc > 1 ? std::atoi(argv[1]) : 500;
    const auto folder = std::filesystem::temp_directory_path() / "sihlicon-store-benchmark";
    std::filesystem::create_directories(folder);
    const Run single = measure(folder / "bench.db", 1, writes * 8);
    const Run grouped = measure(folder / "bench.db", 8, writes);
    std::filesystem::remove_all(folder);
    std::printf("durable writes, 1 thread : %10.0f writes/s (%.1f writes per commit)\n",
                single.writes_per_second, single.bodies_per_commit);
    std::printf("durable writes, 8 threads: %10.0f writes/s (%.1f writes per commit)\n",
                grouped.writes_per_second, grouped.bodies_per_commit);
    std::printf("group commit speed-up    : %10.2fx\n",
                grouped.writes_per_second / single.writes_per_second);
    return 0;
}
