// SPDX-License-Identifier: Apache-2.0
//
// The IPFS Trustless Gateway's reads (content_store.hpp: block_info, get_block, export_car with
// a CarScope): a block by its CID under the store's read rule, and a CAR of the DAG under any
// block, whole, one block, or only the blocks of a byte range (entity-bytes).
#include "cas/car_header.hpp"
#include "cas/cas_internal.hpp"
#include "cid/encoding.hpp"
#include "cid/unixfs.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <charconv>
#include <set>

namespace sihlicon {

namespace {

std::int64_t parse_offset(std::string_view text, std::string_view whole) {
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
        value == INT64_MIN) {
        throw Error::invalid("entity-bytes", whole,
                             "must be from:to, each an integer (negative: from the end) or '*' "
                             "for to");
    }
    return value;
}

// Where a readable block lives: the tier of a manifest `principal` may read whose DAG holds it
// (a public one first, so that is_public says whether anyone may read it).
struct Located {
    Cid cid;  // as given
    StorageTier tier = StorageTier::hot;
    BlockInfo info;
};

// The file bytes under a dag-pb UnixFS node: its inline data and its children's block sizes.
std::uint64_t node_file_bytes(const cid::DecodedNode& node, const Cid& cid) {
    std::uint64_t total = node.data.size();
    for (const auto size : node.block_sizes) {
        if (__builtin_add_overflow(total, size, &total)) {
            throw Error(ErrorCode::integrity,
                        fmt::format("node {} declares more than 2^64 file bytes", cid.to_string()));
        }
    }
    return total;
}

}  // namespace

CarScope CarScope::from_query(std::optional<std::string_view> dag_scope,
                              std::optional<std::string_view> entity_bytes) {
    CarScope result;
    if (dag_scope) {
        if (*dag_scope == "all") {
            result.scope = DagScope::all;
        } else if (*dag_scope == "entity") {
            result.scope = DagScope::entity;
        } else if (*dag_scope == "block") {
            result.scope = DagScope::block;
        } else {
            throw Error::invalid("dag-scope", *dag_scope, "must be all, entity or block");
        }
    }
    if (entity_bytes) {
        if (dag_scope && result.scope != DagScope::entity) {
            throw Error::invalid("entity-bytes", *entity_bytes,
                                 "implies dag-scope=entity; it cannot be given with dag-scope=" +
                                     std::string(*dag_scope));
        }
        const auto colon = entity_bytes->find(':');
        if (colon == std::string_view::npos) {
            throw Error::invalid("entity-bytes", *entity_bytes, "must be from:to");
        }
        Bytes bytes;
        bytes.from = parse_offset(entity_bytes->substr(0, colon), *entity_bytes);
        const auto to = entity_bytes->substr(colon + 1);
        if (to != "*") {
            bytes.to = parse_offset(to, *entity_bytes);
        }
        result.scope = DagScope::entity;
        result.entity_bytes = bytes;
    }
    return result;
}

std::string CarScope::to_string() const {
    std::string text = scope == DagScope::all      ? "all"
                       : scope == DagScope::entity ? "entity"
                                                   : "block";
    if (entity_bytes) {
        text += fmt::format(".{}-{}", entity_bytes->from,
                            entity_bytes->to ? std::to_string(*entity_bytes->to) : "*");
    }
    if (duplicates) {
        text += ".dups";
    }
    return text;
}

namespace {

// The block `text` names, if `principal` may read it; else cas::no_content, worded as for a
// block the hub does not hold.
Located locate(store::Database& database, std::string_view text, std::string_view principal) {
    Located located;
    located.cid = Cid::parse_any_version(text, "cid");
    const auto v1 = located.cid.to_v1().to_string();
    const bool found = database.read([&](store::Transaction& tx) {
        auto row = tx.prepare(fmt::format(
            "SELECT m.storage_tier, m.access_level = 'public', d.size FROM cas_dag_blocks d "
            "JOIN cas_manifests m ON m.content_id = d.root_cid WHERE d.block_cid = ?2 AND {} "
            "ORDER BY m.access_level = 'public' DESC, m.created_at LIMIT 1",
            cas::kVisibleTo));
        row.bind(1, principal);
        row.bind(2, v1);
        if (!row.step()) {
            return false;
        }
        located.tier = parse_storage_tier(row.column_text(0));
        located.info.is_public = row.column_int64(1) != 0;
        located.info.size = static_cast<std::uint64_t>(row.column_int64(2));
        return true;
    });
    if (!found) {
        throw cas::no_content(text);
    }
    return located;
}

}  // namespace

