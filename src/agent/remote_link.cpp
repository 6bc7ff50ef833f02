// SPDX-License-Identifier: Apache-2.0
//
// The HubLink of a `sihlicon serve` over HTTP(S) (include/sihlicon/hub_link.hpp): the workers
// API of server.hpp through net/http_client.hpp, inputs verified through agent/car_input.hpp.
#include "agent/car_input.hpp"
#include "core/json.hpp"
#include "net/http_client.hpp"
#include "scheduler/job_spec.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/hub_link.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>

namespace sihlicon {

namespace {

using std::chrono::milliseconds;

// Heartbeats, claims and renewals come again at the next beat: each retries only this long, so
// that one of them never holds up the others (a renewal must not wait behind a heartbeat).
constexpr milliseconds kPeriodicBudget{5'000};

// The job path segment of a URL: ids are [A-Za-z0-9._-], checked again by the server.
std::string segment(std::string_view text, std::string_view field) {
    if (text.empty() || text.size() > 128 || !std::all_of(text.begin(), text.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' ||
                   c == '-';
        })) {
        throw Error::invalid(field, printable(text, 128), "is not a path segment of the API");
    }
    return std::string(text);
}

std::string percent_encoded(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (std::isalnum(byte) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out += c;
        } else {
            out += fmt::format("%{:02X}", byte);
        }
    }
    return out;
}

// The library error of an answer that is not 2xx: the code the server named in its details
// (api.cpp's one table made it from that code), else one that fits the status.
Error error_of(const net::HttpResult& result, std::string_view what) {
    std::string message = fmt::format("HTTP {}", result.status);
    std::string field;
    std::optional<ErrorCode> code;
    try {
        const auto value = boost::json::parse(result.body);
        if (const auto* object = value.if_object()) {
            if (const auto* error = object->if_contains("error"); error && error->is_string()) {
                message = std::string(error->get_string());
            }
            if (const auto* details = object->if_contains("details");
                details && details->is_object()) {
                const auto& d = details->get_object();
                if (const auto* name = d.if_contains("code"); name && name->is_string()) {
                    code = error_code_from_string(name->get_string());
                }
                if (const auto* f = d.if_contains("field"); f && f->is_string()) {
                    field = std::string(f->get_string());
                }
            }
        }
    } catch (const std::exception&) {
        // Not the contract's error body: the status decides.
    }
    if (!code) {
        switch (result.status) {
            case 400:
            case 413:
                code = ErrorCode::invalid_argument;
                break;
            case 401:
            case 403:
                code = ErrorCode::permission_denied;
                break;
            case 402:
                code = ErrorCode::insufficient_funds;
                break;
            case 404:
                code = ErrorCode::not_found;
                break;
            case 409:
                code = ErrorCode::conflict;
                break;
            case 429:
                code = ErrorCode::quota_exceeded;
                break;
            case 503:
                code = ErrorCode::busy;
                break;
            default:
                code = ErrorCode::io;
        }
    }
    return Error(*code,
                 fmt::format("{}: {} (HTTP {})", what, printable(message, 1000), result.status),
                 field);
}

boost::json::object object_of(const std::string& body, std::string_view what) {
    try {
        auto value = json::parse(body);
        if (auto* object = value.if_object()) {
            return std::move(*object);
        }
    } catch (const Error&) {
    }
    throw Error(ErrorCode::io, fmt::format("{}: the server's answer is not a JSON object", what),
                "server");
}

const boost::json::value& member(const boost::json::object& object, std::string_view key,
                                 std::string_view what) {
    const auto* value = object.if_contains(key);
    if (value == nullptr) {
        throw Error(ErrorCode::io, fmt::format("{}: the server's answer lacks \"{}\"", what, key),
                    "server");
    }
    return *value;
}

std::string text_of(const boost::json::object& object, std::string_view key,
                    std::string_view what) {
    const auto& value = member(object, key, what);
    if (!value.is_string()) {
        throw Error(ErrorCode::io, fmt::format("{}: \"{}\" is not a string", what, key), "server");
    }
    return std::string(value.get_string());
}

std::int64_t int_of(const boost::json::object& object, std::string_view key,
                    std::string_view what) {
    const auto& value = member(object, key, what);
    if (!value.is_int64()) {
        throw Error(ErrorCode::io, fmt::format("{}: \"{}\" is not an integer", what, key),
                    "server");
    }
    return value.get_int64();
}

const boost::json::object& object_at(const boost::json::object& object, std::string_view key,
                                     std::string_view what) {
    const auto& value = member(object, key, what);
    if (!value.is_object()) {
        throw Error(ErrorCode::io, fmt::format("{}: \"{}\" is not an object", what, key), "server");
    }
    return value.get_object();
}

// What the agent reads of a WorkerRecord: its id, hub and status.
WorkerRecord worker_of(const boost::json::object& object, std::string_view what) {
    WorkerRecord worker;
    worker.spec.id = text_of(object, "workerId", what);
    worker.spec.hub_id = text_of(object, "hubId", what);
    worker.status = parse_worker_status(text_of(object, "status", what), "status");
    return worker;
}

// What the agent reads of a JobRecord: id, status, attempts, dead letter, outputs, error.
JobRecord job_of(const boost::json::object& object, std::string_view what) {
    JobRecord job;
    job.id = text_of(object, "jobId", what);
    job.status = parse_job_status(text_of(object, "status", what), "status");
    job.attempts = int_of(object, "attempts", what);
    if (const auto* dead = object.if_contains("deadLetter"); dead && dead->is_bool()) {
        job.dead_letter = dead->get_bool();
    }
    if (const auto* refs = object.if_contains("outputDataRefs"); refs && refs->is_array()) {
        for (const auto& ref : refs->get_array()) {
            if (ref.is_string()) {
                job.output_refs.emplace_back(ref.get_string());
            }
        }
    }
    if (const auto* worker = object.if_contains("workerId"); worker && worker->is_string()) {
        job.worker_id = std::string(worker->get_string());
    }
    return job;
}

Lease lease_of(const boost::json::object& object, std::string_view what) {
    Lease lease;
    lease.job_id = text_of(object, "jobId", what);
    lease.worker_id = text_of(object, "workerId", what);
    lease.token = text_of(object, "token", what);
    lease.expires_at = parse_iso8601(text_of(object, "expiresAt", what), "expiresAt");
    lease.attempt = int_of(object, "attempt", what);
    return lease;
}

class RemoteHubLink final : public HubLink {
  public:
    explicit RemoteHubLink(RemoteHubOptions options)
        : options_(std::move(options)), client_(client_options(options_)) {}

