// SPDX-License-Identifier: Apache-2.0
// ServerOptions::from_json: the server's options as the C ABI, Python and Node give them.
#include <sihlicon/error.hpp>
#include <sihlicon/server.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace sihlicon;

namespace {

Error refusal_of(const std::string& json) {
    try {
        (void)ServerOptions::from_json(json);
    } catch (const Error& error) {
        return error;
    }
    FAIL("accepted: " << json);
    return Error(ErrorCode::internal, "unreachable");
}

}  // namespace

TEST_CASE("server options from JSON take every key over the defaults") {
    const auto defaults = ServerOptions::from_json("{}");
    const ServerOptions expected;
    CHECK(defaults.address == expected.address);
    CHECK(defaults.port == expected.port);
    CHECK_FALSE(defaults.tls_certificate);
    CHECK(defaults.max_connections == expected.max_connections);
    CHECK(defaults.body_limit == expected.body_limit);
    CHECK(defaults.read_timeout == expected.read_timeout);
    CHECK(defaults.threads == expected.threads);

    const auto options = ServerOptions::from_json(
        R"({"address":"::1","port":8443,"tlsCertificate":"/etc/c.pem","tlsPrivateKey":"/etc/k.pem",)"
        R"("maxConnections":7,"headerLimit":2048,"bodyLimit":4096,"readTimeoutMs":11,)"
        R"("writeTimeoutMs":12,"idleTimeoutMs":13,"threads":3})");
    CHECK(options.address == "::1");
    CHECK(options.port == 8443);
    CHECK(options.tls_certificate == std::filesystem::path("/etc/c.pem"));
    CHECK(options.tls_private_key == std::filesystem::path("/etc/k.pem"));
    CHECK(options.max_connections == 7);
    CHECK(options.header_limit == 2048);
    CHECK(options.body_limit == 4096);
    CHECK(options.read_timeout.count() == 11);
    CHECK(options.write_timeout.count() == 12);
    CHECK(options.idle_timeout.count() == 13);
    CHECK(options.threads == 3);
    // null is the default (Python's None, an absent C field).
    CHECK_FALSE(ServerOptions::from_json(R"({"tlsCertificate":null})").tls_certificate);
}

TEST_CASE(
    "server options from JSON refuse unknown keys, wrong types and out-of-range numbers "
    "naming the key") {
    CHECK(refusal_of(R"({"listen":"0.0.0.0:80"})").field() == "listen");
    CHECK(refusal_of(R"({"port":65536})").field() == "port");
    CHECK(refusal_of(R"({"port":-1})").field() == "port");
    CHECK(refusal_of(R"({"port":"80"})").field() == "port");
    CHECK(refusal_of(R"({"readTimeoutMs":-5})").field() == "readTimeoutMs");
    CHECK(refusal_of(R"({"idleTimeoutMs":99999999999999})").field() == "idleTimeoutMs");
    CHECK(refusal_of(R"({"threads":5000})").field() == "threads");
    CHECK(refusal_of(R"({"bodyLimit":1.5})").field() == "bodyLimit");
    CHECK(refusal_of(R"({"address":7})").field() == "address");
    CHECK(refusal_of(R"({"port":1,"port":2})").code() == ErrorCode::invalid_argument);
    CHECK(refusal_of("[]").code() == ErrorCode::invalid_argument);
    CHECK(refusal_of("{").code() == ErrorCode::invalid_argument);
}

TEST_CASE("server options from JSON carry the upload limit and the spool folder") {
    const auto options =
        ServerOptions::from_json(R"({"uploadLimit":1048576,"spoolDirectory":"/var/tmp"})");
    CHECK(options.upload_limit == 1048576u);
    CHECK(options.spool_directory == "/var/tmp");
    CHECK(refusal_of(R"({"uploadLimit":-1})").field() == "uploadLimit");
    CHECK(refusal_of(R"({"readTimeoutMs":86400001})").field() == "readTimeoutMs");
}

TEST_CASE("server options from JSON over a base keep the base's values for the keys not given") {
    ServerOptions base;
    base.port = 8080;
    base.threads = 6;
    const auto options = ServerOptions::from_json(R"({"threads":3,"uploadLimit":10})", base);
    CHECK(options.port == 8080);
    CHECK(options.threads == 3);
    CHECK(options.upload_limit == 10u);
    CHECK(options.read_timeout == base.read_timeout);
}

TEST_CASE(
    "server options take one key from its text, the command-line form, with the JSON ranges") {
    const ServerOptions base;
    CHECK(base.with("threads", "4").threads == 4);
    CHECK(base.with("port", "8443").port == 8443);
    CHECK(base.with("uploadLimit", "8GiB").upload_limit == (std::uint64_t{8} << 30));
    CHECK(base.with("headerLimit", "64KiB").header_limit == 65536u);
    CHECK(base.with("bodyLimit", "2048").body_limit == 2048u);
    CHECK(base.with("idleTimeoutMs", "2m").idle_timeout.count() == 120'000);
    CHECK(base.with("readTimeoutMs", "1500").read_timeout.count() == 1500);
    CHECK(base.with("spoolDirectory", "/var/spool").spool_directory == "/var/spool");
    CHECK(base.with("tlsCertificate", "c.pem").tls_certificate == std::filesystem::path("c.pem"));
    // Every other key keeps its value.
    CHECK(base.with("threads", "4").port == base.port);

    const auto refusal = [&](std::string_view key, std::string_view text) {
        try {
            (void)base.with(key, text);
        } catch (const Error& error) {
            return error;
        }
        FAIL("accepted: " << key << " = " << text);
        return Error(ErrorCode::internal, "unreachable");
    };
    CHECK(refusal("threads", "5000").field() == "threads");
    CHECK(std::string(refusal("threads", "5000").what()).find("5000") != std::string::npos);
    CHECK(refusal("threads", "four").field() == "threads");
    CHECK(refusal("threads", "4.5").field() == "threads");
    CHECK(refusal("port", "70000").field() == "port");
    CHECK(refusal("readTimeoutMs", "2d").field() == "readTimeoutMs");
    CHECK(std::string(refusal("readTimeoutMs", "2d").what()).find("'2d'") != std::string::npos);
    CHECK(refusal("idleTimeoutMs", "soon").field() == "idleTimeoutMs");
    CHECK(refusal("uploadLimit", "-1").field() == "uploadLimit");
    CHECK(refusal("uploadLimit", "99999999TiB").field() == "uploadLimit");
    CHECK(refusal("uploadLimit", "4GB").field() == "uploadLimit");
    CHECK(refusal("listen", "0.0.0.0:80").field() == "key");
}
