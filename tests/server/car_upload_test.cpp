// SPDX-License-Identifier: Apache-2.0
//
// CAR upload over HTTP (POST /api/v1/car): the body streams into ContentStore::import_car for
// the token's principal, under its rules (every block verified, possession, quotas); a
// corrupt CAR stores nothing.
#include "server/gateway_support.hpp"

#include <doctest/doctest.h>

using namespace sihlicon;
using namespace sihlicon::testing;

namespace {

// A CAR of `bytes` exported from a hub of its own.
std::string car_of(const std::vector<std::uint8_t>& bytes, std::string* root = nullptr) {
    TempDir dir;
    auto hub = Hub::open(dir.path());
    const auto cid = hub.content_store().put_bytes(bytes, "maker").content_id;
    if (root != nullptr) {
        *root = cid;
    }
    std::string car;
    hub.content_store().export_car(cid, "maker", [&](std::span<const std::uint8_t> part) {
        car.append(reinterpret_cast<const char*>(part.data()), part.size());
    });
    return car;
}

std::string car_request(std::string_view target, std::string_view token, std::string_view car,
                        std::string_view type = "application/vnd.ipld.car") {
    return request("POST", target, token, car, "Content-Type: " + std::string(type) + "\r\n");
}

std::size_t blocks_on_disk(StorageFixture& f) {
    std::size_t count = 0;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(f.hub.blob_directory())) {
        const auto name = entry.path().filename().string();
        count += entry.is_regular_file() && name.starts_with("baf") ? 1 : 0;
    }
    return count;
}

}  // namespace

TEST_CASE(
    "POST /api/v1/car stores a CAR's content for the token's principal and answers its "
    "manifests; the gateway then serves it") {
    StorageFixture f;
    const auto bytes = pattern_bytes(600'000, 7);
    std::string root;
    const auto car = car_of(bytes, &root);
    const auto response =
        f.send(car_request("/api/v1/car?accessLevel=public&minReplicas=0", f.ann, car));
    REQUIRE(response.status == 200);
    const auto body = boost::json::parse(response.body).as_object();
    const auto& manifests = body.at("manifests").as_array();
    REQUIRE(manifests.size() == 1);
    CHECK(manifests[0].at("contentId").as_string() == root);
    CHECK(manifests[0].at("owner").as_string() == "ann");
    CHECK(manifests[0].at("accessLevel").as_string() == "public");
    CHECK(manifests[0].at("fileSizeBytes").as_int64() == 600'000);
    CHECK(f.hub.content_store().get_bytes(root, "ann") == bytes);
    const auto served = f.send(request("GET", "/ipfs/" + root + "?format=car"));
    CHECK(served.status == 200);
    CHECK(served.body == car);
}

TEST_CASE(
    "POST /api/v1/car refuses a corrupt block, a truncated CAR, another Content-Type and an "
    "unknown option with 400, and stores nothing") {
    StorageFixture f;
    const auto car = car_of(pattern_bytes(600'000, 8));
    auto corrupt = car;
    corrupt[corrupt.size() - 100] ^= 1;  // a byte of the last block
    const auto blocks_before = blocks_on_disk(f);
    for (const auto& [body, type, target] :
         {std::tuple{corrupt, "application/vnd.ipld.car", "/api/v1/car"},
          std::tuple{car.substr(0, car.size() - 10), "application/vnd.ipld.car", "/api/v1/car"},
          std::tuple{car, "application/octet-stream", "/api/v1/car"},
          std::tuple{car, "application/vnd.ipld.car", "/api/v1/car?accessLevel=secret"},
          std::tuple{car, "application/vnd.ipld.car", "/api/v1/car?owner=bob"}}) {
        CAPTURE(type);
        CAPTURE(target);
        const auto response = f.send(car_request(target, f.ann, body, type));
        CHECK(response.status == 400);
        CHECK(f.hub.content_store().list("ann").empty());
        CHECK(blocks_on_disk(f) == blocks_before);
    }
    // A CAR is not a way around the quota: the real sizes count.
    Quota quota;
    quota.upload_bytes_per_hour = 100'000;
    f.hub.content_store().set_quota("ann", quota);
    CHECK(f.send(car_request("/api/v1/car", f.ann, car)).status == 429);
    CHECK(f.hub.content_store().list("ann").empty());
    CHECK(blocks_on_disk(f) == blocks_before);
    // No token, a worker token: refused before the body.
    CHECK(f.send(car_request("/api/v1/car", {}, car)).status == 401);
    CHECK(f.send(car_request("/api/v1/car", f.bee, car)).status == 403);
}

TEST_CASE(
    "a 100 MiB CAR uploaded over HTTP is imported while the process's peak RSS grows by less "
    "than 40 MiB") {
    StorageFixture f;
    Quota quota;
    quota.upload_bytes_per_hour = std::int64_t{1} << 40;
    f.hub.content_store().set_quota("ann", quota);
    constexpr std::size_t kSize = 100 * 1024 * 1024;
    const auto car_path = f.dir / "large.car";
    std::string root;
    {
        TempDir dir;
        auto hub = Hub::open(dir.path());
        hub.content_store().set_quota("maker", quota);
        std::size_t produced = 0;
        root = hub.content_store()
                   .put_stream(
                       [&](std::span<std::uint8_t> buffer) {
                           const auto take = std::min(buffer.size(), kSize - produced);
                           for (std::size_t i = 0; i < take; ++i) {
                               buffer[i] =
                                   static_cast<std::uint8_t>((produced + i) * 2246822519u >> 11);
                           }
                           produced += take;
                           return take;
                       },
                       "maker")
                   .content_id;
        hub.content_store().export_car_to_file(root, "maker", car_path);
    }
    const auto car_size = std::filesystem::file_size(car_path);
    reset_peak_rss();
    const auto before = status_kib("VmHWM");
    HttpClient client(f.port());
    REQUIRE(client.send("POST /api/v1/car HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " +
                        f.ann + "\r\nContent-Type: application/vnd.ipld.car\r\nContent-Length: " +
                        std::to_string(car_size) + "\r\n\r\n"));
    {
        std::ifstream in(car_path, std::ios::binary);
        std::vector<char> piece(1 << 20);
        while (in) {
            in.read(piece.data(), static_cast<std::streamsize>(piece.size()));
            REQUIRE(client.send({piece.data(), static_cast<std::size_t>(in.gcount())}));
        }
    }
    const auto response = client.read_response(std::chrono::milliseconds(120'000));
    const auto after = status_kib("VmHWM");
    REQUIRE(response);
    CHECK(response->status == 200);
    MESSAGE("peak RSS grew by " << (after - before) / 1024 << " MiB");
    if (kRssIsMeasurable) {
        CHECK(after - before < 40 * 1024);
    }
    const auto manifest = f.hub.content_store().stat(root, "ann");
    CHECK(manifest.file_size_bytes == static_cast<std::int64_t>(kSize));
    CHECK(f.spool_files() == 0);
}
