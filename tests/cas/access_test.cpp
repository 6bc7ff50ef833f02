// SPDX-License-Identifier: Apache-2.0
//
// Confidentiality and ownership in the content store: no existence oracle, names
// that neither leak nor pin other people's content, community membership changed only by
// members (or the operator), and file outputs that a refused read leaves untouched.
#include "support/samples.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/content_store.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/principal.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

using namespace sihlicon;
using sihlicon::testing::random_bytes;
using sihlicon::testing::TempDir;

namespace {

struct Fixture {
    TempDir dir;
    Hub hub = open();

    Hub open() {
        HubOptions options;
        options.durability = Durability::process_crash;
        return Hub::open(dir / "hub", options);
    }
    ContentStore& store() { return hub.content_store(); }

    std::string put(std::uint32_t seed, std::string_view owner,
                    AccessLevel level = AccessLevel::private_, std::size_t size = 1000) {
        PutOptions options;
        options.access_level = level;
        options.min_replicas = 0;
        return store().put_bytes(random_bytes(size, seed), owner, options).content_id;
    }
};

// The error `action` throws; fails the test when it throws nothing.
std::optional<Error> failure(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& error) {
        return error;
    }
    FAIL_CHECK("expected an Error");
    return std::nullopt;
}

// The message with every occurrence of `cid` replaced by "<CID>".
std::string shape(std::string message, const std::string& cid) {
    for (auto at = message.find(cid); at != std::string::npos; at = message.find(cid)) {
        message.replace(at, cid.size(), "<CID>");
    }
    return message;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::size_t files_in(const std::filesystem::path& folder) {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(folder),
                                                  std::filesystem::directory_iterator()));
}

}  // namespace

TEST_CASE("content a principal may not read fails exactly as unknown content on every path") {
    Fixture f;
    const auto secret = f.put(1, "alice");
    // A valid CID nobody stored.
    const auto unknown = compute_cid(random_bytes(1000, 99)).to_string();
    const auto out = f.dir / "out.bin";
    const std::vector<std::pair<std::string, std::function<void(const std::string&)>>> paths{
        {"get", [&](const std::string& id) { f.store().get(id, "mallory", [](auto) {}); }},
        {"get_bytes", [&](const std::string& id) { f.store().get_bytes(id, "mallory"); }},
        {"get_to_file", [&](const std::string& id) { f.store().get_to_file(id, "mallory", out); }},
        {"stat", [&](const std::string& id) { f.store().stat(id, "mallory"); }},
        {"export_car", [&](const std::string& id) { f.store().export_car(id, "", [](auto) {}); }},
        {"export_car_to_file",
         [&](const std::string& id) { f.store().export_car_to_file(id, "mallory", out); }},
        {"move_to_tier",
         [&](const std::string& id) { f.store().move_to_tier(id, "mallory", StorageTier::cold); }},
        {"remove", [&](const std::string& id) { f.store().remove(id, "mallory"); }},
        {"remove (anonymous)", [&](const std::string& id) { f.store().remove(id, ""); }},
        {"set_reference",
         [&](const std::string& id) { f.store().set_reference("m/x", "1", id, "mallory"); }},
        {"replicas", [&](const std::string& id) { f.store().replicas(id, "mallory"); }},
    };
    for (const auto& [name, action] : paths) {
        CAPTURE(name);
        const auto hidden = failure([&] { action(secret); });
        const auto absent = failure([&] { action(unknown); });
        REQUIRE(hidden);
        REQUIRE(absent);
        CHECK(hidden->code() == ErrorCode::not_found);
        CHECK(absent->code() == ErrorCode::not_found);
        CHECK(hidden->field() == absent->field());
        CHECK(shape(hidden->what(), secret) == shape(absent->what(), unknown));
    }
    CHECK(!std::filesystem::exists(out));
    CHECK(f.store().stat(secret, "alice").owner == "alice");  // nothing changed
}

TEST_CASE("removing or moving content one may read but does not own is permission_denied") {
    Fixture f;
    const auto shared = f.put(2, "alice", AccessLevel::public_);
    CHECK(failure([&] { f.store().remove(shared, "bob"); })->code() ==
          ErrorCode::permission_denied);
    CHECK(failure([&] { f.store().move_to_tier(shared, "bob", StorageTier::cold); })->code() ==
          ErrorCode::permission_denied);
    CHECK(failure([&] { f.store().remove(shared, ""); })->code() == ErrorCode::permission_denied);
    CHECK(f.store().stat(shared, "alice").storage_tier == StorageTier::hot);
}

