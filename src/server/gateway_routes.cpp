// SPDX-License-Identifier: Apache-2.0
//
// The IPFS Trustless Gateway (https://specs.ipfs.tech/http-gateways/trustless-gateway/) over
// the content store, and CAR upload. Content negotiation (Accept, ?format=, the CAR
// parameters) is decided here; what a principal may read, and which blocks a CAR carries, is
// the store's rule (ContentStore::block_info / get_block / export_car with a CarScope).
//   GET|HEAD /ipfs/{cid}   anyone for public content, a client or operator token for the rest
//   POST /api/v1/car       a CAR v1 body, streamed, into ContentStore::import_car
#include "server/api.hpp"

#include <sihlicon/content_store.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <climits>
#include <cstdlib>
#include <optional>

namespace sihlicon::server {

namespace {

const std::vector<Role> kClientsAndOperators{Role::client, Role::hub_operator};

constexpr std::string_view kRaw = "application/vnd.ipld.raw";
constexpr std::string_view kCar = "application/vnd.ipld.car";
// A year (the path gateway's figure for immutable /ipfs/ content), only for public content.
constexpr std::string_view kImmutable = "public, max-age=29030400, immutable";

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    return out;
}

// What the client asked for.
struct Wanted {
    bool car = false;
    bool duplicates = false;  // dups=y
};

// The CAR parameters version, order and dups (from Accept or the car-* query parameters): is
// this a variant we send? We send version 1, depth-first, with dups=n or dups=y.
bool car_variant_served(std::optional<std::string_view> version,
                        std::optional<std::string_view> order,
                        std::optional<std::string_view> dups) {
    return (!version || *version == "1") && (!order || *order == "dfs" || *order == "unk") &&
           (!dups || *dups == "n" || *dups == "y");
}

// Content negotiation: ?format= first (the spec's precedence), else the Accept header's
// acceptable media range of the highest q that we serve. Throws Error::invalid (400) for a
// bad query parameter; answers 400 when no format is asked at all (no Accept, or only
// wildcards: a strict trustless gateway), 406 when none of those asked is served.
struct Negotiated {
    std::optional<Wanted> wanted;
    int refusal = 0;  // 400 or 406 when wanted is empty
    std::string reason;
};

Negotiated negotiate(const std::map<std::string, std::string>& query, std::string_view accept) {
    const auto param = [&query](const char* name) -> std::optional<std::string_view> {
        const auto it = query.find(name);
        return it == query.end() ? std::nullopt : std::optional<std::string_view>(it->second);
    };
    std::optional<Wanted> chosen;
    if (const auto format = param("format")) {
        if (*format != "raw" && *format != "car") {
            throw Error::invalid("format", *format, "must be raw or car (a trustless gateway)");
        }
        chosen = Wanted{*format == "car", false};
    } else {
        double best = 0;
        bool any_specific = false;
        std::string_view rest = accept;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const auto range = rest.substr(0, comma);
            rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
            std::string_view pieces = range;
            const auto semicolon = pieces.find(';');
            const auto type = lower(trim(pieces.substr(0, semicolon)));
            pieces.remove_prefix(semicolon == std::string_view::npos ? pieces.size() : semicolon);
            double q = 1;
            std::optional<std::string> version, order, dups;
            while (!pieces.empty()) {
                pieces.remove_prefix(1);  // ';'
                const auto next = pieces.find(';');
                const auto pair = trim(pieces.substr(0, next));
                pieces.remove_prefix(next == std::string_view::npos ? pieces.size() : next);
                const auto equals = pair.find('=');
                const auto name = lower(trim(pair.substr(0, equals)));
                const auto value = equals == std::string_view::npos
                                       ? std::string()
                                       : lower(trim(pair.substr(equals + 1)));
                if (name == "q") {
                    q = std::strtod(value.c_str(), nullptr);
                } else if (name == "version") {
                    version = value;
                } else if (name == "order") {
                    order = value;
                } else if (name == "dups") {
                    dups = value;
                }
            }
            if (type.empty() || type == "*/*" || type == "application/*") {
                continue;
            }
            any_specific = true;
            std::optional<Wanted> candidate;
            if (type == kRaw) {
                candidate = Wanted{false, false};
            } else if (type == kCar && car_variant_served(version, order, dups)) {
                candidate = Wanted{true, dups && *dups == "y"};
            }
            if (candidate && q > best) {
                best = q;
                chosen = candidate;
            }
        }
        if (!chosen) {
            Negotiated refused;
            refused.refusal = any_specific ? 406 : 400;
            refused.reason =
                any_specific
                    ? "this trustless gateway serves only application/vnd.ipld.raw and "
                      "application/vnd.ipld.car (version=1; order=dfs; dups=n or y)"
                    : "send Accept: application/vnd.ipld.raw or application/vnd.ipld.car, or "
                      "?format=raw or ?format=car";
            return refused;
        }
    }
    // The car-* query parameters take precedence over Accept's parameters.
    const auto version = param("car-version");
    const auto order = param("car-order");
    const auto dups = param("car-dups");
    if (!chosen->car) {
        for (const char* name :
             {"dag-scope", "entity-bytes", "car-version", "car-order", "car-dups"}) {
            if (const auto value = param(name)) {
                throw Error::invalid(name, *value, "is only for CAR requests");
            }
        }
    } else if (version || order || dups) {
        if (!car_variant_served(version, order, dups)) {
            Negotiated refused;
            refused.refusal = 406;
            refused.reason = "this gateway sends CAR version=1, order=dfs, dups=n or y";
            return refused;
        }
        if (dups) {
            chosen->duplicates = *dups == "y";
        }
    }
    return {chosen, 0, {}};
}

