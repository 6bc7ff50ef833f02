// SPDX-License-Identifier: Apache-2.0
//
// The hub on the network: an HTTP/1.1 server (TLS when given a certificate) over one Hub, a
// thin edge over the public API that holds no rule of its own. `sihlicon serve` runs one.
//
// Requests authenticate with an API token (tokens.hpp) sent as `Authorization: Bearer <token>`
// or as the seed's session cookie `sihlhack_session=<token>`, or instead are signed EIP-191 by
// an address registered for a principal (request_signing.hpp: Sihlicon-Address,
// -Timestamp, -Content-SHA256 and -Signature headers; the signature is checked with the header,
// the body's digest once the body has arrived and before the route runs; any failure is 401
// with details {"reason", "field"}). Either way the request acts as the same principal and
// role as a token of that grant would. The endpoints of this version:
//   GET  /.well-known/sihlicon.json   no token: {"instanceId", "libraryVersion", "signer"}
//                                     (the settlement signer's EIP-55 address)
//   POST /api/compute                 client, operator: submits the seed's body for the
//                                     token's principal -> {"success", "jobId"}
//   GET  /api/compute?hubId=&status=&limit=
//                                     client, operator -> {"success", "jobs": [JobRecord]};
//                                     a client lists only its own jobs, an operator all
//   GET  /api/compute/{jobId}         client, operator -> {"success", "job": JobRecord}; a
//                                     client's request for someone else's job is 404, worded
//                                     as for a job that does not exist
//   DELETE /api/compute/{jobId}       client, operator: cancels -> {"success", "message": "Job
//                                     cancelled"}; someone else's job 404 as above, ended 409
// Who sees or cancels a job is the scheduler's rule (Scheduler::job/jobs/cancel with the
// acting principal: Identity::acting_principal(), the operator principal for operator tokens).
// The Heat Services API (seed-api-contracts.md):
//   GET  /api/heat/credits?hubId=&start=&end=
//                                     client, operator -> {"success", "credit": HeatCredit}
//   GET  /api/heat/stats?hubId=  (or ?site= / ?region=, exactly one of the three)
//                                     client, operator -> {"success", "stats": HeatStats, or
//                                     HeatGroupStats summed over the group's hubs}
//   POST /api/heat/settle             operator: HeatPeriod::from_json -> {"success",
//                                     "settledCreditChf", "currency", "settlement"}
// The clients and epochs API (seed-swarmos-backend.md); a client reads only its own account
// (Settlement::account/history with the acting principal: another client's is 404, worded as
// an account never used) and only its own jobs' receipts:
//   GET  /api/v1/clients/{clientId}   client, operator -> {"success", "account": Account}
//   GET  /api/v1/clients/{clientId}/balance
//                                     -> {"success", "clientId", "currency", "balance",
//                                     "available"}
//   GET  /api/v1/clients/{clientId}/history?limit=
//                                     -> {"success", "history": [AccountEntry]}
//   POST /api/v1/clients/{clientId}/topup
//                                     operator: TopUpRequest::from_json -> {"success",
//                                     "transfer": Transfer}
//   GET  /api/v1/epochs, /api/v1/epochs/current, /api/v1/epochs/{epochId},
//        /api/v1/epochs/{epochId}/jobs, /api/v1/epochs/{epochId}/payouts
//                                     every role (epochs are the hub's public audit data)
//                                     -> {"success", "epochs" | "epoch" | "jobs" (leaves) |
//                                     "payouts"}
//   GET  /api/v1/jobs/{jobId}/receipt client (own job), operator -> {"success", "receipt"}
//                                     (Settlement::receipt; 409 until its epoch is sealed)
// Rate limit: every response to a client token carries X-RateLimit-Limit, -Remaining and
// -Reset (Unix seconds: the end of the current hour of the hub's clock); beyond the hub
// setting apiRequestsPerHour (settings.hpp; 0 = unlimited) it is 429 with Retry-After. Worker
// and operator tokens are not limited. The counters live in this Server's process (each
// server process of a hub counts on its own) and start again each hour.
// The storage endpoints (seed-api-contracts.md "Storage Services API"), client and operator
// tokens, acting as the token's principal under the content store's rules:
//   POST   /api/storage               multipart/form-data: a "file" part (required, once) and a
//                                     "metadata" part (optional, PutOptions::from_json: unknown
//                                     fields 400 naming them); no other part. The body streams
//                                     (below); the file part goes to ContentStore::put_stream
//                                     with its exact length as declaredSize, owned by the
//                                     token's principal; fileName defaults to the part's
//                                     filename -> {"success", "manifest": Manifest}. A
//                                     malformed body (no delimiter of the Content-Type's
//                                     boundary, a part without a name, cut off before its
//                                     closing boundary) is 400 naming "body" (or
//                                     "Content-Type"), storing nothing; the owner's upload
//                                     quota is 429 with Retry-After
//   GET    /api/storage?contentId=    -> {"success", "manifest"} (ContentStore::stat); content
//                                     the principal may not read is 404 worded as absent
//   DELETE /api/storage?contentId=    -> {"success", "message": "Content deleted"}
//                                     (ContentStore::remove: only an owner removes)
// The workers API (seed-swarmos-backend.md), worker and operator tokens only (a client token is
// 403). A worker token acts only as the worker it is bound to: a {workerId} in the path or the
// registration's workerId naming another worker is 403. A renewal, completion or failure
// acts for the token's worker (Scheduler's acting_worker, checked in the core): a job that
// worker does not hold under the lease token, whether it does not exist, is another worker's
// attempt (even with that attempt's token), has ended or has a newer attempt, is one 409
// ("worker 'W' holds no lease on job 'J' under this token", field "token"), so a worker token
// learns nothing of other jobs. An operator token acts for any worker, by the lease token
// alone (an unknown job 404, a stale token 409). Bodies are decoded by the core's codecs
// (unknown fields refused, 400 naming the field).
//   POST /api/v1/workers/register      WorkerSpec::from_json (workerId filled from a worker
//                                     token when absent) -> {"success", "worker": WorkerRecord,
//                                     "terms": LinkTerms::to_json (heartbeatIntervalMs,
//                                     leaseDurationMs, wattsPerCore, wattsPerGpu)}
//   POST /api/v1/workers/{workerId}/heartbeat
//                                     Heartbeat::from_json -> {"success", "worker"}
//   POST /api/v1/workers/{workerId}/claim
//                                     {"max"?: N (default 1)} -> {"success", "claims":
//                                     [ClaimedJob: {"lease" (with its token), "job", "spec":
//                                     the job's spec as the hub stores it (JobSpec::from_json
//                                     reads it): what a remote agent runs}]}
//   POST /api/v1/jobs/{jobId}/renew    {"token"} -> {"success", "lease": Lease}
//   POST /api/v1/jobs/{jobId}/complete {"token", and JobCompletion::from_json's fields}
//                                     -> {"success", "job": JobRecord}
//   POST /api/v1/jobs/{jobId}/fail     {"token", "error", "retryable"? (default true)}
//                                     -> {"success", "job": JobRecord}
//   POST /api/v1/workers/{workerId}/status
//                                     {"status": "online" | "draining" | "offline"} ->
//                                     {"success", "worker"} (Scheduler::set_worker_status;
//                                     offline releases the worker's leases)
// A leased job's content (hub_link.hpp: export_job_input, store_job_output, checked in the
// core): the attempt's lease token goes in the request header Sihlicon-Lease-Token, never in
// the URL (URLs go to the access log); missing 400; for a worker token, anything but its own
// live lease (an absent job, another worker's, an ended or expired one) is one 409; for an
// operator token a job that does not exist is 404 and anything but the live lease 409.
//   GET  /api/v1/jobs/{jobId}/inputs/{cid}
//                                     -> the input's DAG as a CAR v1 (Content-Type
//                                     application/vnd.ipld.car; Sihlicon-File-Name: its
//                                     manifest's file name when that is printable ASCII),
//                                     exported as the job's owner; a CID that is not one of the
//                                     job's inputDataRefs is 404 as content that does not exist
//   POST /api/v1/jobs/{jobId}/outputs?fileName=NAME
//                                     the file's bytes as the body -> {"success", "manifest":
//                                     Manifest}, stored as the job's owner (its quota) named
//                                     NAME (percent-decoded); the body streams (below)
//   POST /api/v1/workers/{workerId}/complete
//                                     {"completions": [{"jobId", "token", and
//                                     JobCompletion::from_json's fields}], 1..1000} -> {"success",
//                                     "jobs": [JobRecord]}: one transaction
//                                     (Scheduler::complete_many, the path's
//                                     worker acting): a lease it does not hold anywhere (stale,
//                                     absent, another worker's) is 409 and nothing of the batch
//                                     happens
// The IPFS Trustless Gateway (https://specs.ipfs.tech/http-gateways/trustless-gateway/) and CAR
// upload (src/server/gateway_routes.cpp). The gateway admits a request without any token (it
// then reads as the anonymous principal: public content only); a presented token must be a
// live client or operator token (else 401 / 403, never taken as no token):
//   GET|HEAD /ipfs/{cid}[?format=raw|car&dag-scope=all|entity|block&entity-bytes=FROM:TO
//                        &car-version=1&car-order=dfs|unk&car-dups=n|y]
//                                     {cid}: any block of a content's DAG (root, inner node,
//                                     leaf; CIDv0 or CIDv1), readable when the acting principal
//                                     may read a content whose DAG holds it (ContentStore::
//                                     block_info); otherwise 404 worded as a CID the hub does
//                                     not hold. ?format= wins over Accept:
//                                     application/vnd.ipld.raw -> the block;
//                                     application/vnd.ipld.car -> a CAR v1 (ContentStore::
//                                     export_car with a CarScope), Content-Type
//                                     "application/vnd.ipld.car; version=1; order=dfs; dups=n"
//                                     (or dups=y when asked), X-Ipfs-Roots. Both carry
//                                     X-Ipfs-Path, Etag ("<cid>.raw", "<cid>.car.<scope>"),
//                                     Content-Disposition: attachment, Vary: Accept, and
//                                     Cache-Control "public, max-age=29030400, immutable" for
//                                     public content only ("private, no-store" otherwise). No
//                                     Accept (or only wildcards) and no format: 400; a type or
//                                     CAR variant not served (CAR version 2, an order other than
//                                     dfs/unk): 406; a malformed CID or parameter: 400; an
//                                     entity-bytes range starting past the end: 400. A CAR is
//                                     produced whole (spooled) before its status is sent, so a
//                                     block missing or corrupt on the way is 500, never a
//                                     truncated CAR under 200. HEAD sends the headers only
//                                     (Content-Length for a raw block; none for a CAR, whose
//                                     length is known only once produced). The probe CID
//                                     bafkqaaa (an identity hash) is 400: sihlicon stores only
//                                     sha2-256 blocks.
//   POST /api/v1/car[?accessLevel=&storageTier=&minReplicas=]
//                                     client, operator: the body (Content-Type
//                                     application/vnd.ipld.car) streams (below) into
//                                     ContentStore::import_car for the acting principal, under
//                                     its rules (every block verified, possession, real sizes,
//                                     quotas) -> {"success", "manifests": [Manifest]}; a corrupt
//                                     or truncated CAR is 400 and stores nothing; quota 429
// Path parameters ({jobId}, {workerId}, {clientId}, {epochId}) are 1..128 bytes of [A-Za-z0-9._-];
// any other path is 404 (401 first when no live token is shown). The endpoints are one table in
// src/server/api.hpp (RouteTable), each group registered from its own file.
// Every error is {"error": message, "details": {...}} (never HTML, never a stack trace):
// 400 malformed HTTP or an invalid field, 401 no or no live token, 402 insufficient funds,
// 403 a role the endpoint does not allow (or the core's refusal), 404 no such route or object,
// 405 a method the route lacks, 409 a conflict,
// 413 a header or body over its limit, 429 a quota or the rate limit (with Retry-After), 500 a
// fault of the hub (its details are not sent), 503 too many connections or the hub busy. The
// statuses of the library's errors come from one table (ErrorCode -> status) in src/server/api.cpp.
//
// Order of checks for each request: the header is read (at most header_limit bytes), the
// token is authenticated, the route and role are checked, the declared body size is checked
// against body_limit (upload_limit for a streaming route), and only then is the body read
// (chunked bodies are accepted and limited as they arrive). A request with a body refused
// before the body is read is answered at once and its connection closed, so a client that
// announces a huge body never gets to send it. So do 400, 413 and 503 answers; the others keep
// the connection open when the client asks for keep-alive.
//
// Streamed bodies: the body of a streaming route (POST /api/storage, POST /api/v1/car) is never
// held in memory. It is written, as it arrives, to an unlinked file in spool_directory (O_TMPFILE,
// or a file removed as soon as it is made), which the handler reads and which vanishes with the
// request; a client that disconnects or stalls mid-body runs no handler and leaves no file. Such a
// body must bring at least 64 KiB per read_timeout (its deadline moves on with each 64 KiB), so a
// large upload is not held to one read_timeout while a trickling client still is. A large
// response (content a handler produces, e.g. a CAR) is spooled the same way and sent in
// chunks with its Content-Length, write_timeout applying to each chunk.
//
// Connections: HTTP/1.1 keep-alive; at most max_connections at once (each one beyond gets
// 503 and is closed); each waits at most idle_timeout for the first byte of its next request,
// read_timeout for the rest of its header and again for its body (a client trickling bytes is
// cut off) and write_timeout for a response, then is closed.
// Requests run on the server's own threads, each on one of them at a time.
//
// An access log line for every answered request goes to ServerOptions::access_log:
//   TIME PEER "METHOD TARGET" STATUS BYTES MSms PRINCIPAL
// (TIME in ISO 8601, BYTES of the response body, PRINCIPAL "-" when no live token was shown),
// with method and target made printable (text.hpp), never the token.
//
// Maintenance: a started server also runs the hub's periodic tasks on a thread of its own,
// at start() and then every maintenance_interval (0: never), on the hub's clock: it seals the
// epoch when it is due (Settlement::seal_due_epoch: the active epoch older than the hub setting
// epochDurationMs, 24 h by default; the seal posts the epoch's payouts in its transaction)
// and expires the pending transfers whose timeout passed (Settlement::expire_pending). Whether
// a task is due is the core's decision in its own transactions, so several server processes on
// one hub seal each epoch once. Each thing done, and each failure, is one line on access_log:
//   TIME maintenance sealed EPOCH jobs=N revenue=R distributed=D currency=C root=HEX
//   TIME maintenance expired N pending transfers
//   TIME maintenance TASK failed (ERROR_CODE): MESSAGE; retried at the next tick
// A failing task never stops the server or the other tasks; the next tick tries again. Heat
// periods are settled only when asked (POST /api/heat/settle): no hub setting makes one due.
// stop() ends the maintenance first: at once between ticks, else after the tick in progress.
//
// Thread safety: start(), stop() and port() may be called from any thread; the Hub must
// outlive the Server.
#pragma once

