// SPDX-License-Identifier: Apache-2.0
// Names of the settlement enumerations and the JSON shapes of its records.
#include <sihlicon/error.hpp>
#include <sihlicon/settlement.hpp>

#include <boost/json.hpp>

#include <array>
#include <utility>

namespace sihlicon {

namespace {

constexpr std::array<std::pair<AccountKind, std::string_view>, 10> kAccountKinds{{
    {AccountKind::client, "client"},
    {AccountKind::worker, "worker"},
    {AccountKind::hub_operator, "hub_operator"},
    {AccountKind::escrow, "escrow"},
    {AccountKind::treasury, "treasury"},
    {AccountKind::protocol_fee, "protocol_fee"},
    {AccountKind::operator_fee, "operator_fee"},
    {AccountKind::heat_credits, "heat_credits"},
    {AccountKind::model_royalties, "model_royalties"},
    {AccountKind::external, "external"},
}};

constexpr std::array<std::pair<TransferKind, std::string_view>, 10> kTransferKinds{{
    {TransferKind::deposit, "deposit"},
    {TransferKind::withdrawal, "withdrawal"},
    {TransferKind::job_charge, "job_charge"},
    {TransferKind::refund, "refund"},
    {TransferKind::payout, "payout"},
    {TransferKind::protocol_fee, "protocol_fee"},
    {TransferKind::operator_fee, "operator_fee"},
    {TransferKind::heat_credit, "heat_credit"},
    {TransferKind::royalty, "royalty"},
    {TransferKind::transfer, "transfer"},
}};

constexpr std::array<std::pair<MarketType, std::string_view>, 4> kMarketTypes{{
    {MarketType::compute, "compute"},
    {MarketType::storage, "storage"},
    {MarketType::heat, "heat"},
    {MarketType::energy, "energy"},
}};

constexpr std::array<std::pair<MarketStatus, std::string_view>, 3> kMarketStatuses{{
    {MarketStatus::pending, "pending"},
    {MarketStatus::settled, "settled"},
    {MarketStatus::cancelled, "cancelled"},
}};

template <class Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& table,
                         Enum value) noexcept {
    for (const auto& [candidate, name] : table) {
        if (candidate == value) {
            return name;
        }
    }
    return "unknown";
}

template <class Enum, std::size_t N>
Enum parse_name(const std::array<std::pair<Enum, std::string_view>, N>& table,
                std::string_view text, std::string_view field) {
    for (const auto& [candidate, name] : table) {
        if (name == text) {
            return candidate;
        }
    }
    throw Error::invalid(field, text, "is not a known name");
}

}  // namespace

std::string_view to_string(AccountKind value) noexcept {
    return name_of(kAccountKinds, value);
}
std::string_view to_string(TransferKind value) noexcept {
    return name_of(kTransferKinds, value);
}
std::string_view to_string(TransferStatus value) noexcept {
    switch (value) {
        case TransferStatus::posted:
            return "posted";
        case TransferStatus::pending:
            return "pending";
        case TransferStatus::voided:
            return "voided";
        case TransferStatus::expired:
            return "expired";
    }
    return "unknown";
}
std::string_view to_string(PayoutStatus value) noexcept {
    return value == PayoutStatus::paid ? "paid" : "pending";
}
std::string_view to_string(EpochStatus value) noexcept {
    switch (value) {
        case EpochStatus::active:
            return "active";
        case EpochStatus::sealing:
            return "sealing";
        case EpochStatus::finalized:
            return "finalized";
    }
    return "unknown";
}
AccountKind parse_account_kind(std::string_view text, std::string_view field) {
    return parse_name(kAccountKinds, text, field);
}
TransferKind parse_transfer_kind(std::string_view text, std::string_view field) {
    return parse_name(kTransferKinds, text, field);
}

std::string_view to_string(MarketType value) noexcept {
    return name_of(kMarketTypes, value);
}
std::string_view to_string(MarketStatus value) noexcept {
    return name_of(kMarketStatuses, value);
}
std::string_view unit_of(MarketType value) noexcept {
    switch (value) {
        case MarketType::compute:
            return "job";
        case MarketType::storage:
            return "GB-month";
        case MarketType::heat:
        case MarketType::energy:
            return "Wh";
    }
    return "unknown";
}
MarketType parse_market_type(std::string_view text, std::string_view field) {
    return parse_name(kMarketTypes, text, field);
}
MarketStatus parse_market_status(std::string_view text, std::string_view field) {
    return parse_name(kMarketStatuses, text, field);
}
std::string_view to_string(ReputationSubject value) noexcept {
    return value == ReputationSubject::worker ? "worker" : "hub";
}

std::string AccountRef::id() const {
    std::string id(to_string(kind));
    id += '/';
    id += owner;
    id += '/';
    id += currency.code();
    return id;
}

Money Account::available() const {
    return balance - pending_debits;
}

