// SPDX-License-Identifier: Apache-2.0
//
// CAR v1 (https://ipld.io/specs/transport/car/carv1/): a varint-prefixed DAG-CBOR header
// {roots: [CID], version: 1} (car_header.cpp) followed by varint-prefixed sections of CID
// bytes and block bytes. Import grants a manifest only for what the CAR proves: every block of
// a root's DAG, with sizes that add up (possession; see import_car in content_store.hpp).
#include "cas/car_header.hpp"
#include "cas/cas_internal.hpp"
#include "cid/encoding.hpp"
#include "cid/file_dag.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <map>
#include <mutex>
#include <set>

namespace sihlicon {

namespace {

constexpr std::uint64_t kMaxHeader = 1 << 20;
constexpr std::uint64_t kMaxSection = 8 * 1024 * 1024;

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

    // A minimal unsigned varint of at most 9 bytes, as multiformats requires.
    std::uint64_t varint() {
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

// What an import learnt of one block of the CAR: its shape for the size check, or why it
// cannot belong to a file DAG (a dag-pb block that is not a UnixFS file node, which refuses
// the import only if a root reaches it).
struct CarBlock {
    cid::FileBlock shape;
    std::string problem;
};

// The CAR's blocks by CIDv1. Memory: one entry per distinct block (its links, not its bytes).
using CarIndex = std::map<Cid, CarBlock>;

// Reads the sections after the header: verifies each block against its CID, stages it in
// `batch` (as CIDv1, the name every record of the store uses) and describes it in the index.
CarIndex read_sections(SourceReader& reader, BlobBackend::Batch& batch) {
    CarIndex index;
    std::vector<std::uint8_t> section;
    while (!reader.at_end()) {
        const std::uint64_t size = reader.varint();
        if (size == 0 || size > kMaxSection) {
            malformed(fmt::format("a section length of {} is out of range", size));
        }
        section.resize(static_cast<std::size_t>(size));
        reader.read(section);
        std::size_t length = 0;
        try {
            length = cas::car_section_cid_length(section);
        } catch (const Error& error) {
            malformed(error.what());
        }
        Cid cid;
        try {
            cid = Cid::from_bytes(std::span(section).first(length), "block").to_v1();
        } catch (const Error& error) {
            malformed(error.what());
        }
        const auto block = std::span<const std::uint8_t>(section).subspan(length);
        try {
            cas::verify_block(cid, block);
        } catch (const Error&) {
            malformed(fmt::format("block {} does not hash to its CID", cid.to_string()));
        }
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
    SourceReader reader(source);
    const std::uint64_t header_size = reader.varint();
    if (header_size == 0 || header_size > kMaxHeader) {
        malformed(fmt::format("the header length {} is out of range", header_size));
    }
    std::vector<std::uint8_t> header(static_cast<std::size_t>(header_size));
    reader.read(header);
    const auto roots = cas::parse_car_header(header);

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
