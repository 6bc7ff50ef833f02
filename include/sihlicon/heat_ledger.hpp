// SPDX-License-Identifier: Apache-2.0
//
// The heat ledger: electrical energy in, recovered heat and heat credits out, each period
// settled exactly once. It serves the seed's Heat Services API (`GET /api/heat/credits`,
// `GET /api/heat/stats`, `POST /api/heat/settle`) and the hubs' dashboards.
//
// Records. Every completed job leaves a heat record, written by the scheduler in the same
// transaction as the completion: thermal = electrical x the hub's heat-recovery efficiency
// (Energy::scale_ppm, half to even). Heat from other sources (battery losses, stand-alone
// heaters, anything else with a tag) is recorded by hand. Every figure carries its source:
// measured, modelled or estimated.
//
// Periods are half-open: [periodStart, periodEnd), in milliseconds. A record counts in a period
// when its *credit instant* lies in it. The credit instant is the record's `at` (when the heat
// was delivered) unless a settled period already covered `at` when the record arrived: then it
// is the first unsettled instant after `at` (the end of the settled period, or of the run of
// back-to-back settled periods, covering `at`). So a record that arrives late for a settled
// period counts in the next open period, and a settled period never changes.
//
// Credits. Each hub has a credit rate per kWh thermal in minor units of one currency (default:
// 5 centimes CHF, the seed's CHF 0.05). Rates form segments in time (a rate applies from its
// `effective_from` until the next one). The credit of a period is computed once, from the
// period's totals, never per record:
//     credit = round_half_even( sum over rate segments s of  heat_mWh(period & s) x rate_s
//                               / 1'000'000 )
// With one rate that is round_half_even(total_mWh x rate / 1'000'000): 0.1 kWh at 5 centimes
// is 0.5 -> 0 centimes, 0.3 kWh is 1.5 -> 2. The products are exact (128-bit), so a period's
// credit is within half a minor unit of rate x total, whatever the number of records.
// Rounding half to even is also what Energy uses, and it has no bias over many periods.
// A rate change may not take effect before the end of the hub's last settled period (the
// settled credit could no longer be recomputed from the rates), and all of a hub's rates share
// one currency (the implicit default counts: a hub crediting in EUR sets its first rate
// effective from the Unix epoch).
//
// Bounds. Energies and credits are int64 (mWh, minor units) and nothing may overflow when a
// period is settled, so the bound is enforced when heat or a rate is recorded, never later:
//   1. a hub's total heat and total electricity over all its records stay <= 2^63 - 1 mWh
//      (each record carries at most 1 TWh), so every bucket, period and sum fits int64;
//   2. settled + round_half_even(U / 1'000'000) <= 2^63 - 1 minor units, where settled is the
//      sum of the hub's settled credits and U = sum over its unsettled records of
//      thermal_mWh x the rate at the record's credit instant (exact, 128-bit). Any future
//      period's credit is at most round_half_even(U / 1'000'000), so every period settles and
//      the hub's credits (stats, credits) sum inside int64. With one rate r and nothing
//      settled: unsettled_mWh x r <= (2^63 - 1) x 1'000'000 + 499'999; e.g. at a rate of
//      10^10 minor units per kWh a hub can hold up to about 922.3 GWh of unsettled heat.
// A record, a batch or a rate that would break either is refused with Error::invalid naming
// the record's energy field (or "ratePerKwh") and the hub; nothing is stored.
//
// Settlement posting: once the settlement service exists, each settlement also posts to its
// journal inside the same transaction (see src/heat/heat_internal.hpp).
//
// Thread safety: a HeatLedger is safe to use from any number of threads, and several processes
// may use one hub: every decision is made inside one database transaction.
#pragma once

#include <sihlicon/energy.hpp>
#include <sihlicon/export.hpp>
#include <sihlicon/money.hpp>
#include <sihlicon/time.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon {

namespace detail {
struct HubCore;
struct HeatLedgerAccess;
}  // namespace detail

// What produced the heat. `job` records are written by the scheduler at a job's completion;
// the others are recorded by hand.
enum class HeatKind { job, battery_losses, standalone_heater, other };

// "job", "battery-losses", "standalone-heater", "other".
SIHLICON_API std::string_view to_string(HeatKind kind) noexcept;
// Parses a name produced by to_string(HeatKind). Throws Error::invalid(field, text, ...).
SIHLICON_API HeatKind parse_heat_kind(std::string_view text, std::string_view field = "kind");

