// SPDX-License-Identifier: Apache-2.0
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>
#include <sihlicon/power_meter.hpp>

#include <fstream>

using namespace sihlicon;
using sihlicon::testing::TempDir;

namespace {

constexpr std::int64_t kRange = 262'143'328'850;  // a real package's max_energy_range_uj

void write(const std::filesystem::path& path, const std::string& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text << '\n';
}

// A fake /sys/class/powercap: zones with name, energy_uj and max_energy_range_uj.
struct FakePowercap {
    TempDir dir;

    void zone(const std::string& zone, const std::string& name, std::int64_t energy_uj,
              std::int64_t range_uj = kRange) {
        write(dir / zone / "name", name);
        write(dir / zone / "energy_uj", std::to_string(energy_uj));
        write(dir / zone / "max_energy_range_uj", std::to_string(range_uj));
    }
    void set(const std::string& zone, std::int64_t energy_uj) {
        write(dir / zone / "energy_uj", std::to_string(energy_uj));
    }
    RaplOptions options() const { return RaplOptions{dir.path()}; }
};

auto clock_at(std::int64_t ms) {
    return std::make_shared<ManualClock>(Timestamp::from_ms(ms));
}

}  // namespace

TEST_CASE("the RAPL meter adds its top-level zones and ignores their sub-zones") {
    FakePowercap powercap;
    powercap.zone("intel-rapl:0", "package-0", 1'000'000);
    powercap.zone("intel-rapl:0:0", "core", 500'000);
    powercap.zone("intel-rapl:1", "package-1", 2'000'000);
    write(powercap.dir / "intel-rapl" / "enabled", "1");
    const auto clock = clock_at(1'000);
    const RaplPowerMeter meter(clock, powercap.options());
    REQUIRE(meter.domains().size() == 2);
    CHECK(meter.domains()[0].name == "package-0");
    CHECK(meter.domains()[1].max_energy_range_uj == kRange);

    const auto begin = meter.sample();
    CHECK(begin.counters_uj == std::vector<std::int64_t>{1'000'000, 2'000'000});
    powercap.set("intel-rapl:0", 1'000'000 + 3'600'000'000);  // 1 Wh
    powercap.set("intel-rapl:0:0", 9'999'999'999);
    powercap.set("intel-rapl:1", 2'000'000 + 1'800'000'000);  // 0.5 Wh
    clock->advance(std::chrono::minutes(1));
    const auto end = meter.sample();
    const auto energy = meter.energy_between(begin, end, {});
    CHECK(energy.energy.mwh() == 1'500);
    CHECK(energy.source == EnergySource::measured);
}

TEST_CASE("the RAPL meter counts across a counter's wrap-around") {
    FakePowercap powercap;
    powercap.zone("intel-rapl:0", "package-0", kRange - 1'000'000);
    const RaplPowerMeter meter(clock_at(0), powercap.options());
    const auto begin = meter.sample();
    powercap.set("intel-rapl:0", 2'600'000);  // wrapped: 1,000,000 before the top, 2,600,000 after
    const auto end = meter.sample();
    CHECK(meter.energy_between(begin, end, {}).energy.mwh() == 1);  // 3.6 J = 1 mWh
}

TEST_CASE("microjoules become milliwatt-hours rounded half to even") {
    FakePowercap powercap;
    powercap.zone("intel-rapl:0", "package-0", 0);
    const RaplPowerMeter meter(clock_at(0), powercap.options());
    const auto begin = meter.sample();
    const auto energy_at = [&](std::int64_t microjoules) {
        powercap.set("intel-rapl:0", microjoules);
        return meter.energy_between(begin, meter.sample(), {}).energy.mwh();
    };
    CHECK(energy_at(1'800'000) == 0);  // 0.5 mWh -> 0
    CHECK(energy_at(1'800'001) == 1);
    CHECK(energy_at(5'400'000) == 2);  // 1.5 mWh -> 2
    CHECK(energy_at(9'000'000) == 2);  // 2.5 mWh -> 2
}

TEST_CASE("the platform zone psys is read alone because it includes the packages") {
    FakePowercap powercap;
    powercap.zone("intel-rapl:0", "package-0", 0);
    powercap.zone("intel-rapl:1", "psys", 0);
    const RaplPowerMeter meter(clock_at(0), powercap.options());
    REQUIRE(meter.domains().size() == 1);
    CHECK(meter.domains()[0].name == "psys");
}

TEST_CASE("without readable RAPL zones the declared power model is used") {
    TempDir empty;
    CHECK_FALSE(RaplPowerMeter::available(RaplOptions{empty.path()}));
    CHECK_FALSE(RaplPowerMeter::available(RaplOptions{empty / "absent"}));
    CHECK_THROWS_AS(RaplPowerMeter(clock_at(0), RaplOptions{empty.path()}), Error);

    const auto clock = clock_at(0);
    const auto meter = make_power_meter(clock, PowerModel{10, 250}, RaplOptions{empty.path()});
    REQUIRE(dynamic_cast<const ModelPowerMeter*>(meter.get()) != nullptr);
    const auto begin = meter->sample();
    clock->advance(std::chrono::hours(1));
    const auto end = meter->sample();
    // ceil(1500 millicores x 10 W / 1000) + 1 GPU x 250 W = 265 W for one hour.
    const auto energy = meter->energy_between(begin, end, PowerWorkload{1500, 1});
    CHECK(energy.energy.mwh() == 265'000);
    CHECK(energy.source == EnergySource::modelled);
    CHECK(dynamic_cast<const ModelPowerMeter&>(*meter).watts({333, 0}) == 4);  // 3.33 W up
    CHECK_THROWS_AS(meter->energy_between(end, begin, {}), Error);
}

TEST_CASE("a RAPL tree with a readable zone is chosen over the model") {
    FakePowercap powercap;
    powercap.zone("intel-rapl:0", "package-0", 0);
    const auto meter = make_power_meter(clock_at(0), PowerModel{}, powercap.options());
    CHECK(dynamic_cast<const RaplPowerMeter*>(meter.get()) != nullptr);
    write(powercap.dir / "intel-rapl:0" / "energy_uj", "garbage");
    CHECK_THROWS_AS(meter->sample(), Error);
}
