// SPDX-License-Identifier: Apache-2.0
//
// The cryptography that settlement receipts and proofs of execution stand on, each piece the
// public standard named beside it so that any peer can check what sihlicon produces:
//   - SHA-256 and Keccak-256 (the Ethereum one, not SHA3-256), hex helpers;
//   - secp256k1 keys, EIP-55 addresses and EIP-191 personal_sign signatures (Ethereum's
//     `personal_sign`, checked by ethers' `verifyMessage`), and the Signer interface through
//     which a host supplies its own key (HSM, KMS);
//   - the RFC 9162 (RFC 6962 §2.1) Merkle tree: roots, inclusion and consistency proofs;
//   - RFC 8785 JSON canonicalization (JCS).
//
// Thread safety: the free functions are pure and may be called from any thread. Value types
// (Address, Signature, PrivateKey, MerkleTree) are immutable once built and may be shared
// between threads. A Sha256 or Keccak256 object is used by one thread at a time.
#pragma once

#include <sihlicon/export.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct evp_md_ctx_st;

namespace sihlicon::crypto {

// A 32-byte digest: SHA-256, Keccak-256, or a Merkle tree hash.
using Hash256 = std::array<std::uint8_t, 32>;

// ---- hex ---------------------------------------------------------------------------------

// Returns `bytes` as lowercase hex without a prefix ("00ff").
SIHLICON_API std::string to_hex(std::span<const std::uint8_t> bytes);

// Returns `bytes` as "0x" followed by lowercase hex.
SIHLICON_API std::string to_prefixed_hex(std::span<const std::uint8_t> bytes);

// Decodes hex with an optional "0x" prefix; either letter case is accepted.
// Throws Error::invalid(field, text, ...) on an odd number of digits or a non-hex character.
SIHLICON_API std::vector<std::uint8_t> from_hex(std::string_view field, std::string_view text);

// Decodes exactly 32 bytes of hex (64 digits, optional "0x" prefix).
// Throws Error::invalid(field, text, ...) otherwise.
SIHLICON_API Hash256 hash_from_hex(std::string_view field, std::string_view text);

// ---- hash functions ----------------------------------------------------------------------

// SHA-256 (FIPS 180-4) of `bytes`, through OpenSSL (SHA-NI where the CPU has it).
// Throws Error(internal) only if OpenSSL fails.
SIHLICON_API Hash256 sha256(std::span<const std::uint8_t> bytes);
SIHLICON_API Hash256 sha256(std::string_view bytes);

// Streaming SHA-256.
class SIHLICON_API Sha256 {
  public:
    // Throws Error(internal) if OpenSSL cannot allocate a context.
    Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    ~Sha256();

    void update(std::span<const std::uint8_t> bytes);
    void update(std::string_view bytes);
    // Returns the digest of everything given since construction or the last finish(), and
    // starts over.
    Hash256 finish();

  private:
    evp_md_ctx_st* context_;
};

// Keccak-256 as Ethereum uses it (original Keccak padding 0x01, rate 136 bytes): not the
// FIPS 202 SHA3-256, whose padding differs. keccak256("") = c5d24601…5d85a470.
SIHLICON_API Hash256 keccak256(std::span<const std::uint8_t> bytes);
SIHLICON_API Hash256 keccak256(std::string_view bytes);

// Streaming Keccak-256.
class SIHLICON_API Keccak256 {
  public:
    Keccak256() = default;

    void update(std::span<const std::uint8_t> bytes);
    void update(std::string_view bytes);
    // Returns the digest of everything given since construction or the last finish(), and
    // starts over.
    Hash256 finish();

  private:
    std::array<std::uint64_t, 25> state_{};
    std::size_t position_ = 0;  // bytes absorbed into the current 136-byte block
};

// ---- Ethereum addresses and EIP-191 signatures --------------------------------------------

// A 20-byte Ethereum address: the last 20 bytes of keccak256 of a 64-byte uncompressed
// secp256k1 public key.
class SIHLICON_API Address {
  public:
    using Bytes = std::array<std::uint8_t, 20>;

    explicit Address(const Bytes& bytes) : bytes_(bytes) {}

