// SPDX-License-Identifier: Apache-2.0
//
// Energy: an exact amount of electrical or thermal energy, held as an int64 count of
// milliwatt-hours (mWh, watt-hours x 1000). int64 mWh spans about ±9.2 TWh, far beyond any
// hub. There is no floating point: amounts are parsed from and printed as exact decimal kWh,
// every operation refuses to overflow, and the two operations that must round (efficiency
// scaling, power x time) round half to even.
//
// Thread safety: Energy is an immutable value (apart from assignment and the compound
// operators); distinct objects may be used from different threads freely.
#pragma once

#include <sihlicon/export.hpp>

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace sihlicon {

class SIHLICON_API Energy {
  public:
    // Zero energy.
    constexpr Energy() noexcept = default;

    // Returns `mwh` milliwatt-hours. Never throws.
    static constexpr Energy milliwatt_hours(std::int64_t mwh) noexcept { return Energy(mwh); }

    // Returns `wh` watt-hours. Throws Error(invalid_argument) if wh x 1000 overflows int64.
    static Energy watt_hours(std::int64_t wh);

    // Returns `kwh` kilowatt-hours. Throws Error(invalid_argument) if kwh x 1'000'000
    // overflows int64.
    static Energy kilowatt_hours(std::int64_t kwh);

    // Returns the energy written as exact decimal kilowatt-hours: "1.5" is 1'500'000 mWh,
    // "0.000001" is 1 mWh. Grammar: an optional '-', one or more digits, then optionally '.'
    // and 1 to 6 digits. Refused: "", "+1", " 1", "1.", ".5", "1e3", more than 6 fractional
    // digits (even trailing zeros), values outside int64 mWh.
    // Throws Error::invalid(field, text, ...) on any of these.
    static Energy parse_kwh(std::string_view text, std::string_view field = "energy");

    // Returns the energy drawn by a constant `watts` over `duration_ms` milliseconds:
    // watts x duration_ms / 3600 mWh, rounded half to even (1 W for 1.8 s is 0.5 mWh -> 0;
    // for 5.4 s it is 1.5 mWh -> 2). The product is computed in 128 bits.
    // Throws Error::invalid("watts" or "duration_ms", ...) if either is negative, and
    // Error(invalid_argument) if the result overflows int64.
    static Energy from_power_and_duration(std::int64_t watts, std::int64_t duration_ms);

    // The amount in milliwatt-hours.
    constexpr std::int64_t mwh() const noexcept { return mwh_; }

    // Returns the exact amount in kWh with the fewest fractional digits that are exact: no
    // trailing zeros, and no point at all for whole kWh ("1.5", "0.000001", "-2", "0").
    // parse_kwh(to_kwh_string()) returns an equal Energy.
    std::string to_kwh_string() const;

    // Returns this energy x parts_per_million / 1'000'000 mWh, rounded half to even, e.g. the
    // heat recovered at an efficiency of 920'000 ppm (92 %). Factors above 1'000'000 (a heat
    // pump's gain) are allowed. The product is computed in 128 bits.
    // Throws Error::invalid("parts_per_million", ...) if parts_per_million is negative and
    // Error(invalid_argument) if the result overflows int64.
    Energy scale_ppm(std::int64_t parts_per_million) const;

    // Each operation throws Error(invalid_argument) naming the operation if the result does
    // not fit int64; on a throw the left operand is unchanged.
    Energy& operator+=(Energy other);
    Energy& operator-=(Energy other);
    Energy operator-() const;
    friend Energy operator+(Energy left, Energy right) { return left += right; }
    friend Energy operator-(Energy left, Energy right) { return left -= right; }

    friend constexpr bool operator==(Energy, Energy) noexcept = default;
    friend constexpr std::strong_ordering operator<=>(Energy, Energy) noexcept = default;

  private:
    constexpr explicit Energy(std::int64_t mwh) noexcept : mwh_(mwh) {}

    std::int64_t mwh_ = 0;
};

// Where an energy figure comes from: read from a meter or RAPL counters (measured), computed
// from a declared power model (modelled), or given without either (estimated).
enum class EnergySource { measured, modelled, estimated };

// "measured", "modelled", "estimated".
SIHLICON_API std::string_view to_string(EnergySource source) noexcept;
// Parses a name produced by to_string(EnergySource); throws Error::invalid(field, text, ...).
SIHLICON_API EnergySource parse_energy_source(std::string_view text,
                                              std::string_view field = "energySource");

}  // namespace sihlicon
