// SPDX-License-Identifier: Apache-2.0
//
// The server's endpoints (include/sihlicon/server.hpp), without any HTTP machinery: the
// connection code (server.cpp) hands over what it has read and writes back what it gets.
// Two steps per request, so that nothing of a refused request's body is ever read:
//   admit(): after the header — authentication, the rate limit of client tokens (the hub
//            setting apiRequestsPerHour; worker and operator tokens are not limited: agents
//            claim all day, operators administer), route (the RouteTable), method, role, and
//            that a worker token names only its own worker in a {workerId} path segment;
//   handle(): after the body — the route's handler, over the hub's public API.
// Not installed.
#pragma once

#include "server/spool.hpp"

#include <sihlicon/content_store.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/request_signing.hpp>
#include <sihlicon/tokens.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sihlicon {
class Hub;
}

namespace sihlicon::server {

struct Response {
    int status = 200;
    std::string body;  // JSON, or what content_type says
    std::vector<std::pair<std::string, std::string>> headers;
    // A body too large for memory, sent (with its Content-Length) from this file instead of
    // `body`: a spool file, or SpoolFile::open() of an existing file.
    std::shared_ptr<const SpoolFile> file = nullptr;
    // Or a body produced by this callback, which writes it to the sink in order (e.g.
    // ContentStore::export_car). Api::handle runs it at once and spools what it writes to an
    // unlinked file (then `file`), so a producer that throws answers with its error instead
    // and the connection is never held by a slow producer. Ignored for a status other than 200.
    std::function<void(const ContentStore::ByteSink& sink)> producer = nullptr;
    std::string content_type = "application/json";
    // Or an answer that waits (a long poll, Server-Sent Events) without holding a server
    // thread: the connection calls `next` on its own executor every `interval` (next must not
    // block: reads of the hub). With `stream` false, the answer is `status`, `headers` and
    // the body next() returns once it sets `done`. With `stream` true, the header goes first
    // and the body is chunked: each non-empty piece next() returns is sent as one chunk,
    // until next() sets `done`, throws, the client leaves (a write fails) or the server stops.
    // Nothing times a live response out between its writes (each write has write_timeout);
    // the live object, and what next() holds, go when it ends.
    struct Live {
        std::chrono::milliseconds interval{50};
        bool stream = false;
        std::function<std::string(bool& done)> next;
    };
    std::shared_ptr<Live> live = nullptr;
};

// A request as a route's handler sees it, once admitted and its body read.
struct Request {
    const Identity* identity = nullptr;  // null for the routes that need no token
    // The {name} segments of the route's pattern, by name (each 1..128 bytes of
    // [A-Za-z0-9._-], checked when the path was matched).
    const std::map<std::string, std::string, std::less<>>* params = nullptr;
    std::string_view target;        // path and query, for query_of()
    std::string_view content_type;  // the Content-Type header, empty when absent
    // The body of a route without streaming_body (at most ServerOptions::body_limit bytes).
    std::string_view body;
    // The Sihlicon-Lease-Token header (hub_link.hpp's kLeaseTokenHeader); empty when absent.
    std::string_view lease_token;
    // The Accept and Last-Event-ID headers; empty when absent.
    std::string_view accept;
    std::string_view last_event_id;
    // The body of a streaming_body route (at most ServerOptions::upload_limit bytes), spooled
    // to an unlinked file as it arrived; null for the other routes.
    const SpoolFile* spooled = nullptr;
    Hub* hub = nullptr;
    // Where a handler spools a large response it makes itself (SpoolFile::create):
    // ServerOptions::spool_directory.
    std::filesystem::path spool_directory;

