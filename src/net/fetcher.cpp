// SPDX-License-Identifier: Apache-2.0
//
// fetcher.hpp over net/http_client.hpp and ContentStore::import_car (which reads the CAR
// through cas::CarReader, verifying each block as it arrives). Lives in src/net beside the
// HTTP client it drives; what it stores is decided by the content store alone.
#include "cas/car_reader.hpp"
#include "net/http_client.hpp"

#include <sihlicon/cid.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/fetcher.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace sihlicon {

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kCarType = "application/vnd.ipld.car";

void validate(const FetchOptions& options) {
    if (options.gateways.empty()) {
        throw Error::invalid("gateways", "", "must name at least one gateway");
    }
    for (std::size_t i = 0; i < options.gateways.size(); ++i) {
        const auto& gateway = options.gateways[i];
        try {
            net::parse_http_url(gateway.url);
        } catch (const Error& error) {
            throw Error(error.code(), error.what(), fmt::format("gateways[{}].url", i));
        }
        if (gateway.token.size() > 4096 ||
            !std::all_of(gateway.token.begin(), gateway.token.end(),
                         [](char c) { return c > ' ' && c < 0x7f; })) {
            throw Error::invalid(fmt::format("gateways[{}].token", i), "",
                                 "must be printable ASCII without spaces, at most 4096 bytes");
        }
    }
    if (options.connect_timeout.count() <= 0 || options.idle_timeout.count() <= 0 ||
        options.timeout.count() <= 0 || options.retry_budget.count() < 0 ||
        options.retry_initial.count() <= 0) {
        throw Error::invalid("timeouts", "", "must be above zero (retry_budget at least zero)");
    }
    if (options.max_bytes == 0) {
        throw Error::invalid("maxBytes", "0", "must be above zero");
    }
    if (options.max_blocks == 0) {
        throw Error::invalid("maxBlocks", "0", "must be above zero");
    }
}

net::HttpClientOptions client_options(const Gateway& gateway, const FetchOptions& options) {
    net::HttpClientOptions client;
    client.url = net::parse_http_url(gateway.url);
    client.ca_file = options.ca_file;
    client.connect_timeout = options.connect_timeout;
    client.request_timeout = options.idle_timeout;
    client.retry_initial = options.retry_initial;
    client.retry_max = std::max(options.retry_initial, milliseconds(2'000));
    client.max_response_bytes = options.max_bytes;
    return client;
}

// What one gateway did: served the content, or a problem to report if no other serves it.
struct Attempt {
    std::optional<FetchResult> result;
    std::string problem;
    bool absent = false;  // 404 or 410
};

Attempt fetch_from(ContentStore& store, const Cid& cid, std::string_view owner,
                   const Gateway& gateway, const FetchOptions& options) {
    net::HttpClient client(client_options(gateway, options));
    std::vector<std::pair<std::string, std::string>> headers{{"Accept", std::string(kCarType)}};
    if (!gateway.token.empty()) {
        headers.emplace_back("Authorization", "Bearer " + gateway.token);
    }
    const auto deadline = Clock::now() + options.timeout;
    Attempt attempt;
    auto response =
        client.open("GET", fmt::format("/ipfs/{}?format=car&dag-scope=all", cid.to_string()),
                    headers, std::min(options.retry_budget, options.timeout));
    if (response.status() != 200) {
        attempt.absent = response.status() == 404 || response.status() == 410;
        std::string body;
        try {
            std::vector<std::uint8_t> start(512);
            body.assign(reinterpret_cast<const char*>(start.data()), response.read(start));
        } catch (const Error&) {
        }
        attempt.problem = fmt::format("HTTP {} {}", response.status(), printable(body, 200));
        return attempt;
    }
    const auto type = response.header("content-type");
    if (!type.starts_with(kCarType)) {
        attempt.problem =
            fmt::format("answered Content-Type '{}', not {}", printable(type, 100), kCarType);
        return attempt;
    }
    std::uint64_t read = 0;
    bool pulled = false;  // import_car asked for bytes: it checked the owner and options first
    // The root and the number of blocks are checked as the bytes pass to import_car, which
    // verifies each block against its CID.
    cas::CarStreamGuard guard(cid, options.max_blocks);
    const ContentStore::ByteSource source = [&](std::span<std::uint8_t> buffer) {
        if (Clock::now() > deadline) {
            throw Error(ErrorCode::io,
                        fmt::format("the transfer took longer than {} ms", options.timeout.count()),
                        "timeout");
        }
        pulled = true;
        const std::size_t got = response.read(buffer);
        read += got;
        guard.observe(buffer.first(got));
        return got;
    };
    try {
        auto manifests = store.import_car(source, owner, options.put);
        attempt.result = FetchResult{std::move(manifests.front()), gateway.url, read};
    } catch (const Error& error) {
        if (error.code() == ErrorCode::integrity) {
            throw Error(ErrorCode::integrity,
                        fmt::format("fetch {} from {}: {}; nothing was stored", cid.to_string(),
                                    gateway.url, error.what()),
                        error.field());
        }
        // Before the first byte is read, import_car checked the owner and options.put: an
        // error then is the caller's, not the gateway's.
        if (!pulled && error.code() != ErrorCode::io) {
            throw;
        }
        // After it, a malformed or incomplete CAR or a network failure is the gateway's;
        // what concerns the owner (quota, permission) is not, and is no use retrying.
        if (error.code() != ErrorCode::io && error.code() != ErrorCode::invalid_argument) {
            throw;
        }
        attempt.problem = error.what();
    }
    return attempt;
}

}  // namespace

FetchResult fetch_content(ContentStore& store, std::string_view cid, std::string_view owner,
                          const FetchOptions& options) {
    const Cid root = Cid::parse_any_version(cid, "cid").to_v1();
    validate(options);
    std::vector<std::string> problems;
    bool all_absent = true;
    for (const auto& gateway : options.gateways) {
        Attempt attempt;
        try {
            attempt = fetch_from(store, root, owner, gateway, options);
        } catch (const Error& error) {
            if (error.code() != ErrorCode::io) {
                throw;
            }
            attempt.problem = error.what();  // could not be reached: the next one
        }
        if (attempt.result) {
            return std::move(*attempt.result);
        }
        all_absent = all_absent && attempt.absent;
        problems.push_back(fmt::format("{}: {}", gateway.url, attempt.problem));
    }
    std::string joined;
    for (const auto& problem : problems) {
        joined += (joined.empty() ? "" : "; ") + problem;
    }
    if (all_absent) {
        throw Error(ErrorCode::not_found,
                    fmt::format("no gateway has {}: {}", root.to_string(), joined), "cid");
    }
    throw Error(ErrorCode::io, fmt::format("no gateway served {}: {}", root.to_string(), joined),
                "gateways");
}

}  // namespace sihlicon
