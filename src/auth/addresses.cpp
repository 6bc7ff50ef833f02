// SPDX-License-Identifier: Apache-2.0
//
// The addresses registered for signed requests (include/sihlicon/request_signing.hpp) over the
// api_addresses table (auth/schema.hpp).
#include "auth/grant.hpp"
#include "core/operator_only.hpp"
#include "hub/hub_internal.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/request_signing.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>

namespace sihlicon {

namespace {

// The stored form: "0x" + 40 lowercase hex digits.
std::string key_of(const crypto::Address& address) {
    auto text = address.to_string();
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

const char* const kColumns =
    "SELECT address, principal, role, worker_id, created_at, revoked_at FROM api_addresses";

AddressRecord record_from(const store::Statement& row) {
    AddressRecord record;
    record.address =
        crypto::Address::parse(row.column_text_view(0), "api_addresses.address").to_string();
    record.principal = row.column_text(1);
    record.role = parse_role(row.column_text_view(2), "api_addresses.role");
    record.worker_id = row.column_optional_text(3).value_or("");
    record.created_at = Timestamp::from_ms(row.column_int64(4));
    if (const auto revoked = row.column_optional_int64(5)) {
        record.revoked_at = Timestamp::from_ms(*revoked);
    }
    return record;
}

std::optional<AddressRecord> find_address(store::Transaction& tx, const std::string& key) {
    auto statement = tx.prepare(std::string(kColumns) + " WHERE address = ?");
    statement.bind_all(key);
    if (!statement.step()) {
        return std::nullopt;
    }
    return record_from(statement);
}

}  // namespace

std::string AddressRecord::to_json() const {
    const auto time_or_null = [](const std::optional<Timestamp>& time) -> boost::json::value {
        return time ? boost::json::value(to_iso8601(*time)) : boost::json::value(nullptr);
    };
    const boost::json::object object{
        {"address", address},
        {"principal", principal},
        {"role", to_string(role)},
        {"workerId",
         worker_id.empty() ? boost::json::value(nullptr) : boost::json::value(worker_id)},
        {"createdAt", to_iso8601(created_at)},
        {"revokedAt", time_or_null(revoked_at)},
    };
    return boost::json::serialize(object);
}

ApiAddresses::ApiAddresses(const Hub& hub) : hub_(&hub) {}

AddressRecord ApiAddresses::add(std::string_view by, const crypto::Address& address,
                                std::string_view principal, Role role, std::string_view worker_id) {
    detail::require_operator(by, "add request-signing addresses");
    auth::check_grant(principal, role, worker_id);
    const auto key = key_of(address);
    auto& core = HubAccess::core(*hub_);
    return core.database->write([&](store::Transaction& tx) {
        if (const auto existing = find_address(tx, key); existing && !existing->revoked_at) {
            throw Error(ErrorCode::conflict,
                        fmt::format("the address {} is registered to '{}' already: remove it "
                                    "first",
                                    existing->address, printable(existing->principal, 120)),
                        "address");
        }
        const std::optional<std::string> worker =
            worker_id.empty() ? std::nullopt : std::optional<std::string>(worker_id);
        tx.prepare(
              "INSERT OR REPLACE INTO api_addresses "
              "(address, principal, role, worker_id, created_at, revoked_at) "
              "VALUES (?, ?, ?, ?, ?, NULL)")
            .bind_all(key, principal, to_string(role), worker, core.now().ms())
            .run();
        return *find_address(tx, key);
    });
}

std::vector<AddressRecord> ApiAddresses::list(std::string_view by) const {
    detail::require_operator(by, "list request-signing addresses");
    return HubAccess::database(*hub_).read([](store::Transaction& tx) {
        std::vector<AddressRecord> records;
        auto statement = tx.prepare(std::string(kColumns) + " ORDER BY address");
        while (statement.step()) {
            records.push_back(record_from(statement));
        }
        return records;
    });
}

AddressRecord ApiAddresses::remove(std::string_view by, const crypto::Address& address) {
    detail::require_operator(by, "remove request-signing addresses");
    const auto key = key_of(address);
    auto& core = HubAccess::core(*hub_);
    return core.database->write([&](store::Transaction& tx) {
        tx.prepare(
              "UPDATE api_addresses SET revoked_at = ? WHERE address = ? AND "
              "revoked_at IS NULL")
            .bind_all(core.now().ms(), key)
            .run();
        auto record = find_address(tx, key);
        if (!record) {
            throw Error(ErrorCode::not_found,
                        fmt::format("no registered address {}", address.to_string()), "address");
        }
        return *record;
    });
}

std::optional<Identity> ApiAddresses::identity_of(const crypto::Address& address) const {
    const auto key = key_of(address);
    return HubAccess::database(*hub_).read([&](store::Transaction& tx) -> std::optional<Identity> {
        const auto record = find_address(tx, key);
        if (!record || record->revoked_at) {
            return std::nullopt;
        }
        return Identity{record->principal, record->role, record->worker_id};
    });
}

}  // namespace sihlicon