    // Parses "0x" followed by 40 hex digits. All-lowercase or all-uppercase digits are
    // accepted as they are; mixed case must be the EIP-55 checksum of the address.
    // Throws Error::invalid(field, text, ...) naming what is wrong (length, prefix, digit,
    // checksum).
    static Address parse(std::string_view text, std::string_view field = "address");

    // The address from a 64-byte uncompressed public key (x ‖ y, no 0x04 prefix).
    static Address from_public_key(std::span<const std::uint8_t, 64> public_key);

    // "0x" + 40 hex digits in EIP-55 mixed-case checksum form.
    std::string to_string() const;
    const Bytes& bytes() const noexcept { return bytes_; }

    friend bool operator==(const Address&, const Address&) = default;

  private:
    Bytes bytes_;
};

// A recoverable secp256k1 signature in Ethereum's 65-byte form r (32) ‖ s (32) ‖ v (1).
// A Signature always holds a well-formed value: 0 < r, s < n, s ≤ n/2 (low-s, as EIP-2
// requires) and v = 27 or 28. The recovery ids 0/1 and EIP-155 v values are refused, not
// normalised: personal_sign signatures carry 27/28 and a receipt must be byte-exact.
class SIHLICON_API Signature {
  public:
    using Bytes = std::array<std::uint8_t, 65>;

    // Checks the 65 bytes as described above.
    // Throws Error::invalid(field, ...) naming the part at fault: the length, "r", "s"
    // (zero, ≥ n, or high-s) or "v".
    static Signature from_bytes(std::span<const std::uint8_t> bytes,
                                std::string_view field = "signature");
    // Parses "0x" followed by 130 hex digits, then checks as from_bytes.
    static Signature parse(std::string_view text, std::string_view field = "signature");

    // "0x" + 130 lowercase hex digits.
    std::string to_hex() const;
    const Bytes& bytes() const noexcept { return bytes_; }

    friend bool operator==(const Signature&, const Signature&) = default;

  private:
    explicit Signature(const Bytes& bytes) : bytes_(bytes) {}
    Bytes bytes_;
};

// EIP-191 version 0x45 digest (ethers' hashMessage): keccak256("\x19Ethereum Signed
// Message:\n" ‖ decimal byte length of message ‖ message).
SIHLICON_API Hash256 hash_message(std::span<const std::uint8_t> message);
SIHLICON_API Hash256 hash_message(std::string_view message);

// The address whose key made `signature` over `message` (EIP-191).
// Throws Error::invalid(field "signature", ...) if no public key recovers from it.
SIHLICON_API Address recover_signer(std::span<const std::uint8_t> message,
                                    const Signature& signature);
SIHLICON_API Address recover_signer(std::string_view message, const Signature& signature);

// Returns true if `signature` over `message` was made by the key of `signer`; false
// otherwise (including a signature from which no key recovers). Never throws.
SIHLICON_API bool verify_message(std::span<const std::uint8_t> message, const Signature& signature,
                                 const Address& signer) noexcept;
SIHLICON_API bool verify_message(std::string_view message, const Signature& signature,
                                 const Address& signer) noexcept;

// A secp256k1 private key. Its bytes are wiped from memory when it is destroyed.
class SIHLICON_API PrivateKey {
  public:
    // A new key from the operating system's cryptographic random source (OpenSSL RAND_bytes),
    // drawn until it is a valid secp256k1 secret (0 < k < n).
    // Throws Error(internal) if the random source fails.
    static PrivateKey generate();

    // Parses 64 hex digits with an optional "0x" prefix.
    // Throws Error::invalid(field, ...) if the text is not 32 bytes of hex or not a valid
    // secret (zero or ≥ n). The error message never repeats the key's digits.
    static PrivateKey parse(std::string_view text, std::string_view field = "private_key");

    PrivateKey(const PrivateKey& other) = default;
    PrivateKey& operator=(const PrivateKey& other) = default;
    ~PrivateKey();

    // "0x" + 64 lowercase hex digits: the secret itself. Handle with care.
    std::string to_hex() const;

    // The 64-byte uncompressed public key x ‖ y (no 0x04 prefix).
    std::array<std::uint8_t, 64> public_key() const;
    Address address() const;