Response gateway_read(const Request& request, bool head) {
    const auto query = query_of(request.target, {"format", "dag-scope", "entity-bytes",
                                                 "car-version", "car-order", "car-dups"});
    const auto negotiated = negotiate(query, request.accept);
    const auto& cid = request.param("cid");
    if (!negotiated.wanted) {
        auto refusal = error_response(negotiated.refusal, negotiated.reason);
        refusal.headers.emplace_back("Vary", "Accept");
        return refusal;
    }
    const auto principal =
        request.identity ? std::string(request.identity->acting_principal()) : std::string();
    auto& store = request.hub->content_store();
    const auto info = store.block_info(cid, principal);  // 400 bad CID, 404 absent or unreadable
    Response response;
    response.headers = {
        {"X-Ipfs-Path", "/ipfs/" + cid},
        {"Vary", "Accept"},
        {"X-Content-Type-Options", "nosniff"},
    };
    if (info.is_public) {
        response.headers.emplace_back("Cache-Control", std::string(kImmutable));
    } else {
        response.headers.emplace_back("Cache-Control", "private, no-store");
    }
    if (!negotiated.wanted->car) {
        response.content_type = std::string(kRaw);
        response.headers.emplace_back("Etag", fmt::format("\"{}.raw\"", cid));
        response.headers.emplace_back("Content-Disposition",
                                      fmt::format("attachment; filename=\"{}.bin\"", cid));
        if (head) {
            response.headers.emplace_back("Content-Length", std::to_string(info.size));
        } else {
            const auto block = store.get_block(cid, principal);
            response.body.assign(block.begin(), block.end());
        }
        return response;
    }
    const auto it = [&query](const char* name) -> std::optional<std::string_view> {
        const auto found = query.find(name);
        return found == query.end() ? std::nullopt : std::optional<std::string_view>(found->second);
    };
    auto scope = CarScope::from_query(it("dag-scope"), it("entity-bytes"));
    scope.duplicates = negotiated.wanted->duplicates;
    response.content_type =
        fmt::format("{}; version=1; order=dfs; dups={}", kCar, scope.duplicates ? "y" : "n");
    response.headers.emplace_back("X-Ipfs-Roots", cid);
    response.headers.emplace_back("Etag", fmt::format("\"{}.car.{}\"", cid, scope.to_string()));
    response.headers.emplace_back("Content-Disposition",
                                  fmt::format("attachment; filename=\"{}.car\"", cid));
    if (!head) {
        // Spooled by Api::handle before the status is sent: a block missing or corrupt on the
        // way answers with the error, never a truncated CAR under 200.
        response.producer = [&store, cid, principal, scope](const ContentStore::ByteSink& sink) {
            store.export_car(cid, principal, scope, sink);
        };
    }
    return response;
}

// POST /api/v1/car: the body is a CAR v1; options from the query (accessLevel, storageTier,
// minReplicas), decoded by the core's parsers.
Response car_upload(const Request& request) {
    const auto query = query_of(request.target, {"accessLevel", "storageTier", "minReplicas"});
    if (request.spooled == nullptr) {
        throw Error(ErrorCode::internal, "the CAR upload route must stream its body");
    }
    const auto type = lower(trim(request.content_type.substr(0, request.content_type.find(';'))));
    if (type != kCar) {
        throw Error::invalid("Content-Type", printable(request.content_type, 200),
                             "must be application/vnd.ipld.car");
    }
    PutOptions options;
    if (const auto it = query.find("accessLevel"); it != query.end()) {
        options.access_level = parse_access_level(it->second);
    }
    if (const auto it = query.find("storageTier"); it != query.end()) {
        options.storage_tier = parse_storage_tier(it->second);
    }
    if (const auto it = query.find("minReplicas"); it != query.end()) {
        const auto value = integer_parameter("minReplicas", it->second);
        if (value < INT_MIN || value > INT_MAX) {  // the range is the put's check
            throw Error::invalid("minReplicas", it->second, "is out of range");
        }
        options.min_replicas = static_cast<int>(value);
    }
    std::vector<Manifest> manifests;
    try {
        manifests = request.hub->content_store().import_car(
            request.body_source(), request.identity->acting_principal(), options);
    } catch (const Error& error) {
        // import_car calls a block that does not hash to its CID `integrity` (a fetcher's
        // gateway lied). Here the sender made the CAR: its bad block is bad input, 400, not
        // the hub's own data gone wrong (500).
        if (error.code() != ErrorCode::integrity) {
            throw;
        }
        throw Error(ErrorCode::invalid_argument, error.what(), std::string(error.field()));
    }
    boost::json::array list;
    for (const auto& manifest : manifests) {
        list.push_back(boost::json::parse(manifest.to_json()));
    }
    return {200, success_with("manifests", boost::json::serialize(list)), {}};
}

}  // namespace

void add_gateway_routes(RouteTable& table, Hub& /*hub*/) {
    for (const bool head : {false, true}) {
        Route read{head ? "HEAD" : "GET", "/ipfs/{cid}", false, kClientsAndOperators,
                   [head](const Request& request) { return gateway_read(request, head); }};
        read.anonymous = true;
        table.add(std::move(read));
    }
    Route upload{"POST", "/api/v1/car", false, kClientsAndOperators, car_upload};
    upload.streaming_body = true;
    table.add(std::move(upload));
}

}  // namespace sihlicon::server
