// SPDX-License-Identifier: Apache-2.0
//
// PowerMeter: where a job's electrical energy comes from when its worker reports none. Take a
// sample when the job starts and one when it ends; energy_between() turns the two into mWh
// with its source:
//   - RaplPowerMeter (measured): the RAPL energy counters of the machine under
//     /sys/class/powercap (intel-rapl:N/energy_uj, which wraps at max_energy_range_uj);
//   - ModelPowerMeter (modelled): a declared power model, watts per CPU core and per GPU,
//     times the duration.
// make_power_meter() picks RAPL when the machine has readable counters, else the model.
//
// RAPL counts the whole machine, not one job: a worker running one job at a time can report
// the difference as the job's energy; a worker running several apportions it (for example in
// proportion to their CPU shares with sihlicon::allocate, which keeps the parts exact).
//
// Thread safety: every PowerMeter here is immutable after construction; sample() and
// energy_between() may be called from any thread.
#pragma once

#include <sihlicon/energy.hpp>
#include <sihlicon/export.hpp>
#include <sihlicon/time.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace sihlicon {

// What a job occupies, for the power model.
struct PowerWorkload {
    std::int64_t cpu_millicores = 0;
    std::int64_t gpus = 0;
};

// A meter's reading at one instant. `counters_uj` holds one cumulative counter per domain
// (microjoules) for RAPL and is empty for the model.
struct MeterSample {
    Timestamp at;
    std::vector<std::int64_t> counters_uj;
};

struct MeteredEnergy {
    Energy energy;
    EnergySource source = EnergySource::measured;
};

class SIHLICON_API PowerMeter {
  public:
    virtual ~PowerMeter();

    // Reads the meter now. Throws Error(io) if a counter cannot be read.
    virtual MeterSample sample() const = 0;

    // The energy drawn between two samples of this meter, `begin` taken before `end`.
    // Throws Error::invalid("end", ...) if `end` is earlier than `begin` or the samples do not
    // come from this meter.
    virtual MeteredEnergy energy_between(const MeterSample& begin, const MeterSample& end,
                                         const PowerWorkload& workload) const = 0;
};

// One RAPL domain: a top-level intel-rapl:N zone.
struct RaplDomain {
    std::string zone;  // "intel-rapl:0"
    std::string name;  // its `name` file: "package-0", "psys", ...
    std::filesystem::path energy_file;
    std::int64_t max_energy_range_uj = 0;
};

struct RaplOptions {
    std::filesystem::path root = "/sys/class/powercap";
};

// Reads the top-level RAPL zones (intel-rapl:N) under options.root; their sub-zones
// (intel-rapl:N:M: core, uncore, dram) are parts of them and are not added again. When a zone
// named "psys" (the whole platform) exists, it alone is read, since it already includes the
// packages. energy_between() adds, per domain, end - begin, or (max_energy_range_uj - begin)
// + end when the counter wrapped; at most one wrap between two samples is assumed, so take
// samples more often than the counter's range lasts (minutes at full power) and add the
// intervals. Microjoules become mWh (3,600,000 uJ per mWh) rounded half to even.
class SIHLICON_API RaplPowerMeter final : public PowerMeter {
  public:
    // Throws Error(not_found) when options.root holds no readable intel-rapl:N zone (energy_uj
    // is often readable by root only), Error(integrity) for a zone whose files do not hold
    // non-negative integers, Error::invalid("clock", ...) for a null clock.
    RaplPowerMeter(std::shared_ptr<const Clock> clock, const RaplOptions& options = {});

    // Whether options.root holds at least one readable zone. Never throws.
    static bool available(const RaplOptions& options = {}) noexcept;

    const std::vector<RaplDomain>& domains() const { return domains_; }

    MeterSample sample() const override;
    // Source: measured. The workload is ignored: RAPL measures the machine.
    MeteredEnergy energy_between(const MeterSample& begin, const MeterSample& end,
                                 const PowerWorkload& workload) const override;

  private:
    std::shared_ptr<const Clock> clock_;
    std::vector<RaplDomain> domains_;
};

// The declared power model, as the scheduler budgets a job: watts =
// ceil(cpu_millicores x watts_per_core / 1000) + gpus x watts_per_gpu.
struct PowerModel {
    std::int64_t watts_per_core = 10;
    std::int64_t watts_per_gpu = 250;
};

// The power `model` assigns to `workload`: ceil(millicores x watts_per_core / 1000) +
// gpus x watts_per_gpu. The scheduler budgets a hub's power with the same rule.
// Throws Error::invalid for negative millicores or GPUs, Error(invalid_argument) on overflow.
SIHLICON_API std::int64_t model_watts(const PowerModel& model, const PowerWorkload& workload);

class SIHLICON_API ModelPowerMeter final : public PowerMeter {
  public:
    // Throws Error::invalid("wattsPerCore" or "wattsPerGpu", ...) for a negative figure and
    // Error::invalid("clock", ...) for a null clock.
    ModelPowerMeter(std::shared_ptr<const Clock> clock, const PowerModel& model);

    // The power the model assigns to `workload`. Throws Error::invalid for negative
    // millicores or GPUs, Error(invalid_argument) on overflow.
    std::int64_t watts(const PowerWorkload& workload) const;

    MeterSample sample() const override;
    // Source: modelled. Energy::from_power_and_duration(watts(workload), end.at - begin.at).
    MeteredEnergy energy_between(const MeterSample& begin, const MeterSample& end,
                                 const PowerWorkload& workload) const override;

  private:
    std::shared_ptr<const Clock> clock_;
    PowerModel model_;
};

// A RaplPowerMeter when RaplPowerMeter::available(rapl), else a ModelPowerMeter of `model`.
// Throws what their constructors throw.
SIHLICON_API std::unique_ptr<PowerMeter> make_power_meter(std::shared_ptr<const Clock> clock,
                                                          const PowerModel& model,
                                                          const RaplOptions& rapl = {});

}  // namespace sihlicon
