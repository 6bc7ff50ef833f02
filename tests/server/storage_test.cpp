// SPDX-License-Identifier: Apache-2.0
//
// The REST contract's storage endpoints over real HTTP: upload (multipart, streamed), stat and
// delete as the token's principal, roles, the multipart framing's edge cases (each refused
// with 400 naming the field, storing nothing), metadata decoded by PutOptions::from_json, the
// upload limit (413 before the body), and the quota (429 with Retry-After).
#include "server/storage_support.hpp"
#include "support/errors.hpp"

#include <doctest/doctest.h>
#include <sihlicon/content_store.hpp>

#include <boost/json.hpp>

#include <string>
#include <thread>

using namespace std::chrono_literals;
using sihlicon::ErrorCode;
using sihlicon::PutOptions;
using sihlicon::ServerOptions;
using sihlicon::StorageTier;
using sihlicon::testing::error_from;
using sihlicon::testing::form_end;
using sihlicon::testing::form_part;
using sihlicon::testing::HttpClient;
using sihlicon::testing::HttpResponse;
using sihlicon::testing::request;
using sihlicon::testing::StorageFixture;
using sihlicon::testing::upload_request;

namespace {

boost::json::object json_of(const HttpResponse& response) {
    CHECK(response.header("content-type") == "application/json");
    return boost::json::parse(response.body).as_object();
}

// A 400 naming `field` in its details.
void check_refused(const HttpResponse& response, std::string_view field) {
    CAPTURE(response.body);
    CHECK(response.status == 400);
    const auto body = json_of(response);
    CHECK(body.at("details").at("field").as_string() == field);
}

}  // namespace

TEST_CASE("PutOptions::from_json decodes the upload metadata and refuses unknown fields by name") {
    const auto options = PutOptions::from_json(
        R"({"fileName":"a.txt","mimeType":"text/plain","storageTier":"cold",
            "accessLevel":"public","minReplicas":1,"sourceHubId":"hub-1",
            "metadata":{"pages":3},"allowedRegions":["CH"]})");
    CHECK(options.file_name == "a.txt");
    CHECK(options.mime_type == "text/plain");
    CHECK(options.storage_tier == StorageTier::cold);
    CHECK(options.access_level == sihlicon::AccessLevel::public_);
    CHECK(options.min_replicas == 1);
    CHECK(options.source_hub_id == "hub-1");
    CHECK(options.metadata_json == R"({"pages":3})");
    CHECK(options.allowed_regions == std::vector<std::string>{"CH"});
    const auto defaults = PutOptions::from_json("{}");
    CHECK(defaults.storage_tier == StorageTier::hot);
    CHECK(defaults.min_replicas == 3);
    CHECK(defaults.metadata_json == "{}");
    CHECK(error_from([] { PutOptions::from_json(R"({"colour":"red"})"); }).field() == "colour");
    CHECK(error_from([] { PutOptions::from_json(R"({"storageTier":"tape"})"); }).field() ==
          "storageTier");
    CHECK(error_from([] { PutOptions::from_json(R"({"minReplicas":"3"})"); }).field() ==
          "minReplicas");
    CHECK(error_from([] { PutOptions::from_json(R"({"metadata":[1]})"); }).field() == "metadata");
    CHECK(error_from([] { PutOptions::from_json("[]"); }).field() == "metadata");
    CHECK(error_from([] { PutOptions::from_json("{"); }).code() == ErrorCode::invalid_argument);
}

