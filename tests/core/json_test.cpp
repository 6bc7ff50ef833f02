// SPDX-License-Identifier: Apache-2.0
#include "core/json.hpp"

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
