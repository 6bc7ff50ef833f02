// SPDX-License-Identifier: Apache-2.0
//
// The server's endpoints over the hub's public API (server/api.hpp).
#include "server/api.hpp"

#include "core/json.hpp"

#include <sihlicon/crypto.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/scheduler.hpp>
#include <sihlicon/settings.hpp>
#include <sihlicon/settlement.hpp>
#include <sihlicon/text.hpp>
#include <sihlicon/version.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <map>

namespace sihlicon::server {

namespace {

// The one table from the library's error codes to HTTP statuses.
constexpr std::array<std::pair<ErrorCode, int>, 10> kStatusOfError{{
    {ErrorCode::invalid_argument, 400},
    {ErrorCode::not_found, 404},
    {ErrorCode::conflict, 409},
    {ErrorCode::permission_denied, 403},
    {ErrorCode::quota_exceeded, 429},
    {ErrorCode::insufficient_funds, 402},
    {ErrorCode::integrity, 500},
    {ErrorCode::io, 500},
    {ErrorCode::busy, 503},
    {ErrorCode::internal, 500},
}};

constexpr std::string_view kSessionCookie = "sihlhack_session";
// How long a client is told to wait after a quota refusal whose message names no time.
constexpr std::string_view kDefaultRetryAfterSeconds = "60";

// The longest {param} path segment.
constexpr std::size_t kMaxParamBytes = 128;

std::string_view path_of(std::string_view target) {
    return target.substr(0, target.find('?'));
}

bool is_job_id_character(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) {
            return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
        };
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

// What a request presents as its credential.
struct Presented {
    bool any = false;        // an Authorization header or the session cookie is there
    std::string_view token;  // the token, empty for another scheme than Bearer
};

// The token of "Authorization: Bearer <token>", else of the session cookie.
Presented presented_token(std::string_view authorization, std::string_view cookie) {
    authorization = trim(authorization);
    if (!authorization.empty()) {
        const auto space = authorization.find(' ');
        if (space != std::string_view::npos && iequals(authorization.substr(0, space), "Bearer")) {
            return {true, trim(authorization.substr(space + 1))};
        }
        return {true, {}};  // another scheme (or none): never one of our tokens
    }
    while (!cookie.empty()) {
        const auto end = cookie.find(';');
        const auto pair = trim(cookie.substr(0, end));
        const auto equals = pair.find('=');
        if (equals != std::string_view::npos && trim(pair.substr(0, equals)) == kSessionCookie) {
            auto value = trim(pair.substr(equals + 1));
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
                value = value.substr(1, value.size() - 2);
            }
            return {true, value};
        }
        cookie.remove_prefix(end == std::string_view::npos ? cookie.size() : end + 1);
    }
    return {};
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::string percent_decoded(std::string_view field, std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+') {
            out += ' ';
        } else if (text[i] == '%') {
            const int high = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
            const int low = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
            if (high < 0 || low < 0) {
                throw Error::invalid(field, text, "has a malformed percent escape");
            }
            out += static_cast<char>(high * 16 + low);
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

}  // namespace

std::map<std::string, std::string> query_of(std::string_view target,
                                            std::initializer_list<std::string_view> allowed) {
    std::map<std::string, std::string> parameters;
    const auto mark = target.find('?');
    if (mark == std::string_view::npos) {
        return parameters;
    }
    std::string_view query = target.substr(mark + 1);
    while (!query.empty()) {
        const auto end = query.find('&');
        const auto pair = query.substr(0, end);
        query.remove_prefix(end == std::string_view::npos ? query.size() : end + 1);
        if (pair.empty()) {
            continue;
        }
        const auto equals = pair.find('=');
        auto name = percent_decoded("query", pair.substr(0, equals));
        auto value = equals == std::string_view::npos
                         ? std::string()
                         : percent_decoded(name, pair.substr(equals + 1));
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
            throw Error::invalid(name, value, "is not a parameter of this endpoint");
        }
        if (!parameters.emplace(name, std::move(value)).second) {
            throw Error::invalid(name, parameters[name], "is given more than once");
        }
    }
    return parameters;
}

std::int64_t integer_parameter(std::string_view field, const std::string& text) {
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
        throw Error::invalid(field, text, "is not an integer");
    }
    return value;
}

std::string success_with(std::string_view name, std::string_view json) {
    return fmt::format(R"({{"success":true,"{}":{}}})", name, json);
}

Response error_response(int status, std::string_view message, std::string_view details_json) {
    std::string body = R"({"error":)" + boost::json::serialize(boost::json::string(message));
    if (!details_json.empty()) {
        body += R"(,"details":)";
        body += details_json;
    }
    return {status, body + "}", {}};
}

