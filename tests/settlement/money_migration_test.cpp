// SPDX-License-Identifier: Apache-2.0
//
// Schema migrations 11 and 12: a hub made at schema 10 keeps every row, gains its heat totals,
// and from then on its money and energy columns refuse anything but integers.
#include "hub/hub_internal.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "store/schema.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sihlicon/error.hpp>
#include <sihlicon/heat_ledger.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/settlement.hpp>

#include <filesystem>
#include <map>
#include <string>

using namespace sihlicon;
using sihlicon::testing::TempDir;

namespace {

constexpr std::int64_t kAt = 1'767'225'600'000;  // 2026-01-01

// Rows of every money and energy table, written as a hub at schema 10 held them.
constexpr const char* kVersion10Rows[] = {
    "INSERT INTO hubs (id, name, site, region, heat_recovery_ppm, power_capacity_w, "
    "routing_policy, created_at, updated_at) VALUES ('pool', 'Pool', 'site-pool', 'CH', 900000, "
    "1000, 'least-loaded', 1767225600000, 1767225600000)",
    "INSERT INTO heat_records (hub_id, kind, tag, at, credit_at, electrical_mwh, thermal_mwh, "
    "energy_source, recorded_at) VALUES ('pool', 'battery-losses', '', 1767225600000, "
    "1767225600000, 2000, 1800, 'measured', 1767225600000), ('pool', 'other', 'stove', "
    "1767229200000, 1767229200000, NULL, 700, 'estimated', 1767229200000)",
    "INSERT INTO heat_buckets VALUES ('pool', 'hour', 1767225600000, 2000, 1800, 1, 1800, 1), "
    "('pool', 'hour', 1767229200000, 0, 700, 1, 700, 1), "
    "('pool', 'day', 1767225600000, 2000, 2500, 2, 2500, 2)",
    "INSERT INTO heat_rates VALUES ('pool', 0, 7, 'CHF', 1767225600000)",
    "INSERT INTO heat_settlements VALUES ('pool', 1767225600000, 1767229200000, 1800, 0, 'CHF', "
    "1, 1767229200000)",
    "INSERT INTO jobs (id, owner, spec, hub_id, queue_hub, cpu_millicores, memory_bytes, gpu, "
    "gpu_vram_bytes, required_labels, priority, sort_key, timeout_ms, status, max_attempts, "
    "backoff_ms, actual_mwh, energy_source, heat_mwh, created_at, updated_at) VALUES ('j1', "
    "'alice', '{}', 'pool', 'pool', 1000, 1024, 0, 0, '{}', 0, 1, 60000, 'completed', 1, 1000, "
    "2000, 'measured', 1800, 1767225600000, 1767225600000)",
    "INSERT INTO job_dependencies VALUES ('j1', 'j1')",
    "INSERT INTO settlement_accounts (id, kind, owner, currency, balance, pending_debits, "
    "pending_credits, created_at) VALUES ('external/bank/USD', 'external', 'bank', 'USD', "
    "-5000000, 0, 0, 1767225600000), ('client/alice/USD', 'client', 'alice', 'USD', 4000000, "
    "1000000, 0, 1767225600000), ('escrow/hub/USD', 'escrow', 'hub', 'USD', 1000000, 0, "
    "1000000, 1767225600000)",
    "INSERT INTO settlement_transfers (id, debit_account, credit_account, amount, currency, kind, "
    "reference, phase, status, created_at) VALUES ('top-up', 'external/bank/USD', "
    "'client/alice/USD', 5000000, 'USD', 'deposit', 'tx-1', 'single', 'posted', 1767225600000), "
    "('job:j1:reserve:1', 'client/alice/USD', 'escrow/hub/USD', 1000000, 'USD', 'job_charge', "
    "'j1', 'pending', 'posted', 1767225600000), ('job:j1:post', 'client/alice/USD', "
    "'escrow/hub/USD', 1000000, 'USD', 'job_charge', 'j1', 'post', 'posted', 1767225600000), "
    "('market:m1:reserve', 'client/alice/USD', 'escrow/hub/USD', 1000000, 'USD', 'transfer', "
    "'m1', 'pending', 'pending', 1767225600000)",
    "INSERT INTO settlement_entries (transfer_id, account_id, amount, balance_after, at) VALUES "
    "('top-up', 'external/bank/USD', -5000000, -5000000, 1767225600000), ('top-up', "
    "'client/alice/USD', 5000000, 5000000, 1767225600000), ('job:j1:post', "
    "'client/alice/USD', -1000000, 4000000, 1767225600000), ('job:j1:post', 'escrow/hub/USD', "
    "1000000, 1000000, 1767225600000)",
    "INSERT INTO settlement_job_charges (job_id, owner, job_type, price, currency, transfer_id, "
    "reservation, status, base_price) VALUES ('j1', 'alice', 'ocr', 1000000, 'USD', "
    "'job:j1:reserve:1', 1, 'captured', 1000000)",
    "INSERT INTO settlement_epochs (id, number, status, start_at, end_at, jobs_count, revenue, "
    "currency) VALUES ('epoch-000001', 1, 'finalized', 1767225600000, 1767229200000, 1, 1000000, "
    "'USD')",
    "INSERT INTO settlement_epoch_jobs VALUES ('j1', 1, 'alice', 'bee-01', 'ocr', 'pool', "
    "1000000, 'USD', 'r', 'p', 1767225600000)",
    "INSERT INTO settlement_payouts VALUES ('epoch-000001', 'bee-01', 650000, 280000, 'USD', 1, "
    "3600000)",
    "INSERT INTO settlement_market_transactions (id, type, buyer_hub, seller_hub, quantity, unit, "
    "unit_price, total, currency, status, reference, transfer_id, created_at) VALUES ('m1', "
    "'compute', 'pool', 'other', 10, 'cpu-hour', 100000, 1000000, 'USD', 'pending', '', "
    "'market:m1:reserve', 1767225600000)",
};

// table, its money or energy columns
constexpr std::pair<const char*, const char*> kMoneyColumns[] = {
    {"settlement_accounts", "balance"},
    {"settlement_accounts", "pending_debits"},
    {"settlement_accounts", "pending_credits"},
    {"settlement_transfers", "amount"},
    {"settlement_entries", "amount"},
    {"settlement_entries", "balance_after"},
    {"settlement_job_charges", "price"},
    {"settlement_job_charges", "base_price"},
    {"settlement_epochs", "revenue"},
    {"settlement_epoch_jobs", "fee"},
    {"settlement_payouts", "work_share"},
    {"settlement_payouts", "readiness_share"},
    {"settlement_market_transactions", "unit_price"},
    {"settlement_market_transactions", "total"},
    {"heat_records", "electrical_mwh"},
    {"heat_records", "thermal_mwh"},
    {"heat_buckets", "electrical_mwh"},
    {"heat_buckets", "thermal_mwh"},
    {"heat_buckets", "credited_mwh"},
    {"heat_rates", "rate_minor"},
    {"heat_settlements", "total_heat_mwh"},
    {"heat_settlements", "credit_minor"},
    {"jobs", "actual_mwh"},
    {"jobs", "heat_mwh"},
};

// Makes a hub database at schema 10 holding kVersion10Rows, plus `extra` statements.
void make_version_10_hub(const std::filesystem::path& directory,
                         std::initializer_list<const char*> extra = {}) {
    store::Database database(directory / "hub.db", store::DatabaseOptions{});
    store::migrate(database, store::hub_migrations().first(10), kAt);
    database.write([&](store::Transaction& tx) {
        for (const char* sql : kVersion10Rows) {
            tx.prepare(sql).run();
        }
        for (const char* sql : extra) {
            tx.prepare(sql).run();
        }
    });
}

std::string text_of(store::Database& database, const std::string& sql) {
    return database.read([&](store::Transaction& tx) {
        auto row = tx.prepare(sql);
        row.step();
        return row.column_text(0);
    });
}

}  // namespace

