// SPDX-License-Identifier: Apache-2.0
//
// The IPFS Trustless Gateway (GET/HEAD /ipfs/{cid}) and CAR upload (POST /api/v1/car) over
// HTTP: who reads what (the content store's rule, no existence oracle), content negotiation,
// the spec's headers, dag-scope and entity-bytes, and bodies that stream in bounded memory.
#include "server/gateway_support.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace sihlicon;
using namespace sihlicon::testing;

namespace {

constexpr std::string_view kCarType = "application/vnd.ipld.car; version=1; order=dfs; dups=n";

PutOptions with_access(AccessLevel level) {
    PutOptions options;
    options.access_level = level;
    return options;
}

std::string get(StorageFixture& f, const std::string& target, std::string_view token,
                std::string_view accept, HttpResponse* out = nullptr) {
    const auto response = f.send(request(
        "GET", target, token, {}, accept.empty() ? "" : "Accept: " + std::string(accept) + "\r\n"));
    if (out != nullptr) {
        *out = response;
    }
    return response.body;
}

std::string export_of(StorageFixture& f, const std::string& cid) {
    std::string bytes;
    f.hub.content_store().export_car(cid, "ann", [&](std::span<const std::uint8_t> part) {
        bytes.append(reinterpret_cast<const char*>(part.data()), part.size());
    });
    return bytes;
}

// The CIDs of a CAR's blocks, in order.
std::vector<std::string> cids_of(const std::string& car) {
    std::vector<std::string> cids;
    for (const auto& [cid, block] : read_car(car).blocks) {
        cids.push_back(cid);
    }
    return cids;
}

// Header names compared without case (CIDs in base32 are lower case already).
std::string lower(std::string text) {
    for (auto& c : text) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return text;
}

std::filesystem::path block_file(StorageFixture& f, const std::string& cid) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(f.dir.path())) {
        if (entry.path().filename() == cid) {
            return entry.path();
        }
    }
    FAIL("no block file " << cid);
    return {};
}

}  // namespace

