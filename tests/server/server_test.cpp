// SPDX-License-Identifier: Apache-2.0
//
// sihlicon::Server over real sockets on 127.0.0.1: authentication and roles, limits checked
// before a body is read, malformed requests, timeouts, the connection bound, keep-alive,
// the compute endpoints, TLS, draining on stop, the access log.
#include "server/http_client.hpp"
#include "support/errors.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/hub.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/server.hpp>
#include <sihlicon/tokens.hpp>
#include <sihlicon/version.hpp>

#include <boost/json.hpp>

#include <cstdlib>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sihlicon::ApiTokens;
using sihlicon::ErrorCode;
using sihlicon::Hub;
using sihlicon::kOperatorPrincipal;
using sihlicon::Role;
using sihlicon::Server;
using sihlicon::ServerOptions;
using sihlicon::testing::error_from;
using sihlicon::testing::HttpClient;
using sihlicon::testing::HttpResponse;
using sihlicon::testing::request;
using sihlicon::testing::TempDir;

namespace {

const std::string kSpec = R"({"jobType": "ocr", "jobName": "ledger",
  "workloadConfig": {"containerImage": "tesseract/tesseract:latest",
                     "resources": {"cpu": "1", "memory": "1Gi"}}})";

struct ServerFixture {
    TempDir dir;
    Hub hub = Hub::open(dir.path());
    std::string ann, bob, bee, op;
    std::mutex log_mutex;
    std::vector<std::string> log;
    std::unique_ptr<Server> server;

    explicit ServerFixture(ServerOptions options = {}) {
        ApiTokens tokens(hub);
        ann = tokens.create(kOperatorPrincipal, "ann", Role::client).secret;
        bob = tokens.create(kOperatorPrincipal, "bob", Role::client).secret;
        bee = tokens.create(kOperatorPrincipal, "bee", Role::worker, "worker-1").secret;
        op = tokens.create(kOperatorPrincipal, kOperatorPrincipal, Role::hub_operator).secret;
        options.access_log = [this](std::string_view line) {
            std::lock_guard lock(log_mutex);
            log.emplace_back(line);
        };
        server = std::make_unique<Server>(hub, std::move(options));
        server->start();
    }

    std::uint16_t port() const { return server->port(); }

    HttpResponse call(std::string_view method, std::string_view target, std::string_view token = {},
                      std::string_view body = {}) {
        HttpClient client(port());
        REQUIRE(client.send(request(method, target, token, body)));
        auto response = client.read_response();
        REQUIRE(response);
        return *response;
    }

    std::vector<std::string> log_lines() {
        std::lock_guard lock(log_mutex);
        return log;
    }
};

boost::json::object json_of(const HttpResponse& response) {
    CHECK(response.header("content-type") == "application/json");
    return boost::json::parse(response.body).as_object();
}

// The contract's error shape: {"error": "...", "details"?: ...} and nothing else.
void check_error(const HttpResponse& response, int status) {
    CHECK(response.status == status);
    const auto body = json_of(response);
    CHECK(body.at("error").is_string());
    CHECK_FALSE(body.at("error").as_string().empty());
    for (const auto& member : body) {
        CHECK((member.key() == "error" || member.key() == "details"));
    }
}

}  // namespace

TEST_CASE(
    "the well-known document names the hub, the library version and the signer, "
    "without a token") {
    ServerFixture f;
    const auto response = f.call("GET", "/.well-known/sihlicon.json");
    CHECK(response.status == 200);
    const auto body = json_of(response);
    CHECK(body.at("instanceId").as_string() == f.hub.info().instance_id);
    CHECK(body.at("libraryVersion").as_string() == sihlicon::library_version());
    CHECK(body.at("signer").as_string() == f.hub.settlement().operator_address().to_string());
}

