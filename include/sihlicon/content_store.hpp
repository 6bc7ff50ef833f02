// SPDX-License-Identifier: Apache-2.0
//
// The content-addressed store of a hub: inputs, outputs, archives and epoch bundles, named by
// the CID IPFS computes for the same bytes (see cid.hpp). Content is a UnixFS file DAG whose
// blocks live in one of three tiers (hot, cold, glacier) behind a BlobBackend; manifests,
// named references, replica records, community memberships and quotas live in the hub's
// database.
//
// Manifests: one per (content, owner). Two owners who put the same bytes share the blocks
// and each gets a manifest of their own; blocks are deleted only when no manifest of their
// tier references them any more.
//
// Access: a principal is a non-empty string the host authenticates (a user id, an agent
// address). An anonymous caller passes an empty principal and sees only public content.
// - private: only the owner;
// - community: the owner and every principal sharing a community with the owner
//   (add_community_member);
// - public: anyone.
// No existence oracle: every call that takes a CID and a principal treats content the principal
// may not read exactly as content that does not exist: Error(not_found) with the same message
// ("no content <CID>"); listings leave it out. permission_denied is left for a principal that
// may read the content but may not do the act (removing or moving content it does not own).
// Only an owner removes (their own manifest).
//
// Named references (name@version → CID) are shown only to principals who may read the content
// they point at; a reference whose content is unreadable, or gone, resolves as if it did not
// exist (not_found). A reference never keeps content alive: its owner may still remove it.
//
// Community membership changes need the acting principal to be a member of that community, or
// the founder of an empty one, or the hub operator (kOperatorPrincipal, principal.hpp).
//
// Durability: a block is written to a staging file of its tier and renamed into place before
// the manifest that needs it is committed; with Durability::power_loss (the hub's default)
// the staging file and the folders are fsynced too. A crash leaves no partial block and no
// manifest. Staging files of dead processes are removed when a hub opens; so are the complete
// blocks a put killed before its manifest committed had renamed into place, found through its
// put journal (`<blob folder>/.puts`) as soon as no other put is in progress on the hub (else
// at the next open or collect_garbage). After a power loss, collect_garbage removes what the
// journals may have missed.
//
// Full disk: the hub folder holds `space.reserve`, 8 MiB allocated while there is room.
// remove and collect_garbage release it when their database write fails with Error(io) and
// try once more, then allocate it again, so that freeing space works on a full disk.
//
// Thread safety: a ContentStore is safe to use from many threads at once. Reads of content
// being removed by another thread at the same time may fail with Error(integrity).
#pragma once

#include <sihlicon/cid.hpp>
#include <sihlicon/durability.hpp>
#include <sihlicon/export.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/time.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon {

namespace detail {
struct HubCore;
}

enum class StorageTier { hot, cold, glacier };
enum class AccessLevel { private_, community, public_ };
enum class ReplicaState { wanted, pinned, failed };

// "hot", "cold", "glacier" / "private", "community", "public" / "wanted", "pinned", "failed".
SIHLICON_API std::string_view to_string(StorageTier tier) noexcept;
SIHLICON_API std::string_view to_string(AccessLevel level) noexcept;
SIHLICON_API std::string_view to_string(ReplicaState state) noexcept;
// Parse those names. Throw Error::invalid(field, text, ...) for anything else.
SIHLICON_API StorageTier parse_storage_tier(std::string_view text,
                                            std::string_view field = "storageTier");
SIHLICON_API AccessLevel parse_access_level(std::string_view text,
                                            std::string_view field = "accessLevel");

