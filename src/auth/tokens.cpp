// SPDX-License-Identifier: Apache-2.0
//
// API tokens (include/sihlicon/tokens.hpp) over the api_tokens table (auth/schema.hpp).
#include "auth/grant.hpp"
#include "hub/hub_internal.hpp"

#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/text.hpp>
#include <sihlicon/tokens.hpp>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <boost/json.hpp>

#include <array>
#include <cstdint>
#include <span>

namespace sihlicon {

namespace {

constexpr std::size_t kSecretBytes = 32;
// "sih_" + 64 hex digits; anything else cannot be a token and is refused without a lookup.
constexpr std::size_t kSecretLength = ApiTokens::kSecretPrefix.size() + 2 * kSecretBytes;

void require_operator(std::string_view by, std::string_view action) {
    if (by != kOperatorPrincipal) {
        throw Error(ErrorCode::permission_denied,
                    fmt::format("only the operator may {} API tokens (by '{}')", action,
                                printable(by, 120)),
                    "by");
    }
}

void check_name(std::string_view field, std::string_view value) {
    if (value.empty()) {
        throw Error::invalid(field, value, "must not be empty");
    }
    if (value.size() > ApiTokens::kMaxNameBytes) {
        throw Error::invalid(field, value,
                             fmt::format("is longer than {} bytes", ApiTokens::kMaxNameBytes));
    }
    require_plain_text(field, value);
}

std::span<const std::byte> as_bytes(const crypto::Hash256& hash) {
    return std::as_bytes(std::span(hash));
}

crypto::Hash256 secret_hash(std::string_view secret) {
    return crypto::sha256(secret);
}

const char* const kColumns =
    "SELECT id, principal, role, worker_id, created_at, revoked_at FROM api_tokens";

TokenRecord record_from(const store::Statement& row) {
    TokenRecord record;
    record.id = row.column_text(0);
    record.principal = row.column_text(1);
    record.role = parse_role(row.column_text_view(2), "api_tokens.role");
    record.worker_id = row.column_optional_text(3).value_or("");
    record.created_at = Timestamp::from_ms(row.column_int64(4));
    if (const auto revoked = row.column_optional_int64(5)) {
        record.revoked_at = Timestamp::from_ms(*revoked);
    }
    return record;
}

}  // namespace

std::string_view to_string(Role role) noexcept {
    switch (role) {
        case Role::client:
            return "client";
        case Role::worker:
            return "worker";
        case Role::hub_operator:
            return "operator";
    }
    return "client";
}

Role parse_role(std::string_view text, std::string_view field) {
    for (const auto role : {Role::client, Role::worker, Role::hub_operator}) {
        if (text == to_string(role)) {
            return role;
        }
    }
    throw Error::invalid(field, text, "is not a role (client, worker or operator)");
}

std::string TokenRecord::to_json() const {
    const auto time_or_null = [](const std::optional<Timestamp>& time) -> boost::json::value {
        return time ? boost::json::value(to_iso8601(*time)) : boost::json::value(nullptr);
    };
    const boost::json::object object{
        {"id", id},
        {"principal", principal},
        {"role", to_string(role)},
        {"workerId",
         worker_id.empty() ? boost::json::value(nullptr) : boost::json::value(worker_id)},
        {"createdAt", to_iso8601(created_at)},
        {"revokedAt", time_or_null(revoked_at)},
    };
    return boost::json::serialize(object);
}

ApiTokens::ApiTokens(const Hub& hub) : hub_(&hub) {}

void auth::check_grant(std::string_view principal, Role role, std::string_view worker_id) {
    check_name("principal", principal);
    if (principal == kOperatorPrincipal && role != Role::hub_operator) {
        throw Error::invalid("principal", principal,
                             fmt::format("authenticates the hub operator: only a token of role "
                                         "operator may, not one of role {}",
                                         to_string(role)));
    }
    if (role == Role::worker) {
        check_name("workerId", worker_id);
    } else if (!worker_id.empty()) {
        throw Error::invalid(
            "workerId", worker_id,
            fmt::format("binds a worker, which a token of role {} cannot have", to_string(role)));
    }
}

IssuedToken ApiTokens::create(std::string_view by, std::string_view principal, Role role,
                              std::string_view worker_id) {
    require_operator(by, "create");
    auth::check_grant(principal, role, worker_id);

    std::array<std::uint8_t, kSecretBytes> random{};
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
        throw Error(ErrorCode::internal, "the system random generator failed");
    }
    IssuedToken issued;
    issued.secret = std::string(kSecretPrefix) + crypto::to_hex(random);
    OPENSSL_cleanse(random.data(), random.size());
    const auto hash = secret_hash(issued.secret);

