// SPDX-License-Identifier: Apache-2.0
//
// The workers API of seed-swarmos-backend.md (server/api.hpp's route table; server.hpp lists
// the endpoints): register, heartbeat, claim, renew, complete, fail, over the Scheduler.
//
// Who may act: worker and operator tokens. A worker token acts only as its bound worker: a
// {workerId} in the path is checked by Api::admit (one place for every such route); register
// checks the body's workerId; renew, complete and fail check the job's record (the lease
// token proves the attempt, the record says whose attempt it is).
#include "server/api.hpp"

#include "core/json.hpp"
#include "scheduler/job_spec.hpp"

#include <sihlicon/hub.hpp>
#include <sihlicon/scheduler.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <cstdint>

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
    const auto worker = request.hub->scheduler().register_worker(spec);
    return {200, success_with("worker", worker.to_json()), {}};
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
    return {200, success_with("claims", json::join_array(claims)), {}};
}

// For a worker token: the job's attempt, when one is held, must be its bound worker's. A job
// id it does not know is the scheduler's not_found, and a job no worker holds (queued again
// for a retry) leaves the stale token to the scheduler's conflict, as for any caller.
void require_own_lease(const Request& request) {
    const auto& identity = *request.identity;
    if (identity.role != Role::worker) {
        return;
    }
    const auto job = request.hub->scheduler().job(request.param("jobId"));
    if (job.worker_id && *job.worker_id != identity.worker_id) {
        throw Error(ErrorCode::permission_denied, "the lease belongs to another worker", "jobId");
    }
}

Response renew(const Request& request) {
    query_of(request.target, {});
    const auto value = json::parse(request.body);
    json::ObjectReader reader(value, "");
    const auto token = reader.required_string("token", kMaxLeaseTokenBytes);
    reader.finish();
    require_own_lease(request);
    const auto lease = request.hub->scheduler().renew(request.param("jobId"), token);
    return {200, success_with("lease", lease.to_json()), {}};
}

Response complete(const Request& request) {
    query_of(request.target, {});
    const auto value = json::parse(request.body);
    json::ObjectReader reader(value, "");
    const auto token = reader.required_string("token", kMaxLeaseTokenBytes);
    const auto completion = scheduler::completion_from(reader);
    reader.finish();
    require_own_lease(request);
    const auto job = request.hub->scheduler().complete(request.param("jobId"), token, completion);
    return {200, success_with("job", job.to_json()), {}};
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
    require_own_lease(request);
    const auto job = request.hub->scheduler().fail(request.param("jobId"), token, error, retryable);
    return {200, success_with("job", job.to_json()), {}};
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
}

}  // namespace sihlicon::server
