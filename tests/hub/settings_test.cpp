// SPDX-License-Identifier: Apache-2.0
//
// Hub settings (include/sihlicon/settings.hpp): stored in the hub, validated, audited, changed
// only by the operator, and applied by every process that opens the hub.
#include "settlement/fixture.hpp"
#include "support/errors.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/hub.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/settings.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace sihlicon {

using testing::error_from;
using testing::error_of;
using testing::SettlementFixture;
using testing::TempDir;
using testing::usd;

namespace {

constexpr std::string_view kOperator = kOperatorPrincipal;

// A setting out of range, or of the wrong form, and the text that names it.
const std::vector<std::pair<std::string, std::string>> kBadValues = {
    {"chargeJobs", "yes"},
    {"requireWorkerSignatures", "1"},
    {"currency", "DOGE"},
    {"defaultPrice", "-0.10"},
    {"defaultPrice", "ten"},
    {"prices.ocr", "-1"},
    {"prices.no such type", "0.10"},
    {"protocolFeePpm", "1000001"},
    {"operatorFeePpm", "-1"},
    {"operatorFeePpm", "990000"},  // with the protocol's 20,000: above 1,000,000
    {"workPoolPpm", "2000000"},
    {"demandMinPpm", "0"},
    {"demandMaxPpm", "999999"},  // below demandMinPpm
    {"demandMaxPpm", "100000001"},
    {"demandFullQueueDepth", "0"},
    {"epochDurationMs", "0"},
    {"epochDurationMs", "soon"},
    {"preferenceWindowMs", "2d"},
    {"preferenceWindowMs", "-1"},
    {"submissionsPerHour", "-1"},
    {"submissionsPerHour", "1000000001"},
    {"agingIntervalMs", "0"},
    {"heartbeatIntervalMs", "0"},
    {"heartbeatIntervalMs", "25h"},
    {"missedHeartbeats", "0"},
    {"missedHeartbeats", "1001"},
    {"defaultUploadBytesPerHour", "-5"},
    {"defaultTotalBytes", "-1"},
    {"defaultTotalBytes", "lots"},
    {"noSuchSetting", "1"},
};

}  // namespace

