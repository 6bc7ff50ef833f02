// SPDX-License-Identifier: Apache-2.0
//
// The server's periodic tasks (ServerOptions::maintenance_interval, server.hpp): on the hub's
// clock, each tick seals the epoch when it is due (Settlement::seal_due_epoch, which posts the
// epoch's payouts in the seal) and expires the pending transfers whose timeout passed
// (Settlement::expire_pending). Whether anything is due is the core's decision, taken inside
// its own transactions, so two server processes on one hub seal an epoch once: the second's
// tick finds nothing due. A tick that fails logs the error and the next tick tries again; no
// error leaves a tick. Not installed.
#pragma once

#include <sihlicon/settlement.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

namespace sihlicon {
class Hub;
}

namespace sihlicon::server {

// What one tick did.
struct MaintenanceTick {
    std::optional<EpochRecord> sealed;  // the epoch this tick sealed, if one was due
    std::int64_t expired = 0;           // pending transfers expired
    int errors = 0;                     // tasks that failed (each logged; retried next tick)
};

class Maintenance {
  public:
    // `log` receives one line per thing done or failed (never a secret), as the access log
    // does (ServerOptions::access_log); null: no log. The Hub must outlive this.
    Maintenance(Hub& hub, std::function<void(std::string_view line)> log);
    Maintenance(const Maintenance&) = delete;
    Maintenance& operator=(const Maintenance&) = delete;
    // Stops (as stop()).
    ~Maintenance();

    // Runs every task once, now, on the calling thread. Never throws: a failing task is
    // logged and counted in `errors`.
    MaintenanceTick tick();

    // Ticks on a thread of its own: at once, then every `interval` (above 0) until stop().
    void start(std::chrono::milliseconds interval);
    // Wakes the thread and joins it: at once between ticks, after the current tick otherwise
    // (a seal in progress finishes; a seal cut off by a crash is finished by the next one).
    // Idempotent.
    void stop();

    // Ticks run so far (by start()'s thread or tick()).
    std::uint64_t ticks() const { return ticks_.load(); }

  private:
    void log(std::string_view line) const;
    void run(std::chrono::milliseconds interval);

    Hub& hub_;
    std::function<void(std::string_view)> log_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;  // guarded by mutex_
    std::mutex join_mutex_;  // one join at a time
    std::thread thread_;
    std::atomic<std::uint64_t> ticks_{0};
};

}  // namespace sihlicon::server
