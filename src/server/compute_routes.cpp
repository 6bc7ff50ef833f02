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
    // No `after` (paging from a job id): a client's page must not reveal whether another
    // owner's job id exists.
    const auto query = query_of(request.target, {"hubId", "status", "limit"});
    JobFilter filter;
    if (const auto it = query.find("hubId"); it != query.end()) {
        filter.hub_id = it->second;
    }
    if (const auto it = query.find("status"); it != query.end()) {
        filter.status = parse_job_status(it->second, "status");
    }
    if (const auto it = query.find("limit"); it != query.end()) {
        filter.limit = integer_parameter("limit", it->second);
    }
    // The scheduler lists a client's own jobs only (Scheduler::jobs with a principal).
    const auto jobs = request.hub->scheduler().jobs(filter, request.identity->acting_principal());
    return {200, success_with("jobs", json::join_array(jobs)), {}};
}

Response submit_job(const Request& request) {
    query_of(request.target, {});
    const auto job =
        request.hub->scheduler().submit_json(request.body, request.identity->principal);
    return {
        200, boost::json::serialize(boost::json::object{{"success", true}, {"jobId", job.id}}), {}};
}

// Someone else's job is the scheduler's not_found, worded as for a job that does not exist.
Response show_job(const Request& request) {
    query_of(request.target, {});
    const auto job =
        request.hub->scheduler().job(request.param("jobId"), request.identity->acting_principal());
    return {200, success_with("job", job.to_json()), {}};
}

// The contract's cancel; the scheduler checks that the principal owns the job (or is the
// operator).
Response cancel_job(const Request& request) {
    query_of(request.target, {});
    request.hub->scheduler().cancel(request.param("jobId"), request.identity->acting_principal(),
                                    "cancelled through the API");
    return {200,
            boost::json::serialize(
                boost::json::object{{"success", true}, {"message", "Job cancelled"}}),
            {}};
}

}  // namespace

void add_compute_routes(RouteTable& table, Hub& /*hub*/) {
    table.add({"GET", "/api/compute", false, kClientsAndOperators, list_jobs});
    table.add({"POST", "/api/compute", false, kClientsAndOperators, submit_job});
    table.add({"GET", "/api/compute/{jobId}", false, kClientsAndOperators, show_job});
    table.add({"DELETE", "/api/compute/{jobId}", false, kClientsAndOperators, cancel_job});
}

}  // namespace sihlicon::server
