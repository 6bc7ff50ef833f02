// SPDX-License-Identifier: Apache-2.0
//
// Put journals: which blocks a batch may have written, kept until the put that owns the batch
// has recorded its manifest, so that the blocks of a put that never did (a process killed with
// kill -9, a put that failed) are found and removed without scanning the whole store. Not
// installed.
//
// A JournaledBackend wraps the store's BlobBackend. Every batch it begins writes, at its first
// add(), the journal `<folder>/<pid>.<n>.put`: the tier's name, then the CID of every block
// added, one a line, each line written (one write(2)) before the block reaches the wrapped
// batch. A batch destroyed normally removes its journal (the put has recorded its manifest or
// had nothing to record); one destroyed while an exception unwinds, or never destroyed because
// its process died, leaves it behind: it is abandoned.
//
// Invariants:
// 1. Batches are used only under the BlobLock, held shared (puts, CAR imports) or exclusively
//    (tier moves), and are destroyed before it is released. So whoever holds the BlobLock
//    exclusively finds only abandoned journals, whatever process wrote them.
// 2. Every block a batch renames into place is named in its journal before the rename, in the
//    page cache at least: a process crash (kill -9) cannot separate the two. After a power
//    loss the rename may survive without its line; ContentStore::collect_garbage, which scans
//    every block, removes such a block.
//
// Thread safety: the backend is safe to use from many threads; each batch from one at a time.
#pragma once

#include <sihlicon/content_store.hpp>

#include <filesystem>
#include <memory>
#include <vector>

namespace sihlicon::cas {

// An abandoned journal: the blocks a dead or failed batch may have written to `tier`.
struct AbandonedPut {
    std::filesystem::path journal;
    StorageTier tier = StorageTier::hot;
    std::vector<Cid> blocks;
};

class JournaledBackend final : public BlobBackend {
  public:
    // Creates `folder` if needed. Throws Error(io) when it cannot.
    JournaledBackend(std::shared_ptr<BlobBackend> inner, std::filesystem::path folder);

    std::unique_ptr<Batch> begin_batch(StorageTier tier) override;
    bool contains(StorageTier tier, const Cid& cid) override;
    std::optional<std::vector<std::uint8_t>> read(StorageTier tier, const Cid& cid) override;
    void remove(StorageTier tier, const Cid& cid) override;
    void for_each(StorageTier tier, const std::function<void(const Cid&)>& visit) override;

    // Every journal in the folder, read (lines that are not a CID are skipped; a journal
    // whose first line is not a tier is returned with no blocks, to be removed).
    // REQUIRES: the BlobLock held exclusively, so that every journal found is abandoned.
    std::vector<AbandonedPut> abandoned() const;

  private:
    std::shared_ptr<BlobBackend> inner_;
    std::filesystem::path folder_;
};

}  // namespace sihlicon::cas