TEST_CASE("a new hub's settings are the documented defaults and round-trip through JSON") {
    TempDir dir;
    const auto hub = Hub::open(dir.path());
    const auto settings = hub.settings();
    CHECK(settings == HubSettings{});
    CHECK_FALSE(settings.charge_jobs);
    CHECK(settings.default_price == usd("0.10"));
    CHECK(settings.preference_window == std::chrono::milliseconds(60'000));
    CHECK(settings.submissions_per_hour == 10);
    CHECK(hub.settings_history().empty());

    HubSettings changed;
    changed.charge_jobs = true;
    changed.require_worker_signatures = true;
    changed.currency = Currency::of("CHF");
    changed.default_price = Money::parse("0.25", changed.currency);
    changed.prices.emplace("ocr", Money::parse("0.05", changed.currency));
    changed.protocol_fee_ppm = 10'000;
    changed.operator_fee_ppm = 30'000;
    changed.work_pool_ppm = 600'000;
    changed.demand_min_ppm = 800'000;
    changed.demand_max_ppm = 2'000'000;
    changed.demand_full_queue_depth = 7;
    changed.epoch_duration_ms = 3'600'000;
    changed.preference_window = std::chrono::milliseconds(5'000);
    changed.submissions_per_hour = 0;
    changed.aging_interval = std::chrono::milliseconds(1'000);
    changed.heartbeat_interval = std::chrono::milliseconds(10'000);
    changed.missed_heartbeats = 5;
    changed.default_upload_bytes_per_hour = 1'000;
    changed.default_total_bytes = 5'000;
    CHECK(HubSettings::from_json(changed.to_json()) == changed);
    CHECK(HubSettings::from_json("{}", changed) == changed);  // a patch of nothing
}

TEST_CASE("each setting with a bad value is refused naming the key and the value; none changes") {
    TempDir dir;
    auto hub = Hub::open(dir.path());
    for (const auto& [key, value] : kBadValues) {
        CAPTURE(key);
        CAPTURE(value);
        const auto error = error_from([&] { hub.set_setting(key, value, kOperator); });
        CHECK(error.code() == ErrorCode::invalid_argument);
        const std::string text = error.field() + " " + error.what();
        const auto named = key.starts_with("prices.") ? std::string("prices") : key;
        CHECK(text.find(named) != std::string::npos);
        // A key that is no setting or no job type is what is wrong, and is named.
        const bool bad_key = key == "noSuchSetting" || key == "prices.no such type";
        CHECK(text.find(bad_key ? key.substr(key.find('.') + 1) : value) != std::string::npos);
    }
    // The same through the JSON patch, with values of the wrong type too.
    for (const char* patch :
         {R"({"chargeJobs":"true"})", R"({"protocolFeePpm":1.5})", R"({"prices":{"ocr":1}})",
          R"({"defaultTotalBytes":"none"})", R"({"unknownKey":1})", R"({"epochDurationMs":0})",
          R"({"chargeJobs":true,"chargeJobs":false})", R"({"chargeJobs":null})", "[]", "{"}) {
        CAPTURE(patch);
        CHECK(error_of([&] { hub.patch_settings(patch, kOperator); }) ==
              ErrorCode::invalid_argument);
    }
    CHECK(hub.settings() == HubSettings{});
    CHECK(hub.settings_history().empty());
}

TEST_CASE("the CLI form of a setting: booleans, amounts, durations with units, prices, none") {
    TempDir dir;
    auto hub = Hub::open(dir.path());
    hub.set_setting("chargeJobs", "true", kOperator);
    hub.set_setting("defaultPrice", "0.05", kOperator);
    hub.set_setting("prices.ocr", "0.2", kOperator);
    hub.set_setting("prices.ai-inference", "1", kOperator);
    hub.set_setting("epochDurationMs", "2h", kOperator);
    hub.set_setting("preferenceWindowMs", "90s", kOperator);
    hub.set_setting("agingIntervalMs", "1500", kOperator);
    hub.set_setting("defaultTotalBytes", "1000000", kOperator);
    auto settings = hub.settings();
    CHECK(settings.charge_jobs);
    CHECK(settings.default_price == usd("0.05"));
    CHECK(settings.prices.at("ocr") == usd("0.2"));
    CHECK(settings.epoch_duration_ms == 7'200'000);
    CHECK(settings.preference_window == std::chrono::milliseconds(90'000));
    CHECK(settings.aging_interval == std::chrono::milliseconds(1'500));
    CHECK(settings.default_total_bytes == 1'000'000);
    hub.set_setting("prices.ocr", "none", kOperator);
    hub.set_setting("defaultTotalBytes", "none", kOperator);
    settings = hub.settings();
    CHECK(settings.prices.size() == 1);
    CHECK(settings.prices.count("ocr") == 0);
    CHECK_FALSE(settings.default_total_bytes);
}

TEST_CASE("changing the currency keeps the prices' amounts, or names one it cannot keep") {
    TempDir dir;
    auto hub = Hub::open(dir.path());
    hub.set_setting("prices.ocr", "0.05", kOperator);
    auto settings = hub.set_setting("currency", "CHF", kOperator);
    const auto chf = Currency::of("CHF");
    CHECK(settings.default_price == Money::parse("0.10", chf));
    CHECK(settings.prices.at("ocr") == Money::parse("0.05", chf));
    hub.set_setting("currency", "USD", kOperator);
    hub.set_setting("prices.ocr", "0.055", kOperator);
    const auto error = error_from([&] { hub.set_setting("currency", "CHF", kOperator); });
    CHECK(error.field() == "prices.ocr");
    CHECK(hub.settings().currency == Currency::of("USD"));
}

TEST_CASE("a settings change is audited: who, when, the key, its old and new value") {
    TempDir dir;
    HubOptions options;
    auto clock = std::make_shared<ManualClock>(Timestamp::from_ms(1'767'225'600'000));
    options.clock = clock;
    auto hub = Hub::open(dir.path(), options);
    hub.set_setting("defaultPrice", "0.25", kOperator);
    clock->advance(std::chrono::seconds(5));
    hub.patch_settings(R"({"chargeJobs":true,"protocolFeePpm":30000,"currency":"USD"})", kOperator);
    hub.set_setting("chargeJobs", "true", kOperator);  // no change: no row
    const auto history = hub.settings_history();
    REQUIRE(history.size() == 3);
    CHECK(history[0].seq < history[1].seq);
    CHECK(history[0].by == "operator");
    CHECK(history[0].at.ms() == 1'767'225'600'000);
    CHECK(history[0].key == "defaultPrice");
    CHECK(history[0].old_value == R"("0.100000")");
    CHECK(history[0].new_value == R"("0.250000")");
    CHECK(history[1].key == "chargeJobs");
    CHECK(history[1].at.ms() == 1'767'225'605'000);
    CHECK(history[1].old_value == "false");
    CHECK(history[1].new_value == "true");
    CHECK(history[2].key == "protocolFeePpm");
    CHECK(history[2].to_json().find(R"("old":20000,"new":30000)") != std::string::npos);
    CHECK(hub.settings_history(history[1].seq).size() == 1);
    CHECK(hub.settings_history(0, 1).size() == 1);
    CHECK(error_of([&] { hub.settings_history(0, 0); }) == ErrorCode::invalid_argument);
}

TEST_CASE("only the operator may change the settings") {
    TempDir dir;
    auto hub = Hub::open(dir.path());
    for (const std::string_view by : {"alice", "", "Operator", "operator "}) {
        CAPTURE(by);
        auto next = hub.settings();
        next.charge_jobs = true;
        CHECK(error_of([&] { hub.update_settings(next, by); }) == ErrorCode::permission_denied);
        CHECK(error_of([&] { hub.patch_settings(R"({"chargeJobs":true})", by); }) ==
              ErrorCode::permission_denied);
        CHECK(error_of([&] { hub.set_setting("chargeJobs", "true", by); }) ==
              ErrorCode::permission_denied);
    }
    CHECK_FALSE(hub.settings().charge_jobs);
    CHECK(hub.settings_history().empty());
}

TEST_CASE("initial settings apply when the hub is created and are ignored when it exists") {
    TempDir dir;
    HubOptions options;
    options.initial_settings.emplace().charge_jobs = true;
    options.initial_settings->submissions_per_hour = 0;
    {
        const auto hub = Hub::open(dir.path(), options);
        CHECK(hub.settings().charge_jobs);
        const auto history = hub.settings_history();
        REQUIRE(history.size() == 2);
        CHECK(history[0].by == "initial_settings");
    }
    options.initial_settings->charge_jobs = false;
    const auto hub = Hub::open(dir.path(), options);
    CHECK(hub.settings().charge_jobs);
    CHECK(hub.settings_history().size() == 2);
    // Invalid initial settings are refused either way.
    options.initial_settings->protocol_fee_ppm = -1;
    CHECK(error_from([&] { Hub::open(dir.path(), options); }).field() == "protocolFeePpm");
}

TEST_CASE("an upgraded hub with no stored setting takes the initial settings of its first open") {
    TempDir dir;
    { const auto hub = Hub::open(dir.path()); }  // as a version without stored settings left it
    HubOptions options;
    options.initial_settings.emplace().charge_jobs = true;
    {
        const auto hub = Hub::open(dir.path(), options);
        CHECK(hub.settings().charge_jobs);
        REQUIRE(hub.settings_history().size() == 1);
        CHECK(hub.settings_history()[0].by == "initial_settings");
    }
    options.initial_settings->charge_jobs = false;
    const auto hub = Hub::open(dir.path(), options);
    CHECK(hub.settings().charge_jobs);
}

TEST_CASE("the default upload quota setting is the content store's quota of owner *") {
    TempDir dir;
    auto hub = Hub::open(dir.path());
    hub.set_setting("defaultUploadBytesPerHour", "4", kOperator);
    CHECK(hub.content_store().quota("anyone").upload_bytes_per_hour == 4);
    const std::string bytes = "hello";
    CHECK(error_of([&] {
              hub.content_store().put_bytes(
                  std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
                  "anyone", PutOptions{});
          }) == ErrorCode::quota_exceeded);
    Quota own;
    own.upload_bytes_per_hour = 7;
    hub.content_store().set_quota("*", own);
    CHECK(hub.settings().default_upload_bytes_per_hour == 7);
    // Through the content store too, a change of the default is audited.
    const auto history = hub.settings_history();
    REQUIRE(history.size() == 2);
    CHECK(history[1].key == "defaultUploadBytesPerHour");
    CHECK(history[1].old_value == "4");
    CHECK(history[1].new_value == "7");
}

TEST_CASE("a changed price applies to this process's next job at once") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", usd("1"), "tx-1");
    const auto before = f.scheduler().submit(SettlementFixture::job());
    CHECK(f.settlement().charge_of(before.id)->price == usd("0.10"));
    f.hub->set_setting("prices.ocr", "0.30", kOperator);
    const auto after = f.scheduler().submit(SettlementFixture::job());
    CHECK(f.settlement().charge_of(after.id)->price == usd("0.30"));
    CHECK(f.settlement().price_of("ocr") == usd("0.30"));
    f.hub->set_setting("chargeJobs", "false", kOperator);
    CHECK_FALSE(f.settlement().charge_of(f.scheduler().submit(SettlementFixture::job()).id));
}

TEST_CASE("two processes on one hub charge the same: B changes the price, A charges it") {
    SettlementFixture f;  // process A: its hub is open, its settings read and cached
    f.add_site();
    f.settlement().top_up("alice", usd("5"), "tx-1");
    const auto first = f.scheduler().submit(SettlementFixture::job());
    CHECK(f.settlement().charge_of(first.id)->price == usd("0.10"));

    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {  // process B opens the same hub and changes the price
        int status = 0;
        try {
            auto other = Hub::open(f.dir.path());
            other.set_setting("defaultPrice", "0.40", kOperator);
        } catch (...) {
            status = 1;
        }
        _exit(status);
    }
    int status = -1;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);

    const auto second = f.scheduler().submit(SettlementFixture::job());
    CHECK(f.settlement().charge_of(second.id)->price == usd("0.40"));
    CHECK(f.hub->settings().default_price == usd("0.40"));
    // And the other way: A's change reaches a process that opens the hub after it.
    f.hub->set_setting("requireWorkerSignatures", "true", kOperator);
    const pid_t reader = fork();
    REQUIRE(reader >= 0);
    if (reader == 0) {
        int code = 1;
        try {
            const auto other = Hub::open(f.dir.path());
            code = other.settings().require_worker_signatures &&
                           other.settlement().price_of("ocr") == usd("0.40")
                       ? 0
                       : 2;
        } catch (...) {
            code = 3;
        }
        _exit(code);
    }
    REQUIRE(waitpid(reader, &status, 0) == reader);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("the scheduler's hub-wide rules are settings every process reads: the rate limit") {
    SettlementFixture f;
    f.hub->set_setting("chargeJobs", "false", kOperator);
    f.hub->set_setting("submissionsPerHour", "2", kOperator);
    f.scheduler().submit(SettlementFixture::job("bob"));
    f.scheduler().submit(SettlementFixture::job("bob"));
    CHECK(error_of([&] { f.scheduler().submit(SettlementFixture::job("bob")); }) ==
          ErrorCode::quota_exceeded);
    f.hub->set_setting("submissionsPerHour", "0", kOperator);
    CHECK_NOTHROW(f.scheduler().submit(SettlementFixture::job("bob")));
}

}  // namespace sihlicon

namespace sihlicon {

// Scheduler::options() returned a reference to the options after releasing their lock, so a
// caller copying it raced a set_options() on another thread (the tsan preset reports it on the
// old code); it returns a copy made under the lock.
TEST_CASE("Scheduler::options() is a copy, safe while another thread replaces the options") {
    TempDir dir;
    auto hub = Hub::open(dir.path());
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (int i = 0; i < 2'000; ++i) {
            auto options = hub.scheduler().options();
            options.lease_duration = std::chrono::milliseconds(i % 2 == 0 ? 30'000 : 90'000);
            hub.scheduler().set_options(options);
        }
        done = true;
    });
    bool every_read_whole = true;
    while (!done) {
        const auto lease = hub.scheduler().options().lease_duration.count();
        every_read_whole =
            every_read_whole && (lease == 30'000 || lease == 90'000 || lease == 60'000);
    }
    writer.join();
    CHECK(every_read_whole);
}

}  // namespace sihlicon
