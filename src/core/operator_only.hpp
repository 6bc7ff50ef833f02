// SPDX-License-Identifier: Apache-2.0
//
// The one rule of the operator-only actions (settling heat, top-ups, seals, payouts, the
// operator key, credit rates, marketplace transactions): only kOperatorPrincipal may act.
// Not installed.
#pragma once

#include <sihlicon/error.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>

#include <string_view>

namespace sihlicon::detail {

// Throws Error(permission_denied, field "by") naming `action` and `by` unless `by` is the
// hub's operator principal.
inline void require_operator(std::string_view by, std::string_view action) {
    if (by != kOperatorPrincipal) {
        throw Error(ErrorCode::permission_denied,
                    fmt::format("only the operator may {} (by '{}')", action, printable(by, 120)),
                    "by");
    }
}

}  // namespace sihlicon::detail
