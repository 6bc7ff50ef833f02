// SPDX-License-Identifier: Apache-2.0
//
// API tokens: how a remote principal proves who it is to a hub's server (server.hpp). A token
// is 32 random bytes shown once, when it is created, as "sih_" followed by 64 lowercase hex
// digits; the hub stores only its SHA-256, beside the token's id ("tok-…"), the principal it
// authenticates, the role it grants, the worker id it is bound to (role worker only), when it
// was created and when it was revoked.
//
// Roles (what the server lets a token's principal call; the core still checks the principal
// on every action):
//   - client: submits and reads its own jobs, accounts and readable content;
//   - worker: acts as exactly one worker, the one it is bound to;
//   - operator: administers the hub (settles heat, tops up accounts, seals epochs, settings).
// No token of another role authenticates the operator principal (kOperatorPrincipal): a
// token for "operator" always has role operator.
//
// Only the operator principal creates, lists and revokes tokens (`sihlicon token ...`).
//
// Thread safety: an ApiTokens is safe to use from many threads; it lives no longer than the
// Hub it was made from.
#pragma once

#include <sihlicon/export.hpp>
#include <sihlicon/time.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon {

class Hub;

enum class Role { client, worker, hub_operator };

// "client", "worker", "operator".
SIHLICON_API std::string_view to_string(Role role) noexcept;
// Parses one of those names. Throws Error::invalid(field, text, ...) otherwise.
SIHLICON_API Role parse_role(std::string_view text, std::string_view field = "role");

// Who a request comes from, as a valid token says.
struct SIHLICON_API Identity {
    std::string principal;
    Role role = Role::client;
    std::string worker_id;  // the bound worker for role worker; empty otherwise

    // The principal the core's per-principal checks are given for this identity: the hub
    // operator (kOperatorPrincipal) for a token of role operator, whoever it was issued to
    // (it administers the hub), else the token's principal.
    std::string_view acting_principal() const noexcept;
};

// A token as the hub stores it: never its secret.
struct SIHLICON_API TokenRecord {
    std::string id;  // "tok-…"
    std::string principal;
    Role role = Role::client;
    std::string worker_id;  // role worker: the worker it acts as; empty otherwise
    Timestamp created_at;
    std::optional<Timestamp> revoked_at;

    // {"id", "principal", "role", "workerId" (null unless role worker), "createdAt",
    // "revokedAt" (ISO 8601 or null)}.
    std::string to_json() const;
};

// A token just created: its record and the secret, which the hub never shows again.
struct SIHLICON_API IssuedToken {
    TokenRecord record;
    std::string secret;  // "sih_" + 64 hex digits: the bearer credential
};

class SIHLICON_API ApiTokens {
  public:
    // The longest principal and worker id accepted (bytes).
    static constexpr std::size_t kMaxNameBytes = 256;
    // The prefix of every secret.
    static constexpr std::string_view kSecretPrefix = "sih_";

    // The tokens of `hub`, which must outlive this object.
    explicit ApiTokens(const Hub& hub);

    // Creates a token for `principal` with `role`, acting as `by`. Throws:
    // - permission_denied unless `by` is kOperatorPrincipal (nothing is written);
    // - invalid_argument naming "principal" (empty, longer than kMaxNameBytes, not plain text,
    //   or kOperatorPrincipal with a role other than operator) or "workerId" (missing for role
    //   worker, given for another role, longer than kMaxNameBytes, not plain text).
    // The worker need not be registered yet: its token is what registers it remotely.
    IssuedToken create(std::string_view by, std::string_view principal, Role role,
                       std::string_view worker_id = {});

    // Every token, revoked ones included, in the order they were created. Never secrets.
    // Throws permission_denied unless `by` is kOperatorPrincipal.
    std::vector<TokenRecord> list(std::string_view by) const;

    // Revokes a token: it authenticates nobody from now on. Revoking a revoked token returns it
    // unchanged (its first revocation time). Throws permission_denied unless `by` is
    // kOperatorPrincipal, not_found for an unknown id.
    TokenRecord revoke(std::string_view by, std::string_view token_id);

    // The identity a bearer secret stands for, or nullopt when it is not a live token (unknown,
    // revoked, malformed, any length). The secret is looked up and compared only by its
    // SHA-256, so the time taken does not depend on how much of a guess is right. Never
    // throws for a bad secret; throws what reading the hub throws (busy, io).
    std::optional<Identity> authenticate(std::string_view bearer) const;

  private:
    const Hub* hub_;
};

}  // namespace sihlicon
