// SPDX-License-Identifier: Apache-2.0
//
// The settlement commands: `account`, `topup`, `withdraw`, `charge JOB`, `epoch seal|show|
// current|list|jobs|payouts|index|export`, `market create|settle|cancel|show|list`, `reputation
// worker|hub| list`, `key generate|import|show`, `receipt JOB` and `receipt verify FILE` (the only
// one that needs no hub). With --json each prints the library's JSON shape.
#include "cli/command.hpp"

#include <sihlicon/checked.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/settlement.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <sys/stat.h>

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

// Parses the command's arguments with `optional` as an optional positional argument.
po::variables_map parse_with_optional(const Context& context,
                                      const po::options_description& options,
                                      const char* optional) {
    return parse_arguments(context, options, {optional}, false, 0);
}

std::string read_text_file(const std::string& path, std::string_view field) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ErrorCode::not_found, fmt::format("cannot read {}", path), std::string(field));
    }
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
}

template <class Record>
void print_list(const Context& context, std::string_view key, const std::vector<Record>& records,
                const std::function<std::string(const Record&)>& line) {
    if (context.json) {
        boost::json::array list;
        for (const auto& record : records) {
            list.push_back(boost::json::parse(record.to_json()));
        }
        std::cout << boost::json::serialize(boost::json::object{{key, list}}) << "\n";
        return;
    }
    for (const auto& record : records) {
        print_line(line(record));
    }
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
                             "jobs       {}\nroot       {}\nprevious   {}\nrevenue    {}\n"
                             "paid out   {}\nsigner     {}\n",
                             epoch.id, to_string(epoch.status), to_iso8601(epoch.start),
                             epoch.end ? to_iso8601(*epoch.end) : "-", epoch.jobs_count,
                             epoch.jobs_merkle_root.empty() ? "-" : epoch.jobs_merkle_root,
                             epoch.previous_root.empty() ? "-" : epoch.previous_root,
                             epoch.revenue.to_string(), epoch.total_distributed.to_string(),
                             epoch.signer.empty() ? "-" : epoch.signer));
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
        "kind", po::value<std::string>()->default_value("client"), "client or hub_operator")(
        "client", po::value<std::string>(), "whose account")("amount", po::value<std::string>(),
                                                             "exact decimal amount");
    const auto values = parse_arguments(context, options, {"client", "amount"});
    if (!values.count("reference")) {
        throw UsageError{"missing option --reference"};
    }
    const auto hub = open_hub(context);
    const auto currency = Currency::of(text(values, "currency"));
    const auto transfer = hub.settlement().top_up(
        AccountRef{parse_account_kind(text(values, "kind")), text(values, "client"), currency},
        Money::parse(text(values, "amount"), currency), text(values, "reference"));
    print_record(
        context, transfer.to_json(),
        fmt::format("{} {} to {} {}\n", transfer.exists ? "already credited" : "credited",
                    transfer.amount.to_string(), text(values, "kind"), text(values, "client")));
    return 0;
}

