// SPDX-License-Identifier: Apache-2.0
#include "settlement/market.hpp"

#include "settlement/journal.hpp"

#include <sihlicon/checked.hpp>
#include <sihlicon/error.hpp>

#include <fmt/format.h>

namespace sihlicon::settlement {

namespace {

constexpr std::string_view kColumns =
    "id, type, buyer_hub, seller_hub, quantity, unit, unit_price, total, currency, status, "
    "reference, transfer_id, resolution_id, created_at, resolved_at";

MarketTransaction read_market(const store::Statement& row) {
    MarketTransaction t;
    const auto currency = Currency::of(row.column_text(8));
    t.id = row.column_text(0);
    t.type = parse_market_type(row.column_text(1));
    t.buyer_hub = row.column_text(2);
    t.seller_hub = row.column_text(3);
    t.quantity = row.column_int64(4);
    t.unit = row.column_text(5);
    t.unit_price = Money(row.column_int64(6), currency);
    t.total = Money(row.column_int64(7), currency);
    t.status = parse_market_status(row.column_text(9));
    t.reference = row.column_text(10);
    t.transfer_id = row.column_text(11);
    t.resolution_id = row.column_optional_text(12);
    t.created_at = Timestamp::from_ms(row.column_int64(13));
    if (const auto resolved = row.column_optional_int64(14)) {
        t.resolved_at = Timestamp::from_ms(*resolved);
    }
    return t;
}

void require_hub(store::Transaction& tx, std::string_view field, std::string_view hub_id) {
    auto row = tx.prepare("SELECT 1 FROM hubs WHERE id = ?");
    row.bind_all(hub_id);
    if (!row.step()) {
        throw Error(ErrorCode::not_found, fmt::format("no hub '{}'", hub_id), std::string(field));
    }
}

AccountRef operator_account(std::string_view hub_id, const Currency& currency) {
    return AccountRef{AccountKind::hub_operator, std::string(hub_id), currency};
}

}  // namespace

MarketTransaction create_market(store::Transaction& tx, const MarketRequest& request,
                                Timestamp now) {
    check_name("id", request.id, 200);
    check_name("buyer_hub", request.buyer_hub, 64);
    check_name("seller_hub", request.seller_hub, 64);
    if (!request.reference.empty()) {
        check_name("reference", request.reference, 256);
    }
    if (request.buyer_hub == request.seller_hub) {
        throw Error::invalid("seller_hub", request.seller_hub, "must differ from the buyer");
    }
    if (request.quantity <= 0) {
        throw Error::invalid("quantity", std::to_string(request.quantity), "must be above zero");
    }
    if (request.unit_price.minor_units() <= 0) {
        throw Error::invalid("unit_price", request.unit_price.to_string(), "must be above zero");
    }
    std::int64_t total = 0;
    if (__builtin_mul_overflow(request.quantity, request.unit_price.minor_units(), &total)) {
        throw Error::invalid("quantity", std::to_string(request.quantity),
                             fmt::format("times the unit price {} overflows the signed 64-bit "
                                         "range",
                                         request.unit_price.to_string()));
    }
    const auto currency = request.unit_price.currency();
    MarketTransaction t;
    t.id = request.id;
    t.type = request.type;
    t.buyer_hub = request.buyer_hub;
    t.seller_hub = request.seller_hub;
    t.quantity = request.quantity;
    t.unit = std::string(unit_of(request.type));
    t.unit_price = request.unit_price;
    t.total = Money(total, currency);
    t.status = MarketStatus::pending;
    t.reference = request.reference;
    t.transfer_id = fmt::format("market:{}:reserve", request.id);
    t.created_at = now;
    if (auto earlier = find_market(tx, request.id)) {
        const bool same = earlier->type == t.type && earlier->buyer_hub == t.buyer_hub &&
                          earlier->seller_hub == t.seller_hub && earlier->quantity == t.quantity &&
                          earlier->unit_price == t.unit_price && earlier->reference == t.reference;
        if (!same) {
            throw Error(
                ErrorCode::conflict,
                fmt::format("market transaction '{}' exists with different fields", request.id),
                "id");
        }
        earlier->exists = true;
        return *earlier;
    }
    require_hub(tx, "buyer_hub", request.buyer_hub);
    require_hub(tx, "seller_hub", request.seller_hub);
    TransferRequest reserve;
    reserve.id = t.transfer_id;
    reserve.debit = operator_account(t.buyer_hub, currency);
    reserve.credit = operator_account(t.seller_hub, currency);
    reserve.amount = t.total;
    reserve.kind = TransferKind::transfer;
    reserve.reference = fmt::format("market:{}", request.id);
    reserve.pending = true;
    create_transfer(tx, reserve, now);
    tx.prepare(fmt::format("INSERT INTO settlement_market_transactions ({}) VALUES (?, ?, ?, ?, "
                           "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           kColumns))
        .bind_all(t.id, to_string(t.type), t.buyer_hub, t.seller_hub, t.quantity, t.unit,
                  t.unit_price.minor_units(), total, currency.code(), to_string(t.status),
                  t.reference, t.transfer_id, std::optional<std::string>(), now.ms(),
                  std::optional<std::int64_t>())
        .run();
    return t;
}

MarketTransaction resolve_market(store::Transaction& tx, std::string_view id, bool settle,
                                 Timestamp now) {
    auto found = find_market(tx, id);
    if (!found) {
        throw Error(ErrorCode::not_found, fmt::format("no market transaction '{}'", id), "id");
    }
    const auto wanted = settle ? MarketStatus::settled : MarketStatus::cancelled;
    if (found->status == wanted) {
        found->exists = true;
        return *found;
    }
    if (found->status != MarketStatus::pending) {
        throw Error(
            ErrorCode::conflict,
            fmt::format("market transaction '{}' is already {}", id, to_string(found->status)),
            "id");
    }
    const auto resolution = fmt::format("market:{}:{}", id, settle ? "settle" : "cancel");
    resolve_pending(tx, resolution, found->transfer_id, std::nullopt, settle, now);
    tx.prepare(
          "UPDATE settlement_market_transactions SET status = ?, resolution_id = ?, "
          "resolved_at = ? WHERE id = ?")
        .bind_all(to_string(wanted), resolution, now.ms(), id)
        .run();
    found->status = wanted;
    found->resolution_id = resolution;
    found->resolved_at = now;
    return *found;
}

std::optional<MarketTransaction> find_market(store::Transaction& tx, std::string_view id) {
    auto row = tx.prepare(
        fmt::format("SELECT {} FROM settlement_market_transactions WHERE id = ?", kColumns));
    row.bind_all(id);
    if (!row.step()) {
        return std::nullopt;
    }
    return read_market(row);
}

std::vector<MarketTransaction> list_market(store::Transaction& tx, const MarketFilter& filter) {
    if (filter.limit < 1 || filter.limit > 10'000) {
        throw Error::invalid("limit", std::to_string(filter.limit), "must be 1 to 10,000");
    }
    std::optional<std::string_view> type;
    std::optional<std::string_view> status;
    if (filter.type) {
        type = to_string(*filter.type);
    }
    if (filter.status) {
        status = to_string(*filter.status);
    }
    auto rows = tx.prepare(fmt::format(
        "SELECT {} FROM settlement_market_transactions WHERE (? IS NULL OR buyer_hub = ? OR "
        "seller_hub = ?) AND (? IS NULL OR type = ?) AND (? IS NULL OR status = ?) "
        "ORDER BY id DESC LIMIT ?",
        kColumns));
    rows.bind_all(filter.hub, filter.hub, filter.hub, type, type, status, status, filter.limit);
    std::vector<MarketTransaction> result;
    while (rows.step()) {
        result.push_back(read_market(rows));
    }
    return result;
}

}  // namespace sihlicon::settlement