#include <sihlicon/export.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sihlicon {

class Hub;
class Server;

namespace server {
class Api;
// The server's endpoints (src/server/api.hpp, not installed): tests reach them through this to
// add routes of their own before start().
Api& api_of(Server& server);
}  // namespace server

struct SIHLICON_API ServerOptions {
    // The address to listen on (an IPv4 or IPv6 literal) and the port; port 0 picks a free one,
    // which Server::port() returns after start().
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;
    // TLS: both set, or neither (plain HTTP). PEM files: the certificate chain and its key.
    std::optional<std::filesystem::path> tls_certificate;
    std::optional<std::filesystem::path> tls_private_key;
    // Connections served at once (at least 1).
    std::size_t max_connections = 512;
    // The longest request line plus headers (bytes, at least 1024).
    std::size_t header_limit = 16 * 1024;
    // The longest request body (bytes): a job spec's limit (JobSpec::kMaxJsonBytes).
    std::uint64_t body_limit = 1u << 20;
    // The longest streamed request body (bytes, at least 1): the uploads of POST /api/storage
    // (the owner's upload quota is the content store's, checked as well).
    std::uint64_t upload_limit = std::uint64_t{4} << 30;
    // Where streamed bodies are spooled, as unlinked files that vanish with their request
    // (empty: the system temp folder). Must be an existing folder.
    std::filesystem::path spool_directory;
    // See the file comment. Each at least 1 ms.
    std::chrono::milliseconds read_timeout{30'000};
    std::chrono::milliseconds write_timeout{30'000};
    std::chrono::milliseconds idle_timeout{60'000};
    // Threads serving connections (at least 1).
    int threads = 2;
    // How often the server's maintenance runs (see "Maintenance" in the file comment): 1 ms to
    // 1 day, or 0 for none (an embedder that seals epochs itself). Default 60 s.
    std::chrono::milliseconds maintenance_interval{60'000};
    // Receives one access log line (without a newline) per request, and the maintenance's
    // lines; null: no log. Called from the server's threads, possibly from several at once.
    std::function<void(std::string_view line)> access_log;

    // The options as JSON, the one codec of the C ABI, Python and Node: an object of any of
    // {"address", "port", "tlsCertificate", "tlsPrivateKey", "maxConnections", "headerLimit",
    // "bodyLimit", "uploadLimit", "spoolDirectory", "readTimeoutMs", "writeTimeoutMs",
    // "idleTimeoutMs", "threads", "maintenanceIntervalMs"} over the defaults above (null or
    // absent: the default). Read strictly: an unknown key, a wrong type,
    // a repeated name or a number outside its type's range (port 0..65535, durations 0..1 day,
    // threads 0..1024, sizes non-negative) is Error::invalid naming the key and the value. The
    // other checks (an address that is not an IP literal, one TLS file without the other,
    // limits below their minimum) are the Server constructor's. access_log is not JSON.
    static ServerOptions from_json(std::string_view json);
    // The same over `base`: the keys given replace base's, the others keep base's values (a
    // patch; `sihlicon serve --options FILE` over the tool's defaults). access_log is base's.
    static ServerOptions from_json(std::string_view json, const ServerOptions& base);

    // One key set from its text, the CLI form (`sihlicon serve --threads 4`): the keys of
    // from_json; integers in decimal ("port", "maxConnections", "threads"); sizes
    // ("headerLimit", "bodyLimit", "uploadLimit") as integer bytes or with a unit ("64KiB",
    // "512MiB", "4GiB", "1TiB"); durations (the keys ending in Ms) as integer ms or with a
    // unit ("500ms", "30s", "5m", "2h", "1d"); the other keys as the text itself. Decoded by
    // from_json over *this, so with the same ranges. Throws Error::invalid naming the key and
    // the value as written (an unknown key: field "key").
    ServerOptions with(std::string_view key, std::string_view value_text) const;
};

class SIHLICON_API Server {
  public:
    // Checks the options; throws Error::invalid naming the first bad one ("address",
    // "tlsCertificate", "maxConnections", "maintenanceIntervalMs", ...). Does not listen yet.
    Server(Hub& hub, ServerOptions options);
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    // Stops the server (as stop() does).
    ~Server();

    // Listens, starts serving and starts the maintenance (file comment). Throws Error(io) when the
    // address cannot be bound, Error::invalid naming "tlsCertificate" or "tlsPrivateKey" for a file
    // OpenSSL refuses, Error(conflict) when already started.
    void start();
    // The port listened on (the one chosen when options.port was 0); 0 before start().
    std::uint16_t port() const;
    // Stops accepting, closes idle connections, lets every request already being read or
    // answered finish (at most read_timeout + write_timeout), then closes everything and
    // joins the threads. Idempotent; a stopped server cannot be started again.
    void stop();

  private:
    friend server::Api& server::api_of(Server& server);
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sihlicon
