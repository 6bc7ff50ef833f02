// SPDX-License-Identifier: Apache-2.0
//
// The REST contract's compute endpoints (server/api.hpp's route table; server.hpp lists them).
#include "server/api.hpp"

#include "core/json.hpp"

#include <sihlicon/hub.hpp>
#include <sihlicon/scheduler.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace sihlicon::server {

namespace {

const std::vector<Role> kClientsAndOperators{Role::client, Role::hub_operator};

Response list_jobs(const Request& request) {
    const auto& identity = *request.identity;
    // No `after` (paging from a job id): a client's page must not reveal whether another
    // owner's job id exists.
    const auto query = query_of(request.target, {"hubId", "status", "limit"});
    JobFilter filter;
    if (identity.role != Role::hub_operator) {
        filter.owner = identity.principal;  // a client lists only its own jobs
    }
    if (const auto it = query.find("hubId"); it != query.end()) {
        filter.hub_id = it->second;
    }
    if (const auto it = query.find("status"); it != query.end()) {
        filter.status = parse_job_status(it->second, "status");
    }
    if (const auto it = query.find("limit"); it != query.end()) {
        filter.limit = integer_parameter("limit", it->second);
    }
    return {200, success_with("jobs", json::join_array(request.hub->scheduler().jobs(filter))), {}};
}

Response submit_job(const Request& request) {
    query_of(request.target, {});
    const auto job =
        request.hub->scheduler().submit_json(request.body, request.identity->principal);
    return {
        200, boost::json::serialize(boost::json::object{{"success", true}, {"jobId", job.id}}), {}};
}

Response show_job(const Request& request) {
    query_of(request.target, {});
    const auto& identity = *request.identity;
    const auto& job_id = request.param("jobId");
    const auto not_found = [&] {
        return Error(ErrorCode::not_found, fmt::format("no job '{}'", job_id), "jobId");
    };
    std::optional<JobRecord> job;
    try {
        job = request.hub->scheduler().job(job_id);
    } catch (const Error& error) {
        if (error.code() == ErrorCode::not_found || error.code() == ErrorCode::invalid_argument) {
            throw not_found();
        }
        throw;
    }
    // Someone else's job is answered as one that does not exist: no existence oracle.
    if (identity.role != Role::hub_operator && job->spec.owner != identity.principal) {
        throw not_found();
    }
    return {200, success_with("job", job->to_json()), {}};
}

}  // namespace

void add_compute_routes(RouteTable& table, Hub& /*hub*/) {
    table.add({"GET", "/api/compute", false, kClientsAndOperators, list_jobs});
    table.add({"POST", "/api/compute", false, kClientsAndOperators, submit_job});
    table.add({"GET", "/api/compute/{jobId}", false, kClientsAndOperators, show_job});
}

}  // namespace sihlicon::server