// Where a tier's blocks are kept. The hub's default keeps each tier in a local folder
// (blob_directory/hot, /cold, /glacier); a host may plug in object storage instead.
// Implementations must be safe to call from many threads at once.
class SIHLICON_API BlobBackend {
  public:
    // A set of blocks being written by one put. Blocks become readable no later than commit();
    // a batch destroyed without commit() leaves no partial block behind.
    class SIHLICON_API Batch {
      public:
        virtual ~Batch();
        // Stages one block (its bytes are already verified to match `cid`). Adding a CID that
        // the batch or the tier already holds is allowed and writes nothing.
        virtual void add(const Cid& cid, std::span<const std::uint8_t> bytes) = 0;
        // Makes every added block durable and readable. Throws Error(io) on failure.
        virtual void commit() = 0;
        // The CIDs this batch actually wrote (not the ones already present).
        virtual const std::vector<Cid>& written() const = 0;
    };

    virtual ~BlobBackend();
    virtual std::unique_ptr<Batch> begin_batch(StorageTier tier) = 0;
    virtual bool contains(StorageTier tier, const Cid& cid) = 0;
    // Returns the stored bytes, unverified, or std::nullopt when the block is absent.
    // Throws Error(io) when it exists but cannot be read.
    virtual std::optional<std::vector<std::uint8_t>> read(StorageTier tier, const Cid& cid) = 0;
    // Removes the block if present. Throws Error(io) on failure.
    virtual void remove(StorageTier tier, const Cid& cid) = 0;
    // Calls `visit` for every block stored in `tier`.
    virtual void for_each(StorageTier tier, const std::function<void(const Cid&)>& visit) = 0;
};

// The default backend: `root`/<tier>/<two characters of the CID>/<CID>, staging files in
// `root`/<tier>/.staging. Creates the folders; removes staging files left by dead processes.
// With Durability::power_loss a batch's commit() fsyncs every block and folder it wrote; with
// process_crash it only renames the complete staged blocks into place (the page cache
// survives the process, so a kill -9 still leaves whole blocks or none).
// Throws Error(io) when the folders cannot be created.
SIHLICON_API std::shared_ptr<BlobBackend> make_local_blob_backend(
    const std::filesystem::path& root, Durability durability = Durability::power_loss);

// The seed's POST /api/storage metadata.
struct SIHLICON_API PutOptions {
    std::optional<std::string> file_name;  // fileName, at most 255 bytes
    std::optional<std::string> mime_type;  // mimeType, "type/subtype"
    StorageTier storage_tier = StorageTier::hot;
    AccessLevel access_level = AccessLevel::private_;
    int min_replicas = 3;                      // minReplicas, 0 .. 64
    std::optional<std::string> source_hub_id;  // sourceHubId: a registered hub's id
    std::string metadata_json = "{}";          // metadata: a JSON object, at most 64 KiB
    // Regions replicas may be placed in (data residency, e.g. {"CH"}); empty: any region.
    std::vector<std::string> allowed_regions;
    UnixfsOptions unixfs;  // how the bytes become a DAG
    // declaredSize: how many bytes the source will yield, when the caller knows it (an HTTP
    // Content-Length, a file's size). The owner's quotas are checked against it before any
    // byte is read, so an upload that cannot fit is refused without hashing it; the real size
    // is checked again when the manifest commits. A source that yields more bytes (refused
    // before hashing the excess) or fewer is refused with invalid_argument naming
    // "declaredSize". put_bytes and put_file fill it in when it is not given. At most
    // INT64_MAX.
    std::optional<std::uint64_t> declared_size;

    // Decodes the seed's upload metadata (the "metadata" part of POST /api/storage):
    // {"fileName"?, "mimeType"?, "storageTier"?, "accessLevel"?, "minReplicas"?,
    // "sourceHubId"?, "metadata"? (a JSON object), "allowedRegions"? (strings)}; absent fields
    // keep the defaults above, unixfs and declared_size are never read from JSON. Strict: the
    // text must be one JSON object (json::parse's rules), an unknown field is refused naming
    // it. Throws Error::invalid naming the field. Ranges and lengths are checked by the put
    // that receives the options, as for options built in code.
    static PutOptions from_json(std::string_view json);
};

