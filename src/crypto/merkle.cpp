// SPDX-License-Identifier: Apache-2.0
//
// The RFC 9162 §2.1 Merkle tree. The tree is stored as levels built bottom-up: level 0 holds
// the leaf hashes, level l + 1 pairs neighbours of level l and carries an unpaired last node up
// unchanged. Node j of level l is then MTH(D[j·2^l : min((j+1)·2^l, n)]), exactly the nodes of
// RFC 9162's recursive definition, so every subtree hash a proof needs is a lookup.
#include "crypto/sha256_internal.hpp"

#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <thread>

namespace sihlicon::crypto {

namespace {

// Below this many hashes a level is computed on the calling thread alone.
constexpr std::size_t kParallelThreshold = 1 << 15;

// Runs body(begin, end) over [0, count) split into contiguous parts, one per hardware thread
// (the calling thread takes the first), when count is large enough to pay for the threads.
template <typename Body>
void parallel_for(std::size_t count, const Body& body) {
    const std::size_t threads =
        count < kParallelThreshold
            ? 1
            : std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 16);
    if (threads == 1) {
        body(std::size_t{0}, count);
        return;
    }
    const std::size_t part = (count + threads - 1) / threads;
    std::vector<std::jthread> workers;
    workers.reserve(threads - 1);
    for (std::size_t t = 1; t < threads; ++t) {
        const std::size_t begin = std::min(count, t * part);
        const std::size_t end = std::min(count, begin + part);
        workers.emplace_back([&body, begin, end] { body(begin, end); });
    }
    body(std::size_t{0}, std::min(count, part));
}

// The largest power of two strictly smaller than n. REQUIRES: n > 1.
std::uint64_t split_point(std::uint64_t n) {
    return std::bit_floor(n - 1);
}

}  // namespace

Hash256 merkle_leaf_hash(std::span<const std::uint8_t> data) {
    static constexpr std::uint8_t kLeafPrefix[1] = {0x00};
    return detail::sha256_concat(kLeafPrefix, data);
}

Hash256 merkle_leaf_hash(std::string_view data) {
    return merkle_leaf_hash(detail::as_bytes(data));
}

Hash256 merkle_node_hash(const Hash256& left, const Hash256& right) {
    std::array<std::uint8_t, 65> input;  // 0x01 ‖ left ‖ right, hashed in one update
    input[0] = 0x01;
    std::memcpy(input.data() + 1, left.data(), 32);
    std::memcpy(input.data() + 33, right.data(), 32);
    return detail::sha256_concat(input);
}

MerkleTree::MerkleTree() = default;

MerkleTree::MerkleTree(std::vector<Hash256> leaf_hashes) : size_(leaf_hashes.size()) {
    if (size_ == 0) {
        return;
    }
    levels_.reserve(static_cast<std::size_t>(std::bit_width(size_ - 1)) + 1);
    levels_.push_back(std::move(leaf_hashes));
    while (levels_.back().size() > 1) {
        const std::vector<Hash256>& below = levels_.back();
        std::vector<Hash256> above((below.size() + 1) / 2);
        parallel_for(below.size() / 2, [&](std::size_t begin, std::size_t end) {
            for (std::size_t pair = begin; pair < end; ++pair) {
                above[pair] = merkle_node_hash(below[2 * pair], below[2 * pair + 1]);
            }
        });
        if (below.size() % 2 == 1) {
            above.back() = below.back();
        }
        levels_.push_back(std::move(above));
    }
}

MerkleTree MerkleTree::from_leaves(std::span<const std::string> leaves) {
    std::vector<Hash256> hashes(leaves.size());
    parallel_for(leaves.size(), [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
            hashes[i] = merkle_leaf_hash(leaves[i]);
        }
    });
    return MerkleTree(std::move(hashes));
}

Hash256 MerkleTree::root() const {
    return size_ == 0 ? sha256(std::string_view()) : levels_.back().front();
}

Hash256 MerkleTree::root_at(std::uint64_t tree_size) const {
    if (tree_size > size_) {
        throw Error::invalid("tree_size", std::to_string(tree_size),
                             "exceeds the tree's " + std::to_string(size_) + " leaves");
    }
    return tree_size == 0 ? sha256(std::string_view()) : subtree_hash(0, tree_size);
}

const Hash256& MerkleTree::leaf_hash(std::uint64_t index) const {
    if (index >= size_) {
        throw Error::invalid("index", std::to_string(index),
                             "is not below the tree's " + std::to_string(size_) + " leaves");
    }
    return levels_[0][index];
}

// MTH(D[begin:end]) for a range of RFC 9162's recursion over some prefix D[0:m], m <= size_:
// begin is a multiple of the largest power of two not above end - begin, so a complete range
// (a power of two long) or one ending at size_ is a stored node; any other range splits.
Hash256 MerkleTree::subtree_hash(std::uint64_t begin, std::uint64_t end) const {
    const std::uint64_t length = end - begin;
    if (std::has_single_bit(length)) {
        const auto level = static_cast<unsigned>(std::countr_zero(length));
        return node(level, begin >> level);
    }
    if (end == size_) {
        const auto level = static_cast<unsigned>(std::bit_width(length - 1));
        return node(level, begin >> level);
    }
    const std::uint64_t k = split_point(length);
    return merkle_node_hash(subtree_hash(begin, begin + k), subtree_hash(begin + k, end));
}

