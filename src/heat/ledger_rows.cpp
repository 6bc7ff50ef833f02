// SPDX-License-Identifier: Apache-2.0
#include "heat/ledger_rows.hpp"

#include <sihlicon/checked.hpp>
#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace sihlicon::heat {

namespace {

constexpr int kHour = 0;
constexpr int kDay = 1;
constexpr int kTotal = 2;  // one bucket per hub, starting at 0: its lifetime sums

std::string_view resolution_name(int resolution) {
    return resolution == kHour ? "hour" : resolution == kDay ? "day" : "total";
}

constexpr Int128 kMinorUnitsPerCredit = 1'000'000;  // the rate is per kWh = 10^6 mWh
constexpr Int128 kCreditLimit = Int128{kEndOfTime} * kMinorUnitsPerCredit;

// a / 10^6 rounded half to even, in 128 bits. REQUIRES: a >= 0.
Int128 credit_of(Int128 numerator) {
    Int128 quotient = numerator / kMinorUnitsPerCredit;
    const Int128 twice = (numerator % kMinorUnitsPerCredit) * 2;
    if (twice > kMinorUnitsPerCredit || (twice == kMinorUnitsPerCredit && quotient % 2 != 0)) {
        ++quotient;
    }
    return quotient;
}

std::int64_t floor_to(std::int64_t value, std::int64_t size) {
    return value - value % size;  // REQUIRES: value >= 0
}

// The first bucket boundary at or after `value`; kEndOfTime if none fits int64.
std::int64_t ceil_to(std::int64_t value, std::int64_t size) {
    const std::int64_t floor = floor_to(value, size);
    if (floor == value) {
        return value;
    }
    return floor > kEndOfTime - size ? kEndOfTime : floor + size;
}

Credited& operator+=(Credited& left, const Credited& right) {
    left.mwh = checked::add(left.mwh, right.mwh, "heat total");
    left.records = checked::add(left.records, right.records, "record count");
    return left;
}

Credited sum_records(store::Transaction& tx, std::string_view hub_id, std::int64_t from,
                     std::int64_t to) {
    if (from >= to) {
        return {};
    }
    auto statement = tx.prepare(
        "SELECT COALESCE(SUM(thermal_mwh), 0), COUNT(*) FROM heat_records "
        "WHERE hub_id = ? AND credit_at >= ? AND credit_at < ?");
    statement.bind_all(hub_id, from, to);
    statement.step();
    return {statement.column_int64(0), statement.column_int64(1)};
}

Credited sum_buckets(store::Transaction& tx, std::string_view hub_id, int resolution,
                     std::int64_t from, std::int64_t to) {
    if (from >= to) {
        return {};
    }
    auto statement = tx.prepare(
        "SELECT COALESCE(SUM(credited_mwh), 0), COALESCE(SUM(credited_count), 0) "
        "FROM heat_buckets WHERE hub_id = ? AND resolution = ? AND bucket_start >= ? "
        "AND bucket_start < ?");
    statement.bind_all(hub_id, resolution_name(resolution), from, to);
    statement.step();
    return {statement.column_int64(0), statement.column_int64(1)};
}

// [from, to) from hour buckets and, at the partial edges, records.
Credited credited_by_hours(store::Transaction& tx, std::string_view hub_id, std::int64_t from,
                           std::int64_t to) {
    const std::int64_t first_hour = ceil_to(from, kHourMs);
    const std::int64_t last_hour = floor_to(to, kHourMs);
    if (first_hour >= last_hour) {
        return sum_records(tx, hub_id, from, to);
    }
    Credited total = sum_records(tx, hub_id, from, first_hour);
    total += sum_buckets(tx, hub_id, kHour, first_hour, last_hour);
    total += sum_records(tx, hub_id, last_hour, to);
    return total;
}

}  // namespace

void require_hub(store::Transaction& tx, std::string_view hub_id) {
    auto statement = tx.prepare("SELECT 1 FROM hubs WHERE id = ?");
    statement.bind_all(hub_id);
    if (!statement.step()) {
        throw Error(ErrorCode::not_found, fmt::format("no hub '{}'", hub_id), "hubId");
    }
}

