// SPDX-License-Identifier: Apache-2.0
#include "settlement/leaves.hpp"

#include "crypto/jcs.hpp"
#include "crypto/sha256_internal.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <sihlicon/checked.hpp>
#include <sihlicon/error.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <future>
#include <thread>

namespace sihlicon::settlement {

namespace {

// True for the bytes RFC 8785 (ECMAScript JSON.stringify) escapes in a string.
constexpr bool needs_escape(unsigned char byte) {
    return byte < 0x20 || byte == '"' || byte == '\\';
}

// A JSON string as RFC 8785 writes it: runs of plain bytes are copied whole.
void append_string(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    std::size_t run = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (!needs_escape(byte)) {
            continue;
        }
        out.append(text.data() + run, i - run);
        run = i + 1;
        switch (byte) {
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
                out += "\\u00";
                out += kHex[byte >> 4];
                out += kHex[byte & 0xF];
        }
    }
    out.append(text.data() + run, text.size() - run);
    out += '"';
}

// `"key":` for a key that needs no escaping, then the value.
void append_key(std::string& out, std::string_view quoted_key_colon) {
    out.append(quoted_key_colon);
}

void append_integer(std::string& out, std::int64_t value) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    out.append(digits, static_cast<std::size_t>(end - digits));
}

std::string sha256_hex(std::string_view bytes) {
    return crypto::to_hex(crypto::sha256(bytes));
}

}  // namespace

// A streaming LeafWriter hands its text over once it holds this much.
constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
constexpr std::size_t kTypicalLeaf = 330;  // ids, hashes and names of usual lengths

void JobsJsonStream::set_parts(std::size_t parts) {
    const std::lock_guard lock(mutex_);
    parts_.emplace(parts);
    changed_.notify_all();
}

void JobsJsonStream::append(std::size_t part, std::string chunk) {
    const std::lock_guard lock(mutex_);
    if (stopped_) {
        throw Error(ErrorCode::io, "jobs.json is no longer being stored");
    }
    (*parts_)[part].chunks.push_back(std::move(chunk));
    changed_.notify_all();
}

void JobsJsonStream::finish(std::size_t part) {
    const std::lock_guard lock(mutex_);
    (*parts_)[part].finished = true;
    changed_.notify_all();
}

void JobsJsonStream::fail(std::exception_ptr failure) {
    const std::lock_guard lock(mutex_);
    if (!failure_) {
        failure_ = std::move(failure);
    }
    changed_.notify_all();
}

void JobsJsonStream::stop() {
    const std::lock_guard lock(mutex_);
    stopped_ = true;
    if (parts_) {
        for (auto& part : *parts_) {
            part.chunks.clear();
        }
    }
}

bool JobsJsonStream::next_chunk() {
    chunk_ = std::string();  // frees the chunk handed out
    current_ = {};
    offset_ = 0;
    if (!opened_) {
        opened_ = true;
        current_ = "[";
        return true;
    }
    if (closed_) {
        return false;
    }
    std::unique_lock lock(mutex_);
    for (;;) {
        if (failure_) {
            std::rethrow_exception(failure_);
        }
        if (parts_ && part_ == parts_->size()) {
            closed_ = true;
            current_ = "]";
            return true;
        }
        if (parts_) {
            auto& part = (*parts_)[part_];
            if (!part.chunks.empty()) {
                if (!part.started && any_leaf_) {
                    part.started = true;
                    current_ = ",";  // between the last leaf of one part and the first of this
                    return true;
                }
                part.started = true;
                any_leaf_ = true;
                chunk_ = std::move(part.chunks.front());
                part.chunks.pop_front();
                current_ = chunk_;
                return true;
            }
            if (part.finished) {
                ++part_;
                continue;
            }
        }
        changed_.wait(lock);
    }
}

std::size_t JobsJsonStream::read(std::span<std::uint8_t> buffer) {
    std::size_t given = 0;
    while (given < buffer.size()) {
        if (offset_ == current_.size()) {
            if (!next_chunk()) {
                break;
            }
            continue;
        }
        const auto take = std::min(buffer.size() - given, current_.size() - offset_);
        std::memcpy(buffer.data() + given, current_.data() + offset_, take);
        given += take;
        offset_ += take;
    }
    hash_.update(buffer.first(given));
    if (given == 0 && !digest_) {
        digest_ = crypto::to_hex(hash_.finish());
    }
    return given;
}

std::string JobsJsonStream::sha256_hex() {
    if (!digest_) {
        throw Error(ErrorCode::internal, "jobs.json's hash asked for before its end was read");
    }
    return *digest_;
}

std::size_t leaf_threads(std::size_t leaves) {
    if (leaves < 32'768) {
        return 1;
    }
    return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 8);
}

void append_leaf(std::string& out, const LeafFields& f) {
    // Members in JCS order (sorted by name).
    append_key(out, "{\"client\":");
    append_string(out, f.client);
    append_key(out, ",\"completed_at\":");
    append_integer(out, f.completed_at);
    append_key(out, ",\"currency\":");
    append_string(out, f.currency);
    append_key(out, ",\"fee\":");
    append_integer(out, f.fee);
    append_key(out, ",\"hub\":");
    append_string(out, f.hub);
    append_key(out, ",\"job_id\":");
    append_string(out, f.job_id);
    append_key(out, ",\"job_type\":");
    append_string(out, f.job_type);
    append_key(out, ",\"poe_hash\":");
    append_string(out, f.poe_hash);
    append_key(out, ",\"result_hash\":");
    append_string(out, f.result_hash);
    append_key(out, ",\"worker\":");
    append_string(out, f.worker);
    out += '}';
}