TEST_CASE("references are shown only to principals who may read their content") {
    Fixture f;
    const auto open = f.put(3, "alice", AccessLevel::public_);
    const auto closed = f.put(4, "alice");
    f.store().set_reference("ocr/model", "1.0", open, "alice");
    f.store().set_reference("ocr/model", "2.0", closed, "alice");
    // The owner sees both versions; the latest is 2.0.
    CHECK(f.store().resolve_reference("ocr/model", std::nullopt, "alice").version == "2.0");
    CHECK(f.store().reference_versions("ocr/model", "alice").size() == 2);
    // Others see only the version whose content they may read.
    for (const std::string principal : {"mallory", ""}) {
        CAPTURE(principal);
        CHECK(f.store().resolve_reference("ocr/model", std::nullopt, principal).version == "1.0");
        const auto versions = f.store().reference_versions("ocr/model", principal);
        REQUIRE(versions.size() == 1);
        CHECK(versions[0].content_id == open);
        const auto hidden =
            failure([&] { f.store().resolve_reference("ocr/model", "2.0", principal); });
        const auto absent =
            failure([&] { f.store().resolve_reference("ocr/model", "9.0", principal); });
        CHECK(hidden->code() == ErrorCode::not_found);
        CHECK(absent->code() == ErrorCode::not_found);
        CHECK(std::string(hidden->what()).find(closed) == std::string::npos);
    }
    // A name whose every version is hidden looks like no name at all.
    f.store().set_reference("private/x", "1", closed, "alice");
    CHECK(failure([&] {
              f.store().resolve_reference("private/x", std::nullopt, "mallory");
          })->code() == ErrorCode::not_found);
    CHECK(f.store().reference_versions("private/x", "mallory").empty());
}

TEST_CASE("a principal may point a name only at content it may read") {
    Fixture f;
    const auto closed = f.put(5, "alice");
    const auto open = f.put(6, "alice", AccessLevel::public_);
    CHECK(failure([&] { f.store().set_reference("steal/it", "1", closed, "mallory"); })->code() ==
          ErrorCode::not_found);
    CHECK(f.store().reference_versions("steal/it", "alice").empty());
    CHECK(f.store().set_reference("mine/it", "1", open, "mallory").owner == "mallory");
    CHECK(failure([&] { f.store().set_reference("mine/it", "1", open, ""); })->code() ==
          ErrorCode::invalid_argument);
}

TEST_CASE("a reference held by someone else never stops an owner from removing its content") {
    Fixture f;
    const auto content = f.put(7, "alice", AccessLevel::public_);
    f.store().set_reference("bob/pin", "1", content, "bob");
    f.store().remove(content, "alice");  // was conflict: "referenced by bob/pin@1"
    CHECK(failure([&] { f.store().stat(content, "alice"); })->code() == ErrorCode::not_found);
    // The dangling reference resolves as not_found, for everyone, its owner included.
    for (const std::string principal : {"bob", "alice", ""}) {
        CHECK(failure([&] { f.store().resolve_reference("bob/pin", "1", principal); })->code() ==
              ErrorCode::not_found);
        CHECK(f.store().reference_versions("bob/pin", principal).empty());
    }
    // Its owner removes it and may use the version again.
    f.store().remove_reference("bob/pin", "1", "bob");
    const auto other = f.put(8, "bob");
    CHECK(f.store().set_reference("bob/pin", "1", other, "bob").content_id == other);
}

TEST_CASE("only the owner of a name removes its references") {
    Fixture f;
    const auto open = f.put(9, "alice", AccessLevel::public_);
    const auto closed = f.put(10, "alice");
    f.store().set_reference("a/open", "1", open, "alice");
    f.store().set_reference("a/closed", "1", closed, "alice");
    // Readable but not owned: permission_denied; unreadable or unknown: not_found alike.
    CHECK(failure([&] { f.store().remove_reference("a/open", "1", "mallory"); })->code() ==
          ErrorCode::permission_denied);
    CHECK(failure([&] { f.store().remove_reference("a/closed", "1", "mallory"); })->code() ==
          ErrorCode::not_found);
    CHECK(failure([&] { f.store().remove_reference("a/none", "1", "mallory"); })->code() ==
          ErrorCode::not_found);
    CHECK(failure([&] { f.store().remove_reference("a/open", "1", ""); })->code() ==
          ErrorCode::permission_denied);
    CHECK(failure([&] { f.store().remove_reference("a/open", "", "alice"); })->code() ==
          ErrorCode::invalid_argument);
    CHECK(f.store().reference_versions("a/open", "alice").size() == 1);
    f.store().remove_reference("a/open", "1", "alice");
    CHECK(f.store().reference_versions("a/open", "alice").empty());
    // A name with no version left is free again.
    CHECK(f.store().set_reference("a/open", "1", open, "mallory").owner == "mallory");
}

