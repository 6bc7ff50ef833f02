// SPDX-License-Identifier: Apache-2.0
#include "core/json.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/text.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

using namespace sihlicon;

TEST_CASE("serialized JSON without doubles is byte for byte what Boost.JSON writes") {
    // Stored specs and completion digests are compared as text, so their form must not change.
    std::string every_byte;
    for (int c = 1; c < 256; ++c) {
        every_byte += static_cast<char>(c);
    }
    const boost::json::value value = {
        {"plain", "tesseract/tesseract:latest"},
        {"quote \"and\" backslash \\", "tab\there, newline\nthere, bell\x07"},
        {"unicode", "Z\xc3\xbcrich \xe2\x82\xac"},
        {"every byte", every_byte},
        {"empty", ""},
        {"integers",
         {0, -1, 42, std::numeric_limits<std::int64_t>::min(),
          std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::uint64_t>::max()}},
        {"literals", {true, false, nullptr}},
        {"nested", {{"labels", boost::json::object{}}, {"command", boost::json::array{}}}},
    };
    CHECK(json::serialize(value) == boost::json::serialize(value));
    for (int c = 0; c < 256; ++c) {
        const boost::json::value one(std::string(1, static_cast<char>(c)));
        CHECK(json::serialize(one) == boost::json::serialize(one));
    }
}

TEST_CASE("an ObjectWriter writes what serialize writes for the same object, in field order") {
    const std::string awkward = "quote \" backslash \\ newline \n Z\xc3\xbcrich";
    const std::vector<std::string> refs = {"bafkrei", awkward};
    const std::optional<std::string> absent;
    const boost::json::value nested = {{"b", 1}, {"a", {true, nullptr}}};
    const auto written = json::ObjectWriter()
                             .field("text", awkward)
                             .field(awkward, "a key that needs escaping")
                             .field("int64", std::numeric_limits<std::int64_t>::min())
                             .field("int", 42)
                             .field("yes", true)
                             .field("null", nullptr)
                             .field("absent", absent)
                             .field("present", std::optional<std::string>("here"))
                             .field("refs", refs)
                             .field("none", std::vector<std::string>{})
                             .field("nested", nested)
                             .finish();
    const boost::json::object expected{
        {"text", awkward},
        {awkward, "a key that needs escaping"},
        {"int64", std::numeric_limits<std::int64_t>::min()},
        {"int", 42},
        {"yes", true},
        {"null", nullptr},
        {"absent", nullptr},
        {"present", "here"},
        {"refs", json::string_array(refs)},
        {"none", boost::json::array{}},
        {"nested", nested},
    };
    CHECK(written == json::serialize(expected));
    CHECK(json::ObjectWriter().finish() == "{}");
}

TEST_CASE("json::parse refuses duplicate member names, at any depth, naming the name") {
    for (const std::string_view text :
         {R"({"jobName":"a","jobName":"b"})", R"({"outer":{"cpu":"1","cpu":"2"}})",
          R"([{"a":1,"b":2,"a":3}])"}) {
        CAPTURE(text);
        try {
            json::parse(text, "spec");
            FAIL("a duplicate member name was accepted");
        } catch (const Error& error) {
            CHECK(error.code() == ErrorCode::invalid_argument);
            CHECK(error.field() == "spec");
            CHECK(std::string(error.what()).find("duplicate member name") != std::string::npos);
        }
    }
    // The same name in sibling objects is no duplicate.
    CHECK(json::parse(R"([{"a":1},{"a":2}])").as_array().size() == 2);
}

TEST_CASE("json::parse refuses invalid UTF-8, lone surrogate escapes and overflowing numbers") {
    for (const std::string& text : {
             std::string("{\"name\":\"\xff\"}"),                // not UTF-8 at all
             std::string("{\"name\":\"\xc3\"}"),                // a truncated sequence
             std::string("{\"name\":\"\xed\xa0\x80\"}"),        // a surrogate encoded in UTF-8
             std::string("{\"name\":\"\xc0\xaf\"}"),            // an overlong '/'
             std::string(R"({"name":"\ud800"})"),               // a lone high surrogate
             std::string(R"({"name":"\udc00x"})"),              // a lone low surrogate
             std::string(R"({"n":1e400})"),                     // overflows a double
             std::string(R"({"n":123456789012345678901234})"),  // too long for 64 bits
             std::string(R"({"a":1} trailing)"),
         }) {
        CAPTURE(text);
        try {
            json::parse(text, "body");
            FAIL("accepted");
        } catch (const Error& error) {
            CHECK(error.code() == ErrorCode::invalid_argument);
            CHECK(is_valid_utf8(error.what()));
        }
    }
    // A surrogate pair is one character, and stays accepted.
    CHECK(json::parse(R"({"name":"\ud83d\ude00"})").at("name").as_string() == "\xf0\x9f\x98\x80");
}