    // EIP-191 personal_sign: the 65-byte signature r ‖ s ‖ v (v 27 or 28) of
    // hash_message(message), low-s, with the RFC 6979 deterministic nonce, so the same key
    // and message always give the same signature.
    Signature sign_message(std::span<const std::uint8_t> message) const;
    Signature sign_message(std::string_view message) const;

  private:
    explicit PrivateKey(const std::array<std::uint8_t, 32>& secret) : secret_(secret) {}
    std::array<std::uint8_t, 32> secret_;
};

// Signs on behalf of one Ethereum address: the pluggable edge through which a host supplies
// its own key store (an HSM, a cloud KMS). Implementations must be safe to call from any
// thread and must return EIP-191 signatures that verify_message accepts for address().
class SIHLICON_API Signer {
  public:
    virtual ~Signer();
    // The address whose key signs. Must not change over the signer's lifetime.
    virtual Address address() const = 0;
    // The EIP-191 personal_sign signature of `message`. May throw sihlicon::Error.
    virtual Signature sign_message(std::span<const std::uint8_t> message) const = 0;
};

// The embedded Signer: a secp256k1 key held in this process.
class SIHLICON_API LocalKeySigner final : public Signer {
  public:
    explicit LocalKeySigner(PrivateKey key);

    // Loads a key file: one line, "0x" + 64 hex digits (a trailing newline is allowed).
    // Throws Error(not_found) if the file does not exist; Error(permission_denied) if group
    // or others may read or write it (its mode must be 0600 or stricter: `chmod 600 FILE`);
    // Error(io) if it cannot be read or is a symbolic link; Error::invalid("key_file", ...) if its
    // content is not a valid key (the message does not repeat the content).
    static LocalKeySigner load(const std::filesystem::path& key_file);

    // Loads `key_file` as load() does if it exists; otherwise generates a key and writes it
    // there with mode 0600 (written to a temporary file, fsynced, then linked into place so
    // a crash never leaves a partial key file and a concurrent creator's key is not
    // overwritten: the first one written wins and is the one returned). The directory must
    // exist. Throws as load() does, or Error(io) if the file cannot be written.
    static LocalKeySigner load_or_generate(const std::filesystem::path& key_file);

    // Writes `key` to `key_file` with mode 0600, replacing any file there: written to a
    // temporary file beside it, fsynced, then renamed into place (a crash leaves the old file
    // or the new one, never a partial one). Returns the signer of `key`. The directory must
    // exist. Throws Error(io) if the file cannot be written.
    static LocalKeySigner write(const std::filesystem::path& key_file, const PrivateKey& key);

    Address address() const override { return address_; }
    Signature sign_message(std::span<const std::uint8_t> message) const override;
    const PrivateKey& key() const noexcept { return key_; }

  private:
    PrivateKey key_;
    Address address_;
};

// ---- RFC 9162 Merkle tree -----------------------------------------------------------------

// SHA-256(0x00 ‖ data): the hash of a leaf.
SIHLICON_API Hash256 merkle_leaf_hash(std::span<const std::uint8_t> data);
SIHLICON_API Hash256 merkle_leaf_hash(std::string_view data);
// SHA-256(0x01 ‖ left ‖ right): the hash of an interior node.
SIHLICON_API Hash256 merkle_node_hash(const Hash256& left, const Hash256& right);

// The Merkle tree of RFC 9162 §2.1.1 over a list of leaf hashes, built once bottom-up
// (level 0 the leaf hashes; each level pairs neighbours, an unpaired last node is carried up
// unchanged, which is the same tree as RFC 9162's split at the largest power of two). Every
// root and proof below is read from the stored levels in O(log n) hash lookups.
class SIHLICON_API MerkleTree {
  public:
    // The empty tree: size 0, root SHA-256("").
    MerkleTree();
    // A tree over the given leaf hashes (each merkle_leaf_hash of a leaf's bytes). Levels of
    // 32,768 nodes or more are hashed on all hardware threads (a million leaves: about 0.3 s
    // on two cores).
    explicit MerkleTree(std::vector<Hash256> leaf_hashes);
    // A tree over the given leaves, hashing each with merkle_leaf_hash (in parallel, as
    // above).
    static MerkleTree from_leaves(std::span<const std::string> leaves);

