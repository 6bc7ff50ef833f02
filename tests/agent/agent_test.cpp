// SPDX-License-Identifier: Apache-2.0
#include "agent/fixture.hpp"
#include "scheduler/rows.hpp"

#include <doctest/doctest.h>
#include <sihlicon/worker_agent.hpp>

#include <boost/json.hpp>

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <thread>

namespace sihlicon::testing {

namespace {

using namespace std::chrono_literals;

constexpr const char* kPage = "Folio 17: 3 Fass Wein an die Zunft zur Meisen, 12 Gulden.";

boost::json::object metrics_of(const Hub& hub, const std::string& job_id) {
    const auto text = HubAccess::database(hub).read(
        [&](store::Transaction& tx) { return scheduler::load_job(tx, job_id).metrics_json; });
    return boost::json::parse(text).as_object();
}

// Whether the process is gone (or a zombie nobody reaped: it runs no more).
bool process_gone(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(stat, text)) {
        return true;
    }
    const auto close = text.rfind(')');
    return close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z';
}

}  // namespace

TEST_CASE("an agent registers its hardware and runs a native job on stored inputs") {
    AgentFixture fixture;
    const auto page = fixture.store(kPage, "page-17.txt");
    auto spec = AgentFixture::shell_job(
        "ledger",
        "cd \"$SIHLICON_INPUT_DIR\" && cp page-17.txt \"$SIHLICON_OUTPUT_DIR/copy.txt\" && "
        "wc -c < page-17.txt | tr -d ' ' > \"$SIHLICON_OUTPUT_DIR/size.txt\" && "
        "mkdir \"$SIHLICON_OUTPUT_DIR/notes\" && printf 'hello world\\n' > "
        "\"$SIHLICON_OUTPUT_DIR/notes/hello.txt\" && echo \"$GREETING\"");
    spec.input_refs = {page.content_id};
    spec.workload.env = {{"GREETING", "hello world"}};
    const auto job = fixture.scheduler().submit(spec);

    WorkerAgent agent(fixture.hub, fixture.agent_options());
    const auto worker = agent.start();
    CHECK(worker.spec.cpu_millicores == 4000);
    CHECK(worker.spec.memory_bytes == 8LL << 30);
    CHECK(worker.spec.labels.at("executors") == "process");

    const auto done = fixture.wait_final(agent, job.id);
    REQUIRE(done.status == JobStatus::completed);
    CHECK(done.attempts == 1);
    // Outputs in path order: copy.txt, notes/hello.txt, size.txt, each the CID IPFS computes.
    REQUIRE(done.output_refs.size() == 3);
    CHECK(done.output_refs[0] == page.content_id);
    CHECK(done.output_refs[1] == "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4");
    CHECK(done.output_refs[2] == AgentFixture::cid_of("57\n"));
    CHECK(fixture.fetch(done.output_refs[2]) == "57\n");
    const auto metrics = metrics_of(fixture.hub, job.id);
    CHECK(metrics.at("stdout").as_string() ==
          "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4");
    CHECK(metrics.at("exitCode").as_int64() == 0);
    CHECK(metrics.at("executor").as_string() == "process");
    CHECK(metrics.at("outputs").as_object().at("notes/hello.txt").as_string() ==
          done.output_refs[1]);
    // No RAPL here: the hub's power model, over the real run time, and its heat.
    CHECK(done.energy_source == EnergySource::modelled);
    REQUIRE(done.heat_generated.has_value());
    agent.stop();  // joins the slot that counts the completion just after the hub stored it
    CHECK(agent.status().completed == 1);
    CHECK(fixture.scheduler().worker("bee-01").status == WorkerStatus::offline);
    CHECK_FALSE(std::filesystem::exists(fixture.work / "work-bee-01" / (job.id + "-1")));
}

