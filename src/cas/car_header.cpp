// SPDX-License-Identifier: Apache-2.0
//
// The CAR v1 header as strict DAG-CBOR (https://ipld.io/specs/codecs/dag-cbor/spec/): definite
// lengths, shortest-form arguments, map keys sorted by length then bytes with no repeat, and
// CIDs as tag 42 over a 0x00-prefixed binary CID.
#include "cas/car_header.hpp"

#include "cid/encoding.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>

namespace sihlicon::cas {

namespace {

constexpr int kUnsigned = 0;
constexpr int kBytes = 2;
constexpr int kText = 3;
constexpr int kArray = 4;
constexpr int kMap = 5;
constexpr int kTag = 6;
constexpr std::uint64_t kCidTag = 42;

[[noreturn]] void refuse(std::string_view value, std::string_view problem) {
    throw Error::invalid("car header", value, problem);
}

// Reads DAG-CBOR data items from the header bytes.
class CborReader {
  public:
    explicit CborReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

    struct Head {
        int major = 0;
        std::uint64_t argument = 0;  // the value, length, count or tag number
    };

    // The next item's major type and argument, which must be definite and in its shortest
    // form (an argument below 24 inline; otherwise the fewest of 1, 2, 4 or 8 bytes).
    Head head() {
        const std::size_t at = position_;
        const std::uint8_t initial = next();
        const int major = initial >> 5;
        const std::uint8_t info = initial & 31;
        if (info < 24) {
            return {major, info};
        }
        if (info > 27) {
            refuse(fmt::format("0x{:02x} at byte {}", initial, at),
                   "uses an indefinite length or a reserved CBOR encoding");
        }
        const int width = 1 << (info - 24);
        std::uint64_t value = 0;
        for (int i = 0; i < width; ++i) {
            value = (value << 8) | next();
        }
        const std::uint64_t shortest_floor = width == 1 ? 24 : (std::uint64_t{1} << (4 * width));
        if (value < shortest_floor) {
            refuse(fmt::format("{} in {} bytes at byte {}", value, width, at),
                   "encodes an integer or length not in its shortest form, as DAG-CBOR requires");
        }
        return {major, value};
    }

    Head expect(int major, std::string_view what) {
        const Head item = head();
        if (item.major != major) {
            refuse(fmt::format("CBOR major type {}", item.major), what);
        }
        return item;
    }

    std::span<const std::uint8_t> take(std::uint64_t size) {
        if (size > bytes_.size() - position_) {
            refuse(fmt::format("{} bytes", bytes_.size()), "is truncated");
        }
        const auto part = bytes_.subspan(position_, static_cast<std::size_t>(size));
        position_ += static_cast<std::size_t>(size);
        return part;
    }

    bool done() const { return position_ == bytes_.size(); }
    std::size_t position() const { return position_; }

  private:
    std::uint8_t next() {
        if (position_ >= bytes_.size()) {
            refuse(fmt::format("{} bytes", bytes_.size()), "is truncated");
        }
        return bytes_[position_++];
    }

