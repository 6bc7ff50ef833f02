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
