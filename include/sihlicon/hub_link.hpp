// SPDX-License-Identifier: Apache-2.0
//
// HubLink: everything a WorkerAgent asks of its hub, as one interface, so that the same agent
// runs against a Hub opened on this machine (LocalHubLink) or against a `sihlicon serve` on
// another one over HTTP(S) (make_remote_hub_link).
//
// A link's calls are the scheduler's workers API (register, heartbeat, claim, renew, complete,
// fail, the worker's status), what the agent must know to pace itself (the heartbeat interval,
// the lease duration, the hub's power model, a clock), and the content of a leased job: its
// inputs fetched into files, its output files stored as CIDs owned by the job's owner. Every
// call throws sihlicon::Error with the code the hub answered (conflict for a stale lease
// token, not_found, permission_denied, ...); a remote link also throws Error(io) when the hub
// cannot be reached after its retries, and Error(integrity) when an input's blocks do not hash
// to their CIDs.
//
// Lease-checked content (export_job_input, store_job_output): the core functions that serve
// a remote worker's GET /api/v1/jobs/{jobId}/inputs/{cid} and POST /api/v1/jobs/{jobId}/outputs.
// A worker reads a job's inputs and writes into its owner's quota only while it holds that
// job's live lease.
//
// Thread safety: a link is used by the agent's threads at once; every implementation is safe
// to call from several threads.
#pragma once

#include <sihlicon/content_store.hpp>
#include <sihlicon/export.hpp>
#include <sihlicon/power_meter.hpp>
#include <sihlicon/scheduler.hpp>
#include <sihlicon/time.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon {

class Hub;

