// SPDX-License-Identifier: Apache-2.0
//
// The settlement commands: `account`, `topup`, `epoch seal|show|current|list|jobs|payouts|
// index|export`, `receipt JOB` and
// `receipt verify FILE` (the only one that needs no hub). With --json each prints the
// library's JSON shape.
#include "cli/command.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/settlement.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace po = boost::program_options;

namespace sihlicon::cli {

namespace {

std::string text(const po::variables_map& values, const char* name) {
    return values[name].as<std::string>();
}

void write_file(const std::filesystem::path& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
        throw Error(ErrorCode::io, fmt::format("cannot write {}", path.string()), "directory");
    }
}

void print_epoch(const Context& context, const EpochRecord& epoch) {
    print_record(context, epoch.to_json(),
                 fmt::format("epoch      {}\nstatus     {}\nstart      {}\nend        {}\n"
                             "jobs       {}\nroot       {}\nrevenue    {}\nsigner     {}\n",
                             epoch.id, to_string(epoch.status), to_iso8601(epoch.start),
                             epoch.end ? to_iso8601(*epoch.end) : "-", epoch.jobs_count,
                             epoch.jobs_merkle_root.empty() ? "-" : epoch.jobs_merkle_root,
                             epoch.revenue.to_string(), epoch.signer.empty() ? "-" : epoch.signer));
}

int command_account(const Context& context) {
    po::options_description options;
    options.add_options()("kind", po::value<std::string>()->default_value("client"),
                          "client, worker, escrow, treasury, ...")(
        "currency", po::value<std::string>()->default_value("USD"), "the account's currency")(
        "owner", po::value<std::string>(), "whose account");
    const auto values = parse_arguments(context, options, {"owner"});
    const auto hub = open_hub(context);
    const AccountRef ref{parse_account_kind(text(values, "kind")), text(values, "owner"),
                         Currency::of(text(values, "currency"))};
    const auto account = hub.settlement().account(ref);
    const auto history = hub.settlement().history(ref, 20);
    boost::json::array entries;
    std::string lines;
    for (const auto& entry : history) {
        entries.push_back(boost::json::parse(entry.to_json()));
        lines += fmt::format("  {:<12} {:>16} {:>16}  {}\n", to_string(entry.kind),
                             entry.amount.to_decimal_string(),
                             entry.balance_after.to_decimal_string(), entry.reference);
    }
    auto json = boost::json::parse(account.to_json()).as_object();
    json["history"] = entries;
    print_record(context, boost::json::serialize(json),
                 fmt::format("account    {}\nbalance    {}\navailable  {}\nhistory\n{}", ref.id(),
                             account.balance.to_string(), account.available().to_string(), lines));
    return 0;
}

int command_topup(const Context& context) {
    po::options_description options;
    options.add_options()("currency", po::value<std::string>()->default_value("USD"),
                          "the amount's currency")("reference", po::value<std::string>(),
                                                   "the external reference (L1 transaction hash)")(
        "client", po::value<std::string>(), "whose account")("amount", po::value<std::string>(),
                                                             "exact decimal amount");
    const auto values = parse_arguments(context, options, {"client", "amount"});
    if (!values.count("reference")) {
        throw UsageError{"missing option --reference"};
    }
    const auto hub = open_hub(context);
    const auto currency = Currency::of(text(values, "currency"));
    const auto transfer = hub.settlement().top_up(text(values, "client"),
                                                  Money::parse(text(values, "amount"), currency),
                                                  text(values, "reference"));
    print_record(
        context, transfer.to_json(),
        fmt::format("{} {} to client {}{}\n", transfer.exists ? "already credited" : "credited",
                    transfer.amount.to_string(), text(values, "client"), ""));
    return 0;
}

int command_epoch_seal(const Context& context) {
    require_no_arguments(context);
    const auto hub = open_hub(context);
    print_epoch(context, hub.settlement().seal_epoch());
    return 0;
}

int command_epoch_show(const Context& context) {
    po::options_description options;
    options.add_options()("epoch", po::value<std::string>(), "the epoch (default: current)");
    const auto values = parse_arguments(context, options, {});
    const auto hub = open_hub(context);
    print_epoch(context, values.count("epoch") ? hub.settlement().epoch(text(values, "epoch"))
                                               : hub.settlement().current_epoch());
    return 0;
}

int command_epoch_current(const Context& context) {
    po::options_description options;
    parse_arguments(context, options, {});
    const auto hub = open_hub(context);
    print_epoch(context, hub.settlement().current_epoch());
    return 0;
}

int command_epoch_list(const Context& context) {
    po::options_description options;
    parse_arguments(context, options, {});
    const auto hub = open_hub(context);
    const auto epochs = hub.settlement().epochs();
    if (context.json) {
        boost::json::array list;
        for (const auto& epoch : epochs) {
            list.push_back(boost::json::parse(epoch.to_json()));
        }
        std::cout << boost::json::serialize(boost::json::object{{"epochs", list}}) << "\n";
        return 0;
    }
    for (const auto& epoch : epochs) {
        std::cout << fmt::format("{}  {:9}  {} jobs  revenue {}  root {}\n", epoch.id,
                                 to_string(epoch.status), epoch.jobs_count,
                                 epoch.revenue.to_string(),
                                 epoch.jobs_merkle_root.empty() ? "-" : epoch.jobs_merkle_root);
    }
    return 0;
}

// The epoch's jobs as their Merkle leaves (the JCS objects the root is built from).
int command_epoch_jobs(const Context& context) {
    po::options_description options;
    options.add_options()("epoch", po::value<std::string>(), "the epoch");
    const auto values = parse_arguments(context, options, {"epoch"});
    const auto hub = open_hub(context);
    const auto id = text(values, "epoch");
    const auto jobs = hub.settlement().epoch_jobs(id);
    if (context.json) {
        boost::json::array list;
        for (const auto& job : jobs) {
            list.push_back(boost::json::parse(job.leaf()));
        }
        std::cout << boost::json::serialize(boost::json::object{{"epochId", id}, {"jobs", list}})
                  << "\n";
        return 0;
    }
    for (const auto& job : jobs) {
        std::cout << fmt::format("{}  client {}  worker {}  fee {}\n", job.job_id, job.client,
                                 job.worker, job.fee.to_string());
    }
    return 0;
}

int command_epoch_payouts(const Context& context) {
    po::options_description options;
    options.add_options()("epoch", po::value<std::string>(), "the epoch");
    const auto values = parse_arguments(context, options, {"epoch"});
    const auto hub = open_hub(context);
    const auto id = text(values, "epoch");
    const auto payouts = hub.settlement().epoch_payouts(id);
    if (context.json) {
        boost::json::array list;
        for (const auto& payout : payouts) {
            list.push_back(boost::json::parse(payout.to_json()));
        }
        std::cout << boost::json::serialize(boost::json::object{{"epochId", id}, {"payouts", list}})
                  << "\n";
        return 0;
    }
    for (const auto& payout : payouts) {
        std::cout << fmt::format("{}  {} jobs  work {}  readiness {}  total {}\n", payout.worker_id,
                                 payout.jobs_completed, payout.work_share.to_string(),
                                 payout.readiness_share.to_string(), payout.total().to_string());
    }
    return 0;
}

int command_epoch_index(const Context& context) {
    po::options_description options;
    parse_arguments(context, options, {});
    const auto hub = open_hub(context);
    std::cout << hub.settlement().index_json() << "\n";
    return 0;
}

int command_epoch_export(const Context& context) {
    po::options_description options;
    options.add_options()("directory", po::value<std::string>(), "where to write");
    const auto values = parse_arguments(context, options, {"directory"});
    const auto hub = open_hub(context);
    const std::filesystem::path directory = text(values, "directory");
    std::filesystem::create_directories(directory);
    std::int64_t exported = 0;
    for (const auto& epoch : hub.settlement().epochs()) {
        if (epoch.status != EpochStatus::finalized) {
            continue;
        }
        const auto bundle = hub.settlement().epoch_bundle(epoch.id);
        const auto folder = directory / epoch.id;
        std::filesystem::create_directories(folder);
        write_file(folder / "jobs.json", bundle.jobs_json);
        write_file(folder / "agents.json", bundle.agents_json);
        write_file(folder / "SUMMARY.json", bundle.summary_json);
        write_file(folder / "SIGNATURE.txt", bundle.signature_txt);
        ++exported;
    }
    write_file(directory / "index.json", hub.settlement().index_json());
    print_record(context,
                 boost::json::serialize(
                     boost::json::object{{"directory", directory.string()}, {"epochs", exported}}),
                 fmt::format("exported {} epochs to {}\n", exported, directory.string()));
    return 0;
}

int command_receipt(const Context& context) {
    po::options_description options;
    options.add_options()("job", po::value<std::string>(), "the job");
    const auto values = parse_arguments(context, options, {"job"});
    const auto hub = open_hub(context);
    std::cout << hub.settlement().receipt(text(values, "job")) << '\n';
    return 0;
}

int command_receipt_verify(const Context& context) {
    po::options_description options;
    options.add_options()("signer", po::value<std::string>(), "the operator address expected")(
        "file", po::value<std::string>(), "the receipt");
    const auto values = parse_arguments(context, options, {"file"});
    std::ifstream in(text(values, "file"), std::ios::binary);
    if (!in) {
        throw Error(ErrorCode::not_found, fmt::format("cannot read {}", text(values, "file")),
                    "file");
    }
    std::stringstream content;
    content << in.rdbuf();
    std::optional<crypto::Address> expected;
    if (values.count("signer")) {
        expected = crypto::Address::parse(text(values, "signer"), "signer");
    }
    const auto check = verify_receipt(content.str(), expected);
    print_record(context,
                 boost::json::serialize(boost::json::object{{"valid", check.valid},
                                                            {"problem", check.problem},
                                                            {"jobId", check.job_id},
                                                            {"epochId", check.epoch_id},
                                                            {"signer", check.signer}}),
                 check.valid ? fmt::format("valid: job {} is in {}, signed by {}\n", check.job_id,
                                           check.epoch_id, check.signer)
                             : fmt::format("INVALID: {}\n", check.problem));
    return check.valid ? 0 : 1;
}

}  // namespace