// The seed's manifest plus what the store keeps about it.
struct SIHLICON_API Manifest {
    std::string content_id;
    std::optional<std::string> file_name;
    std::int64_t file_size_bytes = 0;
    std::optional<std::string> mime_type;
    StorageTier storage_tier = StorageTier::hot;
    AccessLevel access_level = AccessLevel::private_;
    std::vector<std::string> replica_hubs;  // hubs with a wanted or pinned replica
    Timestamp created_at;
    std::string owner;
    int min_replicas = 3;
    std::optional<std::string> source_hub_id;
    std::string metadata_json = "{}";
    std::vector<std::string> allowed_regions;

    // The seed's JSON (contentId, fileName, fileSizeBytes, mimeType, storageTier,
    // accessLevel, replicaHubs, createdAt as ISO 8601) plus owner, minReplicas, sourceHubId,
    // metadata and allowedRegions.
    std::string to_json() const;
};

// name@version → CID, the model hub of the Qubix seed.
struct SIHLICON_API NamedReference {
    std::string name;
    std::string version;
    std::string content_id;
    std::string owner;
    Timestamp created_at;

    // {"name", "version", "contentId", "owner", "createdAt"} (ISO 8601).
    std::string to_json() const;
};

struct SIHLICON_API ReplicaRecord {
    std::string content_id;
    std::string hub_id;
    ReplicaState state = ReplicaState::wanted;
    Timestamp updated_at;

    // {"contentId", "hubId", "state", "updatedAt"} (ISO 8601).
    std::string to_json() const;
};

// One copy the repair plan asks for: copy `content_id` to `target_hub_id`, from one of
// `source_hub_ids` (online hubs holding a pinned replica; empty: from this hub's store).
struct SIHLICON_API RepairAction {
    std::string content_id;
    std::string target_hub_id;
    std::vector<std::string> source_hub_ids;

    // {"contentId", "targetHubId", "sourceHubIds": [...]}.
    std::string to_json() const;
};

struct SIHLICON_API ScrubOptions {
    // Re-hash only this many blocks, chosen at random; std::nullopt: every block.
    std::optional<std::size_t> sample_blocks;
};

struct SIHLICON_API ScrubProblem {
    std::string block_cid;
    StorageTier tier = StorageTier::hot;
    std::string problem;                   // "missing" or "corrupt"
    std::vector<std::string> content_ids;  // content whose DAG holds the block
};

struct SIHLICON_API ScrubReport {
    std::int64_t blocks_checked = 0;
    std::int64_t bytes_checked = 0;
    std::vector<ScrubProblem> problems;

    // {"blocksChecked", "bytesChecked", "problems": [{"blockCid", "tier", "problem",
    // "contentIds"}]}.
    std::string to_json() const;
};

// Upload limits of one owner. The seed's default is 100 MB per hour and no total limit.
struct SIHLICON_API Quota {
    std::int64_t upload_bytes_per_hour = 100'000'000;
    std::optional<std::int64_t> total_bytes;  // sum of the owner's manifests' sizes

    // {"uploadBytesPerHour", "totalBytes" (or null)}.
    std::string to_json() const;
};

// Which blocks of a DAG a CAR carries, as the IPFS Trustless Gateway asks
// (https://specs.ipfs.tech/http-gateways/trustless-gateway/): `dag-scope` and `entity-bytes`.
enum class DagScope { all, entity, block };
struct SIHLICON_API CarScope {
    DagScope scope = DagScope::all;
    // entity-bytes=from:to, byte offsets of the file, both inclusive; negative: counted from
    // the end (-1 is the last byte); `to` std::nullopt: "*", the end of the file.
    struct Bytes {
        std::int64_t from = 0;
        std::optional<std::int64_t> to;
    };
    std::optional<Bytes> entity_bytes;  // implies DagScope::entity
    bool duplicates = false;            // dups=y: a block is sent each time the walk meets it

