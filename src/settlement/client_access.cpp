// SPDX-License-Identifier: Apache-2.0
//
// A client's reads of its own account for an acting principal, and the top-up body's codec
// (include/sihlicon/settlement.hpp).
#include "core/json.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/settlement.hpp>

#include <fmt/format.h>

namespace sihlicon {

namespace {

// The operator reads any account, anyone else only its own client account; another account
// is answered as one never used (Settlement::account's not_found).
void require_readable(const AccountRef& ref, std::string_view principal) {
    if (principal == kOperatorPrincipal ||
        (ref.kind == AccountKind::client && ref.owner == principal)) {
        return;
    }
    throw Error(ErrorCode::not_found, fmt::format("no account '{}'", ref.id()), "account");
}

}  // namespace

Account Settlement::account(const AccountRef& ref, std::string_view principal) const {
    require_readable(ref, principal);
    return account(ref);
}

std::vector<AccountEntry> Settlement::history(const AccountRef& ref, std::int64_t limit,
                                              std::string_view principal) const {
    require_readable(ref, principal);
    return history(ref, limit);
}

TopUpRequest TopUpRequest::from_json(std::string_view text, Currency currency) {
    const auto value = json::parse(text);
    json::ObjectReader reader(value, "");
    TopUpRequest request;
    request.amount = Money::parse(reader.required_string("amount", 64), currency, "amount");
    request.external_reference = reader.required_string("externalReference", kMaxReferenceBytes);
    reader.finish();
    return request;
}

}  // namespace sihlicon
