// SPDX-License-Identifier: Apache-2.0
//
// The leaves of an epoch's Merkle tree, built for speed: a job's JCS record written straight
// into jobs.json from its columns (EpochJob::leaf() writes the same bytes), each leaf hashed as
// it is written, and the bundle built from leaves already serialized and hashed. Not installed.
#pragma once

#include <sihlicon/crypto.hpp>
#include <sihlicon/settlement.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sihlicon::settlement {

struct LeafFields {
    std::string_view client;
    std::int64_t completed_at = 0;
    std::string_view currency;
    std::int64_t fee = 0;
    std::string_view hub;
    std::string_view job_id;
    std::string_view job_type;
    std::string_view poe_hash;
    std::string_view result_hash;
    std::string_view worker;
};

// Appends the leaf: {"client",...,"worker"} in JCS form (members sorted by name, strings
// escaped as RFC 8785 requires, integers within ±2^53).
void append_leaf(std::string& out, const LeafFields& fields);

// An epoch's leaves joined into jobs.json, with each leaf's hash and what the summary needs.
// A leaf's job id and its index among the epoch's leaves. Every kMarkEvery-th leaf of each
// part is marked, so that a job's index is the last mark at or before its id plus the ids
// between the two: at most kMarkEvery to count (see receipt_of in epochs.cpp).
struct LeafMark {
    std::string job_id;
    std::size_t index = 0;
};
inline constexpr std::size_t kMarkEvery = 256;

struct EpochLeaves {
    std::string jobs_json;                        // "[" leaf "," leaf ... "]"
    std::vector<crypto::Hash256> hashes;          // merkle_leaf_hash of leaf i
    std::vector<LeafMark> marks;                  // in job-id order
    std::int64_t revenue = 0;                     // the sum of the fees
    std::int64_t clients = 0;                     // distinct clients
    std::map<std::string, std::int64_t> jobs_of;  // worker → jobs completed
};

// How many threads to write `leaves` leaves on: one below 32,768, else one per hardware
// thread (at most 8).
std::size_t leaf_threads(std::size_t leaves);

// jobs.json handed out while its parts are still being written, so that a seal stores it as
// the epoch's jobs are read instead of after. Writers (one per part, each on its own thread)
// give their part's leaves in chunks; one reader pulls the file's bytes in order ("[", part 0,
// a comma, part 1, ..., "]"), waiting for the next chunk when it has not arrived, and hashes
// them. A part's chunks join its leaves with commas and start with one unless they start the
// part. Chunks of later parts wait in memory until their turn.
class JobsJsonStream {
  public:
    JobsJsonStream() = default;
    JobsJsonStream(const JobsJsonStream&) = delete;
    JobsJsonStream& operator=(const JobsJsonStream&) = delete;

    // Writers' side. set_parts() comes first, once; then append() and finish() per part.
    // append() throws Error(io) once the reader has stopped (see stop()), so that writers
    // stop too.
    void set_parts(std::size_t parts);
    void append(std::size_t part, std::string chunk);
    void finish(std::size_t part);
    // A writer failed: the reader's next read() rethrows `failure`.
    void fail(std::exception_ptr failure);

    // Reader's side: fills `buffer` with the next bytes, waiting for them; returns 0 at the
    // end of the file. Rethrows a writer's failure.
    std::size_t read(std::span<std::uint8_t> buffer);
    // The reader gives up (its store failed): append() throws from now on.
    void stop();
    // The SHA-256 (hex) of the bytes read, once read() has returned 0.
    std::string sha256_hex();

  private:
    struct Part {
        std::deque<std::string> chunks;
        bool finished = false;
        bool started = false;  // a chunk of it was handed out
    };
    bool next_chunk();  // moves the next bytes into current_; false at the end

    std::mutex mutex_;
    std::condition_variable changed_;
    std::optional<std::vector<Part>> parts_;
    std::exception_ptr failure_;
    bool stopped_ = false;

    // The reader's own state: the bytes being handed out are a separator or chunk_.
    std::string chunk_;
    std::string_view current_;
    std::size_t offset_ = 0;
    std::size_t part_ = 0;
    bool opened_ = false;    // "[" handed out
    bool any_leaf_ = false;  // a leaf handed out (the next part starts with a comma)
    bool closed_ = false;    // "]" handed out
    crypto::Sha256 hash_;
    std::optional<std::string> digest_;
};

// Leaves being written in job-id order, possibly one part of an epoch among several.
class LeafWriter {
  public:
    // `first_part`: this part starts jobs.json (writes its "["). The buffer is reserved for
    // max(expected_leaves, reserve_leaves) leaves of a typical size, the hashes for
    // expected_leaves.
    explicit LeafWriter(bool first_part, std::size_t expected_leaves = 0,
                        std::size_t reserve_leaves = 0);
    // Writes part `part` of `stream` instead of keeping the text (no stream: the text is
    // dropped, only the hashes are wanted); join() then leaves jobs_json empty. Call close()
    // when the part is complete.
    LeafWriter(JobsJsonStream* stream, std::size_t part, std::size_t expected_leaves);
    void add(const LeafFields& fields);
    // Streaming: gives the last chunk and finishes the part.
    void close();
    std::size_t size() const { return hashes_.size(); }

    // Joins the parts, in order, into one EpochLeaves. Consumes them.
    static EpochLeaves join(std::vector<LeafWriter>& parts);

  private:
    void hand_over();

    bool streaming_ = false;
    JobsJsonStream* stream_ = nullptr;
    std::size_t part_ = 0;
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const noexcept {
            return std::hash<std::string_view>{}(text);
        }
    };
    std::string json_;
    std::vector<crypto::Hash256> hashes_;
    std::int64_t revenue_ = 0;
    std::unordered_map<std::string, std::int64_t, Hash, std::equal_to<>> jobs_of_;
    std::unordered_set<std::string, Hash, std::equal_to<>> clients_;
    std::vector<LeafMark> marks_;  // indexes within this part
};

// build_epoch_bundle's work for leaves already serialized and hashed: the root, agents.json,
// SUMMARY.json (with the SHA-256 of each artifact) and its signature. Consumes the hashes;
// leaves.jobs_json is not used (the bundle's jobs_json is left empty). `jobs_json_sha256`
// gives jobs.json's SHA-256 in hex; it is called once the tree is built, so it may wait for
// a hash computed meanwhile on another thread.
EpochBundle bundle_from_leaves(EpochLeaves& leaves, const EpochFigures& figures,
                               const crypto::Signer& signer,
                               const std::function<std::string()>& jobs_json_sha256);

}  // namespace sihlicon::settlement
