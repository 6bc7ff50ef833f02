// SPDX-License-Identifier: Apache-2.0
//
// GPU stats in heartbeats (issue 26): each GPU's utilisation and VRAM in use, validated
// against the GPUs the worker registered, stored with the worker and shown in its record.
#include "scheduler/fixture.hpp"
#include "support/errors.hpp"
#include "support/schema_rewind.hpp"

#include "core/json.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace sihlicon::testing {

namespace {

constexpr std::int64_t kGiB = 1LL << 30;

struct GpuFixture : SchedulerFixture {
    GpuFixture() {
        add_hub("hub-a");
        add_worker("bee-01", "hub-a", 4000, 8 * kGiB,
                   {GpuSpec{"NVIDIA A100", 80 * kGiB}, GpuSpec{"NVIDIA L4", 24 * kGiB}});
    }
};

Heartbeat beat_with(std::vector<GpuStats> gpus) {
    Heartbeat beat;
    beat.utilisation_ppm = 500'000;
    beat.power_draw_w = 300;
    beat.gpus = std::move(gpus);
    return beat;
}

}  // namespace

TEST_CASE("a heartbeat's GPU stats are stored with the worker and shown in its record") {
    GpuFixture f;
    const auto returned = f.scheduler().heartbeat(
        "bee-01", beat_with({{750'000, 12 * kGiB}, {1'000'000, 24 * kGiB}}));
    REQUIRE(returned.gpu_stats.size() == 2);
    CHECK(returned.gpu_stats[0].utilisation_ppm == 750'000);
    CHECK(returned.gpu_stats[0].vram_used_bytes == 12 * kGiB);
    CHECK(returned.gpu_stats[1].utilisation_ppm == 1'000'000);
    CHECK(returned.gpu_stats[1].vram_used_bytes == 24 * kGiB);

    const auto listed = f.scheduler().workers("hub-a");
    REQUIRE(listed.size() == 1);
    const auto json = json::parse(listed[0].to_json());
    const auto& stats = json.at("gpuStats").as_array();
    REQUIRE(stats.size() == 2);
    CHECK(stats[0].at("utilisationPpm").as_int64() == 750'000);
    CHECK(stats[0].at("vramUsed").as_int64() == 12 * kGiB);
    CHECK(stats[1].at("vramUsed").as_int64() == 24 * kGiB);

    // A later heartbeat replaces them; one without GPU stats leaves none.
    CHECK(f.scheduler().heartbeat("bee-01", beat_with({{10, 1}})).gpu_stats.size() == 1);
    CHECK(f.scheduler().heartbeat("bee-01", {}).gpu_stats.empty());
}

TEST_CASE("GPU stats outlive the process that stored them") {
    GpuFixture f;
    f.scheduler().heartbeat("bee-01", beat_with({{250'000, 5 * kGiB}}));
    f.hub = f.open_hub();
    const auto worker = f.scheduler().worker("bee-01");
    REQUIRE(worker.gpu_stats.size() == 1);
    CHECK(worker.gpu_stats[0].utilisation_ppm == 250'000);
    CHECK(worker.gpu_stats[0].vram_used_bytes == 5 * kGiB);
}

TEST_CASE("a heartbeat naming more GPUs than the worker registered is refused, nothing stored") {
    GpuFixture f;
    f.scheduler().heartbeat("bee-01", beat_with({{1, 1}}));
    const auto before = f.scheduler().worker("bee-01");
    f.clock->advance(std::chrono::seconds(5));
    const auto error = error_from([&] {
        f.scheduler().heartbeat("bee-01", beat_with({{0, 0}, {0, 0}, {0, 0}}));
    });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(error.field() == "gpus");
    CHECK(std::string(error.what()).find('3') != std::string::npos);
    const auto after = f.scheduler().worker("bee-01");
    CHECK(after.to_json() == before.to_json());

    // A worker without GPUs takes no GPU stats at all.
    f.add_worker("bee-02", "hub-a");
    CHECK(error_from([&] {
              f.scheduler().heartbeat("bee-02", beat_with({{0, 0}}));
          }).field() == "gpus");
}

TEST_CASE("a heartbeat with VRAM in use above the GPU's is refused naming gpus[i].vramUsed") {
    GpuFixture f;
    f.scheduler().heartbeat("bee-01", beat_with({{1, 1}, {1, 1}}));
    const auto before = f.scheduler().worker("bee-01");
    f.clock->advance(std::chrono::seconds(5));
    const auto too_much = 24 * kGiB + 1;
    const auto error = error_from([&] {
        f.scheduler().heartbeat("bee-01", beat_with({{0, 0}, {0, too_much}}));
    });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(error.field() == "gpus[1].vramUsed");
    CHECK(std::string(error.what()).find(std::to_string(too_much)) != std::string::npos);
    CHECK(f.scheduler().worker("bee-01").to_json() == before.to_json());

    CHECK(error_from([&] {
              f.scheduler().heartbeat("bee-01", beat_with({{0, -1}}));
          }).field() == "gpus[0].vramUsed");
    // Exactly the GPU's VRAM is in range.
    CHECK(f.scheduler().heartbeat("bee-01", beat_with({{0, 80 * kGiB}})).gpu_stats.size() == 1);
}

TEST_CASE("a GPU utilisation outside 0..1,000,000 ppm is refused naming gpus[i].utilisationPpm") {
    GpuFixture f;
    for (const std::int64_t bad : {std::int64_t{-1}, std::int64_t{1'000'001}}) {
        const auto error = error_from([&] {
            f.scheduler().heartbeat("bee-01", beat_with({{0, 0}, {bad, 0}}));
        });
        CHECK(error.field() == "gpus[1].utilisationPpm");
        CHECK(std::string(error.what()).find(std::to_string(bad)) != std::string::npos);
    }
    CHECK(f.scheduler().worker("bee-01").gpu_stats.empty());
}

TEST_CASE("a heartbeat with GPU stats for an unknown worker is not_found") {
    GpuFixture f;
    CHECK(error_of([&] {
              f.scheduler().heartbeat("ghost", beat_with({{0, 0}}));
          }) == ErrorCode::not_found);
}

TEST_CASE("registering a worker again clears its GPU stats") {
    GpuFixture f;
    f.scheduler().heartbeat("bee-01", beat_with({{1, 1}, {2, 2}}));
    const auto again = f.add_worker("bee-01", "hub-a", 4000, 8 * kGiB, {GpuSpec{"NVIDIA L4", 1}});
    CHECK(again.gpu_stats.empty());
}

TEST_CASE("a hub made before the GPU stats migration reopens, its workers without GPU stats") {
    GpuFixture f;
    f.scheduler().heartbeat("bee-01", beat_with({{1, 1}}));
    // Back to the schema before it: no worker_gpu_stats table, its migration not recorded.
    HubAccess::database(f.hub).write([](store::Transaction& tx) {
        const auto version = [&] {
            auto row = tx.prepare(
                "SELECT version FROM schema_migrations WHERE name = 'scheduler_worker_gpu_stats'");
            REQUIRE(row.step());
            return row.column_int64(0);
        }();
        tx.prepare("DROP TABLE worker_gpu_stats").run();
        drop_unrepeatable_migrations(tx);
        tx.prepare("DELETE FROM schema_migrations WHERE version >= ?").bind_all(version).run();
        tx.prepare(fmt::format("PRAGMA user_version = {}", version - 1)).run();
    });
    f.hub = f.open_hub();
    CHECK(f.hub.info().schema_version == Hub::latest_schema_version());
    CHECK(f.scheduler().worker("bee-01").gpu_stats.empty());
    CHECK(f.scheduler().heartbeat("bee-01", beat_with({{2, 2}})).gpu_stats.size() == 1);
}

TEST_CASE("Heartbeat::from_json reads the heartbeat's fields with the record's names") {
    const auto beat = Heartbeat::from_json(
        R"({"utilisationPpm":5,"powerDrawW":120,"gpus":[{"utilisationPpm":7,"vramUsed":1024},{}]})");
    CHECK(beat.utilisation_ppm == 5);
    CHECK(beat.power_draw_w == 120);
    REQUIRE(beat.gpus.size() == 2);
    CHECK(beat.gpus[0].utilisation_ppm == 7);
    CHECK(beat.gpus[0].vram_used_bytes == 1024);
    CHECK(beat.gpus[1].utilisation_ppm == 0);
    CHECK(Heartbeat::from_json("{}").gpus.empty());

    CHECK(error_from([] { Heartbeat::from_json(R"({"gpus":{}})"); }).field() == "gpus");
    CHECK(error_from([] { Heartbeat::from_json(R"({"gpus":[{"vramUsed":"1Gi"}]})"); }).field() ==
          "gpus[0].vramUsed");
    CHECK(error_from([] { Heartbeat::from_json(R"({"gpus":[{"vram":1}]})"); }).field() ==
          "gpus[0].vram");
    CHECK(error_from([] { Heartbeat::from_json(R"({"cpu":1})"); }).field() == "cpu");
    std::string many = R"({"gpus":[{})";
    for (int i = 0; i < 64; ++i) {
        many += ",{}";
    }
    CHECK(error_from([&] { Heartbeat::from_json(many + "]}"); }).field() == "gpus");
}

}  // namespace sihlicon::testing
