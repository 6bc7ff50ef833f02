// SPDX-License-Identifier: Apache-2.0
//
// Principals: who acts. A principal is a non-empty string the host authenticates (a user id,
// an agent address); an empty principal is the anonymous caller. Every library call that acts
// for someone takes the acting principal and checks it in the core.
#pragma once

#include <string_view>

namespace sihlicon {

// The hub operator: the one principal the library trusts to administer a hub. Where a call
// grants it more than other principals, its contract says so (e.g. community membership in
// content_store.hpp). Hosts must never authenticate a remote user as this principal; the local
// `sihlicon` CLI acts as it by default where an operator acts (`community`, `job cancel --by`).
// The one remote way to act as it is an API token of role operator (tokens.hpp), which only
// this principal can create; no token of another role can name it.
inline constexpr std::string_view kOperatorPrincipal = "operator";

}  // namespace sihlicon
