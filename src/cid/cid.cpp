// SPDX-License-Identifier: Apache-2.0
#include <sihlicon/crypto.hpp>
#include "cid/encoding.hpp"

#include <sihlicon/cid.hpp>
#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace sihlicon {

namespace {

constexpr std::uint64_t kSha256Code = 0x12;
constexpr std::uint64_t kSha256Length = 32;
constexpr std::size_t kCidV0Length = 46;

[[noreturn]] void reject(std::string_view field, std::string_view text, std::string_view problem) {
    throw Error::invalid(field, text, problem);
}

bool has_upper(std::string_view text) {
    return std::any_of(text.begin(), text.end(),
                       [](char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; });
}
bool has_lower(std::string_view text) {
    return std::any_of(text.begin(), text.end(),
                       [](char c) { return std::islower(static_cast<unsigned char>(c)) != 0; });
}

// Reads "0x12 0x20 <32 bytes>" at `position` to the end of `bytes`.
Cid::Digest read_multihash(std::span<const std::uint8_t> bytes, std::size_t position,
                           std::string_view field, std::string_view shown) {
    const auto code = cid::read_varint(bytes, position);
    if (!code) {
        reject(field, shown, "has a truncated or malformed multihash code");
    }
    if (*code != kSha256Code) {
        reject(field, shown,
               fmt::format("uses hash 0x{:x}; only sha2-256 (0x12) is supported", *code));
    }
    const auto length = cid::read_varint(bytes, position);
    if (!length) {
        reject(field, shown, "has a truncated or malformed digest length");
    }
    if (*length != kSha256Length) {
        reject(field, shown,
               fmt::format("has a sha2-256 digest length of {}; it must be 32", *length));
    }
    if (bytes.size() - position < kSha256Length) {
        reject(field, shown, "has a truncated digest");
    }
    if (bytes.size() - position > kSha256Length) {
        reject(field, shown, "has trailing bytes after the digest");
    }
    Cid::Digest digest{};
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(position), kSha256Length,
                digest.begin());
    return digest;
}

Cid decode_binary(std::span<const std::uint8_t> bytes, std::string_view field,
                  std::string_view shown, bool allow_v0) {
    if (bytes.size() == 34 && bytes[0] == kSha256Code && bytes[1] == kSha256Length) {
        if (!allow_v0) {
            reject(field, shown, "is a CIDv0; a CIDv1 is required");
        }
        return Cid(0, CidCodec::dag_pb, read_multihash(bytes, 0, field, shown));
    }
    std::size_t position = 0;
    const auto version = cid::read_varint(bytes, position);
    if (!version) {
        reject(field, shown, "has a truncated or malformed version");
    }
    if (*version != 1) {
        reject(field, shown, fmt::format("has CID version {}; only 1 is supported", *version));
    }
    const auto codec = cid::read_varint(bytes, position);
    if (!codec) {
        reject(field, shown, "has a truncated or malformed codec");
    }
    if (*codec != static_cast<std::uint64_t>(CidCodec::raw) &&
        *codec != static_cast<std::uint64_t>(CidCodec::dag_pb)) {
        reject(field, shown,
               fmt::format("has codec 0x{:x}; only raw (0x55) and dag-pb (0x70) are supported",
                           *codec));
    }
    return Cid(1, static_cast<CidCodec>(*codec), read_multihash(bytes, position, field, shown));
}

Cid parse_text(std::string_view text, std::string_view field, bool allow_v0) {
    if (text.empty()) {
        reject(field, text, "is empty; expected a CID such as bafkrei…");
    }
    if (text.size() == kCidV0Length && text.substr(0, 2) == "Qm") {
        if (!allow_v0) {
            reject(field, text, "is a CIDv0; a CIDv1 (bafy…/bafk…) is required");
        }
        const auto bytes = cid::base58_decode(text);
        if (!bytes) {
            reject(field, text, "is not valid base58btc");
        }
        return decode_binary(*bytes, field, text, true);
    }
    const char prefix = text.front();
    const auto body = text.substr(1);
    std::optional<std::vector<std::uint8_t>> bytes;
    switch (prefix) {
        case 'b':
        case 'B': {
            const bool upper = prefix == 'B';
            if (has_upper(body) && has_lower(body)) {
                reject(field, text, "mixes upper- and lower-case letters");
            }
            if (upper ? has_lower(body) : has_upper(body)) {
                reject(field, text,
                       upper ? "has lower-case letters after the base32upper prefix 'B'"
                             : "has upper-case letters after the base32 prefix 'b'");
            }
            bytes = cid::base32_decode(body, upper);
            if (!bytes) {
                reject(field, text, "is not valid base32");
            }
            break;
        }
        case 'z':
            bytes = cid::base58_decode(body);
            if (!bytes) {
                reject(field, text, "is not valid base58btc");
            }
            break;
        default:
            reject(field, text,
                   fmt::format("has the unknown multibase prefix '{}'; expected 'b' (base32)",
                               prefix));
    }
    const Cid cid = decode_binary(*bytes, field, text, false);
    return cid;
}

}  // namespace

Cid::Cid() : Cid(of_block(CidCodec::raw, {})) {}

Cid::Cid(int version, CidCodec codec, const Digest& digest)
    : version_(version), codec_(codec), digest_(digest) {
    if (version != 1 && !(version == 0 && codec == CidCodec::dag_pb)) {
        throw Error::invalid("version", std::to_string(version),
                             "must be 1, or 0 for a dag-pb CID");
    }
    if (codec != CidCodec::raw && codec != CidCodec::dag_pb) {
        throw Error::invalid("codec", std::to_string(static_cast<std::uint64_t>(codec)),
                             "must be raw (0x55) or dag-pb (0x70)");
    }
}

Cid Cid::parse(std::string_view text, std::string_view field) {
    return parse_text(text, field, false);
}

Cid Cid::parse_any_version(std::string_view text, std::string_view field) {
    return parse_text(text, field, true);
}

Cid Cid::from_bytes(std::span<const std::uint8_t> bytes, std::string_view field) {
    return decode_binary(bytes, field, cid::hex_encode(bytes), true);
}

Cid Cid::of_block(CidCodec codec, std::span<const std::uint8_t> block) {
    return Cid(1, codec, crypto::sha256(block));
}

std::string Cid::to_string() const {
    const auto bytes = to_bytes();
    if (version_ == 0) {
        return cid::base58_encode(bytes);
    }
    std::string text = "b";  // the multibase prefix of base32 (lower case)
    text += cid::base32_encode(bytes);
    return text;
}

std::vector<std::uint8_t> Cid::to_bytes() const {
    std::vector<std::uint8_t> bytes;
    bytes.reserve(36);
    if (version_ == 1) {
        cid::append_varint(bytes, 1);
        cid::append_varint(bytes, static_cast<std::uint64_t>(codec_));
    }
    bytes.push_back(static_cast<std::uint8_t>(kSha256Code));
    bytes.push_back(static_cast<std::uint8_t>(kSha256Length));
    bytes.insert(bytes.end(), digest_.begin(), digest_.end());
    return bytes;
}

Cid Cid::to_v1() const noexcept {
    Cid copy = *this;
    copy.version_ = 1;
    return copy;
}

}  // namespace sihlicon
