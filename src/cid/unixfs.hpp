// SPDX-License-Identifier: Apache-2.0
//
// UnixFS files as dag-pb: the node codec (PBNode/PBLink with UnixFS Data, proto2, fields in
// the order go-ipfs and js-ipfs write them) and the streaming balanced builder of boxo's
// `ipld/unixfs/importer/balanced`. Not installed.
//
// Thread safety: DagBuilder is used by one thread at a time; the functions are pure.
#pragma once

#include <sihlicon/cid.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace sihlicon::cid {

// A link from a dag-pb node to a child.
struct Link {
    Cid cid;
    std::uint64_t tsize = 0;       // the child's cumulative DAG size (PBLink Tsize)
    std::uint64_t file_bytes = 0;  // file bytes under the child (UnixFS blocksize)
};

// Encodes a UnixFS File node with these children and no inline data.
std::vector<std::uint8_t> encode_file_node(std::span<const Link> links);

// A dag-pb node read back: its links and, for UnixFS, its type, inline data, file size and
// the file bytes under each link.
struct DecodedNode {
    std::vector<Cid> links;
    std::vector<std::uint64_t> link_tsizes;
    std::uint64_t unixfs_type = 0;           // 2: File, 0: Raw
    std::vector<std::uint8_t> data;          // UnixFS Data field (inline file bytes)
    std::uint64_t file_size = 0;             // UnixFS filesize as declared (0 when absent)
    bool has_file_size = false;              // whether the node declares a filesize at all
    std::vector<std::uint64_t> block_sizes;  // as declared; check_file_dag checks them
};

// Decodes a dag-pb node holding a UnixFS File or Raw. Throws Error(integrity) naming `what`
// for malformed protobuf, another UnixFS type, or block sizes that do not match the links.
DecodedNode decode_file_node(std::span<const std::uint8_t> block, std::string_view what);

// Builds the DAG of a stream of file bytes. Every block (leaves, then each internal node as
// it completes) is handed to the sink in creation order, so a sink can store them; the spans
// it gets are valid only during the call. Memory: one chunk plus at most max_links links per
// level of the tree.
class DagBuilder {
  public:
    using BlockSink = std::function<void(const Cid&, std::span<const std::uint8_t>)>;

    struct Result {
        Cid root;
        std::uint64_t file_size = 0;
        std::uint64_t block_count = 0;
        std::uint64_t dag_size = 0;  // Tsize of the root: every block's bytes
    };

    // Throws as UnixfsOptions::validate.
    DagBuilder(const UnixfsOptions& options, BlockSink sink);

    void update(std::span<const std::uint8_t> bytes);
    std::uint64_t size() const noexcept { return size_; }
    // REQUIRES: called once, after the last update.
    Result finish();

  private:
    void add_leaf(std::span<const std::uint8_t> chunk);
    void push_link(std::size_t level, const Link& link);
    Link make_node(const std::vector<Link>& links);

    UnixfsOptions options_;
    BlockSink sink_;
    std::vector<std::uint8_t> buffer_;
    std::size_t buffered_ = 0;
    std::vector<std::vector<Link>> levels_;
    std::uint64_t size_ = 0;
    std::uint64_t leaves_ = 0;
    std::uint64_t blocks_ = 0;
};

}  // namespace sihlicon::cid
