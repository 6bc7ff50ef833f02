// SPDX-License-Identifier: Apache-2.0
//
// What the files of the native module sihlicon._core share: the conversions from the C++
// records to Python dicts (which the Python layer turns into dataclasses), the conversions of
// Python arguments to C++ values, and the helpers that release the GIL around the library's
// blocking work and take it back for Python callbacks.
#pragma once

#include <sihlicon/content_store.hpp>
#include <sihlicon/heat_ledger.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/scheduler.hpp>
#include <sihlicon/settlement.hpp>

#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace sihlicon::python {

namespace py = pybind11;

// Runs `work` with the GIL released and returns its result. Arguments must already be C++
// values; the result is converted to Python by the caller, with the GIL held again.
template <typename Work>
auto without_gil(Work&& work) {
    py::gil_scoped_release release;
    return std::forward<Work>(work)();
}

// A Python object that may be copied and destroyed on any thread, with or without the GIL:
// the shared_ptr's deleter takes the GIL to drop the reference. The library keeps callbacks in
// std::function objects that it may copy or destroy with the GIL released.
inline std::shared_ptr<py::object> hold(py::object object) {
    return std::shared_ptr<py::object>(new py::object(std::move(object)), [](py::object* held) {
        if (Py_IsInitialized() == 0) {
            return;  // the interpreter is gone: nothing may be touched any more
        }
        py::gil_scoped_acquire acquire;
        delete held;
    });
}

// A held Python callable; every call takes the GIL first.
class Callback {
  public:
    explicit Callback(py::object function) : function_(hold(std::move(function))) {}

    template <typename... Arguments>
    py::object operator()(Arguments&&... arguments) const {
        py::gil_scoped_acquire acquire;
        return (*function_)(std::forward<Arguments>(arguments)...);
    }

  private:
    std::shared_ptr<py::object> function_;
};

// ---- C++ records to Python dicts (keys are the dataclasses' field names) ----------------

py::object to_py(Timestamp value);
py::object to_py(const std::optional<Timestamp>& value);
py::object money_to_py(const Money& value);

py::dict to_py(const HubInfo& value);
py::dict to_py(const HubRecord& value);
py::dict to_py(const WorkerRecord& value);
py::dict to_py(const JobRecord& value);
py::dict to_py(const Lease& value);
py::dict to_py(const ClaimedJob& value);
py::dict to_py(const JobEvent& value);
py::dict to_py(const QueueStats& value);
py::dict to_py(const Placement& value);

py::dict to_py(const Manifest& value);
py::dict to_py(const NamedReference& value);
py::dict to_py(const ReplicaRecord& value);
py::dict to_py(const RepairAction& value);
py::dict to_py(const ScrubReport& value);
py::dict to_py(const Quota& value);

py::dict to_py(const HeatRecord& value);
py::dict to_py(const CreditRate& value);
py::dict to_py(const HeatCredit& value);
py::dict to_py(const HeatStats& value);
py::dict to_py(const HeatSettlement& value);
py::dict to_py(const HeatSeries& value);
py::dict to_py(const HeatGroupStats& value);
py::dict to_py(const HeatGroupSeries& value);

py::dict to_py(const Account& value);
py::dict to_py(const Transfer& value);
py::dict to_py(const AccountEntry& value);
py::dict to_py(const EpochRecord& value);
py::dict to_py(const EpochJob& value);
py::dict to_py(const Payout& value);
py::dict to_py(const EpochBundle& value);
py::dict to_py(const ReceiptCheck& value);
py::dict to_py(const JobCharge& value);
py::dict to_py(const MarketTransaction& value);
py::dict to_py(const Reputation& value);

template <typename T>
py::list to_py_list(const std::vector<T>& values) {
    py::list result;
    for (const auto& value : values) {
        result.append(to_py(value));
    }
    return result;
}

// ---- Python arguments to C++ values ------------------------------------------------------

std::optional<Timestamp> optional_timestamp(const std::optional<std::int64_t>& ms);
std::optional<Energy> optional_energy(const std::optional<std::int64_t>& mwh);
Money make_money(std::int64_t minor_units, std::string_view currency);

// A read-only contiguous view of a Python buffer-protocol object (bytes, bytearray,
// memoryview, array, ...), held while the library reads it with the GIL released. Throws
// (BufferError, TypeError) for objects without a contiguous buffer.
class InputBuffer {
  public:
    explicit InputBuffer(const py::object& object) {
        if (PyObject_GetBuffer(object.ptr(), &view_, PyBUF_SIMPLE) != 0) {
            throw py::error_already_set();
        }
    }
    InputBuffer(const InputBuffer&) = delete;
    InputBuffer& operator=(const InputBuffer&) = delete;
    ~InputBuffer() { PyBuffer_Release(&view_); }

    std::span<const std::uint8_t> bytes() const {
        return {static_cast<const std::uint8_t*>(view_.buf), static_cast<std::size_t>(view_.len)};
    }

  private:
    Py_buffer view_{};
};

// A read-only memoryview over `bytes`, which it owns: no copy is made.
py::memoryview owned_bytes(std::vector<std::uint8_t> bytes);

// Options from the dicts of the Python layer's SchedulerOptions / SettlementOptions. Their
// hub-wide fields are hub settings (include/sihlicon/settings.hpp): they go to `settings` (the
// initial settings of a new hub), or, with `settings_fixed`, must equal it (Scheduler.set_options
// changes only this process's options; a hub setting changes through Hub.set_setting).
void apply_scheduler_options(SchedulerOptions& options, HubSettings& settings,
                             const py::dict& values, bool settings_fixed);
py::dict scheduler_options_to_py(const SchedulerOptions& options, const HubSettings& settings);
void apply_settlement_options(SettlementOptions& options, HubSettings& settings,
                              const py::dict& values);
py::dict settlement_options_to_py(const HubSettings& settings);

// ---- the parts of the module, each defined in its own file -------------------------------

void bind_owned_bytes(py::module_& module);
void bind_scheduler(py::module_& module);
void bind_content_store(py::module_& module);
void bind_heat_ledger(py::module_& module);
void bind_settlement(py::module_& module);
void bind_power_meter(py::module_& module);
void bind_worker_agent(py::module_& module);
void bind_server(py::module_& module);

}  // namespace sihlicon::python
