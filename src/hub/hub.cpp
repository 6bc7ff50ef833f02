// SPDX-License-Identifier: Apache-2.0
#include "hub/hub_internal.hpp"
#include "store/schema.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/version.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <system_error>

namespace sihlicon {

namespace {

constexpr std::string_view kDatabaseFile = "hub.db";
constexpr std::string_view kBlobFolder = "blobs";

store::DatabaseOptions database_options(const HubOptions& options) {
    store::DatabaseOptions result;
    result.create_if_missing = options.create_if_missing;
    result.busy_timeout = options.busy_timeout;
    result.durability = options.durability == Durability::power_loss ? store::Durability::full
                                                                     : store::Durability::normal;
    switch (options.integrity_check) {
        case IntegrityCheck::none:
            result.integrity_check = store::IntegrityCheck::none;
            break;
        case IntegrityCheck::quick:
            result.integrity_check = store::IntegrityCheck::quick;
            break;
        case IntegrityCheck::full:
            result.integrity_check = store::IntegrityCheck::full;
            break;
    }
    result.reader_connections = options.reader_connections;
    result.commit_interval = options.commit_interval;
    return result;
}

// Makes sure `directory` exists (or reports that no hub is there).
void prepare_directory(const std::filesystem::path& directory, bool create) {
    std::error_code error;
    const auto status = std::filesystem::status(directory, error);
    if (std::filesystem::exists(status)) {
        if (!std::filesystem::is_directory(status)) {
            throw Error::invalid("directory", directory.string(), "exists and is not a directory");
        }
        return;
    }
    if (!create) {
        throw Error(ErrorCode::not_found, fmt::format("no hub at {}", directory.string()),
                    "directory");
    }
    std::filesystem::create_directories(directory, error);
    if (error) {
        throw Error(ErrorCode::io,
                    fmt::format("cannot create {}: {}", directory.string(), error.message()),
                    "directory");
    }
}

void make_blob_folder(const std::filesystem::path& folder) {
    std::error_code error;
    std::filesystem::create_directory(folder, error);
    if (error || !std::filesystem::is_directory(folder, error)) {
        throw Error(ErrorCode::io, fmt::format("cannot create the blob folder {}: {}",
                                               folder.string(), error.message()));
    }
}

// Records the hub's identity once, at creation; later opens keep the first values. Initial
// settings are written in the same transaction when no setting was ever stored.
void record_identity(store::Database& database, IdGenerator& ids, const Clock& clock,
                     const std::optional<HubSettings>& initial_settings) {
    database.write([&](store::Transaction& tx) {
        const bool created = [&] {
            auto existing = tx.prepare("SELECT 1 FROM hub_meta WHERE key = 'instance_id'");
            return !existing.step();
        }();
        const std::pair<std::string_view, std::string> facts[] = {
            {"instance_id", ids.next("hub")},
            {"created_at", std::to_string(clock.now().ms())},
            {"created_by_version", library_version()},
        };
        for (const auto& [key, value] : facts) {
            tx.prepare(
                  "INSERT INTO hub_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING")
                .bind_all(key, value)
                .run();
        }
        // A hub upgraded from a version without stored settings has none yet: its first open
        // with initial settings stores them (what its processes ran with before).
        const bool never_set = [&] {
            auto any = tx.prepare("SELECT 1 FROM settings_changes LIMIT 1");
            return !any.step();
        }();
        if ((created || never_set) && initial_settings) {
            detail::write_settings(tx, *initial_settings, "initial_settings", clock.now());
        }
    });
}

void require_operator(std::string_view by) {
    if (by != kOperatorPrincipal) {
        throw Error(
            ErrorCode::permission_denied,
            fmt::format("'{}' may not change the hub's settings: only the operator may", by), "by");
    }
}

std::string meta_value(store::Transaction& tx, std::string_view key) {
    auto statement = tx.prepare("SELECT value FROM hub_meta WHERE key = ?");
    statement.bind_all(key);
    if (!statement.step()) {
        throw Error(ErrorCode::integrity, fmt::format("hub_meta has no '{}'", key));
    }
    return statement.column_text(0);
}

std::int64_t file_size_or_zero(const std::filesystem::path& path) {
    std::error_code error;
    const auto size = std::filesystem::file_size(path, error);
    return error ? 0 : static_cast<std::int64_t>(size);
}

}  // namespace

Hub::Hub(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Hub::Hub(Hub&&) noexcept = default;
Hub& Hub::operator=(Hub&&) noexcept = default;
Hub::~Hub() = default;

Hub Hub::open(const std::filesystem::path& directory, const HubOptions& options) {
    if (directory.empty()) {
        throw Error::invalid("directory", "", "must name a folder");
    }
    auto impl = std::make_unique<Impl>();
    detail::HubCore& core = impl->core;
    core.directory = directory;
    core.blob_directory = directory / kBlobFolder;
    core.durability = options.durability;
    core.clock = options.clock ? options.clock : system_clock();
    core.ids = std::make_unique<IdGenerator>(core.clock);
    const auto settings = database_options(options);  // validated by the database below
    if (options.initial_settings) {
        options.initial_settings->validate();
    }

    prepare_directory(directory, options.create_if_missing);
    const auto database_path = directory / kDatabaseFile;
    std::error_code error;
    if (!options.create_if_missing && !std::filesystem::exists(database_path, error)) {
        throw Error(ErrorCode::not_found,
                    fmt::format("no hub at {} (no {})", directory.string(), kDatabaseFile),
                    "directory");
    }
    core.database = std::make_unique<store::Database>(database_path, settings);
    store::migrate(*core.database, store::hub_migrations(), core.now().ms());
    record_identity(*core.database, *core.ids, *core.clock, options.initial_settings);
    make_blob_folder(core.blob_directory);
    // (services: constructed here, each with a reference to `core`)
    impl->scheduler = std::make_unique<Scheduler>(core, options.scheduler);
    impl->content_store = std::make_unique<ContentStore>(core);
    impl->heat_ledger = std::make_unique<HeatLedger>(core);
    impl->settlement = std::make_unique<Settlement>(core, *impl->scheduler, *impl->content_store,
                                                    *impl->heat_ledger, options.settlement);
    return Hub(std::move(impl));
}

const std::filesystem::path& Hub::directory() const {
    return impl_->core.directory;
}
const std::filesystem::path& Hub::blob_directory() const {
    return impl_->core.blob_directory;
}
const Clock& Hub::clock() const {
    return *impl_->core.clock;
}

Scheduler& Hub::scheduler() const {
    return *impl_->scheduler;
}

ContentStore& Hub::content_store() const {
    return *impl_->content_store;
}

HeatLedger& Hub::heat_ledger() const {
    return *impl_->heat_ledger;
}

Settlement& Hub::settlement() const {
    return *impl_->settlement;
}

HubSettings Hub::settings() const {
    return impl_->core.database->read(
        [&](store::Transaction& tx) { return detail::read_settings(tx); });
}

HubSettings Hub::update_settings(const HubSettings& next, std::string_view by) {
    require_operator(by);
    auto& core = impl_->core;
    return core.database->write(
        [&](store::Transaction& tx) { return detail::write_settings(tx, next, by, core.now()); });
}

HubSettings Hub::patch_settings(std::string_view patch_json, std::string_view by) {
    require_operator(by);
    auto& core = impl_->core;
    return core.database->write([&](store::Transaction& tx) {
        const auto next = HubSettings::from_json(patch_json, detail::read_settings(tx));
        return detail::write_settings(tx, next, by, core.now());
    });
}

HubSettings Hub::set_setting(std::string_view key, std::string_view value_text,
                             std::string_view by) {
    require_operator(by);
    auto& core = impl_->core;
    return core.database->write([&](store::Transaction& tx) {
        const auto next = detail::read_settings(tx).with(key, value_text);
        return detail::write_settings(tx, next, by, core.now());
    });
}

std::vector<SettingsChange> Hub::settings_history(std::int64_t after_seq,
                                                  std::int64_t limit) const {
    return impl_->core.database->read([&](store::Transaction& tx) {
        return detail::read_settings_history(tx, after_seq, limit);
    });
}

int Hub::latest_schema_version() {
    return static_cast<int>(store::hub_migrations().size());
}

HubInfo Hub::info() const {
    const detail::HubCore& core = impl_->core;
    HubInfo info;
    info.directory = core.directory.string();
    info.database_path = core.database->path().string();
    info.blob_directory = core.blob_directory.string();
    info.latest_schema_version = latest_schema_version();
    info.library_version = library_version();
    core.database->read([&](store::Transaction& tx) {
        info.schema_version = store::schema_version(tx);
        info.instance_id = meta_value(tx, "instance_id");
        info.created_at = Timestamp::from_ms(std::stoll(meta_value(tx, "created_at")));
        info.created_by_version = meta_value(tx, "created_by_version");
        for (const auto& counted : store::counted_tables()) {
            // Table names come from our own constant list, never from input.
            auto statement = tx.prepare(fmt::format("SELECT COUNT(*) FROM {}", counted.table));
            statement.step();
            info.counts.emplace_back(counted.label, statement.column_int64(0));
        }
    });
    info.database_bytes = file_size_or_zero(core.database->path()) +
                          file_size_or_zero(core.database->path().string() + "-wal");
    return info;
}

std::string HubInfo::to_json() const {
    boost::json::object counts_object;
    for (const auto& [label, count] : counts) {
        counts_object[label] = count;
    }
    const boost::json::object object{
        {"directory", directory},
        {"databasePath", database_path},
        {"blobDirectory", blob_directory},
        {"schemaVersion", schema_version},
        {"latestSchemaVersion", latest_schema_version},
        {"libraryVersion", library_version},
        {"createdByVersion", created_by_version},
        {"instanceId", instance_id},
        {"createdAt", to_iso8601(created_at)},
        {"databaseBytes", database_bytes},
        {"counts", counts_object},
    };
    return boost::json::serialize(object);
}

}  // namespace sihlicon
