// SPDX-License-Identifier: Apache-2.0
//
// The heat ledger's reads and writes of its tables, shared by the public service and the
// functions other services call inside their transactions. Not installed.
#pragma once

#include "store/database.hpp"

#include <sihlicon/heat_ledger.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace sihlicon::heat {

__extension__ typedef __int128 Int128;

inline constexpr std::int64_t kHourMs = 3'600'000;
inline constexpr std::int64_t kDayMs = 86'400'000;
inline constexpr std::int64_t kEndOfTime = std::numeric_limits<std::int64_t>::max();
// The largest energy one record may carry: 1 TWh, so sums of records stay far inside int64.
inline constexpr std::int64_t kMaxRecordMwh = 1'000'000'000'000'000;
inline constexpr std::int64_t kDefaultRateMinor = 5;  // CHF 0.05 per kWh thermal (the seed)
inline constexpr std::string_view kDefaultCurrency = "CHF";

// Throws Error(not_found) naming "hubId" unless the hub exists.
void require_hub(store::Transaction& tx, std::string_view hub_id);
// The hub's heat_recovery_ppm. Throws Error(not_found) for an unknown hub.
std::int64_t heat_recovery_ppm(store::Transaction& tx, std::string_view hub_id);

// Throws Error::invalid(field, ...) unless 0 <= energy <= 1 TWh.
void check_record_energy(Energy energy, std::string_view field);

// ---- records and buckets -----------------------------------------------------------------

struct Interval {
    std::int64_t start = 0;
    std::int64_t end = 0;  // exclusive
};

// The hub's settled periods, sorted by start (they never overlap).
std::vector<Interval> settled_intervals(store::Transaction& tx, std::string_view hub_id);

// The credit instant of heat delivered at `at`: `at`, or, if a settled period covers it, the
// first instant after it that no settled period covers.
std::int64_t credit_instant(const std::vector<Interval>& settled, std::int64_t at);
// The same, reading only the settled periods that cover it (for one record).
std::int64_t credit_instant(store::Transaction& tx, std::string_view hub_id, std::int64_t at);

// The hub's lifetime sums: every record ever, settled or not (the 'total' bucket).
struct HubTotals {
    std::int64_t electrical_mwh = 0;
    std::int64_t thermal_mwh = 0;
};
HubTotals hub_totals(store::Transaction& tx, std::string_view hub_id);

// Running sums to add to the buckets, gathered in memory so that a batch of records touches
// each bucket once. Besides its hour and day buckets each hub has one 'total' bucket, its
// lifetime sums; every other bucket and every SQL SUM over the hub's records is a part of it,
// so keeping the total inside int64 keeps them all inside int64.
class BucketDeltas {
  public:
    // `field` names the record's energy in errors ("records[3].thermal").
    void add(const HeatRecord& record, std::string_view field);
    // Adds every gathered delta to heat_buckets and forgets them. Throws Error::invalid naming
    // the field of the hub's last record if a hub's total heat or electricity would exceed
    // 2^63 - 1 mWh (checked before any bucket is written), or if its credits would overflow
    // when settled (check_settleable, after: the caller's transaction must roll back).
    void flush(store::Transaction& tx);

  private:
    struct Delta {
        std::int64_t electrical = 0;
        std::int64_t thermal = 0;
        std::int64_t records = 0;
        std::int64_t credited = 0;
        std::int64_t credited_records = 0;
    };
    using Key = std::tuple<std::string, int, std::int64_t>;  // hub, resolution, bucket start
    std::map<Key, Delta> deltas_;
    std::map<std::string, std::string, std::less<>> last_field_;  // by hub
};

// Stores records in arrival order, each with the next sequence (the table's rowid).
class RecordWriter {
  public:
    explicit RecordWriter(store::Transaction& tx);

    // Stores `record`, writing its sequence back, and adds it to the buckets' deltas.
    // `field` names its energy in errors raised by finish().
    void insert(HeatRecord& record, std::string_view field);
    // Adds the gathered deltas to the buckets. Call once after the last insert.
    void finish();

  private:
    store::Transaction& tx_;
    store::Statement statement_;
    BucketDeltas deltas_;
};