    std::string describe() const override { return options_.url; }
    std::optional<std::filesystem::path> hub_directory() const override { return std::nullopt; }
    std::shared_ptr<const Clock> clock() const override { return system_clock(); }

    LinkTerms register_worker(const WorkerSpec& spec) override {
        const auto answer = call("POST", "/api/v1/workers/register", spec.to_json(), {},
                                 options_.retry_budget, "register");
        auto terms = LinkTerms::from_json(json::serialize(object_at(answer, "terms", "register")));
        terms.worker = worker_of(object_at(answer, "worker", "register"), "register");
        return terms;
    }

    WorkerRecord heartbeat(std::string_view worker_id, const Heartbeat& beat) override {
        const auto answer = call(
            "POST", fmt::format("/api/v1/workers/{}/heartbeat", segment(worker_id, "workerId")),
            beat.to_json(), {}, periodic(), "heartbeat");
        return worker_of(object_at(answer, "worker", "heartbeat"), "heartbeat");
    }

    std::vector<ClaimedJob> claim(std::string_view worker_id, std::int64_t max) override {
        const auto answer =
            call("POST", fmt::format("/api/v1/workers/{}/claim", segment(worker_id, "workerId")),
                 json::serialize(boost::json::object{{"max", max}}), {}, periodic(), "claim");
        const auto& claims = member(answer, "claims", "claim");
        if (!claims.is_array()) {
            throw Error(ErrorCode::io, "claim: \"claims\" is not an array", "server");
        }
        std::vector<ClaimedJob> jobs;
        for (const auto& item : claims.get_array()) {
            if (!item.is_object()) {
                throw Error(ErrorCode::io, "claim: a claim is not an object", "server");
            }
            const auto& object = item.get_object();
            ClaimedJob claimed;
            claimed.lease = lease_of(object_at(object, "lease", "claim"), "claim");
            claimed.job = job_of(object_at(object, "job", "claim"), "claim");
            // The spec as the hub stored it, read by the one codec of specs.
            claimed.job.spec = scheduler::stored_spec_from_json(
                json::serialize(object_at(object, "spec", "claim")));
            claimed.job.attempts = claimed.lease.attempt;
            claimed.job.worker_id = claimed.lease.worker_id;
            claimed.job.status = JobStatus::running;
            jobs.push_back(std::move(claimed));
        }
        return jobs;
    }

