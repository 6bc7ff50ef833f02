// SPDX-License-Identifier: Apache-2.0
#include "agent/fixture.hpp"
#include "scheduler/rows.hpp"
#include "support/errors.hpp"

#include <doctest/doctest.h>
#include <sihlicon/worker_agent.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <thread>

extern char** environ;

namespace sihlicon::testing {

namespace {

using namespace std::chrono_literals;

std::int64_t count_for_job(const Hub& hub, const char* sql, const std::string& job_id) {
    return HubAccess::database(hub).read([&](store::Transaction& tx) {
        auto row = tx.prepare(sql);
        row.bind_all(job_id);
        row.step();
        return row.column_int64(0);
    });
}

bool process_gone(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(stat, text)) {
        return true;
    }
    const auto close = text.rfind(')');
    return close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z';
}

template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = 3s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(5ms);
    }
    return condition();
}

}  // namespace

TEST_CASE("a job held by an agent killed mid-run returns by lease expiry and completes once") {
    AgentFixture fixture;
    const auto sleep = AgentFixture::unique_sleep();
    auto spec = AgentFixture::shell_job("survivor",
                                        "if [ \"$SIHLICON_ATTEMPT\" -gt 1 ]; then printf done > "
                                        "\"$SIHLICON_OUTPUT_DIR/result.txt\"; "
                                        "else sleep " +
                                            sleep + "; fi");
    const auto job = fixture.scheduler().submit(spec);

    // The first agent runs in a process of its own and dies by SIGKILL mid-job.
    const std::string program = SIHLICON_AGENT_TEST_CHILD;
    const std::string hub_dir = fixture.dir.path().string();
    const std::string clock_ms = std::to_string(fixture.clock->now().ms());
    const std::string worker = "bee-crash";
    const std::string work_root = (fixture.work / "work-crashed").string();
    std::vector<char*> argv = {
        const_cast<char*>(program.c_str()),   const_cast<char*>(hub_dir.c_str()),
        const_cast<char*>(clock_ms.c_str()),  const_cast<char*>(worker.c_str()),
        const_cast<char*>(work_root.c_str()), nullptr};
    pid_t agent_pid = 0;
    REQUIRE(::posix_spawn(&agent_pid, program.c_str(), nullptr, nullptr, argv.data(), environ) ==
            0);
    // Whatever stops this test early, the child agent dies with it: left running, it would hold
    // ctest's output pipe open and hang the whole run.
    struct KillOnExit {
        pid_t& pid;
        ~KillOnExit() {
            if (pid > 0) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
            }
        }
    } kill_on_exit{agent_pid};
    pid_t job_pid = 0;
    const bool started = eventually([&] {
        job_pid = AgentFixture::find_process({"sleep", sleep});
        return job_pid > 0;
    });
    if (!started) {
        ::kill(agent_pid, SIGKILL);
    }
    REQUIRE(started);
    const auto held = HubAccess::database(fixture.hub).read([&](store::Transaction& tx) {
        return scheduler::load_job(tx, job.id);
    });
    REQUIRE(held.record.status == JobStatus::running);
    REQUIRE(held.lease_token.has_value());
    ::kill(agent_pid, SIGKILL);
    int status = 0;
    ::waitpid(agent_pid, &status, 0);
    agent_pid = 0;  // reaped
    CHECK(WIFSIGNALED(status));
    CHECK(eventually([&] { return process_gone(job_pid); }));  // the job died with its agent

    // Restarted: the job stays leased to the dead attempt until its lease expires.
    WorkerAgent agent(fixture.hub, fixture.agent_options(worker));
    agent.start();
    agent.wait_idle(2s);
    CHECK(fixture.scheduler().job(job.id).status == JobStatus::running);
    fixture.clock->advance(fixture.scheduler().options().lease_duration + 1s);
    const auto done = fixture.wait_final(agent, job.id);
    REQUIRE(done.status == JobStatus::completed);
    CHECK(done.attempts == 2);
    REQUIRE(done.output_refs.size() == 1);
    CHECK(done.output_refs[0] == AgentFixture::cid_of("done"));
    CHECK(count_for_job(fixture.hub,
                        "SELECT COUNT(*) FROM job_events WHERE job_id = ? AND to_status = "
                        "'completed'",
                        job.id) == 1);
    CHECK(count_for_job(fixture.hub, "SELECT COUNT(*) FROM heat_records WHERE job_id = ?",
                        job.id) == 1);
    // The dead attempt's token completes nothing.
    CHECK(error_of([&] {
              fixture.scheduler().complete(job.id, *held.lease_token, fixture.completion());
          }) == ErrorCode::conflict);
}

}  // namespace sihlicon::testing