std::int64_t heat_recovery_ppm(store::Transaction& tx, std::string_view hub_id) {
    auto statement = tx.prepare("SELECT heat_recovery_ppm FROM hubs WHERE id = ?");
    statement.bind_all(hub_id);
    if (!statement.step()) {
        throw Error(ErrorCode::not_found, fmt::format("no hub '{}'", hub_id), "hubId");
    }
    return statement.column_int64(0);
}

void check_record_energy(Energy energy, std::string_view field) {
    if (energy.mwh() < 0 || energy.mwh() > kMaxRecordMwh) {
        throw Error::invalid(field, energy.to_kwh_string(), "must lie between 0 and 1 TWh");
    }
}

std::vector<Interval> settled_intervals(store::Transaction& tx, std::string_view hub_id) {
    auto statement = tx.prepare(
        "SELECT period_start, period_end FROM heat_settlements WHERE hub_id = ? "
        "ORDER BY period_start");
    statement.bind_all(hub_id);
    std::vector<Interval> intervals;
    while (statement.step()) {
        intervals.push_back({statement.column_int64(0), statement.column_int64(1)});
    }
    return intervals;
}

std::int64_t credit_instant(const std::vector<Interval>& settled, std::int64_t at) {
    // The first settled period ending after `at`; while one covers the instant, move past it.
    auto next = std::upper_bound(
        settled.begin(), settled.end(), at,
        [](std::int64_t instant, const Interval& interval) { return instant < interval.end; });
    while (next != settled.end() && next->start <= at) {
        at = next->end;
        ++next;
    }
    return at;
}

std::int64_t credit_instant(store::Transaction& tx, std::string_view hub_id, std::int64_t at) {
    // Settled periods never overlap, so only the last one starting at or before `at` can
    // cover it.
    auto covering = tx.prepare(
        "SELECT period_end FROM heat_settlements WHERE hub_id = ? AND period_start <= ? "
        "ORDER BY period_start DESC LIMIT 1");
    while (true) {
        covering.bind_all(hub_id, at);
        if (!covering.step() || covering.column_int64(0) <= at) {
            return at;
        }
        at = covering.column_int64(0);
        covering.reset();
    }
}

HubTotals hub_totals(store::Transaction& tx, std::string_view hub_id) {
    auto statement = tx.prepare(
        "SELECT electrical_mwh, thermal_mwh FROM heat_buckets WHERE hub_id = ? "
        "AND resolution = 'total' AND bucket_start = 0");
    statement.bind_all(hub_id);
    if (!statement.step()) {
        return {};
    }
    return {statement.column_int64(0), statement.column_int64(1)};
}

void BucketDeltas::add(const HeatRecord& record, std::string_view field) {
    const std::int64_t electrical = record.electrical ? record.electrical->mwh() : 0;
    last_field_.insert_or_assign(record.hub_id, std::string(field));
    Delta& total = deltas_[Key{record.hub_id, kTotal, 0}];
    total.electrical = checked::add(total.electrical, electrical, "heat total");
    total.thermal = checked::add(total.thermal, record.thermal.mwh(), "heat total");
    total.records += 1;
    total.credited = total.thermal;
    total.credited_records = total.records;
    for (const auto& [resolution, size] : {std::pair{kHour, kHourMs}, std::pair{kDay, kDayMs}}) {
        Delta& by_delivery =
            deltas_[Key{record.hub_id, resolution, floor_to(record.at.ms(), size)}];
        by_delivery.electrical = checked::add(by_delivery.electrical, electrical, "heat bucket");
        by_delivery.thermal =
            checked::add(by_delivery.thermal, record.thermal.mwh(), "heat bucket");
        by_delivery.records += 1;
        Delta& by_credit =
            deltas_[Key{record.hub_id, resolution, floor_to(record.credit_at.ms(), size)}];
        by_credit.credited = checked::add(by_credit.credited, record.thermal.mwh(), "heat bucket");
        by_credit.credited_records += 1;
    }
}

