// SPDX-License-Identifier: Apache-2.0
// An epoch's files (jobs.json, agents.json, SUMMARY.json, SIGNATURE.txt), the proof of
// execution, and offline receipt verification: pure functions, no hub.
#include "core/json.hpp"
#include "crypto/jcs.hpp"
#include "settlement/leaves.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/settlement.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <future>
#include <map>
#include <thread>

namespace sihlicon {

namespace {

ReceiptCheck refuse(ReceiptCheck check, std::string problem) {
    check.status = ReceiptStatus::invalid;
    check.valid = false;
    check.problem = std::move(problem);
    return check;
}

// The verdict on a receipt whose proof holds: who signed it decides.
ReceiptCheck judge_signer(ReceiptCheck check, const crypto::Address& signer,
                          const std::vector<crypto::Address>& trusted_signers) {
    check.signer_trusted =
        std::find(trusted_signers.begin(), trusted_signers.end(), signer) != trusted_signers.end();
    if (check.signer_trusted) {
        check.status = ReceiptStatus::valid;
        check.valid = true;
        check.problem.clear();
        return check;
    }
    if (trusted_signers.empty()) {
        check.status = ReceiptStatus::unverified;
        check.valid = false;
        check.problem = fmt::format(
            "signature unverified: no trusted signer was given, and the receipt's own signer {} "
            "proves nothing (give the operator's address or the hub)",
            check.signer);
        return check;
    }
    std::string trusted;
    for (const auto& address : trusted_signers) {
        trusted.append(trusted.empty() ? "" : ", ").append(address.to_string());
    }
    return refuse(check, fmt::format("signed by {}, which is not a trusted signer ({})",
                                     check.signer, trusted));
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
    std::string out;
    out.reserve(320);
    settlement::append_leaf(
        out,
        settlement::LeafFields{client, completed_at.ms(), fee.currency().code(), fee.minor_units(),
                               hub, job_id, job_type, poe_hash, result_hash, worker});
    return out;
}

EpochBundle build_epoch_bundle(const std::vector<EpochJob>& jobs, const EpochFigures& figures,
                               const crypto::Signer& signer) {
    for (std::size_t i = 1; i < jobs.size(); ++i) {
        if (!(jobs[i - 1].job_id < jobs[i].job_id)) {
            throw Error::invalid("jobs", jobs[i].job_id, "must be in strictly increasing id order");
        }
    }
    // Contiguous parts written (and their leaves hashed) on their own threads, then joined.
    const std::size_t count =
        std::max<std::size_t>(1, std::min(settlement::leaf_threads(jobs.size()), jobs.size()));
    std::vector<settlement::LeafWriter> parts;
    const std::size_t per_part = (jobs.size() + count - 1) / std::max<std::size_t>(count, 1);
    for (std::size_t p = 0; p < count; ++p) {
        parts.emplace_back(p == 0, per_part, p == 0 ? jobs.size() : 0);
    }
    const auto write_part = [&](std::size_t p) {
        const auto end = std::min(jobs.size(), (p + 1) * per_part);
        for (std::size_t i = p * per_part; i < end; ++i) {
            const auto& job = jobs[i];
            parts[p].add(settlement::LeafFields{
                job.client, job.completed_at.ms(), job.fee.currency().code(), job.fee.minor_units(),
                job.hub, job.job_id, job.job_type, job.poe_hash, job.result_hash, job.worker});
        }
    };
    {
        std::vector<std::jthread> threads;
        for (std::size_t p = 1; p < count; ++p) {
            threads.emplace_back(write_part, p);
        }
        write_part(0);
    }
    auto leaves = settlement::LeafWriter::join(parts);
    // The hash of jobs.json on one thread while the tree is built on the others.
    auto jobs_hash = std::async(
        std::launch::async, [&leaves] { return crypto::to_hex(crypto::sha256(leaves.jobs_json)); });
    auto bundle =
        settlement::bundle_from_leaves(leaves, figures, signer, [&] { return jobs_hash.get(); });
    bundle.jobs_json = std::move(leaves.jobs_json);
    return bundle;
}

ReceiptCheck ReceiptVerifier::verify(std::string_view receipt_json,
                                     const std::vector<crypto::Address>& trusted_signers) {
    ReceiptCheck check;
    try {
        const auto parsed = json::parse(receipt_json, "receipt");
        if (!parsed.is_object()) {
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
            const auto summary_value = json::parse(*summary, "summary");
            if (!summary_value.is_object()) {
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
        const auto leaf_value = json::parse(*leaf, "leaf");
        const auto* leaf_job =
            leaf_value.is_object() ? string_at(leaf_value.as_object(), "job_id") : nullptr;
        if (!leaf_job || *leaf_job != *job_id) {
            return refuse(check, "the leaf is not the record of the receipt's job");
        }
        std::vector<crypto::Hash256> proof;
        proof.reserve(proof_value->as_array().size());
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
        return judge_signer(std::move(check), verified.address, trusted_signers);
    } catch (const std::exception& error) {
        return refuse(check, error.what());
    }
}

ReceiptCheck ReceiptVerifier::verify(std::string_view receipt_json,
                                     const crypto::Address& trusted_signer) {
    return verify(receipt_json, std::vector<crypto::Address>{trusted_signer});
}

ReceiptCheck verify_receipt(std::string_view receipt_json,
                            const std::vector<crypto::Address>& trusted_signers) {
    ReceiptVerifier verifier;
    return verifier.verify(receipt_json, trusted_signers);
}

ReceiptCheck verify_receipt(std::string_view receipt_json, const crypto::Address& trusted_signer) {
    return verify_receipt(receipt_json, std::vector<crypto::Address>{trusted_signer});
}

std::string_view to_string(ReceiptStatus status) noexcept {
    switch (status) {
        case ReceiptStatus::valid:
            return "valid";
        case ReceiptStatus::unverified:
            return "unverified";
        case ReceiptStatus::invalid:
            break;
    }
    return "invalid";
}

}  // namespace sihlicon
