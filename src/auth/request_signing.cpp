// SPDX-License-Identifier: Apache-2.0
//
// Signed requests (include/sihlicon/request_signing.hpp): the canonical message and the
// verifier with its replay memory.
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/request_signing.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <utility>

namespace sihlicon {

namespace {

SignatureCheck refused(std::string_view code, std::string reason, std::string_view field) {
    SignatureCheck check;
    check.code = std::string(code);
    check.reason = std::move(reason);
    check.field = std::string(field);
    return check;
}

bool is_lower_hex(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Unix seconds: 1..18 decimal digits (no sign, no space); nullopt otherwise.
std::optional<std::int64_t> seconds_of(std::string_view text) {
    if (text.empty() || text.size() > 18 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    if (std::from_chars(text.data(), text.data() + text.size(), value).ec != std::errc()) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::string canonical_request_message(std::string_view method, std::string_view target,
                                      std::string_view host, std::string_view timestamp,
                                      std::string_view content_sha256) {
    return fmt::format("sihlicon-request-v1\n{}\n{}\n{}\n{}\n{}", method, target, host, timestamp,
                       content_sha256);
}

RequestVerifier::RequestVerifier(const Hub& hub) : addresses_(hub), hub_(&hub) {}
RequestVerifier::~RequestVerifier() = default;

SignatureCheck RequestVerifier::check(std::string_view method, std::string_view target,
                                      const SignedHeaders& headers) {
    for (const auto& [value, name] : {std::pair{headers.address, kAddressHeader},
                                      std::pair{headers.timestamp, kTimestampHeader},
                                      std::pair{headers.content_sha256, kContentSha256Header},
                                      std::pair{headers.signature, kSignatureHeader}}) {
        if (value.empty()) {
            return refused("missing_header",
                           fmt::format("a signed request needs the header {}", name), name);
        }
    }
    std::optional<crypto::Address> address;
    std::optional<crypto::Signature> signature;
    try {
        address = crypto::Address::parse(headers.address, kAddressHeader);
        signature = crypto::Signature::parse(headers.signature, kSignatureHeader);
    } catch (const Error& error) {
        return refused("malformed", error.what(), error.field());
    }
    const auto seconds = seconds_of(headers.timestamp);
    if (!seconds) {
        return refused(
            "malformed",
            fmt::format("'{}' is not a Unix time in seconds", printable(headers.timestamp, 40)),
            kTimestampHeader);
    }
    const auto now = hub_->clock().now().ms() / 1000;
    const auto window = kReplayWindow.count();
    if (*seconds < now - window || *seconds > now + window) {
        return refused("outside_window",
                       fmt::format("the timestamp {} lies outside the replay window: the hub's "
                                   "clock reads {} (±{} s)",
                                   *seconds, now, window),
                       kTimestampHeader);
    }
    if (headers.content_sha256.size() != 64 || !is_lower_hex(headers.content_sha256)) {
        return refused("malformed",
                       fmt::format("'{}' is not 64 lowercase hex digits",
                                   printable(headers.content_sha256, 80)),
                       kContentSha256Header);
    }
    const auto message = canonical_request_message(method, target, headers.host, headers.timestamp,
                                                   headers.content_sha256);
    if (!crypto::verify_message(message, *signature, *address)) {
        return refused("bad_signature",
                       fmt::format("the signature is not {}'s over this request (method, "
                                   "target, host, timestamp and body digest)",
                                   address->to_string()),
                       kSignatureHeader);
    }
    auto identity = addresses_.identity_of(*address);
    if (!identity) {
        return refused("unknown_address",
                       fmt::format("the address {} is not registered (unknown or removed)",
                                   address->to_string()),
                       kAddressHeader);
    }
    const auto digest = crypto::sha256(std::span<const std::uint8_t>(signature->bytes()));
    {
        const std::lock_guard lock(mutex_);
        // Forget what the window no longer admits: its timestamp check refuses it now.
        while (!expiry_.empty() && expiry_.begin()->first < now) {
            seen_.erase(expiry_.begin()->second);
            expiry_.erase(expiry_.begin());
        }
        if (seen_.contains(digest)) {
            return refused("replayed", "the signature was already used (a replayed request)",
                           kSignatureHeader);
        }
        if (seen_.size() >= kMaxRemembered) {
            return refused("too_many", "too many signed requests in the replay window: retry later",
                           kSignatureHeader);
        }
        const auto forget_after = *seconds + window;
        seen_.emplace(digest, forget_after);
        expiry_.emplace(forget_after, digest);
    }
    SignatureCheck check;
    check.identity = std::move(identity);
    check.content_sha256 = std::string(headers.content_sha256);
    return check;
}

}  // namespace sihlicon