    // The path parameter `name` (a name of the route's pattern).
    const std::string& param(std::string_view name) const;
    // The body's exact size in bytes, whichever way it came.
    std::uint64_t body_size() const;
    // A reader of the whole body from its first byte (for ContentStore::put_stream with
    // declared_size = body_size()), whichever way it came; valid while the request is.
    ContentStore::ByteSource body_source() const;
};

// One endpoint: the method, the path pattern ("/api/v1/workers/{workerId}/heartbeat"), who
// may call it and what answers it. The one place an endpoint is declared.
struct Route {
    std::string method;                               // "GET", "POST", ...
    std::string pattern;                              // literal segments and {param} segments
    bool public_route = false;                        // true: no token needed (roles then unused)
    std::vector<Role> roles;                          // the roles admitted
    std::function<Response(const Request&)> handler;  // may throw sihlicon::Error
    // true: the body is never held in memory. The server spools it to an unlinked file as it
    // arrives (Content-Length or chunked, at most ServerOptions::upload_limit bytes, 413
    // otherwise) and the handler reads it through Request::spooled / body_source(). A body
    // that does not arrive whole runs no handler and leaves no file.
    bool streaming_body = false;
    // true: a request without any credential is admitted too, with no identity (the IPFS
    // gateway: public content needs no token). A request that presents a token is checked as
    // on any route (unknown or revoked 401, a role not in `roles` 403): a bad token is never
    // taken as no token.
    bool anonymous = false;
};

// The server's endpoints. Each group of endpoints registers its routes in its own file
// (compute_routes.cpp, workers_routes.cpp, ...) through a function called by Api's
// constructor; the table is not changed once the Api is made. A route whose pattern has a
// {workerId} segment admits a worker token only for its bound worker (403 otherwise), checked
// once in Api::admit for every such route.
class RouteTable {
  public:
    void add(Route route);
    // Adds `route`, replacing the route of the same method and pattern if there is one (a
    // test standing in for an endpoint, e.g. a gateway that forges a block).
    void add_or_replace(Route route);
    using Params = std::map<std::string, std::string, std::less<>>;
    // The routes whose pattern matches `path` (any method), in the order they were added,
    // each with the path's parameters under that route's pattern.
    std::vector<std::pair<const Route*, Params>> match(std::string_view path) const;

    // Every route, in the order added.
    const std::vector<Route>& routes() const noexcept { return routes_; }

  private:
    std::vector<Route> routes_;
};

// The groups of endpoints (each in its own file), over `hub`.
void add_well_known_routes(RouteTable& table, Hub& hub);  // api.cpp
void add_compute_routes(RouteTable& table, Hub& hub);     // compute_routes.cpp
void add_workers_routes(RouteTable& table, Hub& hub);     // workers_routes.cpp
void add_storage_routes(RouteTable& table, Hub& hub);     // storage_routes.cpp
void add_heat_routes(RouteTable& table, Hub& hub);        // heat_routes.cpp
void add_settlement_routes(RouteTable& table, Hub& hub);  // settlement_routes.cpp
void add_gateway_routes(RouteTable& table, Hub& hub);     // gateway_routes.cpp
void add_events_routes(RouteTable& table, Hub& hub);      // events_routes.cpp

// The contract's rate limit: requests per principal per hour, counted in this process (a
// hub served by several server processes limits each one separately). Windows are the whole
// hours of the hub's clock (Hub::clock): every count starts again at the top of the hour.
// Thread-safe. Holds one counter per principal seen in the current hour.
class RateLimiter {
  public:
    struct Decision {
        bool allowed = true;
        std::int64_t limit = 0;
        std::int64_t remaining = 0;      // after this request
        std::int64_t reset_seconds = 0;  // Unix seconds when the window ends
        std::int64_t retry_after = 0;    // seconds until then (at least 1)
    };
    static constexpr std::int64_t kWindowMs = 3'600'000;

    // Counts one request of `principal` at `now_ms` against `limit` per hour (at least 1); a
    // refused request is not counted.
    Decision count(std::string_view principal, std::int64_t now_ms, std::int64_t limit);

