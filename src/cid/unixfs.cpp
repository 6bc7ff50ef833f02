// SPDX-License-Identifier: Apache-2.0
#include "cid/unixfs.hpp"

#include <sihlicon/crypto.hpp>
#include "cid/encoding.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <memory>

namespace sihlicon {

namespace cid {

namespace {

constexpr std::uint64_t kUnixfsRaw = 0;
constexpr std::uint64_t kUnixfsFile = 2;
constexpr std::size_t kMaxChunkSize = 4 * 1024 * 1024;
constexpr std::size_t kMaxLinks = 65'536;

void append_bytes_field(std::vector<std::uint8_t>& out, std::uint8_t tag,
                        std::span<const std::uint8_t> bytes) {
    out.push_back(tag);
    append_varint(out, bytes.size());
    out.insert(out.end(), bytes.begin(), bytes.end());
}

[[noreturn]] void malformed(std::string_view what, std::string_view problem) {
    throw Error(ErrorCode::integrity,
                fmt::format("{} is not a valid UnixFS dag-pb node: {}", what, problem));
}

// A protobuf field read from a message.
struct Field {
    std::uint64_t number = 0;
    std::uint64_t wire_type = 0;
    std::uint64_t value = 0;                // varint
    std::span<const std::uint8_t> bytes{};  // length-delimited
};

// Reads the next field at `position`; returns false at the end of the message.
bool next_field(std::span<const std::uint8_t> message, std::size_t& position, Field& field,
                std::string_view what) {
    if (position >= message.size()) {
        return false;
    }
    const auto key = read_varint(message, position);
    if (!key) {
        malformed(what, "truncated field key");
    }
    field.number = *key >> 3;
    field.wire_type = *key & 7;
    switch (field.wire_type) {
        case 0: {
            const auto value = read_varint(message, position);
            if (!value) {
                malformed(what, "truncated varint");
            }
            field.value = *value;
            break;
        }
        case 2: {
            const auto length = read_varint(message, position);
            if (!length || *length > message.size() - position) {
                malformed(what, "truncated length-delimited field");
            }
            field.bytes = message.subspan(position, static_cast<std::size_t>(*length));
            position += static_cast<std::size_t>(*length);
            break;
        }
        case 1:
        case 5: {
            const std::size_t width = field.wire_type == 1 ? 8 : 4;
            if (message.size() - position < width) {
                malformed(what, "truncated fixed-width field");
            }
            position += width;
            break;
        }
        default:
            malformed(what, fmt::format("unsupported wire type {}", field.wire_type));
    }
    return true;
}

void decode_unixfs_data(std::span<const std::uint8_t> data, DecodedNode& node,
                        std::string_view what) {
    std::size_t position = 0;
    Field field;
    bool has_type = false;
    while (next_field(data, position, field, what)) {
        if (field.number == 1 && field.wire_type == 0) {
            node.unixfs_type = field.value;
            has_type = true;
        } else if (field.number == 2 && field.wire_type == 2) {
            node.data.assign(field.bytes.begin(), field.bytes.end());
        } else if (field.number == 3 && field.wire_type == 0) {
            node.file_size = field.value;
            node.has_file_size = true;
        } else if (field.number == 4 && field.wire_type == 0) {
            node.block_sizes.push_back(field.value);
        } else if (field.number == 4 && field.wire_type == 2) {  // packed
            std::size_t inner = 0;
            while (inner < field.bytes.size()) {
                const auto value = read_varint(field.bytes, inner);
                if (!value) {
                    malformed(what, "truncated packed blocksizes");
                }
                node.block_sizes.push_back(*value);
            }
        }
    }
    if (!has_type) {
        malformed(what, "UnixFS Data has no Type");
    }
    if (node.unixfs_type != kUnixfsFile && node.unixfs_type != kUnixfsRaw) {
        malformed(what, fmt::format("UnixFS type {} is not a file", node.unixfs_type));
    }
}

}  // namespace

std::vector<std::uint8_t> encode_file_node(std::span<const Link> links) {
    std::uint64_t file_size = 0;
    std::vector<std::uint8_t> data{0x08, static_cast<std::uint8_t>(kUnixfsFile)};
    for (const auto& link : links) {
        file_size += link.file_bytes;
    }
    data.push_back(0x18);
    append_varint(data, file_size);
    for (const auto& link : links) {
        data.push_back(0x20);
        append_varint(data, link.file_bytes);
    }
    std::vector<std::uint8_t> node;
    node.reserve(links.size() * 48 + data.size() + 8);
    std::vector<std::uint8_t> encoded_link;
    for (const auto& link : links) {
        encoded_link.clear();
        append_bytes_field(encoded_link, 0x0a, link.cid.to_bytes());
        encoded_link.push_back(0x12);  // Name: always present, empty, as go and js write it
        encoded_link.push_back(0x00);
        encoded_link.push_back(0x18);
        append_varint(encoded_link, link.tsize);
        append_bytes_field(node, 0x12, encoded_link);
    }
    append_bytes_field(node, 0x0a, data);
    return node;
}

DecodedNode decode_file_node(std::span<const std::uint8_t> block, std::string_view what) {
    DecodedNode node;
    std::size_t position = 0;
    Field field;
    bool has_data = false;
    while (next_field(block, position, field, what)) {
        if (field.number == 2 && field.wire_type == 2) {
            std::size_t inner = 0;
            Field link_field;
            std::optional<Cid> cid;
            std::uint64_t tsize = 0;
            while (next_field(field.bytes, inner, link_field, what)) {
                if (link_field.number == 1 && link_field.wire_type == 2) {
                    try {
                        cid = Cid::from_bytes(link_field.bytes, "link");
                    } catch (const Error& error) {
                        malformed(what, error.what());
                    }
                } else if (link_field.number == 3 && link_field.wire_type == 0) {
                    tsize = link_field.value;
                }
            }
            if (!cid) {
                malformed(what, "a link has no hash");
            }
            node.links.push_back(*cid);
            node.link_tsizes.push_back(tsize);
        } else if (field.number == 1 && field.wire_type == 2) {
            decode_unixfs_data(field.bytes, node, what);
            has_data = true;
        } else {
            malformed(what, fmt::format("unexpected PBNode field {}", field.number));
        }
    }
    if (!has_data) {
        malformed(what, "no UnixFS Data");
    }
    if (node.block_sizes.size() != node.links.size()) {
        malformed(what, fmt::format("{} links but {} blocksizes", node.links.size(),
                                    node.block_sizes.size()));
    }
    return node;
}

DagBuilder::DagBuilder(const UnixfsOptions& options, BlockSink sink)
    : options_(options), sink_(std::move(sink)) {
    options_.validate();
    buffer_.resize(options_.chunk_size);
}

void DagBuilder::update(std::span<const std::uint8_t> bytes) {
    size_ += bytes.size();
    while (!bytes.empty()) {
        if (buffered_ == 0 && bytes.size() >= options_.chunk_size) {
            add_leaf(bytes.first(options_.chunk_size));  // no copy for whole chunks
            bytes = bytes.subspan(options_.chunk_size);
            continue;
        }
        const std::size_t take = std::min(bytes.size(), options_.chunk_size - buffered_);
        std::memcpy(buffer_.data() + buffered_, bytes.data(), take);
        buffered_ += take;
        bytes = bytes.subspan(take);
        if (buffered_ == options_.chunk_size) {
            add_leaf(buffer_);
            buffered_ = 0;
        }
    }
}

void DagBuilder::add_leaf(std::span<const std::uint8_t> chunk) {
    const Cid cid(1, CidCodec::raw, crypto::sha256(chunk));
    if (sink_) {
        sink_(cid, chunk);
    }
    ++leaves_;
    ++blocks_;
    push_link(0, Link{cid, chunk.size(), chunk.size()});
}

void DagBuilder::push_link(std::size_t level, const Link& link) {
    if (levels_.size() <= level) {
        levels_.resize(level + 1);
    }
    if (levels_[level].size() == options_.max_links) {
        const Link parent = make_node(levels_[level]);
        levels_[level].clear();
        push_link(level + 1, parent);
    }
    levels_[level].push_back(link);
}

Link DagBuilder::make_node(const std::vector<Link>& links) {
    const auto encoded = encode_file_node(links);
    Link link{Cid(1, CidCodec::dag_pb, crypto::sha256(encoded)), encoded.size(), 0};
    for (const auto& child : links) {
        link.tsize += child.tsize;
        link.file_bytes += child.file_bytes;
    }
    if (sink_) {
        sink_(link.cid, encoded);
    }
    ++blocks_;
    return link;
}

DagBuilder::Result DagBuilder::finish() {
    if (buffered_ > 0 || leaves_ == 0) {
        add_leaf(std::span<const std::uint8_t>(buffer_).first(buffered_));
        buffered_ = 0;
    }
    // Close every level bottom-up; the top level's single entry is the root.
    for (std::size_t level = 0;; ++level) {
        if (level + 1 == levels_.size() && levels_[level].size() == 1) {
            const Link root = levels_[level].front();
            return Result{root.cid, size_, blocks_, root.tsize};
        }
        const Link parent = make_node(levels_[level]);
        levels_[level].clear();
        push_link(level + 1, parent);
    }
}

}  // namespace cid

UnixfsOptions UnixfsOptions::profile(std::string_view name) {
    if (name == "unixfs-v0-2015" || name == "default") {
        return UnixfsOptions{};
    }
    if (name == "unixfs-v1-2025") {
        return UnixfsOptions{1'048'576, 1024};
    }
    throw Error::invalid("profile", name, "must be unixfs-v0-2015, default or unixfs-v1-2025");
}

void UnixfsOptions::validate() const {
    if (chunk_size < 1 || chunk_size > cid::kMaxChunkSize) {
        throw Error::invalid("chunkSize", std::to_string(chunk_size),
                             "must be between 1 and 4194304 bytes");
    }
    if (max_links < 2 || max_links > cid::kMaxLinks) {
        throw Error::invalid("maxLinks", std::to_string(max_links), "must be between 2 and 65536");
    }
}

struct CidHasher::Impl {
    explicit Impl(const UnixfsOptions& options) : builder(options, nullptr) {}
    cid::DagBuilder builder;
};

CidHasher::CidHasher(const UnixfsOptions& options) : impl_(std::make_unique<Impl>(options)) {}
CidHasher::CidHasher(CidHasher&&) noexcept = default;
CidHasher& CidHasher::operator=(CidHasher&&) noexcept = default;
CidHasher::~CidHasher() = default;

void CidHasher::update(std::span<const std::uint8_t> bytes) {
    impl_->builder.update(bytes);
}

std::uint64_t CidHasher::size() const noexcept {
    return impl_->builder.size();
}

Cid CidHasher::finish() {
    return impl_->builder.finish().root;
}

Cid compute_cid(std::span<const std::uint8_t> bytes, const UnixfsOptions& options) {
    CidHasher hasher(options);
    hasher.update(bytes);
    return hasher.finish();
}

Cid compute_file_cid(const std::filesystem::path& path, const UnixfsOptions& options) {
    CidHasher hasher(options);
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                               &std::fclose);
    if (!file) {
        throw Error(ErrorCode::io,
                    fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)), "file");
    }
    std::vector<std::uint8_t> buffer(1 << 20);
    for (;;) {
        const std::size_t read = std::fread(buffer.data(), 1, buffer.size(), file.get());
        hasher.update(std::span<const std::uint8_t>(buffer).first(read));
        if (read < buffer.size()) {
            if (std::ferror(file.get()) != 0) {
                throw Error(ErrorCode::io, fmt::format("cannot read {}", path.string()), "file");
            }
            break;
        }
    }
    return hasher.finish();
}

}  // namespace sihlicon