BlockInfo ContentStore::block_info(std::string_view cid, std::string_view principal) const {
    return locate(*impl_->core.database, cid, principal).info;
}

std::vector<std::uint8_t> ContentStore::get_block(std::string_view cid,
                                                  std::string_view principal) const {
    const auto located = locate(*impl_->core.database, cid, principal);
    return cas::read_verified(*impl_->backend, located.tier, located.cid.to_v1());
}

void ContentStore::export_car(std::string_view cid, std::string_view principal,
                              const CarScope& scope, const ByteSink& sink) const {
    const auto located = locate(*impl_->core.database, cid, principal);
    BlobBackend& backend = *impl_->backend;
    const Cid& root = located.cid;
    auto root_block = cas::read_verified(backend, located.tier, root.to_v1());

    // The byte range [from, to) of the file under the root, when entity_bytes asks for one.
    std::optional<std::pair<std::uint64_t, std::uint64_t>> range;
    if (scope.entity_bytes) {
        const std::uint64_t size =
            root.codec() == CidCodec::dag_pb
                ? node_file_bytes(cid::decode_file_node(root_block, root.to_string()), root)
                : root_block.size();
        const auto resolve = [size](std::int64_t offset) -> std::int64_t {
            // A negative offset counts from the end; sizes fit int64 (manifest sizes do).
            return offset >= 0 ? offset : static_cast<std::int64_t>(size) + offset;
        };
        const std::int64_t from = std::max<std::int64_t>(0, resolve(scope.entity_bytes->from));
        const std::int64_t last =
            scope.entity_bytes->to
                ? std::min(resolve(*scope.entity_bytes->to), static_cast<std::int64_t>(size) - 1)
                : static_cast<std::int64_t>(size) - 1;
        if (static_cast<std::uint64_t>(from) >= size && size > 0) {
            throw Error::invalid(
                "entity-bytes", scope.to_string(),
                fmt::format("starts at or past the end of the entity's {} bytes", size));
        }
        range = last < from ? std::pair<std::uint64_t, std::uint64_t>{0, 0}
                            : std::pair{static_cast<std::uint64_t>(from),
                                        static_cast<std::uint64_t>(last) + 1};
    }

    const auto header = cas::encode_car_header(std::span(&root, 1));
    std::vector<std::uint8_t> prefix;
    cid::append_varint(prefix, header.size());
    sink(prefix);
    sink(header);
    const auto emit = [&](const Cid& block_cid, std::span<const std::uint8_t> block) {
        const auto cid_bytes = block_cid.to_bytes();
        std::vector<std::uint8_t> section;
        cid::append_varint(section, cid_bytes.size() + block.size());
        section.insert(section.end(), cid_bytes.begin(), cid_bytes.end());
        sink(section);
        sink(block);
    };
    std::set<Cid> seen;
    // Depth-first from `block_cid` (whose block is `block`), whose file bytes start at
    // `start`; only children overlapping `range` when there is one.
    std::function<void(const Cid&, std::span<const std::uint8_t>, std::uint64_t)> walk =
        [&](const Cid& block_cid, std::span<const std::uint8_t> block, std::uint64_t start) {
            if (!scope.duplicates && !seen.insert(block_cid.to_v1()).second) {
                return;
            }
            emit(block_cid, block);
            if (scope.scope == DagScope::block || block_cid.codec() != CidCodec::dag_pb) {
                return;
            }
            const auto node = cid::decode_file_node(block, block_cid.to_string());
            std::uint64_t position = start + node.data.size();
            for (std::size_t i = 0; i < node.links.size(); ++i) {
                const std::uint64_t child_size =
                    i < node.block_sizes.size() ? node.block_sizes[i] : 0;
                const std::uint64_t child_start = position;
                if (__builtin_add_overflow(position, child_size, &position)) {
                    throw Error(ErrorCode::integrity,
                                fmt::format("node {} declares more than 2^64 file bytes",
                                            block_cid.to_string()));
                }
                if (range && (range->first >= range->second || position <= range->first ||
                              child_start >= range->second)) {
                    continue;
                }
                const auto child = cas::read_verified(backend, located.tier, node.links[i].to_v1());
                walk(node.links[i], child, child_start);
            }
        };
    walk(root, root_block, 0);
}

}  // namespace sihlicon
