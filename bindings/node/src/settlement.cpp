// SPDX-License-Identifier: Apache-2.0
//
// sihlicon.Settlement: the journal (accounts, transfers, top-ups, withdrawals), job charges,
// the operator key, the marketplace between hubs, reputation and the epochs. Sealing an epoch runs
// on the thread pool (it collects the epoch's jobs, builds and signs the bundle and stores its
// files) and returns a Promise; the rest is synchronous. Amounts are exact decimal strings in major
// units ("10.50"), in the settlement's currency unless one is named.
#include "common.hpp"

namespace sihlicon::node {

void apply_settlement_options(HubSettings& options, const Napi::Object& values) {
    // The one codec of the settings (HubSettings::from_json), its errors named under
    // "settlement.".
    const auto text = json_text(values.Env(), values, "settlement");
    try {
        options = HubSettings::from_json(text, options);
    } catch (const Error& error) {
        throw Error(error.code(), std::string("settlement.") + error.what(),
                    error.field().empty() ? "settlement" : "settlement." + error.field());
    }
}

namespace {

// The hub settings in force, with Hub.open's keys (the operator key is never returned).
Napi::Object settlement_options_object(Napi::Env env, const HubSettings& options) {
    auto object = Napi::Object::New(env);
    const auto number = [&](const char* name, std::int64_t value) {
        object.Set(name, Napi::Number::New(env, static_cast<double>(value)));
    };
    object.Set("chargeJobs", Napi::Boolean::New(env, options.charge_jobs));
    object.Set("requireWorkerSignatures",
               Napi::Boolean::New(env, options.require_worker_signatures));
    object.Set("currency", std::string(options.currency.code()));
    object.Set("defaultPrice", options.default_price.to_decimal_string());
    auto prices = Napi::Object::New(env);
    for (const auto& [type, price] : options.prices) {
        prices.Set(type, price.to_decimal_string());
    }
    object.Set("prices", prices);
    number("protocolFeePpm", options.protocol_fee_ppm);
    number("operatorFeePpm", options.operator_fee_ppm);
    number("workPoolPpm", options.work_pool_ppm);
    number("demandMinPpm", options.demand_min_ppm);
    number("demandMaxPpm", options.demand_max_ppm);
    number("demandFullQueueDepth", options.demand_full_queue_depth);
    number("epochDurationMs", options.epoch_duration_ms);
    return object;
}

// Totals per currency code (minor units) as exact decimal strings: {USD: "10.000000"}.
Napi::Object totals_object(Napi::Env env, const std::map<std::string, std::int64_t>& totals) {
    auto object = Napi::Object::New(env);
    for (const auto& [code, minor_units] : totals) {
        object.Set(code, Money(minor_units, Currency::of(code)).to_decimal_string());
    }
    return object;
}

// The library parses every other enumeration; a reputation's subject has only two names.
ReputationSubject reputation_subject(const std::string& text, std::string_view field) {
    if (text == "worker") {
        return ReputationSubject::worker;
    }
    if (text == "hub") {
        return ReputationSubject::hub;
    }
    throw Error::invalid(field, text, "must be \"worker\" or \"hub\"");
}

// An account: {kind, owner, currency?} or its id "kind/owner/CURRENCY".
AccountRef account_ref(const Napi::Value& value, const Currency& fallback,
                       const std::string& field) {
    AccountRef ref;
    ref.currency = fallback;
    if (value.IsString()) {
        const auto id = value.As<Napi::String>().Utf8Value();
        const auto first = id.find('/');
        const auto last = id.rfind('/');
        if (first == std::string::npos || last == first) {
            throw Error::invalid(field, id, "must be \"kind/owner/CURRENCY\"");
        }
        ref.kind = parse_account_kind(id.substr(0, first), field);
        ref.owner = id.substr(first + 1, last - first - 1);
        ref.currency = Currency::of(id.substr(last + 1));
        return ref;
    }
    const auto given = options(value, field);
    ref.kind = parse_account_kind(text(given.Get("kind"), field + ".kind"), field + ".kind");
    ref.owner = text(given.Get("owner"), field + ".owner");
    if (auto code = optional_text(given.Get("currency"), field + ".currency")) {
        ref.currency = Currency::of(*code);
    }
    return ref;
}

Napi::Value epoch_value(Napi::Env env, EpochRecord& epoch) {
    return record(env, epoch);
}

class SettlementObject : public Handle<SettlementObject> {
  public:
    static constexpr const char* kName = "Settlement";
    static constexpr napi_type_tag kTypeTag = {0x5d1a0c0b0c10c4a6ULL, 0x1f83d9abfb41bd6bULL};