// The buckets of a time series: UTC hours or UTC days.
enum class SeriesResolution { hour, day };
SIHLICON_API std::string_view to_string(SeriesResolution resolution) noexcept;  // "hour", "day"
SIHLICON_API SeriesResolution parse_series_resolution(std::string_view text,
                                                      std::string_view field = "resolution");

// One heat record as stored.
struct SIHLICON_API HeatRecord {
    std::int64_t sequence = 0;  // arrival order in this hub database, from 1
    std::string hub_id;
    HeatKind kind = HeatKind::other;
    std::optional<std::string> job_id;  // set exactly for kind job
    std::string tag;                    // free label of a manual source ("pool heater 2")
    Timestamp at;                       // when the heat was delivered
    Timestamp credit_at;                // the instant whose period credits it (see above)
    std::optional<Energy> electrical;   // the electricity that became this heat, if known
    Energy thermal;
    EnergySource source = EnergySource::measured;
    std::optional<std::int64_t> heat_recovery_ppm;  // the efficiency applied (job records)
    Timestamp recorded_at;

    // {"sequence", "hubId", "kind", "jobId" (or null), "tag", "at", "creditAt",
    //  "electricalKwh" (or null), "thermalKwh", "energySource", "heatRecoveryPpm" (or null),
    //  "recordedAt"}; instants as ISO 8601, energies as exact decimal kWh numbers.
    std::string to_json() const;
};

// A heat record entered by hand.
struct ManualHeat {
    std::string hub_id;
    HeatKind kind = HeatKind::other;   // anything but job
    std::string tag;                   // required for other; at most 128 characters
    std::optional<Timestamp> at;       // when the heat was delivered, not after now; none: now
    Energy thermal;                    // 0 to 1 TWh
    std::optional<Energy> electrical;  // 0 to 1 TWh, if the source consumed electricity
    EnergySource source = EnergySource::measured;
};

// The credit rate of a hub from `effective_from` until the next rate.
struct SIHLICON_API CreditRate {
    std::string hub_id;
    Money per_kwh{5, Currency::of("CHF")};  // per kWh thermal
    Timestamp effective_from;
    bool is_default = false;  // the implicit default: no rate was ever set for this span

    // {"hubId", "ratePerKwh" (minor units), "currency", "effectiveFrom", "default"}.
    std::string to_json() const;
};

// The seed's `credit`: a hub's heat and credit over [period_start, period_end).
struct SIHLICON_API HeatCredit {
    std::string hub_id;
    Timestamp period_start;
    Timestamp period_end;
    Energy total_heat;
    Money credit{0, Currency::of("CHF")};
    // Every instant of the period lies in a settled period.
    bool settled = false;

    // {"hubId", "periodStart", "periodEnd", "totalHeatKwh", "heatCreditChf" (minor units),
    //  "settled", "currency"}.
    std::string to_json() const;
};

// The seed's `stats` of a hub.
struct SIHLICON_API HeatStats {
    std::string hub_id;
    Energy total_heat;                               // every record ever credited to the hub
    Money total_credit{0, Currency::of("CHF")};      // settled credits + unsettled_credit
    Money unsettled_credit{0, Currency::of("CHF")};  // the credit of all unsettled heat,
                                                     // computed as one period
    std::int64_t period_count = 0;                   // settled periods
    std::optional<Timestamp> last_period_end;        // the latest settled period's end

    // {"hubId", "totalHeatKwh", "totalCreditChf", "unsettledCreditChf", "periodCount",
    //  "lastPeriodEnd" (or null), "currency"}.
    std::string to_json() const;
};

// A period of one hub to settle: the body of the seed's `POST /api/heat/settle`.
struct SIHLICON_API HeatPeriod {
    std::string hub_id;
    Timestamp period_start;
    Timestamp period_end;

    // The longest hub id read (bytes); the ledger's own checks decide the rest.
    static constexpr std::size_t kMaxHubIdBytes = 256;

    // Decodes {"hubId", "periodStart", "periodEnd"} (ISO 8601, as parse_iso8601 reads them),
    // all three required, no other member. Throws Error::invalid naming the field (a missing
    // or mistyped member, an unknown one, a malformed instant, or a body that is not a strict
    // JSON object); whether the period may be settled is HeatLedger::settle's to check.
    static HeatPeriod from_json(std::string_view json);
};

// A settled period.
struct SIHLICON_API HeatSettlement {
    std::string hub_id;
    Timestamp period_start;
    Timestamp period_end;
    Energy total_heat;
    Money credit{0, Currency::of("CHF")};
    std::int64_t record_count = 0;
    Timestamp settled_at;

