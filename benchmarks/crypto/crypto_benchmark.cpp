// SPDX-License-Identifier: Apache-2.0
//
// Figures for the crypto layer settlement stands on: sealing an epoch of 1,000,000 job
// records (JCS serialization, leaf hashing, the RFC 9162 tree and every inclusion proof),
// inclusion-proof verifications per second, and EIP-191 signing and recovery per second.
// Prints its figures; run it from a release build.
#include "crypto/jcs.hpp"

#include <sihlicon/crypto.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace crypto = sihlicon::crypto;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string padded(std::uint64_t number, std::size_t width) {
    std::string text = std::to_string(number);
    return std::string(width > text.size() ? width - text.size() : 0, '0') + text;
}

// A completed-job record shaped like an epoch's jobs.json element.
boost::json::value job_record(std::uint64_t i) {
    const std::string result_hash = crypto::to_hex(crypto::sha256("result " + std::to_string(i)));
    return {{"job_id", "job-01JD3M5Q7X" + padded(i, 16)},
            {"client", "cli-01JD3M5Q7X9K2W4V6T8R0P" + padded(i % 1000, 4)},
            {"worker", "wrk-01JD3M5Q7X9K2W4V6T8R0P" + padded(i % 5000, 4)},
            {"type", "inference"},
            {"price", {{"amount", 100000}, {"currency", "USD"}}},
            {"completed_at", 1767225600000 + static_cast<std::int64_t>(i)},
            {"result_hash", result_hash}};
}

void seal_benchmark(std::uint64_t count) {
    std::printf("== seal %llu job records\n", static_cast<unsigned long long>(count));
    std::vector<boost::json::value> records;
    records.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) {
        records.push_back(job_record(i));
    }

    auto start = Clock::now();
    std::vector<std::string> leaves;
    leaves.reserve(count);
    std::size_t total_bytes = 0;
    for (const auto& record : records) {
        leaves.push_back(crypto::canonical_json(record));
        total_bytes += leaves.back().size();
    }
    const double jcs_seconds = seconds_since(start);

    // On the calling thread alone, for reference.
    start = Clock::now();
    std::vector<crypto::Hash256> leaf_hashes;
    leaf_hashes.reserve(count);
    for (const auto& leaf : leaves) {
        leaf_hashes.push_back(crypto::merkle_leaf_hash(leaf));
    }
    const double serial_leaf_seconds = seconds_since(start);

    // As settlement seals: MerkleTree::from_leaves hashes leaves and levels on every core.
    start = Clock::now();
    const crypto::MerkleTree tree = crypto::MerkleTree::from_leaves(leaves);
    const crypto::Hash256 root = tree.root();
    const double tree_seconds = seconds_since(start);
    if (crypto::MerkleTree(std::move(leaf_hashes)).root() != root) {
        std::printf("  ERROR: serial and parallel trees differ\n");
    }

    start = Clock::now();
    std::vector<crypto::Hash256> proof;
    std::size_t proof_hashes = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        tree.inclusion_proof(i, proof);
        proof_hashes += proof.size();
    }
    const double proof_seconds = seconds_since(start);

    const double seal = jcs_seconds + tree_seconds;
    std::printf("  record JCS size      %.1f bytes on average\n",
                static_cast<double>(total_bytes) / static_cast<double>(count));
    std::printf("  JCS serialization    %.3f s\n", jcs_seconds);
    std::printf("  leaf hashes, one thread          %.3f s\n", serial_leaf_seconds);
    std::printf("  from_leaves (leaves + tree, %u threads)  %.3f s  root %s\n",
                std::thread::hardware_concurrency(), tree_seconds, crypto::to_hex(root).c_str());
    std::printf("  JCS + leaves + root  %.3f s  (settlement target: seal in <= 2 s)\n", seal);
    std::printf("  all %llu inclusion proofs  %.3f s  (%zu hashes)\n",
                static_cast<unsigned long long>(count), proof_seconds, proof_hashes);
    std::printf("  total with proofs    %.3f s\n", seal + proof_seconds);

    // Verification of receipts: a random sample of the tree's proofs.
    constexpr std::size_t kVerifications = 200000;
    std::mt19937_64 random(42);
    std::vector<std::uint64_t> indices(kVerifications);
    std::vector<std::vector<crypto::Hash256>> proofs(kVerifications);
    for (std::size_t k = 0; k < kVerifications; ++k) {
        indices[k] = random() % count;
        proofs[k] = tree.inclusion_proof(indices[k]);
    }
    start = Clock::now();
    std::size_t verified = 0;
    for (std::size_t k = 0; k < kVerifications; ++k) {
        verified +=
            crypto::verify_inclusion(tree.leaf_hash(indices[k]), indices[k], count, proofs[k], root)
                ? 1
                : 0;
    }
    const double verify_seconds = seconds_since(start);
    std::printf("== verify inclusion proofs (tree of %llu)\n",
                static_cast<unsigned long long>(count));
    std::printf("  %zu of %zu verified in %.3f s: %.0f per second (target >= 100000)\n", verified,
                kVerifications, verify_seconds,
                static_cast<double>(kVerifications) / verify_seconds);

    start = Clock::now();
    std::size_t leaf_and_verify = 0;
    for (std::size_t k = 0; k < kVerifications; ++k) {
        const crypto::Hash256 leaf_hash = crypto::merkle_leaf_hash(leaves[indices[k]]);
        leaf_and_verify +=
            crypto::verify_inclusion(leaf_hash, indices[k], count, proofs[k], root) ? 1 : 0;
    }
    const double leaf_verify_seconds = seconds_since(start);
    std::printf("  with the leaf hashed from its JCS bytes: %.0f per second\n",
                static_cast<double>(kVerifications) / leaf_verify_seconds);
    (void)leaf_and_verify;
}

void signature_benchmark() {
    constexpr int kCount = 5000;
    const auto key = crypto::PrivateKey::generate();
    const std::string summary(600, 's');  // a SUMMARY.json-sized message
    std::vector<crypto::Signature> signatures;
    signatures.reserve(kCount);
    auto start = Clock::now();
    for (int i = 0; i < kCount; ++i) {
        signatures.push_back(key.sign_message(summary + std::to_string(i)));
    }
    const double sign_seconds = seconds_since(start);
    start = Clock::now();
    int recovered = 0;
    for (int i = 0; i < kCount; ++i) {
        recovered +=
            crypto::recover_signer(summary + std::to_string(i),
                                   signatures[static_cast<std::size_t>(i)]) == key.address()
                ? 1
                : 0;
    }
    const double recover_seconds = seconds_since(start);
    std::printf("== EIP-191 over %zu-byte messages\n", summary.size() + 4);
    std::printf("  sign     %.0f per second\n", kCount / sign_seconds);
    std::printf("  recover  %.0f per second (%d of %d recovered the signer)\n",
                kCount / recover_seconds, recovered, kCount);
}

}  // namespace

int main(int argc, char** argv) {
    const std::uint64_t count = argc > 1 ? std::stoull(argv[1]) : 1000000;
    seal_benchmark(count);
    signature_benchmark();
    return 0;
}
