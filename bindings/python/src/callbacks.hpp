// SPDX-License-Identifier: Apache-2.0
//
// Python callables the library calls back with the GIL released around it: byte sources and
// sinks (file objects), progress reports. A Python exception raised inside one is kept and
// re-raised unchanged once the library call has unwound; the library itself sees an
// Error(io) so that it cleans up as for any failed read or write.
#pragma once

#include "common.hpp"

#include <exception>
#include <mutex>

namespace sihlicon::python {

class CallbackErrors {
  public:
    // Runs `body` (which calls into Python) with the GIL held. A Python exception is stored
    // and becomes Error(io) for the library.
    template <typename Body>
    auto run(Body&& body) {
        py::gil_scoped_acquire acquire;
        try {
            return std::forward<Body>(body)();
        } catch (py::error_already_set& error) {
            std::lock_guard lock(mutex_);
            if (!pending_) {
                pending_ = std::make_shared<py::error_already_set>(std::move(error));
            }
            throw Error(ErrorCode::io, "a Python callback raised an exception");
        }
    }

    // Calls `call` (a library call that may call back) and re-raises a stored Python
    // exception in place of whatever the library threw. REQUIRES: the GIL is held.
    template <typename Call>
    auto invoke(Call&& call) {
        try {
            return std::forward<Call>(call)();
        } catch (...) {
            rethrow_pending();
            throw;
        }
    }

  private:
    void rethrow_pending() {
        std::shared_ptr<py::error_already_set> pending;
        {
            std::lock_guard lock(mutex_);
            pending = std::move(pending_);
        }
        if (pending) {
            pending->restore();
            throw py::error_already_set();
        }
    }

    std::mutex mutex_;
    std::shared_ptr<py::error_already_set> pending_;
};

// A readable Python object: readinto(buffer) when it has it, else read(n).
ContentStore::ByteSource python_source(py::object reader,
                                       const std::shared_ptr<CallbackErrors>& errors);
// A callable taking a memoryview of consecutive bytes (e.g. a file's write).
ContentStore::ByteSink python_sink(py::object write, const std::shared_ptr<CallbackErrors>& errors);
// A callable taking the bytes done so far; none: no progress reports.
ContentStore::Progress python_progress(const std::optional<py::function>& progress,
                                       const std::shared_ptr<CallbackErrors>& errors);

}  // namespace sihlicon::python
