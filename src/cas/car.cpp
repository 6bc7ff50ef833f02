// SPDX-License-Identifier: Apache-2.0
//
// CAR v1 (https://ipld.io/specs/transport/car/carv1/): a varint-prefixed DAG-CBOR header
// {roots: [CID], version: 1} followed by varint-prefixed sections of CID bytes and block bytes.
#include "cas/cas_internal.hpp"
#include "cid/encoding.hpp"
#include "cid/unixfs.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <cstring>
#include <mutex>

namespace sihlicon {

namespace {

constexpr std::uint64_t kMaxHeader = 1 << 20;
constexpr std::uint64_t kMaxSection = 8 * 1024 * 1024;
constexpr std::uint64_t kCborCidTag = 42;

[[noreturn]] void malformed(std::string_view problem) {
    throw Error::invalid("car", "", problem);
}

// Pulls exact byte counts out of a ByteSource.
class SourceReader {
  public:
    explicit SourceReader(const ContentStore::ByteSource& source) : source_(source) {}

    // Returns false at a clean end of the stream (no byte available).
    bool at_end() {
        fill();
        return start_ == buffer_.size();
    }

    std::uint8_t byte() {
        fill();
        if (start_ == buffer_.size()) {
            malformed("the stream ends in the middle of a section");
        }
        return buffer_[start_++];
    }

    std::uint64_t varint() {
        std::uint64_t value = 0;
        for (int index = 0; index < 9; ++index) {
            const std::uint8_t next = byte();
            value |= static_cast<std::uint64_t>(next & 0x7f) << (7 * index);
            if ((next & 0x80) == 0) {
                return value;
            }
        }
        malformed("a varint is longer than 9 bytes");
    }

    void read(std::span<std::uint8_t> out) {
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

  private:
    void fill() {
        if (start_ < buffer_.size() || ended_) {
            return;
        }
        buffer_.resize(1 << 16);
        const std::size_t got = source_(buffer_);
        buffer_.resize(got);
        start_ = 0;
        ended_ = got == 0;
    }

    const ContentStore::ByteSource& source_;
    std::vector<std::uint8_t> buffer_;
    std::size_t start_ = 0;
    bool ended_ = false;
};

// A DAG-CBOR reader just large enough for the CAR header.
class CborReader {
  public:
    explicit CborReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

    std::pair<int, std::uint64_t> head() {
        const std::uint8_t initial = next();
        const int major = initial >> 5;
        const std::uint8_t info = initial & 31;
        if (info < 24) {
            return {major, info};
        }
        if (info > 27) {
            malformed("the header uses indefinite-length CBOR");
        }
        const int width = 1 << (info - 24);
        std::uint64_t value = 0;
        for (int i = 0; i < width; ++i) {
            value = (value << 8) | next();
        }
        return {major, value};
    }

    std::span<const std::uint8_t> take(std::uint64_t size) {
        if (size > bytes_.size() - position_) {
            malformed("the header is truncated");
        }
        const auto part = bytes_.subspan(position_, static_cast<std::size_t>(size));
        position_ += static_cast<std::size_t>(size);
        return part;
    }

    void skip() {
        const auto [major, value] = head();
        switch (major) {
            case 2:
            case 3:
                take(value);
                break;
            case 4:
                for (std::uint64_t i = 0; i < value; ++i) {
                    skip();
                }
                break;
            case 5:
                for (std::uint64_t i = 0; i < 2 * value; ++i) {
                    skip();
                }
                break;
            case 6:
                skip();
                break;
            default:
                break;
        }
    }

    bool done() const { return position_ == bytes_.size(); }

  private:
    std::uint8_t next() {
        if (position_ >= bytes_.size()) {
            malformed("the header is truncated");
        }
        return bytes_[position_++];
    }