// PATH(index - begin, D[begin:end]), appended deepest first.
void MerkleTree::path(std::uint64_t index, std::uint64_t begin, std::uint64_t end,
                      std::vector<Hash256>& proof) const {
    if (end - begin <= 1) {
        return;
    }
    const std::uint64_t k = split_point(end - begin);
    if (index < begin + k) {
        path(index, begin, begin + k, proof);
        proof.push_back(subtree_hash(begin + k, end));
    } else {
        path(index, begin + k, end, proof);
        proof.push_back(subtree_hash(begin, begin + k));
    }
}

std::vector<Hash256> MerkleTree::inclusion_proof(std::uint64_t index,
                                                 std::uint64_t tree_size) const {
    if (tree_size > size_) {
        throw Error::invalid("tree_size", std::to_string(tree_size),
                             "exceeds the tree's " + std::to_string(size_) + " leaves");
    }
    if (index >= tree_size) {
        throw Error::invalid("index", std::to_string(index),
                             "is not below the tree size " + std::to_string(tree_size));
    }
    std::vector<Hash256> proof;
    if (tree_size == size_) {
        inclusion_proof(index, proof);
    } else {
        path(index, 0, tree_size, proof);
    }
    return proof;
}

void MerkleTree::inclusion_proof(std::uint64_t index, std::vector<Hash256>& proof) const {
    if (index >= size_) {
        throw Error::invalid("index", std::to_string(index),
                             "is not below the tree's " + std::to_string(size_) + " leaves");
    }
    proof.clear();
    // In the full tree the sibling of each node on the way up is a lookup; a node without a
    // sibling (the unpaired last one) was carried up and adds nothing to the path.
    std::uint64_t position = index;
    for (std::size_t level = 0; level + 1 < levels_.size(); ++level) {
        const std::uint64_t sibling = position ^ 1;
        if (sibling < levels_[level].size()) {
            proof.push_back(levels_[level][sibling]);
        }
        position >>= 1;
    }
}

std::vector<Hash256> MerkleTree::inclusion_proof(std::uint64_t index) const {
    std::vector<Hash256> proof;
    inclusion_proof(index, proof);
    return proof;
}

// SUBPROOF(old_size, D[begin:end], complete) of RFC 9162 §2.1.4.1, appended deepest first.
void MerkleTree::subproof(std::uint64_t old_size, std::uint64_t begin, std::uint64_t end,
                          bool complete, std::vector<Hash256>& proof) const {
    const std::uint64_t length = end - begin;
    if (old_size == length) {
        if (!complete) {
            proof.push_back(subtree_hash(begin, end));
        }
        return;
    }
    const std::uint64_t k = split_point(length);
    if (old_size <= k) {
        subproof(old_size, begin, begin + k, complete, proof);
        proof.push_back(subtree_hash(begin + k, end));
    } else {
        subproof(old_size - k, begin + k, end, false, proof);
        proof.push_back(subtree_hash(begin, begin + k));
    }
}

std::vector<Hash256> MerkleTree::consistency_proof(std::uint64_t old_size,
                                                   std::uint64_t new_size) const {
    if (new_size > size_) {
        throw Error::invalid("new_size", std::to_string(new_size),
                             "exceeds the tree's " + std::to_string(size_) + " leaves");
    }
    if (old_size > new_size) {
        throw Error::invalid("old_size", std::to_string(old_size),
                             "exceeds the new size " + std::to_string(new_size));
    }
    std::vector<Hash256> proof;
    if (old_size > 0 && old_size < new_size) {
        subproof(old_size, 0, new_size, true, proof);
    }
    return proof;
}

bool verify_inclusion(const Hash256& leaf_hash, std::uint64_t index, std::uint64_t tree_size,
                      std::span<const Hash256> proof, const Hash256& root) noexcept {
    if (index >= tree_size) {
        return false;
    }
    try {
        std::uint64_t fn = index;
        std::uint64_t sn = tree_size - 1;
        Hash256 r = leaf_hash;
        for (const Hash256& p : proof) {
            if (sn == 0) {
                return false;
            }
            if ((fn & 1) != 0 || fn == sn) {
                r = merkle_node_hash(p, r);
                if ((fn & 1) == 0) {
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = merkle_node_hash(r, p);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && r == root;
    } catch (...) {
        return false;
    }
}

bool verify_consistency(std::uint64_t old_size, std::uint64_t new_size, const Hash256& old_root,
                        const Hash256& new_root, std::span<const Hash256> proof) noexcept {
    if (old_size > new_size) {
        return false;
    }
    if (old_size == new_size) {
        return proof.empty() && old_root == new_root;
    }
    if (old_size == 0) {
        return proof.empty();
    }
    if (proof.empty()) {
        return false;
    }
    try {
        std::vector<Hash256> path;
        path.reserve(proof.size() + 1);
        if (std::has_single_bit(old_size)) {
            path.push_back(old_root);
        }
        path.insert(path.end(), proof.begin(), proof.end());
        std::uint64_t fn = old_size - 1;
        std::uint64_t sn = new_size - 1;
        while ((fn & 1) != 0) {
            fn >>= 1;
            sn >>= 1;
        }
        Hash256 fr = path.front();
        Hash256 sr = path.front();
        for (std::size_t i = 1; i < path.size(); ++i) {
            const Hash256& c = path[i];
            if (sn == 0) {
                return false;
            }
            if ((fn & 1) != 0 || fn == sn) {
                fr = merkle_node_hash(c, fr);
                sr = merkle_node_hash(c, sr);
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                sr = merkle_node_hash(sr, c);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return fr == old_root && sr == new_root && sn == 0;
    } catch (...) {
        return false;
    }
}

}  // namespace sihlicon::crypto
