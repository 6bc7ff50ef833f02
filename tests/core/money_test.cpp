// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>
#include <sihlicon/error.hpp>
#include <sihlicon/money.hpp>

#include <cstdint>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

using sihlicon::Currency;
using sihlicon::Error;
using sihlicon::ErrorCode;
using sihlicon::Money;

namespace {

__extension__ typedef __int128 Int128;

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

// Runs `action`, which must throw sihlicon::Error, and returns the error.
template <typename Action>
Error error_of(Action&& action) {
    try {
        action();
    } catch (const Error& error) {
        return error;
    }
    FAIL("expected sihlicon::Error");
    return Error(ErrorCode::internal, "unreachable");
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

const Currency chf = Currency::of("CHF");
const Currency eur = Currency::of("EUR");
const Currency usd = Currency::of("USD");
const Currency jpy = Currency::of("JPY");

}  // namespace

TEST_CASE("each supported currency carries sihlicon's minor-unit scale") {
    CHECK(chf.code() == "CHF");
    CHECK(chf.minor_digits() == 2);
    CHECK(eur.minor_digits() == 2);
    CHECK(Currency::of("GBP").minor_digits() == 2);
    CHECK(jpy.minor_digits() == 0);
    CHECK(usd.minor_digits() == 6);
    CHECK(Currency::of("USDC").code() == "USDC");
    CHECK(Currency::of("USDC").minor_digits() == 6);
    CHECK(Currency::of("CHF") == chf);
    CHECK(chf != eur);
    CHECK(Currency::of("USD") != Currency::of("USDC"));
}

TEST_CASE("an unknown or malformed currency code is refused naming the currency field") {
    for (const char* code : {"chf", "Chf", "XXX", "", "US", "USDCX", "CH1", " CHF", "BTC"}) {
        CAPTURE(code);
        const Error error = error_of([&] { Currency::of(code); });
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "currency");
    }
}

TEST_CASE("amounts in one currency add, subtract, negate and multiply exactly") {
    const Money a(150, chf);
    const Money b(-25, chf);
    CHECK(a + b == Money(125, chf));
    CHECK(a - b == Money(175, chf));
    CHECK(-a == Money(-150, chf));
    CHECK(a * 3 == Money(450, chf));
    CHECK(-2 * a == Money(-300, chf));
    CHECK(Money::zero(usd) == Money(0, usd));
    Money total = Money::zero(chf);
    total += a;
    total += a;
    total -= b;
    CHECK(total == Money(325, chf));
    CHECK(total.currency() == chf);
}

TEST_CASE("arithmetic beyond the int64 range is refused and leaves the amount unchanged") {
    Money max(kMax, eur);
    const Error error = error_of([&] { max += Money(1, eur); });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(contains(error.what(), "money addition"));
    CHECK(max.minor_units() == kMax);

    Money min(kMin, eur);
    CHECK(contains(error_of([&] { min -= Money(1, eur); }).what(), "money subtraction"));
    CHECK(min.minor_units() == kMin);
    CHECK(contains(error_of([&] { (void)-min; }).what(), "money negation"));
    CHECK(contains(error_of([&] { (void)(max * 2); }).what(), "money multiplication"));
    CHECK_THROWS_AS((void)(min * -1), Error);
    CHECK_THROWS_AS((void)(Money(kMax / 2 + 1, eur) * 2), Error);

    CHECK((Money(kMax, eur) + Money(kMin, eur)).minor_units() == -1);
    CHECK((Money(kMax / 2, eur) * 2).minor_units() == kMax - 1);
    CHECK((-Money(kMax, eur)).minor_units() == kMin + 1);
}

TEST_CASE("adding money in different currencies is refused") {
    Money francs(100, chf);
    const Error error = error_of([&] { francs += Money(100, eur); });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(error.field() == "currency");
    CHECK(contains(error.what(), "CHF"));
    CHECK(contains(error.what(), "EUR"));
    CHECK(francs == Money(100, chf));
    CHECK_THROWS_AS((void)(Money(1, chf) + Money(1, eur)), Error);
    CHECK_THROWS_AS((void)(Money(1, chf) - Money(1, eur)), Error);
}

TEST_CASE("amounts in different currencies are unequal and cannot be ordered") {
    CHECK(Money(100, chf) != Money(100, eur));
    CHECK_FALSE(Money(100, chf) == Money(100, eur));
    const Error error = error_of([] { (void)(Money(1, chf) < Money(2, eur)); });
    CHECK(error.field() == "currency");
    CHECK(contains(error.what(), "CHF"));
    CHECK(contains(error.what(), "EUR"));
    CHECK_THROWS_AS((void)(Money(1, chf) >= Money(2, eur)), Error);
}