  private:
    std::mutex mutex_;
    std::int64_t window_ = INT64_MIN;
    std::map<std::string, std::int64_t, std::less<>> counts_;
};

// What admit() found out about a request, for handle() and the access log.
struct Admission {
    std::optional<Identity> identity;  // nullopt for the endpoints that need no token
    const Route* route = nullptr;      // the endpoint (null when refused for no route)
    std::map<std::string, std::string, std::less<>> params;  // the pattern's {param}s
    std::string method;                                      // "GET", "POST", ...
    std::string lease_token;  // the Sihlicon-Lease-Token header, set by the connection
    // A signed request (request_signing.hpp): the SHA-256 its body must have (lowercase hex),
    // checked by handle() before the route runs; empty for a token's request.
    std::string body_sha256;
    std::string accept;         // the Accept header, set by the connection
    std::string last_event_id;  // the Last-Event-ID header, set by the connection
    // Set when the request is refused before its body (401, 403, 404, 405, 429).
    std::optional<Response> refusal;
    // X-RateLimit-Limit/Remaining/Reset for a client token's request (on its refusal too),
    // added to its response by handle().
    std::vector<std::pair<std::string, std::string>> rate_headers;
};

// The contract's error body {"error": message, "details": details} (details omitted when
// null) with `status`.
Response error_response(int status, std::string_view message, std::string_view details_json = {});

// The response for a library error: the status from the one ErrorCode -> status table, the
// message and {"code", "field"} as details; integrity, io and internal errors become a bare
// 500 "internal server error" (their messages may name files and are not the client's).
// quota_exceeded (429) carries Retry-After.
Response response_for(const Error& error);

// Helpers for the routes' handlers.
// The query's parameters, each named at most once and each one of `allowed` (else
// Error::invalid naming it).
std::map<std::string, std::string> query_of(std::string_view target,
                                            std::initializer_list<std::string_view> allowed);
// A query parameter as an integer, or Error::invalid naming `field`.
std::int64_t integer_parameter(std::string_view field, const std::string& text);
// {"success": true, name: json}.
std::string success_with(std::string_view name, std::string_view json);

class Api {
  public:
    // Response producers spool to `spool_directory` (empty: the system temp folder).
    explicit Api(Hub& hub, std::filesystem::path spool_directory = {});

    // Decides whether a request may proceed to its body. `authorization` and `cookie` are the
    // header values (empty when absent), `signed_headers` those of a signed request
    // (request_signing.hpp: a request authenticates by a token or by a signature, never both).
    // The admission's refusal is set when it may not.
    Admission admit(std::string_view method, std::string_view target,
                    std::string_view authorization, std::string_view cookie,
                    const SignedHeaders& signed_headers = {}) const;

    // Adds an endpoint, replacing one of the same method and pattern; only before the server
    // starts (tests add routes of their own, or stand in for one, through server::api_of,
    // include/sihlicon/server.hpp).
    void add_route(Route route) { routes_.add_or_replace(std::move(route)); }

    // The endpoints (for the role table walk of the tests).
    const RouteTable& routes() const noexcept { return routes_; }

    // Runs an admitted request: `body` for a route without streaming_body, `spooled` for one
    // with it. A signed request whose body's SHA-256 is not the one it signed is refused 401
    // and runs nothing. Runs a response's producer (see Response), except for HEAD. Never
    // throws: every failure is a Response. A HEAD answer is sent without its body and with only
    // the Content-Length its handler states in `headers` (server.cpp).
    Response handle(const Admission& admission, std::string_view target,
                    std::string_view content_type, std::string_view body,
                    const SpoolFile* spooled = nullptr) const;

  private:
    // The rate limit of a client token's request: sets admission.rate_headers; the 429
    // refusal when over the limit.
    std::optional<Response> count_request(Admission& admission) const;
    // A signed request's headers: sets the admission's identity and body digest, or returns
    // the 401 (also when a token was presented as well).
    std::optional<Response> admit_signed(Admission& admission, std::string_view method,
                                         std::string_view target, const SignedHeaders& headers,
                                         bool token_presented) const;

    Hub* hub_;
    std::filesystem::path spool_directory_;
    ApiTokens tokens_;
    std::unique_ptr<RequestVerifier> verifier_;
    RouteTable routes_;
    std::unique_ptr<RateLimiter> limiter_ = std::make_unique<RateLimiter>();
};

}  // namespace sihlicon::server