Response response_for(const Error& error) {
    int status = 500;
    for (const auto& [code, mapped] : kStatusOfError) {
        if (code == error.code()) {
            status = mapped;
        }
    }
    if (status == 500) {
        return error_response(500, "internal server error");
    }
    const boost::json::object details{
        {"code", to_string(error.code())},
        {"field",
         error.field().empty() ? boost::json::value(nullptr) : boost::json::value(error.field())},
    };
    auto response = error_response(status, error.what(), boost::json::serialize(details));
    if (status == 429) {
        // The scheduler's quota messages end with "retry in N s".
        const std::string_view message = error.what();
        const auto at = message.rfind("retry in ");
        std::string seconds(kDefaultRetryAfterSeconds);
        if (at != std::string_view::npos) {
            const auto digits = message.substr(at + 9);
            const auto end = digits.find_first_not_of("0123456789");
            if (end != 0 && end != std::string_view::npos && digits.substr(end).starts_with(" s")) {
                seconds = std::string(digits.substr(0, end));
            }
        }
        response.headers.emplace_back("Retry-After", seconds);
    }
    return response;
}

RateLimiter::Decision RateLimiter::count(std::string_view principal, std::int64_t now_ms,
                                         std::int64_t limit) {
    const auto window = now_ms >= 0 ? now_ms / kWindowMs : (now_ms - kWindowMs + 1) / kWindowMs;
    const std::lock_guard lock(mutex_);
    if (window != window_) {
        window_ = window;
        counts_.clear();  // every counter belongs to the window that ended
    }
    auto it = counts_.find(principal);
    if (it == counts_.end()) {
        it = counts_.emplace(std::string(principal), 0).first;
    }
    Decision decision;
    decision.limit = limit;
    const auto end_ms = (window + 1) * kWindowMs;
    decision.reset_seconds = end_ms / 1000;
    decision.retry_after = std::max<std::int64_t>(1, (end_ms - now_ms + 999) / 1000);
    decision.allowed = it->second < limit;
    if (decision.allowed) {
        ++it->second;
    }
    decision.remaining = limit - it->second;
    return decision;
}

const std::string& Request::param(std::string_view name) const {
    const auto it = params->find(name);
    if (it == params->end()) {
        throw Error(ErrorCode::internal, fmt::format("the route has no parameter {}", name));
    }
    return it->second;
}

std::uint64_t Request::body_size() const {
    return spooled != nullptr ? spooled->size() : body.size();
}

ContentStore::ByteSource Request::body_source() const {
    if (spooled != nullptr) {
        return spooled->source(0, spooled->size());
    }
    return [rest = body](std::span<std::uint8_t> buffer) mutable {
        const auto count = std::min(buffer.size(), rest.size());
        std::copy_n(rest.data(), count, reinterpret_cast<char*>(buffer.data()));
        rest.remove_prefix(count);
        return count;
    };
}

void RouteTable::add(Route route) {
    routes_.push_back(std::move(route));
}

void RouteTable::add_or_replace(Route route) {
    const auto same = std::find_if(routes_.begin(), routes_.end(), [&](const Route& existing) {
        return existing.method == route.method && existing.pattern == route.pattern;
    });
    if (same == routes_.end()) {
        routes_.push_back(std::move(route));
    } else {
        *same = std::move(route);
    }
}

std::vector<std::pair<const Route*, RouteTable::Params>> RouteTable::match(
    std::string_view path) const {
    std::vector<std::pair<const Route*, Params>> found;
    for (const auto& route : routes_) {
        Params params;
        std::string_view rest = path;
        std::string_view pattern = route.pattern;
        bool matches = true;
        while (matches && !pattern.empty()) {
            if (rest.empty() || rest.front() != '/' || pattern.front() != '/') {
                matches = false;
                break;
            }
            pattern.remove_prefix(1);
            rest.remove_prefix(1);
            const auto segment = pattern.substr(0, pattern.find('/'));
            const auto given = rest.substr(0, rest.find('/'));
            pattern.remove_prefix(segment.size());
            rest.remove_prefix(given.size());
            if (segment.size() > 2 && segment.front() == '{' && segment.back() == '}') {
                matches = !given.empty() && given.size() <= kMaxParamBytes &&
                          std::all_of(given.begin(), given.end(), is_job_id_character);
                params.emplace(segment.substr(1, segment.size() - 2), given);
            } else {
                matches = segment == given;
            }
        }
        if (matches && rest.empty()) {
            found.emplace_back(&route, std::move(params));
        }
    }
    return found;
}

void add_well_known_routes(RouteTable& table, Hub& hub) {
    table.add({"GET",
               "/.well-known/sihlicon.json",
               true,
               {},
               [instance_id = hub.info().instance_id](const Request& request) {
                   query_of(request.target, {});
                   const boost::json::object document{
                       {"instanceId", instance_id},
                       {"libraryVersion", library_version()},
                       {"signer", request.hub->settlement().operator_address().to_string()},
                   };
                   return Response{200, boost::json::serialize(document), {}};
               }});
}

