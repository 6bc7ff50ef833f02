// SPDX-License-Identifier: Apache-2.0
#include "settlement/epochs.hpp"

#include "core/json.hpp"
#include "hub/event_log.hpp"

#include "settlement/journal.hpp"
#include "settlement/leaves.hpp"
#include "settlement/reputation.hpp"

#include <sihlicon/checked.hpp>
#include <sihlicon/error.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <exception>
#include <future>
#include <limits>
#include <map>
#include <thread>

namespace sihlicon::settlement {

namespace {

constexpr std::string_view kHubOwner = "hub";
constexpr std::string_view kBundleOwner = "settlement";
constexpr std::int64_t kUnlimited = std::numeric_limits<std::int64_t>::max();
constexpr std::string_view kEpochColumns =
    "id, number, status, start_at, end_at, jobs_count, merkle_root, revenue, currency, signer, "
    "signature, summary, artifacts, "
    "(SELECT COALESCE(SUM(p.work_share + p.readiness_share), 0) FROM settlement_payouts p "
    "WHERE p.epoch_id = settlement_epochs.id), "
    "(SELECT b.merkle_root FROM settlement_epochs b WHERE b.number = settlement_epochs.number - 1)";

EpochStatus parse_epoch_status(std::string_view text) {
    if (text == "active") {
        return EpochStatus::active;
    }
    if (text == "sealing") {
        return EpochStatus::sealing;
    }
    if (text == "finalized") {
        return EpochStatus::finalized;
    }
    throw Error(ErrorCode::integrity, fmt::format("unknown epoch status '{}'", text));
}

EpochRecord read_epoch(const store::Statement& row) {
    EpochRecord epoch;
    epoch.id = row.column_text(0);
    epoch.number = row.column_int64(1);
    epoch.status = parse_epoch_status(row.column_text(2));
    epoch.start = Timestamp::from_ms(row.column_int64(3));
    if (const auto end = row.column_optional_int64(4)) {
        epoch.end = Timestamp::from_ms(*end);
    }
    epoch.jobs_count = row.column_int64(5);
    epoch.jobs_merkle_root = row.column_optional_text(6).value_or("");
    epoch.revenue = Money(row.column_int64(7), Currency::of(row.column_text(8)));
    epoch.signer = row.column_optional_text(9).value_or("");
    epoch.signature = row.column_optional_text(10).value_or("");
    epoch.summary_json = row.column_optional_text(11).value_or("");
    if (const auto artifacts = row.column_optional_text(12)) {
        const auto parsed = boost::json::parse(*artifacts);
        for (const auto& [name, cid] : parsed.as_object()) {
            epoch.artifact_cids[std::string(name)] = std::string(cid.as_string());
        }
    }
    epoch.total_distributed = Money(row.column_int64(13), epoch.revenue.currency());
    epoch.previous_root = row.column_optional_text(14).value_or("");
    return epoch;
}

std::optional<std::int64_t> epoch_in_status(store::Transaction& tx, std::string_view status) {
    // The status is written into each statement, not bound: a bound value compared with the
    // column of a partial index (settlement_one_active) makes SQLite prepare the statement
    // again at every run, and that was a third of every completion's settlement work.
    // REQUIRES: status is "active" or "sealing" (the only ones asked for).
    const bool active = status == "active";
    if (!active && status != "sealing") {
        throw Error(ErrorCode::internal, fmt::format("no query for epochs in status '{}'", status));
    }
    auto row = tx.prepare(
        active
            ? "SELECT number FROM settlement_epochs WHERE status = 'active' ORDER BY number LIMIT 1"
            : "SELECT number FROM settlement_epochs WHERE status = 'sealing' ORDER BY number "
              "LIMIT 1");
    if (row.step()) {
        return row.column_int64(0);
    }
    return std::nullopt;
}

struct SealInput {
    EpochRecord epoch;
    std::map<std::string, std::int64_t> uptime_ms;  // worker → uptime within the epoch
};

SealInput read_seal_input(store::Transaction& tx, std::int64_t number,
                          std::chrono::milliseconds offline_after) {
    SealInput input;
    input.epoch = load_epoch_by_number(tx, number);
    if (input.epoch.status == EpochStatus::finalized) {
        return input;
    }
    const auto start = input.epoch.start.ms();
    const auto end = input.epoch.end.value_or(input.epoch.start).ms();
    // Readiness: each worker's uptime within the epoch, the figure its reputation counts.
    auto rows = tx.prepare("SELECT id, last_heartbeat_at, status FROM workers ORDER BY id");
    while (rows.step()) {
        const auto id = rows.column_text(0);
        const auto uptime = uptime_within(
            tx, UptimeSubject{id, rows.column_int64(1), rows.column_text(2) == "offline"}, start,
            end, offline_after);
        if (uptime > 0) {
            input.uptime_ms[id] = uptime;
        }
    }
    return input;
}

// Writes the leaves of epoch `number` whose job ids lie in [from, to) (an absent bound: open).
void read_leaves(store::Transaction& tx, std::int64_t number,
                 const std::optional<std::string>& from, const std::optional<std::string>& to,
                 LeafWriter& out) {
    // One statement per shape of bounds, so that each is a range scan of the epoch's index.
    std::string sql =
        "SELECT job_id, client, worker, job_type, hub, fee, currency, result_hash, poe_hash, "
        "completed_at FROM settlement_epoch_jobs WHERE epoch_number = ?";
    if (from) {
        sql += " AND job_id >= ?";
    }
    if (to) {
        sql += " AND job_id < ?";
    }
    sql += " ORDER BY job_id";
    auto rows = tx.prepare(sql);
    int index = 1;
    rows.bind(index++, number);
    if (from) {
        rows.bind(index++, std::string_view(*from));
    }
    if (to) {
        rows.bind(index++, std::string_view(*to));
    }
    while (rows.step()) {
        out.add(LeafFields{rows.column_text_view(1), rows.column_int64(9), rows.column_text_view(6),
                           rows.column_int64(5), rows.column_text_view(4), rows.column_text_view(0),
                           rows.column_text_view(3), rows.column_text_view(8),
                           rows.column_text_view(7), rows.column_text_view(2)});
    }
}

// The leaves of epoch `number` in job-id order, their text written to `jobs_json` as they are
// read (see JobsJsonStream), or dropped when there is no stream. A large epoch is read in
// contiguous parts on several read transactions at once: a sealing or finalized epoch takes no new
// jobs, so the parts are of one and the same set.
EpochLeaves collect_leaves(store::Database& database, std::int64_t number,
                           JobsJsonStream* jobs_json) {
    std::vector<std::optional<std::string>> bounds;  // part p is [bounds[p], bounds[p + 1])
    std::int64_t count = 0;
    database.read([&](store::Transaction& tx) {
        auto counted = tx.prepare(
            "SELECT COUNT(*) FROM settlement_epoch_jobs WHERE "
            "epoch_number = ?");
        counted.bind_all(number);
        counted.step();
        count = counted.column_int64(0);
        const auto threads =
            static_cast<std::int64_t>(leaf_threads(static_cast<std::size_t>(count)));
        bounds.emplace_back();
        for (std::int64_t part = 1; part < threads; ++part) {
            auto split = tx.prepare(
                "SELECT job_id FROM settlement_epoch_jobs WHERE epoch_number = ? "
                "ORDER BY job_id LIMIT 1 OFFSET ?");
            split.bind_all(number, count * part / threads);
            if (split.step()) {
                bounds.emplace_back(split.column_text(0));
            }
        }
        bounds.emplace_back();
    });
    const auto parts_count = bounds.size() - 1;
    if (jobs_json) {
        jobs_json->set_parts(parts_count);
    }
    std::vector<LeafWriter> parts;
    for (std::size_t p = 0; p < parts_count; ++p) {
        parts.emplace_back(jobs_json, p, static_cast<std::size_t>(count) / parts_count + 1);
    }
    std::vector<std::exception_ptr> failures(parts_count);
    const auto read_part = [&](std::size_t p) {
        try {
            database.read([&](store::Transaction& tx) {
                read_leaves(tx, number, bounds[p], bounds[p + 1], parts[p]);
            });
            parts[p].close();
        } catch (...) {
            failures[p] = std::current_exception();
        }
    };
    {
        std::vector<std::jthread> threads;
        for (std::size_t p = 1; p < parts_count; ++p) {
            threads.emplace_back(read_part, p);
        }
        read_part(0);
    }
    for (const auto& failure : failures) {
        if (failure) {
            std::rethrow_exception(failure);
        }
    }
    return LeafWriter::join(parts);
}

EpochFigures figures_of(const SealInput& input, const EpochLeaves& leaves,
                        const HubSettings& options) {
    const auto currency = input.epoch.revenue.currency();
    EpochFigures figures;
    figures.epoch_id = input.epoch.id;
    figures.start = input.epoch.start;
    figures.end = input.epoch.end.value_or(input.epoch.start);
    figures.previous_root = input.epoch.previous_root;
    const std::int64_t revenue = leaves.revenue;
    const auto& jobs_of = leaves.jobs_of;
    std::vector<std::string> workers;
    for (const auto& [worker, count] : jobs_of) {
        workers.push_back(worker);
    }
    for (const auto& [worker, uptime] : input.uptime_ms) {
        if (!jobs_of.contains(worker)) {
            workers.push_back(worker);
        }
    }
    std::sort(workers.begin(), workers.end());
    std::vector<std::int64_t> job_weights;
    std::vector<std::int64_t> uptime_weights;
    std::int64_t uptime_total = 0;
    for (const auto& worker : workers) {
        job_weights.push_back(jobs_of.contains(worker) ? jobs_of.at(worker) : 0);
        const auto uptime = input.uptime_ms.contains(worker) ? input.uptime_ms.at(worker) : 0;
        uptime_weights.push_back(uptime);
        uptime_total = checked::add(uptime_total, uptime, "uptime total");
    }
    std::vector<std::int64_t> work(workers.size(), 0);
    std::vector<std::int64_t> readiness(workers.size(), 0);
    figures.revenue = Money(revenue, currency);
    figures.protocol_fee = Money::zero(currency);
    figures.operator_fee = Money::zero(currency);
    figures.work_pool = Money::zero(currency);
    figures.readiness_pool = Money::zero(currency);
    if (revenue > 0) {
        const std::int64_t shares[] = {
            options.protocol_fee_ppm, options.operator_fee_ppm,
            1'000'000 - options.protocol_fee_ppm - options.operator_fee_ppm};
        const auto split = allocate(revenue, shares);
        const std::int64_t pools[] = {options.work_pool_ppm, 1'000'000 - options.work_pool_ppm};
        const auto pool = allocate(split[2], pools);
        figures.protocol_fee = Money(split[0], currency);
        figures.operator_fee = Money(split[1], currency);
        figures.work_pool = Money(pool[0], currency);
        figures.readiness_pool = Money(pool[1], currency);
        work = allocate(pool[0], job_weights);
        // Without any uptime on record the readiness pool follows the work done.
        readiness = allocate(pool[1], uptime_total > 0 ? uptime_weights : job_weights);
    }
    for (std::size_t i = 0; i < workers.size(); ++i) {
        Payout payout;
        payout.epoch_id = input.epoch.id;
        payout.worker_id = workers[i];
        payout.work_share = Money(work[i], currency);
        payout.readiness_share = Money(readiness[i], currency);
        payout.jobs_completed = job_weights[i];
        payout.uptime_ms = uptime_weights[i];
        figures.payouts.push_back(payout);
    }
    return figures;
}

void pay(store::Transaction& tx, std::string id, AccountRef credit, const Money& amount,
         TransferKind kind, std::string_view epoch_id, Timestamp now) {
    if (amount.minor_units() <= 0) {
        return;
    }
    TransferRequest request;
    request.id = std::move(id);
    request.debit = AccountRef{AccountKind::escrow, std::string(kHubOwner), amount.currency()};
    request.credit = std::move(credit);
    request.amount = amount;
    request.kind = kind;
    request.reference = std::string(epoch_id);
    create_transfer(tx, request, now);
}

void commit_seal(store::Transaction& tx, const EpochRecord& epoch, const EpochFigures& figures,
                 const EpochBundle& bundle, const std::map<std::string, std::string>& cids,
                 const std::string& root, const std::string& signer, std::int64_t jobs_count,
                 Timestamp now) {
    const auto currency = figures.revenue.currency();
    pay(tx, epoch.id + ":protocol_fee",
        AccountRef{AccountKind::protocol_fee, std::string(kHubOwner), currency},
        figures.protocol_fee, TransferKind::protocol_fee, epoch.id, now);
    pay(tx, epoch.id + ":operator_fee",
        AccountRef{AccountKind::operator_fee, std::string(kHubOwner), currency},
        figures.operator_fee, TransferKind::operator_fee, epoch.id, now);
    for (const auto& payout : figures.payouts) {
        pay(tx, epoch.id + ":payout:" + payout.worker_id,
            AccountRef{AccountKind::worker, payout.worker_id, currency}, payout.total(),
            TransferKind::payout, epoch.id, now);
        tx.prepare(
              "INSERT INTO settlement_payouts (epoch_id, worker_id, work_share, "
              "readiness_share, currency, jobs_completed, uptime_ms) VALUES (?, ?, ?, ?, ?, ?, "
              "?) ON CONFLICT (epoch_id, worker_id) DO NOTHING")
            .bind_all(epoch.id, payout.worker_id, payout.work_share.minor_units(),
                      payout.readiness_share.minor_units(), currency.code(), payout.jobs_completed,
                      payout.uptime_ms)
            .run();
        events::append(
            tx, now, "payout.made", epoch.id, {std::nullopt, payout.worker_id},
            json::serialize(boost::json::object{{"workerId", payout.worker_id},
                                                {"amount", payout.total().to_decimal_string()},
                                                {"currency", currency.code()}}));
    }
    boost::json::object artifacts;
    for (const auto& [name, cid] : cids) {
        artifacts[name] = cid;
    }
    // SIGNATURE.txt is "address\nsignature\n".
    const auto first_newline = bundle.signature_txt.find('\n');
    const auto signature = bundle.signature_txt.substr(
        first_newline + 1, bundle.signature_txt.size() - first_newline - 2);
    tx.prepare(
          "UPDATE settlement_epochs SET status = 'finalized', jobs_count = ?, merkle_root = ?, "
          "revenue = ?, signer = ?, signature = ?, summary = ?, artifacts = ? WHERE id = ?")
        .bind_all(jobs_count, root, figures.revenue.minor_units(), signer, signature,
                  bundle.summary_json, boost::json::serialize(artifacts), epoch.id)
        .run();
    events::append(tx, now, "epoch.sealed", epoch.id, {},
                   json::serialize(boost::json::object{
                       {"number", epoch.number}, {"jobsCount", jobs_count}, {"merkleRoot", root}}));
}

}  // namespace

std::string epoch_id_of(std::int64_t number) {
    return fmt::format("epoch-{:06}", number);
}

std::int64_t ensure_active_epoch(store::Transaction& tx, const Currency& currency, Timestamp now) {
    if (const auto active = epoch_in_status(tx, "active")) {
        return *active;
    }
    std::int64_t number = 1;
    Timestamp start = now;
    auto last =
        tx.prepare("SELECT number, end_at FROM settlement_epochs ORDER BY number DESC LIMIT 1");
    if (last.step()) {
        number = last.column_int64(0) + 1;
        start = Timestamp::from_ms(last.column_optional_int64(1).value_or(now.ms()));
    }
    last.reset();
    tx.prepare(
          "INSERT INTO settlement_epochs (id, number, status, start_at, currency) "
          "VALUES (?, ?, 'active', ?, ?)")
        .bind_all(epoch_id_of(number), number, start.ms(), currency.code())
        .run();
    return number;
}

std::int64_t begin_seal(store::Transaction& tx, const Currency& currency, Timestamp now) {
    if (const auto sealing = epoch_in_status(tx, "sealing")) {
        return *sealing;
    }
    const auto number = ensure_active_epoch(tx, currency, now);
    tx.prepare("UPDATE settlement_epochs SET status = 'sealing', end_at = ? WHERE number = ?")
        .bind_all(now.ms(), number)
        .run();
    ensure_active_epoch(tx, currency, now);
    return number;
}

EpochRecord finish_seal(detail::HubCore& core, ContentStore& content_store,
                        const crypto::Signer& signer, const HubSettings& options,
                        std::chrono::milliseconds offline_after, std::int64_t number,
                        const SealFaultPoint& fault) {
    const auto reach = [&](std::string_view point) {
        if (fault) {
            fault(point);
        }
    };
    const auto input = core.database->read(
        [&](store::Transaction& tx) { return read_seal_input(tx, number, offline_after); });
    if (input.epoch.status == EpochStatus::finalized) {
        return input.epoch;
    }
    // Files first (content-addressed, so a repeat stores nothing new), then the record. The
    // bundles are the hub's own books, not a user's uploads: no hourly upload limit applies.
    if (content_store.quota(kBundleOwner).upload_bytes_per_hour != kUnlimited) {
        content_store.set_quota(kBundleOwner, Quota{kUnlimited, std::nullopt});
    }
    const auto put_options = [](const char* name) {
        PutOptions put;
        put.access_level = AccessLevel::public_;
        put.min_replicas = 0;
        put.file_name = name;
        put.mime_type =
            std::string_view(name).ends_with(".txt") ? "text/plain" : "application/json";
        return put;
    };
    const auto store_file = [&](const char* name, std::string_view bytes) {
        return content_store
            .put_bytes(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
                       kBundleOwner, put_options(name))
            .content_id;
    };
    // jobs.json, by far the largest file, is stored on its own thread as the jobs are read
    // (and while the tree, the summary and the signature are made): the seal takes about as
    // long as the longer of reading and storing, not their sum, and never holds the whole
    // file in memory.
    JobsJsonStream jobs_json;
    auto jobs_cid = std::async(std::launch::async, [&] {
        try {
            return content_store
                .put_stream([&](std::span<std::uint8_t> buffer) { return jobs_json.read(buffer); },
                            kBundleOwner, put_options("jobs.json"))
                .content_id;
        } catch (...) {
            jobs_json.stop();  // the readers of the jobs stop at their next chunk
            throw;
        }
    });
    EpochLeaves leaves;
    try {
        leaves = collect_leaves(*core.database, number, &jobs_json);
    } catch (...) {
        // The store ends with this failure, or has ended with its own (the cause of this
        // one); either way it is the one to report.
        jobs_json.fail(std::current_exception());
        jobs_cid.get();
        throw;
    }
    const auto jobs_count = static_cast<std::int64_t>(leaves.hashes.size());
    const auto figures = figures_of(input, leaves, options);
    std::map<std::string, std::string> cids;
    const auto bundle = bundle_from_leaves(leaves, figures, signer, [&] {
        cids["jobs.json"] = jobs_cid.get();
        return jobs_json.sha256_hex();
    });
    reach("stored:jobs.json");
    const std::pair<const char*, const std::string*> files[] = {
        {"agents.json", &bundle.agents_json},
        {"SUMMARY.json", &bundle.summary_json},
        {"SIGNATURE.txt", &bundle.signature_txt},
    };
    for (const auto& [name, bytes] : files) {
        cids[name] = store_file(name, *bytes);
        reach(fmt::format("stored:{}", name));
    }
    const auto summary = boost::json::parse(bundle.summary_json).as_object();
    const auto root = std::string(summary.at("jobs_merkle_root").as_string());
    core.database->write([&](store::Transaction& tx) {
        const auto now_state = load_epoch_by_number(tx, number);
        if (now_state.status != EpochStatus::sealing) {
            return;  // another process finished it
        }
        reach("commit:begin");
        commit_seal(tx, input.epoch, figures, bundle, cids, root, signer.address().to_string(),
                    jobs_count, core.now());
        reach("commit:end");
    });
    reach("committed");
    return core.database->read(
        [&](store::Transaction& tx) { return load_epoch_by_number(tx, number); });
}

bool seal_is_due(store::Transaction& tx, Timestamp now, std::int64_t duration_ms) {
    if (epoch_in_status(tx, "sealing")) {
        return true;
    }
    auto row = tx.prepare("SELECT start_at FROM settlement_epochs WHERE status = 'active'");
    return row.step() && now.ms() - row.column_int64(0) >= duration_ms;
}

EpochRecord load_epoch(store::Transaction& tx, std::string_view epoch_id) {
    auto row =
        tx.prepare(fmt::format("SELECT {} FROM settlement_epochs WHERE id = ?", kEpochColumns));
    row.bind_all(epoch_id);
    if (!row.step()) {
        throw Error(ErrorCode::not_found, fmt::format("no epoch '{}'", epoch_id), "epoch_id");
    }
    return read_epoch(row);
}

EpochRecord load_epoch_by_number(store::Transaction& tx, std::int64_t number) {
    return load_epoch(tx, epoch_id_of(number));
}

std::vector<EpochRecord> load_epochs(store::Transaction& tx) {
    auto rows =
        tx.prepare(fmt::format("SELECT {} FROM settlement_epochs ORDER BY number", kEpochColumns));
    std::vector<EpochRecord> result;
    while (rows.step()) {
        result.push_back(read_epoch(rows));
    }
    return result;
}

std::vector<EpochJob> load_epoch_jobs(store::Transaction& tx, std::int64_t number) {
    auto rows = tx.prepare(
        "SELECT job_id, client, worker, job_type, hub, fee, currency, result_hash, poe_hash, "
        "completed_at FROM settlement_epoch_jobs WHERE epoch_number = ? ORDER BY job_id");
    rows.bind_all(number);
    std::vector<EpochJob> jobs;
    while (rows.step()) {
        EpochJob job;
        job.job_id = rows.column_text(0);
        job.client = rows.column_text(1);
        job.worker = rows.column_text(2);
        job.job_type = rows.column_text(3);
        job.hub = rows.column_text(4);
        job.fee = Money(rows.column_int64(5), Currency::of(rows.column_text(6)));
        job.result_hash = rows.column_text(7);
        job.poe_hash = rows.column_text(8);
        job.completed_at = Timestamp::from_ms(rows.column_int64(9));
        jobs.push_back(std::move(job));
    }
    return jobs;
}

std::vector<Payout> load_payouts(store::Transaction& tx, std::string_view epoch_id) {
    // Each payout with the sum of its worker's payouts up to it, in its currency.
    auto rows = tx.prepare(
        "SELECT p.worker_id, p.work_share, p.readiness_share, p.currency, p.jobs_completed, "
        "p.uptime_ms, (SELECT SUM(q.work_share + q.readiness_share) FROM settlement_payouts q "
        "JOIN settlement_epochs e ON e.id = q.epoch_id WHERE q.worker_id = p.worker_id AND "
        "q.currency = p.currency AND e.number <= (SELECT number FROM settlement_epochs WHERE id "
        "= p.epoch_id)) FROM settlement_payouts p WHERE p.epoch_id = ? ORDER BY p.worker_id");
    rows.bind_all(epoch_id);
    std::vector<std::pair<Payout, std::int64_t>> result;
    while (rows.step()) {
        const auto currency = Currency::of(rows.column_text(3));
        Payout payout;
        payout.epoch_id = std::string(epoch_id);
        payout.worker_id = rows.column_text(0);
        payout.work_share = Money(rows.column_int64(1), currency);
        payout.readiness_share = Money(rows.column_int64(2), currency);
        payout.jobs_completed = rows.column_int64(4);
        payout.uptime_ms = rows.column_int64(5);
        result.emplace_back(payout, rows.column_int64(6));
    }
    rows.reset();
    std::vector<Payout> payouts;
    for (auto& [payout, through] : result) {
        // Withdrawals pay a worker's payouts oldest first (see PayoutStatus).
        const AccountRef account{AccountKind::worker, payout.worker_id,
                                 payout.work_share.currency()};
        auto withdrawn = tx.prepare(
            "SELECT COALESCE(SUM(amount), 0) FROM settlement_transfers WHERE debit_account = ? "
            "AND kind = 'withdrawal' AND status = 'posted'");
        withdrawn.bind_all(account.id());
        withdrawn.step();
        payout.status =
            withdrawn.column_int64(0) >= through ? PayoutStatus::paid : PayoutStatus::pending;
        payouts.push_back(std::move(payout));
    }
    return payouts;
}

EpochTree epoch_tree(store::Database& database, std::int64_t number) {
    auto leaves = collect_leaves(database, number, nullptr);
    return EpochTree{crypto::MerkleTree(std::move(leaves.hashes)), std::move(leaves.marks)};
}

std::string receipt_of(store::Database& database, std::string_view job_id,
                       const EpochTreeSource& tree_of) {
    struct Found {
        EpochRecord epoch;
        std::string leaf;
    };
    const auto found = database.read([&](store::Transaction& tx) {
        auto row = tx.prepare(
            "SELECT epoch_number, client, completed_at, currency, fee, hub, job_type, poe_hash, "
            "result_hash, worker FROM settlement_epoch_jobs WHERE job_id = ?");
        row.bind_all(job_id);
        if (!row.step()) {
            throw Error(ErrorCode::not_found,
                        fmt::format("job '{}' is in no epoch (not completed?)", job_id), "job_id");
        }
        Found result;
        const auto number = row.column_int64(0);
        append_leaf(result.leaf, LeafFields{row.column_text_view(1), row.column_int64(2),
                                            row.column_text_view(3), row.column_int64(4),
                                            row.column_text_view(5), job_id,
                                            row.column_text_view(6), row.column_text_view(7),
                                            row.column_text_view(8), row.column_text_view(9)});
        row.reset();
        result.epoch = load_epoch_by_number(tx, number);
        if (result.epoch.status != EpochStatus::finalized) {
            throw Error(ErrorCode::conflict,
                        fmt::format("job '{}' is in {}, which is {}, not finalized", job_id,
                                    result.epoch.id, to_string(result.epoch.status)),
                        "job_id");
        }
        return result;
    });
    const auto tree =
        tree_of ? tree_of(found.epoch.number)
                : std::make_shared<const EpochTree>(epoch_tree(database, found.epoch.number));
    // The job's place: the last mark at or before its id, plus the ids between the two.
    const auto& marks = tree->marks;
    const auto after = std::upper_bound(
        marks.begin(), marks.end(), job_id,
        [](std::string_view id, const LeafMark& mark) { return id < mark.job_id; });
    if (after == marks.begin()) {
        throw Error(ErrorCode::internal,
                    fmt::format("job '{}' sorts before the first job of its epoch", job_id));
    }
    const auto& mark = *(after - 1);
    const auto index = database.read([&](store::Transaction& tx) {
        auto between = tx.prepare(
            "SELECT COUNT(*) FROM settlement_epoch_jobs WHERE epoch_number = ? AND job_id >= ? "
            "AND job_id < ?");
        between.bind_all(found.epoch.number, mark.job_id, job_id);
        between.step();
        return mark.index + static_cast<std::size_t>(between.column_int64(0));
    });
    return make_receipt(found.epoch, found.leaf, static_cast<std::size_t>(tree->tree.size()),
                        tree->tree, index);
}

std::string make_receipt(const EpochRecord& epoch, const std::vector<std::string>& leaves,
                         const crypto::MerkleTree& tree, std::size_t index) {
    return make_receipt(epoch, leaves[index], leaves.size(), tree, index);
}

std::string make_receipt(const EpochRecord& epoch, std::string_view leaf, std::size_t tree_size,
                         const crypto::MerkleTree& tree, std::size_t index) {
    boost::json::array proof;
    for (const auto& step : tree.inclusion_proof(index)) {
        proof.push_back(boost::json::string(crypto::to_hex(step)));
    }
    const auto job = boost::json::parse(leaf);
    const boost::json::object receipt{
        {"job_id", job.at("job_id")},
        {"epoch_id", epoch.id},
        {"leaf", leaf},
        {"leaf_index", static_cast<std::int64_t>(index)},
        {"tree_size", static_cast<std::int64_t>(tree_size)},
        {"proof", proof},
        {"root", epoch.jobs_merkle_root},
        {"summary", epoch.summary_json},
        {"signature", epoch.signature},
        {"signer", epoch.signer},
    };
    return boost::json::serialize(receipt);
}

}  // namespace sihlicon::settlement
