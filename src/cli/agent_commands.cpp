// SPDX-License-Identifier: Apache-2.0
//
// `sihlicon agent run`: a WorkerAgent in the foreground, with a live status line on a terminal
// and plain event lines otherwise, until SIGINT or SIGTERM (or, with --once, until no work is
// left). Native jobs run sandboxed (bubblewrap) unless --unsandboxed-native; --no-native and
// --allow-command CMD restrict what this machine runs (see AgentOptions).
//
// The hub: `--hub DIR` (a hub folder on this machine), or `--server URL` (a `sihlicon serve`
// elsewhere, through make_remote_hub_link) with an API token: --token-file F (the file's
// first line; keeps the token out of the process list and shell history), else --token T
// (visible to other users through the process list: for tests), else the environment
// variable SIHLICON_TOKEN. --ca-file F trusts F's certificates for an https server (a
// self-signed test certificate). With --server, --hub and $SIHLICON_HUB are not used,
// --hub-id is required, and a worker token
// acts only for its own worker: give that worker's id with --worker-id.
#include "cli/command.hpp"

#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/hub_link.hpp>
#include <sihlicon/text.hpp>
#include <sihlicon/worker_agent.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace po = boost::program_options;

namespace sihlicon::cli {

namespace {

std::atomic<int> g_stop_signal{0};

extern "C" void on_stop_signal(int signal_number) {
    g_stop_signal.store(signal_number);
}

void install_stop_handlers() {
    struct sigaction action = {};
    action.sa_handler = on_stop_signal;
    ::sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
}

std::string status_line(const AgentStatus& status) {
    std::string jobs;
    for (const auto& job : status.running) {
        jobs += fmt::format(" {}({}s)", job.job_id, job.elapsed.count() / 1000);
    }
    return fmt::format("{} {}  slots {}/{}  done {}  failed {}  cpu {}%  {} W  {} kWh{}",
                       status.worker_id, to_string(status.state), status.running.size(),
                       status.slots, status.completed, status.failed,
                       status.utilisation_ppm / 10'000, status.power_draw_w,
                       status.energy.to_kwh_string(), jobs);
}

// The hub the agent's machine belongs to: --hub-id, else the only hub registered.
std::string site_of(Hub& hub, const po::variables_map& values) {
    if (values.count("hub-id")) {
        return values["hub-id"].as<std::string>();
    }
    const auto sites = hub.scheduler().hubs();
    if (sites.size() != 1) {
        throw UsageError{fmt::format(
            "the hub has {} sites registered: name this machine's with --hub-id", sites.size())};
    }
    return sites.front().spec.id;
}

// The token of --server: --token-file, else --token (not both), else $SIHLICON_TOKEN.
std::string token_of(const po::variables_map& values) {
    const char* environment = std::getenv("SIHLICON_TOKEN");
    if (values.count("token-file") && values.count("token")) {
        throw UsageError{"give the token with --token-file or --token, not both"};
    }
    if (values.count("token-file")) {
        const auto path = values["token-file"].as<std::string>();
        std::ifstream file(path);
        std::string line;
        if (!file || !std::getline(file, line)) {
            throw UsageError{fmt::format("cannot read a token from {}", path)};
        }
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
            line.pop_back();
        }
        return line;
    }
    if (values.count("token")) {
        return values["token"].as<std::string>();
    }
    if (environment != nullptr && *environment != '\0') {
        return environment;
    }
    throw UsageError{"--server needs a token: --token-file F, $SIHLICON_TOKEN or --token T"};
}

int agent_run(const Context& context) {
    po::options_description options("agent run");
    options.add_options()("hub-id", po::value<std::string>(), "the site (hub id) of this machine")(
        "worker-id", po::value<std::string>(), "the worker id (default: agent-<host name>)")(
        "slots", po::value<std::int64_t>()->default_value(1), "jobs run at once")(
        "work-dir", po::value<std::string>(),
        "where attempts get their folders (outside the hub folder; default: a new private one)")(
        "no-native", "refuse every native job (containerImage \"native\")")(
        "allow-command", po::value<std::vector<std::string>>()->composing(),
        "a program native jobs may run (a name on the jobs' PATH or an absolute path; "
        "repeat it; default: any)")("bwrap", po::value<std::string>(),
                                    "the bubblewrap of the native jobs' sandbox")(
        "unsandboxed-native",
        "DANGER: run native jobs without a sandbox, as this user (they can read operator.key "
        "and hub.db)")("poll-ms", po::value<std::int64_t>()->default_value(1000),
                       "idle polling interval")(
        "worker-key-file", po::value<std::string>(),
        "a file with the worker's private key in hex (mode 0600, like operator.key): each "
        "completion is signed with it, as hubs with requireWorkerSignatures ask")(
        "drain-seconds", po::value<std::int64_t>()->default_value(30),
        "on a stop: how long running jobs may finish before they are handed back")(
        "once", "stop as soon as no job is left to run")(
        "server", po::value<std::string>(),
        "a remote hub: http(s)://HOST:PORT of a `sihlicon serve` (instead of --hub DIR)")(
        "token-file", po::value<std::string>(), "--server: a file whose first line is the token")(
        "token", po::value<std::string>(),
        "--server: the API token (else $SIHLICON_TOKEN; visible in the process list)")(
        "ca-file", po::value<std::string>(), "--server: PEM certificates to trust for https");
    const auto values = parse_arguments(context, options, {});
    if (values["poll-ms"].as<std::int64_t>() < 1 ||
        values["drain-seconds"].as<std::int64_t>() < 0) {
        throw UsageError{"--poll-ms must be at least 1 and --drain-seconds not negative"};
    }
    const bool remote = values.count("server") > 0;
    if (!remote &&
        (values.count("token") || values.count("token-file") || values.count("ca-file"))) {
        throw UsageError{"--token, --token-file and --ca-file go with --server"};
    }
    if (remote && !values.count("hub-id")) {
        throw UsageError{"--server needs --hub-id (the site of this machine)"};
    }
    std::optional<Hub> hub;
    std::shared_ptr<HubLink> link;
    if (remote) {
        RemoteHubOptions remote_options;
        remote_options.url = values["server"].as<std::string>();
        remote_options.token = token_of(values);
        if (values.count("ca-file")) {
            remote_options.ca_file = values["ca-file"].as<std::string>();
        }
        link = make_remote_hub_link(std::move(remote_options));
    } else {
        hub.emplace(open_hub(context));
        link = make_local_hub_link(*hub);
    }
    AgentOptions agent_options;
    agent_options.hub_id = remote ? values["hub-id"].as<std::string>() : site_of(*hub, values);
    if (values.count("worker-id")) {
        agent_options.worker_id = values["worker-id"].as<std::string>();
    }
    agent_options.slots = values["slots"].as<std::int64_t>();
    if (values.count("work-dir")) {
        agent_options.work_root = values["work-dir"].as<std::string>();
    }
    agent_options.native_jobs = values.count("no-native") == 0;
    if (values.count("allow-command")) {
        agent_options.allowed_commands = values["allow-command"].as<std::vector<std::string>>();
    }
    if (values.count("bwrap")) {
        agent_options.bwrap_program = values["bwrap"].as<std::string>();
    }
    agent_options.unsandboxed_native = values.count("unsandboxed-native") > 0;
    if (values.count("worker-key-file")) {
        // Read as operator.key is: refused when group or others may access it.
        agent_options.worker_key =
            crypto::LocalKeySigner::load(values["worker-key-file"].as<std::string>()).key();
    }
    agent_options.poll_interval = std::chrono::milliseconds(values["poll-ms"].as<std::int64_t>());
    const bool terminal = ::isatty(STDOUT_FILENO) == 1 && !context.json;
    std::mutex output;
    agent_options.on_event = [&](std::string_view line) {
        if (context.json) {
            return;
        }
        std::lock_guard lock(output);
        std::cout << (terminal ? "\r\033[K" : "") << printable(line) << std::endl;
    };
    install_stop_handlers();
    WorkerAgent agent(link, agent_options);
    agent.start();
    const bool once = values.count("once") > 0;
    while (g_stop_signal.load() == 0) {
        if (once) {
            if (agent.wait_idle(std::chrono::milliseconds(200))) {
                break;
            }
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        if (terminal) {
            std::lock_guard lock(output);
            std::cout << "\r\033[K" << status_line(agent.status()) << std::flush;
        }
    }
    if (const int signal_number = g_stop_signal.load(); signal_number != 0 && !context.json) {
        std::lock_guard lock(output);
        std::cout << (terminal ? "\r\033[K" : "") << "received " << ::strsignal(signal_number)
                  << ": draining" << std::endl;
    }
    agent.stop(std::chrono::seconds(values["drain-seconds"].as<std::int64_t>()));
    const auto status = agent.status();
    print_record(context, status.to_json(), status_line(status));
    return 0;
}

}  // namespace

void add_agent_commands(std::vector<Command>& commands) {
    commands.push_back({"agent run",
                        "run this machine's worker agent in the foreground (--slots N, --once, "
                        "--no-native, --allow-command CMD, --worker-key-file F; a remote hub: "
                        "--server URL --token-file F [--ca-file F])",
                        agent_run});
}

}  // namespace sihlicon::cli
