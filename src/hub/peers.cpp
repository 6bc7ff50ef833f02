// SPDX-License-Identifier: Apache-2.0
//
// Peers (include/sihlicon/peers.hpp) over the peers table (hub/peers_schema.hpp).
#include "hub/hub_internal.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/peers.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace sihlicon {

namespace {

void require_operator(std::string_view by, std::string_view action) {
    if (by != kOperatorPrincipal) {
        throw Error(
            ErrorCode::permission_denied,
            fmt::format("only the operator may {} peers (by '{}')", action, printable(by, 120)),
            "by");
    }
}

void check_hub_id(std::string_view hub_id) {
    if (hub_id.empty()) {
        throw Error::invalid("hubId", hub_id, "must not be empty");
    }
    if (hub_id.size() > Peers::kMaxHubIdBytes) {
        throw Error::invalid("hubId", hub_id,
                             fmt::format("is longer than {} bytes", Peers::kMaxHubIdBytes));
    }
    require_plain_text("hubId", hub_id);
}

// The token's problems are described, never shown: it is a secret.
void check_token(std::string_view token) {
    const bool printable_ascii = std::all_of(token.begin(), token.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte >= 0x21 && byte <= 0x7e;
    });
    if (token.empty() || token.size() > Peers::kMaxTokenBytes || !printable_ascii) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("token: must be 1 to {} bytes of printable ASCII without spaces "
                                "(the value is a secret and not shown)",
                                Peers::kMaxTokenBytes),
                    "token");
    }
}

bool is_host_character(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-';
}

// A DNS name or an IPv4 address: labels of [A-Za-z0-9-] (not starting or ending with '-'),
// 1..63 bytes each, separated by single dots, at most 253 bytes in all.
std::string_view host_problem(std::string_view host) {
    if (host.empty()) {
        return "has no host";
    }
    if (host.size() > 253) {
        return "has a host longer than 253 bytes";
    }
    if (!std::all_of(host.begin(), host.end(), is_host_character)) {
        return "has a host with a character other than letters, digits, '.' and '-'";
    }
    std::size_t start = 0;
    while (start <= host.size()) {
        const auto dot = std::min(host.find('.', start), host.size());
        const auto label = host.substr(start, dot - start);
        if (label.empty() || label.size() > 63) {
            return "has a host label that is empty or longer than 63 bytes";
        }
        if (label.front() == '-' || label.back() == '-') {
            return "has a host label starting or ending with '-'";
        }
        start = dot + 1;
    }
    return {};
}

}  // namespace

void validate_peer_url(std::string_view url) {
    const auto refuse = [&](std::string_view problem) {
        throw Error::invalid("url", url, problem);
    };
    if (url.empty()) {
        refuse("must not be empty");
    }
    if (url.size() > Peers::kMaxUrlBytes) {
        refuse(fmt::format("is longer than {} bytes", Peers::kMaxUrlBytes));
    }
    if (!std::all_of(url.begin(), url.end(), [](char c) {
            const auto byte = static_cast<unsigned char>(c);
            return byte >= 0x21 && byte <= 0x7e;
        })) {
        refuse("has a space, a control character or a byte outside printable ASCII");
    }
    std::string_view rest;
    if (url.starts_with("https://")) {
        rest = url.substr(8);
    } else if (url.starts_with("http://")) {
        rest = url.substr(7);
    } else {
        refuse("must start with http:// or https://");
    }
    if (url.find('#') != std::string_view::npos) {
        refuse("has a fragment ('#')");
    }
    if (url.find('?') != std::string_view::npos) {
        refuse("has a query ('?'): give the peer server's base URL");
    }
    const auto authority = rest.substr(0, rest.find('/'));
    if (authority.find('@') != std::string_view::npos) {
        refuse("has user information ('@'): the peer's token is given apart");
    }
    std::string_view port;
    bool has_port = false;
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            refuse("has an IPv6 host without its closing ']'");
        }
        const std::string host(authority.substr(1, close - 1));
        in6_addr address{};
        if (::inet_pton(AF_INET6, host.c_str(), &address) != 1) {
            refuse("has a host in brackets that is not an IPv6 address");
        }
        const auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                refuse("has text after its IPv6 host");
            }
            has_port = true;
            port = after.substr(1);
        }
    } else {
        const auto colon = authority.find(':');
        if (colon != std::string_view::npos) {
            has_port = true;
            port = authority.substr(colon + 1);
        }
        if (const auto problem = host_problem(authority.substr(0, colon)); !problem.empty()) {
            refuse(problem);
        }
    }
    if (has_port) {
        unsigned value = 0;
        const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (port.empty() || port.size() > 5 || error != std::errc() ||
            end != port.data() + port.size() || value < 1 || value > 65535) {
            refuse("has a port that is not 1 to 65535");
        }
    }
}

