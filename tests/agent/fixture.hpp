// SPDX-License-Identifier: Apache-2.0
//
// A hub on a manual clock with one site, and options for a WorkerAgent that runs real child
// processes quickly: short real-time pacing, no container runtime, no RAPL, work folders in a
// folder of their own outside the hub folder (`work`), native jobs sandboxed.
#pragma once

#include "scheduler/fixture.hpp"

#include <sihlicon/content_store.hpp>
#include <sihlicon/worker_agent.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace sihlicon::testing {

struct AgentFixture : SchedulerFixture {
    TempDir work;  // where agents' work folders go: never inside the hub folder (`dir`)

    AgentFixture() {
        add_hub("pool");
        std::filesystem::create_directories(dir / "empty-bin");
    }

    AgentOptions agent_options(const std::string& worker_id = "bee-01") {
        AgentOptions options;
        options.worker_id = worker_id;
        options.hub_id = "pool";
        options.slots = 2;
        options.hardware = HardwareInfo{4, 8LL << 30, {}};
        options.work_root = work / ("work-" + worker_id);
        options.poll_interval = std::chrono::milliseconds(10);
        options.heartbeat_interval = std::chrono::milliseconds(50);
        options.renew_interval = std::chrono::milliseconds(50);
        options.container_search_path = (dir / "empty-bin").string();
        options.rapl.root = dir / "no-rapl";
        return options;
    }

    // A job running `command` on the worker itself, retried at once.
    static JobSpec native_job(const std::string& name, std::vector<std::string> command) {
        auto spec = job(name);
        spec.workload.container_image = std::string(kNativeImage);
        spec.workload.command = std::move(command);
        spec.workload.timeout_seconds = 10;
        spec.backoff_ms = 0;
        return spec;
    }

    static JobSpec shell_job(const std::string& name, const std::string& script) {
        return native_job(name, {"sh", "-c", script});
    }

    // A `sleep` argument no other process has: its process can be found in /proc, from outside
    // any sandbox (find_process).
    static std::string unique_sleep(int seconds = 30) {
        static std::atomic<int> counter{0};
        return std::to_string(seconds) + "." + std::to_string(::getpid() % 100000) +
               std::to_string(100 + counter.fetch_add(1));
    }

    // The pid of a process whose command line is exactly `argv`, or 0.
    static pid_t find_process(const std::vector<std::string>& argv) {
        std::string wanted;
        for (const auto& part : argv) {
            wanted += part + '\0';
        }
        std::error_code error;
        for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
            const auto name = entry.path().filename().string();
            if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
                continue;
            }
            // A process may end while it is read: its cmdline then fails to read (ESRCH), which
            // libstdc++'s filebuf throws about. Read it with POSIX calls and skip such a one.
            const int fd = ::open((entry.path() / "cmdline").c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                continue;
            }
            std::string text;
            char buffer[4096];
            ssize_t got = 0;
            while ((got = ::read(fd, buffer, sizeof buffer)) > 0) {
                text.append(buffer, static_cast<std::size_t>(got));
            }
            ::close(fd);
            if (got == 0 && text == wanted) {
                return static_cast<pid_t>(std::stol(name));
            }
        }
        return 0;
    }

    Manifest store(const std::string& text, const std::string& file_name,
                   const std::string& owner = "client-a") {
        PutOptions options;
        options.file_name = file_name;
        return hub.content_store().put_bytes(
            {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, owner, options);
    }

    std::string fetch(const std::string& cid, const std::string& owner = "client-a") {
        const auto bytes = hub.content_store().get_bytes(cid, owner);
        return {bytes.begin(), bytes.end()};
    }

    static std::string cid_of(const std::string& text) {
        return compute_cid({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()})
            .to_string();
    }

    // Waits (real time) until the job ends, letting the manual clock step over back-offs.
    JobRecord wait_final(WorkerAgent& agent, const std::string& job_id) {
        for (int round = 0; round < 20; ++round) {
            agent.wait_idle(std::chrono::seconds(5));
            const auto record = scheduler().job(job_id);
            if (record.status == JobStatus::completed || record.status == JobStatus::failed ||
                record.status == JobStatus::cancelled) {
                return record;
            }
            clock->advance(std::chrono::seconds(1));
        }
        return scheduler().job(job_id);
    }
};

}  // namespace sihlicon::testing
