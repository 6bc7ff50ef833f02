// SPDX-License-Identifier: Apache-2.0
//
// The server's periodic tasks (maintenance.hpp).
#include "server/maintenance.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/time.hpp>

#include <fmt/format.h>

#include <exception>
#include <string>

namespace sihlicon::server {

Maintenance::Maintenance(Hub& hub, std::function<void(std::string_view)> log)
    : hub_(hub), log_(std::move(log)) {}

Maintenance::~Maintenance() {
    stop();
}

void Maintenance::log(std::string_view line) const {
    if (!log_) {
        return;
    }
    try {
        std::string stamp;
        try {
            stamp = to_iso8601(hub_.clock().now());
        } catch (const Error&) {
            stamp = std::to_string(hub_.clock().now().ms());  // a clock outside 0000..9999
        }
        log_(fmt::format("{} maintenance {}", stamp, line));
    } catch (...) {
        // A failing log sink loses its line, never the task.
    }
}

MaintenanceTick Maintenance::tick() {
    MaintenanceTick result;
    // Each task on its own: one that fails does not keep the others from running.
    const auto attempt = [&](std::string_view task, const auto& run) {
        try {
            run();
        } catch (const Error& error) {
            ++result.errors;
            log(fmt::format("{} failed ({}): {}; retried at the next tick", task,
                            to_string(error.code()), error.what()));
        } catch (const std::exception& error) {
            ++result.errors;
            log(fmt::format("{} failed (internal): {}; retried at the next tick", task,
                            error.what()));
        } catch (...) {
            ++result.errors;
            log(fmt::format("{} failed (internal); retried at the next tick", task));
        }
    };
    auto& settlement = hub_.settlement();
    attempt("seal", [&] {
        result.sealed = settlement.seal_due_epoch(kOperatorPrincipal);
        if (result.sealed) {
            const auto& epoch = *result.sealed;
            log(fmt::format("sealed {} jobs={} revenue={} distributed={} currency={} root={}",
                            epoch.id, epoch.jobs_count, epoch.revenue.to_decimal_string(),
                            epoch.total_distributed.to_decimal_string(),
                            epoch.revenue.currency().code(), epoch.jobs_merkle_root));
        }
    });
    attempt("expire", [&] {
        result.expired = settlement.expire_pending();
        if (result.expired > 0) {
            log(fmt::format("expired {} pending transfers", result.expired));
        }
    });
    ++ticks_;
    return result;
}

void Maintenance::start(std::chrono::milliseconds interval) {
    if (interval.count() <= 0) {
        throw Error::invalid("maintenanceIntervalMs", std::to_string(interval.count()),
                             "must be above 0 to start the maintenance tasks");
    }
    std::lock_guard lock(mutex_);
    if (thread_.joinable() || stopping_) {
        throw Error(ErrorCode::conflict, "the maintenance tasks were already started");
    }
    thread_ = std::thread([this, interval] { run(interval); });
}

void Maintenance::run(std::chrono::milliseconds interval) {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        tick();
        lock.lock();
        wake_.wait_for(lock, interval, [this] { return stopping_; });
    }
}

void Maintenance::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    std::lock_guard join(join_mutex_);  // two stop()s at once: one joins, the other waits
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
        thread_.join();
    }
}

}  // namespace sihlicon::server
