// SPDX-License-Identifier: Apache-2.0
//
// Content identifiers exactly as IPFS computes them: CIDv1 (multibase base32, sha2-256, codec
// raw 0x55 or dag-pb 0x70), CIDv0 read for display, and the UnixFS balanced DAG that
// `ipfs add --cid-version=1` builds (raw leaves, fixed-size chunks, at most `max_links` links
// per node). No hub is needed for anything in this header.
//
// Thread safety: Cid and UnixfsOptions are immutable values; the free functions are pure.
// A CidHasher is used by one thread at a time.
#pragma once

#include <sihlicon/export.hpp>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon {

// The multicodecs sihlicon stores: raw bytes and UnixFS dag-pb nodes.
enum class CidCodec : std::uint64_t {
    raw = 0x55,
    dag_pb = 0x70,
};

// A CID whose multihash is sha2-256 (0x12) with a 32-byte digest, the only hash sihlicon
// verifies.
class SIHLICON_API Cid {
  public:
    using Digest = std::array<std::uint8_t, 32>;

    // The CIDv1 raw CID of the empty input
    // (bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku).
    Cid();

    // Returns the CID with these parts. Throws Error::invalid("version", ...) unless version is
    // 1, or 0 with codec dag_pb (CIDv0 is always dag-pb).
    Cid(int version, CidCodec codec, const Digest& digest);

    // Parses the text form of a CIDv1: multibase 'b' (base32, lower case) or 'B' (base32, upper
    // case), or 'z' (base58btc). Returns the CID. Throws Error::invalid(field, text, problem)
    // for anything else: empty text, a CIDv0 ("Qm…"), an unknown multibase prefix, a character
    // outside the alphabet, mixed case, a version other than 1, a codec other than raw or
    // dag-pb, a hash other than sha2-256, a digest length other than 32, trailing bytes.
    static Cid parse(std::string_view text, std::string_view field = "cid");

    // Like parse, but also accepts a CIDv0 (46 characters of base58btc starting "Qm"), for
    // display and conversion. Throws as parse does.
    static Cid parse_any_version(std::string_view text, std::string_view field = "cid");

    // Decodes the binary form (version varint, codec varint, multihash); a binary CIDv0 is the
    // bare 34-byte multihash. Throws Error::invalid(field, hex, problem) as parse does.
    static Cid from_bytes(std::span<const std::uint8_t> bytes, std::string_view field = "cid");

    // Returns the CIDv1 of `block` stored with `codec` (sha2-256 of the bytes). Never throws
    // except std::bad_alloc or Error(internal) if OpenSSL fails.
    static Cid of_block(CidCodec codec, std::span<const std::uint8_t> block);

    int version() const noexcept { return version_; }
    CidCodec codec() const noexcept { return codec_; }
    const Digest& digest() const noexcept { return digest_; }

    // The text form: "b" + base32 for CIDv1 (59 characters), base58btc "Qm…" for CIDv0.
    std::string to_string() const;
    // The binary form (36 bytes for CIDv1, 34 for CIDv0).
    std::vector<std::uint8_t> to_bytes() const;
    // The same content as a CIDv1 (a CIDv1 is returned unchanged).
    Cid to_v1() const noexcept;

    friend bool operator==(const Cid&, const Cid&) noexcept = default;
    friend std::strong_ordering operator<=>(const Cid&, const Cid&) noexcept = default;

  private:
    int version_ = 1;
    CidCodec codec_ = CidCodec::raw;
    Digest digest_{};
};

// How file bytes become a DAG. The defaults are kubo's (`ipfs add --cid-version=1`): 262,144
// byte chunks and at most 174 links per node.
struct SIHLICON_API UnixfsOptions {
    std::size_t chunk_size = 262'144;  // bytes per leaf, 1 .. 4 MiB
    std::size_t max_links = 174;       // children per internal node, 2 .. 65,536

    // Returns the options of a named kubo import profile: "unixfs-v0-2015" or "default"
    // (262,144 / 174) and "unixfs-v1-2025" (1 MiB / 1024). Throws
    // Error::invalid("profile", name, ...) for any other name.
    static UnixfsOptions profile(std::string_view name);

    // Throws Error::invalid("chunkSize" or "maxLinks", value, ...) when out of range.
    void validate() const;
};

// Computes the CID of a stream of file bytes without storing anything, in bounded memory (one
// chunk plus one pending node per level of the tree).
class SIHLICON_API CidHasher {
  public:
    // Throws as UnixfsOptions::validate.
    explicit CidHasher(const UnixfsOptions& options = {});
    CidHasher(CidHasher&&) noexcept;
    CidHasher& operator=(CidHasher&&) noexcept;
    ~CidHasher();

    // Appends bytes to the file.
    void update(std::span<const std::uint8_t> bytes);
    // Bytes appended so far.
    std::uint64_t size() const noexcept;
    // Returns the CID of the whole file: its raw leaf when it fits one chunk (the empty file
    // included), else the root of the balanced dag-pb tree. REQUIRES: called once, last.
    Cid finish();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Returns the CID `ipfs add --cid-version=1` computes for `bytes` with `options`.
SIHLICON_API Cid compute_cid(std::span<const std::uint8_t> bytes,
                             const UnixfsOptions& options = {});

// Returns the CID of the file at `path`, read in chunks (bounded memory). Throws Error(io) when
// the file cannot be read, Error::invalid for bad options.
SIHLICON_API Cid compute_file_cid(const std::filesystem::path& path,
                                  const UnixfsOptions& options = {});

}  // namespace sihlicon