TEST_CASE("an agent's work folder is absolute even when the hub was opened by a relative path") {
    // The demo opens its hub as "demo-hub": the job ran in its own folder and could not find
    // a relative "work/.../input" from there.
    AgentFixture fixture;
    const auto page = fixture.store(kPage, "page-17.txt");
    auto spec = AgentFixture::shell_job(
        "relative",
        "cd \"$SIHLICON_INPUT_DIR\" && cp page-17.txt \"$SIHLICON_OUTPUT_DIR/copy.txt\"");
    spec.input_refs = {page.content_id};
    const auto job = fixture.scheduler().submit(spec);
    const auto previous = std::filesystem::current_path();
    std::filesystem::current_path(fixture.work.path().parent_path());
    auto options = fixture.agent_options();
    options.work_root = fixture.work.path().filename() / "relative-work";
    JobRecord done;
    {
        WorkerAgent agent(fixture.hub, options);
        agent.start();
        done = fixture.wait_final(agent, job.id);
        agent.stop();
    }
    std::filesystem::current_path(previous);
    REQUIRE(done.status == JobStatus::completed);
    REQUIRE(done.output_refs.size() == 1);
    CHECK(done.output_refs[0] == page.content_id);
}

TEST_CASE("a job that exits non-zero is retried, then dead-lettered") {
    AgentFixture fixture;
    auto spec = AgentFixture::shell_job("broken", "echo 'cannot read the page' >&2; exit 3");
    spec.max_attempts = 2;
    const auto job = fixture.scheduler().submit(spec);
    WorkerAgent agent(fixture.hub, fixture.agent_options());
    agent.start();
    const auto done = fixture.wait_final(agent, job.id);
    CHECK(done.status == JobStatus::failed);
    CHECK(done.dead_letter);
    CHECK(done.attempts == 2);
    REQUIRE(done.error_message.has_value());
    CHECK(done.error_message->find("exited with status 3") != std::string::npos);
    CHECK(done.error_message->find("cannot read the page") != std::string::npos);
    CHECK(agent.status().failed == 2);
}

TEST_CASE("a job past its timeout is killed with its whole process group") {
    AgentFixture fixture;
    const auto sleep = AgentFixture::unique_sleep();
    auto spec = AgentFixture::shell_job("stuck", "sleep " + sleep + " & wait; echo never");
    spec.workload.timeout_seconds = 1;
    spec.max_attempts = 1;
    const auto job = fixture.scheduler().submit(spec);
    WorkerAgent agent(fixture.hub, fixture.agent_options());
    agent.start();
    const auto done = fixture.wait_final(agent, job.id);
    CHECK(done.status == JobStatus::failed);
    CHECK(done.dead_letter);
    REQUIRE(done.error_message.has_value());
    CHECK(done.error_message->find("timed out after 1 s") != std::string::npos);
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
        const auto grandchild = AgentFixture::find_process({"sleep", sleep});
        gone = grandchild == 0 || process_gone(grandchild);
        std::this_thread::sleep_for(5ms);
    }
    CHECK(gone);
}

TEST_CASE("a job whose input left the content store after it was queued fails without running") {
    // (A job whose input was never stored waits as pending and is not handed to an agent.)
    AgentFixture fixture;
    const auto marker = fixture.dir / "ran";
    auto spec = AgentFixture::shell_job("orphan", "touch \"$MARKER\"");
    spec.workload.env = {{"MARKER", marker.string()}};
    spec.input_refs = {fixture.store("hello world", "page.txt").content_id};
    REQUIRE(spec.input_refs.front() == kCidHelloWorld);
    const auto job = fixture.scheduler().submit(spec);
    REQUIRE(job.status == JobStatus::queued);
    fixture.hub.content_store().remove(kCidHelloWorld, "client-a");
    auto options = fixture.agent_options();
    options.unsandboxed_native = true;  // the marker is on the host: a run would leave it
    WorkerAgent agent(fixture.hub, options);
    agent.start();
    const auto done = fixture.wait_final(agent, job.id);
    CHECK(done.status == JobStatus::failed);
    CHECK(done.attempts == 1);  // not retried: the input will not appear by retrying
    REQUIRE(done.error_message.has_value());
    CHECK(done.error_message->find(kCidHelloWorld) != std::string::npos);
    CHECK(done.error_message->find("not_found") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(marker));
}

