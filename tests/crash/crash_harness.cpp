// SPDX-License-Identifier: Apache-2.0
//
// The kill -9 harness (issue 11). A child process runs a mixed, seeded workload on one hub —
// submissions (charged), claims, completions, failures, cancellations, content puts, heat
// records, top-ups, withdrawals, heat settlements and epoch seals — and appends a line to an
// acknowledgement log after each operation returns. The driver kills it with SIGKILL at a
// random moment, reopens the hub and checks what was promised:
//
//   - every acknowledged submission exists, and every acknowledged put reads back under its
//     CID (each block verified as it is read);
//   - no job completed twice; no lease held by two workers; every worker's used resources are
//     the sum of its running jobs';
//   - the journal balances: all balances sum to deposits minus withdrawals; no client below zero;
//   - no settled heat period changed; every sealed epoch stays finalized with its root;
//   - every manifest's blocks are present (a sample re-hashed by scrub);
//   - no temporary file is left behind.
//
//   crash_harness [--kills N] [--seed S] [--dir D]     kill -9 N times (defaults: 200, 1, temp)
//   crash_harness --stress P [--threads T] [--steps N]  P processes x T threads x N operations
//                                                       at once, no kill; busy must never surface
//   crash_harness --child HUB ACKS SEED THREADS STEPS   one workload process (the driver's)
//   --commit-interval MS (with either mode): the children open the hub with that
//                        HubOptions::commit_interval (its write log); the check opens without
//
// Reproducible from the seed: the kill delays and each child's operations derive from it.
#include "hub/hub_internal.hpp"
#include "store/database.hpp"
#include "store/write_log.hpp"
#include "support/samples.hpp"

#include <sihlicon/cid.hpp>
#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>

#include <fmt/core.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace sihlicon;

namespace {

constexpr int kWorkers = 4;
const std::vector<std::string> kClients = {"ann", "bob", "cho"};
constexpr std::string_view kHubId = "pool";

HubOptions hub_options() {
    HubOptions options;
    options.durability = Durability::process_crash;  // survives kill -9, which is what we test
    options.scheduler.lease_duration = std::chrono::milliseconds(300);
    options.initial_settings.emplace().submissions_per_hour = 0;
    options.initial_settings->charge_jobs = true;
    // --commit-interval: the children write through the hub's write log.
    if (const char* interval = std::getenv("SIHLICON_HARNESS_COMMIT_INTERVAL_MS")) {
        options.commit_interval = std::chrono::milliseconds(std::atoi(interval));
    }
    return options;
}

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "crash harness: %s\n", what.c_str());
    std::exit(1);
}