TEST_CASE("community members change membership; strangers cannot, the operator can") {
    Fixture f;
    auto& s = f.store();
    // Founding: the first member of an empty community adds itself, and only itself.
    CHECK(failure([&] { s.add_community_member("choir", "bob", "ann"); })->code() ==
          ErrorCode::permission_denied);
    s.add_community_member("choir", "ann", "ann");
    // A stranger may not join, add or remove anyone; the anonymous principal neither.
    for (const std::string stranger : {"mallory", ""}) {
        CAPTURE(stranger);
        CHECK(failure([&] { s.add_community_member("choir", "mallory", stranger); })->code() ==
              ErrorCode::permission_denied);
        CHECK(failure([&] { s.remove_community_member("choir", "ann", stranger); })->code() ==
              ErrorCode::permission_denied);
    }
    CHECK(s.communities_of("mallory", kOperatorPrincipal).empty());
    CHECK(s.communities_of("ann", kOperatorPrincipal) == std::vector<std::string>{"choir"});
    // A member adds and removes others, and may leave.
    s.add_community_member("choir", "bob", "ann");
    s.add_community_member("choir", "carl", "bob");
    s.remove_community_member("choir", "ann", "carl");
    CHECK(s.communities_of("ann", "ann").empty());
    s.remove_community_member("choir", "bob", "bob");
    // The operator does anything.
    s.add_community_member("choir", "dora", kOperatorPrincipal);
    s.add_community_member("band", "eve", kOperatorPrincipal);
    s.remove_community_member("choir", "carl", kOperatorPrincipal);
    CHECK(s.communities_of("dora", "dora") == std::vector<std::string>{"choir"});
    CHECK(s.communities_of("carl", "carl").empty());
    CHECK(failure([&] { s.add_community_member("", "eve", kOperatorPrincipal); })->code() ==
          ErrorCode::invalid_argument);
    CHECK(failure([&] { s.add_community_member("band", "", kOperatorPrincipal); })->code() ==
          ErrorCode::invalid_argument);
}

TEST_CASE("communities_of shows only the memberships the acting principal may see") {
    Fixture f;
    auto& s = f.store();
    s.add_community_member("choir", "ann", "ann");
    s.add_community_member("secret", "ann", "ann");
    s.add_community_member("choir", "bob", "ann");
    CHECK(s.communities_of("ann", "ann") == std::vector<std::string>{"choir", "secret"});
    CHECK(s.communities_of("ann", kOperatorPrincipal) ==
          std::vector<std::string>{"choir", "secret"});
    CHECK(s.communities_of("ann", "bob") == std::vector<std::string>{"choir"});  // shared only
    CHECK(s.communities_of("ann", "mallory").empty());
    CHECK(s.communities_of("ann", "").empty());
}

TEST_CASE("a refused, missing or corrupt read leaves an existing output file as it was") {
    Fixture f;
    const auto secret = f.put(11, "alice");
    const auto unknown = compute_cid(random_bytes(10, 98)).to_string();
    const auto folder = f.dir / "out";
    std::filesystem::create_directories(folder);
    const auto target = folder / "result.bin";
    write_file(target, "precious bytes");
    ::chmod(target.c_str(), 0640);
    for (const auto& id : {secret, unknown}) {
        CHECK(failure([&] { f.store().get_to_file(id, "mallory", target); })->code() ==
              ErrorCode::not_found);
        CHECK(failure([&] { f.store().export_car_to_file(id, "mallory", target); })->code() ==
              ErrorCode::not_found);
    }
    // An integrity error midway: the second leaf of a two-leaf file is corrupt.
    PutOptions options;
    options.min_replicas = 0;
    const auto data = random_bytes(2 * 262'144, 12);
    const auto big = f.store().put_bytes(data, "alice", options).content_id;
    const auto leaf = compute_cid(std::span(data).subspan(262'144)).to_string();
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(f.hub.blob_directory())) {
        if (entry.path().filename() == leaf) {
            std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
            const char first = static_cast<char>(file.get());
            file.seekp(0);
            file.put(static_cast<char>(first ^ 0x5a));
        }
    }
    CHECK(failure([&] { f.store().get_to_file(big, "alice", target); })->code() ==
          ErrorCode::integrity);
    CHECK(failure([&] { f.store().export_car_to_file(big, "alice", target); })->code() ==
          ErrorCode::integrity);
    CHECK(read_file(target) == "precious bytes");
    CHECK(files_in(folder) == 1);  // no temporary file left behind
    // A successful read replaces the file and keeps its mode.
    const auto good = f.put(13, "alice");
    CHECK(f.store().get_to_file(good, "alice", target) == 1000);
    const auto bytes = random_bytes(1000, 13);
    CHECK(read_file(target) == std::string(bytes.begin(), bytes.end()));
    struct stat info {};
    REQUIRE(::stat(target.c_str(), &info) == 0);
    CHECK((info.st_mode & 07777) == 0640);
    CHECK(f.store().export_car_to_file(good, "alice", folder / "new.car") > 1000);
    CHECK(files_in(folder) == 2);
}
