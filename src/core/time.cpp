// SPDX-License-Identifier: Apache-2.0
#include <sihlicon/error.hpp>
#include <sihlicon/time.hpp>

namespace sihlicon {
namespace {

using std::chrono::days;
using std::chrono::milliseconds;
using std::chrono::sys_days;

// The instants to_iso8601 can show with four year digits: 0000-01-01 to 9999-12-31.
constexpr std::int64_t kFirstFormattableMs = -62'167'219'200'000;
constexpr std::int64_t kLastFormattableMs = 253'402'300'799'999;

// Reads an ISO 8601 date-time left to right; every read reports failure instead of throwing,
// so that parse_iso8601 builds one error message with the whole text.
class Reader {
  public:
    explicit Reader(std::string_view text) : text_(text) {}

    // Reads exactly `count` digits as a number.
    bool number(std::size_t count, int& out) {
        if (text_.size() - position_ < count) {
            return false;
        }
        out = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const char c = text_[position_ + i];
            if (c < '0' || c > '9') {
                return false;
            }
            out = out * 10 + (c - '0');
        }
        position_ += count;
        return true;
    }

    // Reads `expected` if it is the next character.
    bool literal(char expected) {
        if (position_ < text_.size() && text_[position_] == expected) {
            ++position_;
            return true;
        }
        return false;
    }

    // Reads 1 to 9 fraction digits and returns them as milliseconds, truncating the rest.
    bool fraction_ms(int& out) {
        out = 0;
        std::size_t count = 0;
        while (position_ < text_.size() && text_[position_] >= '0' && text_[position_] <= '9') {
            if (count < 3) {
                out = out * 10 + (text_[position_] - '0');
            }
            ++count;
            ++position_;
        }
        for (std::size_t padding = count; padding < 3; ++padding) {
            out *= 10;
        }
        return count >= 1 && count <= 9;
    }

    bool at_end() const { return position_ == text_.size(); }

  private:
    std::string_view text_;
    std::size_t position_ = 0;
};

struct DateTimeFields {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millisecond = 0;
    int offset_minutes = 0;  // east of UTC
};

// Reads "YYYY-MM-DDTHH:MM:SS".
bool read_date_time(Reader& reader, DateTimeFields& out) {
    return reader.number(4, out.year) && reader.literal('-') && reader.number(2, out.month) &&
           reader.literal('-') && reader.number(2, out.day) && reader.literal('T') &&
           reader.number(2, out.hour) && reader.literal(':') && reader.number(2, out.minute) &&
           reader.literal(':') && reader.number(2, out.second);
}

// Reads 'Z' or "+HH:MM" / "-HH:MM" into out.offset_minutes.
bool read_zone(Reader& reader, DateTimeFields& out) {
    if (reader.literal('Z')) {
        return true;
    }
    const bool east = reader.literal('+');
    if (!east && !reader.literal('-')) {
        return false;
    }
    int hours = 0;
    int minutes = 0;
    if (!reader.number(2, hours) || !reader.literal(':') || !reader.number(2, minutes) ||
        hours > 23 || minutes > 59) {
        return false;
    }
    out.offset_minutes = (east ? 1 : -1) * (hours * 60 + minutes);
    return true;
}

// Reads the whole text; false if it is not of the documented shape.
bool read_timestamp(std::string_view text, DateTimeFields& out) {
    Reader reader(text);
    if (!read_date_time(reader, out)) {
        return false;
    }
    if (reader.literal('.') && !reader.fraction_ms(out.millisecond)) {
        return false;
    }
    return read_zone(reader, out) && reader.at_end();
}

}  // namespace

std::string to_iso8601(Timestamp timestamp) {
    if (timestamp.ms() < kFirstFormattableMs || timestamp.ms() > kLastFormattableMs) {
        throw Error::invalid("timestamp", std::to_string(timestamp.ms()) + " ms",
                             "lies outside the years 0000 to 9999");
    }
    const auto time_point = timestamp.to_time_point();
    const auto day = std::chrono::floor<days>(time_point);
    const std::chrono::year_month_day date(day);
    const std::chrono::hh_mm_ss<milliseconds> time(time_point - day);
    // Digit by digit (snprintf was a visible part of every job record's serialisation); every
    // field is in range, the year by the check above.
    std::string text = "0000-00-00T00:00:00.000Z";
    const auto put = [&](std::size_t end, long long value, int digits) {
        for (int i = 0; i < digits; ++i) {
            text[end - static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
            value /= 10;
        }
    };
    put(3, static_cast<int>(date.year()), 4);
    put(6, static_cast<unsigned>(date.month()), 2);
    put(9, static_cast<unsigned>(date.day()), 2);
    put(12, time.hours().count(), 2);
    put(15, time.minutes().count(), 2);
    put(18, time.seconds().count(), 2);
    put(22, time.subseconds().count(), 3);
    return text;
}

Timestamp parse_iso8601(std::string_view text, std::string_view field) {
    DateTimeFields fields;
    if (!read_timestamp(text, fields)) {
        throw Error::invalid(field, text,
                             "is not an ISO 8601 date-time such as 2024-01-31T12:00:00.000Z");
    }
    const std::chrono::year_month_day date{std::chrono::year(fields.year),
                                           std::chrono::month(static_cast<unsigned>(fields.month)),
                                           std::chrono::day(static_cast<unsigned>(fields.day))};
    if (!date.ok()) {
        throw Error::invalid(field, text, "is not a date that exists");
    }
    if (fields.hour > 23 || fields.minute > 59 || fields.second > 59) {
        throw Error::invalid(field, text, "is not a time of day between 00:00:00 and 23:59:59");
    }
    const auto local = sys_days(date) + std::chrono::hours(fields.hour) +
                       std::chrono::minutes(fields.minute) + std::chrono::seconds(fields.second) +
                       milliseconds(fields.millisecond);
    const auto utc = local - std::chrono::minutes(fields.offset_minutes);
    if (utc.time_since_epoch().count() < 0) {
        throw Error::invalid(field, text, "is before 1970-01-01T00:00:00Z");
    }
    return Timestamp::from_time_point(utc);
}

Clock::~Clock() = default;

Timestamp SystemClock::now() const {
    return Timestamp::from_time_point(
        std::chrono::floor<milliseconds>(std::chrono::system_clock::now()));
}

Timestamp ManualClock::now() const {
    return Timestamp::from_ms(ms_.load());
}

void ManualClock::set(Timestamp timestamp) noexcept {
    ms_.store(timestamp.ms());
}

void ManualClock::advance(std::chrono::milliseconds duration) {
    std::int64_t current = ms_.load();
    while (!ms_.compare_exchange_weak(
        current, checked::add(current, duration.count(), "manual clock advance"))) {
    }
}

std::shared_ptr<Clock> system_clock() {
    static const std::shared_ptr<Clock> instance = std::make_shared<SystemClock>();
    return instance;
}

}  // namespace sihlicon
