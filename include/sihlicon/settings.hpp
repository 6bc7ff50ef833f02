// SPDX-License-Identifier: Apache-2.0
//
// Hub settings: everything that decides money or routing for the whole hub, stored in the hub
// (hub.db) and read by every process that opens it, at use. Two processes on one hub can no
// longer charge differently: a change made by one applies to the next submission, claim,
// completion or seal of every other.
//
// What is a setting and what is an option:
// - HubSettings (here): charging and prices, demand pricing, fees and the 70/30 split, epoch
//   length, the preference window, the scheduler's rate limit and priority aging, the
//   heartbeat interval and missed-heartbeat limit (they decide when a worker is offline, so
//   whom jobs go to and how much readiness money its uptime earns), requireWorkerSignatures
//   and the default upload quota (the content store's quota of owner "*").
// - Per-process options stay options: threads, timeouts, the commit interval (HubOptions),
//   SchedulerOptions (lease_duration, claim_scan_limit, input_recheck_interval) and
//   SettlementOptions (the operator signer).
//
// Changed only through Hub::update_settings / patch_settings / set_setting, which validate,
// write and append one audit row per changed key (Hub::settings_history) in one transaction.
// Only the operator (kOperatorPrincipal) may change them.
//
// The one codec: to_json() and from_json() are what the CLI, the C ABI and the bindings use;
// keys are camelCase, amounts decimal text in the currency ("0.10"), durations integer ms.
#pragma once

#include <sihlicon/export.hpp>
#include <sihlicon/money.hpp>
#include <sihlicon/time.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon {

