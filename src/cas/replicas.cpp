// SPDX-License-Identifier: Apache-2.0
//
// Replica placement (rendezvous hashing), the repair plan, scrub and garbage collection.
#include "cas/cas_internal.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>
#include <openssl/rand.h>
#include <xxhash.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <random>
#include <set>

namespace sihlicon {

namespace cas {

namespace {

bool contains(const std::vector<std::string>& values, const std::string& value) {
    return std::find(values.begin(), values.end(), value) != values.end();
}

std::uint64_t rendezvous_score(std::string_view content_id, std::string_view hub_id) {
    std::string key;
    key.reserve(content_id.size() + 1 + hub_id.size());
    key.append(content_id).append("/").append(hub_id);
    return XXH3_64bits(key.data(), key.size());
}

}  // namespace

std::vector<HubPlace> all_hubs(store::Transaction& tx) {
    auto row = tx.prepare("SELECT id, site, region FROM hubs ORDER BY id");
    std::vector<HubPlace> hubs;
    while (row.step()) {
        hubs.push_back({row.column_text(0), row.column_text(1), row.column_text(2)});
    }
    return hubs;
}

void check_source_hub(store::Transaction& tx, const std::optional<std::string>& source_hub_id) {
    if (!source_hub_id) {
        return;
    }
    const auto hubs = all_hubs(tx);
    if (std::none_of(hubs.begin(), hubs.end(),
                     [&](const HubPlace& hub) { return hub.id == *source_hub_id; })) {
        throw Error(ErrorCode::not_found,
                    fmt::format("sourceHubId '{}' names no registered hub", *source_hub_id),
                    "sourceHubId");
    }
}

std::vector<std::string> place_replicas(std::string_view content_id,
                                        const std::vector<HubPlace>& hubs, std::size_t count,
                                        const std::vector<std::string>& allowed_regions,
                                        const std::vector<std::string>& excluded,
                                        const std::vector<std::string>& used_sites) {
    std::vector<std::pair<std::uint64_t, const HubPlace*>> ranked;
    for (const auto& hub : hubs) {
        if ((allowed_regions.empty() || contains(allowed_regions, hub.region)) &&
            !contains(excluded, hub.id)) {
            ranked.emplace_back(rendezvous_score(content_id, hub.id), &hub);
        }
    }
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second->id < b.second->id;
    });
    std::vector<std::string> chosen;
    std::vector<std::string> sites = used_sites;
    for (const auto& [score, hub] : ranked) {  // distinct sites first
        if (chosen.size() < count && !contains(sites, hub->site)) {
            chosen.push_back(hub->id);
            sites.push_back(hub->site);
        }
    }
    for (const auto& [score, hub] : ranked) {  // then any hub left
        if (chosen.size() < count && !contains(chosen, hub->id)) {
            chosen.push_back(hub->id);
        }
    }
    return chosen;
}

}  // namespace cas

namespace {

void set_replica_state(detail::HubCore& core, std::string_view content_id, std::string_view hub_id,
                       ReplicaState state) {
    const std::string id = Cid::parse(content_id, "contentId").to_string();
    if (hub_id.empty()) {
        throw Error::invalid("hubId", hub_id, "must not be empty");
    }
    core.database->write([&](store::Transaction& tx) {
        if (!cas::manifest_exists(tx, id)) {
            throw Error(ErrorCode::not_found, fmt::format("no content {}", id), "contentId");
        }
        auto hub = tx.prepare("SELECT 1 FROM hubs WHERE id = ?");
        hub.bind_all(hub_id);
        if (!hub.step()) {
            throw Error(ErrorCode::not_found, fmt::format("no hub {}", hub_id), "hubId");
        }
        tx.prepare(
              "INSERT INTO cas_replicas (content_id, hub_id, state, updated_at) VALUES (?, ?, ?, "
              "?) "
              "ON CONFLICT (content_id, hub_id) DO UPDATE SET state = excluded.state, "
              "updated_at = excluded.updated_at")
            .bind_all(id, hub_id, to_string(state), core.now().ms())
            .run();
    });
}

ReplicaState parse_replica_state(const std::string& text) {
    for (const auto state : {ReplicaState::wanted, ReplicaState::pinned, ReplicaState::failed}) {
        if (text == to_string(state)) {
            return state;
        }
    }
    throw Error(ErrorCode::integrity, fmt::format("unknown replica state '{}'", text));
}

}  // namespace

