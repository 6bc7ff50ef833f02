// SPDX-License-Identifier: Apache-2.0
//
// Money: an exact amount in one currency, held as an int64 count of the currency's minor unit
// (centimes for CHF, micro-dollars for USD). There is no floating point anywhere: amounts are
// parsed from and printed as exact decimal text, every arithmetic operation refuses to
// overflow, and splitting an amount uses largest-remainder allocation so that the parts always
// sum exactly to the whole.
//
// Thread safety: Currency and Money are immutable values (apart from assignment and the
// compound operators); distinct objects may be used from different threads freely.
#pragma once

#include <sihlicon/export.hpp>

#include <array>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon {

// A currency sihlicon can account in, with the number of decimal digits of its minor unit as
// sihlicon stores it. The supported currencies and their minor digits are:
//   CHF 2 (centimes), EUR 2, GBP 2, JPY 0, USD 6 (micro-dollars), USDC 6.
// USD deliberately uses 6 digits rather than ISO 4217's 2 so that per-job prices of fractions
// of a cent are exact. USDC (a stablecoin, not an ISO code) has 4 letters; the others have 3.
class SIHLICON_API Currency {
  public:
    // Returns the currency whose code is exactly `code` (upper case, e.g. "CHF").
    // Throws Error::invalid("currency", code, ...) if `code` is not 3 or 4 upper-case ASCII
    // letters or is not one of the supported currencies above.
    static Currency of(std::string_view code);

    // The upper-case code, e.g. "CHF". The view stays valid as long as this object.
    std::string_view code() const noexcept { return {code_.data(), code_length_}; }

    // Decimal digits of the minor unit: an amount of 1 minor unit is 10^-minor_digits().
    int minor_digits() const noexcept { return minor_digits_; }

    friend bool operator==(const Currency&, const Currency&) noexcept = default;

  private:
    Currency(std::string_view code, int minor_digits) noexcept;

    std::array<char, 4> code_{};
    std::uint8_t code_length_ = 0;
    std::uint8_t minor_digits_ = 0;
};

// Splits `total` into parts proportional to `weights` by largest remainder, exactly:
//   - the result has one part per weight and the parts sum exactly to `total`;
//   - each part is the exact share total * weights[i] / sum(weights) rounded down or up, so it
//     is within one unit of the exact share; a zero weight always gets 0;
//   - every part starts at the rounded-down share of |total|; the units left over go, one
//     each, to the parts with the largest remainders, ties to the lower index, so the result
//     is deterministic (100 split 1:1:1 is 34, 33, 33);
//   - a negative total is allocated as |total| and every part negated, so all parts are <= 0
//     (-100 split 1:1:1 is -34, -33, -33).
// Intermediate products use 128-bit integers, so any int64 total works with any weights
// whose sum fits int64.
// Throws Error::invalid("weights", ...) if a weight is negative, if all weights are zero (or
// there are none), or if the sum of the weights overflows int64.
SIHLICON_API std::vector<std::int64_t> allocate(std::int64_t total,
                                                std::span<const std::int64_t> weights);

class SIHLICON_API Money {
  public:
    // An amount of `minor_units` in `currency`, e.g. Money(150, Currency::of("CHF")) is
    // CHF 1.50.
    Money(std::int64_t minor_units, Currency currency) noexcept
        : minor_units_(minor_units), currency_(currency) {}

    // Returns an amount of zero in `currency`.
    static Money zero(Currency currency) noexcept { return Money(0, currency); }

    // Returns the amount written as the exact decimal `decimal` in major units of `currency`:
    // parse("0.10", USD) is 100000 micro-dollars. Grammar: an optional '-', one or more digits,
    // then optionally '.' and 1 to currency.minor_digits() digits ("1.5", "-0.05", "007"; for
    // JPY no point at all). Refused: "", "+1", " 1", "1.", ".5", "1e3", "--1", more fractional
    // digits than the currency has (even trailing zeros: "1.230" in CHF), values outside int64.
    // Throws Error::invalid(field, decimal, ...) on any of these.
    static Money parse(std::string_view decimal, Currency currency,
                       std::string_view field = "amount");

    std::int64_t minor_units() const noexcept { return minor_units_; }
    const Currency& currency() const noexcept { return currency_; }

    // Returns the exact amount in major units with exactly currency().minor_digits() fractional
    // digits and no currency code: "0.100000" (USD), "-1.50" (CHF), "1200" (JPY).
    // parse(to_decimal_string(), currency()) returns an equal Money.
    std::string to_decimal_string() const;

    // Returns to_decimal_string() followed by a space and the code: "1.50 CHF".
    std::string to_string() const;

    // Each arithmetic operation throws Error(invalid_argument) naming "currency" and both
    // codes if the operands' currencies differ, and Error(invalid_argument) naming the
    // operation if the result does not fit int64. On a throw the left operand is unchanged.
    Money& operator+=(const Money& other);
    Money& operator-=(const Money& other);
    // Throws Error(invalid_argument) if the negation overflows (INT64_MIN minor units).
    Money operator-() const;
    // Returns this amount times `factor`; throws Error(invalid_argument) on overflow.
    Money operator*(std::int64_t factor) const;

    friend Money operator+(Money left, const Money& right) { return left += right; }
    friend Money operator-(Money left, const Money& right) { return left -= right; }
    friend Money operator*(std::int64_t factor, const Money& money) { return money * factor; }

    // Equal when both the currency and the amount are equal; amounts in different currencies
    // are simply unequal.
    friend bool operator==(const Money&, const Money&) noexcept = default;

    // Orders amounts of the same currency. Throws Error(invalid_argument) naming "currency"
    // and both codes if the currencies differ: there is no order between CHF 1 and EUR 1.
    std::strong_ordering operator<=>(const Money& other) const;

    // Splits this amount by the rules of sihlicon::allocate(total, weights) above; every part
    // has this amount's currency. Throws what sihlicon::allocate throws.
    std::vector<Money> allocate(std::span<const std::int64_t> weights) const;

  private:
    // Throws Error(invalid_argument) naming "currency" if `other` has another currency.
    void require_same_currency(const Money& other, std::string_view operation) const;

    std::int64_t minor_units_;
    Currency currency_;
};

}  // namespace sihlicon
