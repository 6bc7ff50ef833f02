// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>
#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>

#include <bit>
#include <string>
#include <vector>

namespace crypto = sihlicon::crypto;
using crypto::Hash256;
using sihlicon::Error;

namespace {

// The transparency-dev/merkle test leaves (testonly/constants.go).
std::vector<std::string> vector_leaves() {
    std::vector<std::string> leaves;
    for (const char* hex : {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                            "606162636465666768696a6b6c6d6e6f"}) {
        const auto bytes = crypto::from_hex("leaf", hex);
        leaves.emplace_back(bytes.begin(), bytes.end());
    }
    return leaves;
}

std::vector<std::string> hex_list(const std::vector<Hash256>& hashes) {
    std::vector<std::string> out;
    for (const Hash256& hash : hashes) {
        out.push_back(crypto::to_hex(hash));
    }
    return out;
}

std::vector<Hash256> numbered_leaf_hashes(std::size_t count) {
    std::vector<Hash256> hashes;
    for (std::size_t i = 0; i < count; ++i) {
        hashes.push_back(crypto::merkle_leaf_hash("leaf " + std::to_string(i)));
    }
    return hashes;
}

// RFC 9162 §2.1 written as literally as possible, as an independent reference.
Hash256 reference_root(std::span<const Hash256> leaves) {
    if (leaves.empty()) {
        return crypto::sha256(std::string_view());
    }
    if (leaves.size() == 1) {
        return leaves[0];
    }
    const std::size_t k = std::bit_floor(leaves.size() - 1);
    return crypto::merkle_node_hash(reference_root(leaves.subspan(0, k)),
                                    reference_root(leaves.subspan(k)));
}

std::vector<Hash256> reference_path(std::size_t m, std::span<const Hash256> leaves) {
    if (leaves.size() <= 1) {
        return {};
    }
    const std::size_t k = std::bit_floor(leaves.size() - 1);
    std::vector<Hash256> path;
    if (m < k) {
        path = reference_path(m, leaves.subspan(0, k));
        path.push_back(reference_root(leaves.subspan(k)));
    } else {
        path = reference_path(m - k, leaves.subspan(k));
        path.push_back(reference_root(leaves.subspan(0, k)));
    }
    return path;
}

std::vector<Hash256> reference_subproof(std::size_t m, std::span<const Hash256> leaves,
                                        bool complete) {
    const std::size_t n = leaves.size();
    if (m == n) {
        return complete ? std::vector<Hash256>{} : std::vector<Hash256>{reference_root(leaves)};
    }
    const std::size_t k = std::bit_floor(n - 1);
    std::vector<Hash256> proof;
    if (m <= k) {
        proof = reference_subproof(m, leaves.subspan(0, k), complete);
        proof.push_back(reference_root(leaves.subspan(k)));
    } else {
        proof = reference_subproof(m - k, leaves.subspan(k), false);
        proof.push_back(reference_root(leaves.subspan(0, k)));
    }
    return proof;
}

Hash256 flipped(Hash256 hash) {
    hash[0] ^= 0x01;
    return hash;
}

}  // namespace

TEST_CASE("roots of every prefix of the transparency-dev leaves match the published hashes") {
    const std::vector<std::string> expected = {
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    };
    const std::vector<std::string> leaves = vector_leaves();
    const crypto::MerkleTree full = crypto::MerkleTree::from_leaves(leaves);
    for (std::size_t size = 0; size <= leaves.size(); ++size) {
        CAPTURE(size);
        const auto tree = crypto::MerkleTree::from_leaves(std::span(leaves.data(), size));
        CHECK(crypto::to_hex(tree.root()) == expected[size]);
        CHECK(crypto::to_hex(full.root_at(size)) == expected[size]);
    }
    CHECK(crypto::to_hex(crypto::MerkleTree().root()) == expected[0]);
}