    Lease renew(std::string_view job_id, std::string_view token) override {
        const auto answer =
            call("POST", fmt::format("/api/v1/jobs/{}/renew", segment(job_id, "jobId")),
                 json::serialize(boost::json::object{{"token", token}}), {}, periodic(), "renew");
        return lease_of(object_at(answer, "lease", "renew"), "renew");
    }

    JobRecord complete(std::string_view job_id, std::string_view token,
                       const JobCompletion& completion) override {
        auto body = json::parse(completion.to_json()).as_object();
        body["token"] = token;
        const auto answer =
            call("POST", fmt::format("/api/v1/jobs/{}/complete", segment(job_id, "jobId")),
                 json::serialize(body), {}, options_.retry_budget, "complete");
        return job_of(object_at(answer, "job", "complete"), "complete");
    }

    JobRecord fail(std::string_view job_id, std::string_view token, std::string_view error,
                   bool retryable) override {
        const auto answer =
            call("POST", fmt::format("/api/v1/jobs/{}/fail", segment(job_id, "jobId")),
                 json::serialize(boost::json::object{
                     {"token", token}, {"error", error}, {"retryable", retryable}}),
                 {}, options_.retry_budget, "fail");
        return job_of(object_at(answer, "job", "fail"), "fail");
    }

    WorkerRecord set_worker_status(std::string_view worker_id, WorkerStatus status) override {
        const auto answer =
            call("POST", fmt::format("/api/v1/workers/{}/status", segment(worker_id, "workerId")),
                 json::serialize(boost::json::object{{"status", to_string(status)}}), {},
                 options_.retry_budget, "status");
        return worker_of(object_at(answer, "worker", "status"), "status");
    }

    std::optional<std::string> fetch_input(const ClaimedJob& claimed, std::string_view cid,
                                           const std::filesystem::path& destination) override {
        const auto root = Cid::parse_any_version(cid, "cid");
        auto response =
            open("GET",
                 fmt::format("/api/v1/jobs/{}/inputs/{}", segment(claimed.lease.job_id, "jobId"),
                             segment(cid, "cid")),
                 {{std::string(kLeaseTokenHeader), claimed.lease.token}}, options_.retry_budget,
                 nullptr);
        if (response.status() != 200) {
            throw error_of(answer_of(response), fmt::format("input {}", cid));
        }
        // The CAR is verified block by block as it arrives, never held whole.
        const ContentStore::ByteSource source = [&](std::span<std::uint8_t> buffer) {
            return response.read(buffer);
        };
        agent::write_verified_car_file(source, root, destination);
        auto name = response.header("sihlicon-file-name");
        return name.empty() ? std::nullopt : std::optional<std::string>(std::move(name));
    }

