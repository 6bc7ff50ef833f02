// SPDX-License-Identifier: Apache-2.0
//
// HubSettings: the one codec (to_json / from_json / with) and the one validation.
#include "core/json.hpp"
#include "core/text_units.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/scheduler.hpp>
#include <sihlicon/settings.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <charconv>

namespace sihlicon {

namespace {

constexpr std::int64_t kOne = 1'000'000;
constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
constexpr std::size_t kMaxPrices = 64;

void check_range(std::string_view key, std::int64_t value, std::int64_t min, std::int64_t max) {
    if (value < min || value > max) {
        throw Error::invalid(key, std::to_string(value), fmt::format("must be {} to {}", min, max));
    }
}

using text_units::parse_duration_ms;
using text_units::parse_integer;

enum class Kind { boolean, integer, duration, money, text, prices, optional_integer };

struct Key {
    std::string_view name;
    Kind kind;
};

constexpr Key kKeys[] = {
    {"chargeJobs", Kind::boolean},
    {"requireWorkerSignatures", Kind::boolean},
    {"currency", Kind::text},
    {"defaultPrice", Kind::money},
    {"prices", Kind::prices},
    {"protocolFeePpm", Kind::integer},
    {"operatorFeePpm", Kind::integer},
    {"workPoolPpm", Kind::integer},
    {"demandMinPpm", Kind::integer},
    {"demandMaxPpm", Kind::integer},
    {"demandFullQueueDepth", Kind::integer},
    {"epochDurationMs", Kind::duration},
    {"preferenceWindowMs", Kind::duration},
    {"submissionsPerHour", Kind::integer},
    {"apiRequestsPerHour", Kind::integer},
    {"agingIntervalMs", Kind::duration},
    {"heartbeatIntervalMs", Kind::duration},
    {"missedHeartbeats", Kind::integer},
    {"defaultUploadBytesPerHour", Kind::integer},
    {"defaultTotalBytes", Kind::optional_integer},
};

const Key* find_key(std::string_view name) {
    for (const auto& key : kKeys) {
        if (key.name == name) {
            return &key;
        }
    }
    return nullptr;
}

std::string known_keys() {
    std::string names;
    for (const auto& key : kKeys) {
        names += names.empty() ? "" : ", ";
        names += key.name;
    }
    return names;
}

// The JSON value of `text` for a key of `kind`, as `with` reads the CLI form.
boost::json::value value_of(const Key& key, std::string_view text) {
    const auto bad = [&](std::string_view what) {
        return Error::invalid(key.name, std::string(text), what);
    };
    switch (key.kind) {
        case Kind::boolean:
            if (text == "true" || text == "false") {
                return boost::json::value(text == "true");
            }
            throw bad("must be true or false");
        case Kind::integer:
            if (const auto number = parse_integer(text)) {
                return boost::json::value(*number);
            }
            throw bad("must be an integer");
        case Kind::optional_integer:
            if (text == "none" || text == "null") {
                return boost::json::value(nullptr);
            }
            if (const auto number = parse_integer(text)) {
                return boost::json::value(*number);
            }
            throw bad("must be an integer or none");
        case Kind::duration:
            return boost::json::value(parse_duration_ms(key.name, text));
        case Kind::money:
        case Kind::text:
            return boost::json::value(boost::json::string_view(text.data(), text.size()));
        case Kind::prices:
            return json::parse(text, key.name);
    }
    throw bad("has an unknown kind");
}

// The same decimal amount in `currency` ("0.100000" USD is 0.10 CHF). Throws Error::invalid
// naming `key` when it has more decimals than `currency` keeps.
Money redenominate(const Money& amount, Currency currency, std::string_view key) {
    auto text = amount.to_decimal_string();
    if (text.find('.') != std::string::npos) {
        text.erase(text.find_last_not_of('0') + 1);
        if (text.ends_with('.')) {
            text.pop_back();
        }
    }
    return Money::parse(text, currency, key);
}

}  // namespace

void HubSettings::validate() const {
    check_range("protocolFeePpm", protocol_fee_ppm, 0, kOne);
    check_range("operatorFeePpm", operator_fee_ppm, 0, kOne);
    check_range("workPoolPpm", work_pool_ppm, 0, kOne);
    if (protocol_fee_ppm + operator_fee_ppm > kOne) {
        throw Error::invalid(
            "operatorFeePpm", std::to_string(operator_fee_ppm),
            fmt::format("with protocolFeePpm {} exceeds 1,000,000 ppm", protocol_fee_ppm));
    }
    check_range("demandMinPpm", demand_min_ppm, 1, 100 * kOne);
    check_range("demandMaxPpm", demand_max_ppm, demand_min_ppm, 100 * kOne);
    check_range("demandFullQueueDepth", demand_full_queue_depth, 1, kOne);
    check_range("epochDurationMs", epoch_duration_ms, 1, 3650 * kDayMs);
    check_range("preferenceWindowMs", preference_window.count(), 0, kDayMs);
    check_range("submissionsPerHour", submissions_per_hour, 0, 1'000'000'000);
    check_range("apiRequestsPerHour", api_requests_per_hour, 0, 1'000'000'000);
    check_range("agingIntervalMs", aging_interval.count(), 1, 365 * kDayMs);
    check_range("heartbeatIntervalMs", heartbeat_interval.count(), 1, kDayMs);
    check_range("missedHeartbeats", missed_heartbeats, 1, 1000);
    check_range("defaultUploadBytesPerHour", default_upload_bytes_per_hour, 0, INT64_MAX);
    if (default_total_bytes) {
        check_range("defaultTotalBytes", *default_total_bytes, 0, INT64_MAX);
    }
    const auto check_price = [&](std::string_view key, const Money& price) {
        if (price.currency() != currency || price.minor_units() < 0) {
            throw Error::invalid(
                key, price.to_string(),
                fmt::format("must be a non-negative amount in {}", currency.code()));
        }
    };
    check_price("defaultPrice", default_price);
    if (prices.size() > kMaxPrices) {
        throw Error::invalid("prices", std::to_string(prices.size()) + " entries",
                             fmt::format("may hold at most {} job types", kMaxPrices));
    }
    for (const auto& [type, price] : prices) {
        parse_job_type(type, fmt::format("prices.{}", type));
        check_price(fmt::format("prices.{}", type), price);
    }
}

std::string HubSettings::to_json() const {
    std::map<std::string, std::string> table;
    for (const auto& [type, price] : prices) {
        table.emplace(type, price.to_decimal_string());
    }
    json::ObjectWriter writer;
    writer.field("chargeJobs", charge_jobs)
        .field("requireWorkerSignatures", require_worker_signatures)
        .field("currency", std::string(currency.code()))
        .field("defaultPrice", default_price.to_decimal_string())
        .field("prices", table)
        .field("protocolFeePpm", protocol_fee_ppm)
        .field("operatorFeePpm", operator_fee_ppm)
        .field("workPoolPpm", work_pool_ppm)
        .field("demandMinPpm", demand_min_ppm)
        .field("demandMaxPpm", demand_max_ppm)
        .field("demandFullQueueDepth", demand_full_queue_depth)
        .field("epochDurationMs", epoch_duration_ms)
        .field("preferenceWindowMs", static_cast<std::int64_t>(preference_window.count()))
        .field("submissionsPerHour", submissions_per_hour)
        .field("apiRequestsPerHour", api_requests_per_hour)
        .field("agingIntervalMs", static_cast<std::int64_t>(aging_interval.count()))
        .field("heartbeatIntervalMs", static_cast<std::int64_t>(heartbeat_interval.count()))
        .field("missedHeartbeats", missed_heartbeats)
        .field("defaultUploadBytesPerHour", default_upload_bytes_per_hour);
    if (default_total_bytes) {
        writer.field("defaultTotalBytes", *default_total_bytes);
    } else {
        writer.field("defaultTotalBytes", nullptr);
    }
    return writer.finish();
}

HubSettings HubSettings::from_json(std::string_view text, const HubSettings& base) {
    const auto value = json::parse(text, "settings");
    json::ObjectReader reader(value, "");
    // Null means "none" for defaultTotalBytes only; for any other key it is refused, not
    // taken as absent.
    bool total_none = false;
    for (const auto& [key, member] : value.as_object()) {
        if (!member.is_null()) {
            continue;
        }
        if (key != "defaultTotalBytes") {
            throw Error::invalid(std::string_view(key), "null", "may not be null");
        }
        total_none = true;
    }
    HubSettings next = base;
    constexpr std::int64_t kMax = INT64_MAX;
    // The currency first: the prices are read in it.
    if (auto code = reader.optional_string("currency", 16)) {
        next.currency = Currency::of(*code);
        next.default_price = redenominate(next.default_price, next.currency, "defaultPrice");
        for (auto& [type, price] : next.prices) {
            price = redenominate(price, next.currency, fmt::format("prices.{}", type));
        }
    }
    next.charge_jobs = reader.optional_bool("chargeJobs").value_or(next.charge_jobs);
    next.require_worker_signatures =
        reader.optional_bool("requireWorkerSignatures").value_or(next.require_worker_signatures);
    if (auto price = reader.optional_string("defaultPrice", 40)) {
        next.default_price = Money::parse(*price, next.currency, "defaultPrice");
    }
    if (auto table = reader.optional_string_map("prices", kMaxPrices, 40)) {
        next.prices.clear();
        for (const auto& [type, price] : *table) {
            const auto key = fmt::format("prices.{}", type);
            parse_job_type(type, key);
            next.prices.insert_or_assign(type, Money::parse(price, next.currency, key));
        }
    }
    const auto integer = [&](std::string_view key, std::int64_t current) {
        return reader.optional_int64(key, INT64_MIN, kMax).value_or(current);
    };
    const auto duration = [&](std::string_view key, std::chrono::milliseconds current) {
        return std::chrono::milliseconds(integer(key, current.count()));
    };
    next.protocol_fee_ppm = integer("protocolFeePpm", next.protocol_fee_ppm);
    next.operator_fee_ppm = integer("operatorFeePpm", next.operator_fee_ppm);
    next.work_pool_ppm = integer("workPoolPpm", next.work_pool_ppm);
    next.demand_min_ppm = integer("demandMinPpm", next.demand_min_ppm);
    next.demand_max_ppm = integer("demandMaxPpm", next.demand_max_ppm);
    next.demand_full_queue_depth = integer("demandFullQueueDepth", next.demand_full_queue_depth);
    next.epoch_duration_ms = integer("epochDurationMs", next.epoch_duration_ms);
    next.preference_window = duration("preferenceWindowMs", next.preference_window);
    next.submissions_per_hour = integer("submissionsPerHour", next.submissions_per_hour);
    next.api_requests_per_hour = integer("apiRequestsPerHour", next.api_requests_per_hour);
    next.aging_interval = duration("agingIntervalMs", next.aging_interval);
    next.heartbeat_interval = duration("heartbeatIntervalMs", next.heartbeat_interval);
    next.missed_heartbeats = integer("missedHeartbeats", next.missed_heartbeats);
    next.default_upload_bytes_per_hour =
        integer("defaultUploadBytesPerHour", next.default_upload_bytes_per_hour);
    if (total_none) {
        next.default_total_bytes.reset();
    }
    if (const auto* total = reader.optional_value("defaultTotalBytes")) {
        if (total->is_int64()) {
            next.default_total_bytes = total->as_int64();
        } else {
            throw Error::invalid("defaultTotalBytes", json::serialize(*total),
                                 "must be an integer or null");
        }
    }
    reader.finish();
    next.validate();
    return next;
}

HubSettings HubSettings::from_json(std::string_view text) {
    return from_json(text, HubSettings{});
}

HubSettings HubSettings::with(std::string_view key, std::string_view value_text) const {
    if (key.starts_with("prices.")) {
        const auto type = std::string(key.substr(7));
        auto table = boost::json::object();
        for (const auto& [name, price] : prices) {
            table[name] = price.to_decimal_string();
        }
        if (value_text == "none") {
            table.erase(type);
        } else {
            parse_job_type(type, key);
            table[type] = Money::parse(value_text, currency, key).to_decimal_string();
        }
        boost::json::object patch;
        patch["prices"] = std::move(table);
        return from_json(json::serialize(patch), *this);
    }
    const auto* found = find_key(key);
    if (found == nullptr) {
        throw Error::invalid(
            "key", std::string(key),
            fmt::format("is not a hub setting (settings: {}, prices.TYPE)", known_keys()));
    }
    boost::json::object patch;
    patch[found->name] = value_of(*found, value_text);
    try {
        return from_json(json::serialize(patch), *this);
    } catch (const Error& error) {
        // The range checks name the value read ("172800000"); the caller wrote "2d".
        throw Error(error.code(), fmt::format("{} (given as '{}')", error.what(), value_text),
                    error.field());
    }
}

std::string SettingsChange::to_json() const {
    json::ObjectWriter writer;
    writer.field("seq", seq)
        .field("at", at.ms())
        .field("by", by)
        .field("key", key)
        .field("old", json::parse(old_value, "old"))
        .field("new", json::parse(new_value, "new"));
    return writer.finish();
}

}  // namespace sihlicon
