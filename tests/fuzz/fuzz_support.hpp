// SPDX-License-Identifier: Apache-2.0
//
// What the libFuzzer targets share. A target feeds arbitrary bytes to one parser and requires
// that it either succeeds or throws sihlicon::Error: any other exception, a crash, a leak or
// undefined behaviour (the fuzz build runs with AddressSanitizer and UBSan) is a finding.
#pragma once

#include <sihlicon/error.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>
#include <string_view>

namespace sihlicon::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

inline std::span<const std::uint8_t> as_bytes(const std::uint8_t* data, std::size_t size) {
    return {data, size};
}

// Runs `parse`; sihlicon::Error is the documented way to refuse input, anything else aborts.
template <typename Parse>
void refuse_only_with_error(Parse&& parse) {
    try {
        parse();
    } catch (const Error&) {
    } catch (const std::exception& error) {
        std::fprintf(stderr, "escaped a parser: %s\n", error.what());
        std::abort();
    }
}

// A property the parser promised did not hold.
inline void require(bool holds, const char* what) {
    if (!holds) {
        std::fprintf(stderr, "broken promise: %s\n", what);
        std::abort();
    }
}

}  // namespace sihlicon::fuzz
