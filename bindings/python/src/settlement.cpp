// SPDX-License-Identifier: Apache-2.0
//
// sihlicon._core.Settlement: the journal, job charges, the operator key, the marketplace between
// hubs, reputation and sealed epochs.
#include "common.hpp"
#include "handle.hpp"

namespace sihlicon::python {

void apply_settlement_options(SettlementOptions& options, HubSettings& settings,
                              const py::dict& values) {
    // The currency first: the prices are in it, whatever the dict's order.
    if (values.contains("currency")) {
        settings.currency = Currency::of(values["currency"].cast<std::string>());
        settings.default_price = Money(settings.default_price.minor_units(), settings.currency);
    }
    for (const auto& [key, value] : values) {
        const auto name = key.cast<std::string>();
        if (name == "charge_jobs") {
            settings.charge_jobs = value.cast<bool>();
        } else if (name == "require_worker_signatures") {
            settings.require_worker_signatures = value.cast<bool>();
        } else if (name == "currency") {
            continue;
        } else if (name == "default_price") {
            settings.default_price =
                make_money(value.cast<std::int64_t>(), settings.currency.code());
        } else if (name == "prices") {
            settings.prices.clear();
            for (const auto& [type, price] : value.cast<std::map<std::string, std::int64_t>>()) {
                settings.prices.emplace(type, make_money(price, settings.currency.code()));
            }
        } else if (name == "protocol_fee_ppm") {
            settings.protocol_fee_ppm = value.cast<std::int64_t>();
        } else if (name == "operator_fee_ppm") {
            settings.operator_fee_ppm = value.cast<std::int64_t>();
        } else if (name == "work_pool_ppm") {
            settings.work_pool_ppm = value.cast<std::int64_t>();
        } else if (name == "demand_min_ppm") {
            settings.demand_min_ppm = value.cast<std::int64_t>();
        } else if (name == "demand_max_ppm") {
            settings.demand_max_ppm = value.cast<std::int64_t>();
        } else if (name == "demand_full_queue_depth") {
            settings.demand_full_queue_depth = value.cast<std::int64_t>();
        } else if (name == "epoch_duration_ms") {
            settings.epoch_duration_ms = value.cast<std::int64_t>();
        } else if (name == "operator_key") {
            if (!value.is_none()) {
                options.signer = std::make_shared<crypto::LocalKeySigner>(
                    crypto::PrivateKey::parse(value.cast<std::string>(), "operator_key"));
            }
        } else {
            throw Error::invalid("settlement", name, "is not a settlement option");
        }
    }
}

py::dict settlement_options_to_py(const HubSettings& options) {
    py::dict d;
    d["charge_jobs"] = options.charge_jobs;
    d["require_worker_signatures"] = options.require_worker_signatures;
    d["currency"] = std::string(options.currency.code());
    d["default_price"] = options.default_price.minor_units();
    std::map<std::string, std::int64_t> prices;
    for (const auto& [type, price] : options.prices) {
        prices.emplace(type, price.minor_units());
    }
    d["prices"] = prices;
    d["protocol_fee_ppm"] = options.protocol_fee_ppm;
    d["operator_fee_ppm"] = options.operator_fee_ppm;
    d["work_pool_ppm"] = options.work_pool_ppm;
    d["demand_min_ppm"] = options.demand_min_ppm;
    d["demand_max_ppm"] = options.demand_max_ppm;
    d["demand_full_queue_depth"] = options.demand_full_queue_depth;
    d["epoch_duration_ms"] = options.epoch_duration_ms;
    return d;
}

namespace {

struct SettlementRef : ServiceRef {};

Settlement& settlement(Hub& hub) {
    return hub.settlement();
}

AccountRef account_ref(const std::string& kind, const std::string& owner,
                       const std::string& currency) {
    return AccountRef{parse_account_kind(kind), owner, Currency::of(currency)};
}

// The library parses every other enumeration; a reputation's subject has only two names.
ReputationSubject reputation_subject(const std::string& text) {
    if (text == "worker") {
        return ReputationSubject::worker;
    }
    if (text == "hub") {
        return ReputationSubject::hub;
    }
    throw Error::invalid("subject", text, "must be worker or hub");
}

}  // namespace

void bind_settlement(py::module_& module) {
    using Ref = SettlementRef;
    py::class_<Ref>(module, "Settlement")
        .def(py::init([](const std::shared_ptr<HubHandle>& hub) { return Ref{{hub}}; }))
        .def("options",
             [](const Ref& s) {
                 return settlement_options_to_py(
                     with_hub(s, [](Hub& hub) { return hub.settings(); }));
             })
        .def("operator_address",
             [](const Ref& s) {
                 return with_hub(
                     s, [](Hub& hub) { return settlement(hub).operator_address().to_string(); });
             })
        .def("trusted_signers",
             [](const Ref& s) {
                 return with_hub(s, [](Hub& hub) {
                     std::vector<std::string> texts;
                     for (const auto& address : settlement(hub).trusted_signers()) {
                         texts.push_back(address.to_string());
                     }
                     return texts;
                 });
             })
        .def("price_of",
             [](const Ref& s, const std::string& job_type) {
                 return money_to_py(
                     with_hub(s, [&](Hub& hub) { return settlement(hub).price_of(job_type); }));
             })
        .def("job_charge",
             [](const Ref& s, const std::string& job_id) -> py::object {
                 const auto charge =
                     with_hub(s, [&](Hub& hub) { return settlement(hub).job_charge(job_id); });
                 if (!charge) {
                     return py::none();
                 }
                 return py::make_tuple(money_to_py(charge->first), charge->second);
             })
        .def("charge_of",
             [](const Ref& s, const std::string& job_id) -> py::object {
                 const auto charge =
                     with_hub(s, [&](Hub& hub) { return settlement(hub).charge_of(job_id); });
                 return charge ? py::object(to_py(*charge)) : py::none();
             })
        .def("operator_key_file",
             [](const Ref& s) -> py::object {
                 const auto file =
                     with_hub(s, [](Hub& hub) { return settlement(hub).operator_key_file(); });
                 return file.empty() ? py::object(py::none()) : py::object(py::str(file.string()));
             })
        .def("generate_operator_key",
             [](const Ref& s, bool replace_signer) {
                 return with_hub(s, [&](Hub& hub) {
                     return settlement(hub).generate_operator_key(replace_signer).to_string();
                 });
             })
        .def("import_operator_key",
             [](const Ref& s, const std::string& key, bool replace_signer) {
                 const auto parsed = crypto::PrivateKey::parse(key, "key");
                 return with_hub(s, [&](Hub& hub) {
                     return settlement(hub).import_operator_key(parsed, replace_signer).to_string();
                 });
             })
        .def("transfer",
             [](const Ref& s, const std::string& id, const std::string& debit_kind,
                const std::string& debit_owner, const std::string& credit_kind,
                const std::string& credit_owner, std::int64_t amount, const std::string& currency,
                const std::string& kind, const std::string& reference, bool pending,
                const std::optional<std::int64_t>& timeout_ms) {
                 TransferRequest request;
                 request.id = id;
                 request.debit = account_ref(debit_kind, debit_owner, currency);
                 request.credit = account_ref(credit_kind, credit_owner, currency);
                 request.amount = make_money(amount, currency);
                 request.kind = parse_transfer_kind(kind);
                 request.reference = reference;
                 request.pending = pending;
                 request.timeout_at = optional_timestamp(timeout_ms);
                 return to_py(
                     with_hub(s, [&](Hub& hub) { return settlement(hub).transfer(request); }));
             })
        .def("post_pending",
             [](const Ref& s, const std::string& id, const std::string& pending_id,
                const std::optional<std::pair<std::int64_t, std::string>>& amount) {
                 std::optional<Money> money;
                 if (amount) {
                     money = make_money(amount->first, amount->second);
                 }
                 return to_py(with_hub(s, [&](Hub& hub) {
                     return settlement(hub).post_pending(id, pending_id, money);
                 }));
             })
        .def("void_pending",
             [](const Ref& s, const std::string& id, const std::string& pending_id) {
                 return to_py(with_hub(
                     s, [&](Hub& hub) { return settlement(hub).void_pending(id, pending_id); }));
             })
        .def("expire_pending",
             [](const Ref& s) {
                 return with_hub(s, [](Hub& hub) { return settlement(hub).expire_pending(); });
             })
        .def("top_up",
             [](const Ref& s, const std::string& client, std::int64_t amount,
                const std::string& currency, const std::string& reference) {
                 const auto money = make_money(amount, currency);
                 return to_py(with_hub(s, [&](Hub& hub) {
                     return settlement(hub).top_up(client, money, reference);
                 }));
             })
        .def("top_up_account",
             [](const Ref& s, const std::string& kind, const std::string& owner,
                std::int64_t amount, const std::string& currency, const std::string& reference) {
                 const auto ref = account_ref(kind, owner, currency);
                 const auto money = make_money(amount, currency);
                 return to_py(with_hub(
                     s, [&](Hub& hub) { return settlement(hub).top_up(ref, money, reference); }));
             })
        .def(
            "withdraw",
            [](const Ref& s, const std::string& kind, const std::string& owner, std::int64_t amount,
               const std::string& currency, const std::string& id, const std::string& reference) {
                const auto parsed = parse_account_kind(kind);
                const auto money = make_money(amount, currency);
                return to_py(with_hub(s, [&](Hub& hub) {
                    return settlement(hub).withdraw(parsed, owner, money, id, reference);
                }));
            })
        .def("account",
             [](const Ref& s, const std::string& kind, const std::string& owner,
                const std::string& currency) {
                 const auto ref = account_ref(kind, owner, currency);
                 return to_py(with_hub(s, [&](Hub& hub) { return settlement(hub).account(ref); }));
             })
        .def("accounts",
             [](const Ref& s, const std::optional<std::string>& kind) {
                 std::optional<AccountKind> parsed;
                 if (kind) {
                     parsed = parse_account_kind(*kind);
                 }
                 return to_py_list(
                     with_hub(s, [&](Hub& hub) { return settlement(hub).accounts(parsed); }));
             })
        .def("history",
             [](const Ref& s, const std::string& kind, const std::string& owner,
                const std::string& currency, std::int64_t limit) {
                 const auto ref = account_ref(kind, owner, currency);
                 return to_py_list(
                     with_hub(s, [&](Hub& hub) { return settlement(hub).history(ref, limit); }));
             })
        .def("transfer_by_id",
             [](const Ref& s, const std::string& id) {
                 return to_py(
                     with_hub(s, [&](Hub& hub) { return settlement(hub).transfer_by_id(id); }));
             })
        .def("deposits",
             [](const Ref& s) {
                 return with_hub(s, [](Hub& hub) { return settlement(hub).deposits(); });
             })
        .def("withdrawals",
             [](const Ref& s) {
                 return with_hub(s, [](Hub& hub) { return settlement(hub).withdrawals(); });
             })
        .def(
            "create_market_transaction",
            [](const Ref& s, const std::string& id, const std::string& type,
               const std::string& buyer_hub, const std::string& seller_hub, std::int64_t quantity,
               std::int64_t unit_price, const std::string& currency, const std::string& reference) {
                MarketRequest request;
                request.id = id;
                request.type = parse_market_type(type);
                request.buyer_hub = buyer_hub;
                request.seller_hub = seller_hub;
                request.quantity = quantity;
                request.unit_price = make_money(unit_price, currency);
                request.reference = reference;
                return to_py(with_hub(s, [&](Hub& hub) {
                    return settlement(hub).create_market_transaction(request);
                }));
            })
        .def("settle_market_transaction",
             [](const Ref& s, const std::string& id) {
                 return to_py(with_hub(
                     s, [&](Hub& hub) { return settlement(hub).settle_market_transaction(id); }));
             })
        .def("cancel_market_transaction",
             [](const Ref& s, const std::string& id) {
                 return to_py(with_hub(
                     s, [&](Hub& hub) { return settlement(hub).cancel_market_transaction(id); }));
             })
        .def("market_transaction",
             [](const Ref& s, const std::string& id) {
                 return to_py(
                     with_hub(s, [&](Hub& hub) { return settlement(hub).market_transaction(id); }));
             })
        .def("market_transactions",
             [](const Ref& s, const std::optional<std::string>& hub_id,
                const std::optional<std::string>& type, const std::optional<std::string>& status,
                std::int64_t limit) {
                 MarketFilter filter;
                 filter.hub = hub_id;
                 if (type) {
                     filter.type = parse_market_type(*type);
                 }
                 if (status) {
                     filter.status = parse_market_status(*status);
                 }
                 filter.limit = limit;
                 return to_py_list(with_hub(
                     s, [&](Hub& hub) { return settlement(hub).market_transactions(filter); }));
             })
        .def("worker_reputation",
             [](const Ref& s, const std::string& worker_id) {
                 return to_py(with_hub(
                     s, [&](Hub& hub) { return settlement(hub).worker_reputation(worker_id); }));
             })
        .def("hub_reputation",
             [](const Ref& s, const std::string& hub_id) {
                 return to_py(
                     with_hub(s, [&](Hub& hub) { return settlement(hub).hub_reputation(hub_id); }));
             })
        .def("reputations",
             [](const Ref& s, const std::string& subject) {
                 const auto parsed = reputation_subject(subject);
                 return to_py_list(
                     with_hub(s, [&](Hub& hub) { return settlement(hub).reputations(parsed); }));
             })
        .def("current_epoch",
             [](const Ref& s) {
                 return to_py(
                     with_hub(s, [](Hub& hub) { return settlement(hub).current_epoch(); }));
             })
        .def("seal_epoch",
             [](const Ref& s) {
                 return to_py(with_hub(s, [](Hub& hub) { return settlement(hub).seal_epoch(); }));
             })
        .def("seal_due_epoch",
             [](const Ref& s) -> py::object {
                 const auto epoch =
                     with_hub(s, [](Hub& hub) { return settlement(hub).seal_due_epoch(); });
                 return epoch ? py::object(to_py(*epoch)) : py::none();
             })
        .def("epoch",
             [](const Ref& s, const std::string& id) {
                 return to_py(with_hub(s, [&](Hub& hub) { return settlement(hub).epoch(id); }));
             })
        .def("epochs",
             [](const Ref& s) {
                 return to_py_list(with_hub(s, [](Hub& hub) { return settlement(hub).epochs(); }));
             })
        .def("epoch_jobs",
             [](const Ref& s, const std::string& id) {
                 return to_py_list(
                     with_hub(s, [&](Hub& hub) { return settlement(hub).epoch_jobs(id); }));
             })
        .def("epoch_payouts",
             [](const Ref& s, const std::string& id) {
                 return to_py_list(
                     with_hub(s, [&](Hub& hub) { return settlement(hub).epoch_payouts(id); }));
             })
        .def("epoch_bundle",
             [](const Ref& s, const std::string& id) {
                 return to_py(
                     with_hub(s, [&](Hub& hub) { return settlement(hub).epoch_bundle(id); }));
             })
        .def("receipt",
             [](const Ref& s, const std::string& job_id) {
                 return with_hub(s, [&](Hub& hub) { return settlement(hub).receipt(job_id); });
             })
        .def("index_json", [](const Ref& s) {
            return with_hub(s, [](Hub& hub) { return settlement(hub).index_json(); });
        });
}

}  // namespace sihlicon::python