std::string Account::to_json() const {
    const boost::json::object object{
        {"account", ref.id()},
        {"kind", to_string(ref.kind)},
        {"owner", ref.owner},
        {"currency", ref.currency.code()},
        {"balance", balance.to_decimal_string()},
        {"pendingDebits", pending_debits.to_decimal_string()},
        {"pendingCredits", pending_credits.to_decimal_string()},
        {"available", available().to_decimal_string()},
    };
    return boost::json::serialize(object);
}

std::string Transfer::to_json() const {
    boost::json::object object{
        {"id", id},
        {"debitAccount", debit_account},
        {"creditAccount", credit_account},
        {"amount", amount.to_decimal_string()},
        {"currency", amount.currency().code()},
        {"kind", to_string(kind)},
        {"reference", reference},
        {"status", to_string(status)},
        {"createdAt", to_iso8601(created_at)},
        {"exists", exists},
    };
    if (pending_id) {
        object["pendingId"] = *pending_id;
    }
    if (timeout_at) {
        object["timeoutAt"] = to_iso8601(*timeout_at);
    }
    return boost::json::serialize(object);
}

std::string AccountEntry::to_json() const {
    const boost::json::object object{
        {"sequence", sequence},
        {"transferId", transfer_id},
        {"txType", to_string(kind)},
        {"amount", amount.to_decimal_string()},
        {"balanceAfter", balance_after.to_decimal_string()},
        {"currency", amount.currency().code()},
        {"reference", reference},
        {"createdAt", to_iso8601(at)},
    };
    return boost::json::serialize(object);
}

std::string EpochRecord::to_json() const {
    boost::json::object artifacts;
    for (const auto& [name, cid] : artifact_cids) {
        artifacts[name] = cid;
    }
    boost::json::object object{
        {"epoch_id", id},
        {"status", to_string(status)},
        {"start_time", to_iso8601(start)},
        {"jobs_count", jobs_count},
        {"jobs_merkle_root", jobs_merkle_root},
        {"total_revenue", revenue.to_decimal_string()},
        {"total_distributed", total_distributed.to_decimal_string()},
        {"currency", revenue.currency().code()},
        {"signature", signature},
        {"signer", signer},
        {"artifacts", artifacts},
    };
    object["end_time"] = end ? boost::json::value(to_iso8601(*end)) : boost::json::value(nullptr);
    object["previous_root"] =
        previous_root.empty() ? boost::json::value(nullptr) : boost::json::value(previous_root);
    return boost::json::serialize(object);
}

std::string JobCharge::to_json() const {
    const boost::json::object object{
        {"jobId", job_id},
        {"client", client},
        {"jobType", job_type},
        {"basePrice", base_price.to_decimal_string()},
        {"multiplierPpm", multiplier_ppm},
        {"price", price.to_decimal_string()},
        {"currency", price.currency().code()},
        {"queueDepth", queue_depth},
        {"utilisationPpm", utilisation_ppm},
        {"status", status},
    };
    return boost::json::serialize(object);
}

std::string MarketTransaction::to_json() const {
    const boost::json::object object{
        {"id", id},
        {"type", to_string(type)},
        {"buyerHub", buyer_hub},
        {"sellerHub", seller_hub},
        {"quantity", quantity},
        {"unit", unit},
        {"unitPrice", unit_price.to_decimal_string()},
        {"total", total.to_decimal_string()},
        {"currency", total.currency().code()},
        {"status", to_string(status)},
        {"reference", reference},
        {"transferId", transfer_id},
        {"resolutionId",
         resolution_id ? boost::json::value(*resolution_id) : boost::json::value(nullptr)},
        {"createdAt", to_iso8601(created_at)},
        {"resolvedAt",
         resolved_at ? boost::json::value(to_iso8601(*resolved_at)) : boost::json::value(nullptr)},
    };
    return boost::json::serialize(object);
}

std::string Reputation::to_json() const {
    const boost::json::object object{
        {"subject", to_string(subject)},
        {"id", id},
        {"attempts", attempts},
        {"successes", successes},
        {"onTime", on_time},
        {"uptimeMs", uptime_ms},
        {"observedMs", observed_ms},
        {"successRatePpm", success_rate_ppm},
        {"onTimeRatePpm", on_time_rate_ppm},
        {"uptimePpm", uptime_ppm},
        {"scorePpm", score_ppm},
    };
    return boost::json::serialize(object);
}

std::string Payout::to_json() const {
    const boost::json::object object{
        {"epoch_id", epoch_id},
        {"worker", worker_id},
        {"work_share", work_share.to_decimal_string()},
        {"readiness_share", readiness_share.to_decimal_string()},
        {"total_payout", total().to_decimal_string()},
        {"currency", work_share.currency().code()},
        {"jobs_completed", jobs_completed},
        {"uptime_ms", uptime_ms},
        {"status", to_string(status)},
    };
    return boost::json::serialize(object);
}

}  // namespace sihlicon