// Credited heat and record count of the hub with a credit instant in [from, to): whole UTC days
// from the day buckets, whole hours from the hour buckets, the partial hours at the edges from
// the records themselves.
struct Credited {
    std::int64_t mwh = 0;
    std::int64_t records = 0;
};
Credited credited_between(store::Transaction& tx, std::string_view hub_id, std::int64_t from,
                          std::int64_t to);

// ---- rates and credits -------------------------------------------------------------------

struct RateSegment {
    std::int64_t from = 0;
    std::int64_t to = kEndOfTime;
    std::int64_t rate_minor = kDefaultRateMinor;
    std::string currency{kDefaultCurrency};
    bool is_default = true;
};

// The hub's rate segments in time order, covering [0, end of time).
std::vector<RateSegment> rate_segments(store::Transaction& tx, std::string_view hub_id);

// Heat, records and the exact credit numerator (sum of mWh x rate) of a set of spans.
struct PeriodSum {
    std::int64_t heat_mwh = 0;
    std::int64_t records = 0;
    Int128 numerator = 0;

    void add_span(store::Transaction& tx, std::string_view hub_id,
                  const std::vector<RateSegment>& rates, std::int64_t from, std::int64_t to);
    // numerator / 1'000'000 rounded half to even: the credit in minor units.
    std::int64_t credit_minor() const;
};

// Refuses what would make a period of the hub unsettleable. The rule (heat_ledger.hpp):
//     settled credits + round_half_even(U / 1'000'000) <= 2^63 - 1 minor units,
// U = sum over the hub's unsettled records of thermal mWh x the rate at their credit instant.
// Every future period's credit is at most round_half_even(U / 1'000'000), so while the rule
// holds every period settles and every sum of credits fits int64. The exact sum is read only
// when the quick bound fails: thermal total x the highest rate + 500'000 x 2^63 (the rounding
// of at most 2^63 periods) <= (2^63 - 1) x 1'000'000 implies the rule.
// Throws Error::invalid(field, value, ...) naming the hub and both figures.
void check_settleable(store::Transaction& tx, std::string_view hub_id,
                      std::int64_t total_thermal_mwh, std::string_view field,
                      std::string_view value);

// [from, to) minus `holes` (sorted, non-overlapping): the spans left, in order.
std::vector<Interval> subtract(std::int64_t from, std::int64_t to,
                               const std::vector<Interval>& holes);

std::vector<HeatSettlement> load_settlements(store::Transaction& tx, std::string_view hub_id);

// ---- heat demand -------------------------------------------------------------------------

// The demand level (watts) in force at `at`.
std::int64_t demand_at(store::Transaction& tx, std::string_view hub_id, std::int64_t at);

// Adds to `watt_ms[i]` the integral (watts x milliseconds) of the hub's demand over bucket i,
// buckets being [start + i*size, start + (i+1)*size), up to `until`.
void integrate_demand(store::Transaction& tx, std::string_view hub_id, std::int64_t start,
                      std::int64_t size, std::int64_t until, std::vector<Int128>& watt_ms);

// a / b rounded half to even. REQUIRES: b > 0.
std::int64_t divide_half_even(Int128 a, std::int64_t b);

// HeatLedger::stats inside the caller's transaction (heat_ledger.cpp), also used for the
// totals over a site or region (heat_groups.cpp).
HeatStats stats_in(store::Transaction& tx, std::string_view hub_id);

// The buckets of a series: [start, start + count x size). Throws Error::invalid as
// HeatLedger::series does (from before 1970, to not after from, over 10,000 buckets).
struct SeriesSpan {
    std::int64_t start = 0;
    std::int64_t size = 0;
    std::int64_t count = 0;
};
SeriesSpan series_span(SeriesResolution resolution, Timestamp from, Timestamp to);
// HeatLedger::series inside the caller's transaction.
HeatSeries series_in(store::Transaction& tx, std::string_view hub_id, SeriesResolution resolution,
                     const SeriesSpan& buckets, Timestamp now);

// HeatLedger::group_stats and group_series inside the caller's transaction (heat_groups.cpp).
HeatGroupStats group_stats_in(store::Transaction& tx, const HubGroup& group);
HeatGroupSeries group_series_in(store::Transaction& tx, const HubGroup& group,
                                SeriesResolution resolution, const SeriesSpan& buckets,
                                Timestamp now);

}  // namespace sihlicon::heat