void BucketDeltas::flush(store::Transaction& tx) {
    // The totals first: every bucket is a part of its hub's total, so if the total stays
    // inside int64 the SQL additions below cannot overflow (SQLite would turn them REAL).
    for (const auto& [key, delta] : deltas_) {
        const auto& [hub_id, resolution, start] = key;
        if (resolution != kTotal) {
            continue;
        }
        const std::string& field = last_field_.at(hub_id);
        const HubTotals before = hub_totals(tx, hub_id);
        std::int64_t thermal = 0;
        std::int64_t electrical = 0;
        if (__builtin_add_overflow(before.thermal_mwh, delta.thermal, &thermal) ||
            __builtin_add_overflow(before.electrical_mwh, delta.electrical, &electrical)) {
            throw Error::invalid(
                field, Energy::milliwatt_hours(delta.thermal).to_kwh_string(),
                fmt::format("would take hub {}'s total heat or electricity (now {} and {} kWh) "
                            "beyond 2^63 - 1 mWh",
                            hub_id, Energy::milliwatt_hours(before.thermal_mwh).to_kwh_string(),
                            Energy::milliwatt_hours(before.electrical_mwh).to_kwh_string()));
        }
    }
    auto statement = tx.prepare(
        "INSERT INTO heat_buckets (hub_id, resolution, bucket_start, electrical_mwh, thermal_mwh, "
        "record_count, credited_mwh, credited_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (hub_id, resolution, bucket_start) DO UPDATE SET "
        "electrical_mwh = heat_buckets.electrical_mwh + excluded.electrical_mwh, "
        "thermal_mwh = heat_buckets.thermal_mwh + excluded.thermal_mwh, "
        "record_count = heat_buckets.record_count + excluded.record_count, "
        "credited_mwh = heat_buckets.credited_mwh + excluded.credited_mwh, "
        "credited_count = heat_buckets.credited_count + excluded.credited_count");
    for (const auto& [key, delta] : deltas_) {
        const auto& [hub_id, resolution, start] = key;
        statement
            .bind_all(hub_id, resolution_name(resolution), start, delta.electrical, delta.thermal,
                      delta.records, delta.credited, delta.credited_records)
            .run();
        statement.reset();
    }
    // The credit bound reads the buckets just written; a throw undoes the caller's writes.
    for (const auto& [key, delta] : deltas_) {
        const auto& [hub_id, resolution, start] = key;
        if (resolution == kTotal) {
            check_settleable(tx, hub_id, hub_totals(tx, hub_id).thermal_mwh, last_field_.at(hub_id),
                             Energy::milliwatt_hours(delta.thermal).to_kwh_string());
        }
    }
    deltas_.clear();
    last_field_.clear();
}

