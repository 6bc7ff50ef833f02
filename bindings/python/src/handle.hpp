// SPDX-License-Identifier: Apache-2.0
//
// HubHandle: the open Hub that the Python objects Hub, Scheduler, ContentStore, HeatLedger
// and Settlement share. Every call counts itself in for as long as it uses the hub; close()
// refuses new calls and waits until the calls in progress have left, so a hub is never
// destroyed under a call running on another thread (the C++ Hub's destructor requires that no
// other thread uses it). Calls may nest on one thread (a listener or a progress callback that
// calls the hub again), which a shared_mutex would not allow.
#pragma once

#include "common.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <unordered_map>

namespace sihlicon::python {

class HubHandle {
  public:
    explicit HubHandle(Hub hub) : hub_(std::move(hub)) {}

    // A hold on the open hub that is not tied to a thread (a worker agent holds one between
    // its start() and stop()): close() waits for it like for a call. Take it with the GIL
    // released: close() may be waiting. Throws Error(conflict) once the hub is closed or closing.
    class Pin {
      public:
        explicit Pin(HubHandle& handle) : handle_(handle) {
            std::lock_guard lock(handle_.mutex_);
            if (handle_.closing_) {
                throw Error(ErrorCode::conflict, "the hub is closed");
            }
            ++handle_.active_;
        }
        Pin(const Pin&) = delete;
        Pin& operator=(const Pin&) = delete;
        ~Pin() {
            std::lock_guard lock(handle_.mutex_);
            if (--handle_.active_ == 0) {
                handle_.idle_.notify_all();
            }
        }
        Hub& hub() const { return *handle_.hub_; }

      private:
        HubHandle& handle_;
    };

    // A call's hold: a Pin, counted on this thread too, so close() from inside a call (a
    // callback) is refused instead of waiting for itself.
    class Use {
      public:
        explicit Use(HubHandle& handle) : handle_(handle), pin_(handle) { ++depth()[&handle_]; }
        Use(const Use&) = delete;
        Use& operator=(const Use&) = delete;
        ~Use() {
            if (--depth()[&handle_] == 0) {
                depth().erase(&handle_);
            }
        }
        Hub& hub() const { return pin_.hub(); }

      private:
        HubHandle& handle_;
        Pin pin_;
    };

    // Refuses new calls, waits for the calls in progress, then closes the hub. Closing twice
    // does nothing. Throws Error(conflict) when called from inside a call on this hub (a
    // callback), which would wait for itself.
    void close() {
        if (depth().contains(this)) {
            throw Error(ErrorCode::conflict, "the hub cannot be closed from inside its own call");
        }
        std::optional<Hub> closing;
        {
            std::unique_lock lock(mutex_);
            closing_ = true;
            idle_.wait(lock, [this] { return active_ == 0; });
            closing.swap(hub_);
        }
        // Destroyed outside the lock: dropping the hub's Python listeners takes the GIL.
        closing.reset();
    }

    // Never blocks (it is read with the GIL held while close() may be waiting).
    bool closed() const { return closing_.load(); }

  private:
    // How many calls each handle has in progress on this thread.
    static std::unordered_map<const HubHandle*, int>& depth() {
        thread_local std::unordered_map<const HubHandle*, int> calls;
        return calls;
    }

    std::mutex mutex_;
    std::condition_variable idle_;
    std::atomic<bool> closing_ = false;  // written under mutex_
    int active_ = 0;                     // GUARDED_BY(mutex_)
    std::optional<Hub> hub_;
};

// What the service classes of the module hold: the shared handle.
struct ServiceRef {
    std::shared_ptr<HubHandle> handle;
};

// Runs `work(hub)` with the GIL released and the hub held open.
template <typename Work>
auto with_hub(const ServiceRef& service, Work&& work) {
    py::gil_scoped_release release;
    HubHandle::Use use(*service.handle);
    return std::forward<Work>(work)(use.hub());
}

}  // namespace sihlicon::python
