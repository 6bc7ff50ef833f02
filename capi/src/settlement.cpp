// SPDX-License-Identifier: Apache-2.0
//
// Settlement from C: the journal, the operator key, the marketplace, reputation, epochs,
// receipts (verified offline through typed functions).
#include "capi_internal.hpp"

#include <sihlicon/settlement.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

namespace sihlicon::capi {

namespace {

Settlement& settlement(sih_hub* hub) {
    return required(hub, "hub").hub.settlement();
}

// "kind/owner/currency" → AccountRef; the owner may itself hold slashes.
AccountRef account_ref(const char* id, std::string_view field) {
    const auto value = text(id, field);
    const auto first = value.find('/');
    const auto last = value.rfind('/');
    if (first == std::string_view::npos || first == last) {
        throw Error::invalid(field, value, "must be \"kind/owner/currency\"");
    }
    AccountRef ref;
    ref.kind = parse_account_kind(value.substr(0, first), field);
    ref.owner = std::string(value.substr(first + 1, last - first - 1));
    ref.currency = Currency::of(value.substr(last + 1));
    return ref;
}

AccountRef account_ref(const std::string& id, std::string_view field) {
    return account_ref(id.c_str(), field);
}

std::string money_json(const Money& money) {
    return json::serialize(boost::json::object{{"amount", money.to_decimal_string()},
                                               {"currency", money.currency().code()},
                                               {"minorUnits", money.minor_units()}});
}

std::string totals_json(const std::map<std::string, std::int64_t>& totals) {
    boost::json::object object;
    for (const auto& [currency, minor] : totals) {
        object[currency] = minor;
    }
    return json::serialize(object);
}

template <std::size_t N>
void copy_truncated(char (&target)[N], std::string_view value) {
    auto size = std::min(value.size(), N - 1);
    // Never cut a UTF-8 sequence in half.
    while (size > 0 && size < value.size() &&
           (static_cast<unsigned char>(value[size]) & 0xC0) == 0x80) {
        --size;
    }
    std::memcpy(target, value.data(), size);
    target[size] = '\0';
}

sih_receipt_check typed(const ReceiptCheck& check) {
    sih_receipt_check result{};
    result.valid = check.valid ? 1 : 0;
    result.status = static_cast<int>(check.status);
    result.signer_trusted = check.signer_trusted ? 1 : 0;
    copy_truncated(result.problem, check.problem);
    copy_truncated(result.job_id, check.job_id);
    copy_truncated(result.epoch_id, check.epoch_id);
    copy_truncated(result.signer, check.signer);
    return result;
}

// "0xA,0xB" (or NULL, or "") as addresses; the C form of a list of trusted signers.
std::vector<crypto::Address> trusted(const char* signers) {
    std::vector<crypto::Address> addresses;
    const std::string_view list = signers == nullptr ? std::string_view() : signers;
    for (std::size_t start = 0; start < list.size();) {
        const auto comma = std::min(list.find(',', start), list.size());
        addresses.push_back(
            crypto::Address::parse(list.substr(start, comma - start), "trusted_signers"));
        start = comma + 1;
    }
    return addresses;
}

std::string joined(const std::vector<crypto::Address>& addresses) {
    std::string list;
    for (const auto& address : addresses) {
        list.append(list.empty() ? "" : ",").append(address.to_string());
    }
    return list;
}

std::string_view receipt_text(const char* receipt_json, std::size_t size) {
    return {&required(receipt_json, "receipt_json"), size};
}

}  // namespace

}  // namespace sihlicon::capi

using namespace sihlicon;
using capi::give;
using capi::guard;
using capi::settlement;
using capi::text;

