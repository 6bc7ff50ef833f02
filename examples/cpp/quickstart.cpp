// SPDX-License-Identifier: Apache-2.0
//
// A hub day in miniature, embedded in one program: open (or create) a hub in the folder given
// on the command line, register a physical hub and a worker, store the job's input in the
// content store (its CID is the one IPFS computes), submit the seed's compute job with it, run
// it on the worker, store its output and record the energy it used and the heat it gave.
//
//   quickstart ./demo-hub
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/version.hpp>

#include <iostream>

namespace {

void ensure_site(sihlicon::Scheduler& scheduler) {
    try {
        scheduler.hub("zurich-pool");
    } catch (const sihlicon::Error& error) {
        if (error.code() != sihlicon::ErrorCode::not_found) {
            throw;
        }
        sihlicon::HubSpec site;
        site.id = "zurich-pool";
        site.name = "Zurich public pool";
        site.site = "enge";
        site.region = "CH";
        site.heat_recovery_ppm = 920'000;  // 92 % of the electricity comes back as heat
        site.power_capacity_w = 20'000;
        scheduler.register_hub(site);
    }
    sihlicon::WorkerSpec bee;
    bee.id = "bee-01";
    bee.hub_id = "zurich-pool";
    bee.cpu_millicores = 16'000;
    bee.memory_bytes = 64LL << 30;
    bee.gpus = {{"NVIDIA A100", 80LL << 30}};
    scheduler.register_worker(bee);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: quickstart HUB_DIRECTORY\n";
        return 2;
    }
    try {
        const sihlicon::Hub hub = sihlicon::Hub::open(argv[1]);
        const sihlicon::HubInfo info = hub.info();
        std::cout << "sihlicon " << sihlicon::library_version() << ": hub " << info.instance_id
                  << " at " << info.directory << " (schema " << info.schema_version << ")\n";

        auto& scheduler = hub.scheduler();
        ensure_site(scheduler);

        const std::string page = "Folio 17: 3 Fass Wein an die Zunft zur Meisen, 12 Gulden.";
        sihlicon::PutOptions input_options;
        input_options.file_name = "page-17.txt";
        input_options.mime_type = "text/plain";
        const auto input = hub.content_store().put_bytes(
            {reinterpret_cast<const std::uint8_t*>(page.data()), page.size()}, "demo-client",
            input_options);
        std::cout << "stored input " << input.content_id << " (" << input.file_size_bytes
                  << " bytes)\n";

        const auto job = scheduler.submit_json(R"({
            "jobType": "ocr",
            "jobName": "Process historical ledger",
            "workloadConfig": {
                "containerImage": "tesseract/tesseract:latest",
                "command": ["tesseract", "/input/page.png", "/output"],
                "resources": {"cpu": "2", "memory": "2Gi"}
            },
            "inputDataRefs": [")" + input.content_id +
                                                   R"("],
            "priority": 10
        })",
                                               "demo-client");
        std::cout << "submitted " << job.id << " (" << sihlicon::to_string(job.status) << ")\n";

        const auto claimed = scheduler.claim("bee-01", 1);
        if (claimed.empty()) {
            std::cerr << "quickstart: bee-01 was given no job\n";
            return 1;
        }
        const auto& lease = claimed.front().lease;
        std::cout << "bee-01 runs " << lease.job_id << " (attempt " << lease.attempt << ")\n";

        const std::string text = "3 Fass Wein, Zunft zur Meisen, 12 Gulden";
        const auto output = hub.content_store().put_bytes(
            {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, "bee-01");
        sihlicon::JobCompletion done;
        done.output_refs = {output.content_id};
        done.energy = sihlicon::Energy::parse_kwh("1.25");  // what the worker measured
        done.energy_source = sihlicon::EnergySource::measured;
        const auto finished = scheduler.complete(lease.job_id, lease.token, done);
        std::cout << "completed: " << finished.actual_energy->to_kwh_string()
                  << " kWh of electricity gave " << finished.heat_generated->to_kwh_string()
                  << " kWh of heat to " << scheduler.hub("zurich-pool").spec.name << "\n";
        std::cout << finished.to_json() << "\n";
        return 0;
    } catch (const sihlicon::Error& error) {
        std::cerr << "quickstart: " << sihlicon::to_string(error.code()) << ": " << error.what()
                  << "\n";
        return 1;
    }
}
