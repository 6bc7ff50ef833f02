// SPDX-License-Identifier: Apache-2.0
//
// An agent in a process of its own, for the crash test: opens the hub in HUB_DIR on a manual
// clock frozen at CLOCK_MS and runs worker WORKER_ID with one slot, its work folders in
// WORK_ROOT, until it is killed.
//
//   agent_test_child HUB_DIR CLOCK_MS WORKER_ID WORK_ROOT
#include <sihlicon/hub.hpp>
#include <sihlicon/worker_agent.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

int main(int argc, char** argv) {
    if (argc != 5) {
        std::cerr << "usage: agent_test_child HUB_DIR CLOCK_MS WORKER_ID WORK_ROOT\n";
        return 2;
    }
    sihlicon::HubOptions hub_options;
    hub_options.clock =
        std::make_shared<sihlicon::ManualClock>(sihlicon::Timestamp::from_ms(std::stoll(argv[2])));
    hub_options.durability = sihlicon::Durability::process_crash;
    auto hub = sihlicon::Hub::open(argv[1], hub_options);
    sihlicon::AgentOptions options;
    options.worker_id = argv[3];
    options.hub_id = "pool";
    options.hardware = sihlicon::HardwareInfo{4, 8LL << 30, {}};
    options.work_root = argv[4];
    options.poll_interval = std::chrono::milliseconds(10);
    options.heartbeat_interval = std::chrono::milliseconds(50);
    options.renew_interval = std::chrono::milliseconds(50);
    options.container_search_path = "/nonexistent";
    options.rapl.root = "/nonexistent";
    sihlicon::WorkerAgent agent(hub, options);
    agent.start();
    for (;;) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
}
