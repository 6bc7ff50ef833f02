// SPDX-License-Identifier: Apache-2.0
#include "cid/file_dag.hpp"

#include "cid/unixfs.hpp"

#include <sihlicon/checked.hpp>
#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <map>

namespace sihlicon::cid {

namespace {

// One walk of check_file_dag: the real sizes found so far, memoised per block, so that a DAG
// sharing subtrees (a file of repeated chunks) is read once per distinct block.
class SizeCheck {
  public:
    SizeCheck(const Cid& root, const FileBlockLookup& lookup) : root_(root), lookup_(lookup) {}

    CheckedFile run() {
        const auto size = real_size(root_.to_v1(), 0);
        if (size) {
            result_.file_size = static_cast<std::uint64_t>(*size);
        }
        return std::move(result_);
    }

  private:
    // The real file bytes under `cid` (a CIDv1), or std::nullopt once a block is missing.
    std::optional<std::int64_t> real_size(const Cid& cid, std::size_t depth) {
        if (const auto known = sizes_.find(cid); known != sizes_.end()) {
            return known->second;
        }
        if (depth > kMaxFileDagDepth) {
            throw Error::invalid("root", root_.to_string(),
                                 fmt::format("has a DAG deeper than {} levels", kMaxFileDagDepth));
        }
        const auto block = lookup_(cid);
        if (!block) {
            result_.missing = cid;
            return std::nullopt;
        }
        result_.blocks.emplace_back(cid, block->block_bytes);
        // A raw leaf is at most a CAR section long; a node's inline data likewise.
        auto total = static_cast<std::int64_t>(cid.codec() == CidCodec::raw ? block->block_bytes
                                                                            : block->inline_bytes);
        for (std::size_t i = 0; i < block->links.size(); ++i) {
            const auto child = real_size(block->links[i].to_v1(), depth + 1);
            if (!child) {
                return std::nullopt;
            }
            if (block->block_sizes[i] != static_cast<std::uint64_t>(*child)) {
                throw Error(ErrorCode::integrity,
                            fmt::format("node {} declares {} file bytes (blocksizes[{}]) under "
                                        "{}; that block holds {}",
                                        cid.to_string(), block->block_sizes[i], i,
                                        block->links[i].to_string(), *child),
                            "blocksizes");
            }
            total = checked::add(total, *child,
                                 fmt::format("the file size under node {}", cid.to_string()));
        }
        if (block->file_size && *block->file_size != static_cast<std::uint64_t>(total)) {
            throw Error(ErrorCode::integrity,
                        fmt::format("node {} declares a filesize of {}; its blocks hold {} file "
                                    "bytes",
                                    cid.to_string(), *block->file_size, total),
                        "filesize");
        }
        sizes_.emplace(cid, total);
        return total;
    }

    const Cid& root_;
    const FileBlockLookup& lookup_;
    std::map<Cid, std::int64_t> sizes_;
    CheckedFile result_;
};

}  // namespace

FileBlock describe_file_block(const Cid& cid, std::span<const std::uint8_t> block) {
    FileBlock described;
    described.block_bytes = block.size();
    if (cid.codec() == CidCodec::raw) {
        return described;
    }
    auto node = decode_file_node(block, cid.to_string());
    described.links = std::move(node.links);
    described.block_sizes = std::move(node.block_sizes);
    described.inline_bytes = node.data.size();
    if (node.has_file_size) {
        described.file_size = node.file_size;
    }
    return described;
}

CheckedFile check_file_dag(const Cid& root, const FileBlockLookup& lookup) {
    return SizeCheck(root, lookup).run();
}

}  // namespace sihlicon::cid
