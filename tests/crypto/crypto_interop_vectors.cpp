// SPDX-License-Identifier: Apache-2.0
//
// Prints, as JSON on stdout, what sihlicon's crypto layer computes for inputs it generates,
// for peer implementations to check (tests/interop/crypto_*.mjs with npm ethers and
// canonicalize, tests/interop/crypto_merkle_go with transparency-dev/merkle).
// Usage: crypto_interop_vectors ethereum|jcs|merkle
#include "crypto/jcs.hpp"

#include <sihlicon/crypto.hpp>

#include <boost/json.hpp>

#include <cmath>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace crypto = sihlicon::crypto;

namespace {

std::mt19937_64& generator() {
    static std::mt19937_64 instance(std::random_device{}());
    return instance;
}

std::vector<std::uint8_t> random_bytes(std::size_t size) {
    std::vector<std::uint8_t> bytes(size);
    for (auto& byte : bytes) {
        byte = static_cast<std::uint8_t>(generator()());
    }
    return bytes;
}

std::size_t random_below(std::size_t bound) {
    return static_cast<std::size_t>(generator()() % bound);
}

boost::json::array hex_array(const std::vector<crypto::Hash256>& hashes) {
    boost::json::array out;
    for (const auto& hash : hashes) {
        out.emplace_back(crypto::to_hex(hash));
    }
    return out;
}

boost::json::value ethereum() {
    boost::json::array keccak;
    for (std::size_t size : {0, 1, 31, 32, 33, 135, 136, 137, 200, 271, 272, 273, 1000}) {
        const auto input = random_bytes(size);
        keccak.push_back({{"input", crypto::to_prefixed_hex(input)},
                          {"hash", crypto::to_prefixed_hex(crypto::keccak256(input))}});
    }
    boost::json::array signatures;
    for (int i = 0; i < 50; ++i) {
        const auto key = crypto::PrivateKey::generate();
        // Arbitrary bytes (not necessarily UTF-8) and UTF-8 text, of lengths that cross the
        // decimal-length boundaries of the EIP-191 prefix (9/10, 99/100 bytes).
        std::vector<std::uint8_t> message;
        if (i % 2 == 0) {
            message = random_bytes(random_below(300));
        } else {
            const std::string text = "epoch " + std::to_string(i) + " \xe2\x99\xa5 " +
                                     std::string(random_below(120), 'x');
            message.assign(text.begin(), text.end());
        }
        const crypto::Signature signature = key.sign_message(message);
        signatures.push_back({{"key", key.to_hex()},
                              {"address", key.address().to_string()},
                              {"message", crypto::to_prefixed_hex(message)},
                              {"digest", crypto::to_prefixed_hex(crypto::hash_message(message))},
                              {"signature", signature.to_hex()}});
    }
    return {{"keccak", keccak}, {"signatures", signatures}};
}

boost::json::value jcs() {
    // JSON texts for canonicalize(JSON.parse(text)) to reproduce byte for byte.
    const std::vector<std::string> texts = {
        R"({"b":1,"a":2,"aa":3,"A":4,"":5,"a\u0000":6})",
        R"({"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7,"\uffff":8,"\ud800\udc00":9,"\ue000":10})",
        R"({"10":1,"9":2,"-1":3,"1e3":4,"01":5})",
        R"(["\u0000\u0001\u001f\u007f\u0080\u2028\u2029\ufeff","\"\\\/\b\f\n\r\t","\ud83d\ude00 é ü 漢字"])",
        R"({"nested":{"z":[{"y":null,"x":true,"w":false}],"a":{}},"empty":[],"s":""})",
        R"([0,-0,1,-1,9007199254740991,-9007199254740991,1.5,-1.5,0.1,0.2,0.30000000000000004])",
        R"([1e21,1e20,1e-6,1e-7,1.7976931348623157e308,5e-324,2.2250738585072014e-308,123.456e5,0.000001234])",
        R"([1E2,1e+2,1.0,100.000,-0.0,4.35,0.1e1,12345678901234567890.0])",
        R"({"job_id":"job-01JD3M5Q7X9K2W4V6T8R0P1N3B","price":{"amount":100000,"currency":"USD"},"worker":"wrk-01JD3M5Q7X9K2W4V6T8R0P1N3C","completed_at":1767225600000,"result_hash":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"})",
    };
    boost::json::array documents;
    for (const std::string& text : texts) {
        documents.push_back({{"input", text}, {"canonical", crypto::canonicalize_json(text)}});
    }
    // Random finite doubles given by their bits, so that no parser stands between the value
    // and the number formatter.
    boost::json::array numbers;
    for (int i = 0; i < 2000; ++i) {
        std::uint64_t bits = generator()();
        if (i % 4 == 1) {  // also values near the integers and decimal fractions people write
            const double near =
                static_cast<double>(static_cast<std::int64_t>(bits % 2000000) - 1000000) /
                static_cast<double>(1 + random_below(1000));
            std::memcpy(&bits, &near, sizeof bits);
        }
        double value = 0;
        std::memcpy(&value, &bits, sizeof value);
        if (!std::isfinite(value)) {
            continue;
        }
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(bits));
        numbers.push_back({{"bits", hex}, {"canonical", crypto::canonical_json(value)}});
    }
    return {{"documents", documents}, {"numbers", numbers}};
}

boost::json::value merkle() {
    std::vector<std::uint64_t> sizes;
    for (std::uint64_t size = 1; size <= 40; ++size) {
        sizes.push_back(size);
    }
    for (std::uint64_t size : {63, 64, 65, 127, 128, 129, 1000, 1025}) {
        sizes.push_back(size);
    }
    boost::json::array trees;
    for (const std::uint64_t size : sizes) {
        std::vector<std::vector<std::uint8_t>> leaves;
        std::vector<crypto::Hash256> leaf_hashes;
        boost::json::array leaf_texts;
        for (std::uint64_t i = 0; i < size; ++i) {
            leaves.push_back(random_bytes(random_below(64)));
            leaf_hashes.push_back(crypto::merkle_leaf_hash(leaves.back()));
            leaf_texts.emplace_back(crypto::to_hex(leaves.back()));
        }
        const crypto::MerkleTree tree(leaf_hashes);
        boost::json::array inclusion;
        for (std::uint64_t index = 0; index < size; ++index) {
            inclusion.emplace_back(hex_array(tree.inclusion_proof(index)));
        }
        boost::json::array consistency;  // from every earlier size (a sample in big trees)
        for (std::uint64_t old_size = 1; old_size < size; old_size += (size > 200 ? 37 : 1)) {
            consistency.push_back({{"old_size", old_size},
                                   {"old_root", crypto::to_hex(tree.root_at(old_size))},
                                   {"proof", hex_array(tree.consistency_proof(old_size, size))}});
        }
        trees.push_back({{"leaves", leaf_texts},
                         {"root", crypto::to_hex(tree.root())},
                         {"inclusion", inclusion},
                         {"consistency", consistency}});
    }
    return {{"trees", trees}};
}

}  // namespace

int main(int argc, char** argv) {
    const std::string what = argc == 2 ? argv[1] : "";
    boost::json::value out;
    if (what == "ethereum") {
        out = ethereum();
    } else if (what == "jcs") {
        out = jcs();
    } else if (what == "merkle") {
        out = merkle();
    } else {
        std::cerr << "usage: crypto_interop_vectors ethereum|jcs|merkle\n";
        return 2;
    }
    std::cout << boost::json::serialize(out) << "\n";
    return 0;
}