    // {"hubId", "periodStart", "periodEnd", "totalHeatKwh", "settledCreditChf" (minor units),
    //  "currency", "recordCount", "settledAt"} — settledCreditChf is the seed's response field.
    std::string to_json() const;
};

// One bucket of a hub's time series. Electricity and heat count records by `at` (physical
// time, late records included where they happened); demand is the integral of the hub's heat
// demand over the bucket up to now.
struct HeatSeriesPoint {
    Timestamp start;
    Energy electricity;
    Energy heat;
    Energy heat_demand;
    std::int64_t records = 0;
};

struct SIHLICON_API HeatSeries {
    std::string hub_id;
    SeriesResolution resolution = SeriesResolution::hour;
    std::vector<HeatSeriesPoint> points;  // consecutive buckets, empty ones included

    // {"hubId", "resolution", "points": [{"start", "electricityKwh", "heatKwh",
    //  "heatDemandKwh", "records"}, ...]}.
    std::string to_json() const;
};

// Heat totals across hubs: every registered hub of one site, or of one region (district
// heating is fed by several hubs). The hubs are those of the hubs table
// (Scheduler::register_hub) whose site, or region, equals the group's name exactly.
enum class HubGroupKind { site, region };
SIHLICON_API std::string_view to_string(HubGroupKind kind) noexcept;  // "site", "region"
SIHLICON_API HubGroupKind parse_hub_group_kind(std::string_view text,
                                               std::string_view field = "groupBy");

struct SIHLICON_API HubGroup {
    HubGroupKind kind = HubGroupKind::site;
    std::string name;  // the site or region; 1 to 256 bytes of plain text
};

// The stats of every hub of a group and their exact sums (checked int64: heat in mWh, credit
// in minor units of the hubs' one currency, settled period counts); last_period_end is the
// latest of the hubs' own.
struct SIHLICON_API HeatGroupStats {
    HubGroup group;
    std::vector<std::string> hub_ids;  // sorted
    Energy total_heat;
    Money total_credit{0, Currency::of("CHF")};
    Money unsettled_credit{0, Currency::of("CHF")};
    std::int64_t period_count = 0;
    std::optional<Timestamp> last_period_end;
    std::vector<HeatStats> hubs;  // each hub's own stats, in hub_ids' order

    // {"groupBy": "site" | "region", "group", "hubIds", "totalHeatKwh", "totalCreditChf",
    //  "unsettledCreditChf", "periodCount", "lastPeriodEnd" (or null), "currency",
    //  "hubs": [HeatStats JSON, ...]}.
    std::string to_json() const;
};

// The time series of a group: each bucket the exact sum of its hubs' buckets (electricity,
// heat, heat demand, records), as HeatLedger::series computes them.
struct SIHLICON_API HeatGroupSeries {
    HubGroup group;
    std::vector<std::string> hub_ids;  // sorted
    SeriesResolution resolution = SeriesResolution::hour;
    std::vector<HeatSeriesPoint> points;

    // {"groupBy", "group", "hubIds", "resolution", "points": [...]} (points as HeatSeries).
    std::string to_json() const;
};

class SIHLICON_API HeatLedger {
  public:
    // Constructed by Hub::open; hosts use Hub::heat_ledger().
    explicit HeatLedger(detail::HubCore& core);
    ~HeatLedger();
    HeatLedger(const HeatLedger&) = delete;
    HeatLedger& operator=(const HeatLedger&) = delete;

    // Records heat from a source other than a job. Returns the stored record.
    // Throws Error::invalid for kind job, a missing tag for other, a tag over 128 characters,
    // `at` after now or before 1970, an energy outside 0..1 TWh, or heat that would break a
    // bound above (field "thermal", naming the hub); Error(not_found) for an unknown hub.
    // Nothing is stored on a throw.
    HeatRecord record(const ManualHeat& heat);

    // Records many manual heat records in one transaction: all or none. Returns them in order.
    // Throws what record() throws, naming the index ("records[3].tag").
    std::vector<HeatRecord> record_many(const std::vector<ManualHeat>& heat);