    explicit SettlementObject(const Napi::CallbackInfo& info)
        : Handle<SettlementObject>(info),
          handle_(*info[1].As<Napi::External<std::shared_ptr<HubHandle>>>().Data()) {}

    static Napi::Function define(Napi::Env env) {
        using S = SettlementObject;
        return define_class(env, {entry<&S::options_in_force>(env, "options"),
                                  entry<&S::operator_address>(env, "operatorAddress"),
                                  entry<&S::trusted_signers>(env, "trustedSigners"),
                                  entry<&S::price_of>(env, "priceOf"),
                                  entry<&S::job_charge>(env, "jobCharge"),
                                  entry<&S::charge_of>(env, "chargeOf"),
                                  entry<&S::operator_key_file>(env, "operatorKeyFile"),
                                  entry<&S::generate_operator_key>(env, "generateOperatorKey"),
                                  entry<&S::import_operator_key>(env, "importOperatorKey"),
                                  entry<&S::transfer>(env, "transfer"),
                                  entry<&S::post_pending>(env, "postPending"),
                                  entry<&S::void_pending>(env, "voidPending"),
                                  entry<&S::expire_pending>(env, "expirePending"),
                                  entry<&S::top_up>(env, "topUp"),
                                  entry<&S::withdraw>(env, "withdraw"),
                                  entry<&S::account>(env, "account"),
                                  entry<&S::accounts>(env, "accounts"),
                                  entry<&S::history>(env, "history"),
                                  entry<&S::transfer_by_id>(env, "transferById"),
                                  entry<&S::deposits>(env, "deposits"),
                                  entry<&S::withdrawals>(env, "withdrawals"),
                                  entry<&S::create_market>(env, "createMarketTransaction"),
                                  entry<&S::settle_market>(env, "settleMarketTransaction"),
                                  entry<&S::cancel_market>(env, "cancelMarketTransaction"),
                                  entry<&S::market_transaction>(env, "marketTransaction"),
                                  entry<&S::market_transactions>(env, "marketTransactions"),
                                  entry<&S::worker_reputation>(env, "workerReputation"),
                                  entry<&S::hub_reputation>(env, "hubReputation"),
                                  entry<&S::reputations>(env, "reputations"),
                                  entry<&S::current_epoch>(env, "currentEpoch"),
                                  async_entry<&S::seal_epoch>(env, "sealEpoch"),
                                  async_entry<&S::seal_due_epoch>(env, "sealDueEpoch"),
                                  entry<&S::epoch>(env, "epoch"),
                                  entry<&S::epochs>(env, "epochs"),
                                  entry<&S::epoch_jobs>(env, "epochJobs"),
                                  entry<&S::epoch_payouts>(env, "epochPayouts"),
                                  entry<&S::epoch_bundle>(env, "epochBundle"),
                                  entry<&S::receipt>(env, "receipt"),
                                  entry<&S::index>(env, "index")});
    }

  private:
    template <typename Work>
    auto on(Work&& work) {
        return with_hub(handle_, [&](Hub& hub) { return work(hub.settlement()); });
    }

    Currency currency_or(const Napi::Value& value, std::string_view field) {
        if (auto code = optional_text(value, field)) {
            return Currency::of(*code);
        }
        return with_hub(handle_, [](Hub& hub) { return hub.settings().currency; });
    }

    Napi::Value options_in_force(const Napi::CallbackInfo& info) {
        return settlement_options_object(
            info.Env(), with_hub(handle_, [](Hub& hub) { return hub.settings(); }));
    }
    Napi::Value operator_address(const Napi::CallbackInfo& info) {
        return Napi::String::New(
            info.Env(), on([](Settlement& s) { return s.operator_address().to_string(); }));
    }
    // trustedSigners() → [address]: the operator's, then earlier keys that signed epochs.
    Napi::Value trusted_signers(const Napi::CallbackInfo& info) {
        const auto signers = on([](Settlement& s) { return s.trusted_signers(); });
        auto array = Napi::Array::New(info.Env(), signers.size());
        for (std::uint32_t i = 0; i < signers.size(); ++i) {
            array.Set(i, signers[i].to_string());
        }
        return array;
    }
    // priceOf(jobType) → {amount, currency}.
    Napi::Value price_of(const Napi::CallbackInfo& info) {
        const auto type = text(info[0], "jobType");
        const auto price = on([&](Settlement& s) { return s.price_of(type); });
        auto object = Napi::Object::New(info.Env());
        object.Set("amount", price.to_decimal_string());
        object.Set("currency", std::string(price.currency().code()));
        return object;
    }
    // jobCharge(jobId) → {amount, currency, state} or null for a free job.
    Napi::Value job_charge(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "jobId");
        const auto charge = on([&](Settlement& s) { return s.job_charge(id); });
        if (!charge) {
            return info.Env().Null();
        }
        auto object = Napi::Object::New(info.Env());
        object.Set("amount", charge->first.to_decimal_string());
        object.Set("currency", std::string(charge->first.currency().code()));
        object.Set("state", charge->second);
        return object;
    }