RecordWriter::RecordWriter(store::Transaction& tx)
    : tx_(tx),
      statement_(
          tx.prepare("INSERT INTO heat_records (hub_id, kind, job_id, tag, at, credit_at, "
                     "electrical_mwh, thermal_mwh, energy_source, heat_recovery_ppm, recorded_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {}

void RecordWriter::insert(HeatRecord& record, std::string_view field) {
    std::optional<std::int64_t> electrical;
    if (record.electrical) {
        electrical = record.electrical->mwh();
    }
    std::optional<std::string_view> job_id;
    if (record.job_id) {
        job_id = *record.job_id;
    }
    // The sequence is the rowid SQLite gives: one more than the largest (never reused, since
    // records are never deleted), the same when the write log runs the statement again.
    record.sequence =
        statement_
            .bind_all(record.hub_id, to_string(record.kind), job_id, record.tag, record.at.ms(),
                      record.credit_at.ms(), electrical, record.thermal.mwh(),
                      to_string(record.source), record.heat_recovery_ppm, record.recorded_at.ms())
            .insert();
    statement_.reset();
    deltas_.add(record, field);
}

void RecordWriter::finish() {
    deltas_.flush(tx_);
}

Credited credited_between(store::Transaction& tx, std::string_view hub_id, std::int64_t from,
                          std::int64_t to) {
    if (from >= to) {
        return {};
    }
    const std::int64_t first_day = ceil_to(from, kDayMs);
    const std::int64_t last_day = floor_to(to, kDayMs);
    if (first_day >= last_day) {
        return credited_by_hours(tx, hub_id, from, to);
    }
    Credited total = credited_by_hours(tx, hub_id, from, first_day);
    total += sum_buckets(tx, hub_id, kDay, first_day, last_day);
    total += credited_by_hours(tx, hub_id, last_day, to);
    return total;
}

std::vector<RateSegment> rate_segments(store::Transaction& tx, std::string_view hub_id) {
    auto statement = tx.prepare(
        "SELECT effective_from, rate_minor, currency FROM heat_rates WHERE hub_id = ? "
        "ORDER BY effective_from");
    statement.bind_all(hub_id);
    std::vector<RateSegment> segments;
    while (statement.step()) {
        RateSegment segment;
        segment.from = statement.column_int64(0);
        segment.rate_minor = statement.column_int64(1);
        segment.currency = statement.column_text(2);
        segment.is_default = false;
        if (!segments.empty()) {
            segments.back().to = segment.from;
        }
        segments.push_back(std::move(segment));
    }
    if (segments.empty() || segments.front().from > 0) {
        RateSegment implicit;
        implicit.to = segments.empty() ? kEndOfTime : segments.front().from;
        segments.insert(segments.begin(), implicit);
    }
    return segments;
}

void PeriodSum::add_span(store::Transaction& tx, std::string_view hub_id,
                         const std::vector<RateSegment>& rates, std::int64_t from,
                         std::int64_t to) {
    for (const auto& segment : rates) {
        const std::int64_t start = std::max(from, segment.from);
        const std::int64_t end = std::min(to, segment.to);
        if (start >= end) {
            continue;
        }
        const Credited credited = credited_between(tx, hub_id, start, end);
        heat_mwh = checked::add(heat_mwh, credited.mwh, "heat total");
        records = checked::add(records, credited.records, "record count");
        numerator += static_cast<Int128>(credited.mwh) * segment.rate_minor;
    }
}

std::int64_t PeriodSum::credit_minor() const {
    return divide_half_even(numerator, 1'000'000);
}

void check_settleable(store::Transaction& tx, std::string_view hub_id,
                      std::int64_t total_thermal_mwh, std::string_view field,
                      std::string_view value) {
    const auto rates = rate_segments(tx, hub_id);
    std::int64_t highest_rate = 0;
    for (const auto& segment : rates) {
        highest_rate = std::max(highest_rate, segment.rate_minor);
    }
    // At most 2^63 settled periods (each lasts at least 1 ms) and one unsettled span, each
    // rounded up by at most half a minor unit.
    const Int128 rounding = Int128{500'000} << 63;
    if (Int128{total_thermal_mwh} * highest_rate <= kCreditLimit - rounding) {
        return;  // the quick bound: both products are below 2^126
    }
    std::vector<Interval> settled;
    Int128 settled_credits = 0;
    for (const auto& settlement : load_settlements(tx, hub_id)) {
        settled.push_back({settlement.period_start.ms(), settlement.period_end.ms()});
        settled_credits += settlement.credit.minor_units();
    }
    PeriodSum unsettled;
    for (const auto& span : subtract(0, kEndOfTime, settled)) {
        unsettled.add_span(tx, hub_id, rates, span.start, span.end);
    }
    const Int128 unsettled_credit = credit_of(unsettled.numerator);
    if (settled_credits + unsettled_credit > kEndOfTime) {
        const auto as_text = [](Int128 number) {
            std::string digits;
            do {
                digits.insert(digits.begin(), static_cast<char>('0' + number % 10));
                number /= 10;
            } while (number > 0);
            return digits;
        };
        throw Error::invalid(
            field, value,
            fmt::format("would make hub {}'s heat credits overflow when settled: its settled "
                        "credits ({}) plus the credit of its unsettled heat ({}) exceed "
                        "2^63 - 1 minor units",
                        hub_id, as_text(settled_credits), as_text(unsettled_credit)));
    }
}

std::vector<Interval> subtract(std::int64_t from, std::int64_t to,
                               const std::vector<Interval>& holes) {
    std::vector<Interval> spans;
    std::int64_t cursor = from;
    for (const auto& hole : holes) {
        if (hole.end <= cursor) {
            continue;
        }
        if (hole.start >= to) {
            break;
        }
        if (hole.start > cursor) {
            spans.push_back({cursor, hole.start});
        }
        cursor = hole.end;
    }
    if (cursor < to) {
        spans.push_back({cursor, to});
    }
    return spans;
}

std::vector<HeatSettlement> load_settlements(store::Transaction& tx, std::string_view hub_id) {
    auto statement = tx.prepare(
        "SELECT period_start, period_end, total_heat_mwh, credit_minor, currency, record_count, "
        "settled_at FROM heat_settlements WHERE hub_id = ? ORDER BY period_start");
    statement.bind_all(hub_id);
    std::vector<HeatSettlement> settlements;
    while (statement.step()) {
        HeatSettlement settlement;
        settlement.hub_id = std::string(hub_id);
        settlement.period_start = Timestamp::from_ms(statement.column_int64(0));
        settlement.period_end = Timestamp::from_ms(statement.column_int64(1));
        settlement.total_heat = Energy::milliwatt_hours(statement.column_int64(2));
        settlement.credit =
            Money(statement.column_int64(3), Currency::of(statement.column_text(4)));
        settlement.record_count = statement.column_int64(5);
        settlement.settled_at = Timestamp::from_ms(statement.column_int64(6));
        settlements.push_back(std::move(settlement));
    }
    return settlements;
}

namespace {

struct DemandChange {
    std::int64_t at = 0;
    std::int64_t watts = 0;
    std::optional<std::int64_t> valid_until;

    std::int64_t level_at(std::int64_t instant) const {
        return valid_until && instant >= *valid_until ? 0 : watts;
    }
};

std::optional<DemandChange> last_change_at_or_before(store::Transaction& tx,
                                                     std::string_view hub_id, std::int64_t at) {
    auto statement = tx.prepare(
        "SELECT at, watts, valid_until FROM heat_demand_changes WHERE hub_id = ? AND at <= ? "
        "ORDER BY at DESC, sequence DESC LIMIT 1");
    statement.bind_all(hub_id, at);
    if (!statement.step()) {
        return std::nullopt;
    }
    return DemandChange{statement.column_int64(0), statement.column_int64(1),
                        statement.column_optional_int64(2)};
}

// Adds watts x overlap of [from, to) to the buckets it touches.
void spread(std::int64_t watts, std::int64_t from, std::int64_t to, std::int64_t start,
            std::int64_t size, std::vector<Int128>& watt_ms) {
    if (watts == 0) {
        return;
    }
    while (from < to) {
        const auto index = static_cast<std::size_t>((from - start) / size);
        const std::int64_t bucket_end = start + static_cast<std::int64_t>(index + 1) * size;
        const std::int64_t piece_end = std::min(to, bucket_end);
        watt_ms[index] += static_cast<Int128>(watts) * (piece_end - from);
        from = piece_end;
    }
}

}  // namespace

std::int64_t demand_at(store::Transaction& tx, std::string_view hub_id, std::int64_t at) {
    const auto change = last_change_at_or_before(tx, hub_id, at);
    return change ? change->level_at(at) : 0;
}

void integrate_demand(store::Transaction& tx, std::string_view hub_id, std::int64_t start,
                      std::int64_t size, std::int64_t until, std::vector<Int128>& watt_ms) {
    const std::int64_t end =
        std::min(until, start + static_cast<std::int64_t>(watt_ms.size()) * size);
    if (start >= end) {
        return;
    }
    std::vector<DemandChange> changes;
    if (auto first = last_change_at_or_before(tx, hub_id, start)) {
        changes.push_back(*first);
    }
    auto statement = tx.prepare(
        "SELECT at, watts, valid_until FROM heat_demand_changes WHERE hub_id = ? AND at > ? "
        "AND at < ? ORDER BY at, sequence");
    statement.bind_all(hub_id, start, end);
    while (statement.step()) {
        changes.push_back({statement.column_int64(0), statement.column_int64(1),
                           statement.column_optional_int64(2)});
    }
    for (std::size_t i = 0; i < changes.size(); ++i) {
        const DemandChange& change = changes[i];
        const std::int64_t from = std::max(start, change.at);
        const std::int64_t to = i + 1 < changes.size() ? changes[i + 1].at : end;
        // The level holds until valid_until, then reads as 0.
        const std::int64_t level_end =
            change.valid_until ? std::clamp(*change.valid_until, from, to) : to;
        spread(change.watts, from, level_end, start, size, watt_ms);
    }
}

std::int64_t divide_half_even(Int128 a, std::int64_t b) {
    Int128 quotient = a / b;
    const Int128 remainder = a % b;
    const Int128 twice = (remainder < 0 ? -remainder : remainder) * 2;
    if (twice > b || (twice == b && quotient % 2 != 0)) {
        quotient += a < 0 ? -1 : 1;
    }
    if (quotient > kEndOfTime || quotient < -kEndOfTime) {
        checked::throw_overflow("heat credit");
    }
    return static_cast<std::int64_t>(quotient);
}

}  // namespace sihlicon::heat
