// SPDX-License-Identifier: Apache-2.0
//
// Peers: the other hubs this hub knows, stored in the hub (hub.db), each with the URL of its
// server (server.hpp) and the API token this hub presents to it (`Authorization: Bearer`).
// Replication (issue 28) asks peers to fetch content through them. Only the operator principal
// (kOperatorPrincipal) adds, lists, reads and removes peers; the check is here, in the core.
//
// The token is a secret of this hub (its credential at the peer, not one the peer can check
// here): it is kept in hub.db as given, so anyone who can read hub.db can read it (keep the
// hub folder private, as for operator.key). It is never in a PeerRecord, its JSON, an error
// message or a log line; only Peers::token() returns it.
//
// A peer's URL: "http://" or "https://" (lower case), a host (a DNS name of [A-Za-z0-9.-], an
// IPv4 address, or an IPv6 address in brackets), an optional port 1..65535, and an optional
// path of printable ASCII; at most kMaxUrlBytes. No user information ("user:pass@": the token
// is the credential), no query ("?"), no fragment ("#"), no space or control character.
//
// Thread safety: a Peers is safe to use from many threads; it lives no longer than the Hub it
// was made from. Several processes may use one hub's peers.
#pragma once

#include <sihlicon/export.hpp>
#include <sihlicon/time.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon {

class Hub;

// A peer as listed: never its token.
struct SIHLICON_API PeerRecord {
    std::string hub_id;
    std::string url;
    Timestamp added_at;

    // {"hubId", "url", "addedAt" (ISO 8601)}.
    std::string to_json() const;
};

// Throws Error::invalid("url", url, ...) saying what is wrong (see the file comment); returns
// normally for a URL a peer may have.
SIHLICON_API void validate_peer_url(std::string_view url);

class SIHLICON_API Peers {
  public:
    static constexpr std::size_t kMaxHubIdBytes = 128;
    static constexpr std::size_t kMaxUrlBytes = 2048;
    static constexpr std::size_t kMaxTokenBytes = 4096;

    // The peers of `hub`, which must outlive this object.
    explicit Peers(const Hub& hub);

    // Adds the hub `hub_id` at `url`, to which this hub presents `token`, acting as `by`.
    // Throws (nothing written):
    // - permission_denied unless `by` is kOperatorPrincipal;
    // - invalid_argument naming "hubId" (empty, over kMaxHubIdBytes, not plain text: text.hpp),
    //   "url" (validate_peer_url) or "token" (empty, over kMaxTokenBytes, or a byte outside
    //   printable ASCII 0x21..0x7e: it goes into an HTTP header; the message never shows it);
    // - conflict naming "hubId" when the hub is already a peer (remove it first to change it).
    PeerRecord add(std::string_view by, std::string_view hub_id, std::string_view url,
                   std::string_view token);

    // Every peer, by hub id. Throws permission_denied unless `by` is kOperatorPrincipal.
    std::vector<PeerRecord> list(std::string_view by) const;

    // The token this hub presents to `hub_id`, for the code that calls the peer. Throws
    // permission_denied unless `by` is kOperatorPrincipal, not_found for a hub that is not a
    // peer.
    std::string token(std::string_view by, std::string_view hub_id) const;

    // Removes a peer and its token; returns what it was. Throws permission_denied unless `by`
    // is kOperatorPrincipal, not_found (field "hubId") for a hub that is not a peer.
    PeerRecord remove(std::string_view by, std::string_view hub_id);

  private:
    const Hub* hub_;
};

}  // namespace sihlicon
