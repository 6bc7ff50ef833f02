// SPDX-License-Identifier: Apache-2.0
//
// The API tokens' table (include/sihlicon/tokens.hpp). Not installed.
//
// api_tokens  one row per token ever created: the SHA-256 of its secret (never the secret),
//             the principal it authenticates, its role, the worker it is bound to (role worker
//             only) and when it was created and revoked (milliseconds since the Unix epoch).
//             The CHECKs repeat the rules of ApiTokens::create, so no row can break them.
//             Safe to run again (tests rewind a hub's schema version and reopen it).
#pragma once

#include <string_view>

namespace sihlicon::auth {

inline constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS api_tokens (
    id           TEXT PRIMARY KEY,
    secret_hash  BLOB NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    principal    TEXT NOT NULL CHECK (length(principal) BETWEEN 1 AND 256),
    role         TEXT NOT NULL CHECK (role = 'client' OR role = 'worker' OR role = 'operator'),
    worker_id    TEXT CHECK (worker_id IS NULL OR length(worker_id) BETWEEN 1 AND 256),
    created_at   INTEGER NOT NULL CHECK (typeof(created_at) = 'integer'),
    revoked_at   INTEGER CHECK (revoked_at IS NULL OR typeof(revoked_at) = 'integer'),
    CHECK ((role = 'worker') = (worker_id IS NOT NULL)),
    CHECK (principal <> 'operator' OR role = 'operator')
);
)sql";

// api_addresses  one row per Ethereum address ever registered for signed requests
//                (request_signing.hpp): the address in lowercase hex (one principal's at a time),
//                the grant as api_tokens has it, when it was registered and removed. Migration
//                19; safe to run again.
inline constexpr std::string_view kAddresses = R"sql(
CREATE TABLE IF NOT EXISTS api_addresses (
    address      TEXT PRIMARY KEY CHECK (length(address) = 42 AND address GLOB '0x*'
                                         AND lower(address) = address),
    principal    TEXT NOT NULL CHECK (length(principal) BETWEEN 1 AND 256),
    role         TEXT NOT NULL CHECK (role = 'client' OR role = 'worker' OR role = 'operator'),
    worker_id    TEXT CHECK (worker_id IS NULL OR length(worker_id) BETWEEN 1 AND 256),
    created_at   INTEGER NOT NULL CHECK (typeof(created_at) = 'integer'),
    revoked_at   INTEGER CHECK (revoked_at IS NULL OR typeof(revoked_at) = 'integer'),
    CHECK ((role = 'worker') = (worker_id IS NOT NULL)),
    CHECK (principal <> 'operator' OR role = 'operator')
);
)sql";

}  // namespace sihlicon::auth
