// SPDX-License-Identifier: Apache-2.0
//
// A whole hub day, embedded in one program. It creates a hub in the (new) folder given on the
// command line, on a simulated clock that starts at midnight of 21 June 2026, and then:
//   00:00  registers the Zurich pool site (92 % of its electricity comes back as heat), a
//          client with USD 5 of credit (jobs are charged), and stores three ledger pages;
//   06:00  solar surplus on the grid, heat wanted for the morning swim: three jobs run real
//          commands (sha256sum, wc) on the stored pages through a WorkerAgent on this machine;
//   14:00  the hub's battery losses are recorded as heat;
//   19:00  heat wanted for the evening: an index job counts the words of all three pages;
//   24:00  the day's heat is settled, the epoch is sealed and signed, and one job's receipt is
//          checked offline; a summary table ends the day.
// The agent runs real child processes in real time; the hub's records carry the simulated day.
//
//   quickstart ./demo-hub
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/version.hpp>
#include <sihlicon/worker_agent.hpp>

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace sih = sihlicon;

constexpr const char* kSite = "zurich-pool";
constexpr const char* kClient = "demo-client";

const char* const kPages[] = {
    "Folio 17: 3 Fass Wein an die Zunft zur Meisen, 12 Gulden.\n",
    "Folio 18: 40 Klafter Holz fuer das Spital, 30 Gulden, bezahlt an Martini.\n",
    "Folio 19: Zins der Muehle an der Sihl, 8 Gulden und 2 Mutt Kernen.\n",
};

std::string wh(sih::Energy energy) {
    std::ostringstream text;
    text << energy.mwh() / 1000 << '.' << std::setw(3) << std::setfill('0') << energy.mwh() % 1000;
    return text.str();
}

sih::JobSpec native_job(const std::string& name, const std::string& script,
                        std::vector<std::string> inputs) {
    sih::JobSpec spec;
    spec.type = sih::JobType::custom;
    spec.name = name;
    spec.owner = kClient;
    spec.workload.container_image = std::string(sih::kNativeImage);
    spec.workload.command = {"sh", "-c", script};
    spec.workload.resources.cpu_millicores = 1000;
    spec.workload.resources.memory_bytes = 512LL << 20;
    spec.workload.timeout_seconds = 60;
    spec.input_refs = std::move(inputs);
    spec.hub_id = kSite;
    return spec;
}

void at(sih::ManualClock& clock, sih::Timestamp day, int hour) {
    clock.set(day + std::chrono::hours(hour));
    std::cout << "\n== " << std::setw(2) << std::setfill('0') << hour << ":00 ==\n"
              << std::setfill(' ');
}