TEST_CASE(
    "GET /ipfs/{cid} serves public content to anyone: the raw block hashing to its CID and the "
    "DAG as a CAR v1, with the trustless gateway's headers") {
    StorageFixture f;
    const auto bytes = pattern_bytes(700'000);  // three leaves under a dag-pb root
    const auto manifest =
        f.hub.content_store().put_bytes(bytes, "ann", with_access(AccessLevel::public_));
    const auto& cid = manifest.content_id;

    HttpResponse raw;
    get(f, "/ipfs/" + cid, {}, "application/vnd.ipld.raw", &raw);
    REQUIRE(raw.status == 200);
    CHECK(raw.header("content-type") == "application/vnd.ipld.raw");
    CHECK(Cid::of_block(CidCodec::dag_pb,
                        {reinterpret_cast<const std::uint8_t*>(raw.body.data()), raw.body.size()})
              .to_string() == cid);
    CHECK(raw.header("x-ipfs-path") == "/ipfs/" + cid);
    CHECK(raw.header("etag") == "\"" + cid + ".raw\"");
    CHECK(raw.header("cache-control") == "public, max-age=29030400, immutable");
    CHECK(raw.header("content-disposition") == "attachment; filename=\"" + cid + ".bin\"");

    HttpResponse car;
    get(f, "/ipfs/" + cid + "?format=car", {}, {}, &car);
    REQUIRE(car.status == 200);
    CHECK(car.header("content-type") == kCarType);
    CHECK(car.header("x-ipfs-roots") == cid);
    CHECK(car.header("etag") == "\"" + cid + ".car.all\"");
    CHECK(car.header("content-disposition") == "attachment; filename=\"" + cid + ".car\"");
    CHECK(car.header("content-length") == std::to_string(car.body.size()));
    CHECK(car.body == export_of(f, cid));  // the header with the root, every block once
    const auto sections = read_car(car.body);
    REQUIRE(sections.blocks.size() == 4);
    CHECK(sections.blocks.front().first == cid);
    std::vector<std::uint8_t> file;
    for (const auto& [block_cid, block] : sections.blocks) {
        if (block_cid.starts_with("bafkrei")) {  // raw leaves hold the file's bytes, in order
            file.insert(file.end(), block.begin(), block.end());
        }
    }
    CHECK(file == bytes);

    // A leaf by its own CID, as a client fetching block by block asks.
    const auto& leaf = sections.blocks[1];
    HttpResponse leaf_raw;
    get(f, "/ipfs/" + leaf.first + "?format=raw", {}, {}, &leaf_raw);
    CHECK(leaf_raw.status == 200);
    CHECK(std::vector<std::uint8_t>(leaf_raw.body.begin(), leaf_raw.body.end()) == leaf.second);

    // HEAD with a client token: the headers (the raw block's Content-Length), no body.
    const auto head = exchange(f.port(), request("HEAD", "/ipfs/" + cid, f.bob, {},
                                                 "Accept: application/vnd.ipld.raw\r\n"
                                                 "Connection: close\r\n"));
    REQUIRE(head.find("\r\n\r\n") != std::string::npos);
    CHECK(head.starts_with("HTTP/1.1 200 "));
    CHECK(head.find("\r\n\r\n") + 4 == head.size());  // nothing after the header
    CHECK(lower(head).find("content-length: " + std::to_string(raw.body.size()) + "\r\n") !=
          std::string::npos);
    CHECK(lower(head).find("etag: \"" + cid + ".raw\"") != std::string::npos);
    const auto head_car = exchange(
        f.port(), request("HEAD", "/ipfs/" + cid + "?format=car", {}, {}, "Connection: close\r\n"));
    CHECK(head_car.starts_with("HTTP/1.1 200 "));
    CHECK(head_car.find("\r\n\r\n") + 4 == head_car.size());
    CHECK(lower(head_car).find("x-ipfs-roots: " + cid) != std::string::npos);
    CHECK(lower(head_car).find("content-length") == std::string::npos);
}

TEST_CASE(
    "GET /ipfs/{cid} of private content: its owner reads it with a token; another client, no "
    "token, and any block inside it answer exactly as a CID the hub does not hold") {
    StorageFixture f;
    const auto bytes = pattern_bytes(600'000, 2);
    const auto cid = f.hub.content_store().put_bytes(bytes, "ann").content_id;
    const auto absent = f.hub.content_store()
                            .put_bytes(pattern_bytes(10, 3), "ann")
                            .content_id;  // then removed: a CID the hub no longer holds
    f.hub.content_store().remove(absent, "ann");

    HttpResponse own;
    get(f, "/ipfs/" + cid + "?format=car", f.ann, {}, &own);
    REQUIRE(own.status == 200);
    CHECK(own.header("cache-control") == "private, no-store");
    const auto leaf = cids_of(own.body).at(1);

    for (const auto& [target_cid, absent_cid] : {std::pair{cid, absent}, std::pair{leaf, absent}}) {
        for (const std::string_view token : {std::string_view(f.bob), std::string_view{}}) {
            HttpResponse hidden, missing;
            get(f, "/ipfs/" + target_cid + "?format=raw", token, {}, &hidden);
            get(f, "/ipfs/" + absent_cid + "?format=raw", token, {}, &missing);
            CHECK(hidden.status == 404);
            CHECK(missing.status == 404);
            // The same words, the CID aside.
            auto hidden_text = hidden.body;
            hidden_text.replace(hidden_text.find(target_cid), target_cid.size(), "X");
            auto missing_text = missing.body;
            missing_text.replace(missing_text.find(absent_cid), absent_cid.size(), "X");
            CHECK(hidden_text == missing_text);
        }
    }
    HttpResponse leaf_own;
    get(f, "/ipfs/" + leaf + "?format=raw", f.ann, {}, &leaf_own);
    CHECK(leaf_own.status == 200);

    // A token that is not valid is refused, never taken as no token.
    CHECK(f.send(request("GET", "/ipfs/" + cid + "?format=raw", "not-a-token")).status == 401);
    // A worker token is not a reader of content (403), whatever the content.
    CHECK(f.send(request("GET", "/ipfs/" + cid + "?format=raw", f.bee)).status == 403);
}

TEST_CASE(
    "dag-scope and entity-bytes choose the CAR's blocks: block is the root, entity-bytes the "
    "root and the leaves holding the range; a range past the end is 400") {
    StorageFixture f;
    PutOptions options = with_access(AccessLevel::public_);
    options.unixfs.chunk_size = 1000;
    const auto cid = f.hub.content_store()
                         .put_bytes(pattern_bytes(4500, 4), "ann", options)
                         .content_id;  // five leaves: 1000 x 4 + 500
    const auto all = cids_of(get(f, "/ipfs/" + cid + "?format=car", {}, {}));
    REQUIRE(all.size() == 6);
    CHECK(cids_of(get(f, "/ipfs/" + cid + "?format=car&dag-scope=block", {}, {})) ==
          std::vector<std::string>{cid});
    CHECK(cids_of(get(f, "/ipfs/" + cid + "?format=car&dag-scope=entity", {}, {})) == all);
    const auto range = [&](std::string_view bytes) {
        return cids_of(
            get(f, "/ipfs/" + cid + "?format=car&entity-bytes=" + std::string(bytes), {}, {}));
    };
    CHECK(range("0:0") == std::vector<std::string>{cid, all[1]});
    CHECK(range("999:1000") == std::vector<std::string>{cid, all[1], all[2]});
    CHECK(range("-1:*") == std::vector<std::string>{cid, all[5]});
    CHECK(range("2500:-1001") == std::vector<std::string>{cid, all[3], all[4]});
    CHECK(range("0:*") == all);
    CHECK(range("10:5") == std::vector<std::string>{cid});  // empty: the root only
    HttpResponse etag;
    get(f, "/ipfs/" + cid + "?format=car&entity-bytes=0:*", {}, {}, &etag);
    CHECK(etag.header("etag") == "\"" + cid + ".car.entity.0-*\"");

    CHECK(f.send(request("GET", "/ipfs/" + cid + "?format=car&entity-bytes=4500:*")).status == 400);
    CHECK(f.send(request("GET", "/ipfs/" + cid + "?format=car&entity-bytes=1-2")).status == 400);
    CHECK(f.send(request("GET", "/ipfs/" + cid + "?format=car&dag-scope=all&entity-bytes=0:1"))
              .status == 400);
    CHECK(f.send(request("GET", "/ipfs/" + cid + "?format=car&dag-scope=some")).status == 400);
    CHECK(f.send(request("GET", "/ipfs/" + cid + "?format=raw&dag-scope=block")).status == 400);
}

TEST_CASE(
    "content negotiation: ?format= wins over Accept, 406 for a type or CAR variant not served, "
    "400 without any format, a malformed CID or an unknown parameter, dups=y repeats blocks") {
    StorageFixture f;
    PutOptions options = with_access(AccessLevel::public_);
    options.unixfs.chunk_size = 1000;
    auto same = pattern_bytes(1000, 5);
    auto bytes = same;
    bytes.insert(bytes.end(), same.begin(), same.end());  // two identical leaves
    const auto cid = f.hub.content_store().put_bytes(bytes, "ann", options).content_id;
    const auto target = "/ipfs/" + cid;

    HttpResponse response;
    get(f, target + "?format=raw", {}, "application/vnd.ipld.car", &response);
    CHECK(response.header("content-type") == "application/vnd.ipld.raw");
    get(f, target, {}, "text/html, application/vnd.ipld.car;q=0.5, application/vnd.ipld.raw;q=0.9",
        &response);
    CHECK(response.header("content-type") == "application/vnd.ipld.raw");
    get(f, target, {}, "application/vnd.ipld.car; version=1; order=dfs; dups=y", &response);
    CHECK(response.header("content-type") ==
          "application/vnd.ipld.car; version=1; order=dfs; dups=y");
    CHECK(cids_of(response.body).size() == 3);  // the root, the leaf twice
    CHECK(cids_of(get(f, target + "?format=car", {}, {})).size() == 2);
    get(f, target + "?format=car&car-dups=y", {}, {}, &response);
    CHECK(cids_of(response.body).size() == 3);

    CHECK(f.send(request("GET", target, {}, {}, "Accept: text/html\r\n")).status == 406);
    CHECK(f.send(request("GET", target, {}, {}, "Accept: application/vnd.ipld.car;version=2\r\n"))
              .status == 406);
    CHECK(f.send(request("GET", target + "?format=car&car-order=bfs")).status == 406);
    CHECK(f.send(request("GET", target)).status == 400);
    CHECK(f.send(request("GET", target, {}, {}, "Accept: */*\r\n")).status == 400);
    CHECK(f.send(request("GET", target + "?format=json")).status == 400);
    CHECK(f.send(request("GET", target + "?format=raw&download=1")).status == 400);
    CHECK(f.send(request("GET", "/ipfs/bafynotacid?format=raw")).status == 400);
    CHECK(f.send(request("GET", "/ipfs/" + cid.substr(0, 50) + "?format=raw")).status == 400);
    // A CIDv0 names the same dag-pb root.
    const auto v0 = Cid::parse(cid).to_v1();
    CHECK(f.send(request("GET", "/ipfs/" + Cid(0, CidCodec::dag_pb, v0.digest()).to_string() +
                                    "?format=raw"))
              .status == 200);
}

TEST_CASE(
    "a block missing from the blob folder while a CAR is produced answers 500, never a "
    "truncated CAR under 200") {
    StorageFixture f;
    const auto cid =
        f.hub.content_store()
            .put_bytes(pattern_bytes(700'000, 6), "ann", with_access(AccessLevel::public_))
            .content_id;
    const auto blocks = cids_of(get(f, "/ipfs/" + cid + "?format=car", {}, {}));
    std::filesystem::remove(block_file(f, blocks.at(2)));
    const auto response = f.send(request("GET", "/ipfs/" + cid + "?format=car"));
    CHECK(response.status == 500);
    CHECK(response.header("content-type") == "application/json");
    CHECK(f.spool_files() == 0);
}

TEST_CASE(
    "a 64 MiB content's CAR streams from the blob folder while the process's peak RSS grows by "
    "less than 40 MiB") {
    StorageFixture f;
    constexpr std::size_t kSize = 64 * 1024 * 1024 + 12345;
    std::string cid;
    {
        std::size_t produced = 0;
        PutOptions options = with_access(AccessLevel::public_);
        options.declared_size = kSize;
        cid = f.hub.content_store()
                  .put_stream(
                      [&](std::span<std::uint8_t> buffer) {
                          const auto take = std::min(buffer.size(), kSize - produced);
                          for (std::size_t i = 0; i < take; ++i) {
                              buffer[i] =
                                  static_cast<std::uint8_t>((produced + i) * 2654435761u >> 13);
                          }
                          produced += take;
                          return take;
                      },
                      "ann", options)
                  .content_id;
    }
    const auto expected = f.dir / "expected.car";
    f.hub.content_store().export_car_to_file(cid, "ann", expected);
    const auto received = f.dir / "received.car";
    reset_peak_rss();
    const auto before = status_kib("VmHWM");
    const auto response =
        download(f.port(), request("GET", "/ipfs/" + cid + "?format=car"), received);
    const auto after = status_kib("VmHWM");
    CHECK(response.status == 200);
    CHECK(response.length == std::filesystem::file_size(expected));
    CHECK(same_files(expected, received));
    MESSAGE("peak RSS grew by " << (after - before) / 1024 << " MiB");
    if (kRssIsMeasurable) {
        CHECK(after - before < 40 * 1024);
    }
    CHECK(f.spool_files() == 0);
}
