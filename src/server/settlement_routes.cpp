// SPDX-License-Identifier: Apache-2.0
//
// The clients and epochs API of seed-swarmos-backend.md and the job receipt (server.hpp lists
// the endpoints), over the hub's Settlement. Who may read what is the core's: a client reads
// only its own account (Settlement::account/history with the acting principal) and only its
// own jobs' receipts (Scheduler::job with the acting principal); the route table admits
// operators only to top-ups. Epochs are the hub's public audit data: every token may read them.
#include "server/api.hpp"

#include "core/json.hpp"

#include <sihlicon/hub.hpp>
#include <sihlicon/scheduler.hpp>
#include <sihlicon/settings.hpp>
#include <sihlicon/settlement.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace sihlicon::server {

namespace {

const std::vector<Role> kClientsAndOperators{Role::client, Role::hub_operator};
const std::vector<Role> kOperators{Role::hub_operator};
const std::vector<Role> kEveryRole{Role::client, Role::worker, Role::hub_operator};

// The client account {clientId} names, in the hub's currency.
AccountRef client_account(const Request& request) {
    return {AccountKind::client, request.param("clientId"), request.hub->settings().currency};
}

// GET /api/v1/clients/{clientId} -> {"success", "account": Account}
Response client(const Request& request) {
    query_of(request.target, {});
    const auto account = request.hub->settlement().account(client_account(request),
                                                           request.identity->acting_principal());
    return {200, success_with("account", account.to_json()), {}};
}

// GET /api/v1/clients/{clientId}/balance -> {"success", "clientId", "currency", "balance",
// "available"} (exact decimal strings, as Account::to_json writes them)
Response balance(const Request& request) {
    query_of(request.target, {});
    const auto account = request.hub->settlement().account(client_account(request),
                                                           request.identity->acting_principal());
    const boost::json::object answer{
        {"success", true},
        {"clientId", account.ref.owner},
        {"currency", account.ref.currency.code()},
        {"balance", account.balance.to_decimal_string()},
        {"available", account.available().to_decimal_string()},
    };
    return {200, boost::json::serialize(answer), {}};
}

// GET /api/v1/clients/{clientId}/history?limit= -> {"success", "history": [AccountEntry]}
Response history(const Request& request) {
    const auto query = query_of(request.target, {"limit"});
    std::int64_t limit = 100;
    if (const auto it = query.find("limit"); it != query.end()) {
        limit = integer_parameter("limit", it->second);
    }
    const auto entries = request.hub->settlement().history(client_account(request), limit,
                                                           request.identity->acting_principal());
    return {200, success_with("history", json::join_array(entries)), {}};
}

// POST /api/v1/clients/{clientId}/topup TopUpRequest::from_json -> {"success", "transfer"}
Response top_up(const Request& request) {
    query_of(request.target, {});
    const auto account = client_account(request);
    const auto body = TopUpRequest::from_json(request.body, account.currency);
    const auto transfer = request.hub->settlement().top_up(
        request.identity->acting_principal(), account, body.amount, body.external_reference);
    return {200, success_with("transfer", transfer.to_json()), {}};
}

// GET /api/v1/epochs -> {"success", "epochs": [EpochRecord]} (oldest first)
Response epochs(const Request& request) {
    query_of(request.target, {});
    return {200, success_with("epochs", json::join_array(request.hub->settlement().epochs())), {}};
}

// GET /api/v1/epochs/current -> {"success", "epoch": EpochRecord}
Response current_epoch(const Request& request) {
    query_of(request.target, {});
    return {200, success_with("epoch", request.hub->settlement().current_epoch().to_json()), {}};
}

// GET /api/v1/epochs/{epochId} -> {"success", "epoch": EpochRecord}
Response epoch(const Request& request) {
    query_of(request.target, {});
    const auto record = request.hub->settlement().epoch(request.param("epochId"));
    return {200, success_with("epoch", record.to_json()), {}};
}

// GET /api/v1/epochs/{epochId}/jobs -> {"success", "jobs": [the jobs.json leaf of each]}
Response epoch_jobs(const Request& request) {
    query_of(request.target, {});
    const auto& settlement = request.hub->settlement();
    const auto& id = request.param("epochId");
    settlement.epoch(id);  // not_found for an unknown epoch
    const auto jobs = settlement.epoch_jobs(id);
    return {200,
            success_with("jobs",
                         json::join_array(jobs, [](const EpochJob& job) { return job.leaf(); })),
            {}};
}

// GET /api/v1/epochs/{epochId}/payouts -> {"success", "payouts": [Payout]}
Response epoch_payouts(const Request& request) {
    query_of(request.target, {});
    const auto& settlement = request.hub->settlement();
    const auto& id = request.param("epochId");
    settlement.epoch(id);
    return {200, success_with("payouts", json::join_array(settlement.epoch_payouts(id))), {}};
}

// GET /api/v1/jobs/{jobId}/receipt -> {"success", "receipt": Settlement::receipt's document}
Response receipt(const Request& request) {
    query_of(request.target, {});
    const auto& job_id = request.param("jobId");
    // Someone else's job is not_found, worded as one that does not exist.
    request.hub->scheduler().job(job_id, request.identity->acting_principal());
    return {200, success_with("receipt", request.hub->settlement().receipt(job_id)), {}};
}

}  // namespace

void add_settlement_routes(RouteTable& table, Hub& /*hub*/) {
    table.add({"GET", "/api/v1/clients/{clientId}", false, kClientsAndOperators, client});
    table.add({"GET", "/api/v1/clients/{clientId}/balance", false, kClientsAndOperators, balance});
    table.add({"GET", "/api/v1/clients/{clientId}/history", false, kClientsAndOperators, history});
    table.add({"POST", "/api/v1/clients/{clientId}/topup", false, kOperators, top_up});
    table.add({"GET", "/api/v1/epochs", false, kEveryRole, epochs});
    // Before {epochId}: the first route of a method that matches a path answers it.
    table.add({"GET", "/api/v1/epochs/current", false, kEveryRole, current_epoch});
    table.add({"GET", "/api/v1/epochs/{epochId}", false, kEveryRole, epoch});
    table.add({"GET", "/api/v1/epochs/{epochId}/jobs", false, kEveryRole, epoch_jobs});
    table.add({"GET", "/api/v1/epochs/{epochId}/payouts", false, kEveryRole, epoch_payouts});
    table.add({"GET", "/api/v1/jobs/{jobId}/receipt", false, kClientsAndOperators, receipt});
}

}  // namespace sihlicon::server