    // chargeOf(jobId) → {jobId, client, jobType, basePrice, multiplierPpm, price, currency,
    // queueDepth, utilisationPpm, status} or null for a free job.
    Napi::Value charge_of(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "jobId");
        const auto charge = on([&](Settlement& s) { return s.charge_of(id); });
        return charge ? record(info.Env(), *charge) : info.Env().Null();
    }

    // ---- the operator key ----
    // operatorKeyFile() → the path of operator.key, or null with a host-supplied signer.
    Napi::Value operator_key_file(const Napi::CallbackInfo& info) {
        const auto file = on([](Settlement& s) { return s.operator_key_file(); });
        if (file.empty()) {
            return info.Env().Null();
        }
        return Napi::String::New(info.Env(), file.string());
    }
    // generateOperatorKey({replaceSigner?}?) → the new key's address.
    Napi::Value generate_operator_key(const Napi::CallbackInfo& info) {
        const auto replace =
            boolean(options(info[0], "options").Get("replaceSigner"), "replaceSigner", false);
        return Napi::String::New(info.Env(), on([&](Settlement& s) {
                                     return s.generate_operator_key(replace).to_string();
                                 }));
    }
    // importOperatorKey(key, {replaceSigner?}?) → the key's address; key is 0x + 64 hex digits.
    Napi::Value import_operator_key(const Napi::CallbackInfo& info) {
        const auto key = crypto::PrivateKey::parse(text(info[0], "key"), "key");
        const auto replace =
            boolean(options(info[1], "options").Get("replaceSigner"), "replaceSigner", false);
        return Napi::String::New(info.Env(), on([&](Settlement& s) {
                                     return s.import_operator_key(key, replace).to_string();
                                 }));
    }