TEST_CASE("amounts in one currency are ordered by value") {
    CHECK(Money(-1, chf) < Money(0, chf));
    CHECK(Money(5, chf) <= Money(5, chf));
    CHECK(Money(kMax, chf) > Money(kMin, chf));
    CHECK(Money(7, chf) >= Money(6, chf));
}

TEST_CASE("a decimal amount parses exactly into minor units") {
    CHECK(Money::parse("0.10", usd).minor_units() == 100'000);
    CHECK(Money::parse("1.5", chf).minor_units() == 150);
    CHECK(Money::parse("1.50", chf).minor_units() == 150);
    CHECK(Money::parse("-0.05", chf).minor_units() == -5);
    CHECK(Money::parse("007", chf).minor_units() == 700);
    CHECK(Money::parse("-0", chf).minor_units() == 0);
    CHECK(Money::parse("1200", jpy).minor_units() == 1200);
    CHECK(Money::parse("0.000001", usd).minor_units() == 1);
    CHECK(Money::parse("92233720368547758.07", chf).minor_units() == kMax);
    CHECK(Money::parse("-92233720368547758.08", chf).minor_units() == kMin);
    CHECK(Money::parse("9223372036854775807", jpy).minor_units() == kMax);
    CHECK(Money::parse("3", eur).currency() == eur);
}

TEST_CASE("a decimal amount that is not a plain exact number is refused") {
    for (const char* text : {"", "-", "1.", ".5", "-.5", "abc", "--1", "+1", " 1", "1 ", "1,50",
                             "1e3", "1.2.3", "0x10", "1.-5", "1_000"}) {
        CAPTURE(text);
        const Error error = error_of([&] { Money::parse(text, chf); });
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "amount");
    }
    CHECK(error_of([] { Money::parse("x", chf, "price"); }).field() == "price");
}

TEST_CASE("more fractional digits than the currency has are refused, even zeros") {
    CHECK_THROWS_AS(Money::parse("1.234", chf), Error);
    CHECK_THROWS_AS(Money::parse("1.230", chf), Error);
    CHECK_THROWS_AS(Money::parse("1.0", jpy), Error);
    CHECK_THROWS_AS(Money::parse("0.0000001", usd), Error);
    CHECK(contains(error_of([] { Money::parse("1.234", chf); }).what(), "2 digits"));
}

TEST_CASE("a decimal amount beyond int64 minor units is refused") {
    CHECK_THROWS_AS(Money::parse("92233720368547758.08", chf), Error);
    CHECK_THROWS_AS(Money::parse("-92233720368547758.09", chf), Error);
    CHECK_THROWS_AS(Money::parse("9223372036854775808", jpy), Error);
    CHECK_THROWS_AS(Money::parse("9223372036854.775808", usd), Error);
    CHECK_THROWS_AS(Money::parse("100000000000000000000000", jpy), Error);
}

