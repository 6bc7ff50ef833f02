// SPDX-License-Identifier: Apache-2.0
//
// Signed requests (request_signing.hpp) over real HTTP: a request signed EIP-191 by a
// registered address authenticates as its principal and role; a tampered method, target,
// host, timestamp or body, a timestamp outside the replay window, a replay, an unknown or
// removed address, and a token sent beside a signature are each 401 naming the reason and run
// nothing. The peer test with ethers is tests/interop/signed_request_ethers.mjs.
#include "server/contract_fixture.hpp"
#include "server/storage_support.hpp"

#include <doctest/doctest.h>
#include <sihlicon/crypto.hpp>
#include <sihlicon/request_signing.hpp>

#include <optional>
#include <string>

using namespace sihlicon;
using namespace sihlicon::testing;

namespace {

struct Signed {
    std::string method = "GET";
    std::string target = "/api/compute";
    std::string host = "test";  // what testing::request sends
    std::int64_t timestamp = 0;
    std::string body;
    // What is signed, when it differs from what is sent.
    std::optional<std::string> signed_method, signed_target, signed_host, signed_body;
    std::optional<std::int64_t> signed_timestamp;
    std::string extra;  // more header lines
};

std::string body_digest(std::string_view body) {
    return crypto::to_hex(crypto::sha256(body));
}

// The request's bytes, signed by `key` (as tests/interop/signed_request_ethers.mjs does with
// ethers, each line of the canonical message written out again here).
std::string signed_request(const crypto::PrivateKey& key, const Signed& s) {
    const auto timestamp = std::to_string(s.signed_timestamp.value_or(s.timestamp));
    const std::string message = "sihlicon-request-v1\n" + s.signed_method.value_or(s.method) +
                                "\n" + s.signed_target.value_or(s.target) + "\n" +
                                s.signed_host.value_or(s.host) + "\n" + timestamp + "\n" +
                                body_digest(s.signed_body.value_or(s.body));
    CHECK(message == canonical_request_message(s.signed_method.value_or(s.method),
                                               s.signed_target.value_or(s.target),
                                               s.signed_host.value_or(s.host), timestamp,
                                               body_digest(s.signed_body.value_or(s.body))));
    const auto signature = key.sign_message(message);
    const std::string headers =
        "Sihlicon-Address: " + key.address().to_string() +
        "\r\nSihlicon-Timestamp: " + std::to_string(s.timestamp) +
        "\r\nSihlicon-Content-SHA256: " + body_digest(s.signed_body.value_or(s.body)) +
        "\r\nSihlicon-Signature: " + signature.to_hex() + "\r\n" + s.extra;
    return request(s.method, s.target, {}, s.body, headers);
}

struct SignedFixture : ContractFixture {
    crypto::PrivateKey ann_key = crypto::PrivateKey::generate();
    crypto::PrivateKey bee_key = crypto::PrivateKey::generate();

    SignedFixture() {
        ApiAddresses addresses(hub);
        addresses.add(kOperatorPrincipal, ann_key.address(), "ann", Role::client);
        addresses.add(kOperatorPrincipal, bee_key.address(), "bee", Role::worker, "worker-a");
    }

    std::int64_t now() const { return clock->now().ms() / 1000; }

    Signed at_now() const {
        Signed s;
        s.timestamp = now();
        return s;
    }

    HttpResponse send(const std::string& bytes) {
        HttpClient client(server->port());
        REQUIRE(client.send(bytes));
        auto response = client.read_response();
        REQUIRE(response);
        return *response;
    }
};

// The 401 naming `reason` (details.reason) and `field`.
void check_refused(const HttpResponse& response, std::string_view reason, std::string_view field) {
    error_of(response, 401);
    const auto body = json_of(response);
    CHECK(body.at("details").at("reason").as_string() == reason);
    CHECK(body.at("details").at("field").as_string() == field);
}

std::size_t jobs_of(Hub& hub) {
    return hub.scheduler().jobs(JobFilter{}).size();
}

}  // namespace

TEST_CASE("a request signed by a registered address acts as its principal with its role") {
    SignedFixture f;
    auto submit = f.at_now();
    submit.method = "POST";
    submit.body = kContractSpec;
    const auto submitted = f.send(signed_request(f.ann_key, submit));
    REQUIRE(submitted.status == 200);
    const auto id = std::string(json_of(submitted).at("jobId").as_string());
    CHECK(f.hub.scheduler().job(id).spec.owner == "ann");

    auto list = f.at_now();
    list.target = "/api/compute?limit=5";
    const auto listed = f.send(signed_request(f.ann_key, list));
    REQUIRE(listed.status == 200);
    // A client's request carries the rate limit headers, whichever way it authenticated.
    CHECK(!listed.header("x-ratelimit-limit").empty());

    // The worker's address has the worker's role: a client route is 403, its own status works.
    auto as_worker = f.at_now();
    CHECK(f.send(signed_request(f.bee_key, as_worker)).status == 403);
}

