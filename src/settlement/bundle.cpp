// SPDX-License-Identifier: Apache-2.0
// An epoch's files (jobs.json, agents.json, SUMMARY.json, SIGNATURE.txt), the proof of
// execution, and offline receipt verification: pure functions, no hub.
#include "crypto/jcs.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/settlement.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <map>

namespace sihlicon {

namespace {

// A JSON string as RFC 8785 (ECMAScript JSON.stringify) writes it.
void append_string(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (byte < 0x20) {
                    out += "\\u00";
                    out += kHex[byte >> 4];
                    out += kHex[byte & 0xF];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

void append_member(std::string& out, std::string_view key, std::string_view value, bool first) {
    if (!first) {
        out += ',';
    }
    append_string(out, key);
    out += ':';
    append_string(out, value);
}

void append_member(std::string& out, std::string_view key, std::int64_t value) {
    out += ',';
    append_string(out, key);
    out += ':';
    out += std::to_string(value);
}

std::string sha256_hex(std::string_view bytes) {
    return crypto::to_hex(crypto::sha256(bytes));
}

ReceiptCheck refuse(ReceiptCheck check, std::string problem) {
    check.valid = false;
    check.problem = std::move(problem);
    return check;
}

const boost::json::string* string_at(const boost::json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    return value ? value->if_string() : nullptr;
}

std::optional<std::int64_t> integer_at(const boost::json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    if (value && value->is_int64()) {
        return value->as_int64();
    }
    if (value && value->is_uint64() && value->as_uint64() <= INT64_MAX) {
        return static_cast<std::int64_t>(value->as_uint64());
    }
    return std::nullopt;
}

}  // namespace

std::string proof_of_execution(std::string_view job_id, std::string_view result_hash,
                               std::string_view worker_id) {
    crypto::Sha256 hash;
    hash.update(job_id);
    hash.update(result_hash);
    hash.update(worker_id);
    return crypto::to_hex(hash.finish());
}

std::string EpochJob::leaf() const {
    // Members in JCS order (sorted by name); integers are within ±2^53.
    std::string out;
    out.reserve(320);
    out += '{';
    append_member(out, "client", client, true);
    append_member(out, "completed_at", completed_at.ms());
    append_member(out, "currency", fee.currency().code(), false);
    append_member(out, "fee", fee.minor_units());
    append_member(out, "hub", hub, false);
    append_member(out, "job_id", job_id, false);
    append_member(out, "job_type", job_type, false);
    append_member(out, "poe_hash", poe_hash, false);
    append_member(out, "result_hash", result_hash, false);
    append_member(out, "worker", worker, false);
    out += '}';
    return out;
}

EpochBundle build_epoch_bundle(const std::vector<EpochJob>& jobs, const EpochFigures& figures,
                               const crypto::Signer& signer) {
    std::vector<std::string> leaves;
    leaves.reserve(jobs.size());
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> clients;  // jobs, spent
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        if (i > 0 && !(jobs[i - 1].job_id < jobs[i].job_id)) {
            throw Error::invalid("jobs", jobs[i].job_id, "must be in strictly increasing id order");
        }
        leaves.push_back(jobs[i].leaf());
        auto& [count, spent] = clients[jobs[i].client];
        ++count;
        spent += jobs[i].fee.minor_units();
    }
    EpochBundle bundle;
    std::size_t total = 2;
    for (const auto& leaf : leaves) {
        total += leaf.size() + 1;
    }
    bundle.jobs_json.reserve(total);
    bundle.jobs_json += '[';
    for (std::size_t i = 0; i < leaves.size(); ++i) {
        if (i > 0) {
            bundle.jobs_json += ',';
        }
        bundle.jobs_json += leaves[i];
    }
    bundle.jobs_json += ']';
    const auto root = crypto::MerkleTree::from_leaves(leaves).root();

    // agents.json lists every worker's payout; the summary signs its hash and the totals
    // (like the clients below, so that a receipt, which carries the summary, stays small).
    boost::json::array agents_array;
    std::int64_t paid = 0;
    for (const auto& payout : figures.payouts) {
        boost::json::object agent{
            {"worker", payout.worker_id},
            {"jobs_completed", payout.jobs_completed},
            {"uptime_ms", payout.uptime_ms},
            {"work_share", payout.work_share.to_decimal_string()},
            {"readiness_share", payout.readiness_share.to_decimal_string()},
            {"total_payout", payout.total().to_decimal_string()},
        };
        paid += payout.total().minor_units();
        agents_array.push_back(agent);
    }
    bundle.agents_json = crypto::canonical_json(agents_array, "agents");
    // The clients in aggregate: a per-client map would grow every receipt (each carries the
    // summary) with the number of clients; each client's jobs are in jobs.json.
    std::int64_t spent = 0;
    for (const auto& [client, figures_of] : clients) {
        spent += figures_of.second;
    }
    const boost::json::object client_object{
        {"count", static_cast<std::int64_t>(clients.size())},
        {"jobs", static_cast<std::int64_t>(jobs.size())},
        {"spent", Money(spent, figures.revenue.currency()).to_decimal_string()}};
    const boost::json::object summary{
        {"epoch_id", figures.epoch_id},
        {"start", to_iso8601(figures.start)},
        {"end", to_iso8601(figures.end)},
        {"jobs_count", static_cast<std::int64_t>(jobs.size())},
        {"jobs_merkle_root", crypto::to_hex(root)},
        {"treasury",
         boost::json::object{
             {"currency", figures.revenue.currency().code()},
             {"revenue", figures.revenue.to_decimal_string()},
             {"protocol_fee", figures.protocol_fee.to_decimal_string()},
             {"operator_fee", figures.operator_fee.to_decimal_string()},
             {"work_pool", figures.work_pool.to_decimal_string()},
             {"readiness_pool", figures.readiness_pool.to_decimal_string()},
         }},
        {"agents",
         boost::json::object{
             {"count", static_cast<std::int64_t>(figures.payouts.size())},
             {"paid", Money(paid, figures.revenue.currency()).to_decimal_string()}}},
        {"clients", client_object},
        {"signer", signer.address().to_string()},
        {"artifacts",
         boost::json::object{
             {"jobs.json", sha256_hex(bundle.jobs_json)},
             {"agents.json", sha256_hex(bundle.agents_json)},
         }},
    };
    bundle.summary_json = crypto::canonical_json(summary, "summary");
    const auto signature = signer.sign_message(
        std::span(reinterpret_cast<const std::uint8_t*>(bundle.summary_json.data()),
                  bundle.summary_json.size()));
    bundle.signature_txt =
        fmt::format("{}\n{}\n", signer.address().to_string(), signature.to_hex());
    return bundle;
}

ReceiptCheck ReceiptVerifier::verify(std::string_view receipt_json,
                                     std::optional<crypto::Address> expected_signer) {
    ReceiptCheck check;
    try {
        boost::system::error_code error;
        unsigned char buffer[16384];
        boost::json::monotonic_resource memory(buffer, sizeof buffer);
        const auto parsed = boost::json::parse(receipt_json, error, &memory);
        if (error || !parsed.is_object()) {
            return refuse(check, "the receipt is not a JSON object");
        }
        const auto& receipt = parsed.as_object();
        const auto* job_id = string_at(receipt, "job_id");
        const auto* epoch_id = string_at(receipt, "epoch_id");
        const auto* leaf = string_at(receipt, "leaf");
        const auto* root_hex = string_at(receipt, "root");
        const auto* summary = string_at(receipt, "summary");
        const auto* signature_hex = string_at(receipt, "signature");
        const auto* signer_text = string_at(receipt, "signer");
        const auto index = integer_at(receipt, "leaf_index");
        const auto tree_size = integer_at(receipt, "tree_size");
        const auto* proof_value = receipt.if_contains("proof");
        if (!job_id || !epoch_id || !leaf || !root_hex || !summary || !signature_hex ||
            !signer_text || !index || !tree_size || !proof_value || !proof_value->is_array()) {
            return refuse(check, "the receipt lacks a field or has one of the wrong type");
        }
        check.job_id = std::string(*job_id);
        check.epoch_id = std::string(*epoch_id);
        // The summary: its signature is recovered and its fields read once per signature.
        auto known = verified_.find(std::string_view(*signature_hex));
        if (known == verified_.end() || known->second.summary != *summary ||
            known->second.signer_text != *signer_text) {
            const auto signer = crypto::Address::parse(*signer_text, "signer");
            check.signer = signer.to_string();
            const auto signature = crypto::Signature::parse(*signature_hex);
            if (!crypto::verify_message(std::string_view(*summary), signature, signer)) {
                return refuse(check, "the signature over the summary is not the signer's");
            }
            const auto summary_value = boost::json::parse(*summary, error);
            if (error || !summary_value.is_object()) {
                return refuse(check, "the summary is not a JSON object");
            }
            const auto& summary_object = summary_value.as_object();
            const auto* summary_root = string_at(summary_object, "jobs_merkle_root");
            const auto* summary_epoch = string_at(summary_object, "epoch_id");
            const auto jobs_count = integer_at(summary_object, "jobs_count");
            if (!summary_root || !summary_epoch || !jobs_count) {
                return refuse(check, "the summary lacks epoch_id, jobs_count or jobs_merkle_root");
            }
            known = verified_
                        .insert_or_assign(std::string(*signature_hex),
                                          VerifiedSummary{std::string(*summary), signer,
                                                          std::string(*signer_text), check.signer,
                                                          std::string(*summary_epoch),
                                                          std::string(*summary_root), *jobs_count})
                        .first;
        }
        const VerifiedSummary& verified = known->second;
        check.signer = verified.signer;
        if (expected_signer && !(*expected_signer == verified.address)) {
            return refuse(check, fmt::format("signed by {}, not by {}", verified.signer,
                                             expected_signer->to_string()));
        }
        if (verified.epoch_id != *epoch_id) {
            return refuse(check, "the summary is of another epoch");
        }
        if (verified.root != *root_hex) {
            return refuse(check, "the root is not the summary's jobs_merkle_root");
        }
        if (verified.jobs_count != *tree_size) {
            return refuse(check, "the tree size is not the summary's jobs_count");
        }
        const auto jobs_count = verified.jobs_count;
        const auto leaf_value = boost::json::parse(*leaf, error, &memory);
        const auto* leaf_job = !error && leaf_value.is_object()
                                   ? string_at(leaf_value.as_object(), "job_id")
                                   : nullptr;
        if (!leaf_job || *leaf_job != *job_id) {
            return refuse(check, "the leaf is not the record of the receipt's job");
        }
        std::vector<crypto::Hash256> proof;
        for (const auto& step : proof_value->as_array()) {
            if (!step.is_string()) {
                return refuse(check, "a proof step is not a string");
            }
            proof.push_back(crypto::hash_from_hex("proof", step.as_string()));
        }
        const auto root = crypto::hash_from_hex("root", *root_hex);
        if (*index < 0 || jobs_count < 0 ||
            !crypto::verify_inclusion(crypto::merkle_leaf_hash(std::string_view(*leaf)),
                                      static_cast<std::uint64_t>(*index),
                                      static_cast<std::uint64_t>(jobs_count), proof, root)) {
            return refuse(check, "the inclusion proof does not lead to the root");
        }
        check.valid = true;
        return check;
    } catch (const std::exception& error) {
        return refuse(check, error.what());
    }
}

ReceiptCheck verify_receipt(std::string_view receipt_json,
                            std::optional<crypto::Address> expected_signer) {
    ReceiptVerifier verifier;
    return verifier.verify(receipt_json, expected_signer);
}

}  // namespace sihlicon
