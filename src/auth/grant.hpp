// SPDX-License-Identifier: Apache-2.0
//
// What a credential (an API token, a registered address) grants: a principal, a role and, for
// role worker, the worker it acts as. One rule for both. Not installed.
#pragma once

#include <sihlicon/tokens.hpp>

#include <string_view>

namespace sihlicon::auth {

// Throws invalid_argument naming "principal" (empty, longer than ApiTokens::kMaxNameBytes, not
// plain text, or kOperatorPrincipal with a role other than operator) or "workerId" (missing
// for role worker, given for another role, too long, not plain text).
void check_grant(std::string_view principal, Role role, std::string_view worker_id);

}  // namespace sihlicon::auth
