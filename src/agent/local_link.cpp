// SPDX-License-Identifier: Apache-2.0
//
// The HubLink of a Hub open in this process (include/sihlicon/hub_link.hpp): every call is the
// hub's own.
#include "core/json.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/hub_link.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <fstream>

namespace sihlicon {

HubLink::~HubLink() = default;

namespace {
constexpr std::int64_t kMaxIntervalMs = 7LL * 24 * 3600 * 1000;
constexpr std::int64_t kMaxWatts = 1'000'000'000;
}  // namespace

std::string LinkTerms::to_json() const {
    return json::serialize(boost::json::object{
        {"heartbeatIntervalMs", heartbeat_interval.count()},
        {"leaseDurationMs", lease_duration.count()},
        {"wattsPerCore", power_model.watts_per_core},
        {"wattsPerGpu", power_model.watts_per_gpu},
    });
}

LinkTerms LinkTerms::from_json(std::string_view text) {
    const auto value = json::parse(text);
    json::ObjectReader reader(value, "terms");
    const auto required = [&](std::string_view key, std::int64_t min, std::int64_t max) {
        const auto number = reader.optional_int64(key, min, max);
        if (!number) {
            throw Error::invalid(reader.path_of(key), "", "is required");
        }
        return *number;
    };
    LinkTerms terms;
    terms.heartbeat_interval =
        std::chrono::milliseconds(required("heartbeatIntervalMs", 1, kMaxIntervalMs));
    terms.lease_duration =
        std::chrono::milliseconds(required("leaseDurationMs", 1, kMaxIntervalMs));
    terms.power_model.watts_per_core = required("wattsPerCore", 0, kMaxWatts);
    terms.power_model.watts_per_gpu = required("wattsPerGpu", 0, kMaxWatts);
    reader.finish();
    return terms;
}

namespace {

class LocalHubLink final : public HubLink {
  public:
    explicit LocalHubLink(Hub& hub) : hub_(hub) {}

    std::string describe() const override {
        return fmt::format("hub {}", hub_.directory().string());
    }
    std::optional<std::filesystem::path> hub_directory() const override { return hub_.directory(); }
    std::shared_ptr<const Clock> clock() const override {
        return {&hub_.clock(), [](const Clock*) {}};
    }

    LinkTerms register_worker(const WorkerSpec& spec) override {
        LinkTerms terms;
        terms.worker = hub_.scheduler().register_worker(spec);
        const auto site = hub_.scheduler().hub(spec.hub_id);
        terms.power_model = PowerModel{site.spec.watts_per_core, site.spec.watts_per_gpu};
        terms.heartbeat_interval = hub_.settings().heartbeat_interval;
        terms.lease_duration = hub_.scheduler().options().lease_duration;
        return terms;
    }
    WorkerRecord heartbeat(std::string_view worker_id, const Heartbeat& beat) override {
        return hub_.scheduler().heartbeat(worker_id, beat);
    }
    std::vector<ClaimedJob> claim(std::string_view worker_id, std::int64_t max) override {
        return hub_.scheduler().claim(worker_id, max);
    }
    Lease renew(std::string_view job_id, std::string_view token) override {
        return hub_.scheduler().renew(job_id, token);
    }
    JobRecord complete(std::string_view job_id, std::string_view token,
                       const JobCompletion& completion) override {
        return hub_.scheduler().complete(job_id, token, completion);
    }
    JobRecord fail(std::string_view job_id, std::string_view token, std::string_view error,
                   bool retryable) override {
        return hub_.scheduler().fail(job_id, token, error, retryable);
    }
    WorkerRecord set_worker_status(std::string_view worker_id, WorkerStatus status) override {
        return hub_.scheduler().set_worker_status(worker_id, status);
    }

    std::optional<std::string> fetch_input(const ClaimedJob& claimed, std::string_view cid,
                                           const std::filesystem::path& destination) override {
        auto& store = hub_.content_store();
        const auto& owner = claimed.job.spec.owner;
        const auto manifest = store.stat(cid, owner);
        std::ofstream file(destination, std::ios::binary | std::ios::trunc);
        store.get(cid, owner, [&](std::span<const std::uint8_t> bytes) {
            file.write(reinterpret_cast<const char*>(bytes.data()),
                       static_cast<std::streamsize>(bytes.size()));
        });
        file.close();
        if (!file) {
            throw Error(ErrorCode::io, fmt::format("cannot write {}", destination.string()),
                        "input");
        }
        return manifest.file_name;
    }

    Manifest store_output(const ClaimedJob& claimed, const std::filesystem::path& path,
                          std::string_view file_name) override {
        PutOptions put;
        put.file_name = std::string(file_name);
        return hub_.content_store().put_file(path, claimed.job.spec.owner, put);
    }

  private:
    Hub& hub_;
};

}  // namespace

std::unique_ptr<HubLink> make_local_hub_link(Hub& hub) {
    return std::make_unique<LocalHubLink>(hub);
}

}  // namespace sihlicon