TEST_CASE("an amount prints with exactly the currency's minor digits and parses back") {
    CHECK(Money(100'000, usd).to_decimal_string() == "0.100000");
    CHECK(Money(150, chf).to_decimal_string() == "1.50");
    CHECK(Money(-5, chf).to_decimal_string() == "-0.05");
    CHECK(Money(0, chf).to_decimal_string() == "0.00");
    CHECK(Money(1200, jpy).to_decimal_string() == "1200");
    CHECK(Money(-1, usd).to_decimal_string() == "-0.000001");
    CHECK(Money(kMin, chf).to_decimal_string() == "-92233720368547758.08");
    CHECK(Money(kMax, jpy).to_decimal_string() == "9223372036854775807");
    CHECK(Money(150, chf).to_string() == "1.50 CHF");

    std::mt19937_64 random(20240101);
    for (int i = 0; i < 2000; ++i) {
        for (const Currency& currency : {chf, usd, jpy}) {
            const Money money(static_cast<std::int64_t>(random()), currency);
            CHECK(Money::parse(money.to_decimal_string(), currency) == money);
        }
    }
}

TEST_CASE("splitting 100 three ways gives the extra unit to the first part") {
    const std::vector<std::int64_t> thirds{1, 1, 1};
    CHECK(sihlicon::allocate(100, thirds) == std::vector<std::int64_t>{34, 33, 33});
    CHECK(sihlicon::allocate(-100, thirds) == std::vector<std::int64_t>{-34, -33, -33});
    CHECK(sihlicon::allocate(2, thirds) == std::vector<std::int64_t>{1, 1, 0});
    CHECK(Money(100, chf).allocate(thirds) ==
          std::vector<Money>{Money(34, chf), Money(33, chf), Money(33, chf)});
}

TEST_CASE("leftover units go to the largest remainders") {
    // Exact shares 1.666.., 3.333.., 5: only the first has a remainder above one half.
    const std::vector<std::int64_t> weights{1, 2, 3};
    CHECK(sihlicon::allocate(10, weights) == std::vector<std::int64_t>{2, 3, 5});
    // Exact shares 0.3, 0.7, 1.4, 2.1, 0.5: the 2 leftover units go to the 0.7 and the 0.5.
    const std::vector<std::int64_t> tenths{3, 7, 14, 21, 5};
    CHECK(sihlicon::allocate(5, tenths) == std::vector<std::int64_t>{0, 1, 1, 2, 1});
}

TEST_CASE("zero weights get nothing and exact splits are exact") {
    const std::vector<std::int64_t> weights{0, 1, 0, 1};
    CHECK(sihlicon::allocate(3, weights) == std::vector<std::int64_t>{0, 2, 0, 1});
    const std::vector<std::int64_t> quarters{1, 3};
    CHECK(sihlicon::allocate(400, quarters) == std::vector<std::int64_t>{100, 300});
    const std::vector<std::int64_t> single{7};
    CHECK(sihlicon::allocate(kMin, single) == std::vector<std::int64_t>{kMin});
    CHECK(sihlicon::allocate(0, quarters) == std::vector<std::int64_t>{0, 0});
}

TEST_CASE("allocation refuses negative, all-zero, empty and overflowing weights") {
    const std::vector<std::vector<std::int64_t>> bad{{}, {0, 0}, {1, -1}, {kMax, 1}};
    for (const auto& weights : bad) {
        const Error error = error_of([&] { sihlicon::allocate(10, weights); });
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "weights");
    }
    CHECK_THROWS_AS(Money(5, chf).allocate(std::vector<std::int64_t>{0}), Error);
}

namespace {

std::int64_t random_total(std::mt19937_64& random) {
    const std::int64_t extremes[] = {kMin, kMin + 1, kMax, kMax - 1, 0, 1, -1};
    switch (random() % 4) {
        case 0:
            return extremes[random() % std::size(extremes)];
        case 1:
            return static_cast<std::int64_t>(random() % 2001) - 1000;
        default:
            return static_cast<std::int64_t>(random());
    }
}

std::vector<std::int64_t> random_weights(std::mt19937_64& random) {
    const std::size_t count = 1 + random() % 12;
    const auto cap = static_cast<std::uint64_t>(kMax) / count;  // the sum always fits int64
    std::vector<std::int64_t> weights(count);
    for (auto& weight : weights) {
        switch (random() % 4) {
            case 0:
                weight = 0;
                break;
            case 1:
                weight = static_cast<std::int64_t>(1 + random() % 10);
                break;
            default:
                weight = static_cast<std::int64_t>(random() % cap);
        }
    }
    weights[random() % count] = static_cast<std::int64_t>(1 + random() % cap);
    return weights;
}

// Checks every promise of sihlicon::allocate for one input, with exact 128-bit arithmetic.
void check_allocation(std::int64_t total, const std::vector<std::int64_t>& weights) {
    const std::vector<std::int64_t> parts = sihlicon::allocate(total, weights);
    REQUIRE(parts.size() == weights.size());
    Int128 weight_sum = 0;
    Int128 part_sum = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        weight_sum += weights[i];
        part_sum += parts[i];
    }
    CHECK(part_sum == Int128{total});
    const Int128 magnitude = total < 0 ? -Int128{total} : Int128{total};
    std::vector<Int128> remainders(weights.size());
    std::vector<bool> gained(weights.size());
    for (std::size_t i = 0; i < weights.size(); ++i) {
        // |part| * W differs from the exact |total| * w by less than W: floor or ceil.
        const Int128 exact = magnitude * weights[i];
        const Int128 part = parts[i] < 0 ? -Int128{parts[i]} : Int128{parts[i]};
        CHECK((total >= 0 ? parts[i] >= 0 : parts[i] <= 0));
        CHECK(part * weight_sum > exact - weight_sum);
        CHECK(part * weight_sum < exact + weight_sum);
        if (weights[i] == 0) {
            CHECK(parts[i] == 0);
        }
        remainders[i] = exact % weight_sum;
        gained[i] = part != exact / weight_sum;
    }
    // Whoever gained a unit had a larger remainder than, or an equal one and a lower index
    // than, everyone who did not.
    for (std::size_t i = 0; i < weights.size(); ++i) {
        for (std::size_t j = 0; j < weights.size(); ++j) {
            if (gained[i] && !gained[j]) {
                CHECK((remainders[i] > remainders[j] || (remainders[i] == remainders[j] && i < j)));
            }
        }
    }
}

}  // namespace

TEST_CASE("allocation of random totals always sums exactly and stays within one unit") {
    std::mt19937_64 random(7);
    for (int i = 0; i < 5000; ++i) {
        const std::int64_t total = random_total(random);
        const std::vector<std::int64_t> weights = random_weights(random);
        CAPTURE(i);
        check_allocation(total, weights);
    }
}
