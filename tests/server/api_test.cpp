// SPDX-License-Identifier: Apache-2.0
//
// The server's one table from library errors to HTTP statuses, and its route table
// (src/server/api.cpp).
#include "server/api.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

using sihlicon::Error;
using sihlicon::ErrorCode;
using sihlicon::server::response_for;

namespace {

std::string header_of(const sihlicon::server::Response& response, std::string_view name) {
    for (const auto& [key, value] : response.headers) {
        if (key == name) {
            return value;
        }
    }
    return {};
}

}  // namespace

TEST_CASE("each library error code maps to its HTTP status, with code and field as details") {
    const std::pair<ErrorCode, int> expected[] = {
        {ErrorCode::invalid_argument, 400},
        {ErrorCode::not_found, 404},
        {ErrorCode::conflict, 409},
        {ErrorCode::permission_denied, 403},
        {ErrorCode::quota_exceeded, 429},
        {ErrorCode::insufficient_funds, 402},
        {ErrorCode::busy, 503},
    };
    for (const auto& [code, status] : expected) {
        CAPTURE(sihlicon::to_string(code));
        const auto response = response_for(Error(code, "what went wrong", "jobName"));
        CHECK(response.status == status);
        const auto body = boost::json::parse(response.body).as_object();
        CHECK(body.at("error").as_string() == "what went wrong");
        CHECK(body.at("details").as_object().at("code").as_string() == sihlicon::to_string(code));
        CHECK(body.at("details").as_object().at("field").as_string() == "jobName");
    }
}

TEST_CASE("faults of the hub are a bare 500 that reveals nothing of them") {
    for (const auto code : {ErrorCode::integrity, ErrorCode::io, ErrorCode::internal}) {
        const auto response = response_for(
            Error(code, "cannot open /srv/hub/blobs/ab/cd: Permission denied", "path"));
        CHECK(response.status == 500);
        CHECK(response.body == R"({"error":"internal server error"})");
    }
}

TEST_CASE("a quota refusal is 429 with Retry-After from the library's message") {
    auto response = response_for(Error(ErrorCode::quota_exceeded,
                                       "owner 'ann' submitted 10 jobs in the last hour (limit 10); "
                                       "retry in 1234 s",
                                       "owner"));
    CHECK(response.status == 429);
    CHECK(header_of(response, "Retry-After") == "1234");
    response = response_for(Error(ErrorCode::quota_exceeded, "hub 'pool' has 5 jobs waiting"));
    CHECK(header_of(response, "Retry-After") == "60");
}

TEST_CASE(
    "the route table matches literal and {param} segments, each route with its own parameters") {
    using sihlicon::server::Request;
    using sihlicon::server::Response;
    using sihlicon::server::RouteTable;
    RouteTable table;
    const auto answer = [](const Request&) { return Response{}; };
    table.add({"POST", "/api/v1/workers/{workerId}/heartbeat", false, {}, answer});
    table.add({"GET", "/api/v1/workers/{workerId}/heartbeat", false, {}, answer});
    table.add({"GET", "/api/v1/workers/register", false, {}, answer});
    table.add({"POST", "/api/v1/{kind}/register", false, {}, answer});

    auto found = table.match("/api/v1/workers/bee-01.a_b/heartbeat");
    REQUIRE(found.size() == 2);
    CHECK(found[0].first->method == "POST");
    CHECK(found[1].first->method == "GET");
    CHECK(found[0].second.at("workerId") == "bee-01.a_b");

    found = table.match("/api/v1/workers/register");
    REQUIRE(found.size() == 2);
    CHECK(found[0].second.empty());
    CHECK(found[1].second.at("kind") == "workers");

    for (const auto* path : {"/api/v1/workers//heartbeat", "/api/v1/workers/a%2Fb/heartbeat",
                             "/api/v1/workers/a b/heartbeat", "/api/v1/workers/bee/heartbeat/",
                             "/api/v1/workers/bee", "/api/v1/workers/bee/heartbeat/x",
                             "api/v1/workers/register", "//api/v1/workers/register", ""}) {
        CAPTURE(path);
        CHECK(table.match(path).empty());
    }
    CHECK(table.match("/api/v1/workers/" + std::string(128, 'a') + "/heartbeat").size() == 2);
    CHECK(table.match("/api/v1/workers/" + std::string(129, 'a') + "/heartbeat").empty());
}
