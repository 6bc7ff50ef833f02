// SPDX-License-Identifier: Apache-2.0
#include <sihlicon/checked.hpp>
#include <sihlicon/energy.hpp>
#include <sihlicon/error.hpp>

#include <limits>

namespace sihlicon {
namespace {

__extension__ typedef __int128 Int128;

constexpr int kKilowattHourDigits = 6;  // 1 kWh = 10^6 mWh
constexpr std::int64_t kMillisecondsPerHour = 3'600'000;
constexpr std::int64_t kMilliwattHoursPerWattHour = 1'000;
constexpr std::int64_t kMilliwattHoursPerKilowattHour = 1'000'000;
constexpr std::int64_t kPartsPerMillion = 1'000'000;

// Returns numerator / denominator rounded half to even, as int64.
// REQUIRES: denominator > 0. Throws Error(invalid_argument) naming `operation` if the rounded
// quotient does not fit int64.
std::int64_t divide_half_to_even(Int128 numerator, std::int64_t denominator,
                                 std::string_view operation) {
    Int128 quotient = numerator / denominator;  // truncated toward zero
    const Int128 remainder = numerator % denominator;
    const Int128 twice_remainder = 2 * (remainder < 0 ? -remainder : remainder);
    const bool round_away =
        twice_remainder > denominator || (twice_remainder == denominator && quotient % 2 != 0);
    if (round_away) {
        quotient += numerator < 0 ? -1 : 1;
    }
    if (quotient > std::numeric_limits<std::int64_t>::max() ||
        quotient < std::numeric_limits<std::int64_t>::min()) {
        checked::throw_overflow(operation);
    }
    return static_cast<std::int64_t>(quotient);
}

void require_not_negative(std::int64_t value, std::string_view field) {
    if (value < 0) {
        throw Error::invalid(field, std::to_string(value), "must not be negative");
    }
}

}  // namespace

Energy Energy::watt_hours(std::int64_t wh) {
    return Energy(checked::multiply(wh, kMilliwattHoursPerWattHour, "watt-hour conversion"));
}

Energy Energy::kilowatt_hours(std::int64_t kwh) {
    return Energy(
        checked::multiply(kwh, kMilliwattHoursPerKilowattHour, "kilowatt-hour conversion"));
}

Energy Energy::parse_kwh(std::string_view text, std::string_view field) {
    return Energy(checked::parse_decimal(text, kKilowattHourDigits, field));
}

Energy Energy::from_power_and_duration(std::int64_t watts, std::int64_t duration_ms) {
    require_not_negative(watts, "watts");
    require_not_negative(duration_ms, "duration_ms");
    // mWh = W x ms x (1000 mWh / Wh) / (3'600'000 ms / h) = W x ms / 3600.
    constexpr std::int64_t kDivisor = kMillisecondsPerHour / kMilliwattHoursPerWattHour;
    return Energy(divide_half_to_even(Int128{watts} * duration_ms, kDivisor,
                                      "energy from power and duration"));
}

std::string Energy::to_kwh_string() const {
    return checked::format_decimal(mwh_, kKilowattHourDigits, true);
}

Energy Energy::scale_ppm(std::int64_t parts_per_million) const {
    require_not_negative(parts_per_million, "parts_per_million");
    return Energy(
        divide_half_to_even(Int128{mwh_} * parts_per_million, kPartsPerMillion, "energy scaling"));
}

Energy& Energy::operator+=(Energy other) {
    mwh_ = checked::add(mwh_, other.mwh_, "energy addition");
    return *this;
}

Energy& Energy::operator-=(Energy other) {
    mwh_ = checked::subtract(mwh_, other.mwh_, "energy subtraction");
    return *this;
}

Energy Energy::operator-() const {
    return Energy(checked::negate(mwh_, "energy negation"));
}

std::string_view to_string(EnergySource source) noexcept {
    switch (source) {
        case EnergySource::measured:
            return "measured";
        case EnergySource::modelled:
            return "modelled";
        case EnergySource::estimated:
            return "estimated";
    }
    return "unknown";
}

EnergySource parse_energy_source(std::string_view text, std::string_view field) {
    for (const auto source :
         {EnergySource::measured, EnergySource::modelled, EnergySource::estimated}) {
        if (to_string(source) == text) {
            return source;
        }
    }
    throw Error::invalid(field, text, "must be one of measured | modelled | estimated");
}

}  // namespace sihlicon