TEST_CASE("a request without a live token is 401 JSON: missing, unknown, malformed or revoked") {
    ServerFixture f;
    check_error(f.call("GET", "/api/compute"), 401);
    check_error(f.call("GET", "/api/compute", "sih_" + std::string(64, '0')), 401);
    check_error(f.call("GET", "/api/compute", "not a token"), 401);
    check_error(f.call("GET", "/api/compute/job-x"), 401);
    check_error(f.call("GET", "/no/such/route"), 401);  // no route map for strangers

    ApiTokens tokens(f.hub);
    const auto issued = tokens.create(kOperatorPrincipal, "cid", Role::client);
    CHECK(f.call("GET", "/api/compute", issued.secret).status == 200);
    tokens.revoke(kOperatorPrincipal, issued.record.id);
    const auto revoked = f.call("GET", "/api/compute", issued.secret);
    check_error(revoked, 401);
    CHECK(revoked.header("www-authenticate").starts_with("Bearer"));

    // Another scheme than Bearer, or none, is not a token.
    HttpClient client(f.port());
    client.send("GET /api/compute HTTP/1.1\r\nHost: t\r\nAuthorization: Basic " + f.ann +
                "\r\n\r\n");
    check_error(*client.read_response(), 401);
    client.send("GET /api/compute HTTP/1.1\r\nHost: t\r\nAuthorization: " + f.ann + "\r\n\r\n");
    check_error(*client.read_response(), 401);
    client.send("GET /api/compute HTTP/1.1\r\nHost: t\r\nAuthorization: bearer  " + f.ann +
                "\r\n\r\n");
    CHECK(client.read_response()->status == 200);
}

TEST_CASE("the session cookie carries the same token as the bearer header") {
    ServerFixture f;
    HttpClient client(f.port());
    client.send("GET /api/compute HTTP/1.1\r\nHost: t\r\nCookie: theme=dark; sihlhack_session=" +
                f.ann + "\r\n\r\n");
    CHECK(client.read_response()->status == 200);
    client.send(
        "GET /api/compute HTTP/1.1\r\nHost: t\r\nCookie: sihlhack_session=sih_nope\r\n\r\n");
    check_error(*client.read_response(), 401);
}

TEST_CASE("a token whose role the endpoint does not allow is 403 JSON") {
    ServerFixture f;
    check_error(f.call("GET", "/api/compute", f.bee), 403);
    check_error(f.call("POST", "/api/compute", f.bee, kSpec), 403);
    check_error(f.call("GET", "/api/compute/job-x", f.bee), 403);
    CHECK(f.hub.scheduler().jobs({}).empty());
}

TEST_CASE("unknown routes are 404 and unknown methods 405, as JSON") {
    ServerFixture f;
    check_error(f.call("GET", "/api/nothing", f.ann), 404);
    const auto response = f.call("DELETE", "/api/compute", f.ann);
    check_error(response, 405);
    CHECK(response.header("allow") == "GET, POST");
}