    // Decodes the query parameters `dag-scope` ("all", "entity", "block") and `entity-bytes`
    // ("from:to", integers or "*" for `to`); std::nullopt: absent. Throws Error::invalid
    // naming the parameter ("dag-scope", "entity-bytes") for anything else, and for
    // entity-bytes with dag-scope other than entity.
    static CarScope from_query(std::optional<std::string_view> dag_scope,
                               std::optional<std::string_view> entity_bytes);
    // "all", "entity" or "block", then ".from-to" when entity_bytes is set (for an Etag).
    std::string to_string() const;
};

// A block a principal may read, as ContentStore::block_info finds it.
struct SIHLICON_API BlockInfo {
    std::uint64_t size = 0;  // bytes of the block
    bool is_public = false;  // in public content: anyone may read it, with or without a token
};

class SIHLICON_API ContentStore {
  public:
    // Pulls bytes into `buffer`; returns how many it wrote, 0 at the end of the content.
    using ByteSource = std::function<std::size_t(std::span<std::uint8_t> buffer)>;
    // Receives consecutive bytes of content.
    using ByteSink = std::function<void(std::span<const std::uint8_t> bytes)>;
    // Told the bytes processed so far, after each chunk.
    using Progress = std::function<void(std::uint64_t bytes_done)>;

    // Constructed by Hub::open. Throws Error(io) when the tier folders cannot be created.
    explicit ContentStore(detail::HubCore& core);
    ContentStore(const ContentStore&) = delete;
    ContentStore& operator=(const ContentStore&) = delete;
    ~ContentStore();

    // Replaces the blob backend (the default is make_local_blob_backend(blob_directory)).
    // REQUIRES: no other call on this store is in progress.
    void use_backend(std::shared_ptr<BlobBackend> backend);

    // Stores content and returns its manifest. Quotas are checked first, from
    // options.declared_size (put_bytes: the span's size; put_file: the file's size, for a
    // regular file; put_stream: only if given, else the put is refused up front only when the
    // hour's volume or the total is already used up). Blocks are then written and made
    // durable, named in a put journal until the manifest, block list, upload record and
    // wanted replicas (placed over the hubs table) commit in one transaction, where the quotas
    // are checked again against the real size. Memory stays bounded by a few chunks, whatever
    // the size.
    // The same bytes again: if `owner` already has a manifest for this CID, a put stating the
    // same metadata (fileName, mimeType, storageTier, accessLevel, minReplicas, sourceHubId,
    // metadata compared as JSON, allowedRegions as a set) returns it unchanged; a put stating
    // other metadata UPDATES the owner's manifest to exactly what the put states (an absent
    // fileName or mimeType clears it; createdAt stays), never silently keeps the old one.
    // Neither stores nor counts a byte anew at commit (the up-front quota check from the
    // declared size applies as to any put). A new storageTier
    // moves the manifest: its blocks are written to the new tier and, once the update
    // commits, removed from the old one unless another manifest of that tier still needs
    // them, so no stray copy is left. Wanted replicas are placed for a larger minReplicas;
    // those already recorded stay. Other owners' manifests never change.
    // Throws Error with:
    // - invalid_argument: an empty owner, options out of range (the field is named), a source
    //   that yields more or fewer bytes than options.declared_size ("declaredSize"), or a
    //   ByteSource that returns more bytes than its buffer holds ("source");
    // - not_found: options.source_hub_id names no hub registered with
    //   Scheduler::register_hub (field "sourceHubId"; checked before any byte is read);
    // - quota_exceeded: the owner's hourly upload volume or total bytes would be exceeded
    //   (from the declared size: before the source is read at all);
    // - io: a block could not be written or the source could not be read.
    // On a throw no manifest exists and blocks written by this call alone are removed; if the
    // process dies first, the next Hub::open (or collect_garbage) removes them.
    Manifest put_bytes(std::span<const std::uint8_t> bytes, std::string_view owner,
                       const PutOptions& options = {});
    Manifest put_stream(const ByteSource& source, std::string_view owner,
                        const PutOptions& options = {}, const Progress& progress = {});
    Manifest put_file(const std::filesystem::path& path, std::string_view owner,
                      const PutOptions& options = {}, const Progress& progress = {});

