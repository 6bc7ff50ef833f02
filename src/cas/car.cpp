// SPDX-License-Identifier: Apache-2.0
//
// CAR v1 (https://ipld.io/specs/transport/car/carv1/): a varint-prefixed DAG-CBOR header
// {roots: [CID], version: 1} (car_header.cpp) followed by varint-prefixed sections of CID
// bytes and block bytes. Import grants a manifest only for what the CAR proves: every block of
// a root's DAG, with sizes that add up (possession; see import_car in content_store.hpp).
#include "cas/car_header.hpp"
#include "cas/car_reader.hpp"
#include "cas/cas_internal.hpp"
#include "cid/encoding.hpp"
#include "cid/file_dag.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <mutex>
#include <set>

namespace sihlicon {

namespace {

// What an import learnt of one block of the CAR: its shape for the size check, or why it
// cannot belong to a file DAG (a dag-pb block that is not a UnixFS file node, which refuses
// the import only if a root reaches it).
struct CarBlock {
    cid::FileBlock shape;
    std::string problem;
};

// The CAR's blocks by CIDv1. Memory: one entry per distinct block (its links, not its bytes).
using CarIndex = std::map<Cid, CarBlock>;

// Reads the blocks after the header (each verified against its CID by the reader), stages each
// in `batch` and describes it in the index.
CarIndex read_sections(cas::CarReader& reader, BlobBackend::Batch& batch) {
    CarIndex index;
    while (const auto next = reader.next()) {
        const auto& [cid, block] = *next;
        batch.add(cid, block);
        if (index.contains(cid)) {
            continue;
        }
        CarBlock described;
        try {
            described.shape = cid::describe_file_block(cid, block);
        } catch (const Error& error) {
            described.problem = error.what();
        }
        index.emplace(cid, std::move(described));
    }
    return index;
}

// The block `cid` (a CIDv1) if the CAR holds it.
std::optional<cid::FileBlock> from_car(const CarIndex& index, const Cid& cid) {
    const auto found = index.find(cid);
    if (found == index.end()) {
        return std::nullopt;
    }
    if (!found->second.problem.empty()) {
        throw Error(ErrorCode::invalid_argument, found->second.problem, "block");
    }
    return found->second.shape;
}

// True if `principal` may already read `root`: a manifest of it is visible to them.
bool can_already_read(store::Database& database, const Cid& root, std::string_view principal) {
    return database.read([&](store::Transaction& tx) {
        return cas::readable(tx, root.to_v1().to_string(), principal);
    });
}

// The real file under each root, checked (cid::check_file_dag). Possession: every block of a
// root's DAG must be in the CAR, unless `owner` can already read the root, and then the
// blocks the CAR lacks must be stored in `tier`. The refusal names the first missing block
// and reads the same whether or not the hub holds it, so it tells nothing about other
// principals' content.
std::vector<cid::CheckedFile> check_roots(const std::vector<Cid>& roots, const CarIndex& index,
                                          store::Database& database, BlobBackend& backend,
                                          StorageTier tier, std::string_view owner) {
    std::vector<cid::CheckedFile> files;
    for (const auto& root : roots) {
        auto file = cid::check_file_dag(root, [&](const Cid& cid) { return from_car(index, cid); });
        if (file.missing && can_already_read(database, root, owner)) {
            file = cid::check_file_dag(root, [&](const Cid& cid) {
                auto block = from_car(index, cid);
                if (!block) {
                    if (const auto stored = backend.read(tier, cid)) {
                        cas::verify_block(cid, *stored);
                        block = cid::describe_file_block(cid, *stored);
                    }
                }
                return block;
            });
        }
        if (file.missing) {
            throw Error::invalid("roots", root.to_string(),
                                 fmt::format("is not complete in the CAR: block {} of its DAG "
                                             "is missing",
                                             file.missing->to_string()));
        }
        files.push_back(std::move(file));
    }
    return files;
}

}  // namespace

void ContentStore::export_car(std::string_view content_id, std::string_view principal,
                              const ByteSink& sink) const {
    const Cid root = Cid::parse(content_id, "contentId");
    const Manifest manifest = impl_->core.database->read([&](store::Transaction& tx) {
        return impl_->visible_manifest(tx, root.to_string(), principal);
    });
    const auto header = cas::encode_car_header(std::span(&root, 1));
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
    cas::validate_put(owner, options);
    impl_->core.database->read([&](store::Transaction& tx) {
        cas::check_source_hub(tx, options.source_hub_id);  // before any byte is read
    });
    const StorageTier tier = options.storage_tier;
    cas::CarReader reader(source);
    const auto roots = reader.read_header();

    std::vector<Cid> written;
    std::vector<ContentStore::Impl::Recorded> recorded;
    std::vector<std::vector<std::pair<Cid, std::uint64_t>>> vacated_blocks;
    std::set<Cid> reached;
    try {
        std::shared_lock lock(impl_->blocks_mutex);
        auto batch = impl_->backend->begin_batch(tier);
        try {
            const auto index = read_sections(reader, *batch);
            const auto files =
                check_roots(roots, index, *impl_->core.database, *impl_->backend, tier, owner);
            batch->commit();
            written = batch->written();
            // One transaction: every root is recorded, and counted against the quota, or none.
            recorded = impl_->core.database->write([&](store::Transaction& tx) {
                std::vector<ContentStore::Impl::Recorded> all;
                for (std::size_t i = 0; i < roots.size(); ++i) {
                    all.push_back(impl_->record_in(tx, roots[i].to_v1(), files[i].file_size,
                                                   files[i].blocks, owner, options));
                }
                return all;
            });
            for (std::size_t i = 0; i < recorded.size(); ++i) {
                vacated_blocks.push_back(recorded[i].vacated ? files[i].blocks
                                                             : decltype(files[i].blocks){});
            }
            for (const auto& file : files) {
                for (const auto& block : file.blocks) {
                    reached.insert(block.first);
                }
            }
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
    // Blocks of the CAR that no root reaches are not kept: no manifest accounts for them.
    std::vector<Cid> unreached;
    std::copy_if(written.begin(), written.end(), std::back_inserter(unreached),
                 [&](const Cid& cid) { return !reached.contains(cid); });
    if (!unreached.empty()) {
        std::unique_lock exclusive(impl_->blocks_mutex);
        impl_->drop_unreferenced(tier, unreached);
    }
    // A manifest that moved to this tier leaves no copy behind in its old one.
    std::vector<Manifest> manifests;
    for (std::size_t i = 0; i < recorded.size(); ++i) {
        impl_->vacate(recorded[i], vacated_blocks[i]);
        manifests.push_back(std::move(recorded[i].manifest));
    }
    return manifests;
}

}  // namespace sihlicon
