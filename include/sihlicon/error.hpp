// SPDX-License-Identifier: Apache-2.0
//
// Errors. Every fallible operation of sihlicon throws sihlicon::Error; nothing else escapes
// the library except std::bad_alloc. An Error carries an ErrorCode that callers can branch on
// and a message that names the field and the value at fault.
//
// Thread safety: Error is an immutable value; copies may be shared between threads.
#pragma once

#include <sihlicon/export.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace sihlicon {

// What went wrong, from the caller's point of view. The numeric values are stable: the C ABI
// and the bindings mirror them.
enum class ErrorCode : int {
    invalid_argument = 1,    // the input is malformed or out of range; nothing was changed
    not_found = 2,           // the named object does not exist (or is not visible to the caller)
    conflict = 3,            // the request contradicts the current state (duplicate id, wrong
                             // state transition, stale lease, hub of a newer schema, ...)
    permission_denied = 4,   // the principal may not do this
    quota_exceeded = 5,      // a configured limit would be exceeded
    insufficient_funds = 6,  // an account balance would go below zero
    integrity = 7,           // stored data failed verification (corrupt database or block)
    io = 8,                  // the operating system refused a read or write (ENOSPC, EIO, ...)
    busy = 9,                // the hub stayed locked by another process beyond the busy timeout
    internal = 10,           // a bug in sihlicon; please report it
};

// "invalid_argument", "not_found", ... — the names used by the C ABI, the bindings and JSON.
SIHLICON_API std::string_view to_string(ErrorCode code) noexcept;

// Parses a name produced by to_string(ErrorCode). Throws Error(invalid_argument) otherwise.
SIHLICON_API ErrorCode error_code_from_string(std::string_view name);

class SIHLICON_API Error : public std::runtime_error {
  public:
    // `field` names the input at fault ("workloadConfig.resources.memory"), or is empty when
    // the error is not about one input. Both are stored as valid UTF-8 on one line: control
    // characters and bytes that are not UTF-8 are escaped ("\x0a", "\xff"), so a message
    // can neither forge a line nor fail to decode in a binding.
    Error(ErrorCode code, const std::string& message, std::string field = {});

    ErrorCode code() const noexcept { return code_; }
    const std::string& field() const noexcept { return field_; }

    // Error(invalid_argument) with the message "<field>: <problem> (got '<value>')".
    // The value is shown as printable() (text.hpp) writes it, quotes escaped, and cut on a
    // character boundary after 120 bytes.
    static Error invalid(std::string_view field, std::string_view value, std::string_view problem);

  private:
    ErrorCode code_;
    std::string field_;
};

}  // namespace sihlicon
