// SPDX-License-Identifier: Apache-2.0
//
// The content store at hashing speed: for N MiB of unique data (default 1024), CID-only
// throughput, put throughput to the hot tier with each durability (power_loss: blocks fsynced;
// process_crash: blocks renamed into place from the page cache) and get throughput (every block
// re-hashed), each as a ratio of this machine's single-core OpenSSL SHA-256 over 1 MiB buffers,
// measured in the same run; and how much the put grew the process's peak RSS.
//
// A put writes each 256 KiB block as a file (IPFS's flatfs layout), so it also prints the
// folder's own rate of writing such files, the ceiling of any put there: on a disk whose file
// creation is slow the put is bound by it; on tmpfs (/dev/shm) the hashing is the bound.
//
//   build/release/benchmarks/cas/cas_benchmark [mebibytes] [folder]
#include <sihlicon/crypto.hpp>

#include <sihlicon/cid.hpp>
#include <sihlicon/content_store.hpp>
#include <sihlicon/hub.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace {

constexpr std::size_t kMiB = 1 << 20;
constexpr std::size_t kPool = 64 * kMiB;

// "VmRSS" or "VmHWM" from /proc/self/status, in bytes.
std::int64_t status_bytes(const char* key) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind(key, 0) == 0) {
            return std::atoll(line.c_str() + std::strlen(key) + 1) * 1024;
        }
    }
    return 0;
}

