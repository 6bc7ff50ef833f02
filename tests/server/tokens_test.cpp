// SPDX-License-Identifier: Apache-2.0
//
// API tokens (include/sihlicon/tokens.hpp): who may administer them, what a token may stand
// for, and that the hub keeps only hashes.
#include "hub/hub_internal.hpp"
#include "support/errors.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/crypto.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/tokens.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <memory>

using sihlicon::ApiTokens;
using sihlicon::ErrorCode;
using sihlicon::Hub;
using sihlicon::HubAccess;
using sihlicon::kOperatorPrincipal;
using sihlicon::Role;
using sihlicon::testing::error_from;
using sihlicon::testing::error_of;
using sihlicon::testing::TempDir;

namespace {

struct Fixture {
    TempDir dir;
    std::shared_ptr<sihlicon::ManualClock> clock =
        std::make_shared<sihlicon::ManualClock>(sihlicon::Timestamp::from_ms(1'760'000'000'000));
    Hub hub = open(dir, clock);
    ApiTokens tokens{hub};

    static Hub open(const TempDir& dir, std::shared_ptr<sihlicon::ManualClock> clock) {
        sihlicon::HubOptions options;
        options.clock = std::move(clock);
        return Hub::open(dir.path(), options);
    }

    std::int64_t rows() const {
        return HubAccess::database(hub).read([](sihlicon::store::Transaction& tx) {
            auto statement = tx.prepare("SELECT count(*) FROM api_tokens");
            statement.step();
            return statement.column_int64(0);
        });
    }
};

}  // namespace

TEST_CASE(
    "an API token is 32 random bytes as sih_ and 64 hex digits, shown once, stored as "
    "its SHA-256") {
    Fixture f;
    const auto issued = f.tokens.create(kOperatorPrincipal, "ann", Role::client);
    REQUIRE(issued.secret.size() == 4 + 64);
    CHECK(issued.secret.starts_with("sih_"));
    CHECK(issued.secret.substr(4).find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(issued.record.id.starts_with("tok-"));
    CHECK(issued.record.principal == "ann");
    CHECK(issued.record.role == Role::client);
    CHECK(issued.record.created_at == f.clock->now());
    CHECK_FALSE(issued.record.revoked_at);

    const auto other = f.tokens.create(kOperatorPrincipal, "ann", Role::client);
    CHECK(other.secret != issued.secret);
    CHECK(other.record.id != issued.record.id);

    // What the database holds: the hash, and nowhere the secret.
    HubAccess::database(f.hub).read([&](sihlicon::store::Transaction& tx) {
        auto statement = tx.prepare(
            "SELECT secret_hash, id, principal, role, coalesce(worker_id, '') "
            "FROM api_tokens WHERE id = ?");
        statement.bind_all(issued.record.id);
        REQUIRE(statement.step());
        const auto stored = statement.column_blob(0);
        const auto expected = sihlicon::crypto::sha256(issued.secret);
        REQUIRE(stored.size() == expected.size());
        for (std::size_t i = 0; i < stored.size(); ++i) {
            CHECK(static_cast<std::uint8_t>(stored[i]) == expected[i]);
        }
        for (int column = 1; column <= 4; ++column) {
            CHECK(statement.column_text(column).find(issued.secret.substr(4)) == std::string::npos);
        }
    });
    for (const auto& record : f.tokens.list(kOperatorPrincipal)) {
        CHECK(record.to_json().find(issued.secret.substr(4)) == std::string::npos);
    }
}

TEST_CASE("a live token authenticates its principal, role and bound worker") {
    Fixture f;
    const auto client = f.tokens.create(kOperatorPrincipal, "ann", Role::client);
    const auto worker = f.tokens.create(kOperatorPrincipal, "bee-2", Role::worker, "worker-7");
    const auto op = f.tokens.create(kOperatorPrincipal, kOperatorPrincipal, Role::hub_operator);

    const auto ann = f.tokens.authenticate(client.secret);
    REQUIRE(ann);
    CHECK(ann->principal == "ann");
    CHECK(ann->role == Role::client);
    CHECK(ann->worker_id.empty());

    const auto bee = f.tokens.authenticate(worker.secret);
    REQUIRE(bee);
    CHECK(bee->principal == "bee-2");
    CHECK(bee->role == Role::worker);
    CHECK(bee->worker_id == "worker-7");

    const auto root = f.tokens.authenticate(op.secret);
    REQUIRE(root);
    CHECK(root->principal == kOperatorPrincipal);
    CHECK(root->role == Role::hub_operator);
}

TEST_CASE("anything but a live token's exact secret authenticates nobody") {
    Fixture f;
    const auto issued = f.tokens.create(kOperatorPrincipal, "ann", Role::client);
    std::string flipped = issued.secret;
    flipped.back() = flipped.back() == '0' ? '1' : '0';
    std::string upper = issued.secret;
    for (auto& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    for (const std::string& guess :
         {std::string(), std::string("sih_"), flipped, issued.secret + "0", issued.secret.substr(1),
          "xyz_" + issued.secret.substr(4), upper, issued.record.id, std::string(1 << 20, 'a')}) {
        CHECK_FALSE(f.tokens.authenticate(guess));
    }
    CHECK(f.tokens.authenticate(issued.secret));
}

TEST_CASE(
    "only the operator creates, lists and revokes API tokens, and a refusal writes "
    "nothing") {
    Fixture f;
    const auto issued = f.tokens.create(kOperatorPrincipal, "ann", Role::client);
    for (const std::string by : {"ann", "", "Operator", "operator ", "mallory"}) {
        CAPTURE(by);
        const auto error = error_from([&] { f.tokens.create(by, "mallory", Role::hub_operator); });
        CHECK(error.code() == ErrorCode::permission_denied);
        CHECK(error.field() == "by");
        CHECK(error_of([&] { f.tokens.list(by); }) == ErrorCode::permission_denied);
        CHECK(error_of([&] { f.tokens.revoke(by, issued.record.id); }) ==
              ErrorCode::permission_denied);
    }
    CHECK(f.rows() == 1);
    CHECK(f.tokens.authenticate(issued.secret));
}

TEST_CASE("no token of role client or worker authenticates the operator principal") {
    Fixture f;
    for (const auto role : {Role::client, Role::worker}) {
        const auto error = error_from([&] {
            f.tokens.create(kOperatorPrincipal, kOperatorPrincipal, role,
                            role == Role::worker ? "worker-1" : "");
        });
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "principal");
    }
    CHECK(f.rows() == 0);
    // The database refuses such a row too, whoever writes it.
    CHECK(error_of([&] {
              HubAccess::database(f.hub).write([](sihlicon::store::Transaction& tx) {
                  tx.exec(
                      "INSERT INTO api_tokens (id, secret_hash, principal, role, created_at) "
                      "VALUES ('tok-x', zeroblob(32), 'operator', 'client', 0)");
              });
          }) != ErrorCode::internal);
    CHECK(f.rows() == 0);
    CHECK(f.tokens.create(kOperatorPrincipal, kOperatorPrincipal, Role::hub_operator).record.role ==
          Role::hub_operator);
}

TEST_CASE("a worker token is bound to exactly one worker id; other roles bind none") {
    Fixture f;
    auto error = error_from([&] { f.tokens.create(kOperatorPrincipal, "bee", Role::worker); });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(error.field() == "workerId");
    for (const auto role : {Role::client, Role::hub_operator}) {
        error = error_from([&] { f.tokens.create(kOperatorPrincipal, "bee", role, "worker-1"); });
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "workerId");
    }
    for (const std::string& bad :
         {std::string("w\n1"), std::string(257, 'w'), std::string("\xff")}) {
        error = error_from([&] { f.tokens.create(kOperatorPrincipal, "bee", Role::worker, bad); });
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "workerId");
    }
    CHECK(f.rows() == 0);
}