// Deterministic content of put number `index` of a child seeded with `seed`.
std::vector<std::uint8_t> content(std::uint64_t seed, std::uint64_t index) {
    std::mt19937_64 engine(seed * 1'000'003 + index);
    const std::size_t size = std::uniform_int_distribution<std::size_t>(1, 700'000)(engine);
    std::vector<std::uint8_t> bytes(size);
    for (auto& byte : bytes) {
        byte = static_cast<std::uint8_t>(engine());
    }
    return bytes;
}

// ---- the child: one workload run until killed ---------------------------------------------

class AckLog {
  public:
    explicit AckLog(const std::string& path)
        : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
        if (fd_ < 0) {
            fail("cannot open " + path);
        }
    }
    ~AckLog() { ::close(fd_); }
    // One write(2) per line: the page cache keeps it through a kill -9.
    void ack(const std::string& line) {
        const std::string text = line + "\n";
        if (::write(fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
            fail("cannot append to the acknowledgement log");
        }
    }

  private:
    int fd_;
};

// Registers the hub and its workers unless present; several processes may race to do it.
void prepare(Hub& hub) {
    auto& scheduler = hub.scheduler();
    const auto ignore_existing = [](auto&& action) {
        try {
            action();
        } catch (const Error& error) {
            if (error.code() != ErrorCode::conflict) {
                throw;
            }
        }
    };
    auto spec = testing::pool_hub(std::string(kHubId));
    spec.power_capacity_w = 1'000'000;
    ignore_existing([&] { scheduler.register_hub(spec); });
    for (int i = 0; i < kWorkers; ++i) {
        WorkerSpec worker;
        worker.id = fmt::format("bee-{}", i);
        worker.hub_id = std::string(kHubId);
        worker.cpu_millicores = 2000;
        worker.memory_bytes = 8LL << 30;
        worker.executors = {"native", "container"};
        ignore_existing([&] { scheduler.register_worker(worker); });
    }
}

JobSpec job_for(const std::string& owner) {
    JobSpec spec;
    spec.type = JobType::custom;
    spec.name = "crash";
    spec.owner = owner;
    spec.workload.container_image = "busybox";
    spec.workload.resources.cpu_millicores = 500;
    spec.workload.resources.memory_bytes = 1 << 20;
    return spec;
}

// Outcomes a correct hub may give these operations under this workload.
bool expected(const Error& error) {
    switch (error.code()) {
        case ErrorCode::conflict:
        case ErrorCode::insufficient_funds:
        case ErrorCode::not_found:
        case ErrorCode::quota_exceeded:
            return true;
        default:
            return false;
    }
}

// One client thread's operations: `steps` of them, seeded with `seed`. Returns 0, or 3 after
// an outcome a correct hub never gives (busy among them: it must never reach a caller).
int workload(Hub& hub, AckLog& acks, std::uint64_t seed, std::uint64_t steps) {
    auto& scheduler = hub.scheduler();
    auto& store = hub.content_store();
    auto& heat = hub.heat_ledger();
    auto& settlement = hub.settlement();
    std::mt19937_64 random(seed);
    const auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(random); };
    std::vector<ClaimedJob> held;
    std::uint64_t puts = 0;
    for (std::uint64_t step = 0; step < steps; ++step) {
        if (step % 40 == 0) {
            for (int i = 0; i < kWorkers; ++i) {
                scheduler.heartbeat(fmt::format("bee-{}", i), Heartbeat{});
            }
            scheduler.tick();  // expire the leases of jobs a killed run held
        }
        const int roll = pick(100);
        const std::string client = kClients[static_cast<std::size_t>(pick(3))];
        try {
            if (roll < 12) {
                const auto reference = fmt::format("0x{:016x}{:04x}", seed, step);
                const Money amount(
                    std::uniform_int_distribution<std::int64_t>(1, 2'000'000)(random),
                    Currency::of("USD"));
                settlement.top_up(client, amount, reference);
                acks.ack(fmt::format("topup {} {} {}", reference, client, amount.minor_units()));
            } else if (roll < 36) {
                const auto job = scheduler.submit(job_for(client));
                acks.ack("submit " + job.id);
            } else if (roll < 54) {
                auto claimed = scheduler.claim(fmt::format("bee-{}", pick(kWorkers)), 1);
                for (auto& job : claimed) {
                    held.push_back(std::move(job));
                }
            } else if (roll < 70 && !held.empty()) {
                const auto index = static_cast<std::size_t>(pick(static_cast<int>(held.size())));
                const auto job = held[index];
                held.erase(held.begin() + static_cast<std::ptrdiff_t>(index));
                JobCompletion completion;
                completion.energy = Energy::milliwatt_hours(pick(5000) + 1);
                completion.result_hash = crypto::to_hex(crypto::sha256(job.lease.job_id));
                scheduler.complete(job.lease.job_id, job.lease.token, completion);
                acks.ack("complete " + job.lease.job_id);
            } else if (roll < 75 && !held.empty()) {
                const auto job = held.back();
                held.pop_back();
                scheduler.fail(job.lease.job_id, job.lease.token, "exit status 1");
            } else if (roll < 78) {
                JobFilter filter;
                filter.status = JobStatus::queued;
                filter.owner = client;
                filter.limit = 5;
                auto queued = scheduler.jobs(filter);
                if (!queued.empty()) {
                    scheduler.cancel(queued.front().id, client, "changed my mind");
                }
            } else if (roll < 88) {
                const auto index = puts++;
                const auto bytes = content(seed, index);
                const auto manifest = store.put_bytes(bytes, client);
                acks.ack(fmt::format("put {} {} {} {}", manifest.content_id, client, seed, index));
            } else if (roll < 93) {
                ManualHeat record;
                record.hub_id = std::string(kHubId);
                record.kind = HeatKind::standalone_heater;
                record.thermal = Energy::milliwatt_hours(pick(100'000) + 1);
                heat.record(record);
            } else if (roll < 96) {
                const auto settled = heat.settlements(kHubId);
                const auto start =
                    settled.empty() ? Timestamp::from_ms(0) : settled.back().period_end;
                const auto end = HubAccess::core(hub).now();
                if (start < end) {
                    const auto period = heat.settle(kHubId, start, end);
                    acks.ack(fmt::format("heat {} {} {} {}", period.period_start.ms(),
                                         period.period_end.ms(), period.total_heat.mwh(),
                                         period.credit.minor_units()));
                }
            } else if (roll < 98) {
                const auto epoch = settlement.seal_epoch();
                acks.ack(fmt::format("seal {} {}", epoch.id, epoch.jobs_merkle_root));
            } else {
                const auto workers = settlement.accounts(AccountKind::worker);
                if (!workers.empty()) {
                    const auto& account =
                        workers[static_cast<std::size_t>(pick(static_cast<int>(workers.size())))];
                    const auto available = account.available().minor_units();
                    if (available > 0) {
                        const auto id = fmt::format("withdraw-{:x}-{}", seed, step);
                        settlement.withdraw(AccountKind::worker, account.ref.owner,
                                            Money(available / 2 + 1, account.ref.currency), id);
                        acks.ack("withdraw " + id);
                    }
                }
            }
        } catch (const Error& error) {
            if (!expected(error)) {
                std::fprintf(stderr, "child: unexpected %s\n", error.what());
                return 3;
            }
        }
    }
    return 0;
}

// A child process: `threads` client threads on one hub, each running workload().
int run_child(const std::string& hub_dir, const std::string& acks_path, std::uint64_t seed,
              int threads, std::uint64_t steps) {
    AckLog acks(acks_path);
    auto hub = Hub::open(hub_dir, hub_options());
    prepare(hub);
    std::vector<int> results(static_cast<std::size_t>(threads), 0);
    std::vector<std::thread> clients;
    for (int t = 0; t < threads; ++t) {
        clients.emplace_back([&, t] {
            try {
                results[static_cast<std::size_t>(t)] =
                    workload(hub, acks, seed * 64 + static_cast<std::uint64_t>(t), steps);
            } catch (const std::exception& error) {
                std::fprintf(stderr, "child: %s\n", error.what());
                results[static_cast<std::size_t>(t)] = 4;
            }
        });
    }
    for (auto& client : clients) {
        client.join();
    }
    for (const int result : results) {
        if (result != 0) {
            return result;
        }
    }
    return 0;
}

// ---- the driver: kill, reopen, check --------------------------------------------------------

struct Acknowledged {
    std::vector<std::string> submitted;
    std::vector<std::string> completed;
    std::vector<std::tuple<std::string, std::string, std::uint64_t, std::uint64_t>> puts;
    std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>> heat;
    std::vector<std::pair<std::string, std::string>> seals;
    std::int64_t lines = 0;
};

// Reads the log; a line cut short by the kill (no newline yet) was never acknowledged.
Acknowledged read_acks(const std::string& path) {
    Acknowledged result;
    std::ifstream in(path, std::ios::binary);
    const std::string text{std::istreambuf_iterator<char>(in), {}};
    std::size_t at = 0;
    while (true) {
        const auto end = text.find('\n', at);
        if (end == std::string::npos) {
            break;
        }
        std::istringstream line(text.substr(at, end - at));
        at = end + 1;
        ++result.lines;
        std::string kind;
        line >> kind;
        if (kind == "submit") {
            result.submitted.emplace_back();
            line >> result.submitted.back();
        } else if (kind == "complete") {
            result.completed.emplace_back();
            line >> result.completed.back();
        } else if (kind == "put") {
            std::string cid, owner;
            std::uint64_t seed = 0, index = 0;
            line >> cid >> owner >> seed >> index;
            result.puts.emplace_back(cid, owner, seed, index);
        } else if (kind == "heat") {
            std::int64_t start = 0, end_ms = 0, mwh = 0, credit = 0;
            line >> start >> end_ms >> mwh >> credit;
            result.heat.emplace_back(start, end_ms, mwh, credit);
        } else if (kind == "seal") {
            std::string id, root;
            line >> id >> root;
            result.seals.emplace_back(id, root);
        }
    }
    return result;
}

std::int64_t scalar(store::Transaction& tx, const std::string& sql) {
    auto statement = tx.prepare(sql);
    statement.step();
    return statement.is_null(0) ? 0 : statement.column_int64(0);
}

void check_hub(const std::filesystem::path& hub_dir, const Acknowledged& acks,
               std::size_t checked_puts) {
    // No temporary file may survive the reopen (the hub removes what dead processes staged).
    // Without a write log of its own: the check sees what a dead child's log held only if the
    // hub adopts it (store/database.hpp).
    auto options = hub_options();
    options.commit_interval = std::chrono::milliseconds(0);
    auto hub = Hub::open(hub_dir, options);
    const std::set<std::string> allowed = {"hub.db",       "hub.db-wal",   "hub.db-shm",
                                           "hub.db-log",   "operator.key", "blobs.lock",
                                           "space.reserve"};
    for (const auto& entry : std::filesystem::recursive_directory_iterator(hub_dir)) {
        if (!entry.is_regular_file()) {
            continue;
        }
        const auto relative = std::filesystem::relative(entry.path(), hub_dir);
        if (*relative.begin() == "blobs") {
            if (entry.path().parent_path().filename() == ".staging") {
                fail("a staged block was left behind: " + relative.string());
            }
            continue;
        }
        if (!allowed.contains(relative.string())) {
            fail("an unexpected file was left behind: " + relative.string());
        }
    }

    auto& scheduler = hub.scheduler();
    for (const auto& id : acks.submitted) {
        scheduler.job(id);  // throws not_found: an acknowledged submission was lost
    }
    for (const auto& id : acks.completed) {
        if (scheduler.job(id).status != JobStatus::completed) {
            fail("an acknowledged completion was lost: " + id);
        }
    }
    HubAccess::database(hub).read([&](store::Transaction& tx) {
        if (scalar(tx,
                   "SELECT COUNT(*) FROM (SELECT job_id FROM job_events WHERE to_status = "
                   "'completed' GROUP BY job_id HAVING COUNT(*) > 1)") != 0) {
            fail("a job completed twice");
        }
        if (scalar(tx,
                   "SELECT COUNT(*) FROM jobs WHERE status = 'running' AND (worker_id IS NULL "
                   "OR lease_token IS NULL)") != 0) {
            fail("a running job without its one lease holder");
        }
        if (scalar(tx,
                   "SELECT COUNT(*) FROM workers w WHERE w.running_jobs <> (SELECT COUNT(*) "
                   "FROM jobs j WHERE j.worker_id = w.id AND j.status = 'running') OR "
                   "w.used_cpu_millicores <> (SELECT COALESCE(SUM(cpu_millicores), 0) FROM "
                   "jobs j WHERE j.worker_id = w.id AND j.status = 'running')") != 0) {
            fail("a worker's used resources differ from its running jobs'");
        }
    });

    // Double entry: every currency's accounts sum to zero. The hub's own accounts hold what
    // came in from outside (deposits, and heat credits paid by the heat off-taker) less what
    // went out (withdrawals).
    auto& settlement = hub.settlement();
    std::map<std::string, std::int64_t> all;
    std::map<std::string, std::int64_t> held;
    std::map<std::string, std::int64_t> other_inflows;
    for (const auto& account : settlement.accounts()) {
        const std::string code(account.ref.currency.code());
        const auto balance = account.balance.minor_units();
        all[code] += balance;
        if (account.ref.kind != AccountKind::external) {
            held[code] += balance;
        } else if (account.ref.owner != "deposits" && account.ref.owner != "withdrawals") {
            other_inflows[code] -= balance;
        }
        if (account.ref.kind == AccountKind::client && account.available().minor_units() < 0) {
            fail("client " + account.ref.owner + " is below zero");
        }
    }
    const auto deposits = settlement.deposits();
    const auto withdrawals = settlement.withdrawals();
    for (const auto& [code, total] : all) {
        const auto in = deposits.contains(code) ? deposits.at(code) : 0;
        const auto out = withdrawals.contains(code) ? withdrawals.at(code) : 0;
        const auto inflows = other_inflows.contains(code) ? other_inflows.at(code) : 0;
        if (total != 0 || held[code] != in - out + inflows) {
            fail(
                fmt::format("{}: accounts sum to {}; held {}, deposits {} minus withdrawals {} "
                            "plus other inflows {}",
                            code, total, held[code], in, out, inflows));
        }
    }

    // (A run killed before it registered the hub has settled nothing.)
    const auto settled =
        acks.heat.empty() ? std::vector<HeatSettlement>{} : hub.heat_ledger().settlements(kHubId);
    for (const auto& [start, end, mwh, credit] : acks.heat) {
        const auto found = std::find_if(settled.begin(), settled.end(), [&](const auto& period) {
            return period.period_start.ms() == start && period.period_end.ms() == end;
        });
        if (found == settled.end() || found->total_heat.mwh() != mwh ||
            found->credit.minor_units() != credit) {
            fail(fmt::format("the settled heat period [{}, {}) changed or vanished", start, end));
        }
    }
    for (const auto& [id, root] : acks.seals) {
        const auto epoch = settlement.epoch(id);
        if (epoch.status != EpochStatus::finalized || epoch.jobs_merkle_root != root) {
            fail("sealed epoch " + id + " changed");
        }
    }

    auto& store = hub.content_store();
    for (std::size_t i = checked_puts; i < acks.puts.size(); ++i) {
        const auto& [cid, owner, seed, index] = acks.puts[i];
        const auto expected = content(seed, index);
        if (compute_cid(expected).to_string() != cid || store.get_bytes(cid, owner) != expected) {
            fail("acknowledged content " + cid + " does not read back");
        }
    }
    ScrubOptions sample;
    sample.sample_blocks = 64;
    const auto report = store.scrub(sample);
    if (!report.problems.empty()) {
        fail("scrub found " + report.problems.front().problem + " block " +
             report.problems.front().block_cid);
    }
}

// What the driver modes share: a work folder, and children started from this executable.
struct Driver {
    std::filesystem::path dir;
    bool own_dir = false;
    std::filesystem::path hub_dir;
    std::string acks_path;
    std::string self = std::filesystem::read_symlink("/proc/self/exe").string();

    explicit Driver(std::filesystem::path folder) : dir(std::move(folder)) {
        own_dir = dir.empty();
        if (own_dir) {
            dir = std::filesystem::temp_directory_path() /
                  fmt::format("sihlicon-crash-{}", ::getpid());
        }
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        hub_dir = dir / "hub";
        acks_path = (dir / "acks.log").string();
    }
    ~Driver() {
        if (own_dir) {
            std::error_code ignored;
            std::filesystem::remove_all(dir, ignored);
        }
    }

    pid_t spawn(std::uint64_t seed, int threads, std::uint64_t steps) const {
        const auto seed_text = std::to_string(seed);
        const auto threads_text = std::to_string(threads);
        const auto steps_text = std::to_string(steps);
        const pid_t child = ::fork();
        if (child < 0) {
            fail("cannot fork");
        }
        if (child == 0) {
            ::execl(self.c_str(), self.c_str(), "--child", hub_dir.c_str(), acks_path.c_str(),
                    seed_text.c_str(), threads_text.c_str(), steps_text.c_str(),
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
        return child;
    }
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void print_acks(const char* what, const Acknowledged& acks, double seconds) {
    std::printf(
        "crash harness: %s, %lld acknowledged operations checked (%zu submissions, %zu "
        "completions, %zu puts, %zu heat settlements, %zu seals), %.1f s\n",
        what, static_cast<long long>(acks.lines), acks.submitted.size(), acks.completed.size(),
        acks.puts.size(), acks.heat.size(), acks.seals.size(), seconds);
    std::fflush(stdout);
}

// Kills a child of 3 client threads `kills` times at random moments, checking after each.
int run_kills(int kills, std::uint64_t seed, const std::filesystem::path& dir) {
    const Driver driver(dir);
    std::mt19937_64 random(seed);
    std::size_t checked_puts = 0;
    int kills_with_log = 0;
    const auto started = std::chrono::steady_clock::now();
    for (int kill = 0; kill < kills; ++kill) {
        const auto child_seed = seed * 100'000 + static_cast<std::uint64_t>(kill);
        const pid_t child = driver.spawn(child_seed, 3, UINT64_MAX);
        // Early kills land in the open and the first operations; later ones mid-workload.
        const auto delay = std::uniform_int_distribution<int>(5, 250)(random);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        if (!WIFSIGNALED(status)) {
            fail(fmt::format("kill {} (seed {}): the workload stopped by itself with status {}",
                             kill, child_seed, WEXITSTATUS(status)));
        }
        const auto acks = read_acks(driver.acks_path);
        if (std::filesystem::exists(driver.hub_dir / "hub.db-log") &&
            !store::WriteLog(driver.hub_dir / "hub.db-log").empty()) {
            ++kills_with_log;  // records the hub had not committed (acknowledged or torn)
        }
        check_hub(driver.hub_dir, acks, checked_puts);
        checked_puts = acks.puts.size();
        if ((kill + 1) % 50 == 0 || kill + 1 == kills) {
            print_acks(fmt::format("{} kills survived ({} with records left in the write log)",
                                   kill + 1, kills_with_log)
                           .c_str(),
                       acks, seconds_since(started));
        }
    }
    return 0;
}

// `processes` children of `threads` client threads each run `steps` operations per thread on
// one hub at once; none may see busy or any other unexpected outcome; then the checks.
int run_stress(int processes, int threads, std::uint64_t steps, std::uint64_t seed,
               const std::filesystem::path& dir) {
    const Driver driver(dir);
    const auto started = std::chrono::steady_clock::now();
    std::vector<pid_t> children;
    for (int p = 0; p < processes; ++p) {
        children.push_back(
            driver.spawn(seed * 1'000 + static_cast<std::uint64_t>(p), threads, steps));
    }
    for (const pid_t child : children) {
        int status = 0;
        ::waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fail(fmt::format("a stress process failed with status {}", status));
        }
    }
    const double seconds = seconds_since(started);
    const auto acks = read_acks(driver.acks_path);
    check_hub(driver.hub_dir, acks, 0);
    print_acks(
        fmt::format("{} processes x {} threads x {} operations, no busy", processes, threads, steps)
            .c_str(),
        acks, seconds);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc == 7 && std::string(argv[1]) == "--child") {
            return run_child(argv[2], argv[3], std::stoull(argv[4]), std::stoi(argv[5]),
                             std::stoull(argv[6]));
        }
        int kills = 200;
        int processes = 0;
        int threads = 8;
        std::uint64_t steps = 200;
        std::uint64_t seed = 1;
        std::filesystem::path dir;
        for (int i = 1; i + 1 < argc; i += 2) {
            const std::string option = argv[i];
            const std::string value = argv[i + 1];
            if (option == "--kills") {
                kills = std::stoi(value);
            } else if (option == "--stress") {
                processes = std::stoi(value);
            } else if (option == "--threads") {
                threads = std::stoi(value);
            } else if (option == "--steps") {
                steps = std::stoull(value);
            } else if (option == "--seed") {
                seed = std::stoull(value);
            } else if (option == "--dir") {
                dir = value;
            } else if (option == "--commit-interval") {
                ::setenv("SIHLICON_HARNESS_COMMIT_INTERVAL_MS", value.c_str(), 1);
            } else {
                std::fprintf(stderr,
                             "usage: crash_harness [--kills N | --stress PROCESSES [--threads T] "
                             "[--steps N]] [--seed S] [--dir D] [--commit-interval MS]\n");
                return 2;
            }
        }
        std::printf("crash harness: seed %llu\n", static_cast<unsigned long long>(seed));
        std::fflush(stdout);
        return processes > 0 ? run_stress(processes, threads, steps, seed, dir)
                             : run_kills(kills, seed, dir);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "crash harness: %s\n", error.what());
        return 1;
    }
}
