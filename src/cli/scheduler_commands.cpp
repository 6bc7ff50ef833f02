// SPDX-License-Identifier: Apache-2.0
//
// `sihlicon hub …`, `worker …` and `job …`: the scheduler from the command line.
#include "cli/command.hpp"
#include "core/json.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/scheduler.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/json.hpp>

#include <cstdlib>
#include <iostream>

namespace po = boost::program_options;

namespace sihlicon::cli {

namespace {

std::string hub_line(const HubRecord& hub) {
    return fmt::format("{}  {}  site {}  region {}  {}  grid {}  power {}/{} W  heat demand {} W",
                       hub.spec.id, hub.spec.name, hub.spec.site, hub.spec.region,
                       to_string(hub.spec.routing_policy), to_string(hub.grid.signal),
                       hub.running_power_w, hub.spec.power_capacity_w, hub.heat_demand_w);
}

std::string worker_line(const WorkerRecord& worker) {
    auto line = fmt::format(
        "{}  hub {}  {}  cpu {}/{}m  memory {}/{} bytes  gpus {}  executors {}  jobs {}",
        worker.spec.id, worker.spec.hub_id, to_string(worker.status), worker.used_cpu_millicores,
        worker.spec.cpu_millicores, worker.used_memory_bytes, worker.spec.memory_bytes,
        worker.spec.gpus.size(),
        worker.spec.executors.empty() ? "none"
                                      : fmt::format("{}", fmt::join(worker.spec.executors, ",")),
        worker.running_jobs);
    // The last heartbeat's GPU stats (never more than the GPUs registered).
    for (std::size_t i = 0; i < worker.gpu_stats.size() && i < worker.spec.gpus.size(); ++i) {
        line +=
            fmt::format("  gpu{} {} ppm vram {}/{} bytes", i, worker.gpu_stats[i].utilisation_ppm,
                        worker.gpu_stats[i].vram_used_bytes, worker.spec.gpus[i].vram_bytes);
    }
    return line;
}

std::string job_line(const JobRecord& job) {
    std::string line = fmt::format("{}  {}  {}  {}  priority {}  attempts {}/{}", job.id,
                                   to_string(job.status), to_string(job.spec.type), job.spec.name,
                                   job.spec.priority, job.attempts, job.spec.max_attempts);
    if (!job.wait_reason.empty()) {
        line += "  waits for " + job.wait_reason;
    }
    if (job.spec.pin_hub) {
        line += "  pinned to hub " + *job.spec.pin_hub;
    } else if (job.spec.hub_id) {
        line += "  prefers hub " + *job.spec.hub_id;
        if (job.prefer_until) {
            line += " until " + to_iso8601(*job.prefer_until);
        }
    }
    if (job.worker_id) {
        line += "  worker " + *job.worker_id;
    }
    if (job.run_hub_id) {
        line += "  ran on hub " + *job.run_hub_id;
    }
    if (job.heat_generated) {
        line += "  heat " + job.heat_generated->to_kwh_string() + " kWh";
    }
    if (job.error_message) {
        line += "  error: " + *job.error_message;
    }
    return line;
}

template <class Record, class Line>
void print_list(const Context& context, const std::vector<Record>& records, Line line) {
    if (context.json) {
        std::cout << json::join_array(records) << '\n';
        return;
    }
    for (const auto& record : records) {
        print_line(line(record));
    }
}

std::optional<Timestamp> until_option(const po::variables_map& values) {
    if (!values.count("until")) {
        return std::nullopt;
    }
    return parse_iso8601(values["until"].as<std::string>(), "--until");
}

// ---- hub ----

int hub_register(const Context& context, bool update) {
    po::options_description options;
    options.add_options()("spec", po::value<std::string>(), "hub spec JSON, @FILE or -");
    const auto values = parse_arguments(context, options, {"spec"});
    const auto spec = HubSpec::from_json(read_json_argument(values["spec"].as<std::string>()));
    auto hub = open_hub(context);
    const auto record =
        update ? hub.scheduler().update_hub(spec) : hub.scheduler().register_hub(spec);
    print_record(context, record.to_json(), hub_line(record));
    return EXIT_SUCCESS;
}

int hub_list(const Context& context) {
    require_no_arguments(context);
    print_list(context, open_hub(context).scheduler().hubs(), hub_line);
    return EXIT_SUCCESS;
}

int hub_show(const Context& context) {
    po::options_description options;
    options.add_options()("hub", po::value<std::string>(), "hub id");
    const auto values = parse_arguments(context, options, {"hub"});
    const auto record = open_hub(context).scheduler().hub(values["hub"].as<std::string>());
    print_record(context, record.to_json(), hub_line(record));
    return EXIT_SUCCESS;
}

int hub_grid(const Context& context) {
    po::options_description options;
    options.add_options()("hub", po::value<std::string>(), "hub id")(
        "signal", po::value<std::string>(), "surplus | normal | throttle | curtail")(
        "budget", po::value<std::int64_t>(), "power budget in W")("until", po::value<std::string>(),
                                                                  "ISO 8601 end of validity");
    const auto values = parse_arguments(context, options, {"hub", "signal"});
    GridState state;
    state.signal = parse_grid_signal(values["signal"].as<std::string>(), "signal");
    if (values.count("budget")) {
        state.power_budget_w = values["budget"].as<std::int64_t>();
    }
    state.valid_until = until_option(values);
    const auto record =
        open_hub(context).scheduler().set_grid_state(values["hub"].as<std::string>(), state);
    print_record(context, record.to_json(), hub_line(record));
    return EXIT_SUCCESS;
}

int hub_heat_demand(const Context& context) {
    po::options_description options;
    options.add_options()("hub", po::value<std::string>(), "hub id")(
        "watts", po::value<std::int64_t>(), "heat demand in W")("until", po::value<std::string>(),
                                                                "ISO 8601 end of validity");
    const auto values = parse_arguments(context, options, {"hub", "watts"});
    const auto record = open_hub(context).scheduler().set_heat_demand(
        values["hub"].as<std::string>(), values["watts"].as<std::int64_t>(), until_option(values));
    print_record(context, record.to_json(), hub_line(record));
    return EXIT_SUCCESS;
}

// ---- worker ----

int worker_register(const Context& context) {
    po::options_description options;
    options.add_options()("spec", po::value<std::string>(), "worker spec JSON, @FILE or -")(
        "executors", po::value<std::string>(),
        "the executors it has, comma-separated: native,container (instead of the spec's)");
    const auto values = parse_arguments(context, options, {"spec"});
    auto spec = WorkerSpec::from_json(read_json_argument(values["spec"].as<std::string>()));
    if (values.count("executors")) {
        // Each name is checked by the scheduler (register_worker), naming executors[i].
        spec.executors.clear();
        const auto text = values["executors"].as<std::string>();
        for (std::size_t start = 0;;) {
            const auto comma = text.find(',', start);
            spec.executors.push_back(text.substr(start, comma - start));
            if (comma == std::string::npos) {
                break;
            }
            start = comma + 1;
        }
    }
    const auto record = open_hub(context).scheduler().register_worker(spec);
    print_record(context, record.to_json(), worker_line(record));
    return EXIT_SUCCESS;
}

int worker_heartbeat(const Context& context) {
    po::options_description options;
    options.add_options()("worker", po::value<std::string>(), "worker id")(
        "utilisation", po::value<std::int64_t>()->default_value(0), "CPU utilisation in ppm")(
        "power", po::value<std::int64_t>()->default_value(0), "power draw in W")(
        "gpus", po::value<std::string>(),
        R"(per-GPU stats in registration order: [{"utilisationPpm", "vramUsed" (bytes)}])");
    const auto values = parse_arguments(context, options, {"worker"});
    // Through the heartbeat's one codec, Heartbeat::from_json. Its strict parser refuses a
    // --gpus that is not one JSON value or that adds or repeats a member.
    auto beat =
        fmt::format(R"({{"utilisationPpm":{},"powerDrawW":{})",
                    values["utilisation"].as<std::int64_t>(), values["power"].as<std::int64_t>());
    if (values.count("gpus")) {
        beat += R"(,"gpus":)" + values["gpus"].as<std::string>();
    }
    beat += "}";
    const auto record = open_hub(context).scheduler().heartbeat(values["worker"].as<std::string>(),
                                                                Heartbeat::from_json(beat));
    print_record(context, record.to_json(), worker_line(record));
    return EXIT_SUCCESS;
}

int worker_set_status(const Context& context, WorkerStatus status) {
    po::options_description options;
    options.add_options()("worker", po::value<std::string>(), "worker id");
    const auto values = parse_arguments(context, options, {"worker"});
    const auto record =
        open_hub(context).scheduler().set_worker_status(values["worker"].as<std::string>(), status);
    print_record(context, record.to_json(), worker_line(record));
    return EXIT_SUCCESS;
}

int worker_list(const Context& context) {
    po::options_description options;
    options.add_options()("hub-id", po::value<std::string>(), "only this hub's workers");
    const auto values = parse_arguments(context, options, {});
    std::optional<std::string> hub_id;
    if (values.count("hub-id")) {
        hub_id = values["hub-id"].as<std::string>();
    }
    print_list(context, open_hub(context).scheduler().workers(hub_id), worker_line);
    return EXIT_SUCCESS;
}

// ---- job ----

int job_submit(const Context& context) {
    po::options_description options;
    options.add_options()("request", po::value<std::string>(),
                          "the POST /api/compute body: JSON, @FILE or -")(
        "owner", po::value<std::string>(), "the client submitting (default: $USER)")(
        "hub-id", po::value<std::string>(), "the hub the job prefers (the body's hubId)")(
        "pin-hub", po::value<std::string>(),
        "the hub the job runs on only (the body's constraints.pinHub)");
    const auto values = parse_arguments(context, options, {"request"});
    std::string owner;
    if (values.count("owner")) {
        owner = values["owner"].as<std::string>();
    } else if (const char* user = std::getenv("USER")) {
        owner = user;
    }
    if (owner.empty()) {
        throw Error::invalid("owner", owner, "is required");
    }
    auto spec = JobSpec::from_json(read_json_argument(values["request"].as<std::string>()), owner);
    if (values.count("hub-id")) {
        spec.hub_id = values["hub-id"].as<std::string>();
    }
    if (values.count("pin-hub")) {
        spec.pin_hub = values["pin-hub"].as<std::string>();
    }
    const auto record = open_hub(context).scheduler().submit(spec);
    print_record(context, record.to_json(), job_line(record));
    return EXIT_SUCCESS;
}

int job_show(const Context& context) {
    po::options_description options;
    options.add_options()("job", po::value<std::string>(), "job id");
    const auto values = parse_arguments(context, options, {"job"});
    const auto record = open_hub(context).scheduler().job(values["job"].as<std::string>());
    print_record(context, record.to_json(), job_line(record));
    return EXIT_SUCCESS;
}

int job_list(const Context& context) {
    po::options_description options;
    options.add_options()("hub-id", po::value<std::string>(),
                          "jobs preferring, pinned to or run on this hub")(
        "status", po::value<std::string>(), "job status")("owner", po::value<std::string>(),
                                                          "owner")(
        "limit", po::value<std::int64_t>()->default_value(50), "page size")(
        "after", po::value<std::string>(), "the last job id of the previous page")(
        "worker-id", po::value<std::string>(), "jobs whose running or last attempt it holds")(
        "dead-letter", "only dead-lettered jobs")("not-dead-letter",
                                                  "only jobs that are not dead-lettered");
    const auto values = parse_arguments(context, options, {});
    JobFilter filter;
    if (values.count("worker-id")) {
        filter.worker_id = values["worker-id"].as<std::string>();
    }
    if (values.count("dead-letter") && values.count("not-dead-letter")) {
        throw Error::invalid("dead-letter", "", "cannot be given with --not-dead-letter");
    }
    if (values.count("dead-letter") || values.count("not-dead-letter")) {
        filter.dead_letter = values.count("dead-letter") > 0;
    }
    if (values.count("hub-id")) {
        filter.hub_id = values["hub-id"].as<std::string>();
    }
    if (values.count("status")) {
        filter.status = parse_job_status(values["status"].as<std::string>());
    }
    if (values.count("owner")) {
        filter.owner = values["owner"].as<std::string>();
    }
    if (values.count("after")) {
        filter.after = values["after"].as<std::string>();
    }
    filter.limit = values["limit"].as<std::int64_t>();
    print_list(context, open_hub(context).scheduler().jobs(filter), job_line);
    return EXIT_SUCCESS;
}

int job_claim(const Context& context) {
    po::options_description options;
    options.add_options()("worker", po::value<std::string>(), "worker id")(
        "max", po::value<std::int64_t>()->default_value(1), "most jobs to lease");
    const auto values = parse_arguments(context, options, {"worker"});
    const auto claimed = open_hub(context).scheduler().claim(values["worker"].as<std::string>(),
                                                             values["max"].as<std::int64_t>());
    std::string array = "[";
    for (const auto& item : claimed) {
        if (context.json) {
            array += fmt::format(
                "{}{{\"jobId\":\"{}\",\"token\":\"{}\",\"expiresAt\":\"{}\",\"attempt\":{},"
                "\"job\":{}}}",
                array.size() > 1 ? "," : "", item.lease.job_id, item.lease.token,
                to_iso8601(item.lease.expires_at), item.lease.attempt, item.job.to_json());
        } else {
            std::cout << fmt::format("{}  token {}  expires {}\n", item.lease.job_id,
                                     item.lease.token, to_iso8601(item.lease.expires_at));
        }
    }
    if (context.json) {
        std::cout << array << "]\n";
    }
    return EXIT_SUCCESS;
}

int job_complete(const Context& context) {
    po::options_description options;
    options.add_options()("job", po::value<std::string>(), "job id")(
        "token", po::value<std::string>(), "lease token")("energy-kwh", po::value<std::string>(),
                                                          "electricity used, exact kWh")(
        "source", po::value<std::string>()->default_value("measured"),
        "measured | modelled | estimated")("output", po::value<std::vector<std::string>>(),
                                           "an output CID (repeatable)")(
        "result-hash", po::value<std::string>(), "hash of the result");
    const auto values = parse_arguments(context, options, {"job", "token"});
    JobCompletion completion;
    if (values.count("energy-kwh")) {
        completion.energy = Energy::parse_kwh(values["energy-kwh"].as<std::string>(), "energy-kwh");
    }
    completion.energy_source = parse_energy_source(values["source"].as<std::string>(), "source");
    if (values.count("output")) {
        completion.output_refs = values["output"].as<std::vector<std::string>>();
    }
    if (values.count("result-hash")) {
        completion.result_hash = values["result-hash"].as<std::string>();
    }
    const auto record = open_hub(context).scheduler().complete(
        values["job"].as<std::string>(), values["token"].as<std::string>(), completion);
    print_record(context, record.to_json(), job_line(record));
    return EXIT_SUCCESS;
}

int job_fail(const Context& context) {
    po::options_description options;
    options.add_options()("job", po::value<std::string>(), "job id")(
        "token", po::value<std::string>(), "lease token")(
        "error", po::value<std::string>(), "what went wrong")("final", "do not retry");
    const auto values = parse_arguments(context, options, {"job", "token", "error"});
    const auto record = open_hub(context).scheduler().fail(
        values["job"].as<std::string>(), values["token"].as<std::string>(),
        values["error"].as<std::string>(), values.count("final") == 0);
    print_record(context, record.to_json(), job_line(record));
    return EXIT_SUCCESS;
}

int job_cancel_or_requeue(const Context& context, bool cancel) {
    po::options_description options;
    options.add_options()("job", po::value<std::string>(), "job id")(
        "by", po::value<std::string>()->default_value("operator"), "who does it")(
        "reason", po::value<std::string>()->default_value(""), "why");
    const auto values = parse_arguments(context, options, {"job"});
    auto hub = open_hub(context);
    const auto& job_id = values["job"].as<std::string>();
    const auto& by = values["by"].as<std::string>();
    const auto& reason = values["reason"].as<std::string>();
    const auto record = cancel ? hub.scheduler().cancel(job_id, by, reason)
                               : hub.scheduler().requeue(job_id, by, reason);
    print_record(context, record.to_json(), job_line(record));
    return EXIT_SUCCESS;
}

int job_events(const Context& context) {
    po::options_description options;
    options.add_options()("job", po::value<std::string>(), "job id");
    const auto values = parse_arguments(context, options, {"job"});
    print_list(context, open_hub(context).scheduler().events(values["job"].as<std::string>()),
               [](const JobEvent& event) {
                   return fmt::format("{}  {} -> {}  by {}: {}", to_iso8601(event.at),
                                      event.from ? to_string(*event.from) : "(new)",
                                      to_string(event.to), event.actor, event.reason);
               });
    return EXIT_SUCCESS;
}

int job_explain(const Context& context) {
    po::options_description options;
    options.add_options()("job", po::value<std::string>(), "job id");
    const auto values = parse_arguments(context, options, {"job"});
    const auto lines = open_hub(context).scheduler().explain(values["job"].as<std::string>());
    boost::json::array array;
    for (const auto& line : lines) {
        if (context.json) {
            array.push_back(boost::json::parse(line.to_json()));
        } else {
            const auto where = line.hub_id.empty()      ? std::string("job")
                               : line.worker_id.empty() ? "hub " + line.hub_id
                                                        : "  worker " + line.worker_id;
            const auto heat =
                line.expected_heat && line.worker_id.empty()
                    ? fmt::format(" (expected heat {} kWh)", line.expected_heat->to_kwh_string())
                    : std::string();
            print_line(where + ": " +
                       (line.eligible ? std::string("can run")
                                      : fmt::format("{}", fmt::join(line.reasons, "; "))) +
                       heat);
        }
    }
    if (context.json) {
        std::cout << boost::json::serialize(array) << '\n';
    }
    return EXIT_SUCCESS;
}

int job_stats(const Context& context) {
    po::options_description options;
    options.add_options()("hub-id", po::value<std::string>()->default_value(""),
                          "hub id (default: jobs pinned to no hub)");
    const auto values = parse_arguments(context, options, {});
    const auto stats =
        open_hub(context).scheduler().queue_stats(values["hub-id"].as<std::string>());
    std::string text = "hub " + (stats.hub_id.empty() ? std::string("(any)") : stats.hub_id);
    for (const auto& [status, count] : stats.by_status) {
        text += fmt::format("  {} {}", to_string(status), count);
    }
    print_record(context, stats.to_json(), text);
    return EXIT_SUCCESS;
}

int job_tick(const Context& context) {
    require_no_arguments(context);
    const auto changed = open_hub(context).scheduler().tick();
    print_record(context, boost::json::serialize(boost::json::object{{"changed", changed}}),
                 fmt::format("{} jobs changed", changed));
    return EXIT_SUCCESS;
}

}  // namespace

void add_scheduler_commands(std::vector<Command>& commands) {
    commands.push_back({"hub register", "register a hub from its spec JSON",
                        [](const Context& c) { return hub_register(c, false); }});
    commands.push_back({"hub update", "replace a hub's spec",
                        [](const Context& c) { return hub_register(c, true); }});
    commands.push_back({"hub list", "list the hubs", hub_list});
    commands.push_back({"hub show", "show one hub", hub_show});
    commands.push_back({"hub grid", "set a hub's grid signal: HUB SIGNAL [--budget W]", hub_grid});
    commands.push_back({"hub heat-demand", "set a hub's heat demand: HUB WATTS", hub_heat_demand});
    commands.push_back({"worker register",
                        "register a worker from its spec JSON [--executors native,container]",
                        worker_register});
    commands.push_back({"worker heartbeat", "record a worker's heartbeat", worker_heartbeat});
    commands.push_back({"worker drain", "stop giving a worker new jobs", [](const Context& c) {
                            return worker_set_status(c, WorkerStatus::draining);
                        }});
    commands.push_back({"worker online", "give a drained worker jobs again", [](const Context& c) {
                            return worker_set_status(c, WorkerStatus::online);
                        }});
    commands.push_back(
        {"worker offline", "take a worker offline, releasing its jobs",
         [](const Context& c) { return worker_set_status(c, WorkerStatus::offline); }});
    commands.push_back({"worker list", "list workers [--hub-id HUB]", worker_list});
    commands.push_back(
        {"job submit", "submit a POST /api/compute body [--hub-id] [--pin-hub]", job_submit});
    commands.push_back({"job show", "show one job", job_show});
    commands.push_back(
        {"job list", "list jobs [--hub-id] [--status] [--owner] [--limit]", job_list});
    commands.push_back({"job claim", "lease jobs to a worker: WORKER [--max N]", job_claim});
    commands.push_back(
        {"job complete", "complete an attempt: JOB TOKEN [--energy-kwh X]", job_complete});
    commands.push_back({"job fail", "fail an attempt: JOB TOKEN ERROR [--final]", job_fail});
    commands.push_back({"job cancel", "cancel a job",
                        [](const Context& c) { return job_cancel_or_requeue(c, true); }});
    commands.push_back({"job requeue", "requeue a running or failed job",
                        [](const Context& c) { return job_cancel_or_requeue(c, false); }});
    commands.push_back({"job events", "a job's transitions", job_events});
    commands.push_back(
        {"job explain", "why a job can or cannot run on each hub and worker", job_explain});
    commands.push_back({"job stats", "queue depth per state [--hub-id HUB]", job_stats});
    commands.push_back({"job tick", "expire leases and silent workers, queue due jobs", job_tick});
}

}  // namespace sihlicon::cli