std::vector<ReplicaRecord> ContentStore::replicas(std::string_view content_id,
                                                  std::string_view principal) const {
    const std::string id = Cid::parse(content_id, "contentId").to_string();
    return impl_->core.database->read([&](store::Transaction& tx) {
        if (!cas::readable(tx, id, principal)) {
            throw cas::no_content(id);
        }
        auto row = tx.prepare(
            "SELECT hub_id, state, updated_at FROM cas_replicas WHERE content_id = ? "
            "ORDER BY hub_id");
        row.bind_all(id);
        std::vector<ReplicaRecord> records;
        while (row.step()) {
            records.push_back({id, row.column_text(0), parse_replica_state(row.column_text(1)),
                               Timestamp::from_ms(row.column_int64(2))});
        }
        return records;
    });
}

void ContentStore::confirm_replica(std::string_view content_id, std::string_view hub_id) {
    set_replica_state(impl_->core, content_id, hub_id, ReplicaState::pinned);
}

void ContentStore::fail_replica(std::string_view content_id, std::string_view hub_id) {
    set_replica_state(impl_->core, content_id, hub_id, ReplicaState::failed);
}

std::vector<RepairAction> ContentStore::repair_plan(std::span<const std::string> offline_hub_ids) {
    const std::vector<std::string> offline(offline_hub_ids.begin(), offline_hub_ids.end());
    const Timestamp now = impl_->core.now();
    return impl_->core.database->write([&](store::Transaction& tx) {
        const auto hubs = cas::all_hubs(tx);
        std::map<std::string, const cas::HubPlace*> by_id;
        std::vector<cas::HubPlace> online;
        for (const auto& hub : hubs) {
            by_id[hub.id] = &hub;
            if (!std::count(offline.begin(), offline.end(), hub.id)) {
                online.push_back(hub);
            }
        }
        // The strictest wish among a content's manifests: most replicas, first region list.
        struct Need {
            int min_replicas = 0;
            std::vector<std::string> regions;
        };
        std::map<std::string, Need> needs;
        {
            auto row = tx.prepare(
                "SELECT content_id, min_replicas, allowed_regions FROM cas_manifests "
                "ORDER BY content_id, created_at");
            while (row.step()) {
                auto& need = needs[row.column_text(0)];
                need.min_replicas =
                    std::max(need.min_replicas, static_cast<int>(row.column_int64(1)));
                if (need.regions.empty() && !row.column_text(2).empty()) {
                    const std::string regions = row.column_text(2);
                    std::size_t start = 0;
                    while (start <= regions.size()) {
                        const auto comma = regions.find(',', start);
                        const auto end = comma == std::string::npos ? regions.size() : comma;
                        need.regions.push_back(regions.substr(start, end - start));
                        start = end + 1;
                    }
                }
            }
        }
        std::vector<RepairAction> actions;
        for (const auto& [content_id, need] : needs) {
            std::vector<std::string> live;
            std::vector<std::string> pinned;
            std::vector<std::string> excluded = offline;
            std::vector<std::string> used_sites;
            auto row = tx.prepare("SELECT hub_id, state FROM cas_replicas WHERE content_id = ?");
            row.bind_all(content_id);
            while (row.step()) {
                const std::string hub = row.column_text(0);
                const std::string state = row.column_text(1);
                excluded.push_back(hub);
                if (state == "failed" || std::count(offline.begin(), offline.end(), hub)) {
                    continue;
                }
                live.push_back(hub);
                if (by_id.count(hub)) {
                    used_sites.push_back(by_id[hub]->site);
                }
                if (state == "pinned") {
                    pinned.push_back(hub);
                }
            }
            const auto wanted = static_cast<std::size_t>(need.min_replicas);
            if (live.size() >= wanted) {
                continue;
            }
            const auto targets = cas::place_replicas(content_id, online, wanted - live.size(),
                                                     need.regions, excluded, used_sites);
            for (const auto& target : targets) {
                tx.prepare(
                      "INSERT INTO cas_replicas (content_id, hub_id, state, updated_at) "
                      "VALUES (?, ?, 'wanted', ?) ON CONFLICT (content_id, hub_id) DO UPDATE "
                      "SET state = 'wanted', updated_at = excluded.updated_at")
                    .bind_all(content_id, target, now.ms())
                    .run();
                actions.push_back({content_id, target, pinned});
            }
        }
        return actions;
    });
}

