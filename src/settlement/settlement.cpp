// SPDX-License-Identifier: Apache-2.0
#include "crypto/jcs.hpp"
#include "heat/heat_internal.hpp"
#include "hub/hub_core.hpp"
#include "scheduler/rows.hpp"
#include "settlement/demand.hpp"
#include "settlement/epochs.hpp"
#include "settlement/journal.hpp"
#include "settlement/market.hpp"
#include "settlement/reputation.hpp"
#include "settlement/scheduler_seam.hpp"
#include "settlement/settlement_internal.hpp"

#include <sihlicon/content_store.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/heat_ledger.hpp>
#include <sihlicon/scheduler.hpp>
#include <sihlicon/settlement.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <mutex>

namespace sihlicon {

namespace {

constexpr std::string_view kHubOwner = "hub";
constexpr std::string_view kBundleOwner = "settlement";

std::shared_ptr<const crypto::Signer> load_signer(const detail::HubCore& core,
                                                  const SettlementOptions& options) {
    if (options.signer) {
        return options.signer;
    }
    return std::make_shared<crypto::LocalKeySigner>(
        crypto::LocalKeySigner::load_or_generate(core.directory / "operator.key"));
}

}  // namespace

struct Settlement::Impl {
    detail::HubCore& core;
    Scheduler& scheduler;
    ContentStore& content_store;
    SettlementOptions process_options;
    mutable std::mutex signer_mutex;
    std::shared_ptr<const crypto::Signer> signer;  // guarded by signer_mutex
    settlement::SealFaultPoint seal_fault;         // tests only
    // The tree of the finalized epoch a receipt was last made for (see Settlement::receipt).
    mutable std::mutex tree_mutex;
    mutable std::int64_t tree_epoch = -1;                       // guarded by tree_mutex
    mutable std::shared_ptr<const settlement::EpochTree> tree;  // guarded by tree_mutex

    Impl(detail::HubCore& core_, Scheduler& scheduler_, ContentStore& content_store_,
         SettlementOptions options_, std::shared_ptr<const crypto::Signer> signer_)
        : core(core_),
          scheduler(scheduler_),
          content_store(content_store_),
          process_options(std::move(options_)),
          signer(std::move(signer_)) {}

    std::shared_ptr<const crypto::Signer> current_signer() const {
        std::lock_guard lock(signer_mutex);
        return signer;
    }
    // The hub's settings as of `tx`: every decision of money reads them in its transaction.
    std::shared_ptr<const HubSettings> settings(store::Transaction& tx) const {
        return core.settings(tx);
    }
    static std::chrono::milliseconds offline_after(const HubSettings& settings) {
        return settings.heartbeat_interval * settings.missed_heartbeats;
    }
    crypto::Address replace_key(const crypto::PrivateKey& key, bool replace_signer);

    static Money price_of(const HubSettings& settings, std::string_view job_type) {
        const auto found = settings.prices.find(std::string(job_type));
        return found != settings.prices.end() ? found->second : settings.default_price;
    }