TEST_CASE("a body over the limit is refused with 413 before it is sent, after authentication") {
    ServerOptions options;
    options.body_limit = 4096;
    ServerFixture f(options);
    {
        HttpClient client(f.port());
        // Headers only: the server must answer without waiting for ten gigabytes.
        REQUIRE(client.send("POST /api/compute HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                            f.ann + "\r\nContent-Length: 10000000000\r\n\r\n"));
        const auto response = client.read_response(3s);
        REQUIRE(response);
        check_error(*response, 413);
        CHECK(response->header("connection") == "close");
        CHECK(client.closed_within(3s));
    }
    {
        // Without a token the same request is 401: nothing is measured for strangers.
        HttpClient client(f.port());
        REQUIRE(
            client.send("POST /api/compute HTTP/1.1\r\nHost: t\r\nContent-Length: "
                        "10000000000\r\n\r\n"));
        check_error(*client.read_response(3s), 401);
    }
    {
        // A chunked body is limited as it arrives.
        HttpClient client(f.port());
        REQUIRE(client.send("POST /api/compute HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                            f.ann + "\r\nTransfer-Encoding: chunked\r\n\r\n"));
        const std::string chunk(3000, ' ');
        client.send("bb8\r\n" + chunk + "\r\n");
        client.send("bb8\r\n" + chunk + "\r\n");
        check_error(*client.read_response(3s), 413);
    }
    CHECK(f.hub.scheduler().jobs({}).empty());
}

TEST_CASE("a header over the limit is 413 and malformed HTTP is 400, both JSON") {
    ServerOptions options;
    options.header_limit = 2048;
    ServerFixture f(options);
    {
        HttpClient client(f.port());
        client.send("GET /api/compute HTTP/1.1\r\nHost: t\r\nX-Fill: " + std::string(4096, 'a') +
                    "\r\n\r\n");
        check_error(*client.read_response(), 413);
    }
    for (const std::string& garbage :
         {std::string("GARBAGE\r\n\r\n"), std::string("GET /api/compute HTTP/7.7\r\n\r\n"),
          std::string("GET /api/compute HTTP/1.1\r\nHost t\r\n\r\n"),
          std::string("POST /api/compute HTTP/1.1\r\nHost: t\r\nContent-Length: 12x\r\n\r\n")}) {
        CAPTURE(garbage);
        HttpClient client(f.port());
        client.send(garbage);
        const auto response = client.read_response();
        REQUIRE(response);
        check_error(*response, 400);
    }
    {
        // A bad chunk after an admitted header.
        HttpClient client(f.port());
        client.send("POST /api/compute HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + f.ann +
                    "\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        check_error(*client.read_response(), 400);
    }
}

TEST_CASE("an idle connection is closed after the idle timeout") {
    ServerOptions options;
    options.idle_timeout = 300ms;
    ServerFixture f(options);
    HttpClient silent(f.port());
    const auto start = std::chrono::steady_clock::now();
    CHECK(silent.closed_within(5s));
    CHECK(std::chrono::steady_clock::now() - start >= 250ms);

    // Also between two requests of a kept-alive connection.
    HttpClient kept(f.port());
    kept.send(request("GET", "/api/compute", f.ann));
    CHECK(kept.read_response()->status == 200);
    CHECK(kept.closed_within(5s));
}

TEST_CASE("a body that stalls is cut off after the read timeout") {
    ServerOptions options;
    options.read_timeout = 300ms;
    ServerFixture f(options);
    HttpClient client(f.port());
    client.send("POST /api/compute HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + f.ann +
                "\r\nContent-Length: 100\r\n\r\n{");
    CHECK(client.closed_within(5s));
    CHECK(f.hub.scheduler().jobs({}).empty());
}

TEST_CASE("a header trickled byte by byte is cut off after the read timeout, not the idle one") {
    ServerOptions options;
    options.read_timeout = 300ms;
    options.idle_timeout = 30s;
    ServerFixture f(options);
    HttpClient client(f.port());
    const auto message = request("GET", "/api/compute", f.ann);
    const auto start = std::chrono::steady_clock::now();
    bool cut = false;
    for (const char c : message) {
        if (!client.send(std::string(1, c)) || client.closed_within(100ms)) {
            cut = true;
            break;
        }
    }
    CHECK(cut);
    CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("connections beyond max_connections get 503 JSON and are closed") {
    ServerOptions options;
    options.max_connections = 2;
    ServerFixture f(options);
    auto first = std::make_unique<HttpClient>(f.port());
    HttpClient second(f.port());
    for (auto* client : {first.get(), &second}) {
        client->send(request("GET", "/api/compute", f.ann));
        CHECK(client->read_response()->status == 200);
    }
    {
        HttpClient third(f.port());
        third.send(request("GET", "/api/compute", f.ann));
        const auto response = third.read_response();
        REQUIRE(response);
        check_error(*response, 503);
        CHECK(response->header("retry-after") == "1");
        CHECK(third.closed_within(3s));
    }
    // A freed slot is served again (the server notices the close asynchronously).
    first.reset();
    int status = 0;
    for (int attempt = 0; attempt < 50 && status != 200; ++attempt) {
        std::this_thread::sleep_for(20ms);
        HttpClient next(f.port());
        next.send(request("GET", "/api/compute", f.ann));
        status = next.read_response()->status;
    }
    CHECK(status == 200);
}

TEST_CASE("keep-alive: two requests on one connection, each answered") {
    ServerFixture f;
    HttpClient client(f.port());
    client.send(request("GET", "/.well-known/sihlicon.json"));
    const auto first = client.read_response();
    REQUIRE(first);
    CHECK(first->status == 200);
    CHECK(first->header("connection") != "close");
    client.send(request("GET", "/api/compute", f.ann));
    const auto second = client.read_response();
    REQUIRE(second);
    CHECK(second->status == 200);
    // A refusal without a body keeps the connection too.
    client.send(request("GET", "/api/compute", f.bee));
    CHECK(client.read_response()->status == 403);
    client.send(request("GET", "/api/compute", f.ann));
    CHECK(client.read_response()->status == 200);
}

TEST_CASE("submit, list and get round trip; a client sees only its own jobs") {
    ServerFixture f;
    const auto submitted = f.call("POST", "/api/compute", f.ann, kSpec);
    REQUIRE(submitted.status == 200);
    const auto answer = json_of(submitted);
    CHECK(answer.at("success").as_bool());
    const std::string job_id(answer.at("jobId").as_string());
    CHECK(f.hub.scheduler().job(job_id).spec.owner == "ann");

    // The owner is the token's principal, whatever the body says.
    const auto forged =
        f.call("POST", "/api/compute", f.bob, R"({"owner":"ann",)" + kSpec.substr(1));
    REQUIRE(forged.status == 200);
    CHECK(f.hub.scheduler().job(std::string(json_of(forged).at("jobId").as_string())).spec.owner ==
          "bob");

    const auto own = json_of(f.call("GET", "/api/compute?status=queued&limit=10", f.ann));
    REQUIRE(own.at("jobs").as_array().size() == 1);
    CHECK(own.at("jobs").as_array()[0].as_object().at("jobId").as_string() == job_id);
    CHECK(json_of(f.call("GET", "/api/compute", f.op)).at("jobs").as_array().size() == 2);

    const auto got = json_of(f.call("GET", "/api/compute/" + job_id, f.ann));
    CHECK(got.at("job").as_object().at("jobId").as_string() == job_id);
    CHECK(f.call("GET", "/api/compute/" + job_id, f.op).status == 200);

    // Someone else's job reads exactly as a job that does not exist.
    const auto foreign = f.call("GET", "/api/compute/" + job_id, f.bob);
    check_error(foreign, 404);
    const auto missing = f.call("GET", "/api/compute/job-01AAAAAAAAAAAAAAAAAAAAAAAA", f.bob);
    check_error(missing, 404);
    auto missing_message = std::string(json_of(missing).at("error").as_string());
    CHECK(std::string(json_of(foreign).at("error").as_string()) ==
          missing_message.replace(missing_message.find("job-01AAAAAAAAAAAAAAAAAAAAAAAA"), 30,
                                  job_id));

    // Bad input is 400 naming the field; nothing is written.
    const auto invalid = f.call("POST", "/api/compute", f.ann, R"({"jobType":"ocr"})");
    check_error(invalid, 400);
    CHECK(json_of(invalid).at("details").as_object().at("field").as_string() == "jobName");
    check_error(f.call("GET", "/api/compute?limit=ten", f.ann), 400);
    check_error(f.call("GET", "/api/compute?status=lost", f.ann), 400);
    check_error(f.call("GET", "/api/compute?owner=bob", f.ann), 400);
    check_error(f.call("GET", "/api/compute?status=queued&after=" + job_id, f.bob), 400);
    check_error(f.call("GET", "/api/compute?limit=1&limit=2", f.ann), 400);
    CHECK(f.hub.scheduler().jobs({}).size() == 2);

    // A state conflict is 409: the same idempotency key for a different request.
    const auto keyed = R"({"idempotencyKey":"k1",)" + kSpec.substr(1);
    CHECK(f.call("POST", "/api/compute", f.ann, keyed).status == 200);
    auto changed = keyed;
    changed.replace(changed.find("ledger"), 6, "ledgex");
    const auto conflict = f.call("POST", "/api/compute", f.ann, changed);
    check_error(conflict, 409);
    CHECK(json_of(conflict).at("details").as_object().at("field").as_string() == "idempotencyKey");
}

TEST_CASE("Expect: 100-continue gets 100 Continue once admitted, and 413 at once when too large") {
    ServerOptions options;
    options.body_limit = 4096;
    ServerFixture f(options);
    HttpClient client(f.port());
    client.send("POST /api/compute HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + f.ann +
                "\r\nExpect: 100-continue\r\nContent-Length: " + std::to_string(kSpec.size()) +
                "\r\n\r\n");
    const auto interim = client.read_response();
    REQUIRE(interim);
    CHECK(interim->status == 100);
    client.send(kSpec);
    CHECK(client.read_response()->status == 200);

    HttpClient large(f.port());
    large.send("POST /api/compute HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + f.ann +
               "\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
    check_error(*large.read_response(), 413);
}

TEST_CASE("a quota refusal of the library is 429 with Retry-After") {
    ServerFixture f;
    f.hub.set_setting("submissionsPerHour", "1", kOperatorPrincipal);
    CHECK(f.call("POST", "/api/compute", f.ann, kSpec).status == 200);
    const auto refused = f.call("POST", "/api/compute", f.ann, kSpec);
    check_error(refused, 429);
    const auto seconds = std::stoi(refused.header("retry-after"));
    CHECK(seconds > 3500);
    CHECK(seconds <= 3600);
    check_error(f.call("GET", "/api/compute?limit=5000", f.ann), 400);
}

TEST_CASE("a chunked request body is accepted") {
    ServerFixture f;
    HttpClient client(f.port());
    std::string chunked;
    for (std::size_t at = 0; at < kSpec.size(); at += 40) {
        const auto piece = kSpec.substr(at, 40);
        char size[16];
        std::snprintf(size, sizeof size, "%zx", piece.size());
        chunked += std::string(size) + "\r\n" + piece + "\r\n";
    }
    client.send("POST /api/compute HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + f.ann +
                "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + "0\r\n\r\n");
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(f.hub.scheduler().jobs({}).size() == 1);
}

TEST_CASE("over TLS with a certificate made by the test, the same API answers") {
    TempDir keys;
    const auto cert = (keys / "cert.pem").string();
    const auto key = (keys / "key.pem").string();
    const auto command =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
        "-addext subjectAltName=IP:127.0.0.1 -keyout " +
        key + " -out " + cert + " >/dev/null 2>&1";
    REQUIRE(std::system(command.c_str()) == 0);
    ServerOptions options;
    options.tls_certificate = cert;
    options.tls_private_key = key;
    ServerFixture f(options);

    HttpClient client(f.port(), cert);
    client.send(request("POST", "/api/compute", f.ann, kSpec));
    const auto submitted = client.read_response();
    REQUIRE(submitted);
    CHECK(submitted->status == 200);
    client.send(request("GET", "/api/compute", f.ann));
    CHECK(client.read_response()->status == 200);
    client.send(request("GET", "/api/compute"));
    check_error(*client.read_response(), 401);

    // Plain HTTP to the TLS port gets no HTTP answer.
    HttpClient plain(f.port());
    plain.send(request("GET", "/.well-known/sihlicon.json"));
    CHECK_FALSE(plain.read_response(2s));

    // A key that is not the certificate's is refused at start.
    TempDir other;
    const auto other_key = (other / "key.pem").string();
    REQUIRE(std::system(("openssl genrsa -out " + other_key + " 2048 >/dev/null 2>&1").c_str()) ==
            0);
    ServerOptions mismatched;
    mismatched.tls_certificate = cert;
    mismatched.tls_private_key = other_key;
    Server wrong(f.hub, mismatched);
    const auto error = error_from([&] { wrong.start(); });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(error.field() == "tlsPrivateKey");
}

TEST_CASE("stop() lets a request in flight finish and closes idle connections") {
    ServerFixture f;
    HttpClient idle(f.port());
    HttpClient busy(f.port());
    const auto message = request("POST", "/api/compute", f.ann, kSpec);
    const auto split = message.size() - 10;
    REQUIRE(busy.send(message.substr(0, split)));  // the header and part of the body
    std::this_thread::sleep_for(100ms);
    auto stopped = std::async(std::launch::async, [&] { f.server->stop(); });
    CHECK(idle.closed_within(3s));
    CHECK(stopped.wait_for(200ms) == std::future_status::timeout);  // still draining
    REQUIRE(busy.send(message.substr(split)));
    const auto response = busy.read_response();
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(response->header("connection") == "close");
    CHECK(stopped.wait_for(5s) == std::future_status::ready);
    CHECK(f.hub.scheduler().jobs({}).size() == 1);
    // Nothing listens any more.
    CHECK_THROWS(HttpClient(f.port()));
}

TEST_CASE("every answered request has one access log line, never with the token") {
    ServerFixture f;
    f.call("GET", "/api/compute?limit=5", f.ann);
    f.call("GET", "/api/compute", f.bee);
    f.call("GET", "/api/compute", "sih_" + std::string(64, '1'));
    f.call("GET", "/api/compute/%0Aforged", f.ann);
    // A line is written once its response is sent, which the client may see first.
    auto lines = f.log_lines();
    for (int wait = 0; wait < 100 && lines.size() < 4; ++wait) {
        std::this_thread::sleep_for(10ms);
        lines = f.log_lines();
    }
    REQUIRE(lines.size() == 4);
    // Lines of requests on different connections may be written in either order.
    const auto line_with = [&](std::string_view text) {
        for (const auto& line : lines) {
            if (line.find(text) != std::string::npos) {
                return line;
            }
        }
        FAIL("no log line with " << text);
        return std::string();
    };
    CHECK(line_with("\"GET /api/compute?limit=5\" 200 ").ends_with(" ann"));
    CHECK(line_with("\"GET /api/compute\" 403 ").ends_with(" bee"));
    CHECK(line_with("\"GET /api/compute\" 401 ").ends_with(" -"));
    CHECK(line_with("\"GET /api/compute/%0Aforged\" 404 ").ends_with(" ann"));
    for (const auto& line : lines) {
        CHECK(line.find("sih_") == std::string::npos);
        CHECK(line.find('\n') == std::string::npos);
        CHECK(line.find("127.0.0.1:") != std::string::npos);
    }
}

TEST_CASE("server options are checked before anything listens") {
    TempDir dir;
    auto hub = Hub::open(dir.path());
    const auto refused = [&](auto change, std::string_view field) {
        ServerOptions options;
        change(options);
        const auto error = error_from([&] { Server server(hub, options); });
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == field);
    };
    refused([](ServerOptions& o) { o.address = "localhost:80"; }, "address");
    refused([](ServerOptions& o) { o.tls_certificate = "cert.pem"; }, "tlsPrivateKey");
    refused([](ServerOptions& o) { o.tls_private_key = "key.pem"; }, "tlsCertificate");
    refused([](ServerOptions& o) { o.max_connections = 0; }, "maxConnections");
    refused([](ServerOptions& o) { o.header_limit = 10; }, "headerLimit");
    refused([](ServerOptions& o) { o.idle_timeout = 0ms; }, "idleTimeout");
    // A timeout whose deadline (now + timeout) could overflow the clock.
    refused([](ServerOptions& o) { o.read_timeout = std::chrono::milliseconds::max(); },
            "readTimeout");
    refused([](ServerOptions& o) { o.threads = 0; }, "threads");

    Server first(hub, {});
    first.start();
    ServerOptions same;
    same.port = first.port();
    Server second(hub, same);
    CHECK(error_from([&] { second.start(); }).code() == ErrorCode::io);
    CHECK(error_from([&] { first.start(); }).code() == ErrorCode::conflict);
}
