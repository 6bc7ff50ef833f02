// SPDX-License-Identifier: Apache-2.0
//
// The content store at hashing speed: for N MiB of unique data (default 1024), CID-only
// throughput, put throughput to the hot tier (blocks fsynced) and get throughput (every block
// re-hashed), each as a ratio of this machine's single-core OpenSSL SHA-256 over 1 MiB buffers,
// measured in the same run; and how much the put grew the process's peak RSS.
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
#include <random>
#include <string>
#include <vector>

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

    std::filesystem::remove_all(folder);
    double put_rate = 0;
    double get_rate = 0;
    std::int64_t rss_before = 0;
    std::int64_t peak_after = 0;
    {
        sihlicon::HubOptions options;
        options.durability = sihlicon::Durability::process_crash;
        auto hub = sihlicon::Hub::open(folder, options);
        sihlicon::ContentStore& store = hub.content_store();
        sihlicon::Quota unlimited;
        unlimited.upload_bytes_per_hour = INT64_MAX;
        store.set_quota("benchmark", unlimited);
        rss_before = status_bytes("VmRSS:");
        start = std::chrono::steady_clock::now();
        Source source(pool, total);
        const auto manifest = store.put_stream(std::ref(source), "benchmark");
        put_rate = static_cast<double>(total) / seconds_since(start);
        peak_after = status_bytes("VmHWM:");
        if (manifest.content_id != cid) {
            std::fprintf(stderr, "put CID %s differs from %s\n", manifest.content_id.c_str(),
                         cid.c_str());
            return 1;
        }
        std::uint64_t received = 0;
        start = std::chrono::steady_clock::now();
        store.get(cid, "benchmark",
                  [&](std::span<const std::uint8_t> bytes) { received += bytes.size(); });
        get_rate = static_cast<double>(received) / seconds_since(start);
    }
    std::filesystem::remove_all(folder);

    const auto mb = [](double rate) { return rate / 1e6; };
    std::printf("data                      %llu MiB, CID %s\n",
                static_cast<unsigned long long>(mebibytes), cid.c_str());
    std::printf("SHA-256 reference (1 core) %8.1f MB/s\n", mb(reference));
    std::printf("CID only                  %8.1f MB/s  %5.1f %% of SHA-256 (target >= 85 %%)\n",
                mb(cid_rate), 100 * cid_rate / reference);
    std::printf("put, hot tier, fsynced    %8.1f MB/s  %5.1f %% of SHA-256 (target >= 60 %%)\n",
                mb(put_rate), 100 * put_rate / reference);
    std::printf("get, every block verified %8.1f MB/s  %5.1f %% of SHA-256\n", mb(get_rate),
                100 * get_rate / reference);
    std::printf("RSS before put            %8.1f MiB\n", static_cast<double>(rss_before) / kMiB);
    std::printf("peak RSS after put        %8.1f MiB (growth %.1f MiB; limit 16 MiB)\n",
                static_cast<double>(peak_after) / kMiB,
                static_cast<double>(peak_after - rss_before) / kMiB);
    return 0;
}
