// SPDX-License-Identifier: Apache-2.0
#include <sihlicon/error.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
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

// Shows a user-supplied value safely inside a message: control bytes escaped, long values cut.
std::string quote_value(std::string_view value) {
    constexpr std::size_t kMaxShown = 120;
    std::string out;
    out.reserve(std::min(value.size(), kMaxShown) + 8);
    for (std::size_t i = 0; i < value.size() && i < kMaxShown; ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        if (c == '\\' || c == '\'') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\x%02x", c);
            out += buffer;
        } else {
            out += static_cast<char>(c);
        }
    }
    if (value.size() > kMaxShown) {
        out += "...";
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
    : std::runtime_error(message), code_(code), field_(std::move(field)) {}

Error Error::invalid(std::string_view field, std::string_view value, std::string_view problem) {
    std::string message;
    message.append(field).append(": ").append(problem);
    message.append(" (got '").append(quote_value(value)).append("')");
    return Error(ErrorCode::invalid_argument, message, std::string(field));
}

}  // namespace sihlicon
