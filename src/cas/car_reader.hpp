// SPDX-License-Identifier: Apache-2.0
//
// A CAR v1 stream read block by block (https://ipld.io/specs/transport/car/carv1/), every
// block verified against its CID as it is read: the one reader of CAR bytes from outside
// (ContentStore::import_car, a remote agent's inputs, the fetcher). Memory: one section (at
// most kMaxCarSection bytes) and a 64 KiB read buffer, whatever the size of the stream. Not
// installed.
//
// Thread safety: one reader per thread.
#pragma once

#include <sihlicon/cid.hpp>
#include <sihlicon/content_store.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace sihlicon::cas {

inline constexpr std::uint64_t kMaxCarHeader = 1 << 20;
inline constexpr std::uint64_t kMaxCarSection = 8 * 1024 * 1024;

class CarReader {
  public:
    // `source` must outlive the reader.
    explicit CarReader(const ContentStore::ByteSource& source);

    // The roots of the header (car_header.hpp's parse_car_header). Call once, first. Throws
    // Error::invalid("car", ...) for a header length out of 1..kMaxCarHeader or a stream that
    // ends early, and as parse_car_header does.
    std::vector<Cid> read_header();

    struct Block {
        Cid cid;                              // as CIDv1, the name every record of the store uses
        std::span<const std::uint8_t> bytes;  // valid until the next call of next()
    };
    // The next block, its bytes checked against its CID; nullopt at the clean end of the
    // stream. Throws Error::invalid("car", ...) for a malformed section (a length of 0 or
    // beyond kMaxCarSection, a malformed CID, a stream that ends inside a section) and
    // Error(integrity), field "block", naming the CID, for bytes that do not hash to it.
    std::optional<Block> next();

    // Sections and bytes read so far (header included in the bytes).
    std::uint64_t blocks_read() const { return blocks_; }
    std::uint64_t bytes_read() const { return bytes_; }

  private:
    bool at_end();
    std::uint8_t byte();
    std::uint64_t varint();
    void read(std::span<std::uint8_t> out);
    void fill();

    const ContentStore::ByteSource& source_;
    std::vector<std::uint8_t> buffer_;
    std::size_t start_ = 0;
    bool ended_ = false;
    std::vector<std::uint8_t> section_;
    std::uint64_t blocks_ = 0;
    std::uint64_t bytes_ = 0;
};

// Watches the bytes of a CAR v1 stream on their way to a CarReader (ContentStore::import_car)
// without holding them: requires the header to name exactly `root` (compared as CIDv1) and
// counts the sections, so that a CAR from someone untrusted is refused as soon as its header,
// or its section beyond `max_blocks`, has passed, before the reader behind stores more.
// Framing it cannot follow (a varint too long, a header beyond kMaxCarHeader) it leaves to
// that reader, which refuses it.
class CarStreamGuard {
  public:
    CarStreamGuard(const Cid& root, std::uint64_t max_blocks);

    // Throws Error(integrity), field "roots", for a header that names another root or more
    // than one, Error::invalid("maxBlocks") for one section more than max_blocks, and as
    // parse_car_header for a malformed header.
    void observe(std::span<const std::uint8_t> bytes);

    std::uint64_t sections() const { return sections_; }

  private:
    enum class State { header_length, header, section_length, section, lost };
    Cid root_;
    std::uint64_t max_blocks_;
    State state_ = State::header_length;
    std::uint64_t value_ = 0;
    int shift_ = 0;
    std::uint64_t remaining_ = 0;
    std::vector<std::uint8_t> header_;
    std::uint64_t sections_ = 0;
};

}  // namespace sihlicon::cas