TEST_CASE("an agent without a container runtime registers native only and gets no container job") {
    // Before, the agent was handed the job and failed it; now the job waits for a worker that
    // can run it, and explain says why this one cannot.
    AgentFixture fixture;
    auto spec = AgentFixture::job("ocr");
    spec.workload.command = {"tesseract", "/input/page.png", "/output/page"};
    const auto job = fixture.scheduler().submit(spec);
    WorkerAgent agent(fixture.hub, fixture.agent_options());
    CHECK(agent.start().spec.executors == std::vector<std::string>{"native"});
    for (int round = 0; round < 3; ++round) {
        agent.wait_idle(std::chrono::seconds(5));
        fixture.clock->advance(std::chrono::seconds(1));
    }
    const auto waiting = fixture.scheduler().job(job.id);
    CHECK(waiting.status == JobStatus::queued);
    CHECK(waiting.attempts == 0);
    const auto lines = fixture.scheduler().explain(job.id);
    CHECK(std::any_of(lines.begin(), lines.end(), [](const Placement& line) {
        return line.worker_id == "bee-01" && !line.eligible &&
               std::find(line.reasons.begin(), line.reasons.end(),
                         "worker has no container runtime") != line.reasons.end();
    }));
}

TEST_CASE("a container job runs through the runtime found on PATH, with its folders mounted") {
    AgentFixture fixture;
    // A stand-in for docker: `info` succeeds, `run` records its arguments and environment and
    // prints a line.
    const auto bin = fixture.work / "runtime-bin";
    std::filesystem::create_directories(bin);
    const auto args_file = fixture.work / "docker-args";
    const auto env_file = fixture.work / "docker-env";
    {
        std::ofstream script(bin / "docker");
        script << "#!/bin/sh\n"
                  "[ \"$1\" = info ] && exit 0\n"
                  "printf '%s\\n' \"$@\" > '"
               << args_file.string() << "'\nenv > '" << env_file.string()
               << "'\n"
                  "echo ran in a container\n";
    }
    std::filesystem::permissions(bin / "docker", std::filesystem::perms::owner_all);
    auto spec = AgentFixture::job("ocr");
    spec.workload.command = {"tesseract", "/input/page.png", "/output/page"};
    spec.workload.env = {{"GREETING", "hello from the job"}};
    const auto job = fixture.scheduler().submit(spec);
    auto options = fixture.agent_options();
    options.container_search_path = bin.string();
    WorkerAgent agent(fixture.hub, options);
    const auto registered = agent.start();
    CHECK(registered.spec.labels.at("executors") == "process,docker");
    CHECK(registered.spec.executors == std::vector<std::string>{"native", "container"});
    const auto done = fixture.wait_final(agent, job.id);
    REQUIRE(done.status == JobStatus::completed);
    const auto metrics = metrics_of(fixture.hub, job.id);
    CHECK(metrics.at("executor").as_string() == "docker");
    CHECK(fixture.fetch(std::string(metrics.at("stdout").as_string())) == "ran in a container\n");
    std::ifstream recorded(args_file);
    std::vector<std::string> args;
    for (std::string line; std::getline(recorded, line);) {
        args.push_back(line);
    }
    const auto folder = (fixture.work / "work-bee-01" / (job.id + "-1")).string();
    const std::vector<std::string> expected = {"run",
                                               "--rm",
                                               "--name",
                                               "sihlicon-" + job.id + "-1",
                                               "--network",
                                               "none",
                                               "--security-opt",
                                               "no-new-privileges",
                                               "--volume",
                                               folder + "/input:/input:ro",
                                               "--volume",
                                               folder + "/output:/output",
                                               "--cpus",
                                               "1.000",
                                               "--env",
                                               "SIHLICON_JOB_ID=" + job.id,
                                               "--env",
                                               "SIHLICON_INPUT_DIR=/input",
                                               "--env",
                                               "SIHLICON_OUTPUT_DIR=/output",
                                               "--memory",
                                               std::to_string(1LL << 30),
                                               "--env",
                                               "GREETING=hello from the job",
                                               "tesseract/tesseract:latest",
                                               "tesseract",
                                               "/input/page.png",
                                               "/output/page"};
    CHECK(args == expected);
    // The only host folders the container gets are the attempt's input and output; the job's
    // env goes into the container, never into the runtime's own client.
    for (const auto& arg : args) {
        CHECK(arg.find(fixture.dir.path().string()) == std::string::npos);
    }
    std::ifstream client_env(env_file);
    const std::string environment((std::istreambuf_iterator<char>(client_env)),
                                  std::istreambuf_iterator<char>());
    CHECK(environment.find("PATH=") != std::string::npos);
    CHECK(environment.find("GREETING") == std::string::npos);
}