// Runs every job the site can run now on this machine, then stops the agent.
void run_agent(sih::Hub& hub) {
    sih::AgentOptions options;
    options.worker_id = "bee-01";
    options.hub_id = kSite;
    options.slots = 2;
    options.poll_interval = 50ms;
    options.on_event = [](std::string_view line) { std::cout << "  agent: " << line << "\n"; };
    sih::WorkerAgent agent(hub, options);
    const auto worker = agent.start();
    std::cout << "  agent: " << worker.spec.id << " has " << worker.spec.cpu_millicores / 1000
              << " cores, " << (worker.spec.memory_bytes >> 20) << " MiB, "
              << worker.spec.gpus.size() << " GPU(s), " << agent.slots() << " slot(s)\n";
    agent.wait_idle(60s);
    agent.stop();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: quickstart NEW_HUB_DIRECTORY\n";
        return 2;
    }
    if (std::filesystem::exists(std::filesystem::path(argv[1]) / "hub.db")) {
        std::cerr << "quickstart: " << argv[1] << " already holds a hub; give a new folder\n";
        return 2;
    }
    try {
        const auto day = sih::parse_iso8601("2026-06-21T00:00:00Z");
        auto clock = std::make_shared<sih::ManualClock>(day);
        sih::HubOptions hub_options;
        hub_options.clock = clock;
        hub_options.initial_settings.emplace().charge_jobs = true;  // USD 0.10 a job
        auto hub = sih::Hub::open(argv[1], hub_options);
        auto& scheduler = hub.scheduler();
        std::cout << "sihlicon " << sih::library_version() << ": hub " << hub.info().instance_id
                  << " at " << argv[1];

        at(*clock, day, 0);
        sih::HubSpec site;
        site.id = kSite;
        site.name = "Zurich public pool";
        site.site = "enge";
        site.region = "CH";
        site.heat_recovery_ppm = 920'000;
        site.power_capacity_w = 20'000;
        site.routing_policy = sih::RoutingPolicy::heat_demand_first;
        scheduler.register_hub(site);
        hub.settlement().top_up(kClient, sih::Money(5'000'000, sih::Currency::of("USD")),
                                "0x6a1f0c2e-demo-deposit");
        std::vector<std::string> pages;
        for (int i = 0; i < 3; ++i) {
            sih::PutOptions put;
            put.file_name = "folio-" + std::to_string(17 + i) + ".txt";
            put.mime_type = "text/plain";
            const std::string text = kPages[i];
            const auto manifest = hub.content_store().put_bytes(
                {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, kClient, put);
            pages.push_back(manifest.content_id);
            std::cout << "  stored " << *manifest.file_name << " as " << manifest.content_id
                      << "\n";
        }

        at(*clock, day, 6);
        scheduler.set_grid_state(kSite, {sih::GridSignal::surplus, std::nullopt, day + 16h});
        scheduler.set_heat_demand(kSite, 12'000, day + 10h);
        std::cout << "  grid: surplus until 16:00; heat demand 12 kW until 10:00\n";
        std::vector<std::string> jobs;
        for (std::size_t i = 0; i < pages.size(); ++i) {
            const auto job = scheduler.submit(native_job(
                "checksum folio " + std::to_string(17 + i),
                "cd \"$SIHLICON_INPUT_DIR\" && sha256sum * > \"$SIHLICON_OUTPUT_DIR/sha256.txt\" "
                "&& wc -w * > \"$SIHLICON_OUTPUT_DIR/words.txt\"",
                {pages[i]}));
            jobs.push_back(job.id);
        }
        run_agent(hub);

        at(*clock, day, 14);
        sih::ManualHeat battery;
        battery.hub_id = kSite;
        battery.kind = sih::HeatKind::battery_losses;
        battery.tag = "hub battery";
        battery.thermal = sih::Energy::parse_kwh("2.4");
        battery.source = sih::EnergySource::estimated;
        hub.heat_ledger().record(battery);
        std::cout << "  heat: 2.4 kWh of battery losses recorded\n";

        at(*clock, day, 19);
        scheduler.set_heat_demand(kSite, 15'000, day + 23h);
        std::cout << "  heat demand 15 kW until 23:00\n";
        jobs.push_back(scheduler
                           .submit(native_job("index the ledger",
                                              "cat \"$SIHLICON_INPUT_DIR\"/* | tr -s ' ' '\\n' | "
                                              "sort | uniq -c | sort -rn | head -5 > "
                                              "\"$SIHLICON_OUTPUT_DIR/top-words.txt\" && "
                                              "head -c 200000000 /dev/zero | sha256sum",
                                              pages))
                           .id);
        run_agent(hub);

        at(*clock, day, 24);
        const auto settled = hub.heat_ledger().settle(kSite, day, day + 24h);
        std::cout << "  heat settled: " << settled.total_heat.to_kwh_string() << " kWh, credit "
                  << settled.credit.to_string() << " (" << settled.record_count << " records)\n";
        const auto epoch = hub.settlement().seal_epoch();
        std::cout << "  " << epoch.id << " sealed: " << epoch.jobs_count << " jobs, root "
                  << epoch.jobs_merkle_root.substr(0, 16) << "..., signed by " << epoch.signer
                  << "\n";
        const auto receipt = hub.settlement().receipt(jobs.front());
        // Checked against whom the hub trusts (its operator key, and earlier ones that signed):
        // the key a receipt carries proves nothing by itself.
        const auto check = sih::verify_receipt(receipt, hub.settlement().trusted_signers());
        std::cout << "  receipt of " << jobs.front() << ": "
                  << (check.valid ? "valid" : "INVALID: " + check.problem) << "\n";

        std::cout << "\n"
                  << std::left << std::setw(22) << "job" << std::setw(10) << "status" << std::right
                  << std::setw(12) << "energy Wh" << std::setw(10) << "source" << std::setw(10)
                  << "heat Wh" << std::setw(8) << "outputs" << std::setw(10) << "charged"
                  << "\n";
        sih::Energy energy;
        sih::Energy heat;
        for (const auto& id : jobs) {
            const auto job = scheduler.job(id);
            const auto charge = hub.settlement().job_charge(id);
            energy += job.actual_energy.value_or(sih::Energy{});
            heat += job.heat_generated.value_or(sih::Energy{});
            std::cout << std::left << std::setw(22) << job.spec.name.substr(0, 21) << std::setw(10)
                      << sih::to_string(job.status) << std::right << std::setw(12)
                      << wh(job.actual_energy.value_or(sih::Energy{})) << std::setw(10)
                      << (job.energy_source ? sih::to_string(*job.energy_source) : "-")
                      << std::setw(10) << wh(job.heat_generated.value_or(sih::Energy{}))
                      << std::setw(8) << job.output_refs.size() << "  "
                      << (charge ? charge->first.to_string() + " " + charge->second
                                 : std::string("-"))
                      << "\n";
        }
        std::cout << std::left << std::setw(32) << "jobs total" << std::right << std::setw(12)
                  << wh(energy) << std::setw(20) << wh(heat) << "\n"
                  << "heat settled (jobs and battery)  " << settled.total_heat.to_kwh_string()
                  << " kWh -> " << settled.credit.to_string() << "\n"
                  << "epoch " << epoch.id << "  " << epoch.jobs_count << " jobs  revenue "
                  << epoch.revenue.to_string() << "  receipt "
                  << (check.valid ? "verified" : "NOT verified") << "\n";
        return check.valid ? 0 : 1;
    } catch (const sih::Error& error) {
        std::cerr << "quickstart: " << sih::to_string(error.code()) << ": " << error.what() << "\n";
        return 1;
    }
}
