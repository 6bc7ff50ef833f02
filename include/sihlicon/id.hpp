// SPDX-License-Identifier: Apache-2.0
//
// Identifiers: sortable, globally unique ids of the form "<prefix>-<body>", e.g.
// "job-01JD3M5Q7X9K2W4V6T8R0P1N3B". The prefix (1 to 16 letters a-z) says what the id names.
// The 26-character body is a ULID: Crockford base32 (0-9 and A-Z without I, L, O, U) of a
// 48-bit millisecond Unix timestamp followed by 80 random bits. Because the alphabet is in
// ASCII order, comparing the bytes of two ids with the same prefix orders them by creation
// time.
//
// Thread safety: IdGenerator may be shared by any number of threads. The free functions are
// pure.
#pragma once

#include <sihlicon/export.hpp>
#include <sihlicon/time.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

namespace sihlicon {

// Generates ids whose bodies strictly increase, call after call, for the generator's lifetime
// (so ids with the same prefix strictly increase in byte order). When the clock has not moved
// past the last id's millisecond (within one millisecond, or after the clock went backwards)
// the last timestamp is reused and the 80-bit random part incremented by one; if that
// overflows, the timestamp part advances by one millisecond instead.
class SIHLICON_API IdGenerator {
  public:
    // Fills its argument with random bytes; may throw sihlicon::Error. The generator calls it
    // with its lock held, so it need not be thread-safe.
    using RandomSource = std::function<void(std::span<std::uint8_t> out)>;

    // Creates a generator reading time from `clock` and random bits from the operating
    // system's cryptographic random source (OpenSSL RAND_bytes).
    // Throws Error::invalid("clock", ...) if `clock` is null.
    explicit IdGenerator(std::shared_ptr<const Clock> clock);

    // Creates a generator reading time from `clock` and random bits from `random_source`, for
    // reproducible simulations and tests. Ids are only as unique as the random source.
    // Throws Error::invalid("clock" or "random_source", ...) if either is null.
    IdGenerator(std::shared_ptr<const Clock> clock, RandomSource random_source);

    // Returns a new id "<prefix>-<26 characters>".
    // Throws Error::invalid("prefix", prefix, ...) unless prefix is 1 to 16 letters a-z;
    // Error::invalid("clock", ...) if the clock reads before 1970 or after the 48-bit
    // millisecond range (year 10889); Error(internal) if the operating system's random source
    // fails, or whatever a custom random source throws. On a throw no state changes.
    std::string next(std::string_view prefix);

  private:
    // Moves the state to the next id: a fresh random part if the clock passed the last id's
    // millisecond, else the last one plus one. On a throw the state is unchanged.
    // REQUIRES: mutex_ is held.
    void step_to(std::int64_t now_ms);

    std::shared_ptr<const Clock> clock_;
    RandomSource random_source_;
    std::mutex mutex_;
    bool started_ = false;                        // GUARDED_BY(mutex_)
    std::int64_t last_ms_ = 0;                    // GUARDED_BY(mutex_)
    std::array<std::uint8_t, 10> last_random_{};  // GUARDED_BY(mutex_), big-endian 80 bits
};

// Returns true if `id` is "<prefix>-" followed by a well-formed body: 26 characters of the
// upper-case Crockford alphabet whose first character is at most '7' (a larger one would
// encode more than 128 bits). Returns false for anything else, including an invalid prefix.
// Never throws.
SIHLICON_API bool is_valid_id(std::string_view id, std::string_view prefix) noexcept;

// Returns the creation instant encoded in the body of `id` (any valid prefix).
// Throws Error::invalid("id", id, ...) unless id is "<1-16 letters a-z>-<well-formed body>".
SIHLICON_API Timestamp id_timestamp(std::string_view id);

}  // namespace sihlicon
