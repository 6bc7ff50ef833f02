// SPDX-License-Identifier: Apache-2.0
//
// Jobs cannot reach the hub: the sandbox of native jobs, the env rule, the operator's rules
// (native jobs off, an allow-list, an explicit opt-out of the sandbox) and where work folders
// live.
#include "agent/fixture.hpp"
#include "scheduler/rows.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>
#include <sihlicon/worker_agent.hpp>

#include <boost/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace sihlicon::testing {

namespace {

using namespace std::chrono_literals;

std::string read_file(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// A native job of one attempt that runs `script` with the hub folder as $HUB.
JobSpec probe_job(const AgentFixture& fixture, const std::string& name, const std::string& script) {
    auto spec = AgentFixture::shell_job(name, script);
    spec.workload.env = {{"HUB", fixture.dir.path().string()}};
    spec.max_attempts = 1;
    return spec;
}

struct Ran {
    JobRecord record;
    std::string out;  // the job's stdout
    std::vector<std::string> events;
};

Ran run_job(AgentFixture& fixture, const JobSpec& spec, AgentOptions options) {
    Ran ran;
    std::mutex mutex;
    options.on_event = [&](std::string_view line) {
        std::lock_guard lock(mutex);
        ran.events.emplace_back(line);
    };
    const auto job = fixture.scheduler().submit(spec);
    WorkerAgent agent(fixture.hub, options);
    agent.start();
    ran.record = fixture.wait_final(agent, job.id);
    agent.stop();
    const auto metrics = HubAccess::database(fixture.hub).read([&](store::Transaction& tx) {
        return scheduler::load_job(tx, job.id).metrics_json;
    });
    if (!metrics.empty()) {
        const auto parsed = boost::json::parse(metrics).as_object();
        if (const auto* out = parsed.if_contains("stdout")) {
            ran.out = fixture.fetch(std::string(out->as_string()));
        }
    }
    return ran;
}

Ran run_job(AgentFixture& fixture, const JobSpec& spec) {
    return run_job(fixture, spec, fixture.agent_options());
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a native job cannot read the operator key") {
    AgentFixture fixture;
    const auto key_file = fixture.hub.settlement().operator_key_file();
    REQUIRE(std::filesystem::exists(key_file));
    const auto key = read_file(key_file);
    const auto ran =
        run_job(fixture,
                probe_job(fixture, "steal", "cp \"$HUB/operator.key\" \"$SIHLICON_OUTPUT_DIR/k\""));
    CHECK(ran.record.status == JobStatus::failed);
    CHECK(ran.record.output_refs.empty());
    REQUIRE(ran.record.error_message.has_value());
    CHECK(contains(*ran.record.error_message, "No such file or directory"));
    CHECK(read_file(key_file) == key);
}

TEST_CASE("a native job can neither change hub.db nor plant a file in the hub folder") {
    AgentFixture fixture;
    const auto ran =
        run_job(fixture, probe_job(fixture, "vandal",
                                   "printf garbage >> \"$HUB/hub.db\" && echo db-written; "
                                   "echo x > \"$HUB/planted\" && echo planted; exit 0"));
    CHECK(ran.record.status == JobStatus::completed);
    CHECK_FALSE(contains(ran.out, "db-written"));
    CHECK_FALSE(contains(ran.out, "planted"));
    CHECK_FALSE(std::filesystem::exists(fixture.dir / "planted"));
    const auto db = read_file(fixture.dir / "hub.db");
    CHECK_FALSE(db.ends_with("garbage"));
    CHECK(fixture.scheduler().job(ran.record.id).status == JobStatus::completed);
}

TEST_CASE("a native job sees nothing of the hub folder, the agent's home or its environment") {
    AgentFixture fixture;
    const char* home = std::getenv("HOME");
    REQUIRE(home != nullptr);
    REQUIRE(std::filesystem::is_directory(home));
    auto spec = probe_job(fixture, "snoop",
                          "ls -A \"$HUB\" && echo hub-listed; ls -A \"$AGENT_HOME\" && echo "
                          "home-listed; echo \"path=$PATH\"; ls -A /; exit 0");
    spec.workload.env["AGENT_HOME"] = home;
    ::setenv("SIHLICON_TEST_AGENT_SECRET", "s3cret", 1);
    const auto ran = run_job(fixture, spec);
    ::unsetenv("SIHLICON_TEST_AGENT_SECRET");
    CHECK(ran.record.status == JobStatus::completed);
    CHECK_FALSE(contains(ran.out, "hub-listed"));
    CHECK_FALSE(contains(ran.out, "hub.db"));
    CHECK_FALSE(contains(ran.out, "home-listed"));
    CHECK(contains(ran.out, "path=" + std::string(kNativeJobPath) + "\n"));
    CHECK_FALSE(contains(ran.out, "s3cret"));
    // The root holds the system, /proc, /dev, /tmp (and the parents of the job's folders).
    CHECK_FALSE(contains(ran.out, "\nroot\n"));
    CHECK_FALSE(contains(ran.out, "\nhome\n"));
    CHECK_FALSE(contains(ran.out, "\nwork\n"));
}

TEST_CASE("a native job cannot reach the network, not even the host's loopback") {
    AgentFixture fixture;
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REQUIRE(listener >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener, 4) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    const auto port = std::to_string(ntohs(address.sin_port));
    const auto ran =
        run_job(fixture, probe_job(fixture, "caller",
                                   "bash -c 'echo hi > /dev/tcp/127.0.0.1/" + port +
                                       "' && echo connected; cat /proc/net/dev; exit 0"));
    CHECK(ran.record.status == JobStatus::completed);
    CHECK_FALSE(contains(ran.out, "connected"));
    pollfd waiting{listener, POLLIN, 0};
    CHECK(::poll(&waiting, 1, 100) == 0);  // no connection ever arrived
    ::close(listener);
    // Its only interface is its own loopback.
    CHECK(contains(ran.out, "lo:"));
    CHECK_FALSE(contains(ran.out, "eth0"));
}

TEST_CASE("a native job cannot make the read-only system or its inputs writable") {
    AgentFixture fixture;
    const auto probe = "/usr/.sihlicon-probe-" + std::to_string(::getpid());
    auto spec =
        probe_job(fixture, "remount",
                  "mount -o remount,bind,rw /usr 2>/dev/null && echo remounted; touch " + probe +
                      " 2>/dev/null && echo wrote-usr; echo x >> "
                      "\"$SIHLICON_INPUT_DIR/page.txt\" && echo wrote-input; "
                      "grep CapEff /proc/self/status; exit 0");
    const auto page = fixture.store("Folio 17", "page.txt");
    spec.input_refs = {page.content_id};
    const auto ran = run_job(fixture, spec);
    const bool wrote = std::filesystem::exists(probe);
    if (wrote) {
        std::filesystem::remove(probe);
    }
    CHECK(ran.record.status == JobStatus::completed);
    CHECK_FALSE(wrote);
    CHECK_FALSE(contains(ran.out, "remounted"));
    CHECK_FALSE(contains(ran.out, "wrote-usr"));
    CHECK_FALSE(contains(ran.out, "wrote-input"));
    CHECK(contains(ran.out, "CapEff:\t0000000000000000"));
    CHECK(fixture.fetch(page.content_id) == "Folio 17");
}

TEST_CASE("a native job sees no process but its own") {
    AgentFixture fixture;
    const auto ran =
        run_job(fixture, probe_job(fixture, "ps",
                                   "[ -e /proc/" + std::to_string(::getpid()) +
                                       " ] && echo agent-visible; ls /proc | grep -c '^[0-9]*$'"));
    CHECK(ran.record.status == JobStatus::completed);
    CHECK_FALSE(contains(ran.out, "agent-visible"));
    // bubblewrap's init, the shell, ls and grep.
    CHECK(std::stoi(ran.out) <= 5);
}

TEST_CASE("a job's env may not replace PATH, LD_PRELOAD and the like: refused at submission") {
    AgentFixture fixture;
    for (const char* name : {"PATH", "HOME", "LD_PRELOAD", "LD_LIBRARY_PATH", "BASH_ENV",
                             "GLIBC_TUNABLES", "PYTHONPATH", "SIHLICON_INPUT_DIR"}) {
        CAPTURE(name);
        auto spec = AgentFixture::shell_job("env", "true");
        spec.workload.env = {{name, "/tmp/evil"}};
        try {
            fixture.scheduler().submit(spec);
            FAIL("accepted");
        } catch (const Error& error) {
            CHECK(error.code() == ErrorCode::invalid_argument);
            CHECK(contains(error.what(), "workloadConfig.env"));
            CHECK(contains(error.what(), name));
        }
    }
    auto fine = AgentFixture::shell_job("env", "true");
    fine.workload.env = {{"LANGUAGE", "de"}, {"MY_PATH", "/x"}, {"LDX", "1"}};
    CHECK_NOTHROW(fixture.scheduler().submit(fine));
    CHECK(is_reserved_env_name("LD_AUDIT"));
    CHECK_FALSE(is_reserved_env_name("path"));  // names are case-sensitive
}

TEST_CASE("the executors refuse a job whose env is reserved, whatever let it through") {
    AgentFixture fixture;
    ExecutionRequest request;
    request.job.id = "job-01";
    request.job.spec = AgentFixture::shell_job("preload", "echo ran");
    request.job.spec.workload.env = {{"LD_PRELOAD", "/tmp/evil.so"}};
    request.work_dir = fixture.work / "attempt";
    request.input_dir = request.work_dir / "input";
    request.output_dir = request.work_dir / "output";
    std::filesystem::create_directories(request.input_dir);
    std::filesystem::create_directories(request.output_dir);
    request.stdout_file = request.work_dir / "stdout.txt";
    ProcessExecutor process;
    const auto native = process.run(request, {});
    CHECK(native.outcome == ExecutionOutcome::refused);
    CHECK(contains(native.message, "LD_PRELOAD"));
    CHECK(read_file(request.stdout_file).empty());
    ContainerExecutor container({"docker", "/bin/false"});
    request.job.spec.workload.container_image = "alpine";
    const auto contained = container.run(request, {});
    CHECK(contained.outcome == ExecutionOutcome::refused);
    CHECK(contains(contained.message, "LD_PRELOAD"));
}

TEST_CASE("a container image that a runtime would read as an option is refused") {
    AgentFixture fixture;
    auto spec = AgentFixture::job("ocr");
    spec.workload.container_image = "--volume=/:/host";
    try {
        fixture.scheduler().submit(spec);
        FAIL("accepted");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(contains(error.what(), "workloadConfig.containerImage"));
        CHECK(contains(error.what(), "--volume=/:/host"));
    }
    CHECK(is_container_image("ghcr.io/acme/ocr:1.2@sha256:abc"));
    CHECK_FALSE(is_container_image("-v"));
    CHECK_FALSE(is_container_image("alpine latest"));
    ExecutionRequest request;
    request.job.spec = spec;
    ContainerExecutor container({"docker", "/bin/true"});
    CHECK(container.run(request, {}).outcome == ExecutionOutcome::refused);
}

TEST_CASE("an agent with native jobs turned off registers no native executor and gets none") {
    // Before, it was handed native jobs and failed each; now they wait for a worker with the
    // "native" executor.
    AgentFixture fixture;
    auto spec = AgentFixture::shell_job("native", "true");
    spec.max_attempts = 3;
    auto options = fixture.agent_options();
    options.native_jobs = false;
    const auto ran = run_job(fixture, spec, options);
    CHECK(ran.record.status == JobStatus::queued);
    CHECK(ran.record.attempts == 0);
    const auto worker = fixture.scheduler().worker("bee-01");
    CHECK(worker.spec.labels.at("executors") == "none");
    CHECK(worker.spec.executors.empty());
}

TEST_CASE("an allow-list lets native jobs run only the programs it names") {
    AgentFixture fixture;
    auto options = fixture.agent_options();
    options.allowed_commands = {"sha256sum", "wc"};
    auto by_path = AgentFixture::native_job("by-path", {"/usr/bin/wc", "-c"});
    auto refused = AgentFixture::native_job("shell", {"sh", "-c", "cat /etc/passwd"});
    refused.max_attempts = 3;
    auto sum = AgentFixture::native_job("sum", {"sha256sum", "--version"});
    const auto ok = run_job(fixture, sum, options);
    CHECK(ok.record.status == JobStatus::completed);
    CHECK(contains(ok.out, "sha256sum"));
    CHECK(run_job(fixture, by_path, options).record.status == JobStatus::completed);
    const auto no = run_job(fixture, refused, options);
    CHECK(no.record.status == JobStatus::failed);
    CHECK(no.record.attempts == 1);
    REQUIRE(no.record.error_message.has_value());
    CHECK(contains(*no.record.error_message,
                   "'sh' is not a program worker bee-01 allows (allowed: sha256sum, wc)"));

    options.allowed_commands = {"no-such-program-anywhere"};
    try {
        WorkerAgent agent(fixture.hub, options);
        FAIL("accepted");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(contains(error.what(), "allowed_commands"));
        CHECK(contains(error.what(), "no-such-program-anywhere"));
    }
}

TEST_CASE("where bwrap is missing or fails its self-test, native jobs are refused, not retried") {
    AgentFixture fixture;
    auto options = fixture.agent_options();
    SUBCASE("missing") {
        options.bwrap_program = fixture.work / "no-such-bwrap";
    }
    SUBCASE("failing") {
        const auto fake = fixture.work / "broken-bwrap";
        std::ofstream(fake) << "#!/bin/sh\necho 'bwrap: No permissions to creating new "
                               "namespace' >&2\nexit 1\n";
        std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
        options.bwrap_program = fake;
    }
    auto spec = AgentFixture::shell_job("native", "true");
    spec.max_attempts = 3;
    const auto ran = run_job(fixture, spec, options);
    CHECK(ran.record.status == JobStatus::failed);
    CHECK(ran.record.attempts == 1);
    REQUIRE(ran.record.error_message.has_value());
    CHECK(contains(*ran.record.error_message, "this worker cannot make one"));
    CHECK(contains(*ran.record.error_message, "--unsandboxed-native"));
    CHECK(contains(*ran.record.error_message, options.bwrap_program.string()));
    CHECK(fixture.scheduler().worker("bee-01").spec.labels.at("executors") == "none");
    CHECK(std::any_of(ran.events.begin(), ran.events.end(), [](const std::string& line) {
        return contains(line, "native jobs will be refused");
    }));
}

TEST_CASE("an operator's explicit opt-out runs native jobs unsandboxed, and says so") {
    AgentFixture fixture;
    auto options = fixture.agent_options();
    options.bwrap_program = fixture.work / "no-such-bwrap";
    options.unsandboxed_native = true;
    const auto ran =
        run_job(fixture, probe_job(fixture, "trusted", "ls \"$HUB\" | grep -cx hub.db"), options);
    CHECK(ran.record.status == JobStatus::completed);
    CHECK(ran.out == "1\n");  // as the agent's user: the hub folder is in reach
    CHECK(std::any_of(ran.events.begin(), ran.events.end(), [](const std::string& line) {
        return contains(line, "WARNING") && contains(line, "UNSANDBOXED");
    }));
}

TEST_CASE("a work folder inside the hub folder is refused") {
    AgentFixture fixture;
    for (const auto& inside :
         {fixture.dir.path(), fixture.dir / "agent", fixture.dir.path() / "x" / ".." / "agent",
          fixture.work.path() / ".." / fixture.dir.path().filename() / "agent"}) {
        CAPTURE(inside);
        auto options = fixture.agent_options();
        options.work_root = inside;
        try {
            WorkerAgent agent(fixture.hub, options);
            FAIL("accepted");
        } catch (const Error& error) {
            CHECK(error.code() == ErrorCode::invalid_argument);
            CHECK(contains(error.what(), "work_root"));
            CHECK(contains(error.what(), "inside the hub folder"));
        }
    }
    CHECK_FALSE(std::filesystem::exists(fixture.dir / "agent"));
}

TEST_CASE("by default an agent's work folder is a private one outside the hub, removed with it") {
    AgentFixture fixture;
    auto options = fixture.agent_options();
    options.work_root.clear();
    auto spec = AgentFixture::shell_job("where", "echo \"$HOME\"");
    const auto ran = run_job(fixture, spec, options);
    REQUIRE(ran.record.status == JobStatus::completed);
    const std::filesystem::path folder = ran.out.substr(0, ran.out.size() - 1);
    CHECK(folder.is_absolute());
    CHECK(contains(folder.parent_path().filename().string(), "sihlicon-agent-"));
    CHECK(folder.string().find(fixture.dir.path().string()) == std::string::npos);
    CHECK_FALSE(std::filesystem::exists(folder.parent_path()));  // gone with the agent
}

}  // namespace sihlicon::testing