TEST_CASE(
    "an upload is stored for the token's principal; GET answers its manifest, DELETE removes "
    "it, and another client sees it as absent") {
    StorageFixture f;
    const std::string content = "the ledger of 2026, page one";
    const auto body = form_part("metadata", R"({"storageTier":"cold","metadata":{"pages":1}})") +
                      form_part("file", content, "ledger.txt") + form_end();
    const auto uploaded = f.send(upload_request(f.ann, body));
    REQUIRE(uploaded.status == 200);
    const auto answer = json_of(uploaded);
    CHECK(answer.at("success").as_bool());
    const auto& manifest = answer.at("manifest").as_object();
    const std::string cid(manifest.at("contentId").as_string());
    CHECK(manifest.at("owner").as_string() == "ann");
    CHECK(manifest.at("fileName").as_string() == "ledger.txt");  // the form's file name
    CHECK(manifest.at("fileSizeBytes").as_int64() == static_cast<std::int64_t>(content.size()));
    CHECK(manifest.at("storageTier").as_string() == "cold");
    CHECK(manifest.at("metadata").at("pages").as_int64() == 1);
    const auto stored = f.hub.content_store().get_bytes(cid, "ann");
    CHECK(std::string(stored.begin(), stored.end()) == content);

    const auto shown = f.send(request("GET", "/api/storage?contentId=" + cid, f.ann));
    REQUIRE(shown.status == 200);
    CHECK(json_of(shown).at("manifest").at("contentId").as_string() == cid);

    // bob may not read ann's private content: 404, worded as for content that does not exist.
    const auto hidden = f.send(request("GET", "/api/storage?contentId=" + cid, f.bob));
    CHECK(hidden.status == 404);
    CHECK(json_of(hidden).at("error").as_string().find("no content") != std::string::npos);
    CHECK(f.send(request("DELETE", "/api/storage?contentId=" + cid, f.bob)).status == 404);
    CHECK(f.hub.content_store().list("ann").size() == 1);

    const auto deleted = f.send(request("DELETE", "/api/storage?contentId=" + cid, f.ann));
    REQUIRE(deleted.status == 200);
    CHECK(deleted.body == R"({"success":true,"message":"Content deleted"})");
    const auto absent = f.send(request("GET", "/api/storage?contentId=" + cid, f.ann));
    CHECK(absent.status == 404);
    CHECK(absent.body == hidden.body);  // no existence oracle
    CHECK(f.hub.content_store().list("ann").empty());
    check_refused(f.send(request("GET", "/api/storage", f.ann)), "contentId");
    check_refused(f.send(request("GET", "/api/storage?contentId=x&colour=red", f.ann)), "colour");
    check_refused(f.send(request("GET", "/api/storage?contentId=not-a-cid", f.ann)), "contentId");
}

TEST_CASE("the storage endpoints admit clients and operators; a worker token is 403") {
    StorageFixture f;
    const auto body = form_part("file", "operator's bytes", "op.bin") + form_end();
    const auto by_operator = f.send(upload_request(f.op, body));
    REQUIRE(by_operator.status == 200);
    const std::string cid(json_of(by_operator).at("manifest").at("contentId").as_string());
    CHECK(f.send(upload_request(f.bee, body)).status == 403);
    CHECK(f.send(request("GET", "/api/storage?contentId=" + cid, f.bee)).status == 403);
    CHECK(f.send(request("DELETE", "/api/storage?contentId=" + cid, f.bee)).status == 403);
    CHECK(f.send(upload_request("", body)).status == 401);
    CHECK(f.send(request("GET", "/api/storage?contentId=" + cid, f.op)).status == 200);
}

TEST_CASE("malformed multipart uploads are 400 naming the field and store nothing") {
    StorageFixture f;
    SUBCASE("no file part") {
        check_refused(f.send(upload_request(f.ann, form_part("metadata", "{}") + form_end())),
                      "file");
    }
    SUBCASE("two file parts") {
        check_refused(f.send(upload_request(f.ann, form_part("file", "one", "a") +
                                                       form_part("file", "two", "b") + form_end())),
                      "file");
    }
    SUBCASE("a part that is neither file nor metadata") {
        check_refused(f.send(upload_request(f.ann, form_part("file", "one", "a") +
                                                       form_part("colour", "red") + form_end())),
                      "colour");
    }
    SUBCASE("a boundary the body does not use") {
        check_refused(f.send(upload_request(f.ann, form_part("file", "one", "a") + form_end(),
                                            "another-boundary")),
                      "body");
    }
    SUBCASE("no boundary, or not multipart") {
        const auto body = form_part("file", "one", "a") + form_end();
        check_refused(f.send(request("POST", "/api/storage", f.ann, body,
                                     "Content-Type: multipart/form-data\r\n")),
                      "Content-Type");
        check_refused(f.send(request("POST", "/api/storage", f.ann, body,
                                     "Content-Type: application/json\r\n")),
                      "Content-Type");
        check_refused(f.send(request("POST", "/api/storage", f.ann, body)), "Content-Type");
    }
    SUBCASE("metadata with an unknown field names it") {
        const auto refused =
            f.send(upload_request(f.ann, form_part("metadata", R"({"colour":"red"})") +
                                             form_part("file", "one", "a") + form_end()));
        check_refused(refused, "colour");
        CHECK(json_of(refused).at("error").as_string().find("colour") != std::string::npos);
    }
    SUBCASE("metadata that is not JSON, or out of range") {
        check_refused(f.send(upload_request(f.ann, form_part("metadata", "{oops") +
                                                       form_part("file", "one", "a") + form_end())),
                      "metadata");
        check_refused(f.send(upload_request(f.ann, form_part("metadata", R"({"minReplicas":99})") +
                                                       form_part("file", "one", "a") + form_end())),
                      "minReplicas");
    }
    SUBCASE("a body cut off before its closing boundary") {
        check_refused(
            f.send(upload_request(f.ann, "--" + std::string(sihlicon::testing::kBoundary) +
                                             "\r\nContent-Disposition: form-data; "
                                             "name=\"file\"\r\n\r\nhalf a fi")),
            "body");
        check_refused(f.send(upload_request(f.ann, form_part("file", "one", "a"))), "body");
    }
    SUBCASE("an empty body") {
        check_refused(f.send(upload_request(f.ann, "")), "body");
    }
    SUBCASE("a part without a name") {
        check_refused(
            f.send(upload_request(f.ann, "--" + std::string(sihlicon::testing::kBoundary) +
                                             "\r\nContent-Disposition: form-data\r\n\r\n"
                                             "x\r\n" +
                                             form_end())),
            "Content-Disposition");
    }
    CHECK(f.hub.content_store().list("ann").empty());
    CHECK(f.hub.content_store().collect_garbage() == 0);
    CHECK(f.spool_files() == 0);
}

