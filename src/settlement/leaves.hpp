// SPDX-License-Identifier: Apache-2.0
//
// The leaves of an epoch's Merkle tree, built for speed: a job's JCS record written straight
// into jobs.json from its columns (EpochJob::leaf() writes the same bytes), each leaf hashed as
// it is written, and the bundle built from leaves already serialized and hashed. Not installed.
#pragma once

#include <sihlicon/crypto.hpp>
#include <sihlicon/settlement.hpp>

#include <cstdint>
#include <map>
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
struct EpochLeaves {
    std::string jobs_json;                        // "[" leaf "," leaf ... "]"
    std::vector<crypto::Hash256> hashes;          // merkle_leaf_hash of leaf i
    std::int64_t revenue = 0;                     // the sum of the fees
    std::int64_t clients = 0;                     // distinct clients
    std::map<std::string, std::int64_t> jobs_of;  // worker → jobs completed
};

// How many threads to write `leaves` leaves on: one below 32,768, else one per hardware
// thread (at most 8).
std::size_t leaf_threads(std::size_t leaves);

// Leaves being written in job-id order, possibly one part of an epoch among several.
class LeafWriter {
  public:
    // `first_part`: this part starts jobs.json (writes its "["). The buffer is reserved for
    // max(expected_leaves, reserve_leaves) leaves of a typical size, the hashes for
    // expected_leaves.
    explicit LeafWriter(bool first_part, std::size_t expected_leaves = 0,
                        std::size_t reserve_leaves = 0);
    void add(const LeafFields& fields);
    std::size_t size() const { return hashes_.size(); }

    // Joins the parts, in order, into one EpochLeaves. Consumes them.
    static EpochLeaves join(std::vector<LeafWriter>& parts);

  private:
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
};

// build_epoch_bundle's work for leaves already serialized and hashed: the root, agents.json,
// SUMMARY.json (with the SHA-256 of each artifact) and its signature. Consumes the hashes;
// leaves.jobs_json is only read (the bundle's jobs_json is left empty: it is that string), so
// another thread may read it meanwhile.
EpochBundle bundle_from_leaves(EpochLeaves& leaves, const EpochFigures& figures,
                               const crypto::Signer& signer);

}  // namespace sihlicon::settlement
