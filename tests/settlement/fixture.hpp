// SPDX-License-Identifier: Apache-2.0
//
// A hub on a manual clock with job charging on, a hub, a worker, and helpers to run jobs.
#pragma once

#include "hub/hub_internal.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sihlicon/hub.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/settlement.hpp>

#include <memory>
#include <string>

namespace sihlicon::testing {

inline const Currency kUsd = Currency::of("USD");

inline Money usd(std::string_view decimal) {
    return Money::parse(decimal, kUsd);
}

// Opens the hub in `directory` with `options` and gives it `settings`, whether this open
// creates it (initial_settings) or it exists (Hub::update_settings, as the operator).
inline std::unique_ptr<Hub> open_with_settings(const std::filesystem::path& directory,
                                               HubOptions options, const HubSettings& settings) {
    options.initial_settings = settings;
    auto hub = std::make_unique<Hub>(Hub::open(directory, options));
    hub->update_settings(settings, kOperatorPrincipal);
    return hub;
}

struct SettlementFixture {
    TempDir dir;
    std::shared_ptr<ManualClock> clock =
        std::make_shared<ManualClock>(Timestamp::from_ms(1'767'225'600'000));  // 2026-01-01
    bool charge_jobs = true;
    std::unique_ptr<Hub> hub = open_hub();

    std::unique_ptr<Hub> open_hub() {
        HubOptions options;
        options.clock = clock;
        options.durability = Durability::process_crash;
        HubSettings settings;
        settings.submissions_per_hour = 0;
        settings.charge_jobs = charge_jobs;
        return open_with_settings(dir.path(), options, settings);
    }
    void reopen() {
        hub.reset();
        hub = open_hub();
    }

    Scheduler& scheduler() { return hub->scheduler(); }
    Settlement& settlement() { return hub->settlement(); }
    store::Database& database() { return HubAccess::database(*hub); }

    void add_site(const std::string& hub_id = "zurich") {
        HubSpec spec;
        spec.id = hub_id;
        spec.name = "Hub " + hub_id;
        spec.site = "site-" + hub_id;
        spec.region = "CH";
        spec.heat_recovery_ppm = 900'000;
        spec.power_capacity_w = 1'000'000;
        scheduler().register_hub(spec);
    }

    void add_worker(const std::string& id, std::map<std::string, std::string> labels = {},
                    const std::string& hub_id = "zurich") {
        WorkerSpec spec;
        spec.id = id;
        spec.hub_id = hub_id;
        spec.cpu_millicores = 64'000;
        spec.memory_bytes = 256LL << 30;
        spec.labels = std::move(labels);
        spec.executors = {"native", "container"};
        scheduler().register_worker(spec);
    }

    static JobSpec job(const std::string& owner = "alice", JobType type = JobType::ocr) {
        JobSpec spec;
        spec.type = type;
        spec.name = "job";
        spec.owner = owner;
        spec.workload.container_image = "tesseract/tesseract:latest";
        spec.workload.resources.cpu_millicores = 1000;
        spec.workload.resources.memory_bytes = 1LL << 30;
        spec.max_attempts = 1;
        return spec;
    }

    static JobCompletion done(std::string result_hash = "abc123") {
        JobCompletion completion;
        completion.energy = Energy::milliwatt_hours(1000);
        completion.result_hash = std::move(result_hash);
        return completion;
    }

    // Submits, claims on `worker` and completes a job of `owner`; returns its id.
    std::string run_job(const std::string& owner, const std::string& worker,
                        JobType type = JobType::ocr) {
        const auto submitted = scheduler().submit(job(owner, type));
        const auto claimed = scheduler().claim(worker, 1);
        REQUIRE(claimed.size() == 1);
        REQUIRE(claimed[0].job.id == submitted.id);
        scheduler().complete(submitted.id, claimed[0].lease.token, done("r-" + submitted.id));
        return submitted.id;
    }

    Money available(AccountKind kind, const std::string& owner) {
        return settlement().account(AccountRef{kind, owner, kUsd}).available();
    }
    Money balance(AccountKind kind, const std::string& owner) {
        return settlement().account(AccountRef{kind, owner, kUsd}).balance;
    }

    std::int64_t count(const char* sql) {
        return database().read([&](store::Transaction& tx) {
            auto row = tx.prepare(sql);
            row.step();
            return row.column_int64(0);
        });
    }
};

}  // namespace sihlicon::testing