    void on_transitions(store::Transaction& tx, const std::vector<JobEvent>& events,
                        const std::map<std::size_t, detail::CompletedAttempt>& completed) const;
    // One of them. `active_epoch` is the epoch completions join, looked up at the first.
    void on_transition(store::Transaction& tx, const HubSettings& options, const JobEvent& event,
                       const detail::CompletedAttempt* completed,
                       settlement::AttemptTally& attempts,
                       std::optional<std::int64_t>& active_epoch) const;
    void reserve(store::Transaction& tx, const HubSettings& options, const JobRecord& job,
                 Timestamp now) const;
    void check_completion(store::Transaction& tx, std::string_view job_id,
                          std::string_view worker_id, const JobCompletion& completion) const;
    void post_heat(store::Transaction& tx, const HeatSettlement& settlement) const;
};

// ---- the scheduler's jobs ---------------------------------------------------------------

void Settlement::Impl::reserve(store::Transaction& tx, const HubSettings& options,
                               const JobRecord& job, Timestamp now) const {
    const auto type = std::string(to_string(job.spec.type));
    const auto base = options.charge_jobs ? price_of(options, type) : Money::zero(options.currency);
    if (base.minor_units() == 0) {
        return;  // a free job: nothing to reserve or to record
    }
    // A flat multiplier (the default) needs no signals; a variable one reads them here, in the
    // submission's transaction, so the price and the queue it saw commit together.
    settlement::DemandSignals signals;
    if (options.demand_min_ppm != options.demand_max_ppm) {
        signals = settlement::read_demand(tx, job.id, job.spec.hub_id, options);
    }
    const auto demand = settlement::demand_price(base.minor_units(), signals, options);
    const Money price(demand.price, options.currency);
    if (price.minor_units() == 0) {
        return;
    }
    std::int64_t reservation = 0;
    {
        auto row = tx.prepare("SELECT reservation FROM settlement_job_charges WHERE job_id = ?");
        row.bind_all(job.id);
        if (row.step()) {
            reservation = row.column_int64(0);
        }
    }
    ++reservation;
    const auto transfer_id = fmt::format("job:{}:reserve:{}", job.id, reservation);
    TransferRequest request;
    request.id = transfer_id;
    request.debit = AccountRef{AccountKind::client, job.spec.owner, options.currency};
    request.credit = AccountRef{AccountKind::escrow, std::string(kHubOwner), options.currency};
    request.amount = price;
    request.kind = TransferKind::job_charge;
    request.reference = job.id;
    request.pending = true;
    settlement::create_transfer(tx, request, now);
    tx.prepare(
          "INSERT INTO settlement_job_charges (job_id, owner, job_type, price, currency, "
          "transfer_id, reservation, status, base_price, multiplier_ppm, queue_depth, "
          "utilisation_ppm) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (job_id) DO UPDATE SET price = excluded.price, "
          "transfer_id = excluded.transfer_id, reservation = excluded.reservation, "
          "status = excluded.status, base_price = excluded.base_price, "
          "multiplier_ppm = excluded.multiplier_ppm, queue_depth = excluded.queue_depth, "
          "utilisation_ppm = excluded.utilisation_ppm")
        .bind_all(job.id, job.spec.owner, type, price.minor_units(), options.currency.code(),
                  transfer_id, reservation, "reserved", base.minor_units(), demand.multiplier_ppm,
                  signals.queue_depth, demand.utilisation_ppm)
        .run();
}

void Settlement::Impl::on_transitions(
    store::Transaction& tx, const std::vector<JobEvent>& events,
    const std::map<std::size_t, detail::CompletedAttempt>& completed) const {
    settlement::AttemptTally attempts;
    std::optional<std::int64_t> active_epoch;
    const auto settings_now = settings(tx);  // one read for the write's transitions
    for (std::size_t i = 0; i < events.size(); ++i) {
        const auto found = completed.find(i);
        on_transition(tx, *settings_now, events[i],
                      found == completed.end() ? nullptr : &found->second, attempts, active_epoch);
    }
    attempts.store(tx);
}

void Settlement::Impl::on_transition(store::Transaction& tx, const HubSettings& options,
                                     const JobEvent& event,
                                     const detail::CompletedAttempt* completed,
                                     settlement::AttemptTally& attempts,
                                     std::optional<std::int64_t>& active_epoch) const {
    attempts.add(tx, event, completed);
    const bool waiting = event.to == JobStatus::pending || event.to == JobStatus::queued;
    const bool was_ended = event.from == JobStatus::failed || event.from == JobStatus::cancelled;
    if (!event.from || (was_ended && waiting)) {
        if (event.to == JobStatus::failed || event.to == JobStatus::cancelled) {
            return;  // refused at birth: nothing to reserve
        }
        if (!options.charge_jobs) {
            return;  // jobs run free: nothing to reserve, so the job need not be read
        }
        reserve(tx, options, scheduler::load_job(tx, event.job_id).record, event.at);
        return;
    }
    if (event.to != JobStatus::completed && event.to != JobStatus::failed &&
        event.to != JobStatus::cancelled) {
        return;
    }
    std::string status;
    std::optional<std::string> transfer_id;
    std::int64_t price = 0;
    std::int64_t reservation = 0;
    {
        auto row = tx.prepare(
            "SELECT status, transfer_id, price, reservation FROM settlement_job_charges "
            "WHERE job_id = ?");
        row.bind_all(event.job_id);
        if (row.step()) {
            status = row.column_text(0);
            transfer_id = row.column_optional_text(1);
            price = row.column_int64(2);
            reservation = row.column_int64(3);
        }
    }
    std::int64_t fee = 0;
    if (status == "reserved" && transfer_id) {
        const bool charged = event.to == JobStatus::completed;
        const auto id =
            fmt::format("job:{}:{}:{}", event.job_id, charged ? "charge" : "void", reservation);
        settlement::resolve_pending(tx, id, *transfer_id, std::nullopt, charged, event.at);
        tx.prepare("UPDATE settlement_job_charges SET status = ? WHERE job_id = ?")
            .bind_all(charged ? "charged" : "voided", event.job_id)
            .run();
        fee = charged ? price : 0;
    }
    if (event.to != JobStatus::completed) {
        return;
    }
    // The scheduler hands every completion's job and worker hub over (scheduler_seam.hpp).
    if (completed == nullptr) {
        throw Error(ErrorCode::internal,
                    fmt::format("the completion of job {} came without its facts", event.job_id));
    }
    const JobRecord& job = completed->job;
    const auto worker = job.worker_id.value_or("");
    const auto& hub = completed->worker_hub;
    const auto result_hash = job.result_hash.value_or("");
    if (!active_epoch) {  // nothing in a write's changes seals an epoch
        active_epoch = settlement::ensure_active_epoch(tx, options.currency, event.at);
    }
    const auto epoch = *active_epoch;
    tx.prepare(
          "INSERT INTO settlement_epoch_jobs (job_id, epoch_number, client, worker, job_type, "
          "hub, fee, currency, result_hash, poe_hash, completed_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING")
        .bind_all(job.id, epoch, job.spec.owner, worker, to_string(job.spec.type), hub, fee,
                  options.currency.code(), result_hash,
                  proof_of_execution(job.id, result_hash, worker), event.at.ms())
        .run();
}

void Settlement::Impl::check_completion(store::Transaction& tx, std::string_view job_id,
                                        std::string_view worker_id,
                                        const JobCompletion& completion) const {
    if (settings(tx)->require_worker_signatures && !completion.worker_signature) {
        throw Error::invalid("worker_signature", "",
                             fmt::format("is required (requireWorkerSignatures): worker '{}' "
                                         "must sign the proof of execution of job '{}'",
                                         worker_id, job_id));
    }
    if (!completion.proof_of_execution && !completion.worker_signature) {
        return;
    }
    const auto expected =
        proof_of_execution(job_id, completion.result_hash.value_or(""), worker_id);
    const auto proof = completion.proof_of_execution.value_or(expected);
    if (proof != expected) {
        throw Error::invalid("proof_of_execution", proof,
                             "is not sha256(job_id ‖ result_hash ‖ worker_id)");
    }
    if (!completion.worker_signature) {
        return;
    }
    const auto worker = scheduler::load_worker(tx, worker_id);
    const auto label = worker.spec.labels.find("address");
    if (label == worker.spec.labels.end()) {
        throw Error::invalid("worker_signature", *completion.worker_signature,
                             fmt::format("worker '{}' has no \"address\" label to check it "
                                         "against",
                                         worker_id));
    }
    const auto address = crypto::Address::parse(label->second, "address");
    const auto signature =
        crypto::Signature::parse(*completion.worker_signature, "worker_signature");
    if (!crypto::verify_message(std::string_view(proof), signature, address)) {
        throw Error::invalid("worker_signature", *completion.worker_signature,
                             fmt::format("is not {}'s signature of the proof", label->second));
    }
}

void Settlement::Impl::post_heat(store::Transaction& tx, const HeatSettlement& settlement) const {
    if (settlement.credit.minor_units() <= 0) {
        return;
    }
    const auto currency = settlement.credit.currency();
    TransferRequest request;
    request.id = fmt::format("heat:{}:{}:{}", settlement.hub_id, settlement.period_start.ms(),
                             settlement.period_end.ms());
    request.debit = AccountRef{AccountKind::external, "heat-offtaker", currency};
    request.credit = AccountRef{AccountKind::heat_credits, settlement.hub_id, currency};
    request.amount = settlement.credit;
    request.kind = TransferKind::heat_credit;
    request.reference = request.id;
    settlement::create_transfer(tx, request, settlement.settled_at);
}

// ---- construction ------------------------------------------------------------------------

Settlement::Settlement(detail::HubCore& core, Scheduler& scheduler, ContentStore& content_store,
                       HeatLedger& heat_ledger, SettlementOptions options) {
    auto signer = load_signer(core, options);
    impl_ = std::make_unique<Impl>(core, scheduler, content_store, std::move(options),
                                   std::move(signer));
    Impl* impl = impl_.get();
    detail::JobSettlementHooks hooks;
    hooks.on_transitions = [impl](
                               store::Transaction& tx, const std::vector<JobEvent>& events,
                               const std::map<std::size_t, detail::CompletedAttempt>& completed) {
        impl->on_transitions(tx, events, completed);
    };
    hooks.check_completion = [impl](store::Transaction& tx, std::string_view job_id,
                                    std::string_view worker_id, const JobCompletion& completion) {
        impl->check_completion(tx, job_id, worker_id, completion);
    };
    hooks.on_heartbeat = [](store::Transaction& tx, std::string_view worker_id, Timestamp now,
                            std::chrono::milliseconds offline_after) {
        settlement::record_heartbeat(tx, worker_id, now, offline_after);
    };
    hooks.reputation_ppm = [](store::Transaction& tx, std::string_view worker_id, Timestamp now,
                              std::chrono::milliseconds offline_after) {
        return settlement::load_worker_reputation(tx, worker_id, now, offline_after).score_ppm;
    };
    detail::SchedulerAccess::set_settlement_hooks(scheduler, std::move(hooks));
    detail::HeatLedgerAccess::set_settlement_posting(
        heat_ledger, [impl](store::Transaction& tx, const HeatSettlement& settlement) {
            impl->post_heat(tx, settlement);
        });
}

Settlement::~Settlement() {
    detail::SchedulerAccess::set_settlement_hooks(impl_->scheduler, {});
}

const SettlementOptions& Settlement::options() const {
    return impl_->process_options;
}

crypto::Address Settlement::operator_address() const {
    return impl_->current_signer()->address();
}

std::vector<crypto::Address> Settlement::trusted_signers() const {
    std::vector<crypto::Address> signers{operator_address()};
    auto stored = impl_->core.database->read([&](store::Transaction& tx) {
        std::vector<std::string> texts;
        auto row = tx.prepare(
            "SELECT signer FROM settlement_epochs WHERE status = 'finalized' AND signer IS NOT "
            "NULL GROUP BY signer ORDER BY MIN(number)");
        while (row.step()) {
            texts.emplace_back(row.column_text(0));
        }
        return texts;
    });
    for (const auto& text : stored) {
        const auto address = crypto::Address::parse(text, "stored signer");
        if (std::find(signers.begin(), signers.end(), address) == signers.end()) {
            signers.push_back(address);
        }
    }
    return signers;
}

std::filesystem::path Settlement::operator_key_file() const {
    if (impl_->process_options.signer) {
        return {};
    }
    return impl_->core.directory / "operator.key";
}

crypto::Address Settlement::Impl::replace_key(const crypto::PrivateKey& key, bool replace_signer) {
    if (process_options.signer) {
        throw Error(ErrorCode::conflict,
                    "the operator key is the host's signer; replace it in the host", "key");
    }
    const auto current = current_signer()->address().to_string();
    const auto signed_epochs = core.database->read([&](store::Transaction& tx) {
        auto row = tx.prepare(
            "SELECT COUNT(*) FROM settlement_epochs WHERE status = 'finalized' AND signer = ?");
        row.bind_all(current);
        row.step();
        return row.column_int64(0);
    });
    if (signed_epochs > 0 && !replace_signer) {
        throw Error(ErrorCode::conflict,
                    fmt::format("the operator key {} signed {} finalized epochs; replacing it "
                                "changes the operator's address (pass the force option)",
                                current, signed_epochs),
                    "key");
    }
    auto replacement = std::make_shared<crypto::LocalKeySigner>(
        crypto::LocalKeySigner::write(core.directory / "operator.key", key));
    std::lock_guard lock(signer_mutex);
    signer = std::move(replacement);
    return signer->address();
}

crypto::Address Settlement::generate_operator_key(bool replace_signer) {
    return impl_->replace_key(crypto::PrivateKey::generate(), replace_signer);
}

crypto::Address Settlement::import_operator_key(const crypto::PrivateKey& key,
                                                bool replace_signer) {
    return impl_->replace_key(key, replace_signer);
}

void SettlementAccess::set_seal_fault_point(Settlement& settlement,
                                            settlement::SealFaultPoint fault) {
    settlement.impl_->seal_fault = std::move(fault);
}

Money Settlement::price_of(std::string_view job_type) const {
    parse_job_type(job_type, "job_type");
    return impl_->core.database->read(
        [&](store::Transaction& tx) { return Impl::price_of(*impl_->settings(tx), job_type); });
}

std::optional<std::pair<Money, std::string>> Settlement::job_charge(std::string_view job_id) const {
    return impl_->core.database->read(
        [&](store::Transaction& tx) -> std::optional<std::pair<Money, std::string>> {
            auto row = tx.prepare(
                "SELECT price, currency, status FROM settlement_job_charges WHERE job_id = ?");
            row.bind_all(job_id);
            if (!row.step()) {
                return std::nullopt;
            }
            return std::pair{Money(row.column_int64(0), Currency::of(row.column_text(1))),
                             row.column_text(2)};
        });
}

std::optional<JobCharge> Settlement::charge_of(std::string_view job_id) const {
    return impl_->core.database->read([&](store::Transaction& tx) -> std::optional<JobCharge> {
        auto row = tx.prepare(
            "SELECT owner, job_type, COALESCE(base_price, price), multiplier_ppm, price, "
            "currency, queue_depth, utilisation_ppm, status FROM settlement_job_charges "
            "WHERE job_id = ?");
        row.bind_all(job_id);
        if (!row.step()) {
            return std::nullopt;
        }
        const auto currency = Currency::of(row.column_text(5));
        JobCharge charge;
        charge.job_id = std::string(job_id);
        charge.client = row.column_text(0);
        charge.job_type = row.column_text(1);
        charge.base_price = Money(row.column_int64(2), currency);
        charge.multiplier_ppm = row.column_int64(3);
        charge.price = Money(row.column_int64(4), currency);
        charge.queue_depth = row.column_int64(6);
        charge.utilisation_ppm = row.column_int64(7);
        charge.status = row.column_text(8);
        return charge;
    });
}

// ---- journal -----------------------------------------------------------------------------

Transfer Settlement::transfer(const TransferRequest& request) {
    return impl_->core.database->write([&](store::Transaction& tx) {
        return settlement::create_transfer(tx, request, impl_->core.now());
    });
}

Transfer Settlement::post_pending(std::string_view id, std::string_view pending_id,
                                  std::optional<Money> amount) {
    std::optional<std::int64_t> units;
    if (amount) {
        units = amount->minor_units();
    }
    return impl_->core.database->write([&](store::Transaction& tx) {
        if (amount) {
            const auto pending = settlement::find_transfer(tx, pending_id);
            if (pending && pending->amount.currency() != amount->currency()) {
                throw Error::invalid("amount", amount->to_string(),
                                     "must be in the pending transfer's currency");
            }
        }
        return settlement::resolve_pending(tx, id, pending_id, units, true, impl_->core.now());
    });
}

Transfer Settlement::void_pending(std::string_view id, std::string_view pending_id) {
    return impl_->core.database->write([&](store::Transaction& tx) {
        return settlement::resolve_pending(tx, id, pending_id, std::nullopt, false,
                                           impl_->core.now());
    });
}

std::int64_t Settlement::expire_pending() {
    return impl_->core.database->write(
        [&](store::Transaction& tx) { return settlement::expire_pending(tx, impl_->core.now()); });
}

Transfer Settlement::top_up(std::string_view client, const Money& amount,
                            std::string_view external_reference) {
    return top_up(AccountRef{AccountKind::client, std::string(client), amount.currency()}, amount,
                  external_reference);
}

Transfer Settlement::top_up(const AccountRef& account, const Money& amount,
                            std::string_view external_reference) {
    if (account.kind != AccountKind::client && account.kind != AccountKind::hub_operator) {
        throw Error::invalid("kind", to_string(account.kind),
                             "only a client or a hub operator is topped up");
    }
    settlement::check_name("external_reference", external_reference, 256);
    TransferRequest request;
    request.id = fmt::format("deposit:{}", external_reference);
    request.debit = AccountRef{AccountKind::external, "deposits", amount.currency()};
    request.credit = AccountRef{account.kind, account.owner, amount.currency()};
    request.amount = amount;
    request.kind = TransferKind::deposit;
    request.reference = std::string(external_reference);
    return transfer(request);
}

Transfer Settlement::withdraw(AccountKind kind, std::string_view owner, const Money& amount,
                              std::string_view id, std::string_view external_reference) {
    if (kind == AccountKind::external) {
        throw Error::invalid("kind", "external", "the outside world does not withdraw");
    }
    TransferRequest request;
    request.id = std::string(id);
    request.debit = AccountRef{kind, std::string(owner), amount.currency()};
    request.credit = AccountRef{AccountKind::external, "withdrawals", amount.currency()};
    request.amount = amount;
    request.kind = TransferKind::withdrawal;
    request.reference = std::string(external_reference);
    return transfer(request);
}

Account Settlement::account(const AccountRef& ref) const {
    return impl_->core.database->read([&](store::Transaction& tx) {
        auto found = settlement::find_account(tx, ref.id());
        if (!found) {
            throw Error(ErrorCode::not_found, fmt::format("no account '{}'", ref.id()), "account");
        }
        return *found;
    });
}

std::vector<Account> Settlement::accounts(std::optional<AccountKind> kind) const {
    return impl_->core.database->read([&](store::Transaction& tx) {
        std::vector<std::string> ids;
        auto rows = tx.prepare(
            "SELECT id FROM settlement_accounts WHERE ? IS NULL OR kind = ? ORDER BY id");
        std::optional<std::string_view> name;
        if (kind) {
            name = to_string(*kind);
        }
        rows.bind_all(name, name);
        while (rows.step()) {
            ids.push_back(rows.column_text(0));
        }
        std::vector<Account> result;
        for (const auto& id : ids) {
            result.push_back(*settlement::find_account(tx, id));
        }
        return result;
    });
}

std::vector<AccountEntry> Settlement::history(const AccountRef& ref, std::int64_t limit) const {
    if (limit < 1 || limit > 10'000) {
        throw Error::invalid("limit", std::to_string(limit), "must be 1 to 10,000");
    }
    return impl_->core.database->read([&](store::Transaction& tx) {
        auto rows = tx.prepare(
            "SELECT e.sequence, e.transfer_id, t.kind, e.amount, e.balance_after, t.reference, "
            "e.at FROM settlement_entries e JOIN settlement_transfers t ON t.id = e.transfer_id "
            "WHERE e.account_id = ? ORDER BY e.sequence DESC LIMIT ?");
        rows.bind_all(ref.id(), limit);
        std::vector<AccountEntry> result;
        while (rows.step()) {
            AccountEntry entry;
            entry.sequence = rows.column_int64(0);
            entry.transfer_id = rows.column_text(1);
            entry.kind = parse_transfer_kind(rows.column_text(2));
            entry.amount = Money(rows.column_int64(3), ref.currency);
            entry.balance_after = Money(rows.column_int64(4), ref.currency);
            entry.reference = rows.column_text(5);
            entry.at = Timestamp::from_ms(rows.column_int64(6));
            result.push_back(entry);
        }
        return result;
    });
}

Transfer Settlement::transfer_by_id(std::string_view id) const {
    return impl_->core.database->read([&](store::Transaction& tx) {
        auto found = settlement::find_transfer(tx, id);
        if (!found) {
            throw Error(ErrorCode::not_found, fmt::format("no transfer '{}'", id), "id");
        }
        return *found;
    });
}

namespace {

std::map<std::string, std::int64_t> totals_of(store::Database& database, std::string_view kind) {
    return database.read([&](store::Transaction& tx) {
        // Summed here with checked additions, not by SQL SUM(), which fails with a bare
        // "integer overflow" (or turns REAL) beyond int64.
        auto rows = tx.prepare(
            "SELECT currency, amount FROM settlement_transfers WHERE kind = ? AND "
            "status = 'posted'");
        rows.bind_all(kind);
        std::map<std::string, std::int64_t> result;
        while (rows.step()) {
            auto& total = result[rows.column_text(0)];
            if (__builtin_add_overflow(total, rows.column_int64(1), &total)) {
                throw Error(ErrorCode::invalid_argument,
                            fmt::format("the {} total in {} overflows the signed 64-bit range",
                                        kind, rows.column_text(0)),
                            "currency");
            }
        }
        return result;
    });
}

}  // namespace

std::map<std::string, std::int64_t> Settlement::deposits() const {
    return totals_of(*impl_->core.database, "deposit");
}

std::map<std::string, std::int64_t> Settlement::withdrawals() const {
    return totals_of(*impl_->core.database, "withdrawal");
}

// ---- marketplace ---------------------------------------------------------------------------

MarketTransaction Settlement::create_market_transaction(const MarketRequest& request) {
    return impl_->core.database->write([&](store::Transaction& tx) {
        return settlement::create_market(tx, request, impl_->core.now());
    });
}

MarketTransaction Settlement::settle_market_transaction(std::string_view id) {
    return impl_->core.database->write([&](store::Transaction& tx) {
        return settlement::resolve_market(tx, id, true, impl_->core.now());
    });
}

MarketTransaction Settlement::cancel_market_transaction(std::string_view id) {
    return impl_->core.database->write([&](store::Transaction& tx) {
        return settlement::resolve_market(tx, id, false, impl_->core.now());
    });
}

MarketTransaction Settlement::market_transaction(std::string_view id) const {
    return impl_->core.database->read([&](store::Transaction& tx) {
        auto found = settlement::find_market(tx, id);
        if (!found) {
            throw Error(ErrorCode::not_found, fmt::format("no market transaction '{}'", id), "id");
        }
        return *found;
    });
}

std::vector<MarketTransaction> Settlement::market_transactions(const MarketFilter& filter) const {
    return impl_->core.database->read(
        [&](store::Transaction& tx) { return settlement::list_market(tx, filter); });
}

// ---- reputation ----------------------------------------------------------------------------

Reputation Settlement::worker_reputation(std::string_view worker_id) const {
    const auto now = impl_->core.now();
    return impl_->core.database->read([&](store::Transaction& tx) {
        const auto offline_after = Impl::offline_after(*impl_->settings(tx));
        return settlement::load_worker_reputation(tx, worker_id, now, offline_after);
    });
}

Reputation Settlement::hub_reputation(std::string_view hub_id) const {
    const auto now = impl_->core.now();
    return impl_->core.database->read([&](store::Transaction& tx) {
        const auto offline_after = Impl::offline_after(*impl_->settings(tx));
        return settlement::load_hub_reputation(tx, hub_id, now, offline_after);
    });
}

std::vector<Reputation> Settlement::reputations(ReputationSubject subject) const {
    const auto now = impl_->core.now();
    return impl_->core.database->read([&](store::Transaction& tx) {
        const auto offline_after = Impl::offline_after(*impl_->settings(tx));
        return settlement::load_reputations(tx, subject, now, offline_after);
    });
}

// ---- epochs ------------------------------------------------------------------------------

EpochRecord Settlement::current_epoch() const {
    auto& core = impl_->core;
    const auto number = core.database->write([&](store::Transaction& tx) {
        return settlement::ensure_active_epoch(tx, impl_->settings(tx)->currency, core.now());
    });
    return core.database->read(
        [&](store::Transaction& tx) { return settlement::load_epoch_by_number(tx, number); });
}

EpochRecord Settlement::seal_epoch() {
    auto& core = impl_->core;
    const auto signer = impl_->current_signer();
    // The settings the seal splits by are those of the transaction that begins it.
    std::shared_ptr<const HubSettings> settings;
    const auto number = core.database->write([&](store::Transaction& tx) {
        settings = impl_->settings(tx);
        return settlement::begin_seal(tx, settings->currency, core.now());
    });
    return settlement::finish_seal(core, impl_->content_store, *signer, *settings,
                                   Impl::offline_after(*settings), number, impl_->seal_fault);
}

std::optional<EpochRecord> Settlement::seal_due_epoch() {
    auto& core = impl_->core;
    const auto signer = impl_->current_signer();
    // Whether a seal is due and its beginning are one write transaction: two processes that
    // both ask find it due one at a time, and the second then finds the next epoch just opened
    // (not due) or the first one's seal still `sealing` (which it finishes, idempotently). A
    // check in its own transaction let the second seal the epoch the first had just opened.
    std::shared_ptr<const HubSettings> settings;
    const auto number = core.database->write([&](store::Transaction& tx) {
        settings = impl_->settings(tx);
        const auto now = core.now();
        return settlement::seal_is_due(tx, now, settings->epoch_duration_ms)
                   ? std::optional(settlement::begin_seal(tx, settings->currency, now))
                   : std::nullopt;
    });
    if (!number) {
        return std::nullopt;
    }
    return settlement::finish_seal(core, impl_->content_store, *signer, *settings,
                                   Impl::offline_after(*settings), *number, impl_->seal_fault);
}

EpochRecord Settlement::epoch(std::string_view epoch_id) const {
    return impl_->core.database->read(
        [&](store::Transaction& tx) { return settlement::load_epoch(tx, epoch_id); });
}

std::vector<EpochRecord> Settlement::epochs() const {
    return impl_->core.database->read(
        [&](store::Transaction& tx) { return settlement::load_epochs(tx); });
}

std::vector<EpochJob> Settlement::epoch_jobs(std::string_view epoch_id) const {
    return impl_->core.database->read([&](store::Transaction& tx) {
        const auto epoch = settlement::load_epoch(tx, epoch_id);
        return settlement::load_epoch_jobs(tx, epoch.number);
    });
}

std::vector<Payout> Settlement::epoch_payouts(std::string_view epoch_id) const {
    return impl_->core.database->read([&](store::Transaction& tx) {
        settlement::load_epoch(tx, epoch_id);
        return settlement::load_payouts(tx, epoch_id);
    });
}

EpochBundle Settlement::epoch_bundle(std::string_view epoch_id) const {
    const auto record = epoch(epoch_id);
    if (record.status != EpochStatus::finalized) {
        throw Error(ErrorCode::conflict, fmt::format("epoch {} is not finalized", epoch_id),
                    "epoch_id");
    }
    const auto read = [&](const char* name) {
        const auto bytes =
            impl_->content_store.get_bytes(record.artifact_cids.at(name), kBundleOwner);
        return std::string(bytes.begin(), bytes.end());
    };
    return EpochBundle{read("jobs.json"), read("agents.json"), read("SUMMARY.json"),
                       read("SIGNATURE.txt")};
}

std::string Settlement::receipt(std::string_view job_id) const {
    auto& database = *impl_->core.database;
    return settlement::receipt_of(database, job_id, [&](std::int64_t number) {
        // Held while a tree is built, so that receipts asked for at once build it once.
        const std::lock_guard lock(impl_->tree_mutex);
        if (impl_->tree_epoch != number) {
            impl_->tree.reset();  // one tree in memory at a time
            impl_->tree = std::make_shared<const settlement::EpochTree>(
                settlement::epoch_tree(database, number));
            impl_->tree_epoch = number;
        }
        return impl_->tree;
    });
}

std::string Settlement::index_json() const {
    boost::json::array list;
    for (const auto& record : epochs()) {
        list.push_back(boost::json::parse(record.to_json()));
    }
    return boost::json::serialize(
        boost::json::object{{"operator", operator_address().to_string()}, {"epochs", list}});
}

}  // namespace sihlicon
