// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>
#include <sihlicon/error.hpp>
#include <sihlicon/text.hpp>

#include <string>

using namespace sihlicon;

TEST_CASE("a name may hold any printable character, in any script") {
    for (const std::string_view text : {"ann", "Zürich heat pump", "名前", "job name with spaces",
                                        "a/b:c@d", "\xf0\x9f\x94\xa5"}) {
        CAPTURE(text);
        CHECK_NOTHROW(require_plain_text("jobName", text));
    }
}

TEST_CASE("a name refuses C0, DEL, C1, line separators, bidi controls and bytes not UTF-8") {
    for (const std::string& text :
         {std::string("line\nforged"), std::string("nul\0x", 5), std::string("tab\t"),
          std::string("esc\x1b[2J"), std::string("del\x7f"), std::string("c1\xc2\x85"),
          std::string("ls\xe2\x80\xa8"), std::string("ps\xe2\x80\xa9"),
          std::string("rlo\xe2\x80\xae"), std::string("lri\xe2\x81\xa6"),
          std::string("lrm\xe2\x80\x8e"), std::string("alm\xd8\x9c"), std::string("bad\xff"),
          std::string("cut\xe2\x82")}) {
        CAPTURE(text);
        try {
            require_plain_text("jobName", text);
            FAIL("accepted");
        } catch (const Error& error) {
            CHECK(error.code() == ErrorCode::invalid_argument);
            CHECK(error.field() == "jobName");
            CHECK(std::string(error.what()).find('\n') == std::string::npos);
        }
    }
}

TEST_CASE("printable text keeps one line and cuts on a character boundary") {
    CHECK(printable("a\nb\\c") == "a\\x0ab\\\\c");
    CHECK(printable("\xe2\x80\xae"
                    "evil") == "\\u{202e}evil");
    CHECK(printable("caf\xc3\xa9", 4) == "caf...");
    CHECK(printable("caf\xc3\xa9", 5) == "caf\xc3\xa9");
    CHECK(printable("x\xff", 8) == "x\\xff");
    CHECK(is_valid_utf8(printable(std::string("\xf0\x9f\x98", 3))));
}
