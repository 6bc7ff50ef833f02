// SPDX-License-Identifier: Apache-2.0
#include "hub/settings_store.hpp"

#include "core/json.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace sihlicon::detail {

namespace {

constexpr std::string_view kUploadKey = "defaultUploadBytesPerHour";
constexpr std::string_view kTotalKey = "defaultTotalBytes";

std::int64_t last_change(store::Transaction& tx) {
    auto row = tx.prepare("SELECT COALESCE(MAX(seq), 0) FROM settings_changes");
    row.step();
    return row.column_int64(0);
}

// The settings rows as one JSON object, without the quota keys.
HubSettings read_rows(store::Transaction& tx) {
    boost::json::object stored;
    auto row = tx.prepare("SELECT key, value FROM settings ORDER BY key");
    while (row.step()) {
        stored[row.column_text(0)] = json::parse(row.column_text(1), "stored setting");
    }
    return HubSettings::from_json(json::serialize(stored));
}

}  // namespace

HubSettings read_settings(store::Transaction& tx) {
    auto settings = read_rows(tx);
    auto row =
        tx.prepare("SELECT upload_bytes_per_hour, total_bytes FROM cas_quotas WHERE owner = '*'");
    if (row.step()) {
        settings.default_upload_bytes_per_hour = row.column_int64(0);
        settings.default_total_bytes = row.column_optional_int64(1);
    }
    return settings;
}

HubSettings write_settings(store::Transaction& tx, const HubSettings& next, std::string_view by,
                           Timestamp at) {
    next.validate();
    const auto before = read_settings(tx);
    const auto old_object = json::parse(before.to_json(), "settings").as_object();
    const auto new_object = json::parse(next.to_json(), "settings").as_object();
    bool quota_changed = false;
    for (const auto& [key, value] : new_object) {
        const auto old_text = json::serialize(old_object.at(key));
        const auto new_text = json::serialize(value);
        if (old_text == new_text) {
            continue;
        }
        if (key == kUploadKey || key == kTotalKey) {
            quota_changed = true;
        } else {
            tx.prepare(
                  "INSERT INTO settings (key, value) VALUES (?, ?) "
                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind_all(std::string_view(key), new_text)
                .run();
        }
        tx.prepare("INSERT INTO settings_changes (at, by, key, old, new) VALUES (?, ?, ?, ?, ?)")
            .bind_all(at.ms(), by, std::string_view(key), old_text, new_text)
            .run();
    }
    if (quota_changed) {
        tx.prepare(
              "INSERT INTO cas_quotas (owner, upload_bytes_per_hour, total_bytes) VALUES ('*', ?, "
              "?) "
              "ON CONFLICT (owner) DO UPDATE SET upload_bytes_per_hour = "
              "excluded.upload_bytes_per_hour, "
              "total_bytes = excluded.total_bytes")
            .bind_all(next.default_upload_bytes_per_hour, next.default_total_bytes)
            .run();
    }
    return next;
}

std::vector<SettingsChange> read_settings_history(store::Transaction& tx, std::int64_t after_seq,
                                                  std::int64_t limit) {
    if (limit < 1 || limit > 10'000) {
        throw Error::invalid("limit", std::to_string(limit), "must be 1 to 10,000");
    }
    std::vector<SettingsChange> changes;
    auto row = tx.prepare(
        "SELECT seq, at, by, key, old, new FROM settings_changes WHERE seq > ? ORDER BY seq "
        "LIMIT ?");
    row.bind_all(after_seq, limit);
    while (row.step()) {
        changes.push_back(SettingsChange{
            row.column_int64(0), Timestamp::from_ms(row.column_int64(1)), row.column_text(2),
            row.column_text(3), row.column_text(4), row.column_text(5)});
    }
    return changes;
}

std::shared_ptr<const HubSettings> SettingsCache::get(store::Transaction& tx) {
    const auto version = last_change(tx);
    {
        std::lock_guard lock(mutex_);
        if (value_ && version == version_) {
            return value_;
        }
    }
    auto loaded = std::make_shared<const HubSettings>(read_settings(tx));
    std::lock_guard lock(mutex_);
    version_ = version;
    value_ = loaded;
    return loaded;
}

}  // namespace sihlicon::detail