int command_withdraw(const Context& context) {
    po::options_description options;
    options.add_options()("currency", po::value<std::string>()->default_value("USD"),
                          "the amount's currency")(
        "kind", po::value<std::string>()->default_value("worker"), "worker or client")(
        "id", po::value<std::string>(), "the withdrawal's id (idempotency key)")(
        "reference", po::value<std::string>()->default_value(""),
        "where it was paid (L1 transaction hash)")(
        "owner", po::value<std::string>(), "whose account")("amount", po::value<std::string>(),
                                                            "exact decimal amount");
    const auto values = parse_arguments(context, options, {"owner", "amount"});
    if (!values.count("id")) {
        throw UsageError{"missing option --id"};
    }
    const auto hub = open_hub(context);
    const auto currency = Currency::of(text(values, "currency"));
    const auto transfer =
        hub.settlement().withdraw(parse_account_kind(text(values, "kind")), text(values, "owner"),
                                  Money::parse(text(values, "amount"), currency),
                                  text(values, "id"), text(values, "reference"));
    print_record(
        context, transfer.to_json(),
        fmt::format("{} {} from {} {}\n", transfer.exists ? "already withdrawn" : "withdrew",
                    transfer.amount.to_string(), text(values, "kind"),
                    printable(text(values, "owner"))));
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
    const auto values = parse_with_optional(context, options, "epoch");
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
        print_line(fmt::format("{}  {:9}  {} jobs  revenue {}  root {}\n", epoch.id,
                               to_string(epoch.status), epoch.jobs_count, epoch.revenue.to_string(),
                               epoch.jobs_merkle_root.empty() ? "-" : epoch.jobs_merkle_root));
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
        print_line(fmt::format("{}  client {}  worker {}  fee {}\n", job.job_id, job.client,
                               job.worker, job.fee.to_string()));
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
        print_line(fmt::format("{}  {} jobs  work {}  readiness {}  total {}  {}\n",
                               payout.worker_id, payout.jobs_completed,
                               payout.work_share.to_string(), payout.readiness_share.to_string(),
                               payout.total().to_string(), to_string(payout.status)));
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

int command_charge(const Context& context) {
    po::options_description options;
    options.add_options()("job", po::value<std::string>(), "the job");
    const auto values = parse_arguments(context, options, {"job"});
    const auto hub = open_hub(context);
    const auto charge = hub.settlement().charge_of(text(values, "job"));
    if (!charge) {
        throw Error(ErrorCode::not_found,
                    fmt::format("job '{}' has no charge (free, or unknown)", text(values, "job")),
                    "job");
    }
    print_record(context, charge->to_json(),
                 fmt::format("job         {}\nclient      {}\nbase price  {}\nmultiplier  {} ppm\n"
                             "price       {}\nqueue depth {}\nutilisation {} ppm\nstatus      {}\n",
                             charge->job_id, charge->client, charge->base_price.to_string(),
                             charge->multiplier_ppm, charge->price.to_string(), charge->queue_depth,
                             charge->utilisation_ppm, charge->status));
    return 0;
}

// ---- marketplace ----

std::string market_line(const MarketTransaction& t) {
    return fmt::format("{}  {:8} {} -> {}  {} {} x {} = {}  {}\n", t.id, to_string(t.type),
                       t.buyer_hub, t.seller_hub, t.quantity, t.unit, t.unit_price.to_string(),
                       t.total.to_string(), to_string(t.status));
}

void print_market(const Context& context, const MarketTransaction& t) {
    print_record(context, t.to_json(), market_line(t));
}

int command_market_create(const Context& context) {
    po::options_description options;
    options.add_options()("currency", po::value<std::string>()->default_value("USD"),
                          "the unit price's currency")(
        "reference", po::value<std::string>()->default_value(""), "an order, a settlement, ...")(
        "id", po::value<std::string>(), "the transaction id (idempotency key)")(
        "type", po::value<std::string>(), "compute, storage, heat or energy")(
        "buyer", po::value<std::string>(), "the buying hub")(
        "seller", po::value<std::string>(), "the selling hub")("quantity", po::value<std::string>(),
                                                               "an integer, in the type's unit")(
        "unit-price", po::value<std::string>(), "exact decimal price per unit");
    const auto values = parse_arguments(
        context, options, {"id", "type", "buyer", "seller", "quantity", "unit-price"});
    MarketRequest request;
    request.id = text(values, "id");
    request.type = parse_market_type(text(values, "type"));
    request.buyer_hub = text(values, "buyer");
    request.seller_hub = text(values, "seller");
    request.quantity = checked::parse_decimal(text(values, "quantity"), 0, "quantity");
    request.unit_price =
        Money::parse(text(values, "unit-price"), Currency::of(text(values, "currency")));
    request.reference = text(values, "reference");
    const auto hub = open_hub(context);
    print_market(context, hub.settlement().create_market_transaction(request));
    return 0;
}

int command_market_resolve(const Context& context, bool settle) {
    po::options_description options;
    options.add_options()("id", po::value<std::string>(), "the transaction");
    const auto values = parse_arguments(context, options, {"id"});
    const auto hub = open_hub(context);
    print_market(context, settle ? hub.settlement().settle_market_transaction(text(values, "id"))
                                 : hub.settlement().cancel_market_transaction(text(values, "id")));
    return 0;
}

int command_market_show(const Context& context) {
    po::options_description options;
    options.add_options()("id", po::value<std::string>(), "the transaction");
    const auto values = parse_arguments(context, options, {"id"});
    const auto hub = open_hub(context);
    print_market(context, hub.settlement().market_transaction(text(values, "id")));
    return 0;
}

int command_market_list(const Context& context) {
    po::options_description options;
    options.add_options()("hub", po::value<std::string>(), "as buyer or seller")(
        "type", po::value<std::string>(), "compute, storage, heat or energy")(
        "status", po::value<std::string>(), "pending, settled or cancelled")(
        "limit", po::value<std::int64_t>()->default_value(100), "at most this many");
    const auto values = parse_arguments(context, options, {});
    MarketFilter filter;
    if (values.count("hub")) {
        filter.hub = text(values, "hub");
    }
    if (values.count("type")) {
        filter.type = parse_market_type(text(values, "type"));
    }
    if (values.count("status")) {
        filter.status = parse_market_status(text(values, "status"));
    }
    filter.limit = values["limit"].as<std::int64_t>();
    const auto hub = open_hub(context);
    print_list<MarketTransaction>(context, "transactions",
                                  hub.settlement().market_transactions(filter), market_line);
    return 0;
}

// ---- reputation ----

std::string reputation_line(const Reputation& r) {
    return fmt::format(
        "{:<16} score {:>7}  success {:>7}  on time {:>7}  uptime {:>7}  "
        "({} attempts)\n",
        r.id, r.score_ppm, r.success_rate_ppm, r.on_time_rate_ppm, r.uptime_ppm, r.attempts);
}

int command_reputation_of(const Context& context, ReputationSubject subject) {
    po::options_description options;
    options.add_options()("id", po::value<std::string>(), "the worker or hub");
    const auto values = parse_arguments(context, options, {"id"});
    const auto hub = open_hub(context);
    const auto reputation = subject == ReputationSubject::worker
                                ? hub.settlement().worker_reputation(text(values, "id"))
                                : hub.settlement().hub_reputation(text(values, "id"));
    print_record(context, reputation.to_json(), reputation_line(reputation));
    return 0;
}

int command_reputation_list(const Context& context) {
    po::options_description options;
    options.add_options()("hubs", "list hubs instead of workers");
    const auto values = parse_arguments(context, options, {});
    const auto hub = open_hub(context);
    const auto subject = values.count("hubs") ? ReputationSubject::hub : ReputationSubject::worker;
    print_list<Reputation>(context, "reputations", hub.settlement().reputations(subject),
                           reputation_line);
    return 0;
}

// ---- the operator key ----

void print_key(const Context& context, const Settlement& settlement, std::string_view action) {
    const auto file = settlement.operator_key_file();
    std::string mode = "-";
    struct stat status {};
    if (!file.empty() && ::stat(file.c_str(), &status) == 0) {
        mode = fmt::format("{:04o}", status.st_mode & 07777);
    }
    const auto address = settlement.operator_address().to_string();
    print_record(context,
                 boost::json::serialize(boost::json::object{
                     {"address", address}, {"keyFile", file.string()}, {"mode", mode}}),
                 fmt::format("{}address  {}\nkey file {}\nmode     {}\n", action, address,
                             file.empty() ? "- (the host's signer)" : file.string(), mode));
}

int command_key_show(const Context& context) {
    require_no_arguments(context);
    const auto hub = open_hub(context);
    print_key(context, hub.settlement(), "");
    return 0;
}

int command_key_generate(const Context& context) {
    po::options_description options;
    options.add_options()("force", "replace a key that already signed finalized epochs");
    const auto values = parse_arguments(context, options, {});
    const auto hub = open_hub(context);
    hub.settlement().generate_operator_key(values.count("force") > 0);
    print_key(context, hub.settlement(), "generated a new operator key\n");
    return 0;
}

int command_key_import(const Context& context) {
    po::options_description options;
    options.add_options()("force", "replace a key that already signed finalized epochs")(
        "file", po::value<std::string>(), "a file holding 0x and 64 hex digits");
    const auto values = parse_arguments(context, options, {"file"});
    auto content = read_text_file(text(values, "file"), "file");
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
        content.pop_back();
    }
    const auto key = crypto::PrivateKey::parse(content, "file");
    std::fill(content.begin(), content.end(), '\0');
    const auto hub = open_hub(context);
    hub.settlement().import_operator_key(key, values.count("force") > 0);
    print_key(context, hub.settlement(), "imported the operator key\n");
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

// Exit 0 only for a receipt signed by a trusted signer: an unverified receipt (no --signer
// and no hub named) and an invalid one both exit non-zero, and neither line starts "valid".
int command_receipt_verify(const Context& context) {
    po::options_description options;
    options.add_options()("signer", po::value<std::vector<std::string>>(),
                          "an address to trust (repeatable)")("file", po::value<std::string>(),
                                                              "the receipt");
    const auto values = parse_arguments(context, options, {"file"});
    std::ifstream in(text(values, "file"), std::ios::binary);
    if (!in) {
        throw Error(ErrorCode::not_found, fmt::format("cannot read {}", text(values, "file")),
                    "file");
    }
    std::stringstream content;
    content << in.rdbuf();
    std::vector<crypto::Address> trusted;
    if (values.count("signer")) {
        for (const auto& signer : values["signer"].as<std::vector<std::string>>()) {
            trusted.push_back(crypto::Address::parse(signer, "signer"));
        }
    }
    if (context.hub_directory) {
        // The hub named by --hub vouches for its operator's addresses, earlier keys included.
        for (const auto& address : open_hub(context).settlement().trusted_signers()) {
            trusted.push_back(address);
        }
    }
    const auto check = verify_receipt(content.str(), trusted);
    const auto status = std::string(to_string(check.status));
    print_record(
        context,
        boost::json::serialize(boost::json::object{{"status", status},
                                                   {"valid", check.valid},
                                                   {"signerTrusted", check.signer_trusted},
                                                   {"problem", check.problem},
                                                   {"jobId", check.job_id},
                                                   {"epochId", check.epoch_id},
                                                   {"signer", check.signer}}),
        check.valid
            ? fmt::format("valid: job {} is in {}, signed by trusted {}\n", printable(check.job_id),
                          printable(check.epoch_id), check.signer)
            : fmt::format("{}: {}\n",
                          check.status == ReceiptStatus::unverified ? "UNVERIFIED" : "INVALID",
                          printable(check.problem)));
    return check.valid ? 0 : 1;
}

}  // namespace