    // Streams `length` bytes from `offset` (std::nullopt: to the end) of the content to
    // `sink`, hashing every block it reads. A range past the end is cut at the end.
    // Throws Error with: invalid_argument for a malformed CID; not_found when no manifest
    // exists or none is visible to `principal` (the same error and message either way);
    // integrity when a block is missing or does not hash to its CID (no byte of that block
    // reaches the sink).
    void get(std::string_view content_id, std::string_view principal, const ByteSink& sink,
             std::uint64_t offset = 0, std::optional<std::uint64_t> length = std::nullopt,
             const Progress& progress = {}) const;
    // get() into memory.
    std::vector<std::uint8_t> get_bytes(std::string_view content_id, std::string_view principal,
                                        std::uint64_t offset = 0,
                                        std::optional<std::uint64_t> length = std::nullopt) const;
    // get() into the file `path`, replacing it only on success: the bytes go to a temporary
    // file in the same folder, which is renamed over `path` when every byte is written and
    // synced. On any throw (as get() does, or io) an existing file is left byte for byte as it
    // was and no temporary file remains. A new file gets the usual mode (0666 less the umask),
    // a replaced one keeps its mode; an existing target that is not a regular file (a device,
    // a pipe) is written in place. Returns the number of bytes written.
    std::uint64_t get_to_file(std::string_view content_id, std::string_view principal,
                              const std::filesystem::path& path, std::uint64_t offset = 0,
                              std::optional<std::uint64_t> length = std::nullopt,
                              const Progress& progress = {}) const;

    // Returns the principal's own manifest of the content, else the oldest one visible to
    // them. Throws as get() does (except integrity).
    Manifest stat(std::string_view content_id, std::string_view principal) const;

    // Returns the manifests visible to `principal`, newest first, optionally only those of
    // `owner`, at most `limit` (1 .. 10,000).
    std::vector<Manifest> list(std::string_view principal,
                               std::optional<std::string_view> owner = std::nullopt,
                               std::size_t limit = 1000) const;

    // Removes the principal's own manifest of the content; its blocks are deleted when no
    // manifest of their tier references them any more. Named references are not consulted:
    // a reference to content whose last manifest is removed resolves as not_found afterwards.
    // Throws Error with not_found (no manifest visible to the principal, as get() does),
    // permission_denied (the principal may read the content but owns no manifest of it). Works
    // on a full disk (see "Full disk").
    void remove(std::string_view content_id, std::string_view principal);

    // Moves the principal's manifest (and the blocks it needs) to `tier`, verifying every
    // block it copies. Returns the updated manifest. Throws as remove() does, and integrity.
    Manifest move_to_tier(std::string_view content_id, std::string_view principal,
                          StorageTier tier);

    // Community membership, for AccessLevel::community, changed by the acting `principal`:
    // a current member of the community may add or remove anyone (itself included); the
    // first member of an empty community may add itself (founding it); the hub operator
    // (kOperatorPrincipal) may do anything. Adding an existing member and removing a
    // non-member are no-ops (still subject to those rules). Throw Error with invalid_argument
    // (an empty or over-long community id or member) and permission_denied (anyone else,
    // the anonymous principal included); nothing changes on a throw.
    void add_community_member(std::string_view community_id, std::string_view member,
                              std::string_view principal);
    void remove_community_member(std::string_view community_id, std::string_view member,
                                 std::string_view principal);
    // The communities `member` belongs to that the acting `principal` may see, sorted: all of
    // them when `principal` is `member` or the operator, else only those `principal` belongs
    // to as well (none for the anonymous principal). Never throws for an unknown member.
    std::vector<std::string> communities_of(std::string_view member,
                                            std::string_view principal) const;