    std::span<const std::uint8_t> bytes_;
    std::size_t position_ = 0;
};

// DAG-CBOR's map key order: shorter keys first, then bytewise.
bool key_before(const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
}

Cid read_root(CborReader& cbor) {
    const auto tag = cbor.expect(kTag, "has a root that is not a CID (tag 42)");
    if (tag.argument != kCidTag) {
        refuse(fmt::format("tag {}", tag.argument), "has a root that is not a CID (tag 42)");
    }
    const auto length = cbor.expect(kBytes, "has a root CID that is not a byte string");
    const auto bytes = cbor.take(length.argument);
    if (bytes.empty() || bytes[0] != 0x00) {
        refuse(cid::hex_encode(bytes), "has a root CID without the 0x00 multibase prefix");
    }
    try {
        return Cid::from_bytes(bytes.subspan(1), "root");
    } catch (const Error& error) {
        refuse(cid::hex_encode(bytes.subspan(1)), error.what());
    }
}

std::vector<Cid> read_roots(CborReader& cbor) {
    const auto count = cbor.expect(kArray, "has roots that are not an array").argument;
    if (count == 0) {
        refuse("[]", "names no root");
    }
    std::vector<Cid> roots;
    std::set<Cid> seen;
    for (std::uint64_t i = 0; i < count; ++i) {
        const Cid root = read_root(cbor);
        if (!seen.insert(root).second) {
            refuse(root.to_string(), "names the same root twice");
        }
        roots.push_back(root);
    }
    return roots;
}

void append_head(std::vector<std::uint8_t>& out, int major, std::uint64_t argument) {
    const auto type = static_cast<std::uint8_t>(major << 5);
    if (argument < 24) {
        out.push_back(static_cast<std::uint8_t>(type | argument));
        return;
    }
    int width = 1;
    while (width < 8 && argument >= (std::uint64_t{1} << (8 * width))) {
        width *= 2;
    }
    const int info = width == 1 ? 24 : width == 2 ? 25 : width == 4 ? 26 : 27;
    out.push_back(static_cast<std::uint8_t>(type | info));
    for (int shift = 8 * (width - 1); shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(argument >> shift));
    }
}

void append_text(std::vector<std::uint8_t>& out, std::string_view text) {
    append_head(out, kText, text.size());
    out.insert(out.end(), text.begin(), text.end());
}

}  // namespace

std::vector<std::uint8_t> encode_car_header(std::span<const Cid> roots) {
    std::vector<std::uint8_t> header;
    append_head(header, kMap, 2);
    append_text(header, "roots");
    append_head(header, kArray, roots.size());
    for (const auto& root : roots) {
        const auto bytes = root.to_bytes();
        append_head(header, kTag, kCidTag);
        append_head(header, kBytes, bytes.size() + 1);
        header.push_back(0x00);
        header.insert(header.end(), bytes.begin(), bytes.end());
    }
    append_text(header, "version");
    append_head(header, kUnsigned, 1);
    return header;
}

std::vector<Cid> parse_car_header(std::span<const std::uint8_t> header) {
    CborReader cbor(header);
    const auto entries = cbor.expect(kMap, "is not a CBOR map").argument;
    std::optional<std::vector<Cid>> roots;
    std::optional<std::uint64_t> version;
    std::optional<std::string> previous_key;
    for (std::uint64_t i = 0; i < entries; ++i) {
        const auto key_length = cbor.expect(kText, "has a key that is not text").argument;
        const auto key_bytes = cbor.take(key_length);
        std::string key(key_bytes.begin(), key_bytes.end());
        if (previous_key && !key_before(*previous_key, key)) {
            refuse(key, key == *previous_key ? "repeats a key"
                                             : "orders its keys other than DAG-CBOR does "
                                               "(shorter first, then bytewise)");
        }
        if (key == "roots") {
            roots = read_roots(cbor);
        } else if (key == "version") {
            version =
                cbor.expect(kUnsigned, "has a version that is not an unsigned integer").argument;
        } else {
            refuse(key, "has a key other than roots and version");
        }
        previous_key = std::move(key);
    }
    if (!cbor.done()) {
        refuse(fmt::format("{} of {} bytes used", cbor.position(), header.size()),
               "has trailing bytes after the map");
    }
    if (!version) {
        refuse("", "has no version");
    }
    if (*version != 1) {
        refuse(std::to_string(*version), "has a version other than 1 (only CAR v1 is supported)");
    }
    if (!roots) {
        refuse("", "has no roots");
    }
    return std::move(*roots);
}

std::size_t car_section_cid_length(std::span<const std::uint8_t> section) {
    const auto malformed = [](std::string_view problem) {
        return Error::invalid("car", "", problem);
    };
    if (section.size() >= 34 && section[0] == 0x12 && section[1] == 0x20) {
        return 34;
    }
    std::size_t position = 0;
    for (int field = 0; field < 4; ++field) {  // version, codec, hash code, digest length
        const auto value = cid::read_varint(section, position);
        if (!value) {
            throw malformed("a section starts with a malformed CID");
        }
        if (field == 3) {
            if (*value > section.size() - position) {
                throw malformed("a section's CID is truncated");
            }
            return position + static_cast<std::size_t>(*value);
        }
    }
    return position;
}

}  // namespace sihlicon::cas