void add_settlement_commands(std::vector<Command>& commands) {
    commands.push_back(
        {"account", "show an account and its history: account OWNER [--kind K]", command_account});
    commands.push_back(
        {"topup", "credit a client: topup CLIENT AMOUNT --reference REF", command_topup});
    commands.push_back({"withdraw",
                        "pay out of an account, e.g. a worker's payouts: withdraw OWNER AMOUNT "
                        "--id ID [--reference L1_TX] [--kind worker|client]",
                        command_withdraw});
    commands.push_back({"epoch seal", "seal the active epoch (or finish an interrupted seal)",
                        command_epoch_seal});
    commands.push_back({"charge",
                        "a job's charge: base price, demand multiplier, price: charge JOB",
                        command_charge});
    commands.push_back({"epoch show", "show an epoch: epoch show [ID] (default: the current one)",
                        command_epoch_show});
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
        {"market create",
         "trade between hubs: market create ID TYPE BUYER SELLER QUANTITY UNIT_PRICE",
         command_market_create});
    commands.push_back({"market settle", "pay a pending market transaction: market settle ID",
                        [](const Context& c) { return command_market_resolve(c, true); }});
    commands.push_back({"market cancel", "release a pending market transaction: market cancel ID",
                        [](const Context& c) { return command_market_resolve(c, false); }});
    commands.push_back(
        {"market show", "show a market transaction: market show ID", command_market_show});
    commands.push_back({"market list",
                        "list market transactions: [--hub H] [--type T] [--status S]",
                        command_market_list});
    commands.push_back(
        {"reputation worker", "a worker's reputation: reputation worker ID",
         [](const Context& c) { return command_reputation_of(c, ReputationSubject::worker); }});
    commands.push_back(
        {"reputation hub", "a hub's reputation: reputation hub ID",
         [](const Context& c) { return command_reputation_of(c, ReputationSubject::hub); }});
    commands.push_back({"reputation list", "every worker's (or, --hubs, hub's) reputation",
                        command_reputation_list});
    commands.push_back({"key show", "the operator's address and key file", command_key_show});
    commands.push_back({"key generate", "replace the operator key with a new one [--force]",
                        command_key_generate});
    commands.push_back({"key import", "use the operator key in FILE: key import FILE [--force]",
                        command_key_import});
    commands.push_back(
        {"receipt", "print the receipt of a job in a finalized epoch", command_receipt});
    commands.push_back({"receipt verify",
                        "check a receipt offline against a trusted signer: receipt verify FILE "
                        "[--signer ADDR]... [--hub DIR]; exits 0 only when valid",
                        command_receipt_verify});
}

}  // namespace sihlicon::cli