TEST_CASE("proofs in the 8-leaf transparency-dev tree match the published node hashes") {
    const auto tree = crypto::MerkleTree::from_leaves(vector_leaves());
    CHECK(hex_list(tree.inclusion_proof(0)) ==
          std::vector<std::string>{
              "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"});
    CHECK(hex_list(tree.consistency_proof(6, 8)) ==
          std::vector<std::string>{
              "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
              "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"});
    CHECK(hex_list(tree.consistency_proof(2, 5)) ==
          std::vector<std::string>{
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"});
    CHECK(tree.consistency_proof(0, 8).empty());
    CHECK(tree.consistency_proof(8, 8).empty());
}

TEST_CASE("every inclusion proof of trees up to 300 leaves verifies and fails when altered") {
    const std::vector<Hash256> all = numbered_leaf_hashes(300);
    const Hash256 other_leaf = crypto::merkle_leaf_hash("not a leaf");
    std::vector<Hash256> proof;
    for (std::size_t size = 1; size <= all.size(); ++size) {
        const crypto::MerkleTree tree(std::vector<Hash256>(all.begin(), all.begin() + size));
        const Hash256 root = tree.root();
        REQUIRE(root == reference_root(std::span(all.data(), size)));
        for (std::uint64_t index = 0; index < size; ++index) {
            tree.inclusion_proof(index, proof);
            const Hash256& leaf = all[index];
            if (size <= 64 || index % 7 == 0) {
                REQUIRE(proof == reference_path(index, std::span(all.data(), size)));
            }
            REQUIRE(crypto::verify_inclusion(leaf, index, size, proof, root));
            // The leaf, its index and the root are bound by the proof.
            CHECK_FALSE(crypto::verify_inclusion(other_leaf, index, size, proof, root));
            CHECK_FALSE(crypto::verify_inclusion(leaf, index, size, proof, flipped(root)));
            CHECK_FALSE(crypto::verify_inclusion(leaf, index + 1, size, proof, root));
            if (index > 0) {
                CHECK_FALSE(crypto::verify_inclusion(leaf, index - 1, size, proof, root));
            }
            // The tree size is bound by the signed root that names it, not by the path alone:
            // a neighbouring size can give the path the same shape (leaf 0 of 3 and of 4 both
            // hash left, left). A size whose tree is deeper never does.
            CHECK_FALSE(crypto::verify_inclusion(leaf, index, size * 2, proof, root));
            CHECK_FALSE(crypto::verify_inclusion(leaf, index, size * 4 + 3, proof, root));
            for (std::size_t element = 0; element < proof.size(); ++element) {
                std::vector<Hash256> altered = proof;
                altered[element] = flipped(altered[element]);
                CHECK_FALSE(crypto::verify_inclusion(leaf, index, size, altered, root));
            }
            std::vector<Hash256> longer = proof;
            longer.push_back(root);
            CHECK_FALSE(crypto::verify_inclusion(leaf, index, size, longer, root));
            if (!proof.empty()) {
                const std::span<const Hash256> shorter(proof.data(), proof.size() - 1);
                CHECK_FALSE(crypto::verify_inclusion(leaf, index, size, shorter, root));
            }
        }
    }
}

TEST_CASE("inclusion proofs in earlier tree sizes come from the one full tree") {
    const std::vector<Hash256> all = numbered_leaf_hashes(100);
    const crypto::MerkleTree tree(all);
    for (std::uint64_t size = 1; size <= 100; ++size) {
        const Hash256 root = tree.root_at(size);
        CHECK(root == reference_root(std::span(all.data(), size)));
        for (std::uint64_t index = 0; index < size; ++index) {
            const auto proof = tree.inclusion_proof(index, size);
            REQUIRE(proof == reference_path(index, std::span(all.data(), size)));
            CHECK(crypto::verify_inclusion(all[index], index, size, proof, root));
        }
    }
}

TEST_CASE("consistency proofs between all pairs of sizes up to 64 verify and fail when altered") {
    const std::vector<Hash256> all = numbered_leaf_hashes(64);
    const crypto::MerkleTree tree(all);
    for (std::uint64_t new_size = 0; new_size <= 64; ++new_size) {
        const crypto::MerkleTree exact(std::vector<Hash256>(all.begin(), all.begin() + new_size));
        const Hash256 new_root = tree.root_at(new_size);
        for (std::uint64_t old_size = 0; old_size <= new_size; ++old_size) {
            CAPTURE(old_size);
            CAPTURE(new_size);
            const Hash256 old_root = tree.root_at(old_size);
            const auto proof = tree.consistency_proof(old_size, new_size);
            if (old_size > 0 && old_size < new_size) {
                REQUIRE(proof ==
                        reference_subproof(old_size, std::span(all.data(), new_size), true));
            }
            REQUIRE(proof == exact.consistency_proof(old_size, new_size));
            REQUIRE(crypto::verify_consistency(old_size, new_size, old_root, new_root, proof));
            if (old_size == 0) {
                continue;  // the empty tree is a prefix of every tree
            }
            CHECK_FALSE(
                crypto::verify_consistency(old_size, new_size, flipped(old_root), new_root, proof));
            CHECK_FALSE(
                crypto::verify_consistency(old_size, new_size, old_root, flipped(new_root), proof));
            if (old_size < new_size) {
                CHECK_FALSE(
                    crypto::verify_consistency(old_size + 1, new_size, old_root, new_root, proof));
                CHECK_FALSE(
                    crypto::verify_consistency(old_size, new_size * 2, old_root, new_root, proof));
                CHECK_FALSE(
                    crypto::verify_consistency(old_size - 1, new_size, old_root, new_root, proof));
                CHECK_FALSE(crypto::verify_consistency(old_size, new_size, old_root, new_root, {}));
            }
            for (std::size_t element = 0; element < proof.size(); ++element) {
                auto altered = proof;
                altered[element] = flipped(altered[element]);
                CHECK_FALSE(
                    crypto::verify_consistency(old_size, new_size, old_root, new_root, altered));
            }
        }
    }
    CHECK_FALSE(crypto::verify_consistency(5, 4, tree.root_at(5), tree.root_at(4), {}));
}

TEST_CASE("out-of-range tree queries are refused naming the argument") {
    const crypto::MerkleTree tree(numbered_leaf_hashes(5));
    const auto field_of = [](auto action) {
        try {
            action();
        } catch (const Error& error) {
            return error.field();
        }
        return std::string("(nothing thrown)");
    };
    CHECK(field_of([&] { tree.inclusion_proof(5); }) == "index");
    CHECK(field_of([&] { tree.inclusion_proof(3, 3); }) == "index");
    CHECK(field_of([&] { tree.inclusion_proof(0, 6); }) == "tree_size");
    CHECK(field_of([&] { tree.root_at(6); }) == "tree_size");
    CHECK(field_of([&] { tree.consistency_proof(3, 6); }) == "new_size");
    CHECK(field_of([&] { tree.consistency_proof(4, 3); }) == "old_size");
    CHECK(field_of([&] { tree.leaf_hash(5); }) == "index");
    CHECK_FALSE(crypto::verify_inclusion(tree.leaf_hash(0), 0, 0, {}, tree.root()));
}