    Manifest store_output(const ClaimedJob& claimed, const std::filesystem::path& path,
                          std::string_view file_name) override {
        // Sent from the file as it is read (Content-Length: its size); a retry reads it again.
        const auto body = net::file_body(path);
        auto response =
            open("POST",
                 fmt::format("/api/v1/jobs/{}/outputs?fileName={}",
                             segment(claimed.lease.job_id, "jobId"), percent_encoded(file_name)),
                 {{std::string(kLeaseTokenHeader), claimed.lease.token},
                  {"Content-Type", "application/octet-stream"}},
                 options_.retry_budget, &body);
        const auto result = answer_of(response);
        if (result.status < 200 || result.status > 299) {
            throw error_of(result, "output");
        }
        const auto answer = object_of(result.body, "output");
        const auto& manifest = object_at(answer, "manifest", "output");
        Manifest stored;
        stored.content_id = text_of(manifest, "contentId", "output");
        stored.file_size_bytes = int_of(manifest, "fileSizeBytes", "output");
        stored.file_name = std::string(file_name);
        stored.owner = claimed.job.spec.owner;
        return stored;
    }

  private:
    static net::HttpClientOptions client_options(const RemoteHubOptions& options) {
        if (options.token.empty() || options.token.size() > 4096 ||
            options.token.find_first_of(" \t\r\n") != std::string::npos) {
            throw Error::invalid("token", "",
                                 "must be an API token (no spaces, at most 4096 bytes)");
        }
        if (options.connect_timeout.count() <= 0 || options.request_timeout.count() <= 0 ||
            options.retry_initial.count() <= 0 || options.retry_max < options.retry_initial ||
            options.retry_budget.count() < 0) {
            throw Error::invalid("timeouts", "",
                                 "must be above zero, with retry_max at least retry_initial");
        }
        net::HttpClientOptions client;
        client.url = net::parse_http_url(options.url);
        client.ca_file = options.ca_file;
        client.connect_timeout = options.connect_timeout;
        client.request_timeout = options.request_timeout;
        client.retry_initial = options.retry_initial;
        client.retry_max = options.retry_max;
        client.max_response_bytes = options.max_response_bytes;
        return client;
    }

    milliseconds periodic() const { return std::min(options_.retry_budget, kPeriodicBudget); }

    net::HttpResult send(std::string_view method, const std::string& target, std::string_view body,
                         std::vector<std::pair<std::string, std::string>> headers,
                         milliseconds budget) {
        headers.emplace_back("Authorization", "Bearer " + options_.token);
        if (method == "POST" &&
            std::none_of(headers.begin(), headers.end(),
                         [](const auto& header) { return header.first == "Content-Type"; })) {
            headers.emplace_back("Content-Type", "application/json");
        }
        return client_.request(method, target, body, headers, budget);
    }

    net::HttpResponse open(std::string_view method, const std::string& target,
                           std::vector<std::pair<std::string, std::string>> headers,
                           milliseconds budget, const net::HttpBody* body) {
        headers.emplace_back("Authorization", "Bearer " + options_.token);
        return client_.open(method, target, headers, budget, body);
    }

    // The whole (small) answer of a response: status, headers and body.
    static net::HttpResult answer_of(net::HttpResponse& response) {
        net::HttpResult result;
        result.status = response.status();
        result.headers = response.headers();
        result.body = response.read_all();
        return result;
    }

    boost::json::object call(std::string_view method, const std::string& target,
                             std::string_view body,
                             std::vector<std::pair<std::string, std::string>> headers,
                             milliseconds budget, std::string_view what) {
        const auto result = send(method, target, body, std::move(headers), budget);
        if (result.status < 200 || result.status > 299) {
            throw error_of(result, what);
        }
        return object_of(result.body, what);
    }

    RemoteHubOptions options_;
    net::HttpClient client_;
};

}  // namespace

std::unique_ptr<HubLink> make_remote_hub_link(RemoteHubOptions options) {
    return std::make_unique<RemoteHubLink>(std::move(options));
}

}  // namespace sihlicon
