// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>
#include <sihlicon/error.hpp>
#include <sihlicon/text.hpp>

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

TEST_CASE("an error message never cuts a multi-byte character where it truncates a value") {
    // 119 ASCII bytes, then 'é' (2 bytes) straddling the 120-byte limit.
    const std::string value = std::string(119, 'a') + "\xc3\xa9" + "tail";
    const std::string message = Error::invalid("cid", value, "is not a CID").what();
    CHECK(sihlicon::is_valid_utf8(message));
    CHECK(message.find(std::string(119, 'a') + "...") != std::string::npos);
    // Every offset of a 2-, 3- and 4-byte character at the limit.
    for (const std::string_view character : {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"}) {
        for (std::size_t prefix = 115; prefix <= 121; ++prefix) {
            const std::string text =
                std::string(prefix, 'b') + std::string(character) + std::string(character);
            CHECK(sihlicon::is_valid_utf8(Error::invalid("f", text, "bad").what()));
        }
    }
}

TEST_CASE("an error message escapes bytes that are not UTF-8 and every control character") {
    const std::string message = Error::invalid("cid", "baf\xff\xfe\xc3", "is not a CID").what();
    CHECK(message == "cid: is not a CID (got 'baf\\xff\\xfe\\xc3')");
    // C1, a line separator and a bidi override are shown as code points.
    CHECK(std::string(Error::invalid("name",
                                     "a\xc2\x85"
                                     "b\xe2\x80\xa8"
                                     "c\xe2\x80\xae",
                                     "bad")
                          .what()) == "name: bad (got 'a\\u{0085}b\\u{2028}c\\u{202e}')");
    // A message built by hand is made safe too: no raw newline, valid UTF-8.
    const Error built(ErrorCode::not_found, "cannot read \xff\nforged line", "file\n");
    CHECK(std::string(built.what()) == "cannot read \\xff\\x0aforged line");
    CHECK(built.field() == "file\\x0a");
}