    std::uint64_t size() const noexcept { return size_; }
    // MTH(D[0:n]) of all leaves.
    Hash256 root() const;
    // MTH(D[0:tree_size]): the root the tree had when it held its first tree_size leaves.
    // Throws Error::invalid("tree_size", ...) if tree_size > size().
    Hash256 root_at(std::uint64_t tree_size) const;
    // The hash of leaf `index`. Throws Error::invalid("index", ...) if index >= size().
    const Hash256& leaf_hash(std::uint64_t index) const;

    // PATH(index, D[0:tree_size]) (RFC 9162 §2.1.3.1), from the leaf's sibling upwards.
    // Throws Error::invalid("index" or "tree_size", ...) unless index < tree_size <= size().
    std::vector<Hash256> inclusion_proof(std::uint64_t index, std::uint64_t tree_size) const;
    // The same in the full tree, written into `proof` (cleared first) so that a caller
    // producing many proofs reuses one buffer.
    void inclusion_proof(std::uint64_t index, std::vector<Hash256>& proof) const;
    std::vector<Hash256> inclusion_proof(std::uint64_t index) const;

    // PROOF(old_size, D[0:new_size]) (RFC 9162 §2.1.4.1); empty when old_size is 0 or equal
    // to new_size. Throws Error::invalid("old_size" or "new_size", ...) unless
    // old_size <= new_size <= size().
    std::vector<Hash256> consistency_proof(std::uint64_t old_size, std::uint64_t new_size) const;

  private:
    Hash256 node(unsigned level, std::uint64_t index) const { return levels_[level][index]; }
    Hash256 subtree_hash(std::uint64_t begin, std::uint64_t end) const;
    void path(std::uint64_t index, std::uint64_t begin, std::uint64_t end,
              std::vector<Hash256>& proof) const;
    void subproof(std::uint64_t old_size, std::uint64_t begin, std::uint64_t end, bool complete,
                  std::vector<Hash256>& proof) const;

    std::uint64_t size_ = 0;
    std::vector<std::vector<Hash256>> levels_;  // levels_[0]: leaf hashes; back(): the root
};

// RFC 9162 §2.1.3.2: true if `proof` proves that `leaf_hash` is leaf `index` of the tree of
// `tree_size` leaves whose root is `root`. False for anything else, including index >=
// tree_size or a proof of the wrong length. Never throws.
SIHLICON_API bool verify_inclusion(const Hash256& leaf_hash, std::uint64_t index,
                                   std::uint64_t tree_size, std::span<const Hash256> proof,
                                   const Hash256& root) noexcept;

// RFC 9162 §2.1.4.2: true if `proof` proves that the tree of `old_size` leaves with root
// `old_root` is a prefix of the tree of `new_size` leaves with root `new_root`. When
// old_size == new_size the proof must be empty and the roots equal; old_size 0 is consistent
// with anything when the proof is empty. False otherwise. Never throws.
SIHLICON_API bool verify_consistency(std::uint64_t old_size, std::uint64_t new_size,
                                     const Hash256& old_root, const Hash256& new_root,
                                     std::span<const Hash256> proof) noexcept;

// ---- RFC 8785 JSON canonicalization -------------------------------------------------------

// The JCS form of the JSON text `json`: object members sorted by the UTF-16 code units of
// their names, no whitespace, strings escaped as ECMAScript's JSON.stringify does, numbers in
// ECMAScript Number-to-String form (shortest round-trip digits, e.g. 1e+21, 1e-7, 0.1).
// Integers are written exactly within the ECMAScript safe range ±(2^53 − 1); an integer
// outside it is refused rather than rounded (a JCS number is a double, which cannot carry it
// exactly, and a signed record must not silently change an amount). Numbers with a fraction
// or exponent are read as correctly rounded doubles, as JSON.parse does.
// Throws Error::invalid(field or field.path, ...) if `json` is not valid UTF-8 JSON, has a
// duplicate member name, a number outside the double range or an integer outside the safe
// range.
SIHLICON_API std::string canonicalize_json(std::string_view json, std::string_view field = "json");

}  // namespace sihlicon::crypto