    std::span<const std::uint8_t> bytes_;
    std::size_t position_ = 0;
};

std::vector<Cid> parse_header(std::span<const std::uint8_t> header) {
    CborReader cbor(header);
    const auto [major, entries] = cbor.head();
    if (major != 5) {
        malformed("the header is not a CBOR map");
    }
    std::vector<Cid> roots;
    std::optional<std::uint64_t> version;
    for (std::uint64_t i = 0; i < entries; ++i) {
        const auto [key_major, key_size] = cbor.head();
        if (key_major != 3) {
            malformed("a header key is not text");
        }
        const auto key_bytes = cbor.take(key_size);
        const std::string key(key_bytes.begin(), key_bytes.end());
        if (key == "version") {
            const auto [value_major, value] = cbor.head();
            if (value_major != 0) {
                malformed("the version is not an unsigned integer");
            }
            version = value;
        } else if (key == "roots") {
            const auto [array_major, count] = cbor.head();
            if (array_major != 4) {
                malformed("roots is not an array");
            }
            for (std::uint64_t r = 0; r < count; ++r) {
                const auto [tag_major, tag] = cbor.head();
                const auto [bytes_major, size] = cbor.head();
                if (tag_major != 6 || tag != kCborCidTag || bytes_major != 2 || size < 2) {
                    malformed("a root is not a CID (tag 42)");
                }
                const auto bytes = cbor.take(size);
                if (bytes[0] != 0) {
                    malformed("a root CID lacks the 0x00 multibase prefix");
                }
                try {
                    roots.push_back(Cid::from_bytes(bytes.subspan(1), "root"));
                } catch (const Error& error) {
                    malformed(error.what());
                }
            }
        } else {
            cbor.skip();
        }
    }
    if (!cbor.done()) {
        malformed("the header has trailing bytes");
    }
    if (version != 1u) {
        malformed("only CAR version 1 is supported");
    }
    if (roots.empty()) {
        malformed("the header names no root");
    }
    return roots;
}

// The length of the CID at the start of a section.
std::size_t cid_length(std::span<const std::uint8_t> section) {
    if (section.size() >= 34 && section[0] == 0x12 && section[1] == 0x20) {
        return 34;
    }
    std::size_t position = 0;
    for (int field = 0; field < 4; ++field) {  // version, codec, hash code, digest length
        const auto value = cid::read_varint(section, position);
        if (!value) {
            malformed("a section starts with a malformed CID");
        }
        if (field == 3) {
            if (*value > section.size() - position) {
                malformed("a section's CID is truncated");
            }
            return position + static_cast<std::size_t>(*value);
        }
    }
    return position;
}

}  // namespace

void ContentStore::export_car(std::string_view content_id, std::string_view principal,
                              const ByteSink& sink) const {
    const Cid root = Cid::parse(content_id, "contentId");
    const Manifest manifest = impl_->core.database->read([&](store::Transaction& tx) {
        return impl_->visible_manifest(tx, root.to_string(), principal);
    });
    const auto root_bytes = root.to_bytes();
    std::vector<std::uint8_t> header{
        0xa2, 0x65, 'r',  'o',  'o',  't',
        's',  0x81, 0xd8, 0x2a, 0x58, static_cast<std::uint8_t>(root_bytes.size() + 1),
        0x00};
    header.insert(header.end(), root_bytes.begin(), root_bytes.end());
    for (const char c : std::string_view("\x67version\x01")) {
        header.push_back(static_cast<std::uint8_t>(c));
    }
    std::vector<std::uint8_t> prefix;
    cid::append_varint(prefix, header.size());
    sink(prefix);
    sink(header);
    cas::walk_dag(*impl_->backend, manifest.storage_tier, root,
                  [&](const Cid& cid, std::span<const std::uint8_t> block) {
                      const auto cid_bytes = cid.to_bytes();
                      std::vector<std::uint8_t> section;
                      cid::append_varint(section, cid_bytes.size() + block.size());
                      section.insert(section.end(), cid_bytes.begin(), cid_bytes.end());
                      sink(section);
                      sink(block);
                  });
}

std::vector<Manifest> ContentStore::import_car(const ByteSource& source, std::string_view owner,
                                               const PutOptions& options) {
    if (owner.empty()) {
        throw Error::invalid("owner", owner, "must not be empty");
    }
    options.unixfs.validate();
    const StorageTier tier = options.storage_tier;
    SourceReader reader(source);
    const std::uint64_t header_size = reader.varint();
    if (header_size == 0 || header_size > kMaxHeader) {
        malformed(fmt::format("the header length {} is out of range", header_size));
    }
    std::vector<std::uint8_t> header(static_cast<std::size_t>(header_size));
    reader.read(header);
    const auto roots = parse_header(header);

    std::vector<Cid> written;
    try {
        std::shared_lock lock(impl_->blocks_mutex);
        auto batch = impl_->backend->begin_batch(tier);
        try {
            std::vector<std::uint8_t> section;
            while (!reader.at_end()) {
                const std::uint64_t size = reader.varint();
                if (size == 0 || size > kMaxSection) {
                    malformed(fmt::format("a section length of {} is out of range", size));
                }
                section.resize(static_cast<std::size_t>(size));
                reader.read(section);
                const std::size_t length = cid_length(section);
                Cid cid;
                try {
                    cid = Cid::from_bytes(std::span(section).first(length), "block");
                } catch (const Error& error) {
                    malformed(error.what());
                }
                const auto block = std::span<const std::uint8_t>(section).subspan(length);
                try {
                    cas::verify_block(cid, block);
                } catch (const Error&) {
                    malformed(fmt::format("block {} does not hash to its CID", cid.to_string()));
                }
                batch->add(cid, block);
            }
            batch->commit();
            written = batch->written();
            std::vector<Manifest> manifests;
            for (const auto& root : roots) {
                std::vector<std::pair<Cid, std::uint64_t>> blocks;
                std::uint64_t file_size = 0;
                try {
                    cas::walk_dag(*impl_->backend, tier, root,
                                  [&](const Cid& cid, std::span<const std::uint8_t> block) {
                                      blocks.emplace_back(cid.to_v1(), block.size());
                                      if (cid != root) {
                                          return;
                                      }
                                      if (cid.codec() == CidCodec::raw) {
                                          file_size = block.size();
                                      } else {
                                          const auto node =
                                              cid::decode_file_node(block, cid.to_string());
                                          file_size = node.data.size();
                                          for (const auto size : node.block_sizes) {
                                              file_size += size;
                                          }
                                      }
                                  });
                } catch (const Error& error) {
                    malformed(fmt::format("root {} is not a complete UnixFS file: {}",
                                          root.to_string(), error.what()));
                }
                manifests.push_back(impl_->record(root.to_v1(), file_size, blocks, owner, options));
            }
            return manifests;
        } catch (...) {
            written = batch->written();
            throw;
        }
    } catch (...) {
        if (!written.empty()) {
            std::unique_lock exclusive(impl_->blocks_mutex);
            impl_->drop_unreferenced(tier, written);
        }
        throw;
    }
}

}  // namespace sihlicon
