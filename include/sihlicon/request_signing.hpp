// SPDX-License-Identifier: Apache-2.0
//
// Signed requests: the other way, beside API tokens (tokens.hpp), a remote principal proves
// who it is to a hub's server (server.hpp). The operator registers an Ethereum address for a
// principal with a role (`sihlicon token address add PRINCIPAL 0xADDR --role ROLE`); a request
// signed EIP-191 (personal_sign) by that address's key then authenticates as that principal
// with that role, exactly as a token of the same grant would, without any shared secret.
//
// A signed request carries, instead of `Authorization: Bearer`, the headers
//   Sihlicon-Address:        the signer, "0x" + 40 hex digits (any case; EIP-55 checked when mixed)
//   Sihlicon-Timestamp:      when it was signed, Unix seconds (decimal digits only)
//   Sihlicon-Content-SHA256: the SHA-256 of the body, 64 lowercase hex digits (of the empty
//                            string, e3b0c442…b855, when there is no body)
//   Sihlicon-Signature:      "0x" + 130 hex digits: r ‖ s ‖ v (v 27 or 28, low s), the
//                            EIP-191 signature of the canonical message below
// and the canonical message is these six lines joined by "\n" (no newline at the end):
//   sihlicon-request-v1
//   METHOD                   as sent ("POST")
//   TARGET                   the request target exactly as sent: path and query
//   ("/api/compute?limit=5") HOST                     the Host header exactly as sent
//   ("hub.example:8443") TIMESTAMP                the Sihlicon-Timestamp header BODY-SHA256 the
//   Sihlicon-Content-SHA256 header
// e.g. ethers: `wallet.signMessage(message)`; eth_account:
// `Account.sign_message(encode_defunct(text=message), key)`.
//
// The server checks the signature when the header arrives (before any body is read, as for a
// token) and the body's SHA-256 once the whole body has arrived (a streamed body once its spool
// file is complete) and before the route runs: a body that does not match is refused 401 and
// runs nothing. A request is refused 401, with details {"reason", "field"}, when a header is
// missing or malformed, the timestamp lies outside the replay window (±kReplayWindow of the
// hub's clock), the signature does not recover the address, the address is not registered
// (unknown or removed), or the same signature was already accepted within the window.
// Accepted signatures are remembered per server process (RequestVerifier): a hub served by
// several processes must not share one address between them if replay across processes
// matters. A request that sends both a token and signature headers is refused 401.
//
// Thread safety: ApiAddresses and RequestVerifier are safe to use from many threads; each
// lives no longer than the Hub it was made from.
#pragma once

#include <sihlicon/crypto.hpp>
#include <sihlicon/export.hpp>
#include <sihlicon/time.hpp>
#include <sihlicon/tokens.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon {

class Hub;

// An address as the hub stores it.
struct SIHLICON_API AddressRecord {
    std::string address;  // EIP-55
    std::string principal;
    Role role = Role::client;
    std::string worker_id;  // role worker: the worker it acts as; empty otherwise
    Timestamp created_at;
    std::optional<Timestamp> revoked_at;

    // {"address", "principal", "role", "workerId" (null unless role worker), "createdAt",
    // "revokedAt" (ISO 8601 or null)}.
    std::string to_json() const;
};

// The addresses registered for signed requests (table api_addresses, migration 19).
class SIHLICON_API ApiAddresses {
  public:
    explicit ApiAddresses(const Hub& hub);

    // Registers `address` for `principal` with `role` (and, for role worker, the worker it
    // acts as), acting as `by`. An address belongs to one principal: registering an address
    // that is registered and not removed throws conflict (naming its principal: only the
    // operator sees this); a removed address may be registered again, for anyone. Throws
    // permission_denied unless `by` is kOperatorPrincipal, invalid_argument as
    // ApiTokens::create for the principal, role and worker id.
    AddressRecord add(std::string_view by, const crypto::Address& address,
                      std::string_view principal, Role role, std::string_view worker_id = {});
    // Every address, removed ones included, by address. Throws permission_denied unless `by`
    // is kOperatorPrincipal.
    std::vector<AddressRecord> list(std::string_view by) const;
    // Removes (revokes) an address: it authenticates nobody from now on. Removing a removed
    // address returns it unchanged. Throws permission_denied unless `by` is
    // kOperatorPrincipal, not_found for an address never registered.
    AddressRecord remove(std::string_view by, const crypto::Address& address);

    // The identity of a live (registered, not removed) address, or nullopt.
    std::optional<Identity> identity_of(const crypto::Address& address) const;

  private:
    const Hub* hub_;
};

// The headers of a signed request, as received (each empty when absent).
struct SignedHeaders {
    std::string_view address;
    std::string_view timestamp;
    std::string_view content_sha256;
    std::string_view signature;
    std::string_view host;

    // Whether any of the four Sihlicon-* headers was sent.
    bool any() const noexcept {
        return !address.empty() || !timestamp.empty() || !content_sha256.empty() ||
               !signature.empty();
    }
};

inline constexpr std::string_view kAddressHeader = "Sihlicon-Address";
inline constexpr std::string_view kTimestampHeader = "Sihlicon-Timestamp";
inline constexpr std::string_view kContentSha256Header = "Sihlicon-Content-SHA256";
inline constexpr std::string_view kSignatureHeader = "Sihlicon-Signature";

// The canonical message of a request (see the file comment).
SIHLICON_API std::string canonical_request_message(std::string_view method, std::string_view target,
                                                   std::string_view host,
                                                   std::string_view timestamp,
                                                   std::string_view content_sha256);

// The outcome of checking a signed request's headers.
struct SIHLICON_API SignatureCheck {
    std::optional<Identity> identity;  // set when accepted
    std::string reason;                // why not, for the 401's message
    // Why not, as a word for programs: "missing_header", "malformed", "outside_window",
    // "bad_signature", "unknown_address", "replayed", "too_many".
    std::string code;
    std::string field;           // the header at fault
    std::string content_sha256;  // accepted: the digest the body must have (lowercase hex)
};

// Checks signed requests against a hub's addresses and remembers the signatures it accepted
// within the replay window.
class SIHLICON_API RequestVerifier {
  public:
    // How far a request's timestamp may lie from the hub's clock, either way.
    static constexpr std::chrono::seconds kReplayWindow{300};
    // At most this many accepted signatures are remembered (each until its timestamp leaves
    // the window, about 100 bytes each); while that many are held, further signed requests are
    // refused (401, "too many signed requests") rather than forgetting one that could be
    // replayed.
    static constexpr std::size_t kMaxRemembered = 200'000;

    explicit RequestVerifier(const Hub& hub);
    ~RequestVerifier();
    RequestVerifier(const RequestVerifier&) = delete;
    RequestVerifier& operator=(const RequestVerifier&) = delete;

    // Checks everything but the body (whose digest the caller compares with
    // SignatureCheck::content_sha256 once it has arrived): the headers' form, the window, the
    // signature, the address, and replay. An accepted signature is remembered at once, so the
    // same request sent twice at the same time is accepted once. Throws only what reading the
    // hub throws (busy, io).
    SignatureCheck check(std::string_view method, std::string_view target,
                         const SignedHeaders& headers);

  private:
    ApiAddresses addresses_;
    const Hub* hub_;
    std::mutex mutex_;
    // SHA-256 of an accepted signature -> the Unix second after which it may be forgotten.
    std::map<crypto::Hash256, std::int64_t> seen_;
    std::multimap<std::int64_t, crypto::Hash256> expiry_;
};

}  // namespace sihlicon
