// SPDX-License-Identifier: Apache-2.0
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>

#include <filesystem>
#include <fstream>
#include <memory>

namespace crypto = sihlicon::crypto;
using sihlicon::Error;
using sihlicon::ErrorCode;
using sihlicon::testing::TempDir;

namespace {

ErrorCode load_error(const std::filesystem::path& path) {
    try {
        crypto::LocalKeySigner::load(path);
    } catch (const Error& error) {
        CHECK(error.field() == "key_file");
        return error.code();
    }
    FAIL("loading " << path << " must fail");
    return ErrorCode::internal;
}

// A host-supplied signer (an HSM stand-in): it sees only the interface.
class CountingSigner final : public crypto::Signer {
  public:
    explicit CountingSigner(crypto::PrivateKey key) : key_(std::move(key)) {}
    crypto::Address address() const override { return key_.address(); }
    crypto::Signature sign_message(std::span<const std::uint8_t> message) const override {
        ++calls;
        return key_.sign_message(message);
    }
    mutable int calls = 0;

  private:
    crypto::PrivateKey key_;
};

std::span<const std::uint8_t> bytes_of(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

}  // namespace

TEST_CASE("load_or_generate writes a 0600 key file once and loads the same key after") {
    TempDir dir;
    const auto path = dir / "operator.key";
    const auto first = crypto::LocalKeySigner::load_or_generate(path);
    const auto permissions = std::filesystem::status(path).permissions();
    CHECK(permissions ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    const auto second = crypto::LocalKeySigner::load_or_generate(path);
    CHECK(second.address() == first.address());
    CHECK(crypto::LocalKeySigner::load(path).address() == first.address());
    // Nothing but the key file is left behind.
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path()),
                        std::filesystem::directory_iterator()) == 1);

    const auto signature = second.sign_message(bytes_of("SUMMARY"));
    CHECK(crypto::verify_message("SUMMARY", signature, first.address()));
}

TEST_CASE("a key file that group or others may read is refused, not used") {
    TempDir dir;
    const auto path = dir / "operator.key";
    crypto::LocalKeySigner::load_or_generate(path);
    for (const auto extra :
         {std::filesystem::perms::group_read, std::filesystem::perms::others_read,
          std::filesystem::perms::group_write}) {
        std::filesystem::permissions(
            path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write | extra);
        CHECK(load_error(path) == ErrorCode::permission_denied);
        CHECK_THROWS_AS(crypto::LocalKeySigner::load_or_generate(path), Error);
    }
    std::filesystem::permissions(path, std::filesystem::perms::owner_read);
    CHECK_NOTHROW(crypto::LocalKeySigner::load(path));
}

TEST_CASE("a missing or corrupt key file is reported as such, without echoing its content") {
    TempDir dir;
    CHECK(load_error(dir / "absent.key") == ErrorCode::not_found);
    const auto path = dir / "corrupt.key";
    {
        std::ofstream out(path);
        out << "0x" << std::string(63, '1') << "\n";
    }
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    CHECK(load_error(path) == ErrorCode::invalid_argument);
    try {
        crypto::LocalKeySigner::load(path);
    } catch (const Error& error) {
        CHECK(std::string(error.what()).find(std::string(63, '1')) == std::string::npos);
    }
}

TEST_CASE("an imported key file signs as that key") {
    TempDir dir;
    const auto path = dir / "imported.key";
    {
        std::ofstream out(path);
        out << "0xb25c7db31feed9122727bf0939dc769a96564b2de4c4726d035b36ecf1e5b364\n";
    }
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    const auto signer = crypto::LocalKeySigner::load(path);
    CHECK(signer.address().to_string() == "0x5ce9454909639D2D17A3F753ce7d93fa0b9aB12E");
}

TEST_CASE("a host-supplied Signer is used through the interface alone") {
    const auto host = std::make_shared<CountingSigner>(crypto::PrivateKey::generate());
    const std::shared_ptr<const crypto::Signer> signer = host;
    const auto signature = signer->sign_message(bytes_of("epoch"));
    CHECK(host->calls == 1);
    CHECK(crypto::recover_signer("epoch", signature) == signer->address());
}