void add_settlement_commands(std::vector<Command>& commands) {
    commands.push_back(
        {"account", "show an account and its history: account OWNER [--kind K]", command_account});
    commands.push_back(
        {"topup", "credit a client: topup CLIENT AMOUNT --reference REF", command_topup});
    commands.push_back({"epoch seal", "seal the active epoch (or finish an interrupted seal)",
                        command_epoch_seal});
    commands.push_back(
        {"epoch show", "show an epoch: epoch show [--epoch ID]", command_epoch_show});
    commands.push_back({"epoch current", "show the active epoch", command_epoch_current});
    commands.push_back({"epoch list", "list the epochs, oldest first", command_epoch_list});
    commands.push_back({"epoch jobs", "the jobs of an epoch, as its Merkle leaves: epoch jobs ID",
                        command_epoch_jobs});
    commands.push_back({"epoch payouts", "the payouts of a sealed epoch: epoch payouts ID",
                        command_epoch_payouts});
    commands.push_back(
        {"epoch index", "print index.json, the explorer's list of epochs", command_epoch_index});
    commands.push_back({"epoch export", "write finalized epochs and index.json: epoch export DIR",
                        command_epoch_export});
    commands.push_back(
        {"receipt", "print the receipt of a job in a finalized epoch", command_receipt});
    commands.push_back(
        {"receipt verify", "check a receipt offline: receipt verify FILE", command_receipt_verify});
}

}  // namespace sihlicon::cli
