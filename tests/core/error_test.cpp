// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>
#include <sihlicon/error.hpp>

using sihlicon::Error;
using sihlicon::ErrorCode;

TEST_CASE("every error code has a stable name that parses back") {
    for (int value = 1; value <= 10; ++value) {
        const auto code = static_cast<ErrorCode>(value);
        const auto name = sihlicon::to_string(code);
        CHECK(sihlicon::error_code_from_string(name) == code);
    }
    CHECK(sihlicon::to_string(ErrorCode::insufficient_funds) == "insufficient_funds");
    CHECK_THROWS_AS(sihlicon::error_code_from_string("nope"), Error);
}

TEST_CASE("an invalid-argument error names the field and shows the value escaped") {
    const Error error = Error::invalid("workloadConfig.resources.memory", "4Qi\n", "is not a size");
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(error.field() == "workloadConfig.resources.memory");
    CHECK(std::string(error.what()) ==
          "workloadConfig.resources.memory: is not a size (got '4Qi\\x0a')");
}

TEST_CASE("a very long offending value is truncated in the message") {
    const Error error = Error::invalid("jobName", std::string(1000, 'a'), "is too long");
    CHECK(std::string(error.what()).size() < 200);
    CHECK(std::string(error.what()).find("...") != std::string::npos);
}
