// SPDX-License-Identifier: Apache-2.0
//
// The JSON of the agent's hardware and status, shared by the CLI, the C ABI and the bindings.
#include "core/json.hpp"
#include "scheduler/rows.hpp"

#include <sihlicon/worker_agent.hpp>

namespace sihlicon {

std::string HardwareInfo::to_json() const {
    return json::serialize(boost::json::object{{"cpuCores", cpu_cores},
                                               {"memoryBytes", memory_bytes},
                                               {"gpus", scheduler::gpus_to_json(gpus)}});
}

std::string AgentStatus::to_json() const {
    boost::json::array jobs;
    for (const auto& job : running) {
        jobs.push_back(boost::json::object{{"jobId", job.job_id},
                                           {"attempt", job.attempt},
                                           {"executor", job.executor},
                                           {"elapsedMs", job.elapsed.count()}});
    }
    return json::serialize(boost::json::object{
        {"state", to_string(state)},
        {"workerId", worker_id},
        {"slots", slots},
        {"running", jobs},
        {"completed", completed},
        {"failed", failed},
        {"handedBack", handed_back},
        {"energyMwh", energy.mwh()},
        {"energySource",
         energy_source ? boost::json::value(to_string(*energy_source)) : boost::json::value()},
        {"utilisationPpm", utilisation_ppm},
        {"powerDrawW", power_draw_w}});
}

}  // namespace sihlicon
