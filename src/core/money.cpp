// SPDX-License-Identifier: Apache-2.0
#include <sihlicon/checked.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/money.hpp>

#include <algorithm>
#include <numeric>

namespace sihlicon {
namespace {

__extension__ typedef unsigned __int128 UInt128;

struct CurrencyInfo {
    std::string_view code;
    int minor_digits;
};

// The currencies sihlicon accounts in; DESIGN.md "Units and money".
constexpr std::array<CurrencyInfo, 6> kCurrencies{{
    {"CHF", 2},
    {"EUR", 2},
    {"GBP", 2},
    {"JPY", 0},
    {"USD", 6},
    {"USDC", 6},
}};

bool is_well_formed_code(std::string_view code) {
    return (code.size() == 3 || code.size() == 4) &&
           std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// Sums the weights, refusing negative weights, an all-zero vector and an int64 overflow.
std::int64_t total_weight(std::span<const std::int64_t> weights) {
    std::int64_t sum = 0;
    for (const std::int64_t weight : weights) {
        if (weight < 0) {
            throw Error::invalid("weights", std::to_string(weight), "must not be negative");
        }
        if (__builtin_add_overflow(sum, weight, &sum)) {
            throw Error::invalid("weights", std::to_string(weight),
                                 "sum overflows the signed 64-bit range");
        }
    }
    if (sum == 0) {
        throw Error::invalid("weights", std::to_string(weights.size()) + " weights",
                             "must contain at least one weight above zero");
    }
    return sum;
}

// Returns the magnitude of `value` as unsigned, exact even for INT64_MIN.
std::uint64_t magnitude(std::int64_t value) {
    return value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
}

}  // namespace

Currency::Currency(std::string_view code, int minor_digits) noexcept
    : code_length_(static_cast<std::uint8_t>(code.size())),
      minor_digits_(static_cast<std::uint8_t>(minor_digits)) {
    std::copy(code.begin(), code.end(), code_.begin());
}

Currency Currency::of(std::string_view code) {
    if (!is_well_formed_code(code)) {
        throw Error::invalid("currency", code, "is not a 3- or 4-letter upper-case currency code");
    }
    for (const CurrencyInfo& info : kCurrencies) {
        if (info.code == code) {
            return Currency(info.code, info.minor_digits);
        }
    }
    throw Error::invalid("currency", code,
                         "is not a supported currency (CHF, EUR, GBP, JPY, USD, USDC)");
}

std::vector<std::int64_t> allocate(std::int64_t total, std::span<const std::int64_t> weights) {
    const auto weight_sum = static_cast<std::uint64_t>(total_weight(weights));
    const std::uint64_t whole = magnitude(total);
    std::vector<std::uint64_t> parts(weights.size());
    std::vector<std::uint64_t> remainders(weights.size());
    std::uint64_t allocated = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        // whole * weight < 2^63 * 2^63 fits 128 bits; the quotient is <= whole.
        const UInt128 share = UInt128{whole} * static_cast<std::uint64_t>(weights[i]);
        parts[i] = static_cast<std::uint64_t>(share / weight_sum);
        remainders[i] = static_cast<std::uint64_t>(share % weight_sum);
        allocated += parts[i];
    }
    // The leftover is sum(remainders) / weight_sum, an integer smaller than the number of
    // non-zero remainders, so only parts with a fractional share (never a zero weight) gain.
    std::vector<std::size_t> order(weights.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return remainders[a] != remainders[b] ? remainders[a] > remainders[b] : a < b;
    });
    for (std::uint64_t k = 0; k < whole - allocated; ++k) {
        ++parts[order[k]];
    }
    std::vector<std::int64_t> result(weights.size());
    std::transform(parts.begin(), parts.end(), result.begin(), [&](std::uint64_t part) {
        // Modulo-2^64 conversion (C++20): exact for every part <= 2^63 of either sign.
        return static_cast<std::int64_t>(total < 0 ? 0 - part : part);
    });
    return result;
}

Money Money::parse(std::string_view decimal, Currency currency, std::string_view field) {
    return Money(checked::parse_decimal(decimal, currency.minor_digits(), field), currency);
}

std::string Money::to_decimal_string() const {
    return checked::format_decimal(minor_units_, currency_.minor_digits(), false);
}

std::string Money::to_string() const {
    return to_decimal_string().append(" ").append(currency_.code());
}

Money& Money::operator+=(const Money& other) {
    require_same_currency(other, "add");
    minor_units_ = checked::add(minor_units_, other.minor_units_, "money addition");
    return *this;
}

Money& Money::operator-=(const Money& other) {
    require_same_currency(other, "subtract");
    minor_units_ = checked::subtract(minor_units_, other.minor_units_, "money subtraction");
    return *this;
}

Money Money::operator-() const {
    return Money(checked::negate(minor_units_, "money negation"), currency_);
}

Money Money::operator*(std::int64_t factor) const {
    return Money(checked::multiply(minor_units_, factor, "money multiplication"), currency_);
}

std::strong_ordering Money::operator<=>(const Money& other) const {
    require_same_currency(other, "compare");
    return minor_units_ <=> other.minor_units_;
}

std::vector<Money> Money::allocate(std::span<const std::int64_t> weights) const {
    const std::vector<std::int64_t> units = sihlicon::allocate(minor_units_, weights);
    std::vector<Money> parts;
    parts.reserve(units.size());
    for (const std::int64_t unit : units) {
        parts.emplace_back(unit, currency_);
    }
    return parts;
}

void Money::require_same_currency(const Money& other, std::string_view operation) const {
    if (currency_ != other.currency_) {
        std::string message = "currency: cannot ";
        message.append(operation).append(" amounts in different currencies (");
        message.append(currency_.code()).append(" and ").append(other.currency_.code());
        message.append(")");
        throw Error(ErrorCode::invalid_argument, message, "currency");
    }
}

}  // namespace sihlicon