TEST_CASE("a native job runs under CPU-time and memory limits") {
    AgentFixture fixture;
    auto spec = AgentFixture::shell_job("limits", "ulimit -t; ulimit -v");
    spec.workload.resources.cpu_millicores = 2000;
    spec.workload.resources.memory_bytes = 512LL << 20;
    spec.workload.timeout_seconds = 5;
    const auto job = fixture.scheduler().submit(spec);
    WorkerAgent agent(fixture.hub, fixture.agent_options());
    agent.start();
    const auto done = fixture.wait_final(agent, job.id);
    REQUIRE(done.status == JobStatus::completed);
    const auto stdout_cid = std::string(metrics_of(fixture.hub, job.id).at("stdout").as_string());
    // 2 cores x 5 s + 1 s of margin; 512 MiB of address space in KiB.
    CHECK(fixture.fetch(stdout_cid) == "11\n524288\n");
}

TEST_CASE("slots are bounded by the cores and run jobs side by side") {
    AgentFixture fixture;
    auto options = fixture.agent_options();
    options.unsandboxed_native = true;  // two sandboxes share nothing: the jobs meet on the host
    options.slots = 8;
    options.hardware = HardwareInfo{2, 8LL << 30, {}};
    const auto both = fixture.dir / "both";
    // Each job waits until the other has started too: they only finish if they run together.
    const std::string script =
        "touch \"$DIR/$SIHLICON_JOB_ID\"; while [ $(ls \"$DIR\" | wc -l) -lt 2 ]; do sleep "
        "0.01; done";
    std::filesystem::create_directories(both);
    std::vector<std::string> ids;
    for (const char* name : {"left", "right"}) {
        auto spec = AgentFixture::shell_job(name, script);
        spec.workload.env = {{"DIR", both.string()}};
        spec.workload.timeout_seconds = 3;
        ids.push_back(fixture.scheduler().submit(spec).id);
    }
    WorkerAgent agent(fixture.hub, options);
    CHECK(agent.slots() == 2);
    agent.start();
    for (const auto& id : ids) {
        CHECK(fixture.wait_final(agent, id).status == JobStatus::completed);
    }
}

TEST_CASE("a running job's lease is renewed, so it outlives its first lease") {
    AgentFixture fixture;
    const auto job = fixture.scheduler().submit(AgentFixture::shell_job("long", "sleep 0.6"));
    WorkerAgent agent(fixture.hub, fixture.agent_options());
    agent.start();
    for (int i = 0; i < 200 && agent.status().running.empty(); ++i) {
        std::this_thread::sleep_for(5ms);
    }
    const auto first = fixture.scheduler().job(job.id).lease_expires_at;
    REQUIRE(first.has_value());
    // Two steps of 40 s pass the first lease's end; renewals every 50 ms keep it ahead.
    for (int step = 0; step < 2; ++step) {
        fixture.clock->advance(40s);
        std::this_thread::sleep_for(150ms);
    }
    fixture.scheduler().tick();
    const auto running = fixture.scheduler().job(job.id);
    CHECK(running.status == JobStatus::running);
    CHECK(*running.lease_expires_at > *first + 40s);
    const auto done = fixture.wait_final(agent, job.id);
    CHECK(done.status == JobStatus::completed);
    CHECK(done.attempts == 1);
}

