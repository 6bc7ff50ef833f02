// SPDX-License-Identifier: Apache-2.0
//
// What the C ABI's implementation files share: the handle structs behind the opaque types,
// the one guard that turns every C++ exception into a sih_status and the thread's last error,
// and the helpers that read C arguments and hand results back through out_* parameters.
// Not installed.
#pragma once

#include <sihlicon.h>

#include "core/json.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/money.hpp>
#include <sihlicon/server.hpp>
#include <sihlicon/time.hpp>
#include <sihlicon/worker_agent.hpp>

#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

// What a hub and the agents and servers created on it share, so that closing the hub stops
// its agents and servers first, and one destroyed after its hub was closed does not touch it.
struct sih_hub_agents {
    std::mutex mutex;
    std::set<sih_agent*> live;
    std::set<sih_server*> servers;
    bool closed = false;
};

struct sih_hub {
    sihlicon::Hub hub;
    std::shared_ptr<sih_hub_agents> agents = std::make_shared<sih_hub_agents>();
};

struct sih_clock {
    std::shared_ptr<sihlicon::ManualClock> clock;
};

struct sih_agent {
    std::shared_ptr<sih_hub_agents> agents;
    std::unique_ptr<sihlicon::WorkerAgent> agent;  // null once stopped by sih_hub_close
};

struct sih_server {
    std::shared_ptr<sih_hub_agents> agents;
    std::unique_ptr<sihlicon::Server> server;  // null once stopped (or by sih_hub_close)
};

struct sih_receipt_verifier {
    sihlicon::ReceiptVerifier verifier;
};

namespace sihlicon::capi {

// Thrown by the read/write adapters when a caller's callback asks to stop.
struct CallbackAborted {
    std::string message;
};

// Records the failure as this thread's last error and returns its status.
sih_status fail(sih_status status, std::string_view message, std::string_view field = {}) noexcept;

// Runs `body`; returns SIH_OK, or the status of what it threw with the last error set.
// No exception leaves it.
template <typename Body>
sih_status guard(Body&& body) noexcept {
    try {
        body();
        return SIH_OK;
    } catch (const Error& error) {
        return fail(static_cast<sih_status>(error.code()), error.what(), error.field());
    } catch (const CallbackAborted& aborted) {
        return fail(SIH_CALLBACK_ABORTED, aborted.message);
    } catch (const std::bad_alloc&) {
        return fail(SIH_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception& error) {
        return fail(SIH_INTERNAL, error.what());
    } catch (...) {
        return fail(SIH_INTERNAL, "an unknown exception");
    }
}

// The argument `field`, which may not be NULL. Throws Error::invalid naming it otherwise.
template <typename T>
T& required(T* pointer, std::string_view field) {
    if (pointer == nullptr) {
        throw Error::invalid(field, "NULL", "is required");
    }
    return *pointer;
}

// The integer a C caller stored in an enum-typed field or argument, read without loading it as
// the enum type: a C program may pass any int there, and loading a value outside a C++ enum's
// range is undefined behaviour. Switch on this, never on the enum itself.
template <typename Enum>
int raw(const Enum& value) noexcept {
    static_assert(sizeof(Enum) == sizeof(int));
    int number = 0;
    std::memcpy(&number, &value, sizeof number);
    return number;
}

// The C++ enumerator a C caller's enum value stands for. Only for the enums whose C values are
// the C++ enumerators' ordinals (static_asserts next to each use keep them so): 0..count-1.
// Throws Error::invalid(field, value, "must be a <type>") otherwise.
template <typename To, typename From>
To enum_from_c(const From& value, int count, std::string_view field, std::string_view type) {
    const int number = raw(value);
    if (number < 0 || number >= count) {
        throw Error::invalid(field, std::to_string(number), "must be a " + std::string(type));
    }
    return static_cast<To>(number);
}

// A required string argument (NULL is refused).
std::string_view text(const char* value, std::string_view field);
// An optional string argument: NULL is none.
std::optional<std::string> optional_text(const char* value);
// An optional instant or integer: SIH_NONE is none.
std::optional<std::int64_t> optional_integer(std::int64_t value);
// A checked options-struct version: `version` must be 1..latest.
void check_version(std::uint32_t version, std::uint32_t latest, std::string_view field);
// A list of C strings (NULL allowed only for an empty list).
std::vector<std::string> text_list(const char* const* values, std::size_t count,
                                   std::string_view field);

// An amount given as an exact decimal string in `currency`.
Money money(const char* amount, const Currency& currency, std::string_view field);

// A copy of `value` in memory for sih_free. Throws std::bad_alloc.
char* copy_string(std::string_view value);
// Hands `value` to the caller through `out` (when not NULL).
void give(char** out, std::string_view value);
template <typename T>
void give(T* out, T value) {
    if (out != nullptr) {
        *out = value;
    }
}

// Reads a JSON object argument (NULL: `{}`), for json::ObjectReader.
boost::json::value json_argument(const char* text, std::string_view field);
// A JSON array argument whose items are objects; throws naming the argument otherwise.
boost::json::array json_array_argument(const char* text, std::string_view field);

}  // namespace sihlicon::capi

namespace sihlicon::capi {

// Applies the options present in a JSON object to `options` (the keys of sih_hub_options).
void apply_scheduler_options(SchedulerOptions& options, const char* json, std::string_view field);

}  // namespace sihlicon::capi

namespace sihlicon::capi {

// An energy in kWh under `key`: an exact decimal string ("1.5") or a JSON number.
std::optional<Energy> optional_kwh(json::ObjectReader& reader, std::string_view key);

// The completion fields of an object whose other keys the caller reads: the core's codec
// (JobCompletion::from_json's fields, src/scheduler/job_spec.hpp), never one of the C ABI's.
JobCompletion completion_from(json::ObjectReader& reader);

}  // namespace sihlicon::capi
