// SPDX-License-Identifier: Apache-2.0
//
// A hub on a manual clock with helpers to register hubs and workers and submit jobs.
#pragma once

#include "hub/hub_internal.hpp"
#include "support/temp_dir.hpp"

#include <sihlicon/hub.hpp>
#include <sihlicon/scheduler.hpp>

#include <functional>
#include <memory>
#include <string>

namespace sihlicon::testing {

// Two CIDs from SPECS.md, valid inputDataRefs.
inline constexpr const char* kCidHelloWorld =
    "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
inline constexpr const char* kCidEmpty =
    "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
// "hello world\n": not stored by the fixture, so a job needing it waits for its input.
inline constexpr const char* kCidHelloWorldLine =
    "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";

struct SchedulerFixture {
    TempDir dir;
    std::shared_ptr<ManualClock> clock =
        std::make_shared<ManualClock>(Timestamp::from_ms(1'767'225'600'000));  // 2026-01-01
    Hub hub = open_hub();

    // `adjust`, when given, changes the options before the hub opens.
    Hub open_hub(const std::function<void(HubOptions&)>& adjust = {}) {
        HubOptions options;
        options.clock = clock;
        options.durability = Durability::process_crash;
        options.initial_settings.emplace().submissions_per_hour = 0;
        if (adjust) {
            adjust(options);
        }
        auto opened = Hub::open(dir.path(), options);
        // kCidHelloWorld is stored, so jobs that name it as an input can be queued.
        const std::string hello = "hello world";
        opened.content_store().put_bytes(
            {reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size()}, "client-a");
        return opened;
    }

    Scheduler& scheduler() { return hub.scheduler(); }

    HubRecord add_hub(const std::string& id, RoutingPolicy policy = RoutingPolicy::least_loaded,
                      std::int64_t capacity_w = 100'000) {
        HubSpec spec;
        spec.id = id;
        spec.name = "Hub " + id;
        spec.site = "site-" + id;
        spec.region = "CH";
        spec.heat_recovery_ppm = 900'000;
        spec.power_capacity_w = capacity_w;
        spec.routing_policy = policy;
        return scheduler().register_hub(spec);
    }

    WorkerRecord add_worker(const std::string& id, const std::string& hub_id,
                            std::int64_t millicores = 4000, std::int64_t memory = 8LL << 30,
                            std::vector<GpuSpec> gpus = {},
                            std::map<std::string, std::string> labels = {}) {
        WorkerSpec spec;
        spec.id = id;
        spec.hub_id = hub_id;
        spec.cpu_millicores = millicores;
        spec.memory_bytes = memory;
        spec.gpus = std::move(gpus);
        spec.labels = std::move(labels);
        spec.executors = {"native", "container"};  // the fixture's jobs are container jobs
        return scheduler().register_worker(spec);
    }

    static JobSpec job(std::string name = "job", std::int64_t priority = 0) {
        JobSpec spec;
        spec.type = JobType::ocr;
        spec.name = std::move(name);
        spec.owner = "client-a";
        spec.workload.container_image = "tesseract/tesseract:latest";
        spec.workload.resources.cpu_millicores = 1000;
        spec.workload.resources.memory_bytes = 1LL << 30;
        spec.priority = priority;
        return spec;
    }

    // Lets time pass with every worker heartbeating, so only the clock-driven rules under test
    // (back-off, schedules, deadlines, grid windows) change anything.
    void advance(std::chrono::milliseconds duration) {
        clock->advance(duration);
        for (const auto& worker : scheduler().workers()) {
            if (worker.status != WorkerStatus::offline) {
                scheduler().heartbeat(worker.spec.id, {});
            }
        }
    }

    std::int64_t count_jobs() {
        return HubAccess::database(hub).read([](store::Transaction& tx) {
            auto row = tx.prepare("SELECT COUNT(*) FROM jobs");
            row.step();
            return row.column_int64(0);
        });
    }

    JobCompletion completion(std::int64_t mwh = 1000) {
        JobCompletion done;
        done.output_refs = {kCidHelloWorld};
        done.energy = Energy::milliwatt_hours(mwh);
        done.result_hash = "abc123";
        return done;
    }
};

}  // namespace sihlicon::testing