    // Points name@version at content `principal` may read. The first principal to use a name
    // owns it. Setting the same version to the same CID again returns the existing reference.
    // Throws Error with invalid_argument (name: lower-case letters, digits and "._/-", at most
    // 128; version: letters, digits and "._+-", at most 64; an empty principal), not_found (no
    // content, or none `principal` may read, as get() does), permission_denied (the name
    // belongs to another principal), conflict (the version already points elsewhere: remove
    // it first).
    NamedReference set_reference(std::string_view name, std::string_view version,
                                 std::string_view content_id, std::string_view principal);
    // Returns name@version, or the latest version whose content `principal` may read when
    // `version` is std::nullopt. Throws Error(not_found) when there is none, when the
    // reference's content is unreadable to `principal`, or gone (removed by its owner): the
    // same error either way.
    NamedReference resolve_reference(std::string_view name, std::optional<std::string_view> version,
                                     std::string_view principal) const;
    // Every version of `name` whose content `principal` may read, oldest first (empty when
    // there is none).
    std::vector<NamedReference> reference_versions(std::string_view name,
                                                   std::string_view principal) const;
    // Deletes name@version. Only the name's owner may, whatever the content's state; the
    // version may be set again afterwards, and a name whose last version is deleted is free
    // for anyone to take. Throws Error with invalid_argument (as
    // set_reference), not_found (no such reference, or one `principal` neither owns nor may
    // read), permission_denied (a reference `principal` may read but does not own).
    void remove_reference(std::string_view name, std::string_view version,
                          std::string_view principal);

    // Writes the content's DAG as a CAR v1 file (header with the root, then every block once,
    // depth-first), verifying each block. Throws as get() does.
    void export_car(std::string_view content_id, std::string_view principal,
                    const ByteSink& sink) const;
    // export_car() into the file `path`, replacing it only on success, as get_to_file() does.
    // Returns the number of bytes written.
    std::uint64_t export_car_to_file(std::string_view content_id, std::string_view principal,
                                     const std::filesystem::path& path) const;
    // The IPFS Trustless Gateway's reads, by the CID of any block of a content's DAG (the
    // root, an inner dag-pb node, a raw leaf; CIDv0 or CIDv1, Cid::parse_any_version).
    // Read rule: `principal` may read a block when it belongs to the DAG of content whose
    // manifest `principal` may read (the rule above: public, own, community); a block of
    // content it may not read answers exactly as a block the hub does not hold:
    // Error(not_found) "no content <CID>" (no existence oracle). Every block is verified
    // against its CID as it is read; a missing or corrupt one throws Error(integrity).
    BlockInfo block_info(std::string_view cid, std::string_view principal) const;
    // The block's bytes (verified).
    std::vector<std::uint8_t> get_block(std::string_view cid, std::string_view principal) const;
    // Writes a CAR v1 of the DAG under `cid` to `sink`: the header with `cid` (as given) as its
    // only root, then the blocks in depth-first order, each once (or each time it is met with
    // scope.duplicates), as `scope` says: all (the whole DAG), entity (for a UnixFS file, the
    // same as all: every block of the file; for a raw block, the block), block (only the
    // first). With entity_bytes: the root and only the blocks that hold bytes of the range
    // [from, to] (resolved against the file's size) and the nodes above them; a range that is
    // empty after resolution (to before from) sends the root block only. Throws as
    // block_info does before any byte reaches the sink, Error::invalid("entity-bytes") when
    // the range starts at or past the end of the file (checked once the root block is read,
    // before the sink sees a byte), and Error(integrity) for a block missing or corrupt
    // further down (the sink has then received a truncated CAR: the caller must not pass it
    // on as complete).
    void export_car(std::string_view cid, std::string_view principal, const CarScope& scope,
                    const ByteSink& sink) const;

