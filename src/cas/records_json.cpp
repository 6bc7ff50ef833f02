// SPDX-License-Identifier: Apache-2.0
//
// The JSON of the content store's small records, shared by the CLI, the C ABI and the
// bindings' tests.
#include "core/json.hpp"

#include <sihlicon/content_store.hpp>
#include <sihlicon/error.hpp>

#include <limits>

namespace sihlicon {

std::string NamedReference::to_json() const {
    return json::serialize(boost::json::object{{"name", name},
                                               {"version", version},
                                               {"contentId", content_id},
                                               {"owner", owner},
                                               {"createdAt", to_iso8601(created_at)}});
}

std::string ReplicaRecord::to_json() const {
    return json::serialize(boost::json::object{{"contentId", content_id},
                                               {"hubId", hub_id},
                                               {"state", to_string(state)},
                                               {"updatedAt", to_iso8601(updated_at)}});
}

std::string RepairAction::to_json() const {
    return json::serialize(
        boost::json::object{{"contentId", content_id},
                            {"targetHubId", target_hub_id},
                            {"sourceHubIds", json::string_array(source_hub_ids)}});
}

std::string ScrubReport::to_json() const {
    boost::json::array list;
    for (const auto& problem : problems) {
        list.push_back(
            boost::json::object{{"blockCid", problem.block_cid},
                                {"tier", to_string(problem.tier)},
                                {"problem", problem.problem},
                                {"contentIds", json::string_array(problem.content_ids)}});
    }
    return json::serialize(boost::json::object{
        {"blocksChecked", blocks_checked}, {"bytesChecked", bytes_checked}, {"problems", list}});
}

PutOptions PutOptions::from_json(std::string_view text) {
    const auto value = json::parse(text, "metadata");
    if (!value.is_object()) {
        throw Error::invalid("metadata", std::string(text.substr(0, 64)), "must be a JSON object");
    }
    json::ObjectReader reader(value, "");
    PutOptions options;
    // Lengths and ranges are checked by the put itself (one rule, in content_store.cpp); the
    // bounds here only keep each value readable.
    options.file_name = reader.optional_string("fileName", 4096);
    options.mime_type = reader.optional_string("mimeType", 4096);
    if (auto tier = reader.optional_string("storageTier", 64)) {
        options.storage_tier = parse_storage_tier(*tier, "storageTier");
    }
    if (auto level = reader.optional_string("accessLevel", 64)) {
        options.access_level = parse_access_level(*level, "accessLevel");
    }
    if (auto replicas = reader.optional_int64("minReplicas", std::numeric_limits<int>::min(),
                                              std::numeric_limits<int>::max())) {
        options.min_replicas = static_cast<int>(*replicas);
    }
    options.source_hub_id = reader.optional_string("sourceHubId", 4096);
    if (const auto* metadata = reader.optional_value("metadata")) {
        if (!metadata->is_object()) {
            throw Error::invalid("metadata", json::serialize(*metadata), "must be a JSON object");
        }
        options.metadata_json = json::serialize(*metadata);
    }
    if (auto regions = reader.optional_string_array("allowedRegions", 256, 64)) {
        options.allowed_regions = std::move(*regions);
    }
    reader.finish();
    return options;
}

std::string Quota::to_json() const {
    return json::serialize(boost::json::object{
        {"uploadBytesPerHour", upload_bytes_per_hour},
        {"totalBytes", total_bytes ? boost::json::value(*total_bytes) : boost::json::value()}});
}

}  // namespace sihlicon
