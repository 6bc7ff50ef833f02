// SPDX-License-Identifier: Apache-2.0
//
// The real sizes of a UnixFS file DAG, checked against what its dag-pb nodes declare. A node's
// UnixFS `blocksizes` claim how many file bytes lie under each link and its `filesize` how many
// lie under the node; a DAG that comes from outside (a CAR) may lie in either, so the store
// recomputes both from the blocks themselves and never records a declared size. Not installed.
//
// Thread safety: pure functions (the lookup is called on the caller's thread).
#pragma once

#include <sihlicon/cid.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace sihlicon::cid {

// Deeper DAGs are refused, so that a forged chain of nodes cannot exhaust the stack (the check
// recurses once per level). A balanced DAG of any int64 file size with at least 2 links per
// node is at most 64 levels deep; trickle DAGs are deeper but still logarithmic.
inline constexpr std::size_t kMaxFileDagDepth = 256;

// One block of a file DAG as the size check sees it.
struct FileBlock {
    std::uint64_t block_bytes = 0;           // the block's own length
    std::vector<Cid> links;                  // children in file order (none for a raw leaf)
    std::vector<std::uint64_t> block_sizes;  // declared file bytes under each link
    std::uint64_t inline_bytes = 0;          // file bytes held in the node itself (UnixFS Data)
    std::optional<std::uint64_t> file_size;  // declared file bytes under the node, if any
};

// Describes `block`, whose bytes hash to `cid`: a raw leaf, or a dag-pb UnixFS File or Raw
// node. Throws Error(integrity) as decode_file_node does for a dag-pb block that is neither.
FileBlock describe_file_block(const Cid& cid, std::span<const std::uint8_t> block);

// What check_file_dag found under a root.
struct CheckedFile {
    std::uint64_t file_size = 0;  // real file bytes (fits int64)
    // Every block of the DAG once, as CIDv1, with its real length, root first.
    std::vector<std::pair<Cid, std::uint64_t>> blocks;
    // Set when the lookup lacked a block: the first one missed; the fields above are then
    // incomplete and must not be used.
    std::optional<Cid> missing;
};

// Returns the block with this CIDv1, or std::nullopt when it is not available. May throw
// (e.g. Error(integrity) for a block that is present but unusable); check_file_dag lets it
// through.
using FileBlockLookup = std::function<std::optional<FileBlock>(const Cid&)>;

// Walks the DAG under `root` depth-first, looking each distinct block up once, and checks
// every declared size against the real one: blocksizes[i] must equal the real file bytes
// under link i (a raw leaf's length; for a node, its inline bytes plus its children's real
// sizes) and a node's filesize, when present, its own real file bytes. Stops at the first
// missing block (CheckedFile::missing).
// Throws Error(integrity) naming the node, the declared and the real size for a lie;
// Error(invalid_argument) for a DAG deeper than kMaxFileDagDepth or a file size beyond int64.
CheckedFile check_file_dag(const Cid& root, const FileBlockLookup& lookup);

}  // namespace sihlicon::cid
