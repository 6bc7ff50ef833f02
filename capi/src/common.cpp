// SPDX-License-Identifier: Apache-2.0
//
// The ABI's common part: version, status names, the thread's last error, memory, clocks.
#include "capi_internal.hpp"
#include "scheduler/job_spec.hpp"

#include <sihlicon/version.hpp>

#include <cstdlib>
#include <cstring>

namespace sihlicon::capi {

namespace {

struct LastError {
    sih_status status = SIH_OK;
    std::string message;
    std::string field;
};

LastError& last_error() {
    thread_local LastError error;
    return error;
}

}  // namespace

sih_status fail(sih_status status, std::string_view message, std::string_view field) noexcept {
    auto& error = last_error();
    error.status = status;
    try {
        error.message.assign(message);
        error.field.assign(field);
    } catch (...) {
        error.message.clear();
        error.field.clear();
    }
    return status;
}

std::string_view text(const char* value, std::string_view field) {
    return &required(value, field);
}

std::optional<std::string> optional_text(const char* value) {
    if (value == nullptr) {
        return std::nullopt;
    }
    return std::string(value);
}

std::optional<std::int64_t> optional_integer(std::int64_t value) {
    if (value == SIH_NONE) {
        return std::nullopt;
    }
    return value;
}

void check_version(std::uint32_t version, std::uint32_t latest, std::string_view field) {
    if (version < 1 || version > latest) {
        throw Error::invalid(field, std::to_string(version),
                             "is not a version this library knows (1.." + std::to_string(latest) +
                                 "); initialise the struct with its _INIT macro or _init()");
    }
}

std::vector<std::string> text_list(const char* const* values, std::size_t count,
                                   std::string_view field) {
    std::vector<std::string> list;
    if (count == 0) {
        return list;
    }
    required(values, field);
    list.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        list.emplace_back(text(values[i], std::string(field) + "[" + std::to_string(i) + "]"));
    }
    return list;
}

Money money(const char* amount, const Currency& currency, std::string_view field) {
    return Money::parse(text(amount, field), currency, field);
}

std::optional<Energy> optional_kwh(json::ObjectReader& reader, std::string_view key) {
    return sihlicon::scheduler::optional_kwh(reader, key);
}

JobCompletion completion_from(json::ObjectReader& reader) {
    return sihlicon::scheduler::completion_from(reader);
}

char* copy_string(std::string_view value) {
    auto* copy = static_cast<char*>(std::malloc(value.size() + 1));
    if (copy == nullptr) {
        throw std::bad_alloc();
    }
    std::memcpy(copy, value.data(), value.size());
    copy[value.size()] = '\0';
    return copy;
}

void give(char** out, std::string_view value) {
    if (out != nullptr) {
        *out = copy_string(value);
    }
}

boost::json::value json_argument(const char* text, std::string_view field) {
    if (text == nullptr) {
        return boost::json::object();
    }
    return json::parse(text, field);
}

boost::json::array json_array_argument(const char* text, std::string_view field) {
    auto value = json::parse(capi::text(text, field), field);
    if (!value.is_array()) {
        throw Error::invalid(field, std::string(text).substr(0, 64), "must be a JSON array");
    }
    return std::move(value.as_array());
}

}  // namespace sihlicon::capi

using namespace sihlicon;

extern "C" {

const char* sih_version(void) {
    return library_version();
}

const char* sih_status_name(sih_status status) {
    switch (capi::raw(status)) {
        case SIH_OK:
            return "ok";
        case SIH_OUT_OF_MEMORY:
            return "out_of_memory";
        case SIH_CALLBACK_ABORTED:
            return "callback_aborted";
        default:
            break;
    }
    if (capi::raw(status) >= SIH_INVALID_ARGUMENT && capi::raw(status) <= SIH_INTERNAL) {
        return to_string(static_cast<ErrorCode>(capi::raw(status))).data();
    }
    return "unknown";
}

const char* sih_last_error(void) {
    return capi::last_error().message.c_str();
}

sih_status sih_last_error_code(void) {
    return capi::last_error().status;
}

const char* sih_last_error_field(void) {
    return capi::last_error().field.c_str();
}

void sih_free(void* memory) {
    std::free(memory);
}

sih_status sih_clock_new_manual(int64_t start_ms, sih_clock** out_clock) {
    return capi::guard([&] {
        capi::required(out_clock, "out_clock");
        auto clock = std::make_unique<sih_clock>();
        clock->clock = std::make_shared<ManualClock>(Timestamp::from_ms(start_ms));
        *out_clock = clock.release();
    });
}

sih_status sih_clock_set(sih_clock* clock, int64_t ms) {
    return capi::guard([&] { capi::required(clock, "clock").clock->set(Timestamp::from_ms(ms)); });
}

sih_status sih_clock_advance(sih_clock* clock, int64_t delta_ms) {
    return capi::guard([&] {
        capi::required(clock, "clock").clock->advance(std::chrono::milliseconds(delta_ms));
    });
}

sih_status sih_clock_now(const sih_clock* clock, int64_t* out_ms) {
    return capi::guard(
        [&] { capi::give(out_ms, capi::required(clock, "clock").clock->now().ms()); });
}

void sih_clock_destroy(sih_clock** clock) {
    if (clock != nullptr) {
        delete *clock;
        *clock = nullptr;
    }
}

}  // extern "C"