std::string PeerRecord::to_json() const {
    const boost::json::object object{
        {"hubId", hub_id},
        {"url", url},
        {"addedAt", to_iso8601(added_at)},
    };
    return boost::json::serialize(object);
}

Peers::Peers(const Hub& hub) : hub_(&hub) {}

PeerRecord Peers::add(std::string_view by, std::string_view hub_id, std::string_view url,
                      std::string_view token) {
    require_operator(by, "add");
    check_hub_id(hub_id);
    validate_peer_url(url);
    check_token(token);
    auto& core = HubAccess::core(*hub_);
    PeerRecord record{std::string(hub_id), std::string(url), {}};
    core.database->write([&](store::Transaction& tx) {
        auto existing = tx.prepare("SELECT 1 FROM peers WHERE hub_id = ?");
        existing.bind_all(hub_id);
        if (existing.step()) {
            throw Error(ErrorCode::conflict,
                        fmt::format("hub '{}' is already a peer (remove it first to change it)",
                                    printable(hub_id, 120)),
                        "hubId");
        }
        record.added_at = core.now();
        tx.prepare(
              "INSERT INTO peers (hub_id, url, token, added_at, added_by) VALUES (?, ?, ?, ?, ?)")
            .bind_all(record.hub_id, record.url, token, record.added_at.ms(), by)
            .run();
    });
    return record;
}

std::vector<PeerRecord> Peers::list(std::string_view by) const {
    require_operator(by, "list");
    return HubAccess::database(*hub_).read([](store::Transaction& tx) {
        std::vector<PeerRecord> records;
        auto rows = tx.prepare("SELECT hub_id, url, added_at FROM peers ORDER BY hub_id");
        while (rows.step()) {
            records.push_back(PeerRecord{rows.column_text(0), rows.column_text(1),
                                         Timestamp::from_ms(rows.column_int64(2))});
        }
        return records;
    });
}

namespace {

Error no_peer(std::string_view hub_id) {
    return Error(ErrorCode::not_found, fmt::format("no peer '{}'", printable(hub_id, 120)),
                 "hubId");
}

}  // namespace

std::string Peers::token(std::string_view by, std::string_view hub_id) const {
    require_operator(by, "read the tokens of");
    return HubAccess::database(*hub_).read([&](store::Transaction& tx) {
        auto row = tx.prepare("SELECT token FROM peers WHERE hub_id = ?");
        row.bind_all(hub_id);
        if (!row.step()) {
            throw no_peer(hub_id);
        }
        return row.column_text(0);
    });
}

PeerRecord Peers::remove(std::string_view by, std::string_view hub_id) {
    require_operator(by, "remove");
    return HubAccess::database(*hub_).write([&](store::Transaction& tx) {
        auto row = tx.prepare("SELECT hub_id, url, added_at FROM peers WHERE hub_id = ?");
        row.bind_all(hub_id);
        if (!row.step()) {
            throw no_peer(hub_id);
        }
        PeerRecord record{row.column_text(0), row.column_text(1),
                          Timestamp::from_ms(row.column_int64(2))};
        tx.prepare("DELETE FROM peers WHERE hub_id = ?").bind_all(hub_id).run();
        return record;
    });
}

}  // namespace sihlicon
