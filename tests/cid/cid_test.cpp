// SPDX-License-Identifier: Apache-2.0
#include <sihlicon/crypto.hpp>
#include "cid/encoding.hpp"
#include "cid/unixfs.hpp"

#include <doctest/doctest.h>
#include <sihlicon/cid.hpp>
#include <sihlicon/error.hpp>

#include <openssl/evp.h>

#include <string>
#include <vector>

using sihlicon::Cid;
using sihlicon::CidCodec;
using sihlicon::Error;
using sihlicon::ErrorCode;
using sihlicon::UnixfsOptions;

namespace {

std::span<const std::uint8_t> bytes_of(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// The content generator of kubo's test/cli/cid_profiles_test.go: the ChaCha20 keystream with
// key SHA-256(seed), a zero 12-byte nonce and block counter 0.
std::vector<std::uint8_t> chacha20_stream(std::string_view seed, std::size_t size) {
    const auto key = sihlicon::crypto::sha256(bytes_of(seed));
    const std::array<std::uint8_t, 16> iv{};  // 4-byte little-endian counter 0, zero nonce
    std::vector<std::uint8_t> zeros(size, 0);
    std::vector<std::uint8_t> out(size);
    EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
    REQUIRE(context != nullptr);
    REQUIRE(EVP_EncryptInit_ex(context, EVP_chacha20(), nullptr, key.data(), iv.data()) == 1);
    int written = 0;
    REQUIRE(EVP_EncryptUpdate(context, out.data(), &written, zeros.data(),
                              static_cast<int>(size)) == 1);
    EVP_CIPHER_CTX_free(context);
    REQUIRE(static_cast<std::size_t>(written) == size);
    return out;
}

ErrorCode parse_error(std::string_view text) {
    try {
        Cid::parse(text, "contentId");
    } catch (const Error& error) {
        CHECK(error.field() == "contentId");
        return error.code();
    }
    FAIL("'" << text << "' must be rejected");
    return ErrorCode::internal;
}

}  // namespace

TEST_CASE("raw CIDs of small inputs match the published multiformats vectors") {
    CHECK(sihlicon::compute_cid({}).to_string() ==
          "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    CHECK(sihlicon::compute_cid(bytes_of("hello world")).to_string() ==
          "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
    CHECK(sihlicon::compute_cid(bytes_of("hello world\n")).to_string() ==
          "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4");
    CHECK(Cid().to_string() == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
}

TEST_CASE("the unixfs-v1-2025 profile reproduces kubo's ChaCha20 vectors") {
    const auto options = UnixfsOptions::profile("unixfs-v1-2025");
    CHECK(options.chunk_size == 1'048'576);
    CHECK(options.max_links == 1024);
    const auto data = chacha20_stream("chunk-v1-seed", 1'048'577);
    CHECK(sihlicon::compute_cid(std::span(data).first(1'048'576), options).to_string() ==
          "bafkreiacndfy443ter6qr2tmbbdhadvxxheowwf75s6zehscklu6ezxmta");
    CHECK(sihlicon::compute_cid(data, options).to_string() ==
          "bafybeigmix7t42i6jacydtquhet7srwvgpizfg7gjbq7627d35mjomtu64");
}

TEST_CASE("the CID does not depend on how the bytes are split across updates") {
    const auto data = chacha20_stream("split", 3 * 1000 + 17);
    const UnixfsOptions options{1000, 2};
    const auto whole = sihlicon::compute_cid(data, options);
    sihlicon::CidHasher hasher(options);
    for (std::size_t offset = 0; offset < data.size(); offset += 7) {
        hasher.update(
            std::span(data).subspan(offset, std::min<std::size_t>(7, data.size() - offset)));
    }
    CHECK(hasher.size() == data.size());
    CHECK(hasher.finish() == whole);
    CHECK(whole.codec() == CidCodec::dag_pb);
}

TEST_CASE("a CID string parses back to the same CID and formats the same") {
    for (const std::string text : {"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
                                   "bafybeigmix7t42i6jacydtquhet7srwvgpizfg7gjbq7627d35mjomtu64"}) {
        const Cid cid = Cid::parse(text);
        CHECK(cid.to_string() == text);
        CHECK(cid.to_string().size() == 59);
        CHECK(Cid::from_bytes(cid.to_bytes()) == cid);
        std::string upper = "B" + text.substr(1);
        for (auto& c : upper) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        CHECK(Cid::parse(upper) == cid);
    }
    CHECK(Cid::parse("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e").codec() ==
          CidCodec::raw);
}

TEST_CASE("a CIDv0 is read for display and converts to the CIDv1 of the same node") {
    const std::string v0 = "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n";
    const Cid cid = Cid::parse_any_version(v0);
    CHECK(cid.version() == 0);
    CHECK(cid.codec() == CidCodec::dag_pb);
    CHECK(cid.to_string() == v0);
    CHECK(cid.to_v1().to_string() == "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    CHECK(parse_error(v0) == ErrorCode::invalid_argument);
}

TEST_CASE("malformed CID strings are rejected with the field named") {
    const std::string good = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
    CHECK(parse_error("") == ErrorCode::invalid_argument);
    CHECK(parse_error("f" + good.substr(1)) == ErrorCode::invalid_argument);  // unknown base
    CHECK(parse_error("bafkreifzjuT3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e") ==
          ErrorCode::invalid_argument);                                     // mixed case
    CHECK(parse_error(good + "aa") == ErrorCode::invalid_argument);         // trailing bytes
    CHECK(parse_error(good.substr(0, 50)) == ErrorCode::invalid_argument);  // truncated
    CHECK(parse_error("bafkrei!zjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e") ==
          ErrorCode::invalid_argument);  // alphabet
    // Hand-made binaries: wrong digest length, wrong hash, unknown codec, version 2.
    auto with = [](std::vector<std::uint8_t> bytes) {
        return "b" + sihlicon::cid::base32_encode(bytes);
    };
    std::vector<std::uint8_t> short_digest{0x01, 0x55, 0x12, 0x1f};
    short_digest.resize(4 + 31, 0xaa);
    CHECK(parse_error(with(short_digest)) == ErrorCode::invalid_argument);
    std::vector<std::uint8_t> sha512{0x01, 0x55, 0x13, 0x20};
    sha512.resize(4 + 32, 0xaa);
    CHECK(parse_error(with(sha512)) == ErrorCode::invalid_argument);
    std::vector<std::uint8_t> cbor{0x01, 0x71, 0x12, 0x20};
    cbor.resize(4 + 32, 0xaa);
    CHECK(parse_error(with(cbor)) == ErrorCode::invalid_argument);
    std::vector<std::uint8_t> v2{0x02, 0x55, 0x12, 0x20};
    v2.resize(4 + 32, 0xaa);
    CHECK(parse_error(with(v2)) == ErrorCode::invalid_argument);
}

TEST_CASE("varints are minimal and bounded") {
    std::vector<std::uint8_t> out;
    sihlicon::cid::append_varint(out, 300);
    CHECK(out == std::vector<std::uint8_t>{0xac, 0x02});
    std::size_t position = 0;
    CHECK(sihlicon::cid::read_varint(out, position) == 300u);
    const std::vector<std::uint8_t> padded{0x81, 0x00};
    position = 0;
    CHECK_FALSE(sihlicon::cid::read_varint(padded, position).has_value());
    const std::vector<std::uint8_t> truncated{0x81};
    position = 0;
    CHECK_FALSE(sihlicon::cid::read_varint(truncated, position).has_value());
}

TEST_CASE("a UnixFS file node decodes to the links and sizes it was built from") {
    std::vector<sihlicon::cid::Link> links{
        {sihlicon::compute_cid(bytes_of("a")), 1, 1},
        {sihlicon::compute_cid(bytes_of("bc")), 2, 2},
    };
    const auto encoded = sihlicon::cid::encode_file_node(links);
    const auto node = sihlicon::cid::decode_file_node(encoded, "node");
    CHECK(node.links.size() == 2);
    CHECK(node.links[1] == links[1].cid);
    CHECK(node.file_size == 3);
    CHECK(node.block_sizes == std::vector<std::uint64_t>{1, 2});
    CHECK(node.unixfs_type == 2);
    auto damaged = encoded;
    damaged.resize(damaged.size() - 3);
    CHECK_THROWS_AS(sihlicon::cid::decode_file_node(damaged, "node"), Error);
}

TEST_CASE("chunk size and width outside their ranges are refused") {
    CHECK_THROWS_AS(sihlicon::CidHasher(UnixfsOptions{0, 174}), Error);
    CHECK_THROWS_AS(sihlicon::CidHasher(UnixfsOptions{262144, 1}), Error);
    CHECK_THROWS_AS(UnixfsOptions::profile("fast"), Error);
}