extern "C" {

sih_status sih_settlement_options(sih_hub* hub, char** out_json) {
    return guard([&] { give(out_json, capi::required(hub, "hub").hub.settings().to_json()); });
}

sih_status sih_settlement_operator_address(sih_hub* hub, char** out_address) {
    return guard([&] { give(out_address, settlement(hub).operator_address().to_string()); });
}

sih_status sih_settlement_trusted_signers(sih_hub* hub, char** out_signers) {
    return guard([&] { give(out_signers, capi::joined(settlement(hub).trusted_signers())); });
}

sih_status sih_settlement_price_of(sih_hub* hub, const char* job_type, char** out_json) {
    return guard([&] {
        give(out_json, capi::money_json(settlement(hub).price_of(text(job_type, "job_type"))));
    });
}

sih_status sih_settlement_charge_of(sih_hub* hub, const char* job_id, char** out_json) {
    return guard([&] {
        const auto charge = settlement(hub).charge_of(text(job_id, "job_id"));
        give(out_json, charge ? charge->to_json() : std::string("null"));
    });
}

sih_status sih_settlement_operator_key_file(sih_hub* hub, char** out_path) {
    return guard([&] { give(out_path, settlement(hub).operator_key_file().string()); });
}

sih_status sih_settlement_generate_operator_key(sih_hub* hub, int replace_signer,
                                                char** out_address) {
    return guard([&] {
        give(out_address, settlement(hub).generate_operator_key(replace_signer != 0).to_string());
    });
}

sih_status sih_settlement_import_operator_key(sih_hub* hub, const char* private_key_hex,
                                              int replace_signer, char** out_address) {
    return guard([&] {
        auto& service = settlement(hub);
        const auto key =
            crypto::PrivateKey::parse(text(private_key_hex, "private_key_hex"), "private_key_hex");
        give(out_address, service.import_operator_key(key, replace_signer != 0).to_string());
    });
}

sih_status sih_settlement_transfer(sih_hub* hub, const char* request_json, char** out_json) {
    return guard([&] {
        auto& service = settlement(hub);
        const auto value = json::parse(text(request_json, "request_json"), "request_json");
        json::ObjectReader reader(value, "");
        TransferRequest request;
        request.id = reader.required_string("id", 200);
        request.debit = capi::account_ref(reader.required_string("debit", 256), "debit");
        request.credit = capi::account_ref(reader.required_string("credit", 256), "credit");
        request.amount =
            Money::parse(reader.required_string("amount", 40), request.debit.currency, "amount");
        if (auto kind = reader.optional_string("kind", 32)) {
            request.kind = parse_transfer_kind(*kind);
        }
        request.reference = reader.optional_string("reference", 256).value_or("");
        request.pending = reader.optional_bool("pending").value_or(false);
        if (auto timeout = reader.optional_int64("timeoutAt", 0, INT64_MAX)) {
            request.timeout_at = Timestamp::from_ms(*timeout);
        }
        reader.finish();
        give(out_json, service.transfer(request).to_json());
    });
}

sih_status sih_settlement_post_pending(sih_hub* hub, const char* id, const char* pending_id,
                                       const char* amount, char** out_json) {
    return guard([&] {
        auto& service = settlement(hub);
        const auto pending = text(pending_id, "pending_id");
        std::optional<Money> captured;
        if (amount != nullptr) {
            const auto stored = service.transfer_by_id(pending);
            captured = capi::money(amount, stored.amount.currency(), "amount");
        }
        give(out_json, service.post_pending(text(id, "id"), pending, captured).to_json());
    });
}

sih_status sih_settlement_void_pending(sih_hub* hub, const char* id, const char* pending_id,
                                       char** out_json) {
    return guard([&] {
        give(
            out_json,
            settlement(hub).void_pending(text(id, "id"), text(pending_id, "pending_id")).to_json());
    });
}

sih_status sih_settlement_expire_pending(sih_hub* hub, int64_t* out_expired) {
    return guard([&] { give(out_expired, settlement(hub).expire_pending()); });
}

sih_status sih_settlement_top_up(sih_hub* hub, const char* account_id, const char* amount,
                                 const char* external_reference, char** out_json) {
    return guard([&] {
        auto& service = settlement(hub);
        const auto ref = capi::account_ref(account_id, "account_id");
        const auto money = capi::money(amount, ref.currency, "amount");
        give(out_json,
             service.top_up(ref, money, text(external_reference, "external_reference")).to_json());
    });
}

sih_status sih_settlement_withdraw(sih_hub* hub, const char* account_id, const char* amount,
                                   const char* id, const char* external_reference,
                                   char** out_json) {
    return guard([&] {
        auto& service = settlement(hub);
        const auto ref = capi::account_ref(account_id, "account_id");
        const auto money = capi::money(amount, ref.currency, "amount");
        give(out_json, service
                           .withdraw(ref.kind, ref.owner, money, text(id, "id"),
                                     external_reference != nullptr ? external_reference : "")
                           .to_json());
    });
}

sih_status sih_settlement_account(sih_hub* hub, const char* account_id, char** out_json) {
    return guard([&] {
        auto& service = settlement(hub);
        give(out_json, service.account(capi::account_ref(account_id, "account_id")).to_json());
    });
}

sih_status sih_settlement_accounts(sih_hub* hub, const char* kind, char** out_json) {
    return guard([&] {
        auto& service = settlement(hub);
        std::optional<AccountKind> wanted;
        if (kind != nullptr) {
            wanted = parse_account_kind(kind);
        }
        give(out_json, json::join_array(service.accounts(wanted)));
    });
}

sih_status sih_settlement_history(sih_hub* hub, const char* account_id, int64_t limit,
                                  char** out_json) {
    return guard([&] {
        auto& service = settlement(hub);
        give(out_json,
             json::join_array(service.history(capi::account_ref(account_id, "account_id"), limit)));
    });
}

sih_status sih_settlement_transfer_by_id(sih_hub* hub, const char* id, char** out_json) {
    return guard([&] { give(out_json, settlement(hub).transfer_by_id(text(id, "id")).to_json()); });
}

sih_status sih_settlement_deposits(sih_hub* hub, char** out_json) {
    return guard([&] { give(out_json, capi::totals_json(settlement(hub).deposits())); });
}

sih_status sih_settlement_withdrawals(sih_hub* hub, char** out_json) {
    return guard([&] { give(out_json, capi::totals_json(settlement(hub).withdrawals())); });
}

sih_status sih_settlement_create_market_transaction(sih_hub* hub, const char* request_json,
                                                    char** out_json) {
    return guard([&] {
        auto& service = settlement(hub);
        const auto value = json::parse(text(request_json, "request_json"), "request_json");
        json::ObjectReader reader(value, "");
        MarketRequest request;
        request.id = reader.required_string("id", 200);
        request.type = parse_market_type(reader.required_string("type", 32));
        request.buyer_hub = reader.required_string("buyerHub", 64);
        request.seller_hub = reader.required_string("sellerHub", 64);
        const auto quantity = reader.optional_int64("quantity", 1, INT64_MAX);
        if (!quantity) {
            throw Error::invalid("quantity", "", "is required");
        }
        request.quantity = *quantity;
        const auto currency =
            Currency::of(reader.optional_string("currency", 3)
                             .value_or(std::string(hub->hub.settings().currency.code())));
        request.unit_price =
            Money::parse(reader.required_string("unitPrice", 40), currency, "unitPrice");
        request.reference = reader.optional_string("reference", 256).value_or("");
        reader.finish();
        give(out_json, service.create_market_transaction(request).to_json());
    });
}

sih_status sih_settlement_settle_market_transaction(sih_hub* hub, const char* id, char** out_json) {
    return guard([&] {
        give(out_json, settlement(hub).settle_market_transaction(text(id, "id")).to_json());
    });
}

sih_status sih_settlement_cancel_market_transaction(sih_hub* hub, const char* id, char** out_json) {
    return guard([&] {
        give(out_json, settlement(hub).cancel_market_transaction(text(id, "id")).to_json());
    });
}

sih_status sih_settlement_market_transaction(sih_hub* hub, const char* id, char** out_json) {
    return guard(
        [&] { give(out_json, settlement(hub).market_transaction(text(id, "id")).to_json()); });
}

sih_status sih_settlement_market_transactions(sih_hub* hub, const char* filter_json,
                                              char** out_json) {
    return guard([&] {
        auto& service = settlement(hub);
        const auto value = capi::json_argument(filter_json, "filter_json");
        json::ObjectReader reader(value, "");
        MarketFilter filter;
        filter.hub = reader.optional_string("hub", 64);
        if (auto type = reader.optional_string("type", 32)) {
            filter.type = parse_market_type(*type);
        }
        if (auto status = reader.optional_string("status", 32)) {
            filter.status = parse_market_status(*status);
        }
        filter.limit = reader.optional_int64("limit", 1, 10'000).value_or(filter.limit);
        reader.finish();
        give(out_json, json::join_array(service.market_transactions(filter)));
    });
}

sih_status sih_settlement_worker_reputation(sih_hub* hub, const char* worker_id, char** out_json) {
    return guard([&] {
        give(out_json, settlement(hub).worker_reputation(text(worker_id, "worker_id")).to_json());
    });
}

sih_status sih_settlement_hub_reputation(sih_hub* hub, const char* hub_id, char** out_json) {
    return guard(
        [&] { give(out_json, settlement(hub).hub_reputation(text(hub_id, "hub_id")).to_json()); });
}

sih_status sih_settlement_reputations(sih_hub* hub, const char* subject, char** out_json) {
    return guard([&] {
        auto& service = settlement(hub);
        const auto name = text(subject, "subject");
        ReputationSubject parsed;
        if (name == "worker") {
            parsed = ReputationSubject::worker;
        } else if (name == "hub") {
            parsed = ReputationSubject::hub;
        } else {
            throw Error::invalid("subject", name, "must be \"worker\" or \"hub\"");
        }
        give(out_json, json::join_array(service.reputations(parsed)));
    });
}

sih_status sih_settlement_current_epoch(sih_hub* hub, char** out_json) {
    return guard([&] { give(out_json, settlement(hub).current_epoch().to_json()); });
}

sih_status sih_settlement_seal_epoch(sih_hub* hub, char** out_json) {
    return guard([&] { give(out_json, settlement(hub).seal_epoch().to_json()); });
}

sih_status sih_settlement_seal_due_epoch(sih_hub* hub, char** out_json) {
    return guard([&] {
        const auto sealed = settlement(hub).seal_due_epoch();
        give(out_json, sealed ? sealed->to_json() : std::string("null"));
    });
}

sih_status sih_settlement_epoch(sih_hub* hub, const char* epoch_id, char** out_json) {
    return guard(
        [&] { give(out_json, settlement(hub).epoch(text(epoch_id, "epoch_id")).to_json()); });
}

sih_status sih_settlement_epochs(sih_hub* hub, char** out_json) {
    return guard([&] { give(out_json, json::join_array(settlement(hub).epochs())); });
}

sih_status sih_settlement_epoch_jobs(sih_hub* hub, const char* epoch_id, char** out_json) {
    return guard([&] {
        const auto jobs = settlement(hub).epoch_jobs(text(epoch_id, "epoch_id"));
        give(out_json, json::join_array(jobs, [](const EpochJob& job) { return job.leaf(); }));
    });
}

sih_status sih_settlement_epoch_payouts(sih_hub* hub, const char* epoch_id, char** out_json) {
    return guard([&] {
        give(out_json, json::join_array(settlement(hub).epoch_payouts(text(epoch_id, "epoch_id"))));
    });
}

sih_status sih_settlement_epoch_bundle(sih_hub* hub, const char* epoch_id, char** out_json) {
    return guard([&] {
        const auto bundle = settlement(hub).epoch_bundle(text(epoch_id, "epoch_id"));
        give(out_json,
             json::serialize(boost::json::object{{"jobs.json", bundle.jobs_json},
                                                 {"agents.json", bundle.agents_json},
                                                 {"SUMMARY.json", bundle.summary_json},
                                                 {"SIGNATURE.txt", bundle.signature_txt}}));
    });
}

sih_status sih_settlement_receipt(sih_hub* hub, const char* job_id, char** out_json) {
    return guard([&] { give(out_json, settlement(hub).receipt(text(job_id, "job_id"))); });
}

sih_status sih_settlement_index(sih_hub* hub, char** out_json) {
    return guard([&] { give(out_json, settlement(hub).index_json()); });
}

sih_status sih_proof_of_execution(const char* job_id, const char* result_hash,
                                  const char* worker_id, char** out_hex) {
    return guard([&] {
        give(out_hex, proof_of_execution(text(job_id, "job_id"), text(result_hash, "result_hash"),
                                         text(worker_id, "worker_id")));
    });
}

sih_status sih_receipt_verify(const char* receipt_json, size_t receipt_size,
                              const char* trusted_signers, sih_receipt_check* out_check) {
    return guard([&] {
        const auto receipt = capi::receipt_text(receipt_json, receipt_size);
        auto& out = capi::required(out_check, "out_check");
        out = capi::typed(verify_receipt(receipt, capi::trusted(trusted_signers)));
    });
}

sih_status sih_eip191_sign(const char* private_key, const uint8_t* message, size_t length,
                           char** out_signature) {
    return guard([&] {
        const auto key = crypto::PrivateKey::parse(text(private_key, "private_key"));
        if (message == nullptr && length > 0) {
            throw Error::invalid("message", "NULL", "is NULL with a length above 0");
        }
        give(out_signature, key.sign_message(std::span(message, length)).to_hex());
    });
}

sih_status sih_eip191_verify(const uint8_t* message, size_t length, const char* signature,
                             const char* address, int* out_valid) {
    return guard([&] {
        if (message == nullptr && length > 0) {
            throw Error::invalid("message", "NULL", "is NULL with a length above 0");
        }
        const auto parsed = crypto::Signature::parse(text(signature, "signature"));
        const auto signer = crypto::Address::parse(text(address, "address"), "address");
        auto& valid = capi::required(out_valid, "out_valid");
        valid = crypto::verify_message(std::span(message, length), parsed, signer) ? 1 : 0;
    });
}

sih_status sih_receipt_verifier_new(sih_receipt_verifier** out_verifier) {
    return guard([&] {
        capi::required(out_verifier, "out_verifier");
        *out_verifier = new sih_receipt_verifier();
    });
}

sih_status sih_receipt_verifier_verify(sih_receipt_verifier* verifier, const char* receipt_json,
                                       size_t receipt_size, const char* trusted_signers,
                                       sih_receipt_check* out_check) {
    return guard([&] {
        auto& checker = capi::required(verifier, "verifier");
        const auto receipt = capi::receipt_text(receipt_json, receipt_size);
        auto& out = capi::required(out_check, "out_check");
        out = capi::typed(checker.verifier.verify(receipt, capi::trusted(trusted_signers)));
    });
}

void sih_receipt_verifier_destroy(sih_receipt_verifier** verifier) {
    if (verifier != nullptr) {
        delete *verifier;
        *verifier = nullptr;
    }
}

}  // extern "C"