// What the hub tells a worker when it registers.
struct SIHLICON_API LinkTerms {
    WorkerRecord worker;
    // The hub setting heartbeatIntervalMs, and the lease duration of the scheduler that hands
    // out the worker's leases (a remote hub: the server process's).
    std::chrono::milliseconds heartbeat_interval{30'000};
    std::chrono::milliseconds lease_duration{60'000};
    // The power model of the worker's hub (its watts per core and per GPU).
    PowerModel power_model;

    // {"heartbeatIntervalMs", "leaseDurationMs", "wattsPerCore", "wattsPerGpu"} (the worker
    // goes beside it, as its WorkerRecord): the "terms" of POST /api/v1/workers/register.
    std::string to_json() const;
    // Reads that object (worker left default). Throws Error::invalid naming a missing, unknown
    // or out-of-range field (intervals 1 ms..7 days, watts 0..10^9).
    static LinkTerms from_json(std::string_view json);
};

// The request header that carries an attempt's lease token to the content routes (never the
// URL, which goes to access logs).
inline constexpr std::string_view kLeaseTokenHeader = "Sihlicon-Lease-Token";

class SIHLICON_API HubLink {
  public:
    virtual ~HubLink();

    // "hub /path/to/hub" or "https://host:port": for events and messages.
    virtual std::string describe() const = 0;
    // The hub's folder when it is on this machine (work folders must stay out of it); none
    // for a remote hub.
    virtual std::optional<std::filesystem::path> hub_directory() const = 0;
    // The clock the agent's records (energy samples) take: the local hub's, else the system's.
    virtual std::shared_ptr<const Clock> clock() const = 0;

    // Scheduler::register_worker, and the terms above. A remote link's WorkerRecord (here and
    // from heartbeat and set_worker_status) carries the worker's id, hub and status only.
    virtual LinkTerms register_worker(const WorkerSpec& spec) = 0;
    virtual WorkerRecord heartbeat(std::string_view worker_id, const Heartbeat& beat) = 0;
    // Scheduler::claim: each claim's job carries at least its id, attempts, worker and spec.
    virtual std::vector<ClaimedJob> claim(std::string_view worker_id, std::int64_t max) = 0;
    virtual Lease renew(std::string_view job_id, std::string_view token) = 0;
    // Scheduler::complete: repeating it with the same token and completion returns the job
    // (so a remote link may resend it after an ambiguous network failure).
    virtual JobRecord complete(std::string_view job_id, std::string_view token,
                               const JobCompletion& completion) = 0;
    virtual JobRecord fail(std::string_view job_id, std::string_view token, std::string_view error,
                           bool retryable) = 0;
    // draining, offline or online.
    virtual WorkerRecord set_worker_status(std::string_view worker_id, WorkerStatus status) = 0;

    // Writes the content of input `cid` (one of the job's inputDataRefs) of the leased job
    // into the file `destination` (created or replaced). Returns the file name its manifest
    // lends it, if any (the agent decides whether to use it). Throws not_found (no such input
    // of the job, or none its owner may read), conflict (the lease is not live),
    // Error(integrity) (a remote block whose hash differs from its CID, an incomplete DAG).
    virtual std::optional<std::string> fetch_input(const ClaimedJob& claimed, std::string_view cid,
                                                   const std::filesystem::path& destination) = 0;
    // Stores the file `path` as content of the job's owner named `file_name`, under the
    // attempt's lease. Returns its manifest (its CID).
    virtual Manifest store_output(const ClaimedJob& claimed, const std::filesystem::path& path,
                                  std::string_view file_name) = 0;
};

// The link to a Hub open in this process (which must outlive the link): each call is the
// hub's own (Hub::scheduler(), Hub::content_store(), Hub::settings()), acting as the worker.
SIHLICON_API std::unique_ptr<HubLink> make_local_hub_link(Hub& hub);

// ---- a hub over HTTP ---------------------------------------------------------------------

struct RemoteHubOptions {
    // "http://HOST:PORT" or "https://HOST:PORT" (a host name or an IP literal, [v6] in
    // brackets); no path, query or user info.
    std::string url;
    // A worker token (`sihlicon token create WORKER --role worker`; it acts only as its
    // worker) or an operator token, sent as `Authorization: Bearer`.
    std::string token;
    // PEM file of the certificate authorities trusted for https (a test's self-signed
    // certificate); empty: the system's. The server's certificate is always verified, and
    // its name (or IP address) must match the URL's host.
    std::filesystem::path ca_file;
    // Each attempt: connecting (with TLS handshake), then each step of the exchange (a chunk).
    std::chrono::milliseconds connect_timeout{5'000};
    std::chrono::milliseconds request_timeout{30'000};
    // Retries after a connection error, a timeout or a 503, with exponential back-off from
    // retry_initial (doubling, at most retry_max, each delay with +-50 % random jitter) until
    // retry_budget has passed since the first attempt. 4xx answers are never retried.
    std::chrono::milliseconds retry_initial{200};
    std::chrono::milliseconds retry_max{5'000};
    std::chrono::milliseconds retry_budget{60'000};
    // The largest response body read (an input's CAR, streamed).
    std::uint64_t max_response_bytes = 1ull << 30;
};

// The link to a `sihlicon serve` (include/sihlicon/server.hpp) through its workers API.
// Throws Error::invalid naming "url", "token" or "caFile" for bad options; connects lazily
// and keeps its connections alive between calls (one per thread using it at a time).
//
// Retries: every call is safe to resend. renew, heartbeat, claim, register and status are
// idempotent or harmless when repeated (a claim whose answer was lost leaves its jobs leased
// until their leases expire, then they run elsewhere); complete is answered with the job again
// when it was already accepted with the same token and completion; fail after a lost answer
// finds the token stale (409), which means it was recorded.
//
// Sizes: an output streams from its file (upload_limit bounds it; a retry resends the file);
// an input's CAR streams from the socket, never whole in memory (max_response_bytes).
//
// Stopping: WorkerAgent::stop() marks the worker offline through the link, which retries for
// up to retry_budget while the server cannot be reached.
//
// Inputs: the job's CAR (GET /api/v1/jobs/{jobId}/inputs/{cid}) is read as it streams, every
// block's hash checked against its CID as it arrives, every block of the file's DAG required
// (and its declared sizes checked), and the file rebuilt from the DAG, whatever the order of
// the CAR's blocks; anything else is Error(integrity) and nothing is left at `destination`.
SIHLICON_API std::unique_ptr<HubLink> make_remote_hub_link(RemoteHubOptions options);

// ---- lease-checked content, for the server's routes --------------------------------------

// Who asks for a leased job's content.
struct JobContentAccess {
    std::string job_id;
    std::string lease_token;  // the attempt's lease token
    // The worker a worker token is bound to; none for an operator token (any worker).
    std::optional<std::string> acting_worker;
};

// The job's live lease: it is running, `access.lease_token` is its current token, its lease
// has not expired and (for a worker) it is held by `access.acting_worker`. Returns the job.
// Scheduler::check_lease: for an acting worker, a job it does not hold under the token (absent,
// another worker's, ended) is one conflict (field "token"), never not_found or
// permission_denied (no existence oracle); for an operator (no acting worker) an unknown job
// is not_found. An expired lease is a conflict.
SIHLICON_API JobRecord require_job_lease(Hub& hub, const JobContentAccess& access);

// Writes the DAG of input `cid` of the leased job as a CAR v1 (ContentStore::export_car, as
// the job's owner). Checks require_job_lease first; a `cid` that is not one of the job's
// inputDataRefs (compared as CIDv1) is not_found, worded as for content that does not exist.
// Returns the input's manifest (its file name, size).
SIHLICON_API Manifest export_job_input(Hub& hub, const JobContentAccess& access,
                                       std::string_view cid, const ContentStore::ByteSink& sink);

// Stores the `size` bytes `source` yields as content of the leased job's owner named
// `file_name` (PutOptions, with declared_size = size, so the owner's quota is checked before
// a byte is read), after require_job_lease: a worker writes into an owner's quota only while
// holding their job. The source is read as it streams (ContentStore::put_stream).
SIHLICON_API Manifest store_job_output(Hub& hub, const JobContentAccess& access,
                                       const ContentStore::ByteSource& source, std::uint64_t size,
                                       std::string_view file_name);

}  // namespace sihlicon
