// SPDX-License-Identifier: Apache-2.0
//
// Builds a hub in DIR (must not exist or be empty), runs jobs through the scheduler with
// charging on, seals an epoch and writes the bundle (jobs.json, agents.json, SUMMARY.json,
// SIGNATURE.txt) and one receipt per job (receipts/<job>.json) into DIR/out, for the npm
// peers of tests/interop/settlement_ethers.mjs to check.
// Usage: settlement_interop_epoch DIR [JOBS]
#include <sihlicon/hub.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

using namespace sihlicon;

namespace {

void write(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: settlement_interop_epoch DIR [JOBS]\n";
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    const int jobs = argc > 2 ? std::stoi(argv[2]) : 11;
    HubOptions options;
    options.durability = Durability::process_crash;
    options.initial_settings.emplace().submissions_per_hour = 0;
    options.initial_settings->charge_jobs = true;
    auto hub = Hub::open(dir / "hub", options);
    HubSpec site;
    site.id = "zurich";
    site.name = "Zurich";
    site.site = "zurich-1";
    site.region = "CH";
    site.power_capacity_w = 1'000'000;
    hub.scheduler().register_hub(site);
    for (const char* id : {"bee-01", "bee-02"}) {
        WorkerSpec worker;
        worker.id = id;
        worker.hub_id = "zurich";
        worker.cpu_millicores = 64'000;
        worker.memory_bytes = 64LL << 30;
        worker.executors = {"native", "container"};
        hub.scheduler().register_worker(worker);
    }
    hub.settlement().top_up("client-\"quoted\"-é", Money::parse("100", Currency::of("USD")),
                            "0xfeed");
    std::vector<std::string> ids;
    for (int i = 0; i < jobs; ++i) {
        JobSpec spec;
        spec.type = i % 2 ? JobType::ocr : JobType::ai_inference;
        spec.name = "job";
        spec.owner = "client-\"quoted\"-é";
        spec.workload.container_image = "x/y:z";
        const auto job = hub.scheduler().submit(spec);
        const auto claimed = hub.scheduler().claim(i % 3 ? "bee-01" : "bee-02", 1);
        JobCompletion done;
        done.result_hash = "sha256:" + std::to_string(i);
        hub.scheduler().complete(job.id, claimed.at(0).lease.token, done);
        ids.push_back(job.id);
    }
    const auto epoch = hub.settlement().seal_epoch();
    const auto bundle = hub.settlement().epoch_bundle(epoch.id);
    const auto out = dir / "out";
    std::filesystem::create_directories(out / "receipts");
    write(out / "jobs.json", bundle.jobs_json);
    write(out / "agents.json", bundle.agents_json);
    write(out / "SUMMARY.json", bundle.summary_json);
    write(out / "SIGNATURE.txt", bundle.signature_txt);
    for (const auto& id : ids) {
        write(out / "receipts" / (id + ".json"), hub.settlement().receipt(id));
    }
    std::cout << out.string() << '\n';
    return 0;
}