TEST_CASE("a tampered method, target, host, timestamp or body is 401 and runs nothing") {
    SignedFixture f;
    const auto before = jobs_of(f.hub);
    auto base = f.at_now();
    base.method = "POST";
    base.body = kContractSpec;

    auto method = base;
    method.signed_method = "PUT";
    check_refused(f.send(signed_request(f.ann_key, method)), "bad_signature", "Sihlicon-Signature");
    auto target = base;
    target.signed_target = "/api/compute?x=1";
    check_refused(f.send(signed_request(f.ann_key, target)), "bad_signature", "Sihlicon-Signature");
    auto host = base;
    host.signed_host = "other-hub:8443";
    check_refused(f.send(signed_request(f.ann_key, host)), "bad_signature", "Sihlicon-Signature");
    auto timestamp = base;
    timestamp.signed_timestamp = base.timestamp - 1;
    check_refused(f.send(signed_request(f.ann_key, timestamp)), "bad_signature",
                  "Sihlicon-Signature");
    // The body differs from the digest that was signed (and sent): refused after the body
    // arrived, before the route.
    auto body = base;
    body.signed_body = R"({"jobType":"other"})";
    check_refused(f.send(signed_request(f.ann_key, body)), "body_digest_mismatch",
                  "Sihlicon-Content-SHA256");
    CHECK(jobs_of(f.hub) == before);

    // Malformed headers, each named.
    auto bad = base;
    bad.extra = "";
    const auto text = signed_request(f.ann_key, bad);
    auto without = text;
    const auto at = without.find("Sihlicon-Timestamp:");
    without.erase(at, without.find("\r\n", at) + 2 - at);
    check_refused(f.send(without), "missing_header", "Sihlicon-Timestamp");
    CHECK(jobs_of(f.hub) == before);
}

TEST_CASE("a streamed body that is not the one signed is 401 once spooled, and stores nothing") {
    SignedFixture f;
    Signed upload = f.at_now();
    upload.method = "POST";
    upload.target = "/api/storage";
    upload.body = form_part("file", "hello signed world", "a.txt") + form_end();
    upload.extra = "Content-Type: multipart/form-data; boundary=" + std::string(kBoundary) + "\r\n";
    auto tampered = upload;
    tampered.signed_body = form_part("file", "something else", "a.txt") + form_end();
    check_refused(f.send(signed_request(f.ann_key, tampered)), "body_digest_mismatch",
                  "Sihlicon-Content-SHA256");
    CHECK(f.hub.content_store().list("ann").empty());
    upload.timestamp = f.now() - 1;  // another signature than the refused one's
    CHECK(f.send(signed_request(f.ann_key, upload)).status == 200);
    CHECK(f.hub.content_store().list("ann").size() == 1);
}

TEST_CASE("the replay window is ±300 s of the hub's clock, both edges included") {
    SignedFixture f;
    for (const std::int64_t offset : {-300, 300, 0}) {
        auto s = f.at_now();
        s.timestamp = f.now() + offset;
        CAPTURE(offset);
        CHECK(f.send(signed_request(f.ann_key, s)).status == 200);
    }
    for (const std::int64_t offset : {-301, 301, -100'000}) {
        auto s = f.at_now();
        s.timestamp = f.now() + offset;
        CAPTURE(offset);
        check_refused(f.send(signed_request(f.ann_key, s)), "outside_window", "Sihlicon-Timestamp");
    }
}

TEST_CASE("the same signed request is accepted once: a replay inside the window is 401") {
    SignedFixture f;
    auto submit = f.at_now();
    submit.method = "POST";
    submit.body = kContractSpec;
    const auto bytes = signed_request(f.ann_key, submit);
    CHECK(f.send(bytes).status == 200);
    check_refused(f.send(bytes), "replayed", "Sihlicon-Signature");
    f.clock->advance(std::chrono::seconds(300));
    check_refused(f.send(bytes), "replayed", "Sihlicon-Signature");
    // Once the window has passed, the timestamp refuses it (the signature is forgotten).
    f.clock->advance(std::chrono::seconds(1));
    check_refused(f.send(bytes), "outside_window", "Sihlicon-Timestamp");
    CHECK(jobs_of(f.hub) == 1);
}

TEST_CASE("an unknown or removed address, or a token beside a signature, is 401") {
    SignedFixture f;
    const auto stranger = crypto::PrivateKey::generate();
    check_refused(f.send(signed_request(stranger, f.at_now())), "unknown_address",
                  "Sihlicon-Address");
    ApiAddresses(f.hub).remove(kOperatorPrincipal, f.ann_key.address());
    auto late = f.at_now();
    check_refused(f.send(signed_request(f.ann_key, late)), "unknown_address", "Sihlicon-Address");

    auto both = f.at_now();
    both.timestamp -= 1;
    both.extra = "Authorization: Bearer " + f.bob + "\r\n";
    check_refused(f.send(signed_request(f.bee_key, both)), "ambiguous", "Authorization");
}

TEST_CASE("only the operator registers, lists and removes addresses; one principal's each") {
    SignedFixture f;
    ApiAddresses addresses(f.hub);
    const auto key = crypto::PrivateKey::generate();
    for (const auto* by : {"ann", "bee", ""}) {
        CHECK_THROWS_AS(addresses.add(by, key.address(), "ann", Role::client), Error);
        CHECK_THROWS_AS(addresses.list(by), Error);
        CHECK_THROWS_AS(addresses.remove(by, f.ann_key.address()), Error);
    }
    CHECK(addresses.list(kOperatorPrincipal).size() == 2);
    try {
        addresses.add(kOperatorPrincipal, f.ann_key.address(), "bob", Role::client);
        FAIL("a second principal took the address");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::conflict);
        CHECK(error.field() == "address");
    }
    CHECK_THROWS_AS(addresses.add(kOperatorPrincipal, key.address(), "ann", Role::worker), Error);
    CHECK_THROWS_AS(addresses.add(kOperatorPrincipal, key.address(), "operator", Role::client),
                    Error);
    CHECK_THROWS_AS(addresses.remove(kOperatorPrincipal, key.address()), Error);
    // A removed address may be given to someone else.
    addresses.remove(kOperatorPrincipal, f.ann_key.address());
    const auto again = addresses.add(kOperatorPrincipal, f.ann_key.address(), "bob", Role::client);
    CHECK(again.principal == "bob");
    CHECK(!again.revoked_at);
    CHECK(addresses.identity_of(f.ann_key.address())->principal == "bob");
}