struct SIHLICON_API HubSettings {
    // chargeJobs: charge jobs at submission (a reservation on the owner's account, charged at
    // completion). false: jobs run free; epochs still seal. Default false.
    bool charge_jobs = false;
    // requireWorkerSignatures: refuse a completion without a worker signature, an EIP-191
    // signature of its proof of execution (sha256(job_id ‖ result_hash ‖ worker_id)) by the key
    // of the worker's "address" label. false: a signature, when given, is still checked.
    bool require_worker_signatures = false;
    // currency: the ISO code every account and price is in. Default USD. Changing it keeps
    // the prices' decimal amounts (0.10 USD becomes 0.10 CHF); an amount with more decimals
    // than the new currency keeps is refused, naming its key.
    Currency currency = Currency::of("USD");
    // defaultPrice: the price of a job whose type has no entry in `prices`, ≥ 0 in
    // `currency`. Default 0.10.
    Money default_price{100'000, Currency::of("USD")};
    // prices: per job type ("ocr": "0.05"), overriding defaultPrice; at most 64 entries.
    std::map<std::string, Money> prices;
    // protocolFeePpm / operatorFeePpm: the shares of an epoch's revenue, in parts per million
    // (0..1,000,000, together at most 1,000,000). Defaults 2 % and 5 %.
    std::int64_t protocol_fee_ppm = 20'000;
    std::int64_t operator_fee_ppm = 50'000;
    // workPoolPpm: of the rest, the work pool's share (paid by jobs completed), 0..1,000,000;
    // the readiness pool (paid by uptime) gets the remainder. Default 700,000 (70/30).
    std::int64_t work_pool_ppm = 700'000;
    // demandMinPpm / demandMaxPpm / demandFullQueueDepth: demand pricing (see the file comment
    // of settlement.hpp). The multiplier of the table price runs from demand_min_ppm (no
    // demand) to demand_max_ppm (full demand), in ppm of 1×;
    // 1 ≤ demand_min_ppm ≤ demand_max_ppm ≤ 100,000,000; demand_full_queue_depth
    // 1..1,000,000. Defaults 1,000,000, 1,000,000 (a flat price) and 100.
    std::int64_t demand_min_ppm = 1'000'000;
    std::int64_t demand_max_ppm = 1'000'000;
    std::int64_t demand_full_queue_depth = 100;
    // epochDurationMs: an epoch's length for seal_due_epoch(), 1 ms..10 years. Default 24 h.
    std::int64_t epoch_duration_ms = 24LL * 3600 * 1000;
    // preferenceWindowMs: how long a job submitted with a hubId waits for that hub before it
    // may run elsewhere, 0..1 day. Default 60 s.
    std::chrono::milliseconds preference_window{60'000};
    // submissionsPerHour: jobs one owner may submit per hour, 0 (unlimited)..1,000,000,000.
    // Default 10 (the seed).
    std::int64_t submissions_per_hour = 10;
    // apiRequestsPerHour: requests one client token's principal may make to the hub's server
    // (include/sihlicon/server.hpp) per hour of the hub's clock, 0 (unlimited)..1,000,000,000.
    // Default 1000 (the seed). Worker and operator tokens are not limited.
    std::int64_t api_requests_per_hour = 1000;
    // agingIntervalMs: waiting this long adds 1 to a job's priority, 1 ms..365 days.
    // Default 60 s.
    std::chrono::milliseconds aging_interval{60'000};
    // heartbeatIntervalMs: how often workers are expected to send heartbeats, 1 ms..1 day.
    // Default 30 s.
    std::chrono::milliseconds heartbeat_interval{30'000};
    // missedHeartbeats: a worker silent this many intervals is offline (its leases end, its
    // uptime stops counting), 1..1000. Default 3.
    std::int64_t missed_heartbeats = 3;
    // defaultUploadBytesPerHour / defaultTotalBytes: the content store's default quota (the
    // quota of owner "*", for every owner without one of its own): bytes uploaded per hour,
    // ≥ 0, default 100 MB; total bytes stored, ≥ 0 or none (null, the default).
    std::int64_t default_upload_bytes_per_hour = 100'000'000;
    std::optional<std::int64_t> default_total_bytes;

    // Throws Error::invalid naming the key (camelCase, "prices.ocr" for an entry) and its
    // value if a field is out of its range or an amount is not in `currency`.
    void validate() const;

    // Every key, in the order above: {"chargeJobs", "requireWorkerSignatures", "currency",
    // "defaultPrice", "prices", "protocolFeePpm", "operatorFeePpm", "workPoolPpm",
    // "demandMinPpm", "demandMaxPpm", "demandFullQueueDepth", "epochDurationMs",
    // "preferenceWindowMs", "submissionsPerHour", "apiRequestsPerHour", "agingIntervalMs",
    // "heartbeatIntervalMs", "missedHeartbeats", "defaultUploadBytesPerHour", "defaultTotalBytes"}.
    std::string to_json() const;

    // Reads a JSON object of any of those keys (read strictly: an unknown key, a wrong type or
    // a duplicate name is refused naming it) over `base`: missing keys keep base's values (a
    // patch). A "currency" given re-denominates base's prices (same decimal amounts); "prices"
    // replaces the whole table. The result is validated. Throws Error::invalid naming the key and
    // the value.
    static HubSettings from_json(std::string_view json, const HubSettings& base);
    // The same over the defaults.
    static HubSettings from_json(std::string_view json);

    // One key set from its text, the CLI form: "true"/"false"; decimal amounts ("0.05");
    // integers; durations (keys ending in Ms) as integer ms or with a unit ("500ms", "60s",
    // "5m", "2h", "1d"); "none" for defaultTotalBytes; "prices.TYPE" sets one price ("none"
    // removes it); "prices" takes a JSON object. Throws Error::invalid naming the key and the
    // value (an unknown key included). The result is validated.
    HubSettings with(std::string_view key, std::string_view value_text) const;

    bool operator==(const HubSettings&) const = default;
};

// One row of the audit trail: `by` changed `key` from `old_value` to `new_value` (JSON texts;
// old is the value before, the default when never set).
struct SIHLICON_API SettingsChange {
    std::int64_t seq = 0;  // increasing, never reused
    Timestamp at;
    std::string by;
    std::string key;
    std::string old_value;
    std::string new_value;

    // {"seq", "at" (ms), "by", "key", "old", "new"} with old and new as JSON values.
    std::string to_json() const;
};

}  // namespace sihlicon
