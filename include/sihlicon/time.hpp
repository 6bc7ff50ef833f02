// SPDX-License-Identifier: Apache-2.0
//
// Time: instants as int64 milliseconds since the Unix epoch (UTC, leap seconds not counted,
// like std::chrono::system_clock), their ISO 8601 text form, and the injected Clock that every
// part of sihlicon asks for "now". Nothing in sihlicon reads the system time directly, so
// tests drive time with a ManualClock and never sleep.
//
// Thread safety: Timestamp is an immutable value. Every Clock may be called from any thread;
// ManualClock may be set and advanced while other threads read it.
#pragma once

#include <sihlicon/checked.hpp>
#include <sihlicon/export.hpp>

#include <atomic>
#include <chrono>
#include <compare>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sihlicon {

// An instant: milliseconds since 1970-01-01T00:00:00Z. Negative values (before 1970) are
// representable, but parse_iso8601 never produces them.
class Timestamp {
  public:
    // The Unix epoch, 1970-01-01T00:00:00.000Z.
    constexpr Timestamp() noexcept = default;

    // Returns the instant `ms` milliseconds after the Unix epoch. Never throws.
    static constexpr Timestamp from_ms(std::int64_t ms) noexcept { return Timestamp(ms); }

    // Returns the same instant as a std::chrono time point. Never throws.
    static constexpr Timestamp from_time_point(
        std::chrono::sys_time<std::chrono::milliseconds> time_point) noexcept {
        return Timestamp(time_point.time_since_epoch().count());
    }

    // Milliseconds since the Unix epoch.
    constexpr std::int64_t ms() const noexcept { return ms_; }

    // The same instant as a std::chrono time point.
    constexpr std::chrono::sys_time<std::chrono::milliseconds> to_time_point() const noexcept {
        return std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms_));
    }

    // The instant `duration` later (earlier if negative). Throws Error(invalid_argument) if the
    // result does not fit int64 milliseconds.
    Timestamp operator+(std::chrono::milliseconds duration) const {
        return Timestamp(checked::add(ms_, duration.count(), "timestamp addition"));
    }

    // The instant `duration` earlier. Throws Error(invalid_argument) if the result does not
    // fit int64 milliseconds.
    Timestamp operator-(std::chrono::milliseconds duration) const {
        return Timestamp(checked::subtract(ms_, duration.count(), "timestamp subtraction"));
    }

    // The time from `earlier` to this instant (negative if `earlier` is later). Throws
    // Error(invalid_argument) if the difference does not fit int64 milliseconds.
    std::chrono::milliseconds operator-(Timestamp earlier) const {
        return std::chrono::milliseconds(
            checked::subtract(ms_, earlier.ms_, "timestamp difference"));
    }

    Timestamp& operator+=(std::chrono::milliseconds duration) { return *this = *this + duration; }
    Timestamp& operator-=(std::chrono::milliseconds duration) { return *this = *this - duration; }

    friend constexpr bool operator==(Timestamp, Timestamp) noexcept = default;
    friend constexpr std::strong_ordering operator<=>(Timestamp, Timestamp) noexcept = default;

  private:
    constexpr explicit Timestamp(std::int64_t ms) noexcept : ms_(ms) {}

    std::int64_t ms_ = 0;
};

// Returns `timestamp` in UTC with milliseconds, always 24 characters:
// "2024-01-01T00:00:00.000Z". Throws Error::invalid("timestamp", ...) if the instant lies
// outside the years 0000 to 9999, which four year digits cannot show.
SIHLICON_API std::string to_iso8601(Timestamp timestamp);

// Parses an ISO 8601 / RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS", then optionally '.' and 1 to
// 9 fraction digits, then a required zone: 'Z' or an offset "+HH:MM" / "-HH:MM" (offset hours
// 00-23, minutes 00-59). Digits beyond milliseconds are truncated, not rounded
// ("...:00.9999Z" is 999 ms). Strict on purpose: 'T' and 'Z' upper case only, no space
// separator, no week or ordinal dates, no missing seconds or zone.
// Returns the instant; "2024-01-01T05:30:00+05:30" equals "2024-01-01T00:00:00Z".
// Throws Error::invalid(field, text, ...) for anything else, for a date that does not exist
// (month 1-12, day within the month, 29 February only in leap years), for a time outside
// 00:00:00-23:59:59 (a leap second 60 is refused), and for an instant before
// 1970-01-01T00:00:00Z.
SIHLICON_API Timestamp parse_iso8601(std::string_view text, std::string_view field = "timestamp");

// The source of "now" for everything in sihlicon. Implementations must be safe to call from
// any thread and must not throw.
class SIHLICON_API Clock {
  public:
    virtual ~Clock();

    // Returns the current instant.
    virtual Timestamp now() const = 0;
};

// The operating system's wall clock (std::chrono::system_clock). It can jump backwards when
// the system time is adjusted; code that needs order must tolerate that (IdGenerator does).
class SIHLICON_API SystemClock final : public Clock {
  public:
    Timestamp now() const override;
};

// A clock that moves only when told to, for tests and simulations. Thread-safe: set() and
// advance() are atomic with respect to now() and each other.
class SIHLICON_API ManualClock final : public Clock {
  public:
    explicit ManualClock(Timestamp start) noexcept : ms_(start.ms()) {}

    // Returns the instant last set (start, set() or advance()).
    Timestamp now() const override;

    // Moves the clock to `timestamp`, which may be earlier than now().
    void set(Timestamp timestamp) noexcept;

    // Moves the clock by `duration` (backwards if negative). Throws Error(invalid_argument),
    // leaving the clock unchanged, if the result does not fit int64 milliseconds.
    void advance(std::chrono::milliseconds duration);

  private:
    std::atomic<std::int64_t> ms_;
};

// Returns the process-wide SystemClock; every call returns the same shared instance.
SIHLICON_API std::shared_ptr<Clock> system_clock();

}  // namespace sihlicon
