// SPDX-License-Identifier: Apache-2.0
#include "core/json.hpp"
#include "heat/heat_internal.hpp"
#include "heat/ledger_rows.hpp"
#include "hub/event_log.hpp"
#include "hub/hub_core.hpp"

#include <sihlicon/checked.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/heat_ledger.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <mutex>

namespace sihlicon {

using heat::Interval;
using heat::PeriodSum;

namespace {

constexpr std::size_t kMaxTagLength = 128;
constexpr std::int64_t kMaxSeriesPoints = 10'000;

std::string indexed(std::string_view prefix, std::size_t index, std::string_view field) {
    return prefix.empty() ? std::string(field) : fmt::format("{}[{}].{}", prefix, index, field);
}

void check_instant(Timestamp at, std::string_view field) {
    if (at.ms() < 0) {
        throw Error::invalid(field, std::to_string(at.ms()), "must not lie before 1970");
    }
}

// Validates one manual record and turns it into the record to store (sequence and credit
// instant still to come).
HeatRecord manual_record(const ManualHeat& heat, Timestamp now, std::string_view prefix,
                         std::size_t index) {
    const auto field = [&](std::string_view name) { return indexed(prefix, index, name); };
    if (heat.kind == HeatKind::job) {
        throw Error::invalid(field("kind"), "job",
                             "is written by the scheduler at a job's completion, not by hand");
    }
    if (heat.tag.size() > kMaxTagLength) {
        throw Error::invalid(field("tag"), heat.tag, "must have at most 128 characters");
    }
    if (heat.kind == HeatKind::other && heat.tag.empty()) {
        throw Error::invalid(field("tag"), heat.tag, "must name the source of 'other' heat");
    }
    const Timestamp at = heat.at.value_or(now);
    check_instant(at, field("at"));
    if (at > now) {
        throw Error::invalid(field("at"), to_iso8601(at),
                             "lies in the future: heat is recorded once delivered");
    }
    heat::check_record_energy(heat.thermal, field("thermal"));
    if (heat.electrical) {
        heat::check_record_energy(*heat.electrical, field("electrical"));
    }
    HeatRecord record;
    record.hub_id = heat.hub_id;
    record.kind = heat.kind;
    record.tag = heat.tag;
    record.at = at;
    record.electrical = heat.electrical;
    record.thermal = heat.thermal;
    record.source = heat.source;
    record.recorded_at = now;
    return record;
}

void check_period(Timestamp start, Timestamp end) {
    check_instant(start, "periodStart");
    if (end <= start) {
        throw Error::invalid("periodEnd", to_iso8601(end), "must lie after periodStart");
    }
}

// Money of `minor` units in the hub's credit currency.
Money in_currency(std::int64_t minor, const std::vector<heat::RateSegment>& rates) {
    return Money(minor, Currency::of(rates.front().currency));
}

}  // namespace

struct HeatLedger::Impl {
    detail::HubCore& core;
    mutable std::mutex posting_mutex;
    detail::SettlementPosting posting;  // GUARDED_BY(posting_mutex) for installation

    explicit Impl(detail::HubCore& hub_core) : core(hub_core) {}

