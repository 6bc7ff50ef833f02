// SPDX-License-Identifier: Apache-2.0
//
// What an action fails with; the test fails if it does not throw sihlicon::Error.
#pragma once

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>

#include <functional>

namespace sihlicon::testing {

inline ErrorCode error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& error) {
        return error.code();
    }
    FAIL("expected an Error");
    return ErrorCode::internal;
}

// The Error itself, for tests that check its field or message too.
inline Error error_from(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& error) {
        return error;
    }
    FAIL("expected an Error");
    return Error(ErrorCode::internal, "unreachable");
}

}  // namespace sihlicon::testing
