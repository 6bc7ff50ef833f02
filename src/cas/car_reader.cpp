// SPDX-License-Identifier: Apache-2.0
#include "cas/car_reader.hpp"

#include "cas/car_header.hpp"
#include "cas/cas_internal.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace sihlicon::cas {

namespace {

[[noreturn]] void malformed(std::string_view problem) {
    throw Error::invalid("car", "", problem);
}

}  // namespace

CarReader::CarReader(const ContentStore::ByteSource& source) : source_(source) {}

void CarReader::fill() {
    if (start_ < buffer_.size() || ended_) {
        return;
    }
    buffer_.resize(1 << 16);
    const std::size_t got = std::min(source_(buffer_), buffer_.size());
    buffer_.resize(got);
    start_ = 0;
    ended_ = got == 0;
    bytes_ += got;
}

bool CarReader::at_end() {
    fill();
    return start_ == buffer_.size();
}

std::uint8_t CarReader::byte() {
    fill();
    if (start_ == buffer_.size()) {
        malformed("the stream ends in the middle of a section");
    }
    return buffer_[start_++];
}

// A minimal unsigned varint of at most 9 bytes, as multiformats requires.
std::uint64_t CarReader::varint() {
    std::uint64_t value = 0;
    for (int index = 0; index < 9; ++index) {
        const std::uint8_t next = byte();
        value |= static_cast<std::uint64_t>(next & 0x7f) << (7 * index);
        if ((next & 0x80) == 0) {
            if (next == 0 && index > 0) {
                malformed("a varint is not in its shortest form");
            }
            return value;
        }
    }
    malformed("a varint is longer than 9 bytes");
}

void CarReader::read(std::span<std::uint8_t> out) {
    while (!out.empty()) {
        fill();
        if (start_ == buffer_.size()) {
            malformed("the stream ends in the middle of a section");
        }
        const std::size_t take = std::min(out.size(), buffer_.size() - start_);
        std::memcpy(out.data(), buffer_.data() + start_, take);
        start_ += take;
        out = out.subspan(take);
    }
}

std::vector<Cid> CarReader::read_header() {
    const std::uint64_t header_size = varint();
    if (header_size == 0 || header_size > kMaxCarHeader) {
        malformed(fmt::format("the header length {} is out of range", header_size));
    }
    std::vector<std::uint8_t> header(static_cast<std::size_t>(header_size));
    read(header);
    return parse_car_header(header);
}

std::optional<CarReader::Block> CarReader::next() {
    if (at_end()) {
        return std::nullopt;
    }
    const std::uint64_t size = varint();
    if (size == 0 || size > kMaxCarSection) {
        malformed(fmt::format("a section length of {} is out of range", size));
    }
    section_.resize(static_cast<std::size_t>(size));
    read(section_);
    std::size_t length = 0;
    Cid cid;
    try {
        length = car_section_cid_length(section_);
        cid = Cid::from_bytes(std::span(section_).first(length), "block").to_v1();
    } catch (const Error& error) {
        malformed(error.what());
    }
    const auto bytes = std::span<const std::uint8_t>(section_).subspan(length);
    try {
        verify_block(cid, bytes);
    } catch (const Error&) {
        throw Error(ErrorCode::integrity,
                    fmt::format("block {} does not hash to its CID", cid.to_string()), "block");
    }
    ++blocks_;
    return Block{cid, bytes};
}

CarStreamGuard::CarStreamGuard(const Cid& root, std::uint64_t max_blocks)
    : root_(root.to_v1()), max_blocks_(max_blocks) {}

void CarStreamGuard::observe(std::span<const std::uint8_t> bytes) {
    std::size_t at = 0;
    while (at < bytes.size() && state_ != State::lost) {
        if (state_ == State::header_length || state_ == State::section_length) {
            const std::uint8_t next = bytes[at++];
            value_ |= static_cast<std::uint64_t>(next & 0x7f) << shift_;
            shift_ += 7;
            if ((next & 0x80) != 0) {
                if (shift_ > 56) {
                    state_ = State::lost;  // longer than 9 bytes: the reader refuses it
                }
                continue;
            }
            remaining_ = value_;
            value_ = 0;
            shift_ = 0;
            if (state_ == State::header_length) {
                if (remaining_ == 0 || remaining_ > kMaxCarHeader) {
                    state_ = State::lost;
                    continue;
                }
                header_.reserve(static_cast<std::size_t>(remaining_));
                state_ = State::header;
            } else {
                ++sections_;
                if (sections_ > max_blocks_) {
                    throw Error::invalid("maxBlocks", std::to_string(max_blocks_),
                                         "is exceeded: the CAR holds more blocks");
                }
                state_ = remaining_ == 0 ? State::section_length : State::section;
            }
            continue;
        }
        const std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size() - at));
        if (state_ == State::header) {
            header_.insert(header_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at),
                           bytes.begin() + static_cast<std::ptrdiff_t>(at + take));
        }
        at += take;
        remaining_ -= take;
        if (remaining_ == 0) {
            if (state_ == State::header) {
                const auto roots = parse_car_header(header_);
                if (roots.size() != 1 || roots.front().to_v1() != root_) {
                    throw Error(
                        ErrorCode::integrity,
                        fmt::format("the CAR's root is {}{}, not {}", roots.front().to_string(),
                                    roots.size() > 1 ? " (and more)" : "", root_.to_string()),
                        "roots");
                }
                header_ = {};
            }
            state_ = State::section_length;
        }
    }
}

}  // namespace sihlicon::cas
