// SPDX-License-Identifier: Apache-2.0
//
// The JSON of the content store's small records, shared by the CLI, the C ABI and the
// bindings' tests.
#include "core/json.hpp"

#include <sihlicon/content_store.hpp>

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

std::string Quota::to_json() const {
    return json::serialize(boost::json::object{
        {"uploadBytesPerHour", upload_bytes_per_hour},
        {"totalBytes", total_bytes ? boost::json::value(*total_bytes) : boost::json::value()}});
}

}  // namespace sihlicon