ScrubReport ContentStore::scrub(const ScrubOptions& options) {
    struct Entry {
        std::string block;
        StorageTier tier;
    };
    std::vector<Entry> entries;
    std::string instance_id;
    impl_->core.database->read([&](store::Transaction& tx) {
        auto row = tx.prepare(
            "SELECT DISTINCT d.block_cid, m.storage_tier FROM cas_dag_blocks d JOIN cas_manifests "
            "m ON m.content_id = d.root_cid ORDER BY d.block_cid, m.storage_tier");
        while (row.step()) {
            entries.push_back({row.column_text(0), parse_storage_tier(row.column_text(1))});
        }
        auto meta = tx.prepare("SELECT value FROM hub_meta WHERE key = 'instance_id'");
        if (meta.step()) {
            instance_id = meta.column_text(0);
        }
    });
    if (options.sample_blocks && *options.sample_blocks < entries.size()) {
        std::uint64_t seed = 0;
        RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed);
        std::vector<Entry> sample;
        std::sample(entries.begin(), entries.end(), std::back_inserter(sample),
                    static_cast<std::ptrdiff_t>(*options.sample_blocks), std::mt19937_64(seed));
        entries = std::move(sample);
    }
    ScrubReport report;
    for (const auto& entry : entries) {
        const Cid cid = Cid::parse(entry.block);
        const auto bytes = impl_->backend->read(entry.tier, cid);
        ++report.blocks_checked;
        std::string problem;
        if (!bytes) {
            problem = "missing";
        } else {
            report.bytes_checked += static_cast<std::int64_t>(bytes->size());
            try {
                cas::verify_block(cid, *bytes);
            } catch (const Error&) {
                problem = "corrupt";
            }
        }
        if (!problem.empty()) {
            report.problems.push_back({entry.block, entry.tier, problem, {}});
        }
    }
    if (report.problems.empty()) {
        return report;
    }
    impl_->core.database->write([&](store::Transaction& tx) {
        for (auto& problem : report.problems) {
            problem.content_ids.clear();
            auto row = tx.prepare(
                "SELECT DISTINCT d.root_cid FROM cas_dag_blocks d JOIN cas_manifests m ON "
                "m.content_id = d.root_cid WHERE d.block_cid = ? AND m.storage_tier = ? "
                "ORDER BY d.root_cid");
            row.bind_all(problem.block_cid, to_string(problem.tier));
            while (row.step()) {
                problem.content_ids.push_back(row.column_text(0));
            }
            for (const auto& content_id : problem.content_ids) {
                tx.prepare(
                      "UPDATE cas_replicas SET state = 'failed', updated_at = ? "
                      "WHERE content_id = ? AND hub_id = ?")
                    .bind_all(impl_->core.now().ms(), content_id, instance_id)
                    .run();
            }
        }
    });
    return report;
}

std::int64_t ContentStore::collect_garbage() {
    std::unique_lock exclusive(impl_->blocks_mutex);
    // Reads only, but a read may first have to commit what the write log holds: on a full
    // disk, with the reserve's room.
    const auto removed = impl_->freeing_space([&] {
        std::int64_t count = impl_->drop_abandoned_puts();
        for (const auto tier : {StorageTier::hot, StorageTier::cold, StorageTier::glacier}) {
            std::vector<Cid> stored;
            impl_->backend->for_each(tier, [&](const Cid& cid) { stored.push_back(cid); });
            const std::size_t before = stored.size();
            std::vector<Cid> remaining;
            impl_->drop_unreferenced(tier, stored);
            impl_->backend->for_each(tier, [&](const Cid& cid) { remaining.push_back(cid); });
            count += static_cast<std::int64_t>(before - remaining.size());
        }
        return count;
    });
    impl_->reserve.refill();
    return removed;
}

}  // namespace sihlicon
