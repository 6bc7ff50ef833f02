// SPDX-License-Identifier: Apache-2.0
#include "crypto/sha256_internal.hpp"

#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>

// The low-level SHA256_* functions are deprecated in OpenSSL 3.0 in favour of EVP, but remain
// supported through 3.x; sha256_concat uses them for speed (see sha256_internal.hpp).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <string>

namespace sihlicon::crypto {

namespace {

void check(int result, const char* what) {
    if (result != 1) {
        throw Error(ErrorCode::internal, std::string("OpenSSL ") + what + " failed");
    }
}

}  // namespace

namespace detail {

// Fetched once: an explicit fetch avoids OpenSSL's per-call provider lookup.
const EVP_MD* sha256_algorithm() {
    static EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (algorithm == nullptr) {
        throw Error(ErrorCode::internal, "OpenSSL has no SHA-256");
    }
    return algorithm;
}

Hash256 sha256_concat(std::span<const std::uint8_t> first, std::span<const std::uint8_t> second,
                      std::span<const std::uint8_t> third) noexcept {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, first.data(), first.size());
    SHA256_Update(&context, second.data(), second.size());
    SHA256_Update(&context, third.data(), third.size());
    Hash256 digest{};
    SHA256_Final(digest.data(), &context);
    return digest;
}

}  // namespace detail

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
    if (context_ == nullptr) {
        throw Error(ErrorCode::internal, "OpenSSL could not allocate a digest context");
    }
    try {
        check(EVP_DigestInit_ex2(context_, detail::sha256_algorithm(), nullptr), "SHA-256 init");
    } catch (...) {
        EVP_MD_CTX_free(context_);
        throw;
    }
}

Sha256::~Sha256() {
    EVP_MD_CTX_free(context_);
}

void Sha256::update(std::span<const std::uint8_t> bytes) {
    check(EVP_DigestUpdate(context_, bytes.data(), bytes.size()), "SHA-256 update");
}

void Sha256::update(std::string_view bytes) {
    check(EVP_DigestUpdate(context_, bytes.data(), bytes.size()), "SHA-256 update");
}

Hash256 Sha256::finish() {
    Hash256 digest{};
    unsigned int length = 0;
    check(EVP_DigestFinal_ex(context_, digest.data(), &length), "SHA-256 final");
    check(EVP_DigestInit_ex2(context_, detail::sha256_algorithm(), nullptr), "SHA-256 init");
    return digest;
}

Hash256 sha256(std::span<const std::uint8_t> bytes) {
    return detail::sha256_concat(bytes);
}

Hash256 sha256(std::string_view bytes) {
    return detail::sha256_concat(detail::as_bytes(bytes));
}

}  // namespace sihlicon::crypto
