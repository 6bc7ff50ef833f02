// SPDX-License-Identifier: Apache-2.0
//
// The workers API of seed-swarmos-backend.md (server/api.hpp's route table; server.hpp lists
// the endpoints): register, heartbeat, claim, renew, complete, fail and a worker's status,
// over the Scheduler; a leased job's inputs and outputs, over hub_link.hpp's lease-checked
// content functions (what a remote WorkerAgent needs).
//
// Who may act: worker and operator tokens. A worker token acts only as its bound worker: a
// {workerId} in the path is checked by Api::admit (one place for every such route); register
// checks the body's workerId; renew, complete and fail pass the token's worker to the
// scheduler as the acting worker, which checks the lease and its holder in one read and
// answers a job the worker does not hold (absent, another's, ended) with one 409; inputs and
// outputs likewise (require_job_lease: the header's token is the job's live lease, held by the
// token's worker).
#include "server/api.hpp"
#include "server/spool.hpp"

#include "core/json.hpp"
#include "scheduler/job_spec.hpp"

#include <sihlicon/hub_link.hpp>

#include <sihlicon/hub.hpp>
#include <sihlicon/scheduler.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cstdint>
#include <span>

namespace sihlicon::server {

namespace {

const std::vector<Role> kWorkersAndOperators{Role::worker, Role::hub_operator};

// The longest lease token read from a body (the scheduler's are far shorter).
constexpr std::size_t kMaxLeaseTokenBytes = 128;

Response register_worker(const Request& request) {
    query_of(request.target, {});
    auto spec = WorkerSpec::from_json(request.body);
    const auto& identity = *request.identity;
    if (identity.role == Role::worker) {
        if (spec.id.empty()) {
            spec.id = identity.worker_id;
        } else if (spec.id != identity.worker_id) {
            throw Error(ErrorCode::permission_denied,
                        fmt::format("this worker token registers only worker '{}', not '{}'",
                                    identity.worker_id, printable(spec.id, 64)),
                        "workerId");
        }
    }
    // The terms the agent paces itself by are the local link's (one rule for both links).
    const auto terms = make_local_hub_link(*request.hub)->register_worker(spec);
    return {200,
            fmt::format(R"({{"success":true,"worker":{},"terms":{}}})", terms.worker.to_json(),
                        terms.to_json()),
            {}};
}

Response heartbeat(const Request& request) {
    query_of(request.target, {});
    const auto beat = Heartbeat::from_json(request.body);
    const auto worker = request.hub->scheduler().heartbeat(request.param("workerId"), beat);
    return {200, success_with("worker", worker.to_json()), {}};
}

Response claim(const Request& request) {
    query_of(request.target, {});
    const auto value = json::parse(request.body);
    json::ObjectReader reader(value, "");
    // The range of max is the scheduler's (Scheduler::claim checks it).
    const auto max = reader.optional_int64("max", INT64_MIN, INT64_MAX).value_or(1);
    reader.finish();
    const auto claims = request.hub->scheduler().claim(request.param("workerId"), max);
    // Each claim with its job's spec (the stored form JobSpec::from_json reads): what a remote
    // agent runs.
    std::vector<std::string> items;
    items.reserve(claims.size());
    for (const auto& claimed : claims) {
        auto text = claimed.to_json();
        text.pop_back();  // the closing brace
        // Appended piece by piece: `literal + string` trips GCC 12's -Wrestrict at -O2.
        text.append(R"(,"spec":)");
        text.append(scheduler::to_stored_json(claimed.job.spec));
        text.push_back('}');
        items.push_back(std::move(text));
    }
    return {200, success_with("claims", "[" + fmt::format("{}", fmt::join(items, ",")) + "]"), {}};
}

// The worker a lease request acts for (Scheduler's acting_worker): a worker token's bound
// worker; none for the operator, who acts by the lease token alone.
std::string_view acting_worker(const Request& request) {
    const auto& identity = *request.identity;
    return identity.role == Role::worker ? std::string_view(identity.worker_id)
                                         : std::string_view();
}

Response renew(const Request& request) {
    query_of(request.target, {});
    const auto value = json::parse(request.body);
    json::ObjectReader reader(value, "");
    const auto token = reader.required_string("token", kMaxLeaseTokenBytes);
    reader.finish();
    const auto lease =
        request.hub->scheduler().renew(request.param("jobId"), token, acting_worker(request));
    return {200, success_with("lease", lease.to_json()), {}};
}

Response complete(const Request& request) {
    query_of(request.target, {});
    const auto value = json::parse(request.body);
    json::ObjectReader reader(value, "");
    const auto token = reader.required_string("token", kMaxLeaseTokenBytes);
    const auto completion = scheduler::completion_from(reader);
    reader.finish();
    const auto job = request.hub->scheduler().complete(request.param("jobId"), token, completion,
                                                       acting_worker(request));
    return {200, success_with("job", job.to_json()), {}};
}

// The most completions one batch request may carry (the body limit bounds it too).
constexpr std::size_t kMaxBatchCompletions = 1000;

// Completes many of the worker's attempts in one transaction (Scheduler::complete_many): each
// lease names the path's worker as its acting worker, so the core refuses a lease that worker
// does not hold (another worker's attempt, an absent or ended job, a stale token) anywhere in
// the batch with one 409 and nothing changes; the worker may then complete the others one by
// one. Resending an accepted batch returns the same jobs.
Response complete_batch(const Request& request) {
    query_of(request.target, {});
    const auto value = json::parse(request.body);
    json::ObjectReader reader(value, "");
    const auto* list = reader.optional_value("completions");
    reader.finish();
    if (list == nullptr || !list->is_array()) {
        throw Error::invalid("completions", "", "is required: an array of completions");
    }
    const auto& items = list->as_array();
    if (items.empty() || items.size() > kMaxBatchCompletions) {
        throw Error::invalid("completions", std::to_string(items.size()),
                             fmt::format("must hold 1 to {} completions", kMaxBatchCompletions));
    }
    std::vector<std::pair<Lease, JobCompletion>> completions;
    completions.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        json::ObjectReader item(items[i], fmt::format("completions[{}]", i));
        Lease lease;
        lease.job_id = item.required_string("jobId", kMaxLeaseTokenBytes);
        lease.token = item.required_string("token", kMaxLeaseTokenBytes);
        lease.worker_id = request.param("workerId");
        auto completion = scheduler::completion_from(item);
        item.finish();
        completions.emplace_back(std::move(lease), std::move(completion));
    }
    const auto jobs = request.hub->scheduler().complete_many(completions);
    return {200, success_with("jobs", json::join_array(jobs)), {}};
}

Response fail(const Request& request) {
    query_of(request.target, {});
    const auto value = json::parse(request.body);
    json::ObjectReader reader(value, "");
    const auto token = reader.required_string("token", kMaxLeaseTokenBytes);
    // The error's length is the scheduler's to check (Scheduler::fail); the body limit bounds
    // what is read.
    const auto error = reader.required_string("error", SIZE_MAX);
    const auto retryable = reader.optional_bool("retryable").value_or(true);
    reader.finish();
    const auto job = request.hub->scheduler().fail(request.param("jobId"), token, error, retryable,
                                                   acting_worker(request));
    return {200, success_with("job", job.to_json()), {}};
}

Response set_status(const Request& request) {
    query_of(request.target, {});
    const auto value = json::parse(request.body);
    json::ObjectReader reader(value, "");
    const auto text = reader.required_string("status", 32);
    reader.finish();
    // busy is refused by the scheduler (it sets it, not a worker).
    const auto status = parse_worker_status(text, "status");
    const auto worker =
        request.hub->scheduler().set_worker_status(request.param("workerId"), status);
    return {200, success_with("worker", worker.to_json()), {}};
}

// Who acts on a leased job's content: the lease token of the header, and the worker a worker
// token is bound to (the core checks both: require_job_lease).
JobContentAccess content_access(const Request& request) {
    if (request.lease_token.empty() || request.lease_token.size() > kMaxLeaseTokenBytes) {
        throw Error::invalid(kLeaseTokenHeader, "", "is required (the attempt's lease token)");
    }
    JobContentAccess access;
    access.job_id = request.param("jobId");
    access.lease_token = std::string(request.lease_token);
    if (request.identity->role == Role::worker) {
        access.acting_worker = request.identity->worker_id;
    }
    return access;
}

// A file name as a header value: only printable ASCII is sent (else none).
bool header_safe(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

Response input(const Request& request) {
    query_of(request.target, {});
    // The CAR goes to a spool file as it is exported (never whole in memory); the manifest
    // (its file name) is known only after the lease check inside export_job_input.
    auto car = SpoolFile::create(request.spool_directory);
    const auto manifest =
        export_job_input(*request.hub, content_access(request), request.param("cid"),
                         [&](std::span<const std::uint8_t> bytes) { car->append(bytes); });
    Response response{200, {}, {{"Content-Type", "application/vnd.ipld.car"}}};
    response.file = std::move(car);
    if (manifest.file_name && header_safe(*manifest.file_name)) {
        response.headers.emplace_back("Sihlicon-File-Name", *manifest.file_name);
    }
    return response;
}

Response output(const Request& request) {
    const auto query = query_of(request.target, {"fileName"});
    const auto name = query.find("fileName");
    if (name == query.end()) {
        throw Error::invalid("fileName", "", "is required");
    }
    // The body streams (the route's streaming_body): spooled as it arrived, read from there.
    const auto manifest =
        store_job_output(*request.hub, content_access(request), request.body_source(),
                         request.body_size(), name->second);
    return {200, success_with("manifest", manifest.to_json()), {}};
}

}  // namespace

void add_workers_routes(RouteTable& table, Hub& /*hub*/) {
    table.add({"POST", "/api/v1/workers/register", false, kWorkersAndOperators, register_worker});
    table.add(
        {"POST", "/api/v1/workers/{workerId}/heartbeat", false, kWorkersAndOperators, heartbeat});
    table.add({"POST", "/api/v1/workers/{workerId}/claim", false, kWorkersAndOperators, claim});
    table.add({"POST", "/api/v1/jobs/{jobId}/renew", false, kWorkersAndOperators, renew});
    table.add({"POST", "/api/v1/jobs/{jobId}/complete", false, kWorkersAndOperators, complete});
    table.add({"POST", "/api/v1/jobs/{jobId}/fail", false, kWorkersAndOperators, fail});
    table.add({"POST", "/api/v1/workers/{workerId}/complete", false, kWorkersAndOperators,
               complete_batch});
    table.add(
        {"POST", "/api/v1/workers/{workerId}/status", false, kWorkersAndOperators, set_status});
    table.add({"GET", "/api/v1/jobs/{jobId}/inputs/{cid}", false, kWorkersAndOperators, input});
    table.add({"POST", "/api/v1/jobs/{jobId}/outputs", false, kWorkersAndOperators, output,
               /*streaming_body=*/true});
}

}  // namespace sihlicon::server
