// SPDX-License-Identifier: Apache-2.0
//
// HubHandle: the open Hub that the Python objects Hub, Scheduler, ContentStore, HeatLedger
// and Settlement share. Every call holds it shared for as long as it uses the hub; close()
// holds it exclusively, so a hub is never destroyed under a call running on another thread
// (the C++ Hub's destructor requires that no other thread uses it).
#pragma once

#include "common.hpp"

#include <shared_mutex>

namespace sihlicon::python {

class HubHandle {
  public:
    explicit HubHandle(Hub hub) : hub_(std::move(hub)) {}

    // A shared hold on the open hub. Take it with the GIL released: close() may be waiting.
    class Use {
      public:
        explicit Use(HubHandle& handle) : lock_(handle.mutex_), hub_(handle.hub_) {
            if (!hub_) {
                throw Error(ErrorCode::conflict, "the hub is closed");
            }
        }
        Hub& hub() const { return *hub_; }

      private:
        std::shared_lock<std::shared_mutex> lock_;
        std::optional<Hub>& hub_;
    };

    // Waits for the calls in progress, then closes the hub. Closing twice does nothing.
    void close() {
        std::unique_lock lock(mutex_);
        hub_.reset();
    }

    bool closed() {
        std::shared_lock lock(mutex_);
        return !hub_.has_value();
    }

  private:
    std::shared_mutex mutex_;
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