// Unique content without a 1 GiB buffer: slices of a random pool, each 256 KiB stamped with
// its position so that no two chunks are equal (identical chunks would be stored once).
class Source {
  public:
    Source(const std::vector<std::uint8_t>& pool, std::uint64_t total)
        : pool_(pool), total_(total) {}
    std::size_t operator()(std::span<std::uint8_t> buffer) {
        const std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), total_ - produced_));
        std::size_t done = 0;
        while (done < take) {
            const std::size_t at = static_cast<std::size_t>((produced_ + done) % kPool);
            const std::size_t n = std::min(take - done, kPool - at);
            std::memcpy(buffer.data() + done, pool_.data() + at, n);
            done += n;
        }
        for (std::uint64_t mark = (produced_ + 262'143) / 262'144 * 262'144;
             mark + sizeof mark <= produced_ + take; mark += 262'144) {
            std::memcpy(buffer.data() + (mark - produced_), &mark, sizeof mark);
        }
        produced_ += take;
        return take;
    }

  private:
    const std::vector<std::uint8_t>& pool_;
    std::uint64_t total_;
    std::uint64_t produced_ = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    const std::uint64_t mebibytes = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
    const std::filesystem::path folder =
        argc > 2 ? std::filesystem::path(argv[2])
                 : std::filesystem::temp_directory_path() /
                       ("sihlicon-cas-benchmark-" + std::to_string(::getpid()));
    const std::uint64_t total = mebibytes * kMiB;
    std::vector<std::uint8_t> pool(kPool);
    std::mt19937_64 engine(42);
    for (std::size_t i = 0; i < kPool; i += 8) {
        const std::uint64_t value = engine();
        std::memcpy(pool.data() + i, &value, 8);
    }
    std::vector<std::uint8_t> buffer(kMiB);

    // Reference: single-core SHA-256 over 1 MiB buffers.
    auto start = std::chrono::steady_clock::now();
    {
        sihlicon::crypto::Sha256 sha;
        Source source(pool, total);
        while (const std::size_t got = source(buffer)) {
            sha.update(std::span<const std::uint8_t>(buffer).first(got));
        }
        sha.finish();
    }
    const double reference = static_cast<double>(total) / seconds_since(start);

    start = std::chrono::steady_clock::now();
    sihlicon::CidHasher hasher;
    {
        Source source(pool, total);
        while (const std::size_t got = source(buffer)) {
            hasher.update(std::span<const std::uint8_t>(buffer).first(got));
        }
    }
    const auto cid = hasher.finish().to_string();
    const double cid_rate = static_cast<double>(total) / seconds_since(start);

    // Puts 1 GiB into a fresh hub with `durability` and gets it back (every block re-hashed).
    struct Run {
        double put_rate = 0;
        double get_rate = 0;
        std::int64_t rss_before = 0;
        std::int64_t peak_after = 0;
    };
    const auto run = [&](sihlicon::Durability durability) -> std::optional<Run> {
        std::filesystem::remove_all(folder);
        Run result;
        sihlicon::HubOptions options;
        options.durability = durability;
        auto hub = sihlicon::Hub::open(folder, options);
        sihlicon::ContentStore& store = hub.content_store();
        sihlicon::Quota unlimited;
        unlimited.upload_bytes_per_hour = INT64_MAX;
        store.set_quota("benchmark", unlimited);
        result.rss_before = status_bytes("VmRSS:");
        auto begin = std::chrono::steady_clock::now();
        Source source(pool, total);
        const auto manifest = store.put_stream(std::ref(source), "benchmark");
        result.put_rate = static_cast<double>(total) / seconds_since(begin);
        result.peak_after = status_bytes("VmHWM:");
        if (manifest.content_id != cid) {
            std::fprintf(stderr, "put CID %s differs from %s\n", manifest.content_id.c_str(),
                         cid.c_str());
            return std::nullopt;
        }
        std::uint64_t received = 0;
        begin = std::chrono::steady_clock::now();
        store.get(cid, "benchmark",
                  [&](std::span<const std::uint8_t> bytes) { received += bytes.size(); });
        result.get_rate = static_cast<double>(received) / seconds_since(begin);
        return result;
    };
    // The folder's own capacity, the ceiling of any store of blocks as files: the same bytes
    // written as plain 256 KiB files (open, write, close; no hashing, no fsync, no database).
    const auto files_rate = [&] {
        std::filesystem::remove_all(folder);
        std::filesystem::create_directories(folder);
        Source source(pool, total);
        std::vector<std::uint8_t> block(262'144);
        const auto begin = std::chrono::steady_clock::now();
        for (int index = 0;; ++index) {
            const std::size_t got = source(block);
            if (got == 0) {
                break;
            }
            const auto path = folder / std::to_string(index);
            const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd < 0 || ::write(fd, block.data(), got) != static_cast<ssize_t>(got)) {
                std::perror("files reference");
                std::exit(1);
            }
            ::close(fd);
        }
        const double rate = static_cast<double>(total) / seconds_since(begin);
        std::filesystem::remove_all(folder);
        return rate;
    }();
    const auto synced = run(sihlicon::Durability::power_loss);
    const auto cached = run(sihlicon::Durability::process_crash);
    if (!synced || !cached) {
        return 1;
    }
    std::filesystem::remove_all(folder);

    const auto mb = [](double rate) { return rate / 1e6; };
    std::printf("data                      %llu MiB, CID %s\n",
                static_cast<unsigned long long>(mebibytes), cid.c_str());
    std::printf("SHA-256 reference (1 core) %8.1f MB/s\n", mb(reference));
    std::printf("CID only                  %8.1f MB/s  %5.1f %% of SHA-256 (target >= 85 %%)\n",
                mb(cid_rate), 100 * cid_rate / reference);
    std::printf(
        "files reference           %8.1f MB/s  %5.1f %% of SHA-256 (256 KiB files, this folder)\n",
        mb(files_rate), 100 * files_rate / reference);
    std::printf("put, hot, power_loss      %8.1f MB/s  %5.1f %% of SHA-256 (blocks fsynced)\n",
                mb(synced->put_rate), 100 * synced->put_rate / reference);
    std::printf(
        "put, hot, process_crash   %8.1f MB/s  %5.1f %% of SHA-256 (target >= 60 %%), %.2f x "
        "files\n",
        mb(cached->put_rate), 100 * cached->put_rate / reference, cached->put_rate / files_rate);
    std::printf("get, every block verified %8.1f MB/s  %5.1f %% of SHA-256\n", mb(cached->get_rate),
                100 * cached->get_rate / reference);
    std::printf("RSS before put            %8.1f MiB\n",
                static_cast<double>(cached->rss_before) / kMiB);
    std::printf("peak RSS after puts       %8.1f MiB (growth %.1f MiB; limit 16 MiB)\n",
                static_cast<double>(cached->peak_after) / kMiB,
                static_cast<double>(cached->peak_after - synced->rss_before) / kMiB);
    return 0;
}