namespace {

Response signature_refusal(std::string_view message, std::string_view reason,
                           std::string_view field) {
    auto refusal =
        error_response(401, message,
                       boost::json::serialize(boost::json::object{
                           {"code", "unauthenticated"}, {"reason", reason}, {"field", field}}));
    refusal.headers.emplace_back("WWW-Authenticate", "Bearer");
    return refusal;
}

// A signed request's body against the digest it signed: the 401 when they differ.
std::optional<Response> check_body_digest(std::string_view expected, std::string_view body,
                                          const SpoolFile* spooled) {
    crypto::Sha256 hash;
    if (spooled != nullptr) {
        auto source = spooled->source(0, spooled->size());
        std::vector<std::uint8_t> buffer(1 << 16);
        while (const auto count = source(buffer)) {
            hash.update(std::span<const std::uint8_t>(buffer.data(), count));
        }
    } else {
        hash.update(body);
    }
    if (crypto::to_hex(hash.finish()) == expected) {
        return std::nullopt;
    }
    return signature_refusal(
        fmt::format("the body's SHA-256 is not the {} the request signed", kContentSha256Header),
        "body_digest_mismatch", kContentSha256Header);
}

Response with_rate_headers(const Admission& admission, Response response) {
    for (const auto& header : admission.rate_headers) {
        response.headers.push_back(header);
    }
    return response;
}

}  // namespace

Api::Api(Hub& hub, std::filesystem::path spool_directory)
    : hub_(&hub),
      spool_directory_(std::move(spool_directory)),
      tokens_(hub),
      verifier_(std::make_unique<RequestVerifier>(hub)) {
    add_well_known_routes(routes_, hub);
    add_compute_routes(routes_, hub);
    add_workers_routes(routes_, hub);
    add_storage_routes(routes_, hub);
    add_heat_routes(routes_, hub);
    add_settlement_routes(routes_, hub);
    add_gateway_routes(routes_, hub);
    add_events_routes(routes_, hub);
}

std::optional<Response> Api::count_request(Admission& admission) const {
    const auto limit = hub_->settings().api_requests_per_hour;
    if (limit == 0) {
        return std::nullopt;  // unlimited
    }
    const auto decision =
        limiter_->count(admission.identity->principal, hub_->clock().now().ms(), limit);
    admission.rate_headers = {
        {"X-RateLimit-Limit", std::to_string(decision.limit)},
        {"X-RateLimit-Remaining", std::to_string(decision.remaining)},
        {"X-RateLimit-Reset", std::to_string(decision.reset_seconds)},
    };
    if (decision.allowed) {
        return std::nullopt;
    }
    auto refusal =
        error_response(429,
                       fmt::format("rate limit exceeded: {} requests per hour; retry in {} s",
                                   decision.limit, decision.retry_after),
                       boost::json::serialize(boost::json::object{
                           {"code", "quota_exceeded"}, {"field", "apiRequestsPerHour"}}));
    refusal.headers.emplace_back("Retry-After", std::to_string(decision.retry_after));
    refusal.headers.insert(refusal.headers.end(), admission.rate_headers.begin(),
                           admission.rate_headers.end());
    return refusal;
}

std::optional<Response> Api::admit_signed(Admission& admission, std::string_view method,
                                          std::string_view target, const SignedHeaders& headers,
                                          bool token_presented) const {
    if (token_presented) {
        return signature_refusal(
            "send either an API token or a signature (Sihlicon-Signature), not both", "ambiguous",
            "Authorization");
    }
    try {
        auto check = verifier_->check(method, target, headers);
        if (!check.identity) {
            return signature_refusal(check.reason, check.code, check.field);
        }
        admission.identity = std::move(check.identity);
        admission.body_sha256 = std::move(check.content_sha256);
        return std::nullopt;
    } catch (const Error& error) {
        return response_for(error);
    }
}