    // Sets the hub's credit rate (minor units per kWh thermal) from `effective_from` on,
    // replacing a rate with the same start. Returns the stored rate.
    // Throws Error::invalid for a negative rate, an instant before 1970, or a rate that would
    // make the hub's unsettled heat unsettleable (bound 2 above, field "ratePerKwh");
    // Error(not_found)
    // for an unknown hub; Error(conflict) if `effective_from` lies before the end of the hub's
    // last settled period, or if the currency differs from the hub's other rates (the
    // implicit CHF default included, unless effective_from is the epoch).
    CreditRate set_credit_rate(std::string_view hub_id, const Money& per_kwh,
                               Timestamp effective_from);
    // The same acting as `by` (what every remote edge calls): throws permission_denied (field
    // "by", nothing stored) unless `by` is the hub operator (kOperatorPrincipal). The form
    // above, without a principal, is the in-process host's and acts as the operator: whoever
    // holds the Hub object (and so its files) administers the hub.
    CreditRate set_credit_rate(std::string_view by, std::string_view hub_id, const Money& per_kwh,
                               Timestamp effective_from);

    // The hub's rate segments in time order, starting with the implicit default when no rate
    // starts at the epoch. Throws Error(not_found) for an unknown hub.
    std::vector<CreditRate> credit_rates(std::string_view hub_id) const;

    // The seed's credit of a hub over [period_start, period_end). An absent start means the
    // end of the hub's last settled period (or the epoch), an absent end means now, so
    // credits(hub) is what is owed and not yet settled (after the last settlement).
    // For a settled period, or a span of whole settled periods, the credit is the sum of their
    // settled credits; the rest of the span is computed as one period by the rule above.
    // Throws Error::invalid unless start < end and start >= 0; Error(not_found) for an
    // unknown hub.
    HeatCredit credits(std::string_view hub_id, std::optional<Timestamp> period_start = {},
                       std::optional<Timestamp> period_end = {}) const;

    // The seed's statistics of a hub. Throws Error(not_found) for an unknown hub.
    HeatStats stats(std::string_view hub_id) const;

    // Settles [period_start, period_end): stores its total and credit, which never change
    // afterwards, and returns them. Settling the exact same period again returns the stored
    // settlement and changes nothing (idempotent).
    // Throws Error::invalid unless 0 <= start < end <= now (a period is settled once it has
    // ended); Error(not_found) for an unknown hub; Error(conflict) if the period overlaps a
    // settled period without being equal to it. Nothing is stored on a throw.
    HeatSettlement settle(std::string_view hub_id, Timestamp period_start, Timestamp period_end);
    // The same acting as `by` (what every remote edge calls, e.g. POST /api/heat/settle):
    // throws permission_denied (field "by", nothing stored) unless `by` is the hub operator
    // (kOperatorPrincipal), before anything else is checked. The form above, without a
    // principal, is the in-process host's and acts as the operator.
    HeatSettlement settle(std::string_view by, std::string_view hub_id, Timestamp period_start,
                          Timestamp period_end);

    // The hub's settled periods in time order. Throws Error(not_found) for an unknown hub.
    std::vector<HeatSettlement> settlements(std::string_view hub_id) const;

    // The hub's time series over [from, to), widened to whole buckets (UTC hours or days).
    // Throws Error::invalid unless 0 <= from < to and the span has at most 10,000 buckets;
    // Error(not_found) for an unknown hub.
    HeatSeries series(std::string_view hub_id, SeriesResolution resolution, Timestamp from,
                      Timestamp to) const;

    // Stats and series summed over every hub of a site or region, read in one transaction.
    // Throw Error::invalid for an empty, over-long or non-plain group name (field "site" or
    // "region"), and for arguments series() refuses; Error(not_found) (field "site" or
    // "region") when no registered hub belongs to the group; Error(conflict) (field
    // "currency") when the group's hubs credit heat in different currencies (their credits
    // cannot be summed); Error(invalid_argument) naming the group when a sum would overflow
    // int64 (nothing is rounded or wrapped).
    HeatGroupStats group_stats(const HubGroup& group) const;
    HeatGroupSeries group_series(const HubGroup& group, SeriesResolution resolution, Timestamp from,
                                 Timestamp to) const;

    // The hub's heat demand (watts) not met by recently delivered heat, for heat-demand-first
    // routing: max(0, demand - delivered), where demand is the level last reported for the
    // hub (0 if none, or if it expired) and delivered is the heat of the records whose `at`
    // lies in (now - window, now], as average watts over the window, rounded down. A job's
    // heat is recorded at its completion, so delivery is lumpy on a short window.
    // Throws Error::invalid for a window not above zero; Error(not_found) for an unknown hub.
    std::int64_t unmet_heat_demand_w(
        std::string_view hub_id, std::chrono::milliseconds window = std::chrono::minutes(15)) const;

  private:
    friend struct detail::HeatLedgerAccess;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sihlicon