    std::vector<HeatRecord> record(const std::vector<ManualHeat>& heat, std::string_view prefix);
    HeatSettlement settle(store::Transaction& tx, std::string_view hub_id, Timestamp start,
                          Timestamp end, Timestamp now) const;
};

HeatLedger::HeatLedger(detail::HubCore& core) : impl_(std::make_unique<Impl>(core)) {}
HeatLedger::~HeatLedger() = default;

// ---- records ------------------------------------------------------------------------------

std::vector<HeatRecord> HeatLedger::Impl::record(const std::vector<ManualHeat>& heat,
                                                 std::string_view prefix) {
    const Timestamp now = core.now();
    std::vector<HeatRecord> records;
    records.reserve(heat.size());
    for (std::size_t i = 0; i < heat.size(); ++i) {
        records.push_back(manual_record(heat[i], now, prefix, i));
    }
    core.database->write([&](store::Transaction& tx) {
        // Each hub's settled periods are read once per batch: nothing else writes meanwhile.
        std::map<std::string, std::vector<Interval>, std::less<>> settled;
        heat::RecordWriter writer(tx);
        for (std::size_t i = 0; i < records.size(); ++i) {
            auto& record = records[i];
            auto found = settled.find(record.hub_id);
            if (found == settled.end()) {
                heat::require_hub(tx, record.hub_id);
                found = settled.emplace(record.hub_id, heat::settled_intervals(tx, record.hub_id))
                            .first;
            }
            record.credit_at =
                Timestamp::from_ms(heat::credit_instant(found->second, record.at.ms()));
            writer.insert(record, indexed(prefix, i, "thermal"));
        }
        writer.finish();
    });
    return records;
}

HeatRecord HeatLedger::record(const ManualHeat& heat) {
    return impl_->record({heat}, {}).front();
}

std::vector<HeatRecord> HeatLedger::record_many(const std::vector<ManualHeat>& heat) {
    return impl_->record(heat, "records");
}

struct detail::JobHeatBatch::State {
    store::Transaction& tx;
    heat::RecordWriter writer;
    std::map<std::string, std::int64_t, std::less<>> recovery_ppm;  // by hub
    // By hub: the last instant looked up and when it is credited. A batch's completions share
    // their instant (the write's now), so each hub's settled periods are read once.
    std::map<std::string, std::pair<std::int64_t, std::int64_t>, std::less<>> credit_at;
};

detail::JobHeatBatch::JobHeatBatch(store::Transaction& tx)
    : state_(std::make_unique<State>(State{tx, heat::RecordWriter(tx), {}, {}})) {}

detail::JobHeatBatch::~JobHeatBatch() = default;

HeatRecord detail::JobHeatBatch::record(const HubCore& core, std::string_view hub_id,
                                        std::string_view job_id, Energy electrical,
                                        EnergySource source, Timestamp at) {
    auto& tx = state_->tx;
    heat::check_record_energy(electrical, "energy");
    check_instant(at, "at");
    auto ppm = state_->recovery_ppm.find(hub_id);
    if (ppm == state_->recovery_ppm.end()) {
        ppm = state_->recovery_ppm.emplace(std::string(hub_id), heat::heat_recovery_ppm(tx, hub_id))
                  .first;
    }
    HeatRecord record;
    record.hub_id = std::string(hub_id);
    record.kind = HeatKind::job;
    record.job_id = std::string(job_id);
    record.at = at;
    auto credit = state_->credit_at.find(hub_id);
    if (credit == state_->credit_at.end() || credit->second.first != at.ms()) {
        const auto credited = heat::credit_instant(tx, hub_id, at.ms());
        credit =
            state_->credit_at.insert_or_assign(std::string(hub_id), std::pair{at.ms(), credited})
                .first;
    }
    record.credit_at = Timestamp::from_ms(credit->second.second);
    record.electrical = electrical;
    record.thermal = electrical.scale_ppm(ppm->second);
    record.source = source;
    record.heat_recovery_ppm = ppm->second;
    record.recorded_at = core.now();
    try {
        state_->writer.insert(record, "energy");
    } catch (const Error& error) {
        // The unique index on job_id refused a second record of the job (the check costs
        // nothing when there is none, unlike a lookup before each insert).
        auto existing = tx.prepare("SELECT 1 FROM heat_records WHERE job_id = ?");
        if (error.code() == ErrorCode::conflict && existing.bind_all(job_id).step()) {
            throw Error(ErrorCode::conflict,
                        fmt::format("job {} already has a heat record", job_id), "jobId");
        }
        throw;
    }
    return record;
}

void detail::JobHeatBatch::finish() {
    state_->writer.finish();
}

HeatRecord detail::record_job_heat(store::Transaction& tx, const HubCore& core,
                                   std::string_view hub_id, std::string_view job_id,
                                   Energy electrical, EnergySource source, Timestamp at) {
    JobHeatBatch batch(tx);
    auto record = batch.record(core, hub_id, job_id, electrical, source, at);
    batch.finish();
    return record;
}

// ---- rates --------------------------------------------------------------------------------

CreditRate HeatLedger::set_credit_rate(std::string_view hub_id, const Money& per_kwh,
                                       Timestamp effective_from) {
    if (per_kwh.minor_units() < 0) {
        throw Error::invalid("ratePerKwh", per_kwh.to_string(), "must not be negative");
    }
    check_instant(effective_from, "effectiveFrom");
    const Timestamp now = impl_->core.now();
    return impl_->core.database->write([&](store::Transaction& tx) {
        heat::require_hub(tx, hub_id);
        const auto settled = heat::settled_intervals(tx, hub_id);
        if (!settled.empty() && effective_from.ms() < settled.back().end) {
            throw Error(ErrorCode::conflict,
                        fmt::format("hub {} is settled until {}: a rate from {} would change a "
                                    "settled period",
                                    hub_id, to_iso8601(Timestamp::from_ms(settled.back().end)),
                                    to_iso8601(effective_from)),
                        "effectiveFrom");
        }
        for (const auto& segment : heat::rate_segments(tx, hub_id)) {
            const bool replaced = segment.from == effective_from.ms() ||
                                  (segment.is_default && effective_from.ms() == 0);
            if (!replaced && segment.currency != per_kwh.currency().code()) {
                throw Error(ErrorCode::conflict,
                            fmt::format("hub {} credits heat in {}, not {}", hub_id,
                                        segment.currency, per_kwh.currency().code()),
                            "currency");
            }
        }
        tx.prepare(
              "INSERT INTO heat_rates (hub_id, effective_from, rate_minor, currency, recorded_at) "
              "VALUES (?, ?, ?, ?, ?) ON CONFLICT (hub_id, effective_from) DO UPDATE SET "
              "rate_minor = excluded.rate_minor, currency = excluded.currency, "
              "recorded_at = excluded.recorded_at")
            .bind_all(hub_id, effective_from.ms(), per_kwh.minor_units(), per_kwh.currency().code(),
                      now.ms())
            .run();
        heat::check_settleable(tx, hub_id, heat::hub_totals(tx, hub_id).thermal_mwh, "ratePerKwh",
                               per_kwh.to_string());
        return CreditRate{std::string(hub_id), per_kwh, effective_from, false};
    });
}

std::vector<CreditRate> HeatLedger::credit_rates(std::string_view hub_id) const {
    return impl_->core.database->read([&](store::Transaction& tx) {
        heat::require_hub(tx, hub_id);
        std::vector<CreditRate> rates;
        for (const auto& segment : heat::rate_segments(tx, hub_id)) {
            rates.push_back(CreditRate{std::string(hub_id),
                                       Money(segment.rate_minor, Currency::of(segment.currency)),
                                       Timestamp::from_ms(segment.from), segment.is_default});
        }
        return rates;
    });
}

// ---- credits, settlement, statistics ------------------------------------------------------

HeatCredit HeatLedger::credits(std::string_view hub_id, std::optional<Timestamp> period_start,
                               std::optional<Timestamp> period_end) const {
    const Timestamp now = impl_->core.now();
    return impl_->core.database->read([&](store::Transaction& tx) {
        heat::require_hub(tx, hub_id);
        const auto settlements = heat::load_settlements(tx, hub_id);
        Timestamp settled_until;
        for (const auto& settlement : settlements) {
            settled_until = std::max(settled_until, settlement.period_end);
        }
        const Timestamp start = period_start.value_or(settled_until);
        const Timestamp end = period_end.value_or(now);
        check_period(start, end);
        const auto rates = heat::rate_segments(tx, hub_id);
        HeatCredit credit{std::string(hub_id), start, end, Energy(), in_currency(0, rates), false};
        // Whole settled periods inside the span count with their settled figures; the rest of
        // the span is one period computed from its totals.
        std::vector<Interval> inside;
        std::vector<Interval> all;
        for (const auto& settlement : settlements) {
            all.push_back({settlement.period_start.ms(), settlement.period_end.ms()});
            if (settlement.period_start >= start && settlement.period_end <= end) {
                inside.push_back(all.back());
                credit.total_heat += settlement.total_heat;
                credit.credit += settlement.credit;
            }
        }
        PeriodSum rest;
        for (const auto& span : heat::subtract(start.ms(), end.ms(), inside)) {
            rest.add_span(tx, hub_id, rates, span.start, span.end);
        }
        credit.total_heat += Energy::milliwatt_hours(rest.heat_mwh);
        credit.credit += in_currency(rest.credit_minor(), rates);
        credit.settled = heat::subtract(start.ms(), end.ms(), all).empty();
        return credit;
    });
}

HeatSettlement HeatLedger::Impl::settle(store::Transaction& tx, std::string_view hub_id,
                                        Timestamp start, Timestamp end, Timestamp now) const {
    heat::require_hub(tx, hub_id);
    auto overlapping = tx.prepare(
        "SELECT period_start, period_end FROM heat_settlements WHERE hub_id = ? "
        "AND period_start < ? AND period_end > ? ORDER BY period_start");
    overlapping.bind_all(hub_id, end.ms(), start.ms());
    if (overlapping.step()) {
        const Timestamp other_start = Timestamp::from_ms(overlapping.column_int64(0));
        const Timestamp other_end = Timestamp::from_ms(overlapping.column_int64(1));
        if (other_start == start && other_end == end) {
            for (auto& settlement : heat::load_settlements(tx, hub_id)) {
                if (settlement.period_start == start) {
                    return settlement;  // the same period again: already settled
                }
            }
        }
        throw Error(ErrorCode::conflict,
                    fmt::format("hub {}: the period {} to {} overlaps the settled period {} to {}",
                                hub_id, to_iso8601(start), to_iso8601(end), to_iso8601(other_start),
                                to_iso8601(other_end)),
                    "periodStart");
    }
    const auto rates = heat::rate_segments(tx, hub_id);
    PeriodSum sum;
    sum.add_span(tx, hub_id, rates, start.ms(), end.ms());
    HeatSettlement settlement{std::string(hub_id),
                              start,
                              end,
                              Energy::milliwatt_hours(sum.heat_mwh),
                              in_currency(sum.credit_minor(), rates),
                              sum.records,
                              now};
    tx.prepare(
          "INSERT INTO heat_settlements (hub_id, period_start, period_end, total_heat_mwh, "
          "credit_minor, currency, record_count, settled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind_all(hub_id, start.ms(), end.ms(), sum.heat_mwh, settlement.credit.minor_units(),
                  settlement.credit.currency().code(), sum.records, now.ms())
        .run();
    events::append(tx, now, "heat.settled", hub_id, {},
                   json::serialize(boost::json::object{{"periodStart", to_iso8601(start)},
                                                       {"periodEnd", to_iso8601(end)},
                                                       {"totalHeatMwh", sum.heat_mwh}}));
    detail::SettlementPosting post;
    {
        std::lock_guard lock(posting_mutex);
        post = posting;
    }
    if (post) {
        post(tx, settlement);
    }
    return settlement;
}

HeatSettlement HeatLedger::settle(std::string_view hub_id, Timestamp period_start,
                                  Timestamp period_end) {
    check_period(period_start, period_end);
    const Timestamp now = impl_->core.now();
    if (period_end > now) {
        throw Error::invalid("periodEnd", to_iso8601(period_end),
                             "lies in the future: a period is settled once it has ended");
    }
    return impl_->core.database->write([&](store::Transaction& tx) {
        return impl_->settle(tx, hub_id, period_start, period_end, now);
    });
}

std::vector<HeatSettlement> HeatLedger::settlements(std::string_view hub_id) const {
    return impl_->core.database->read([&](store::Transaction& tx) {
        heat::require_hub(tx, hub_id);
        return heat::load_settlements(tx, hub_id);
    });
}

HeatStats heat::stats_in(store::Transaction& tx, std::string_view hub_id) {
    heat::require_hub(tx, hub_id);
    const auto rates = heat::rate_segments(tx, hub_id);
    const auto settlements = heat::load_settlements(tx, hub_id);
    HeatStats stats{std::string(hub_id),
                    Energy(),
                    in_currency(0, rates),
                    in_currency(0, rates),
                    static_cast<std::int64_t>(settlements.size()),
                    std::nullopt};
    std::vector<Interval> settled;
    for (const auto& settlement : settlements) {
        settled.push_back({settlement.period_start.ms(), settlement.period_end.ms()});
        stats.total_heat += settlement.total_heat;
        stats.total_credit += settlement.credit;
        if (!stats.last_period_end || settlement.period_end > *stats.last_period_end) {
            stats.last_period_end = settlement.period_end;
        }
    }
    PeriodSum unsettled;
    for (const auto& span : heat::subtract(0, heat::kEndOfTime, settled)) {
        unsettled.add_span(tx, hub_id, rates, span.start, span.end);
    }
    stats.total_heat += Energy::milliwatt_hours(unsettled.heat_mwh);
    stats.unsettled_credit = in_currency(unsettled.credit_minor(), rates);
    stats.total_credit += stats.unsettled_credit;
    return stats;
}

HeatStats HeatLedger::stats(std::string_view hub_id) const {
    return impl_->core.database->read(
        [&](store::Transaction& tx) { return heat::stats_in(tx, hub_id); });
}

// ---- series and heat demand ---------------------------------------------------------------

heat::SeriesSpan heat::series_span(SeriesResolution resolution, Timestamp from, Timestamp to) {
    check_instant(from, "from");
    if (to <= from) {
        throw Error::invalid("to", to_iso8601(to), "must lie after from");
    }
    const std::int64_t size = resolution == SeriesResolution::hour ? heat::kHourMs : heat::kDayMs;
    const std::int64_t start = from.ms() - from.ms() % size;
    const std::int64_t span = to.ms() - start;
    const std::int64_t count = span / size + (span % size != 0 ? 1 : 0);
    if (count > kMaxSeriesPoints) {
        throw Error::invalid(
            "to", to_iso8601(to),
            fmt::format("spans {} buckets; at most {} at a time", count, kMaxSeriesPoints));
    }
    return {start, size, count};
}

HeatSeries heat::series_in(store::Transaction& tx, std::string_view hub_id,
                           SeriesResolution resolution, const SeriesSpan& buckets, Timestamp now) {
    const auto [start, size, count] = buckets;
    heat::require_hub(tx, hub_id);
    HeatSeries series{std::string(hub_id), resolution, {}};
    for (std::int64_t i = 0; i < count; ++i) {
        series.points.push_back({Timestamp::from_ms(start + i * size), {}, {}, {}, 0});
    }
    auto statement = tx.prepare(
        "SELECT bucket_start, electrical_mwh, thermal_mwh, record_count FROM heat_buckets "
        "WHERE hub_id = ? AND resolution = ? AND bucket_start >= ? AND bucket_start < ?");
    statement.bind_all(hub_id, to_string(resolution), start, start + count * size);
    while (statement.step()) {
        auto& point =
            series.points[static_cast<std::size_t>((statement.column_int64(0) - start) / size)];
        point.electricity = Energy::milliwatt_hours(statement.column_int64(1));
        point.heat = Energy::milliwatt_hours(statement.column_int64(2));
        point.records = statement.column_int64(3);
    }
    std::vector<heat::Int128> watt_ms(series.points.size());
    heat::integrate_demand(tx, hub_id, start, size, now.ms(), watt_ms);
    for (std::size_t i = 0; i < watt_ms.size(); ++i) {
        // watts x ms / 3600 = mWh
        series.points[i].heat_demand =
            Energy::milliwatt_hours(heat::divide_half_even(watt_ms[i], 3600));
    }
    return series;
}

HeatSeries HeatLedger::series(std::string_view hub_id, SeriesResolution resolution, Timestamp from,
                              Timestamp to) const {
    const auto buckets = heat::series_span(resolution, from, to);
    const Timestamp now = impl_->core.now();
    return impl_->core.database->read([&](store::Transaction& tx) {
        return heat::series_in(tx, hub_id, resolution, buckets, now);
    });
}

HeatGroupStats HeatLedger::group_stats(const HubGroup& group) const {
    return impl_->core.database->read(
        [&](store::Transaction& tx) { return heat::group_stats_in(tx, group); });
}

HeatGroupSeries HeatLedger::group_series(const HubGroup& group, SeriesResolution resolution,
                                         Timestamp from, Timestamp to) const {
    const auto buckets = heat::series_span(resolution, from, to);
    const Timestamp now = impl_->core.now();
    return impl_->core.database->read([&](store::Transaction& tx) {
        return heat::group_series_in(tx, group, resolution, buckets, now);
    });
}

void detail::record_heat_demand(store::Transaction& tx, const HubCore& core,
                                std::string_view hub_id, std::int64_t watts, Timestamp at,
                                std::optional<Timestamp> valid_until) {
    if (watts < 0) {
        throw Error::invalid("heatDemandW", std::to_string(watts), "must not be negative");
    }
    check_instant(at, "at");
    heat::require_hub(tx, hub_id);
    std::optional<std::int64_t> until;
    if (valid_until) {
        until = valid_until->ms();
    }
    tx.prepare(
          "INSERT INTO heat_demand_changes (hub_id, at, watts, valid_until, recorded_at) "
          "VALUES (?, ?, ?, ?, ?)")
        .bind_all(hub_id, at.ms(), watts, until, core.now().ms())
        .run();
}

std::int64_t detail::unmet_heat_demand_w(store::Transaction& tx, std::string_view hub_id,
                                         Timestamp now, std::chrono::milliseconds window) {
    if (window.count() <= 0) {
        throw Error::invalid("window", std::to_string(window.count()), "must be above 0 ms");
    }
    heat::require_hub(tx, hub_id);
    const std::int64_t demand = heat::demand_at(tx, hub_id, now.ms());
    if (demand == 0) {
        return 0;
    }
    const std::int64_t since = now.ms() - std::min(window.count(), now.ms());
    // credit_at >= at, so the index on credit_at finds every record delivered in the window.
    auto statement = tx.prepare(
        "SELECT COALESCE(SUM(thermal_mwh), 0) FROM heat_records WHERE hub_id = ? "
        "AND credit_at > ? AND at > ? AND at <= ?");
    statement.bind_all(hub_id, since, since, now.ms());
    statement.step();
    // mWh over the window in watts: mWh x 3600 / ms.
    const auto delivered = static_cast<std::int64_t>(
        static_cast<heat::Int128>(statement.column_int64(0)) * 3600 / window.count());
    return std::max<std::int64_t>(0, demand - delivered);
}

std::int64_t HeatLedger::unmet_heat_demand_w(std::string_view hub_id,
                                             std::chrono::milliseconds window) const {
    const Timestamp now = impl_->core.now();
    return impl_->core.database->read([&](store::Transaction& tx) {
        return detail::unmet_heat_demand_w(tx, hub_id, now, window);
    });
}

void detail::HeatLedgerAccess::set_settlement_posting(HeatLedger& ledger,
                                                      SettlementPosting posting) {
    std::lock_guard lock(ledger.impl_->posting_mutex);
    ledger.impl_->posting = std::move(posting);
}

}  // namespace sihlicon
