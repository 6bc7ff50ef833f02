// SPDX-License-Identifier: Apache-2.0
//
// sihlicon.Settlement: the journal (accounts, transfers, top-ups, withdrawals) and the epochs.
// Sealing an epoch runs on the thread pool (it collects the epoch's jobs, builds and signs the
// bundle and stores its files) and returns a Promise; the rest is synchronous. Amounts are
// exact decimal strings in major units ("10.50"), in the settlement's currency unless one is
// named.
#include "common.hpp"

namespace sihlicon::node {

void apply_settlement_options(SettlementOptions& options, const Napi::Object& values) {
    const auto names = values.GetPropertyNames();
    // The currency first: the prices are read in it.
    if (auto code = optional_text(values.Get("currency"), "settlement.currency")) {
        options.currency = Currency::of(*code);
        options.default_price = Money(options.default_price.minor_units(), options.currency);
    }
    for (std::uint32_t i = 0; i < names.Length(); ++i) {
        const auto name = names.Get(i).As<Napi::String>().Utf8Value();
        const auto field = "settlement." + name;
        const auto value = values.Get(name);
        if (name == "currency") {
            continue;
        } else if (name == "chargeJobs") {
            options.charge_jobs = boolean(value, field, false);
        } else if (name == "defaultPrice") {
            options.default_price = money(value, options.currency, field);
        } else if (name == "prices") {
            const auto prices = node::options(value, field);
            const auto types = prices.GetPropertyNames();
            for (std::uint32_t j = 0; j < types.Length(); ++j) {
                const auto type = types.Get(j).As<Napi::String>().Utf8Value();
                parse_job_type(type, field + "." + type);
                options.prices.insert_or_assign(
                    type, money(prices.Get(type), options.currency, field + "." + type));
            }
        } else if (name == "protocolFeePpm") {
            options.protocol_fee_ppm = integer(value, field);
        } else if (name == "operatorFeePpm") {
            options.operator_fee_ppm = integer(value, field);
        } else if (name == "workPoolPpm") {
            options.work_pool_ppm = integer(value, field);
        } else if (name == "epochDurationMs") {
            options.epoch_duration_ms = integer(value, field);
        } else {
            throw Error::invalid(field, name, "is not a settlement option");
        }
    }
}

namespace {

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
        return define_class(env, {entry<&S::operator_address>(env, "operatorAddress"),
                                  entry<&S::price_of>(env, "priceOf"),
                                  entry<&S::job_charge>(env, "jobCharge"),
                                  entry<&S::transfer>(env, "transfer"),
                                  entry<&S::post_pending>(env, "postPending"),
                                  entry<&S::void_pending>(env, "voidPending"),
                                  entry<&S::top_up>(env, "topUp"),
                                  entry<&S::withdraw>(env, "withdraw"),
                                  entry<&S::account>(env, "account"),
                                  entry<&S::accounts>(env, "accounts"),
                                  entry<&S::history>(env, "history"),
                                  entry<&S::transfer_by_id>(env, "transferById"),
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
        return on([](Settlement& s) { return s.options().currency; });
    }

    Napi::Value operator_address(const Napi::CallbackInfo& info) {
        return Napi::String::New(
            info.Env(), on([](Settlement& s) { return s.operator_address().to_string(); }));
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
    // topUp(client, amount, externalReference, currency?).
    Napi::Value top_up(const Napi::CallbackInfo& info) {
        const auto client = text(info[0], "client");
        const auto amount = money(info[1], currency_or(info[3], "currency"), "amount");
        const auto reference = text(info[2], "externalReference");
        return record(info.Env(),
                      on([&](Settlement& s) { return s.top_up(client, amount, reference); }));
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
