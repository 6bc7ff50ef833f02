// SPDX-License-Identifier: Apache-2.0
#include <sihlicon/error.hpp>
#include <sihlicon/id.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <utility>

namespace sihlicon {
namespace {

// Crockford base32 in ASCII order, so byte order of the text equals numeric order.
constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::size_t kBodyLength = 26;
constexpr std::size_t kTimestampLength = 10;  // 50 bits, of which the top 2 are zero
constexpr std::size_t kMaxPrefixLength = 16;
constexpr std::int64_t kMaxTimestampMs = (std::int64_t{1} << 48) - 1;

using RandomBits = std::array<std::uint8_t, 10>;

bool is_valid_prefix(std::string_view prefix) noexcept {
    return !prefix.empty() && prefix.size() <= kMaxPrefixLength &&
           std::all_of(prefix.begin(), prefix.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// The value of one body character, or -1 if it is not in the alphabet.
int digit_value(char c) noexcept {
    const std::size_t position = kAlphabet.find(c);
    return position == std::string_view::npos ? -1 : static_cast<int>(position);
}

bool is_valid_body(std::string_view body) noexcept {
    return body.size() == kBodyLength && body.front() <= '7' &&
           std::all_of(body.begin(), body.end(), [](char c) { return digit_value(c) >= 0; });
}

// Appends `count` base32 characters of the low 5 x count bits of `value`, most significant
// first.
void append_base32(std::uint64_t value, std::size_t count, std::string& out) {
    for (std::size_t i = count; i-- > 0;) {
        out += kAlphabet[(value >> (5 * i)) & 31];
    }
}

// Appends the 16 characters of the 80 random bits, 40 bits (8 characters) at a time.
void append_random(const RandomBits& random, std::string& out) {
    for (std::size_t half = 0; half < 2; ++half) {
        std::uint64_t chunk = 0;
        for (std::size_t i = 0; i < 5; ++i) {
            chunk = (chunk << 8) | random[half * 5 + i];
        }
        append_base32(chunk, 8, out);
    }
}

void operating_system_random(std::span<std::uint8_t> out) {
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
        throw Error(ErrorCode::internal, "the random source failed to produce id bits");
    }
}

// Adds one to the big-endian 80-bit number; returns false if it wrapped around to zero.
bool increment(RandomBits& random) noexcept {
    for (std::size_t i = random.size(); i-- > 0;) {
        if (++random[i] != 0) {
            return true;
        }
    }
    return false;
}

void require_encodable(std::int64_t ms) {
    if (ms < 0 || ms > kMaxTimestampMs) {
        throw Error::invalid("clock", std::to_string(ms) + " ms",
                             "lies outside the 48-bit millisecond range of ids");
    }
}

}  // namespace

IdGenerator::IdGenerator(std::shared_ptr<const Clock> clock)
    : IdGenerator(std::move(clock), operating_system_random) {}

IdGenerator::IdGenerator(std::shared_ptr<const Clock> clock, RandomSource random_source)
    : clock_(std::move(clock)), random_source_(std::move(random_source)) {
    if (!clock_) {
        throw Error::invalid("clock", "null", "must not be null");
    }
    if (!random_source_) {
        throw Error::invalid("random_source", "null", "must not be null");
    }
}

std::string IdGenerator::next(std::string_view prefix) {
    if (!is_valid_prefix(prefix)) {
        throw Error::invalid("prefix", prefix, "must be 1 to 16 lower-case letters a-z");
    }
    const std::int64_t now_ms = clock_->now().ms();
    std::lock_guard lock(mutex_);
    step_to(now_ms);
    std::string id;
    id.reserve(prefix.size() + 1 + kBodyLength);
    id.append(prefix).append("-");
    append_base32(static_cast<std::uint64_t>(last_ms_), kTimestampLength, id);
    append_random(last_random_, id);
    return id;
}

void IdGenerator::step_to(std::int64_t now_ms) {
    if (!started_ || now_ms > last_ms_) {
        require_encodable(now_ms);
        RandomBits random{};
        random_source_(random);
        last_random_ = random;
        last_ms_ = now_ms;
        started_ = true;
        return;
    }
    RandomBits random = last_random_;
    if (!increment(random)) {
        require_encodable(last_ms_ + 1);
        ++last_ms_;
    }
    last_random_ = random;
}

bool is_valid_id(std::string_view id, std::string_view prefix) noexcept {
    return is_valid_prefix(prefix) && id.size() == prefix.size() + 1 + kBodyLength &&
           id.starts_with(prefix) && id[prefix.size()] == '-' &&
           is_valid_body(id.substr(prefix.size() + 1));
}

Timestamp id_timestamp(std::string_view id) {
    const std::size_t dash = id.find('-');
    if (dash == std::string_view::npos || !is_valid_id(id, id.substr(0, dash))) {
        throw Error::invalid("id", id, "is not an id such as job-01JD3M5Q7X9K2W4V6T8R0P1N3B");
    }
    std::int64_t ms = 0;
    for (const char c : id.substr(dash + 1, kTimestampLength)) {
        ms = ms * 32 + digit_value(c);
    }
    return Timestamp::from_ms(ms);
}

}  // namespace sihlicon