LeafWriter::LeafWriter(bool first_part, std::size_t expected_leaves, std::size_t reserve_leaves) {
    json_.reserve(std::max(expected_leaves, reserve_leaves) * kTypicalLeaf + 2);
    hashes_.reserve(expected_leaves);
    if (first_part) {
        json_ += '[';
    }
}

LeafWriter::LeafWriter(JobsJsonStream* stream, std::size_t part, std::size_t expected_leaves)
    : streaming_(true), stream_(stream), part_(part) {
    json_.reserve(kChunkBytes + 4 * kTypicalLeaf);
    hashes_.reserve(expected_leaves);
}

void LeafWriter::hand_over() {
    if (!stream_) {
        json_.clear();
    } else if (!json_.empty()) {
        stream_->append(part_, std::move(json_));
        json_ = std::string();
        json_.reserve(kChunkBytes + 4 * kTypicalLeaf);
    }
}

void LeafWriter::close() {
    hand_over();
    if (stream_) {
        stream_->finish(part_);
    }
}

void LeafWriter::add(const LeafFields& fields) {
    if (!hashes_.empty()) {
        json_ += ',';
    }
    const auto begin = json_.size();
    append_leaf(json_, fields);
    hashes_.push_back(
        crypto::merkle_leaf_hash(std::string_view(json_).substr(begin, json_.size() - begin)));
    if ((hashes_.size() - 1) % kMarkEvery == 0) {
        marks_.push_back(LeafMark{std::string(fields.job_id), hashes_.size() - 1});
    }
    // An epoch's fees were all captured into escrow, whose balance the journal keeps in int64,
    // so their sum fits too; it is still checked rather than trusted.
    revenue_ = checked::add(revenue_, fields.fee, "epoch revenue");
    if (const auto found = jobs_of_.find(fields.worker); found != jobs_of_.end()) {
        ++found->second;
    } else {
        jobs_of_.emplace(std::string(fields.worker), 1);
    }
    if (!clients_.contains(fields.client)) {
        clients_.emplace(fields.client);
    }
    if (streaming_ && json_.size() >= kChunkBytes) {
        hand_over();
    }
}

EpochLeaves LeafWriter::join(std::vector<LeafWriter>& parts) {
    EpochLeaves leaves;
    if (parts.empty()) {
        leaves.jobs_json = "[]";
        return leaves;
    }
    const bool streamed = parts.front().streaming_;
    std::size_t bytes = 1;
    std::size_t count = 0;
    for (const auto& part : parts) {
        bytes += part.json_.size() + 1;
        count += part.hashes_.size();
    }
    if (!streamed) {
        leaves.jobs_json = std::move(parts.front().json_);
        leaves.jobs_json.reserve(bytes);
    }
    std::size_t first_index = 0;  // of the part in the epoch
    for (auto& part : parts) {
        for (auto& mark : part.marks_) {
            leaves.marks.push_back(LeafMark{std::move(mark.job_id), first_index + mark.index});
        }
        first_index += part.hashes_.size();
    }
    leaves.hashes = std::move(parts.front().hashes_);
    leaves.hashes.reserve(count);
    std::unordered_set<std::string_view> clients;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        auto& part = parts[i];
        if (i > 0 && !part.hashes_.empty()) {
            if (!streamed) {
                if (leaves.jobs_json.size() > 1) {
                    leaves.jobs_json += ',';
                }
                leaves.jobs_json += part.json_;
            }
            leaves.hashes.insert(leaves.hashes.end(), part.hashes_.begin(), part.hashes_.end());
        }
        leaves.revenue = checked::add(leaves.revenue, part.revenue_, "epoch revenue");
        for (const auto& [worker, jobs] : part.jobs_of_) {
            leaves.jobs_of[worker] += jobs;
        }
        for (const auto& client : part.clients_) {
            clients.insert(client);
        }
    }
    if (!streamed) {
        leaves.jobs_json += ']';
    }
    leaves.clients = static_cast<std::int64_t>(clients.size());
    return leaves;
}

EpochBundle bundle_from_leaves(EpochLeaves& leaves, const EpochFigures& figures,
                               const crypto::Signer& signer,
                               const std::function<std::string()>& jobs_json_sha256) {
    EpochBundle bundle;
    const auto count = static_cast<std::int64_t>(leaves.hashes.size());
    const auto root = crypto::MerkleTree(std::move(leaves.hashes)).root();
    leaves.hashes.clear();

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
    const boost::json::object client_object{
        {"count", leaves.clients},
        {"jobs", count},
        {"spent", Money(leaves.revenue, figures.revenue.currency()).to_decimal_string()}};
    const boost::json::object summary{
        {"epoch_id", figures.epoch_id},
        {"start", to_iso8601(figures.start)},
        {"end", to_iso8601(figures.end)},
        {"jobs_count", count},
        {"jobs_merkle_root", crypto::to_hex(root)},
        {"previous_root", figures.previous_root.empty()
                              ? boost::json::value(nullptr)
                              : boost::json::value(figures.previous_root)},
        {"total_distributed", Money(paid, figures.revenue.currency()).to_decimal_string()},
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
             {"jobs.json", jobs_json_sha256()},
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

}  // namespace sihlicon::settlement
