// SPDX-License-Identifier: Apache-2.0
#include "crypto/jcs.hpp"

#include <doctest/doctest.h>
#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>

#include <boost/json.hpp>

#include <cstring>
#include <string>

namespace crypto = sihlicon::crypto;
using sihlicon::Error;
using sihlicon::ErrorCode;

namespace {

std::string refused_field(std::string_view json) {
    try {
        crypto::canonicalize_json(json, "record");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::invalid_argument);
        return error.field();
    }
    return "(accepted)";
}

double from_bits(std::uint64_t bits) {
    double value = 0;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

}  // namespace

TEST_CASE("JCS sorts members by UTF-16 code units and drops whitespace") {
    CHECK(crypto::canonicalize_json(R"( { "b" : 2, "a" : [ 1 , { "d":null, "c":true } ] } )") ==
          R"({"a":[1,{"c":true,"d":null}],"b":2})");
    // RFC 8785 §3.2.3's sorting example: "\u20ac" (€), "\r", "\ufb33", "1", "\ud83d\ude00",
    // "\u0080", "\u00f6" sort as \r, 1, \u0080, ö, €, 😀, \ufb33 (the emoji's surrogate pair
    // D83D sorts before FB33, unlike in code point or UTF-8 byte order).
    const std::string input =
        R"({"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh",)"
        R"("1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"})";
    const std::string expected =
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\",\"\xc3\xb6\":\"Latin "
        "Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x80\":"
        "\"Emoji: Grinning Face\",\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}";
    CHECK(crypto::canonicalize_json(input) == expected);
}

TEST_CASE("JCS escapes strings exactly as ECMAScript JSON.stringify does") {
    CHECK(crypto::canonicalize_json(
              R"(["\u0000\u0007\b\t\n\u000b\f\r\u001f", "\"\\\/", "\u007f\u2028\u00e9"])") ==
          "[\"\\u0000\\u0007\\b\\t\\n\\u000b\\f\\r\\u001f\",\"\\\"\\\\/"
          "\",\"\x7f\xe2\x80\xa8\xc3\xa9\"]");
}

TEST_CASE("JCS writes numbers in ECMAScript form") {
    CHECK(crypto::canonicalize_json("[0, -0, 1, -1, 9007199254740991, -9007199254740991]") ==
          "[0,0,1,-1,9007199254740991,-9007199254740991]");
    CHECK(crypto::canonicalize_json(
              "[1.0, 1.5, -0.0, 0.1, 1e2, 1E-7, 1e21, 1e20, 1.2345678901234568e20]") ==
          "[1,1.5,0,0.1,100,1e-7,1e+21,100000000000000000000,123456789012345680000]");
    CHECK(crypto::canonicalize_json(
              "[0.000001, 0.0000001, 5e-324, 1.7976931348623157e308, 4.5, 2e-3]") ==
          "[0.000001,1e-7,5e-324,1.7976931348623157e+308,4.5,0.002]");
    // RFC 8785 Appendix B samples (IEEE 754 bit patterns and their JCS form).
    const std::pair<std::uint64_t, const char*> samples[] = {
        {0x0000000000000000, "0"},
        {0x8000000000000000, "0"},
        {0x0000000000000001, "5e-324"},
        {0x8000000000000001, "-5e-324"},
        {0x7fefffffffffffff, "1.7976931348623157e+308"},
        {0xffefffffffffffff, "-1.7976931348623157e+308"},
        {0x4340000000000000, "9007199254740992"},
        {0xc340000000000000, "-9007199254740992"},
        {0x4430000000000000, "295147905179352830000"},
        {0x44b52d02c7e14af5, "9.999999999999997e+22"},
        {0x44b52d02c7e14af6, "1e+23"},
        {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
        {0x444b1ae4d6e2ef4e, "999999999999999700000"},
        {0x444b1ae4d6e2ef4f, "999999999999999900000"},
        {0x444b1ae4d6e2ef50, "1e+21"},
        {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
        {0x3eb0c6f7a0b5ed8d, "0.000001"},
        {0x41b3de4355555553, "333333333.3333332"},
        {0x41b3de4355555554, "333333333.33333325"},
        {0x41b3de4355555555, "333333333.3333333"},
        {0x41b3de4355555556, "333333333.3333334"},
        {0x41b3de4355555557, "333333333.33333343"},
        {0xbecbf647612f3696, "-0.0000033333333333333333"},
        {0x43143ff3c1cb0959, "1424953923781206.2"},
    };
    for (const auto& [bits, expected] : samples) {
        CAPTURE(expected);
        CHECK(crypto::canonical_json(boost::json::value(from_bits(bits))) == expected);
    }
}

TEST_CASE("JCS refuses what it cannot canonicalize faithfully, naming where") {
    CHECK(refused_field(R"({"a":1,"a":2})") == "record");
    CHECK(refused_field(R"({"a":{"b":1,"c":2,"b":3}})") == "record");
    CHECK(refused_field("[9007199254740992]") == "record[0]");  // 2^53: beyond the safe range
    CHECK(refused_field("18446744073709551616") == "record");   // too long for 64 bits
    CHECK(refused_field("1e400") == "record");
    CHECK(refused_field("[1,]") == "record");
    CHECK(refused_field("{} x") == "record");
    CHECK(refused_field("\"\xff\"") == "record");
    CHECK(refused_field(R"("\ud800")") == "record");
}

TEST_CASE("JCS of values built in C++ refuses integers beyond the safe range, naming the path") {
    boost::json::value record = {
        {"jobs", boost::json::array{boost::json::object{{"amount", std::int64_t{1} << 53}}}}};
    try {
        crypto::canonical_json(record, "summary");
        FAIL("must be refused");
    } catch (const Error& error) {
        CHECK(error.field() == "summary.jobs[0].amount");
    }
    record = {{"jobs", boost::json::array{boost::json::object{
                           {"amount", (std::int64_t{1} << 53) - 1}, {"id", "job-1"}}}}};
    CHECK(crypto::canonical_json(record) ==
          R"({"jobs":[{"amount":9007199254740991,"id":"job-1"}]})");
    boost::json::value bad_text = boost::json::string("\xc3");
    CHECK_THROWS_AS(crypto::canonical_json(bad_text), Error);
}
