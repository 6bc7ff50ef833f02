// SPDX-License-Identifier: Apache-2.0
#include "core/utf8.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/text.hpp>

#include <array>
#include <utility>

namespace sihlicon {
namespace {

constexpr std::array<std::pair<ErrorCode, std::string_view>, 10> kErrorNames{{
    {ErrorCode::invalid_argument, "invalid_argument"},
    {ErrorCode::not_found, "not_found"},
    {ErrorCode::conflict, "conflict"},
    {ErrorCode::permission_denied, "permission_denied"},
    {ErrorCode::quota_exceeded, "quota_exceeded"},
    {ErrorCode::insufficient_funds, "insufficient_funds"},
    {ErrorCode::integrity, "integrity"},
    {ErrorCode::io, "io"},
    {ErrorCode::busy, "busy"},
    {ErrorCode::internal, "internal"},
}};

// Shows a user-supplied value safely inside a message: printable() (control characters and
// bytes that are not UTF-8 escaped, cut on a character boundary), with quotes escaped too.
std::string quote_value(std::string_view value) {
    constexpr std::size_t kMaxShown = 120;
    std::string out;
    for (const char c : printable(value, kMaxShown)) {
        if (c == '\'') {
            out += '\\';
        }
        out += c;
    }
    return out;
}

}  // namespace

std::string_view to_string(ErrorCode code) noexcept {
    for (const auto& [known, name] : kErrorNames) {
        if (known == code) {
            return name;
        }
    }
    return "internal";
}

ErrorCode error_code_from_string(std::string_view name) {
    for (const auto& [code, known] : kErrorNames) {
        if (known == name) {
            return code;
        }
    }
    throw Error::invalid("error code", name, "is not one of the sihlicon error codes");
}

Error::Error(ErrorCode code, const std::string& message, std::string field)
    : std::runtime_error(utf8::without_controls(message)),
      code_(code),
      field_(utf8::without_controls(field)) {}

Error Error::invalid(std::string_view field, std::string_view value, std::string_view problem) {
    std::string message;
    message.append(field).append(": ").append(problem);
    message.append(" (got '").append(quote_value(value)).append("')");
    return Error(ErrorCode::invalid_argument, message, std::string(field));
}

}  // namespace sihlicon
