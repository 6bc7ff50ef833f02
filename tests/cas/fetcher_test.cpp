// SPDX-License-Identifier: Apache-2.0
//
// The fetcher (include/sihlicon/fetcher.hpp) against a sihlicon::Server on 127.0.0.1 whose
// test route GET /ipfs/{cid} serves ContentStore::export_car (standing in for the gateway
// routes) and variants that forge a block, name another root, or answer garbage: content
// arrives verified and stored, a forged block aborts with integrity and stores nothing, a
// gateway that is down or answers badly is passed over for the next one.
#include "server/api.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/cid.hpp>
#include <sihlicon/fetcher.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/server.hpp>
#include <sihlicon/tokens.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace sihlicon::testing {

namespace {

using namespace std::chrono_literals;
using server::Request;
using server::Response;

// 600 KB: three leaves and a root node.
std::string big_text() {
    std::string text(600'000, '\0');
    for (std::size_t i = 0; i < text.size(); ++i) {
        text[i] = static_cast<char>('a' + (i * 7919) % 26);
    }
    return text;
}

std::vector<std::uint8_t> bytes_of(std::string_view text) {
    return {text.begin(), text.end()};
}

// What a test route does to the CAR it serves.
enum class Serve { faithful, forged_block, other_root, garbage };

struct FetchFixture {
    TempDir dir;
    Hub source = Hub::open(dir / "source");
    Hub target = Hub::open(dir / "target");
    std::string token;
    std::unique_ptr<Server> server;
    Manifest big;
    Manifest small;

    explicit FetchFixture(Serve serve = Serve::faithful) {
        ApiTokens tokens(source);
        token = tokens.create(kOperatorPrincipal, "ann", Role::client).secret;
        big = source.content_store().put_bytes(bytes_of(big_text()), "ann", named("big.txt"));
        small =
            source.content_store().put_bytes(bytes_of("a small page"), "ann", named("small.txt"));
        server = std::make_unique<Server>(source, ServerOptions{});
        auto& api = server::api_of(*server);
        Hub* hub = &source;
        const std::string other = small.content_id;
        api.add_route({"GET",
                       "/ipfs/{cid}",
                       false,
                       {Role::client},
                       [hub, serve, other](const Request& request) {
                           Response response;
                           response.content_type = serve == Serve::garbage
                                                       ? "text/html"
                                                       : "application/vnd.ipld.car; version=1";
                           const std::string cid =
                               serve == Serve::other_root ? other : request.param("cid");
                           const std::string principal(request.identity->acting_principal());
                           response.producer = [hub, serve, cid,
                                                principal](const ContentStore::ByteSink& sink) {
                               std::vector<std::uint8_t> car;
                               hub->content_store().export_car(
                                   cid, principal, [&](std::span<const std::uint8_t> bytes) {
                                       car.insert(car.end(), bytes.begin(), bytes.end());
                                   });
                               if (serve == Serve::forged_block) {
                                   car.back() ^= 0x01;  // the last block's last byte
                               }
                               if (serve == Serve::garbage) {
                                   car = bytes_of("<html>not a CAR</html>");
                               }
                               sink(car);
                           };
                           return response;
                       }});
        server->start();
    }

    static PutOptions named(std::string name) {
        PutOptions options;
        options.file_name = std::move(name);
        return options;
    }

    std::string url() const { return fmt::format("http://127.0.0.1:{}", server->port()); }

    Gateway gateway() const { return Gateway{url(), token}; }

    FetchOptions options(std::vector<std::string> urls) const {
        std::vector<Gateway> gateways;
        for (auto& url : urls) {
            gateways.push_back(Gateway{std::move(url), token});
        }
        return options_for(std::move(gateways));
    }

    FetchOptions options_for(std::vector<Gateway> gateways) const {
        FetchOptions fetch;
        fetch.gateways = std::move(gateways);
        fetch.retry_budget = 300ms;
        fetch.retry_initial = 50ms;
        return fetch;
    }

    // Block files of the target's blob folder (every tier, staging included): files named by
    // a CID. (A failed import leaves its abandoned put journal by design: put_journal.hpp.)
    std::size_t target_blocks() const {
        std::size_t count = 0;
        for (const auto& entry :
             std::filesystem::recursive_directory_iterator(target.blob_directory())) {
            const auto name = entry.path().filename().string();
            if (entry.is_regular_file() && (name.starts_with("bafy") || name.starts_with("bafk"))) {
                ++count;
            }
        }
        return count;
    }

    std::string target_bytes(const std::string& cid) {
        std::string out;
        target.content_store().get(cid, "bob", [&](std::span<const std::uint8_t> bytes) {
            out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        });
        return out;
    }
};

ErrorCode code_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& error) {
        return error.code();
    }
    FAIL("no error");
    return ErrorCode::internal;
}

// A port nothing listens on: one a server had, closed again.
std::string dead_url() {
    TempDir dir;
    auto hub = Hub::open(dir.path());
    Server server(hub, ServerOptions{});
    server.start();
    const auto port = server.port();
    server.stop();
    return fmt::format("http://127.0.0.1:{}", port);
}

}  // namespace