TEST_CASE("a token's principal is plain text of 1 to 256 bytes") {
    Fixture f;
    for (const std::string& bad : {std::string(), std::string("ann\n"), std::string("a\x1b[2J"),
                                   std::string(257, 'a'), std::string("\xc3\x28")}) {
        const auto error =
            error_from([&] { f.tokens.create(kOperatorPrincipal, bad, Role::client); });
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "principal");
    }
    CHECK(f.rows() == 0);
    CHECK(f.tokens.create(kOperatorPrincipal, std::string(256, 'a'), Role::client)
              .record.principal.size() == 256);
}

TEST_CASE("a revoked token authenticates nobody; revoking again keeps the first time") {
    Fixture f;
    const auto issued = f.tokens.create(kOperatorPrincipal, "ann", Role::client);
    const auto kept = f.tokens.create(kOperatorPrincipal, "ann", Role::client);
    f.clock->advance(std::chrono::seconds(5));
    const auto revoked = f.tokens.revoke(kOperatorPrincipal, issued.record.id);
    REQUIRE(revoked.revoked_at);
    CHECK(*revoked.revoked_at == f.clock->now());
    CHECK_FALSE(f.tokens.authenticate(issued.secret));
    CHECK(f.tokens.authenticate(kept.secret));

    f.clock->advance(std::chrono::seconds(5));
    const auto again = f.tokens.revoke(kOperatorPrincipal, issued.record.id);
    CHECK(again.revoked_at == revoked.revoked_at);

    const auto error = error_from([&] { f.tokens.revoke(kOperatorPrincipal, "tok-nope"); });
    CHECK(error.code() == ErrorCode::not_found);
}

TEST_CASE("token list shows every token in creation order as JSON without secrets") {
    Fixture f;
    const auto a = f.tokens.create(kOperatorPrincipal, "ann", Role::client);
    const auto b = f.tokens.create(kOperatorPrincipal, "bee", Role::worker, "worker-1");
    f.tokens.revoke(kOperatorPrincipal, a.record.id);
    const auto list = f.tokens.list(kOperatorPrincipal);
    REQUIRE(list.size() == 2);
    CHECK(list[0].id == a.record.id);
    CHECK(list[0].revoked_at);
    CHECK(list[1].id == b.record.id);
    const auto json = boost::json::parse(list[1].to_json()).as_object();
    CHECK(json.at("principal").as_string() == "bee");
    CHECK(json.at("role").as_string() == "worker");
    CHECK(json.at("workerId").as_string() == "worker-1");
    CHECK(json.at("revokedAt").is_null());
    CHECK(json.size() == 6);
    CHECK(boost::json::parse(list[0].to_json()).as_object().at("workerId").is_null());
}

TEST_CASE("roles are spelled client, worker and operator") {
    CHECK(sihlicon::parse_role("client") == Role::client);
    CHECK(sihlicon::parse_role("worker") == Role::worker);
    CHECK(sihlicon::parse_role("operator") == Role::hub_operator);
    CHECK(sihlicon::to_string(Role::hub_operator) == "operator");
    const auto error = error_from([] { sihlicon::parse_role("admin", "--role"); });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(error.field() == "--role");
}
