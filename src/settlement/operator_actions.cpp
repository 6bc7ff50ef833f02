// SPDX-License-Identifier: Apache-2.0
//
// The operator-only actions for an acting principal (settlement.hpp, heat_ledger.hpp): each
// checks the one rule (core/operator_only.hpp) before anything else, then does what the
// in-process form does.
#include "core/operator_only.hpp"

#include <sihlicon/heat_ledger.hpp>
#include <sihlicon/settlement.hpp>

namespace sihlicon {

using detail::require_operator;

HeatSettlement HeatLedger::settle(std::string_view by, std::string_view hub_id,
                                  Timestamp period_start, Timestamp period_end) {
    require_operator(by, "settle heat");
    return settle(hub_id, period_start, period_end);
}

CreditRate HeatLedger::set_credit_rate(std::string_view by, std::string_view hub_id,
                                       const Money& per_kwh, Timestamp effective_from) {
    require_operator(by, "set a credit rate");
    return set_credit_rate(hub_id, per_kwh, effective_from);
}

crypto::Address Settlement::generate_operator_key(std::string_view by, bool replace_signer) {
    require_operator(by, "replace the operator key");
    return generate_operator_key(replace_signer);
}

crypto::Address Settlement::import_operator_key(std::string_view by, const crypto::PrivateKey& key,
                                                bool replace_signer) {
    require_operator(by, "replace the operator key");
    return import_operator_key(key, replace_signer);
}

Transfer Settlement::top_up(std::string_view by, std::string_view client, const Money& amount,
                            std::string_view external_reference) {
    require_operator(by, "top up an account");
    return top_up(client, amount, external_reference);
}

Transfer Settlement::top_up(std::string_view by, const AccountRef& account, const Money& amount,
                            std::string_view external_reference) {
    require_operator(by, "top up an account");
    return top_up(account, amount, external_reference);
}

Transfer Settlement::withdraw(std::string_view by, AccountKind kind, std::string_view owner,
                              const Money& amount, std::string_view id,
                              std::string_view external_reference) {
    require_operator(by, "pay out of an account");
    return withdraw(kind, owner, amount, id, external_reference);
}

MarketTransaction Settlement::create_market_transaction(std::string_view by,
                                                        const MarketRequest& request) {
    require_operator(by, "create a market transaction");
    return create_market_transaction(request);
}

MarketTransaction Settlement::settle_market_transaction(std::string_view by, std::string_view id) {
    require_operator(by, "settle a market transaction");
    return settle_market_transaction(id);
}

MarketTransaction Settlement::cancel_market_transaction(std::string_view by, std::string_view id) {
    require_operator(by, "cancel a market transaction");
    return cancel_market_transaction(id);
}

EpochRecord Settlement::seal_epoch(std::string_view by) {
    require_operator(by, "seal an epoch");
    return seal_epoch();
}

std::optional<EpochRecord> Settlement::seal_due_epoch(std::string_view by) {
    require_operator(by, "seal an epoch");
    return seal_due_epoch();
}

}  // namespace sihlicon