Admission Api::admit(std::string_view method, std::string_view target,
                     std::string_view authorization, std::string_view cookie,
                     const SignedHeaders& signed_headers) const {
    const auto path = path_of(target);
    Admission admission;
    admission.method = std::string(method);
    auto matches = routes_.match(path);
    const bool is_public = !matches.empty() &&
                           std::all_of(matches.begin(), matches.end(),
                                       [](const auto& match) { return match.first->public_route; });
    // Routes that admit a request without a credential (Route::anonymous) check a presented
    // one (a token or a signature) all the same.
    const bool anonymous =
        !matches.empty() &&
        std::all_of(matches.begin(), matches.end(),
                    [](const auto& match) {
                        return match.first->public_route || match.first->anonymous;
                    }) &&
        !presented_token(authorization, cookie).any && !signed_headers.any();
    if (!is_public && !anonymous) {
        const auto presented = presented_token(authorization, cookie);
        if (signed_headers.any()) {
            if (auto refusal =
                    admit_signed(admission, method, target, signed_headers, presented.any)) {
                admission.refusal = std::move(refusal);
                return admission;
            }
        } else if (!presented.any) {
            auto refusal = error_response(401,
                                          "authentication required: send an API token as "
                                          "'Authorization: Bearer <token>'");
            refusal.headers.emplace_back("WWW-Authenticate", "Bearer");
            admission.refusal = std::move(refusal);
            return admission;
        }
        try {
            if (!admission.identity && !presented.token.empty()) {
                admission.identity = tokens_.authenticate(presented.token);
            }
        } catch (const Error& error) {
            admission.refusal = response_for(error);
            return admission;
        }
        if (!admission.identity) {
            auto refusal = error_response(401, "the API token is not valid (unknown or revoked)");
            refusal.headers.emplace_back("WWW-Authenticate", R"(Bearer error="invalid_token")");
            admission.refusal = std::move(refusal);
            return admission;
        }
        if (admission.identity->role == Role::client) {
            try {
                if (auto refusal = count_request(admission)) {
                    admission.refusal = std::move(refusal);
                    return admission;
                }
            } catch (const Error& error) {
                admission.refusal = response_for(error);
                return admission;
            }
        }
    }
    // Every answer to a counted request carries its rate limit headers.
    const auto refuse = [&admission](Response response) {
        for (const auto& header : admission.rate_headers) {
            response.headers.push_back(header);
        }
        admission.refusal = std::move(response);
        return admission;
    };
    if (matches.empty()) {
        return refuse(error_response(404, fmt::format("no route {}", printable(path, 200))));
    }
    for (auto& [route, params] : matches) {
        if (route->method == method && admission.route == nullptr) {
            admission.route = route;
            admission.params = std::move(params);
        }
    }
    if (admission.route == nullptr) {
        std::string allow;
        for (const auto& match : matches) {
            allow += (allow.empty() ? "" : ", ") + match.first->method;
        }
        auto refusal = error_response(
            405,
            fmt::format("{} is not allowed on {}", printable(method, 20), printable(path, 200)),
            boost::json::serialize(boost::json::object{{"allow", allow}}));
        refusal.headers.emplace_back("Allow", allow);
        return refuse(std::move(refusal));
    }
    if (admission.route->public_route || !admission.identity) {
        return admission;  // public, or an anonymous request to a Route::anonymous route
    }
    const auto& identity = *admission.identity;
    const auto& roles = admission.route->roles;
    if (std::find(roles.begin(), roles.end(), identity.role) == roles.end()) {
        return refuse(error_response(
            403, fmt::format("a token of role {} may not call {} {}", to_string(identity.role),
                             method, printable(path, 200))));
    }
    // The one check that a worker token acts only as its own worker, for every route with a
    // {workerId} segment.
    if (const auto it = admission.params.find("workerId"); it != admission.params.end() &&
                                                           identity.role == Role::worker &&
                                                           it->second != identity.worker_id) {
        admission.refusal =
            error_response(403, fmt::format("this worker token acts only for worker '{}', not '{}'",
                                            identity.worker_id, it->second));
    }
    return admission;
}

Response Api::handle(const Admission& admission, std::string_view target,
                     std::string_view content_type, std::string_view body,
                     const SpoolFile* spooled) const {
    try {
        if (admission.route == nullptr) {
            return error_response(404, "no route");
        }
        if (!admission.body_sha256.empty()) {
            if (auto refusal = check_body_digest(admission.body_sha256, body, spooled)) {
                return with_rate_headers(admission, std::move(*refusal));
            }
        }
        Request request;
        request.identity = admission.identity ? &*admission.identity : nullptr;
        request.params = &admission.params;
        request.target = target;
        request.content_type = content_type;
        request.body = body;
        request.lease_token = admission.lease_token;
        request.accept = admission.accept;
        request.last_event_id = admission.last_event_id;
        request.spooled = spooled;
        request.hub = hub_;
        request.spool_directory = spool_directory_;
        auto response = admission.route->handler(request);
        if (response.producer) {
            if (response.status == 200 && admission.method != "HEAD") {
                auto file = SpoolFile::create(spool_directory_);
                response.producer(
                    [&file](std::span<const std::uint8_t> bytes) { file->append(bytes); });
                response.file = std::move(file);
            }
            response.producer = nullptr;
        }
        return with_rate_headers(admission, std::move(response));
    } catch (const Error& error) {
        return with_rate_headers(admission, response_for(error));
    } catch (const std::bad_alloc&) {
        return error_response(503, "the server is out of memory");
    } catch (...) {
        return with_rate_headers(admission, error_response(500, "internal server error"));
    }
}

}  // namespace sihlicon::server
