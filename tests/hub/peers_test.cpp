// SPDX-License-Identifier: Apache-2.0
// Peers (include/sihlicon/peers.hpp): the operator adds, lists and removes the hubs this hub
// knows; URLs are checked; the token this hub presents is kept but never listed or shown.
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/peers.hpp>
#include <sihlicon/principal.hpp>

#include <functional>
#include <string>
#include <vector>

using namespace sihlicon;
using sihlicon::testing::TempDir;

namespace {

const std::string kToken = "sih_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

Error refusal(const std::function<void()>& call) {
    try {
        call();
    } catch (const Error& error) {
        return error;
    }
    FAIL("accepted");
    return Error(ErrorCode::internal, "unreachable");
}

}  // namespace

TEST_CASE("the operator adds, lists and removes peers, which survive reopening the hub") {
    TempDir dir;
    {
        auto hub = Hub::open(dir.path());
        auto peers = Peers(hub);
        CHECK(peers.list(kOperatorPrincipal).empty());
        const auto zurich =
            peers.add(kOperatorPrincipal, "hub-zurich", "https://zurich.example.ch:8443", kToken);
        CHECK(zurich.hub_id == "hub-zurich");
        CHECK(zurich.url == "https://zurich.example.ch:8443");
        peers.add(kOperatorPrincipal, "hub-basel", "http://[::1]:8080/sihlicon/", "other-token");
        peers.add(kOperatorPrincipal, "hub-bern", "http://10.0.0.7", "t");
    }
    auto hub = Hub::open(dir.path());
    auto peers = Peers(hub);
    const auto listed = peers.list(kOperatorPrincipal);
    REQUIRE(listed.size() == 3);
    CHECK(listed[0].hub_id == "hub-basel");
    CHECK(listed[1].hub_id == "hub-bern");
    CHECK(listed[2].hub_id == "hub-zurich");
    CHECK(peers.token(kOperatorPrincipal, "hub-zurich") == kToken);

    const auto removed = peers.remove(kOperatorPrincipal, "hub-bern");
    CHECK(removed.url == "http://10.0.0.7");
    CHECK(peers.list(kOperatorPrincipal).size() == 2);
    const auto again = refusal([&] { peers.remove(kOperatorPrincipal, "hub-bern"); });
    CHECK(again.code() == ErrorCode::not_found);
    CHECK(again.field() == "hubId");
    CHECK(refusal([&] { (void)peers.token(kOperatorPrincipal, "hub-bern"); }).code() ==
          ErrorCode::not_found);
}

TEST_CASE("only the operator administers peers or reads their tokens") {
    TempDir dir;
    auto hub = Hub::open(dir.path());
    auto peers = Peers(hub);
    peers.add(kOperatorPrincipal, "hub-a", "https://a.example", kToken);
    for (const std::string by : {"", "ann", "Operator", "operator "}) {
        CAPTURE(by);
        CHECK(refusal([&] { peers.add(by, "hub-b", "https://b.example", kToken); }).code() ==
              ErrorCode::permission_denied);
        CHECK(refusal([&] { (void)peers.list(by); }).code() == ErrorCode::permission_denied);
        CHECK(refusal([&] { (void)peers.token(by, "hub-a"); }).code() ==
              ErrorCode::permission_denied);
        CHECK(refusal([&] { peers.remove(by, "hub-a"); }).code() == ErrorCode::permission_denied);
    }
    CHECK(peers.list(kOperatorPrincipal).size() == 1);
}

TEST_CASE(
    "a peer URL that is not http(s) with a host, or has user information or a query, is "
    "refused naming it") {
    TempDir dir;
    auto hub = Hub::open(dir.path());
    auto peers = Peers(hub);
    const std::vector<std::string> refused = {"",
                                              "ftp://a.example",
                                              "HTTP://a.example",
                                              "a.example:8080",
                                              "https://",
                                              "https://:8080",
                                              "https://user:pass@a.example",
                                              "https://token@a.example/",
                                              "https://a.example/?token=x",
                                              "https://a.example?x",
                                              "https://a.example/#top",
                                              "https://a.example:0",
                                              "https://a.example:65536",
                                              "https://a.example:80a",
                                              "https://a.example:",
                                              "https://a exa.example",
                                              "https://a.example/p q",
                                              "https://a_b.example",
                                              "https://a..example",
                                              "https://-a.example",
                                              "https://[::1",
                                              "https://[zz::1]:80",
                                              "https://[::1]x",
                                              "https://a.example/\n",
                                              "https://a.example/\xc3\xa9",
                                              "https://" + std::string(2100, 'a')};
    for (const std::string& url : refused) {
        CAPTURE(url);
        const auto error = refusal([&] { peers.add(kOperatorPrincipal, "hub-x", url, kToken); });
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "url");
    }
    const auto error =
        refusal([&] { peers.add(kOperatorPrincipal, "hub-x", "https://u:p@a.example", kToken); });
    CHECK(std::string(error.what()).find("https://u:p@a.example") != std::string::npos);
    CHECK(peers.list(kOperatorPrincipal).empty());
    validate_peer_url("https://a.example");
    validate_peer_url("http://127.0.0.1:1/");
    validate_peer_url("https://[2001:db8::7]:65535/base/path%20x");
}

TEST_CASE(
    "a peer's hub id must be plain text and its token printable ASCII, never shown in an "
    "error") {
    TempDir dir;
    auto hub = Hub::open(dir.path());
    auto peers = Peers(hub);
    for (const std::string& hub_id : {std::string(), std::string("hub\nx"), std::string(129, 'h'),
                                      std::string("hub\xe2\x80\xae")}) {
        CAPTURE(hub_id);
        const auto error =
            refusal([&] { peers.add(kOperatorPrincipal, hub_id, "https://a.example", kToken); });
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "hubId");
    }
    for (const std::string& token :
         {std::string(), std::string("xq7z with space"), std::string("xq7z\r\nX-Evil: 1"),
          std::string("s\xc3\xa9"
                      "cret"),
          std::string(4097, 's')}) {
        CAPTURE(token.size());
        const auto error =
            refusal([&] { peers.add(kOperatorPrincipal, "hub-x", "https://a.example", token); });
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "token");
        if (!token.empty()) {
            CHECK(std::string(error.what()).find(token.substr(0, 6)) == std::string::npos);
        }
    }
    peers.add(kOperatorPrincipal, "hub-x", "https://a.example", kToken);
    const auto twice =
        refusal([&] { peers.add(kOperatorPrincipal, "hub-x", "https://b.example", "other"); });
    CHECK(twice.code() == ErrorCode::conflict);
    CHECK(twice.field() == "hubId");
    CHECK(peers.token(kOperatorPrincipal, "hub-x") == kToken);
    CHECK(peers.list(kOperatorPrincipal).at(0).url == "https://a.example");
}

TEST_CASE("a peer's JSON and listing never carry its token") {
    TempDir dir;
    auto hub = Hub::open(dir.path());
    auto peers = Peers(hub);
    const auto added = peers.add(kOperatorPrincipal, "hub-z", "https://z.example", kToken);
    CHECK(added.to_json().find(kToken) == std::string::npos);
    CHECK(added.to_json().find("token") == std::string::npos);
    const auto listed = peers.list(kOperatorPrincipal);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].to_json().starts_with(
        R"({"hubId":"hub-z","url":"https://z.example","addedAt":")"));
    CHECK(listed[0].to_json().find(kToken) == std::string::npos);
}