    // Reads a CAR v1 stream, verifies every block against its CID, stores the blocks and
    // records a manifest (with `options`) for each root, which must be a UnixFS file DAG.
    // Returns the manifests, in the header's order. A root `owner` already has a manifest of
    // is recorded as put_stream() records the same bytes again (unchanged, or updated to
    // `options`, leaving no copy in its old tier).
    // Possession: a root gets a manifest only if every block of its DAG is in the CAR, or if
    // `owner` can already read that root (a manifest of it visible to them; the blocks the CAR
    // lacks must then be stored in options.storage_tier). The refusal for a missing block
    // names the root and the block and reads the same whether or not the hub holds the block.
    // Sizes: every UnixFS blocksizes and filesize in the DAG must equal the real sizes of the
    // blocks under it (raw leaves by their length, summed up the tree with overflow checks);
    // the manifest, the quota and the upload volume count those real bytes.
    // The header must be canonical DAG-CBOR with exactly the keys roots and version (1), no
    // root named twice. Blocks no root reaches are not kept. Memory: a few hundred bytes per
    // distinct block of the CAR (its links), never the blocks themselves.
    // Throws Error with invalid_argument (malformed CAR or header, a missing block, a non-file
    // DAG, a DAG deeper than 256 levels or a file beyond int64), integrity (a block whose bytes
    // do not hash to its CID, field "block"; a declared size that is not the real one),
    // quota_exceeded (the real sizes of all roots together), and as put_stream does. Nothing is
    // kept on a throw: no manifest, and no block this call alone wrote.
    std::vector<Manifest> import_car(const ByteSource& source, std::string_view owner,
                                     const PutOptions& options = {});

    // The replica records of a content `principal` may read, sorted by hub id. Throws
    // Error(not_found) as get() does.
    std::vector<ReplicaRecord> replicas(std::string_view content_id,
                                        std::string_view principal) const;
    // Lists the copies to make so that every content has its minReplicas live replicas on
    // online hubs (every hub in the hubs table except `offline_hub_ids`), placed by
    // rendezvous hashing (xxh3 of CID and hub id) over distinct sites first, within the
    // content's allowed regions, and records each as a wanted replica.
    std::vector<RepairAction> repair_plan(std::span<const std::string> offline_hub_ids = {});
    // Record the outcome of a copy: pinned, or failed. Throw Error(not_found) when the
    // content or the hub is unknown.
    void confirm_replica(std::string_view content_id, std::string_view hub_id);
    void fail_replica(std::string_view content_id, std::string_view hub_id);

    // Re-hashes stored blocks (all, or a random sample), reports missing and corrupt ones and
    // marks this hub's replicas (hub id = the hub's instance id) of affected content failed.
    ScrubReport scrub(const ScrubOptions& options = {});
    // Removes blocks that no manifest references (left by a crash between writing blocks
    // and committing), starting with those named by the journals of dead puts; waits for puts
    // in progress (in any process) to finish first, so it never removes a block a live put is
    // about to reference. Works on a full disk (see "Full disk"). Returns how many blocks were
    // removed.
    std::int64_t collect_garbage();

    // Sets the limits of `owner` ("*": the default of owners without their own, which is the
    // hub setting defaultUploadBytesPerHour / defaultTotalBytes: set_quota("*") changes it as
    // Hub::update_settings does, with its audit row, by the operator). Throws Error::invalid
    // for negative limits.
    void set_quota(std::string_view owner, const Quota& quota);
    // The limits that apply to `owner`.
    Quota quota(std::string_view owner) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Splits "name@version" (or "name"). Throws Error::invalid(field, text, ...) for an empty
// name or version.
SIHLICON_API std::pair<std::string, std::optional<std::string>> parse_reference(
    std::string_view text, std::string_view field = "reference");

}  // namespace sihlicon