TEST_CASE("a hub made at schema 10 migrates to integer-only money and energy keeping every row") {
    TempDir dir;
    make_version_10_hub(dir.path());
    std::map<std::string, std::int64_t> counts;
    {
        store::Database database(dir.path() / "hub.db", store::DatabaseOptions{});
        for (const auto& [table, column] : kMoneyColumns) {
            counts[table] =
                std::stoll(text_of(database, std::string("SELECT COUNT(*) FROM ") + table));
        }
    }
    HubOptions options;
    options.durability = Durability::process_crash;
    auto hub = Hub::open(dir.path(), options);
    CHECK(hub.info().schema_version == Hub::latest_schema_version());
    auto& database = HubAccess::database(hub);
    for (const auto& [table, expected] : counts) {
        const auto extra = std::string(table) == "heat_buckets" ? 1 : 0;  // the 'total' bucket
        CHECK_MESSAGE(std::stoll(text_of(database, std::string("SELECT COUNT(*) FROM ") + table)) ==
                          expected + extra,
                      table);
    }
    CHECK(text_of(database,
                  "SELECT thermal_mwh || '/' || electrical_mwh || '/' || record_count "
                  "FROM heat_buckets WHERE resolution = 'total'") == "2500/2000/2");
    CHECK(hub.settlement()
              .account(AccountRef{AccountKind::client, "alice", Currency::of("USD")})
              .balance == Money(4'000'000, Currency::of("USD")));
    CHECK(hub.heat_ledger().stats("pool").total_heat == Energy::milliwatt_hours(2500));
    CHECK(hub.heat_ledger().credit_rates("pool").front().per_kwh == Money(7, Currency::of("CHF")));
    CHECK(text_of(database, "SELECT COUNT(*) FROM pragma_foreign_key_check") == "0");
    CHECK(text_of(database, "SELECT COUNT(*) FROM job_dependencies") == "1");
    CHECK(text_of(database,
                  "SELECT COUNT(*) FROM sqlite_schema WHERE tbl_name = 'jobs' AND "
                  "type = 'index' AND sql IS NOT NULL") ==
          "9");  // the 6 the rebuild recreates, and the 3 of the preferred-hub migration

    // From now on the database itself refuses a REAL or TEXT in any money or energy column.
    for (const auto& [table, column] : kMoneyColumns) {
        for (const char* value : {"1.5", "'ten'", "9223372036854775807 + 1"}) {
            const std::string sql =
                std::string("UPDATE ") + table + " SET " + column + " = " + value;
            bool refused = false;
            try {
                database.write([&](store::Transaction& tx) { tx.prepare(sql).run(); });
            } catch (const Error&) {
                refused = true;
            }
            CHECK_MESSAGE(refused, sql);
        }
        CHECK_MESSAGE(
            text_of(database, std::string("SELECT COUNT(*) FROM ") + table + " WHERE typeof(" +
                                  column + ") NOT IN ('integer', 'null')") == "0",
            table);
    }
}

TEST_CASE("a schema 10 hub with a REAL amount stays at schema 10 instead of migrating") {
    TempDir dir;
    make_version_10_hub(dir.path(),
                        {"UPDATE settlement_accounts SET balance = balance + 9223372036854775807 "
                         "WHERE id = 'client/alice/USD'"});
    HubOptions options;
    options.durability = Durability::process_crash;
    CHECK_THROWS_AS(Hub::open(dir.path(), options), Error);
    store::Database database(dir.path() / "hub.db", store::DatabaseOptions{});
    CHECK(text_of(database, "SELECT MAX(version) FROM schema_migrations") == "10");
    CHECK(text_of(database,
                  "SELECT typeof(balance) FROM settlement_accounts WHERE id = "
                  "'client/alice/USD'") == "real");
}