    // ---- journal ----
    // transfer({id, debit, credit, amount, currency?, kind?, reference?, pending?, timeoutAt?}).
    Napi::Value transfer(const Napi::CallbackInfo& info) {
        const auto given = options(info[0], "request");
        const auto currency = currency_or(given.Get("currency"), "currency");
        TransferRequest request;
        request.id = text(given.Get("id"), "id");
        request.debit = account_ref(given.Get("debit"), currency, "debit");
        request.credit = account_ref(given.Get("credit"), currency, "credit");
        request.amount = money(given.Get("amount"), currency, "amount");
        if (auto kind = optional_text(given.Get("kind"), "kind")) {
            request.kind = parse_transfer_kind(*kind);
        }
        request.reference = optional_text(given.Get("reference"), "reference").value_or("");
        request.pending = boolean(given.Get("pending"), "pending", false);
        request.timeout_at = optional_timestamp(given.Get("timeoutAt"), "timeoutAt");
        return record(info.Env(), on([&](Settlement& s) { return s.transfer(request); }));
    }
    // postPending(id, pendingId, amount?, currency?).
    Napi::Value post_pending(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "id");
        const auto pending_id = text(info[1], "pendingId");
        std::optional<Money> amount;
        if (!is_absent(info[2])) {
            amount = money(info[2], currency_or(info[3], "currency"), "amount");
        }
        return record(info.Env(),
                      on([&](Settlement& s) { return s.post_pending(id, pending_id, amount); }));
    }
    Napi::Value void_pending(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "id");
        const auto pending_id = text(info[1], "pendingId");
        return record(info.Env(),
                      on([&](Settlement& s) { return s.void_pending(id, pending_id); }));
    }
    Napi::Value expire_pending(const Napi::CallbackInfo& info) {
        const auto expired = on([](Settlement& s) { return s.expire_pending(); });
        return Napi::Number::New(info.Env(), static_cast<double>(expired));
    }
    // topUp(client | {kind, owner, currency?}, amount, externalReference, currency?): a client's
    // deposit, or a client's or hub operator's. An account's currency is the amount's.
    Napi::Value top_up(const Napi::CallbackInfo& info) {
        const auto reference = text(info[2], "externalReference");
        if (info[0].IsString()) {
            const auto client = text(info[0], "client");
            const auto amount = money(info[1], currency_or(info[3], "currency"), "amount");
            return record(info.Env(),
                          on([&](Settlement& s) { return s.top_up(client, amount, reference); }));
        }
        auto ref = account_ref(info[0], currency_or(info[3], "currency"), "account");
        if (auto code = optional_text(info[3], "currency"); code && *code != ref.currency.code()) {
            throw Error::invalid("currency", *code,
                                 "differs from the account's " + std::string(ref.currency.code()));
        }
        const auto amount = money(info[1], ref.currency, "amount");
        return record(info.Env(),
                      on([&](Settlement& s) { return s.top_up(ref, amount, reference); }));
    }
    // withdraw(kind, owner, amount, id, {externalReference?, currency?}?).
    Napi::Value withdraw(const Napi::CallbackInfo& info) {
        const auto kind = parse_account_kind(text(info[0], "kind"));
        const auto owner = text(info[1], "owner");
        const auto given = options(info[4], "options");
        const auto amount =
            money(info[2], currency_or(given.Get("currency"), "currency"), "amount");
        const auto id = text(info[3], "id");
        const auto reference =
            optional_text(given.Get("externalReference"), "externalReference").value_or("");
        return record(info.Env(), on([&](Settlement& s) {
                          return s.withdraw(kind, owner, amount, id, reference);
                      }));
    }
    Napi::Value account(const Napi::CallbackInfo& info) {
        const auto ref =
            account_ref(info[0], currency_or(info.Env().Undefined(), "currency"), "account");
        return record(info.Env(), on([&](Settlement& s) { return s.account(ref); }));
    }
    Napi::Value accounts(const Napi::CallbackInfo& info) {
        std::optional<AccountKind> kind;
        if (auto name = optional_text(info[0], "kind")) {
            kind = parse_account_kind(*name);
        }
        return records(info.Env(), on([&](Settlement& s) { return s.accounts(kind); }));
    }
    // history(account, limit = 100): newest first.
    Napi::Value history(const Napi::CallbackInfo& info) {
        const auto ref =
            account_ref(info[0], currency_or(info.Env().Undefined(), "currency"), "account");
        const auto limit = optional_integer(info[1], "limit").value_or(100);
        return records(info.Env(), on([&](Settlement& s) { return s.history(ref, limit); }));
    }
    Napi::Value transfer_by_id(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "id");
        return record(info.Env(), on([&](Settlement& s) { return s.transfer_by_id(id); }));
    }
    // deposits() → total deposits ever per currency code: {USD: "10.000000"}.
    Napi::Value deposits(const Napi::CallbackInfo& info) {
        return totals_object(info.Env(), on([](Settlement& s) { return s.deposits(); }));
    }
    Napi::Value withdrawals(const Napi::CallbackInfo& info) {
        return totals_object(info.Env(), on([](Settlement& s) { return s.withdrawals(); }));
    }

    // ---- marketplace ----
    // createMarketTransaction({id, type, buyerHub, sellerHub, quantity, unitPrice, currency?,
    // reference?}): quantity an integer in the type's unit, unitPrice an exact decimal.
    Napi::Value create_market(const Napi::CallbackInfo& info) {
        const auto given = options(info[0], "request");
        MarketRequest request;
        request.id = text(given.Get("id"), "id");
        request.type = parse_market_type(text(given.Get("type"), "type"), "type");
        request.buyer_hub = text(given.Get("buyerHub"), "buyerHub");
        request.seller_hub = text(given.Get("sellerHub"), "sellerHub");
        request.quantity = integer(given.Get("quantity"), "quantity");
        request.unit_price = money(given.Get("unitPrice"),
                                   currency_or(given.Get("currency"), "currency"), "unitPrice");
        request.reference = optional_text(given.Get("reference"), "reference").value_or("");
        return record(info.Env(),
                      on([&](Settlement& s) { return s.create_market_transaction(request); }));
    }
    Napi::Value settle_market(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "id");
        return record(info.Env(),
                      on([&](Settlement& s) { return s.settle_market_transaction(id); }));
    }
    Napi::Value cancel_market(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "id");
        return record(info.Env(),
                      on([&](Settlement& s) { return s.cancel_market_transaction(id); }));
    }
    Napi::Value market_transaction(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "id");
        return record(info.Env(), on([&](Settlement& s) { return s.market_transaction(id); }));
    }
    // marketTransactions({hub?, type?, status?, limit?}?): newest (by id) first.
    Napi::Value market_transactions(const Napi::CallbackInfo& info) {
        const auto given = options(info[0], "filter");
        MarketFilter filter;
        filter.hub = optional_text(given.Get("hub"), "hub");
        if (auto type = optional_text(given.Get("type"), "type")) {
            filter.type = parse_market_type(*type, "type");
        }
        if (auto status = optional_text(given.Get("status"), "status")) {
            filter.status = parse_market_status(*status, "status");
        }
        filter.limit = optional_integer(given.Get("limit"), "limit").value_or(100);
        return records(info.Env(),
                       on([&](Settlement& s) { return s.market_transactions(filter); }));
    }

    // ---- reputation ----
    Napi::Value worker_reputation(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "workerId");
        return record(info.Env(), on([&](Settlement& s) { return s.worker_reputation(id); }));
    }
    Napi::Value hub_reputation(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "hubId");
        return record(info.Env(), on([&](Settlement& s) { return s.hub_reputation(id); }));
    }
    // reputations(subject = "worker"): best score first, then by id.
    Napi::Value reputations(const Napi::CallbackInfo& info) {
        const auto subject =
            reputation_subject(optional_text(info[0], "subject").value_or("worker"), "subject");
        return records(info.Env(), on([&](Settlement& s) { return s.reputations(subject); }));
    }

    // ---- epochs ----
    Napi::Value current_epoch(const Napi::CallbackInfo& info) {
        return record(info.Env(), on([](Settlement& s) { return s.current_epoch(); }));
    }
    // sealEpoch() → Promise<Epoch> (finalized).
    Napi::Value seal_epoch(const Napi::CallbackInfo& info) {
        return run_on_hub<EpochRecord>(
            info.Env(), handle_, [](Hub& hub) { return hub.settlement().seal_epoch(); },
            epoch_value);
    }
    // sealDueEpoch() → Promise<Epoch | null>.
    Napi::Value seal_due_epoch(const Napi::CallbackInfo& info) {
        return run_on_hub<std::optional<EpochRecord>>(
            info.Env(), handle_, [](Hub& hub) { return hub.settlement().seal_due_epoch(); },
            [](Napi::Env env, std::optional<EpochRecord>& epoch) -> Napi::Value {
                return epoch ? record(env, *epoch) : env.Null();
            });
    }
    Napi::Value epoch(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "epochId");
        return record(info.Env(), on([&](Settlement& s) { return s.epoch(id); }));
    }
    Napi::Value epochs(const Napi::CallbackInfo& info) {
        return records(info.Env(), on([](Settlement& s) { return s.epochs(); }));
    }
    // epochJobs(epochId) → the jobs.json leaves, in job-id order.
    Napi::Value epoch_jobs(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "epochId");
        const auto jobs = on([&](Settlement& s) { return s.epoch_jobs(id); });
        std::string text_value = "[";
        for (std::size_t i = 0; i < jobs.size(); ++i) {
            if (i > 0) {
                text_value += ',';
            }
            text_value += jobs[i].leaf();
        }
        return parse_json(info.Env(), text_value + "]");
    }
    Napi::Value epoch_payouts(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "epochId");
        return records(info.Env(), on([&](Settlement& s) { return s.epoch_payouts(id); }));
    }
    // epochBundle(epochId) → {jobsJson, agentsJson, summaryJson, signatureTxt}: the exact bytes.
    Napi::Value epoch_bundle(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "epochId");
        const auto bundle = on([&](Settlement& s) { return s.epoch_bundle(id); });
        auto object = Napi::Object::New(info.Env());
        object.Set("jobsJson", bundle.jobs_json);
        object.Set("agentsJson", bundle.agents_json);
        object.Set("summaryJson", bundle.summary_json);
        object.Set("signatureTxt", bundle.signature_txt);
        return object;
    }
    // receipt(jobId) → the receipt document (verifyReceipt takes it back, or its text).
    Napi::Value receipt(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "jobId");
        return parse_json(info.Env(), on([&](Settlement& s) { return s.receipt(id); }));
    }
    // index() → {epochs: [...]} for an explorer.
    Napi::Value index(const Napi::CallbackInfo& info) {
        return parse_json(info.Env(), on([](Settlement& s) { return s.index_json(); }));
    }

    std::shared_ptr<HubHandle> handle_;
};

}  // namespace

Napi::Function define_settlement(Napi::Env env) {
    return SettlementObject::define(env);
}

Napi::Object make_settlement(Napi::Env env, const std::shared_ptr<HubHandle>& handle) {
    auto copy = handle;
    return SettlementObject::make(addon(env).settlement_class,
                                  Napi::External<std::shared_ptr<HubHandle>>::New(env, &copy));
}

}  // namespace sihlicon::node