    auto& core = HubAccess::core(*hub_);
    TokenRecord& record = issued.record;
    record.principal = std::string(principal);
    record.role = role;
    record.worker_id = std::string(worker_id);
    core.database->write([&](store::Transaction& tx) {
        record.id = core.ids->next("tok");
        record.created_at = core.now();
        tx.prepare(
              "INSERT INTO api_tokens (id, secret_hash, principal, role, worker_id, created_at) "
              "VALUES (?, ?, ?, ?, ?, ?)")
            .bind_all(record.id, as_bytes(hash), record.principal, to_string(role),
                      record.worker_id.empty() ? std::optional<std::string>()
                                               : std::optional<std::string>(record.worker_id),
                      record.created_at.ms())
            .run();
    });
    return issued;
}

std::vector<TokenRecord> ApiTokens::list(std::string_view by) const {
    require_operator(by, "list");
    return HubAccess::database(*hub_).read([](store::Transaction& tx) {
        std::vector<TokenRecord> records;
        auto statement = tx.prepare(std::string(kColumns) + " ORDER BY id");
        while (statement.step()) {
            records.push_back(record_from(statement));
        }
        return records;
    });
}

TokenRecord ApiTokens::revoke(std::string_view by, std::string_view token_id) {
    require_operator(by, "revoke");
    auto& core = HubAccess::core(*hub_);
    return core.database->write([&](store::Transaction& tx) {
        tx.prepare("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind_all(core.now().ms(), token_id)
            .run();
        auto statement = tx.prepare(std::string(kColumns) + " WHERE id = ?");
        statement.bind_all(token_id);
        if (!statement.step()) {
            throw Error(ErrorCode::not_found,
                        fmt::format("no API token '{}'", printable(token_id, 120)), "tokenId");
        }
        return record_from(statement);
    });
}

std::string_view Identity::acting_principal() const noexcept {
    return role == Role::hub_operator ? kOperatorPrincipal : std::string_view(principal);
}

std::optional<Identity> ApiTokens::authenticate(std::string_view bearer) const {
    if (bearer.size() != kSecretLength) {
        return std::nullopt;  // the length of a secret is public; nothing else is read
    }
    const auto hash = secret_hash(bearer);
    return HubAccess::database(*hub_).read([&](store::Transaction& tx) -> std::optional<Identity> {
        auto statement = tx.prepare(
            "SELECT secret_hash, principal, role, worker_id FROM api_tokens "
            "WHERE secret_hash = ? AND revoked_at IS NULL");
        statement.bind_all(as_bytes(hash));
        if (!statement.step()) {
            return std::nullopt;
        }
        // The index found the row by the hash; compare it again in constant time, so no
        // answer ever depends on a comparison that stops at the first differing byte.
        const auto stored = statement.column_blob(0);
        if (stored.size() != hash.size() ||
            CRYPTO_memcmp(stored.data(), hash.data(), hash.size()) != 0) {
            return std::nullopt;
        }
        Identity identity;
        identity.principal = statement.column_text(1);
        identity.role = parse_role(statement.column_text_view(2), "api_tokens.role");
        identity.worker_id = statement.column_optional_text(3).value_or("");
        return identity;
    });
}

}  // namespace sihlicon