TEST_CASE("the fetcher downloads a CAR from a sihlicon hub, verifies it and stores it") {
    FetchFixture f;
    const auto result =
        fetch_content(f.target.content_store(), f.big.content_id, "bob", f.options({f.url()}));
    CHECK(result.manifest.content_id == f.big.content_id);
    CHECK(result.manifest.owner == "bob");
    CHECK(result.manifest.file_size_bytes == 600'000);
    CHECK(result.gateway == f.url());
    CHECK(result.car_bytes > 600'000);
    CHECK(f.target_bytes(f.big.content_id) == big_text());
}

TEST_CASE(
    "a gateway serving a block that does not hash to its CID aborts with integrity and "
    "nothing is stored") {
    FetchFixture forged(Serve::forged_block);
    FetchFixture honest;
    try {
        // The honest gateway second: a forged block aborts the fetch, it is not tried.
        fetch_content(forged.target.content_store(), forged.big.content_id, "bob",
                      forged.options_for({forged.gateway(), honest.gateway()}));
        FAIL("a forged block was accepted");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::integrity);
        CHECK(std::string(error.what()).find(forged.big.content_id) != std::string::npos);
        CHECK(std::string(error.what()).find("does not hash") != std::string::npos);
        CHECK(error.field() == "block");
    }
    CHECK(forged.target.content_store().list("bob").empty());
    CHECK(forged.target_blocks() == 0);
    CHECK(forged.target.content_store().collect_garbage() == 0);
}

TEST_CASE("the fetcher passes over a gateway that is down or answers badly for the next one") {
    FetchFixture f;
    FetchFixture garbage(Serve::garbage);
    const auto result =
        fetch_content(f.target.content_store(), f.big.content_id, "bob",
                      f.options_for({Gateway{dead_url(), ""}, garbage.gateway(), f.gateway()}));
    CHECK(result.gateway == f.url());
    CHECK(f.target_bytes(f.big.content_id) == big_text());

    // None serves it: io naming every gateway's problem; nothing stored.
    FetchFixture other;
    const auto down = dead_url();
    try {
        fetch_content(other.target.content_store(), other.big.content_id, "bob",
                      other.options_for({Gateway{down, ""}, garbage.gateway()}));
        FAIL("fetched from nowhere");
    } catch (const Error& error) {
        INFO(std::string(error.what()));
        CHECK(error.code() == ErrorCode::io);
        CHECK(std::string(error.what()).find(down) != std::string::npos);
        CHECK(std::string(error.what()).find("Content-Type") != std::string::npos);
    }
    CHECK(other.target.content_store().list("bob").empty());
    // Every gateway answers 404 (content its token may not read): not_found.
    const auto hidden = f.source.content_store().put_bytes(bytes_of("carl's notes"), "carl",
                                                           FetchFixture::named("n"));
    CHECK(code_of([&] {
              fetch_content(f.target.content_store(), hidden.content_id, "bob",
                            f.options({f.url(), f.url()}));
          }) == ErrorCode::not_found);
}

TEST_CASE("a CAR whose root is not the CID asked for is refused with integrity, nothing stored") {
    FetchFixture f(Serve::other_root);
    try {
        fetch_content(f.target.content_store(), f.big.content_id, "bob", f.options({f.url()}));
        FAIL("another root was accepted");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::integrity);
        CHECK(error.field() == "roots");
        CHECK(std::string(error.what()).find(f.big.content_id) != std::string::npos);
    }
    CHECK(f.target.content_store().list("bob").empty());
    CHECK(f.target_blocks() == 0);
}

TEST_CASE(
    "the fetcher's limits (too many blocks or bytes) pass a gateway over and bad options are "
    "refused before anything is sent") {
    FetchFixture f;
    auto few = f.options({f.url()});
    few.max_blocks = 2;  // the big file has four
    CHECK(code_of([&] { fetch_content(f.target.content_store(), f.big.content_id, "bob", few); }) ==
          ErrorCode::io);
    auto small = f.options({f.url()});
    small.max_bytes = 100'000;
    CHECK(code_of([&] {
              fetch_content(f.target.content_store(), f.big.content_id, "bob", small);
          }) == ErrorCode::io);
    CHECK(f.target.content_store().list("bob").empty());
    CHECK(f.target_blocks() == 0);

    CHECK(code_of([&] {
              fetch_content(f.target.content_store(), f.big.content_id, "bob", FetchOptions{});
          }) == ErrorCode::invalid_argument);
    CHECK(code_of([&] {
              fetch_content(f.target.content_store(), "not-a-cid", "bob", f.options({f.url()}));
          }) == ErrorCode::invalid_argument);
    CHECK(code_of([&] {
              fetch_content(f.target.content_store(), f.big.content_id, "bob",
                            f.options({f.url() + "/path"}));
          }) == ErrorCode::invalid_argument);
    auto spaced = f.options({f.url()});
    spaced.gateways[0].token = "a b";
    CHECK(code_of([&] {
              fetch_content(f.target.content_store(), f.big.content_id, "bob", spaced);
          }) == ErrorCode::invalid_argument);
}

}  // namespace sihlicon::testing