TEST_CASE("draining finishes what ends in time and hands back the rest") {
    AgentFixture fixture;
    const auto quick = fixture.scheduler().submit(AgentFixture::shell_job("quick", "sleep 0.2"));
    auto slow_spec = AgentFixture::shell_job("slow", "sleep 30");
    slow_spec.max_attempts = 3;
    const auto slow = fixture.scheduler().submit(slow_spec);
    WorkerAgent agent(fixture.hub, fixture.agent_options());
    agent.start();
    for (int i = 0; i < 200 && agent.status().running.size() < 2; ++i) {
        std::this_thread::sleep_for(5ms);
    }
    REQUIRE(agent.status().running.size() == 2);
    CHECK(agent.drain(600ms) == 1);
    CHECK(fixture.scheduler().job(quick.id).status == JobStatus::completed);
    const auto handed = fixture.scheduler().job(slow.id);
    CHECK(handed.status != JobStatus::running);
    CHECK_FALSE(handed.dead_letter);
    REQUIRE(handed.error_message.has_value());
    CHECK(handed.error_message->find("handed back by worker bee-01") != std::string::npos);
    CHECK(fixture.scheduler().worker("bee-01").status == WorkerStatus::draining);

    // A draining agent claims nothing new.
    const auto later = fixture.scheduler().submit(AgentFixture::shell_job("later", "true"));
    std::this_thread::sleep_for(50ms);
    CHECK(fixture.scheduler().job(later.id).status == JobStatus::queued);
    agent.stop();
    CHECK(agent.status().state == AgentState::stopped);
}

TEST_CASE("energy comes from the RAPL counters when they are readable, across a wrap") {
    AgentFixture fixture;
    const auto zone = fixture.dir / "powercap" / "intel-rapl:0";
    std::filesystem::create_directories(zone);
    std::ofstream(zone / "name") << "package-0\n";
    std::ofstream(zone / "max_energy_range_uj") << "262143328850\n";
    // 0.5 Wh before the counter wraps; the job moves it 0.5 Wh past zero: 1 Wh in all.
    std::ofstream(zone / "energy_uj") << (262143328850 - 1'800'000'000) << "\n";
    auto spec = AgentFixture::shell_job("metered", "echo 1800000000 > \"$COUNTER\"");
    spec.workload.env = {{"COUNTER", (zone / "energy_uj").string()}};
    const auto job = fixture.scheduler().submit(spec);
    auto options = fixture.agent_options();
    options.rapl.root = fixture.dir / "powercap";
    options.unsandboxed_native = true;  // the job stands in for the CPU: it moves the counter
    options.heartbeat_interval = 1h;    // only the job moves the counter
    WorkerAgent agent(fixture.hub, options);
    agent.start();
    const auto done = fixture.wait_final(agent, job.id);
    REQUIRE(done.status == JobStatus::completed);
    CHECK(done.energy_source == EnergySource::measured);
    CHECK(done.actual_energy == Energy::milliwatt_hours(1000));
    CHECK(done.heat_generated == Energy::milliwatt_hours(900));  // the hub recovers 90 %
    CHECK(agent.status().energy_source == EnergySource::measured);
}

namespace {

// An executor of the host's own: it writes no logs, and can be told to throw.
class HostExecutor final : public Executor {
  public:
    explicit HostExecutor(bool throws) : throws_(throws) {}
    std::string name() const override { return "host"; }
    ExecutionResult run(const ExecutionRequest&, std::stop_token) override {
        if (throws_) {
            throw std::runtime_error("the host's executor broke");
        }
        return ExecutionResult{ExecutionOutcome::succeeded, 0, std::nullopt, "", {}};
    }

  private:
    bool throws_;
};

}  // namespace

TEST_CASE("a host executor that writes no logs completes its job") {
    AgentFixture fixture;
    const auto job = fixture.scheduler().submit(AgentFixture::shell_job("quiet", "true"));
    auto options = fixture.agent_options();
    options.process_executor = std::make_shared<HostExecutor>(false);
    WorkerAgent agent(fixture.hub, options);
    agent.start();
    CHECK(fixture.wait_final(agent, job.id).status == JobStatus::completed);
}

TEST_CASE("an error inside the agent ends the attempt instead of holding its lease") {
    AgentFixture fixture;
    auto spec = AgentFixture::shell_job("doomed", "true");
    spec.max_attempts = 1;
    const auto job = fixture.scheduler().submit(spec);
    auto options = fixture.agent_options();
    options.process_executor = std::make_shared<HostExecutor>(true);
    WorkerAgent agent(fixture.hub, options);
    agent.start();
    const auto done = fixture.wait_final(agent, job.id);
    CHECK(done.status == JobStatus::failed);
    REQUIRE(done.error_message.has_value());
    CHECK(done.error_message->find("the host's executor broke") != std::string::npos);
}

}  // namespace sihlicon::testing