TEST_CASE("a file part holding CRLF and boundary-like bytes is stored exactly") {
    StorageFixture f;
    std::string content = "line\r\n--sihlicon-test-boundary\r\n--\r\n";
    for (int i = 0; i < 256; ++i) {
        content += static_cast<char>(i);
    }
    const auto response = f.send(upload_request(
        f.ann, "preamble\r\n" + form_part("file", content, "bin") + form_end() + "epilogue"));
    REQUIRE(response.status == 200);
    const std::string cid(json_of(response).at("manifest").at("contentId").as_string());
    const auto stored = f.hub.content_store().get_bytes(cid, "ann");
    CHECK(std::string(stored.begin(), stored.end()) == content);
}

TEST_CASE(
    "an upload whose Content-Length is over the upload limit is 413 before its body is sent; "
    "a chunked one when its running total passes it") {
    ServerOptions options;
    options.upload_limit = 4096;
    StorageFixture f(options);
    {
        HttpClient client(f.port());
        // Only the header: the answer must come without any byte of the body.
        REQUIRE(client.send("POST /api/storage HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                            f.ann +
                            "\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                            "Content-Length: 4097\r\n\r\n"));
        const auto refused = client.read_response(2000ms);
        REQUIRE(refused);
        CHECK(refused->status == 413);
        CHECK(client.closed_within(2000ms));
    }
    {
        // The route's limit is the upload limit, not body_limit (1 MiB) nor the other way round.
        const auto fits = form_part("file", std::string(3000, 'x'), "f") + form_end();
        CHECK(f.send(upload_request(f.ann, fits)).status == 200);
    }
    {
        HttpClient client(f.port());
        REQUIRE(client.send("POST /api/storage HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                            f.ann +
                            "\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n"));
        const std::string chunk(1000, 'y');
        bool refused_early = false;
        for (int i = 0; i < 8 && !refused_early; ++i) {
            refused_early = !client.send("3e8\r\n" + chunk + "\r\n");
            std::this_thread::sleep_for(20ms);
        }
        const auto refused = client.read_response(2000ms);
        REQUIRE(refused);
        CHECK(refused->status == 413);
    }
    // Without a token the limit is not even looked at: 401 first.
    HttpClient anonymous(f.port());
    REQUIRE(
        anonymous.send("POST /api/storage HTTP/1.1\r\nHost: t\r\nContent-Length: 999999\r\n\r\n"));
    const auto unauthenticated = anonymous.read_response(2000ms);
    REQUIRE(unauthenticated);
    CHECK(unauthenticated->status == 401);
    CHECK(f.spool_files() == 0);
}

TEST_CASE("an upload over the owner's quota is 429 with Retry-After and stores nothing") {
    StorageFixture f;
    sihlicon::Quota quota;
    quota.upload_bytes_per_hour = 10;
    f.hub.content_store().set_quota("ann", quota);
    const auto refused =
        f.send(upload_request(f.ann, form_part("file", std::string(100, 'q'), "q") + form_end()));
    CHECK(refused.status == 429);
    CHECK_FALSE(refused.header("retry-after").empty());
    CHECK(f.hub.content_store().list("ann").empty());
}

TEST_CASE("the upload limit and the spool folder are checked before anything listens") {
    sihlicon::testing::TempDir dir;
    auto hub = sihlicon::Hub::open(dir.path());
    ServerOptions zero;
    zero.upload_limit = 0;
    CHECK(error_from([&] { sihlicon::Server server(hub, zero); }).field() == "uploadLimit");
    ServerOptions missing;
    missing.spool_directory = dir / "no-such-folder";
    CHECK(error_from([&] { sihlicon::Server server(hub, missing); }).field() == "spoolDirectory");
    ServerOptions a_file;
    a_file.spool_directory = dir / "hub.db";
    CHECK(error_from([&] { sihlicon::Server server(hub, a_file); }).field() == "spoolDirectory");
}
