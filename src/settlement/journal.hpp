// SPDX-License-Identifier: Apache-2.0
//
// The double-entry journal inside a caller's write transaction, so a job's state change and
// its money movement commit together. Settlement's public methods wrap these. Not installed.
#pragma once

#include "store/database.hpp"

#include <sihlicon/settlement.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace sihlicon::settlement {

// Checks an account owner or transfer id: 1..max characters of [A-Za-z0-9._:@/-].
void check_name(std::string_view field, std::string_view text, std::size_t max);

// Checks an account owner: 1..128 bytes of plain text (require_plain_text: no control or
// bidi characters; a scheduler owner, a
// worker or hub id). The account id "kind/owner/currency" stays unambiguous: the kind ends at
// the first '/', the currency starts after the last.
void check_owner(std::string_view field, std::string_view text);

// Creates the transfer (see Settlement::transfer). REQUIRES: `tx` is a write transaction.
Transfer create_transfer(store::Transaction& tx, const TransferRequest& request, Timestamp now);

// Posts (`post`, capturing `amount` or all) or voids the pending transfer `pending_id` as
// transfer `id`. REQUIRES: `tx` is a write transaction.
Transfer resolve_pending(store::Transaction& tx, std::string_view id, std::string_view pending_id,
                         std::optional<std::int64_t> amount, bool post, Timestamp now);

// Expires pending transfers whose timeout is at or before `now`; returns how many.
std::int64_t expire_pending(store::Transaction& tx, Timestamp now);

std::optional<Transfer> find_transfer(store::Transaction& tx, std::string_view id);
std::optional<Account> find_account(store::Transaction& tx, std::string_view account_id);

}  // namespace sihlicon::settlement
