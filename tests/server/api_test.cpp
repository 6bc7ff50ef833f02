// SPDX-License-Identifier: Apache-2.0
//
// The server's one table from library errors to HTTP statuses (src/server/api.cpp).
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
