/* SPDX-License-Identifier: Apache-2.0
 *
 * sihlicon.h — the stable C ABI of libsihlicon.
 *
 * Conventions (one rule each; capi/README.md explains why):
 * - Every fallible function returns sih_status: SIH_OK (0) or a code mirroring the C++
 *   sihlicon::ErrorCode. On failure sih_last_error() describes it (naming the field and the
 *   value at fault) and nothing was changed; out-parameters are left untouched.
 * - Objects are opaque handles (sih_hub, sih_clock, sih_agent, sih_server,
 *   sih_receipt_verifier). Their
 *   destroy functions take T**, accept NULL and a pointer to NULL, and set the handle to NULL.
 * - Out-parameters come last and are named out_*. Unless a function says otherwise, an out_*
 *   may be NULL when the caller does not want that result.
 * - Strings are UTF-8 and NUL-terminated; byte buffers are (pointer, length). Every string or
 *   buffer the library returns through an out_* is owned by the caller and released with
 *   sih_free(). Strings the caller passes are only read during the call.
 * - Options structs are versioned: `version` is their first field; fill one with its
 *   SIH_*_OPTIONS_INIT macro (C) or sih_*_options_init() (FFIs), then set fields. Fields are
 *   only ever appended; a version this library does not know is SIH_INVALID_ARGUMENT.
 * - Callbacks come with a `void *payload` that is passed back unchanged. A callback must not
 *   call sih_free() on arguments it is given; they are valid only during the call.
 * - Rich records (job specs, manifests, epochs, receipts, ...) travel as JSON text in the
 *   shapes of the C++ to_json() functions (camelCase keys; the seeds' names). The hot paths
 *   (submit, claim, complete, content put and get as streams, receipt verification) have
 *   typed functions.
 * - Instants are int64 milliseconds since the Unix epoch. SIH_NONE (INT64_MIN) means "not
 *   given" wherever an optional instant or integer is taken.
 * - Failures every function may give besides those its comment names: SIH_INVALID_ARGUMENT
 *   for a NULL handle or required argument, malformed JSON or an unknown key (the field is
 *   named); SIH_NOT_FOUND when an id names nothing; SIH_IO and SIH_BUSY from the disk and from
 *   other processes holding the hub; SIH_OUT_OF_MEMORY.
 * - No C++ exception ever crosses this boundary; an allocation failure is SIH_OUT_OF_MEMORY.
 * - Thread safety: as the C++ objects — a hub and its services may be used from any number of
 *   threads at once. sih_last_error() is per thread.
 *
 * ABI stability: capi/sihlicon.symbols lists every exported sih_* symbol; CI compares it with
 * the built library. Removing or changing a symbol needs a new SIH_VERSION_MAJOR.
 */
#ifndef SIHLICON_H
#define SIHLICON_H

#include <stddef.h>
#include <stdint.h>

#if defined(SIHLICON_BUILDING_LIBRARY)
#define SIH_API __attribute__((visibility("default")))
#else
#define SIH_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- version ------------------------------------------------------------------------ */

#define SIH_VERSION_MAJOR 0
#define SIH_VERSION_MINOR 1
#define SIH_VERSION_PATCH 0
#define SIH_VERSION_STRING "0.1.0"

/* The version of the library actually loaded ("0.1.0"); static storage, never freed. It may
 * be newer than SIH_VERSION_STRING when a program runs against a newer shared library. */
SIH_API const char* sih_version(void);

/* ---- status, errors, memory ---------------------------------------------------------- */

typedef enum sih_status {
    SIH_OK = 0,
    SIH_INVALID_ARGUMENT = 1,   /* malformed or out-of-range input; nothing was changed */
    SIH_NOT_FOUND = 2,          /* the named object does not exist */
    SIH_CONFLICT = 3,           /* contradicts the current state (stale lease, duplicate id) */
    SIH_PERMISSION_DENIED = 4,  /* the principal may not do this */
    SIH_QUOTA_EXCEEDED = 5,     /* a configured limit would be exceeded */
    SIH_INSUFFICIENT_FUNDS = 6, /* an account balance would go below zero */
    SIH_INTEGRITY = 7,          /* stored data failed verification */
    SIH_IO = 8,                 /* the operating system refused a read or write */
    SIH_BUSY = 9,               /* the hub stayed locked by another process */
    SIH_INTERNAL = 10,          /* a bug in sihlicon; please report it */
    SIH_OUT_OF_MEMORY = 11,     /* an allocation failed */
    SIH_CALLBACK_ABORTED = 12   /* a caller's callback asked to stop */
} sih_status;

/* "ok", "invalid_argument", "not_found", ... (the names of the C++ API, the bindings and the
 * JSON errors); "unknown" for a value outside the enumeration. Static storage. */
SIH_API const char* sih_status_name(sih_status status);

/* The message of the last failed call on this thread ("" if none failed yet). The pointer is
 * owned by the library and valid until the next sih_* call on this thread. */
SIH_API const char* sih_last_error(void);
/* The status of the last failed call on this thread (SIH_OK if none). */
SIH_API sih_status sih_last_error_code(void);
/* The input field the last failure was about ("workloadConfig.resources.cpu"), or "". */
SIH_API const char* sih_last_error_field(void);

/* Releases a string or buffer the library returned. NULL is allowed and does nothing. */
SIH_API void sih_free(void* memory);

/* SIH_NONE: "not given" for optional int64 parameters (instants, limits, amounts). */
#define SIH_NONE INT64_MIN

/* ---- enumerations --------------------------------------------------------------------- */

typedef enum sih_durability {
    SIH_DURABILITY_POWER_LOSS = 0,   /* fsync on every commit (the default) */
    SIH_DURABILITY_PROCESS_CRASH = 1 /* survives kill -9, not a power cut */
} sih_durability;

typedef enum sih_integrity_check {
    SIH_INTEGRITY_CHECK_NONE = 0,
    SIH_INTEGRITY_CHECK_QUICK = 1, /* the default */
    SIH_INTEGRITY_CHECK_FULL = 2
} sih_integrity_check;

typedef enum sih_energy_source {
    SIH_ENERGY_MEASURED = 0,
    SIH_ENERGY_MODELLED = 1,
    SIH_ENERGY_ESTIMATED = 2
} sih_energy_source;

typedef enum sih_storage_tier {
    SIH_TIER_HOT = 0,
    SIH_TIER_COLD = 1,
    SIH_TIER_GLACIER = 2
} sih_storage_tier;

typedef enum sih_access_level {
    SIH_ACCESS_PRIVATE = 0,
    SIH_ACCESS_COMMUNITY = 1,
    SIH_ACCESS_PUBLIC = 2
} sih_access_level;

/* ---- clocks ----------------------------------------------------------------------------- */

/* A manual clock for tests and simulations: time moves only when told to. Pass it in
 * sih_hub_options.clock; the hub keeps its own reference, so the clock may be destroyed
 * before the hub. */
typedef struct sih_clock sih_clock;

/* Creates a manual clock at `start_ms`. Fails: SIH_INVALID_ARGUMENT (out_clock NULL). */
SIH_API sih_status sih_clock_new_manual(int64_t start_ms, sih_clock** out_clock);
/* Moves the clock to `ms` (may go backwards). Fails: SIH_INVALID_ARGUMENT (clock NULL). */
SIH_API sih_status sih_clock_set(sih_clock* clock, int64_t ms);
/* Moves the clock by `delta_ms`. Fails: SIH_INVALID_ARGUMENT (NULL, or overflow). */
SIH_API sih_status sih_clock_advance(sih_clock* clock, int64_t delta_ms);
/* The clock's instant. Fails: SIH_INVALID_ARGUMENT (clock NULL). */
SIH_API sih_status sih_clock_now(const sih_clock* clock, int64_t* out_ms);
SIH_API void sih_clock_destroy(sih_clock** clock);

/* ---- hubs --------------------------------------------------------------------------------- */

typedef struct sih_hub sih_hub;

/* Version 2 added commit_interval_ms. A struct of version 1 (compiled against an older header)
 * is read without it. */
#define SIH_HUB_OPTIONS_VERSION 2
typedef struct sih_hub_options {
    uint32_t version;                    /* SIH_HUB_OPTIONS_VERSION */
    int create_if_missing;               /* default 1 */
    int64_t busy_timeout_ms;             /* default 30000 */
    sih_durability durability;           /* default SIH_DURABILITY_POWER_LOSS */
    sih_integrity_check integrity_check; /* default SIH_INTEGRITY_CHECK_QUICK */
    int32_t reader_connections;          /* default 4, at least 1 */
    sih_clock* clock;                    /* NULL: the system clock */
    /* This process's scheduler options as JSON ({"leaseDurationMs", "claimScanLimit",
     * "inputRecheckIntervalMs"}, all optional), or NULL for the defaults. The hub-wide ones
     * (submissionsPerHour, agingIntervalMs, heartbeatIntervalMs, missedHeartbeats) are hub
     * settings: see settlement_options_json and sih_hub_settings. */
    const char* scheduler_options_json;
    /* The initial hub settings of a NEW hub, as JSON: any keys of sih_hub_settings
     * ({"chargeJobs": true, "defaultPrice": "0.10", "prices": {"ocr": "0.05"}, ...}), the
     * others at their defaults; NULL for the defaults. Written when this open creates the
     * hub, IGNORED when the hub exists (change those with sih_hub_update_settings).
     * Validated either way (SIH_INVALID_ARGUMENT naming the key and the value). */
    const char* settlement_options_json;
    /* Since version 2. 0 (default): every write is committed to hub.db before it returns.
     * Above 0: a write returns once it is in the hub's write log (hub.db-log), and hub.db
     * commits the log when its oldest record is this many ms old, before any read, and at
     * close: the same crash guarantee as `durability`, 3 to 4 times the scheduler's calls per
     * second (process_crash); another process's reads and writes of the hub wait up to this long
     * for the commit. Not negative. */
    int64_t commit_interval_ms;
} sih_hub_options;

#define SIH_HUB_OPTIONS_INIT                                                                     \
    {                                                                                            \
        SIH_HUB_OPTIONS_VERSION, 1, 30000, SIH_DURABILITY_POWER_LOSS, SIH_INTEGRITY_CHECK_QUICK, \
            4, NULL, NULL, NULL, 0                                                               \
    }

/* Fills `options` with the defaults of `version`. Fails: SIH_INVALID_ARGUMENT (NULL or an
 * unknown version). */
SIH_API sih_status sih_hub_options_init(sih_hub_options* options, uint32_t version);

/* Opens (creating it when allowed) the hub in `directory`: hub.db (SQLite) and blobs/.
 * `options` may be NULL for the defaults. On success *out_hub must be closed with
 * sih_hub_close(). Fails: SIH_INVALID_ARGUMENT (NULL/empty path, out_hub NULL, bad option),
 * SIH_NOT_FOUND (no hub and create_if_missing 0), SIH_INTEGRITY (not a healthy hub),
 * SIH_CONFLICT (written by a newer sihlicon), SIH_IO, SIH_BUSY. */
SIH_API sih_status sih_hub_open(const char* directory, const sih_hub_options* options,
                                sih_hub** out_hub);
/* Closes the hub (stopping its worker agents and its servers first). REQUIRES: no other
 * thread uses it. */
SIH_API void sih_hub_close(sih_hub** hub);
/* The hub's identity, schema version and record counts as JSON (HubInfo::to_json). */
SIH_API sih_status sih_hub_info(sih_hub* hub, char** out_json);
/* The schema version this library creates and migrates to. */
SIH_API int sih_hub_latest_schema_version(void);

/* Hub settings (include/sihlicon/settings.hpp): what decides money or routing for the whole
 * hub, stored in the hub and applied by every process that opens it. The JSON object:
 * {"chargeJobs", "requireWorkerSignatures", "currency", "defaultPrice" ("0.10"), "prices"
 * ({"ocr": "0.05"}), "protocolFeePpm", "operatorFeePpm", "workPoolPpm", "demandMinPpm",
 * "demandMaxPpm", "demandFullQueueDepth", "epochDurationMs", "preferenceWindowMs",
 * "submissionsPerHour", "agingIntervalMs", "heartbeatIntervalMs", "missedHeartbeats",
 * "defaultUploadBytesPerHour", "defaultTotalBytes" (or null)}. */
SIH_API sih_status sih_hub_settings(sih_hub* hub, char** out_json);
/* Applies the keys of `patch_json` over the stored settings; validates, writes and audits in
 * one transaction; *out_json is the stored settings. `by` must be "operator". Fails:
 * SIH_PERMISSION_DENIED (another principal), SIH_INVALID_ARGUMENT (a bad key or value, named;
 * nothing changed). */
SIH_API sih_status sih_hub_update_settings(sih_hub* hub, const char* patch_json, const char* by,
                                           char** out_json);
/* One key from its text, as `sihlicon settings set KEY VALUE` takes it ("true", "0.05",
 * "60s", "prices.ocr" = "0.05", "defaultTotalBytes" = "none"). Fails as
 * sih_hub_update_settings. */
SIH_API sih_status sih_hub_set_setting(sih_hub* hub, const char* key, const char* value,
                                       const char* by, char** out_json);
/* The audit trail: a JSON array of {"seq", "at" (ms), "by", "key", "old", "new"}, oldest
 * first, the changes with seq > after_seq, at most `limit` (1..10000). */
SIH_API sih_status sih_hub_settings_history(sih_hub* hub, int64_t after_seq, int64_t limit,
                                            char** out_json);

/* Peers (include/sihlicon/peers.hpp): the other hubs this hub knows, each with its server's
 * URL (http:// or https://, a host, an optional port and path; no user information, query or
 * fragment) and the API token this hub presents to it. `by` must be "operator". A peer's JSON
 * is {"hubId", "url", "addedAt"}: never its token. sih_peer_add fails: SIH_PERMISSION_DENIED,
 * SIH_INVALID_ARGUMENT (a bad "hubId", "url" or "token", named; the token is never shown),
 * SIH_CONFLICT (already a peer). sih_peer_remove fails: SIH_NOT_FOUND (not a peer). */
SIH_API sih_status sih_peer_add(sih_hub* hub, const char* by, const char* hub_id, const char* url,
                                const char* token, char** out_json);
/* A JSON array of the peers, by hub id. */
SIH_API sih_status sih_peer_list(sih_hub* hub, const char* by, char** out_json);
SIH_API sih_status sih_peer_remove(sih_hub* hub, const char* by, const char* hub_id,
                                   char** out_json);
/* The hub's event log (include/sihlicon/events.hpp): a JSON array of HubEvent::to_json()
 * ({"sequence", "at", "kind", "subject", "client", "worker", "payload"}), oldest first, the
 * events with sequence > `after` that the reader may see, at most `limit` (1..1000). The
 * reader is `principal` ("operator": every event; "" : none; any other: the events that
 * concern it as a client), or, when `worker_id` is neither NULL nor "", that worker (the
 * events that concern it). Fails: SIH_INVALID_ARGUMENT (NULL principal, negative `after`,
 * `limit` out of range). */
SIH_API sih_status sih_hub_events_after(sih_hub* hub, int64_t after, int64_t limit,
                                        const char* principal, const char* worker_id,
                                        char** out_json);
/* sih_hub_events_after, waiting up to `timeout_ms` (0..300000) for the first event the reader
 * may see, written by this process or another: "[]" when the time is up. */
SIH_API sih_status sih_hub_wait_for_events(sih_hub* hub, int64_t after, int64_t limit,
                                           const char* principal, const char* worker_id,
                                           int64_t timeout_ms, char** out_json);

/* ---- scheduler ---------------------------------------------------------------------------
 * Records are the JSON of the C++ HubRecord / WorkerRecord / JobRecord / JobEvent /
 * QueueStats::to_json(); inputs are the seed's request bodies (HubSpec, WorkerSpec and
 * JobSpec ::from_json). Fails, besides what each function names: SIH_INVALID_ARGUMENT for a
 * NULL hub or required string, or malformed JSON (the field is named). */

SIH_API sih_status sih_scheduler_options(sih_hub* hub, char** out_json);
/* Replaces the options given in `options_json` (as in sih_hub_options), keeping the rest. */
SIH_API sih_status sih_scheduler_set_options(sih_hub* hub, const char* options_json);

/* Fails: SIH_CONFLICT (the id exists). */
SIH_API sih_status sih_scheduler_register_hub(sih_hub* hub, const char* spec_json, char** out_json);
/* Fails: SIH_NOT_FOUND. */
SIH_API sih_status sih_scheduler_update_hub(sih_hub* hub, const char* spec_json, char** out_json);
SIH_API sih_status sih_scheduler_hub(sih_hub* hub, const char* hub_id, char** out_json);
SIH_API sih_status sih_scheduler_hubs(sih_hub* hub, char** out_json);
/* `state_json`: {"signal": "surplus|normal|throttle|curtail", "powerBudgetW"?,
 * "validUntil"? (ms)}. Fails: SIH_NOT_FOUND. */
SIH_API sih_status sih_scheduler_set_grid_state(sih_hub* hub, const char* hub_id,
                                                const char* state_json, char** out_json);
/* `valid_until_ms` may be SIH_NONE. Fails: SIH_NOT_FOUND. */
SIH_API sih_status sih_scheduler_set_heat_demand(sih_hub* hub, const char* hub_id, int64_t watts,
                                                 int64_t valid_until_ms, char** out_json);

/* `spec_json`: WorkerSpec::from_json's fields, "executors" (["native", "container"]; absent:
   ["native"]) included. Fails: SIH_NOT_FOUND (unknown hub), SIH_INVALID_ARGUMENT. */
SIH_API sih_status sih_scheduler_register_worker(sih_hub* hub, const char* spec_json,
                                                 char** out_json);
/* Fails: SIH_NOT_FOUND. Records no GPU stats (see sih_scheduler_heartbeat_json). */
SIH_API sih_status sih_scheduler_heartbeat(sih_hub* hub, const char* worker_id,
                                           int64_t utilisation_ppm, int64_t power_draw_w,
                                           char** out_json);
/* A heartbeat as JSON: {"utilisationPpm"?, "powerDrawW"?, "gpus"?: [{"utilisationPpm"?,
   "vramUsed"? (bytes)}]}, absent numbers 0. gpus[i] is the worker's i-th registered GPU: more
   GPUs than registered ("gpus"), a utilisation outside 0..1,000,000 ("gpus[i].utilisationPpm")
   or VRAM in use above the GPU's ("gpus[i].vramUsed") fail with SIH_INVALID_ARGUMENT naming
   the value, and nothing is stored. The worker's record shows them as "gpuStats".
   Fails: SIH_NOT_FOUND, SIH_INVALID_ARGUMENT. */
SIH_API sih_status sih_scheduler_heartbeat_json(sih_hub* hub, const char* worker_id,
                                                const char* beat_json, char** out_json);
/* `status`: "online", "draining" or "offline". Fails: SIH_NOT_FOUND. */
SIH_API sih_status sih_scheduler_set_worker_status(sih_hub* hub, const char* worker_id,
                                                   const char* status, char** out_json);
SIH_API sih_status sih_scheduler_worker(sih_hub* hub, const char* worker_id, char** out_json);
/* `hub_id` NULL: every hub's workers. */
SIH_API sih_status sih_scheduler_workers(sih_hub* hub, const char* hub_id, char** out_json);

/* Job specs longer than 1 MiB (1,048,576 bytes; arrays: 64 MiB) fail with
 * SIH_INVALID_ARGUMENT naming "jobSpec" ("specs"), before they are parsed. */
/* Hot path: submits the seed's POST /api/compute body for `owner` (NULL: the body's "owner")
 * and returns the new job's id (a NUL-terminated string for sih_free). Fails: SIH_NOT_FOUND
 * (unknown hub or dependency), SIH_QUOTA_EXCEEDED (rate limit, queue depth), SIH_CONFLICT
 * (idempotency key reused with another spec), SIH_INSUFFICIENT_FUNDS (charging on). */
SIH_API sih_status sih_scheduler_submit(sih_hub* hub, const char* spec_json, const char* owner,
                                        char** out_job_id);
/* As sih_scheduler_submit, returning the whole job record. */
SIH_API sih_status sih_scheduler_submit_json(sih_hub* hub, const char* spec_json, const char* owner,
                                             char** out_json);
/* A JSON array of specs, submitted in one transaction: all or none. Returns the records. */
SIH_API sih_status sih_scheduler_submit_many(sih_hub* hub, const char* specs_json,
                                             const char* owner, char** out_json);

/* A lease, as claim and renew return it. The token is a secret: whoever holds it may renew,
 * complete or fail the attempt. */
typedef struct sih_lease {
    char job_id[80];
    char worker_id[80];
    char token[80];
    int64_t expires_at_ms;
    int64_t attempt;
} sih_lease;

/* Hot path: leases up to `capacity` jobs the worker can run now into out_leases[0..], and
 * their number into *out_count (0 when nothing fits). out_leases may be NULL only when
 * capacity is 0; out_count is required. Fails: SIH_NOT_FOUND (unknown worker), SIH_CONFLICT
 * (offline worker). */
SIH_API sih_status sih_scheduler_claim(sih_hub* hub, const char* worker_id, sih_lease* out_leases,
                                       size_t capacity, size_t* out_count);
/* As sih_scheduler_claim, returning [{"lease": {...}, "job": {...}}, ...]. */
SIH_API sih_status sih_scheduler_claim_json(sih_hub* hub, const char* worker_id, int64_t max,
                                            char** out_json);
/* Extends the lease. Fails: SIH_CONFLICT (stale or foreign token). */
SIH_API sih_status sih_scheduler_renew(sih_hub* hub, const char* job_id, const char* token,
                                       sih_lease* out_lease);

#define SIH_COMPLETION_VERSION 1
/* What a worker reports when an attempt succeeded. */
typedef struct sih_completion {
    uint32_t version;               /* SIH_COMPLETION_VERSION */
    const char* const* output_refs; /* CIDs of the outputs */
    size_t output_ref_count;
    int64_t energy_mwh;              /* measured electricity, mWh; SIH_NONE: modelled */
    sih_energy_source energy_source; /* default SIH_ENERGY_MEASURED */
    const char* result_hash;         /* optional */
    const char* metrics_json;        /* optional JSON object */
    const char* proof_of_execution;  /* optional, hex of sha256(job ‖ result hash ‖ worker) */
    const char* worker_signature;    /* optional EIP-191 signature over that hex */
} sih_completion;

#define SIH_COMPLETION_INIT \
    { SIH_COMPLETION_VERSION, NULL, 0, SIH_NONE, SIH_ENERGY_MEASURED, NULL, NULL, NULL, NULL }
SIH_API sih_status sih_completion_init(sih_completion* completion, uint32_t version);

/* Hot path: completes the attempt holding `token`; the job's heat record and charge commit
 * with it. `completion` may be NULL (no outputs, modelled energy). Fails: SIH_CONFLICT (stale
 * or foreign token; nothing changes), SIH_NOT_FOUND, SIH_INVALID_ARGUMENT (a bad field or an
 * unknown completion version). */
SIH_API sih_status sih_scheduler_complete(sih_hub* hub, const char* job_id, const char* token,
                                          const sih_completion* completion);
/* As sih_scheduler_complete with the completion as JSON ({"outputDataRefs", "energyMwh" |
 * "energyKwh", "energySource", "resultHash", "metrics", "proofOfExecution",
 * "workerSignature"}, all optional; NULL: {}), returning the job record. */
SIH_API sih_status sih_scheduler_complete_json(sih_hub* hub, const char* job_id, const char* token,
                                               const char* completion_json, char** out_json);
/* A JSON array of {"jobId", "token", ...completion fields}, in one transaction: all or
 * none. Returns the job records. */
SIH_API sih_status sih_scheduler_complete_many(sih_hub* hub, const char* completions_json,
                                               char** out_json);
/* Fails the attempt; retried after back-off while attempts remain and `retryable` is
 * non-zero. Fails: SIH_CONFLICT (stale or foreign token). */
SIH_API sih_status sih_scheduler_fail(sih_hub* hub, const char* job_id, const char* token,
                                      const char* error, int retryable, char** out_json);
/* `reason` may be NULL. Fails: SIH_NOT_FOUND, SIH_CONFLICT (already ended). */
SIH_API sih_status sih_scheduler_cancel(sih_hub* hub, const char* job_id, const char* by,
                                        const char* reason, char** out_json);
/* Fails: SIH_NOT_FOUND, SIH_CONFLICT (not running or failed). */
SIH_API sih_status sih_scheduler_requeue(sih_hub* hub, const char* job_id, const char* by,
                                         const char* reason, char** out_json);
/* Expires leases and silent workers and promotes due jobs; *out_changed: jobs changed. */
SIH_API sih_status sih_scheduler_tick(sih_hub* hub, int64_t* out_changed);

SIH_API sih_status sih_scheduler_job(sih_hub* hub, const char* job_id, char** out_json);
/* `filter_json`: {"hubId" (jobs preferring or pinned to that hub, and jobs run on it, each
 * once), "status", "owner", "workerId" (jobs whose running or last attempt
 * was leased to that worker), "deadLetter" (true: only dead-lettered jobs; false: only the
 * others), "limit" (1..1000, default 50), "after"}, all optional; NULL: {}. Returns an array of job
 * records in id order, continuing after the job whose id is "after"; queued jobs listed by status
 * come in the order claims take them (JobFilter in include/sihlicon/scheduler.hpp). */
SIH_API sih_status sih_scheduler_jobs(sih_hub* hub, const char* filter_json, char** out_json);
SIH_API sih_status sih_scheduler_events(sih_hub* hub, const char* job_id, char** out_json);
SIH_API sih_status sih_scheduler_queue_stats(sih_hub* hub, const char* hub_id, char** out_json);
/* [{"hubId", "workerId" (or null), "eligible", "reasons": [...]}, ...]. */
SIH_API sih_status sih_scheduler_explain(sih_hub* hub, const char* job_id, char** out_json);

/* Called after each committed job transition made through this hub, on the thread that made
 * it, with the JobEvent JSON (valid during the call only). Must not call back into the hub. */
typedef void (*sih_job_event_fn)(void* payload, const char* event_json);
/* Fails: SIH_INVALID_ARGUMENT (NULL callback). *out_subscription is for unsubscribe. */
SIH_API sih_status sih_scheduler_subscribe(sih_hub* hub, sih_job_event_fn callback, void* payload,
                                           int64_t* out_subscription);
/* Removing an unknown subscription does nothing. */
SIH_API sih_status sih_scheduler_unsubscribe(sih_hub* hub, int64_t subscription);

/* ---- content store -----------------------------------------------------------------------
 * Manifests are the JSON of Manifest::to_json (contentId, fileName, fileSizeBytes, ...).
 * `principal` (the acting principal) NULL or "" is the anonymous caller (public content only).
 * Content the principal may not read fails exactly as unknown content does: SIH_NOT_FOUND,
 * same message (no existence oracle). SIH_PERMISSION_DENIED only when the principal may read
 * the content but may not do the act (content_store.hpp). */

/* Pulls up to `capacity` bytes into `buffer`; returns how many (0: the end), or a negative
 * number to abort the call with SIH_CALLBACK_ABORTED. */
typedef int64_t (*sih_read_fn)(void* payload, uint8_t* buffer, size_t capacity);
/* Receives consecutive bytes; returns 0 to go on, non-zero to abort with
 * SIH_CALLBACK_ABORTED. */
typedef int (*sih_write_fn)(void* payload, const uint8_t* bytes, size_t size);

#define SIH_PUT_OPTIONS_VERSION 1
typedef struct sih_put_options {
    uint32_t version;                   /* SIH_PUT_OPTIONS_VERSION */
    const char* file_name;              /* optional, at most 255 bytes */
    const char* mime_type;              /* optional, "type/subtype" */
    sih_storage_tier storage_tier;      /* default SIH_TIER_HOT */
    sih_access_level access_level;      /* default SIH_ACCESS_PRIVATE */
    int32_t min_replicas;               /* default 3, 0..64 */
    const char* source_hub_id;          /* optional */
    const char* metadata_json;          /* optional JSON object, at most 64 KiB */
    const char* const* allowed_regions; /* data residency; none: any region */
    size_t allowed_region_count;
    uint64_t chunk_size; /* 0: 262,144 (kubo's default) */
    uint64_t max_links;  /* 0: 174 */
} sih_put_options;

#define SIH_PUT_OPTIONS_INIT                                                                  \
    {                                                                                         \
        SIH_PUT_OPTIONS_VERSION, NULL, NULL, SIH_TIER_HOT, SIH_ACCESS_PRIVATE, 3, NULL, NULL, \
            NULL, 0, 0, 0                                                                     \
    }
SIH_API sih_status sih_put_options_init(sih_put_options* options, uint32_t version);

/* Stores `size` bytes for `owner` and returns their CID (CIDv1, as IPFS computes it).
 * `options` may be NULL. Bytes the owner already stored keep their manifest when the options
 * state the same metadata, else the manifest is updated to the options (a new tier moves it,
 * leaving no copy in the old one), as ContentStore::put_stream says. Fails: SIH_QUOTA_EXCEEDED,
 * SIH_IO, SIH_NOT_FOUND (source_hub_id names no registered hub). */
SIH_API sih_status sih_cas_put_bytes(sih_hub* hub, const uint8_t* bytes, size_t size,
                                     const char* owner, const sih_put_options* options,
                                     char** out_cid);
/* Hot path: stores what `read` yields, in bounded memory. Fails as put_bytes, and
 * SIH_CALLBACK_ABORTED (nothing stored). */
SIH_API sih_status sih_cas_put_stream(sih_hub* hub, sih_read_fn read, void* payload,
                                      const char* owner, const sih_put_options* options,
                                      char** out_cid);
/* As sih_cas_put_stream, for a stream that yields exactly `declared_size` bytes (an HTTP
 * Content-Length): the owner's quotas are checked against it before `read` is first called
 * (SIH_QUOTA_EXCEEDED without reading), and a stream yielding more bytes (refused before the
 * excess is hashed) or fewer fails with SIH_INVALID_ARGUMENT naming "declaredSize"; nothing is
 * stored. sih_cas_put_bytes and sih_cas_put_file check their known size the same way. */
SIH_API sih_status sih_cas_put_stream_sized(sih_hub* hub, sih_read_fn read, void* payload,
                                            uint64_t declared_size, const char* owner,
                                            const sih_put_options* options, char** out_cid);
SIH_API sih_status sih_cas_put_file(sih_hub* hub, const char* path, const char* owner,
                                    const sih_put_options* options, char** out_cid);
/* Hot path: streams `length` bytes (SIH_TO_END: all) from `offset` to `write`, verifying
 * every block. Fails: SIH_NOT_FOUND (unknown or unreadable), SIH_INTEGRITY (no byte of a bad
 * block is written), SIH_CALLBACK_ABORTED. */
#define SIH_TO_END UINT64_MAX
SIH_API sih_status sih_cas_get(sih_hub* hub, const char* content_id, const char* principal,
                               uint64_t offset, uint64_t length, sih_write_fn write, void* payload);
/* get() into one buffer for sih_free (*out_bytes is NULL when *out_size is 0). */
SIH_API sih_status sih_cas_get_bytes(sih_hub* hub, const char* content_id, const char* principal,
                                     uint64_t offset, uint64_t length, uint8_t** out_bytes,
                                     size_t* out_size);
SIH_API sih_status sih_cas_stat(sih_hub* hub, const char* content_id, const char* principal,
                                char** out_json);
/* Manifests visible to `principal`, newest first; `owner` NULL: anyone's; limit 1..10000. */
SIH_API sih_status sih_cas_list(sih_hub* hub, const char* principal, const char* owner,
                                int64_t limit, char** out_json);
/* Removes the principal's own manifest; named references never block it (they then resolve
 * as SIH_NOT_FOUND). Fails: SIH_NOT_FOUND (unknown or unreadable), SIH_PERMISSION_DENIED
 * (readable, not owned). */
SIH_API sih_status sih_cas_remove(sih_hub* hub, const char* content_id, const char* principal);
SIH_API sih_status sih_cas_move_to_tier(sih_hub* hub, const char* content_id, const char* principal,
                                        sih_storage_tier tier, char** out_json);
/* Membership changes by the acting `principal`: a member of the community, the founder of an
 * empty one adding itself, or the operator ("operator"). Fails: SIH_INVALID_ARGUMENT (empty
 * community or member), SIH_PERMISSION_DENIED (anyone else). */
SIH_API sih_status sih_cas_add_community_member(sih_hub* hub, const char* community_id,
                                                const char* member, const char* principal);
SIH_API sih_status sih_cas_remove_community_member(sih_hub* hub, const char* community_id,
                                                   const char* member, const char* principal);
/* A JSON array of the community ids of `member` that `principal` may see (all when it is the
 * member or the operator, else only those it shares). */
SIH_API sih_status sih_cas_communities_of(sih_hub* hub, const char* member, const char* principal,
                                          char** out_json);
/* name@version → CID: {"name", "version", "contentId", "owner", "createdAt"}, only for content
 * `principal` may read. Fails: SIH_NOT_FOUND (content unknown or unreadable),
 * SIH_PERMISSION_DENIED (the name is another's), SIH_CONFLICT (the version points elsewhere). */
SIH_API sih_status sih_cas_set_reference(sih_hub* hub, const char* name, const char* version,
                                         const char* content_id, const char* principal,
                                         char** out_json);
/* `version` NULL: the latest one whose content `principal` may read. Fails: SIH_NOT_FOUND (no
 * such reference, or its content is unreadable or gone). */
SIH_API sih_status sih_cas_resolve_reference(sih_hub* hub, const char* name, const char* version,
                                             const char* principal, char** out_json);
/* The versions whose content `principal` may read, oldest first (a JSON array). */
SIH_API sih_status sih_cas_reference_versions(sih_hub* hub, const char* name, const char* principal,
                                              char** out_json);
/* Deletes name@version; only the name's owner may. Fails: SIH_NOT_FOUND (none visible),
 * SIH_PERMISSION_DENIED (visible, not owned). */
SIH_API sih_status sih_cas_remove_reference(sih_hub* hub, const char* name, const char* version,
                                            const char* principal);
/* Writes the content's DAG as a CAR v1 stream. */
SIH_API sih_status sih_cas_export_car(sih_hub* hub, const char* content_id, const char* principal,
                                      sih_write_fn write, void* payload);
/* Reads a CAR v1 stream; returns the manifests of its roots as a JSON array. */
SIH_API sih_status sih_cas_import_car(sih_hub* hub, sih_read_fn read, void* payload,
                                      const char* owner, const sih_put_options* options,
                                      char** out_json);
/* [{"contentId", "hubId", "state", "updatedAt"}, ...] of content `principal` may read.
 * Fails: SIH_NOT_FOUND (unknown or unreadable). */
SIH_API sih_status sih_cas_replicas(sih_hub* hub, const char* content_id, const char* principal,
                                    char** out_json);
/* [{"contentId", "targetHubId", "sourceHubIds": [...]}, ...]. */
SIH_API sih_status sih_cas_repair_plan(sih_hub* hub, const char* const* offline_hub_ids,
                                       size_t offline_hub_count, char** out_json);
SIH_API sih_status sih_cas_confirm_replica(sih_hub* hub, const char* content_id,
                                           const char* hub_id);
SIH_API sih_status sih_cas_fail_replica(sih_hub* hub, const char* content_id, const char* hub_id);
/* `sample_blocks` SIH_NONE: every block. {"blocksChecked", "bytesChecked", "problems":
 * [{"blockCid", "tier", "problem", "contentIds"}]}. */
SIH_API sih_status sih_cas_scrub(sih_hub* hub, int64_t sample_blocks, char** out_json);
SIH_API sih_status sih_cas_collect_garbage(sih_hub* hub, int64_t* out_removed);
/* `total_bytes` SIH_NONE: no total limit. `owner` "*": the default. */
SIH_API sih_status sih_cas_set_quota(sih_hub* hub, const char* owner, int64_t upload_bytes_per_hour,
                                     int64_t total_bytes);
/* {"uploadBytesPerHour", "totalBytes" (or null)}. */
SIH_API sih_status sih_cas_quota(sih_hub* hub, const char* owner, char** out_json);
/* Where the content store keeps its blocks, when the host brings its own storage (object
 * storage, a remote disk) instead of the hub's blob folder. Every callback gets `payload`, is
 * called from any of the hub's threads at once, and must stay valid while the hub is open.
 * A callback returns 0 on success and a negative number on failure, which the calling
 * operation reports as SIH_IO (and, for a put, leaves no manifest). */
#define SIH_BLOB_BACKEND_VERSION 1
typedef struct sih_blob_backend {
    uint32_t version; /* SIH_BLOB_BACKEND_VERSION */
    void* payload;
    /* Stores one block, already verified to match `cid`; it need not be readable before
     * `commit`. Required. */
    int (*write)(void* payload, sih_storage_tier tier, const char* cid, const uint8_t* bytes,
                 size_t size);
    /* Makes every block written since the last commit of this put durable and readable.
     * Optional (NULL: write is already durable). */
    int (*commit)(void* payload, sih_storage_tier tier);
    /* 1 if the tier holds the block, 0 if not, negative on failure. Required. */
    int (*contains)(void* payload, sih_storage_tier tier, const char* cid);
    /* Passes the stored bytes to `sink` (once or in pieces) and returns 0; returns 1 when the
     * block is absent; negative on failure. Required. */
    int (*read)(void* payload, sih_storage_tier tier, const char* cid, sih_write_fn sink,
                void* sink_payload);
    /* Removes the block if present. Required. */
    int (*remove)(void* payload, sih_storage_tier tier, const char* cid);
    /* Calls `visit` with every block's CID in the tier. Required. */
    int (*list)(void* payload, sih_storage_tier tier,
                void (*visit)(void* visit_payload, const char* cid), void* visit_payload);
} sih_blob_backend;

/* Replaces the hub's blob backend (the default keeps blocks under <hub>/blobs). The struct is
 * copied. REQUIRES: no other call on the hub's content store is in progress. Fails:
 * SIH_INVALID_ARGUMENT (NULL, an unknown version, a required callback missing). A put whose
 * blocks were written but not committed removes them again through `remove`. */
SIH_API sih_status sih_cas_use_backend(sih_hub* hub, const sih_blob_backend* backend);

/* Computes the CID of bytes without storing them (options as for put; NULL: defaults). */
SIH_API sih_status sih_cid_of_bytes(const uint8_t* bytes, size_t size,
                                    const sih_put_options* options, char** out_cid);

/* ---- heat ledger ---------------------------------------------------------------------------
 * Records are the JSON of HeatRecord / CreditRate / HeatCredit / HeatStats / HeatSettlement /
 * HeatSeries ::to_json (energies as exact decimal kWh). */

/* `heat_json`: {"hubId", "kind" ("battery-losses" | "standalone-heater" | "other"), "tag",
 * "at"? (ms), "thermalKwh" ("1.5"), "electricalKwh"?, "energySource"?}. Fails:
 * SIH_NOT_FOUND (unknown hub). */
SIH_API sih_status sih_heat_record(sih_hub* hub, const char* heat_json, char** out_json);
/* A JSON array of such records, in one transaction: all or none. */
SIH_API sih_status sih_heat_record_many(sih_hub* hub, const char* heat_json, char** out_json);
/* The rate in minor units of `currency` per kWh thermal from `effective_from_ms` on.
 * Fails: SIH_NOT_FOUND, SIH_CONFLICT (before the last settled period; another currency). */
SIH_API sih_status sih_heat_set_credit_rate(sih_hub* hub, const char* hub_id,
                                            int64_t minor_units_per_kwh, const char* currency,
                                            int64_t effective_from_ms, char** out_json);
SIH_API sih_status sih_heat_credit_rates(sih_hub* hub, const char* hub_id, char** out_json);
/* Either bound may be SIH_NONE (start: the last settled end; end: now). */
SIH_API sih_status sih_heat_credits(sih_hub* hub, const char* hub_id, int64_t period_start_ms,
                                    int64_t period_end_ms, char** out_json);
SIH_API sih_status sih_heat_stats(sih_hub* hub, const char* hub_id, char** out_json);
/* Idempotent for the same period. Fails: SIH_CONFLICT (overlaps another settled period). */
SIH_API sih_status sih_heat_settle(sih_hub* hub, const char* hub_id, int64_t period_start_ms,
                                   int64_t period_end_ms, char** out_json);
SIH_API sih_status sih_heat_settlements(sih_hub* hub, const char* hub_id, char** out_json);
/* `resolution`: "hour" or "day". */
SIH_API sih_status sih_heat_series(sih_hub* hub, const char* hub_id, const char* resolution,
                                   int64_t from_ms, int64_t to_ms, char** out_json);
/* Stats and series summed over every hub of a site or region (HeatGroupStats /
 * HeatGroupSeries ::to_json). `group_by`: "site" or "region"; `group`: its name. Fails:
 * SIH_NOT_FOUND (no hub there), SIH_CONFLICT (stats of hubs crediting in different
 * currencies), SIH_INVALID_ARGUMENT (bad names or bounds, a sum beyond int64). */
SIH_API sih_status sih_heat_group_stats(sih_hub* hub, const char* group_by, const char* group,
                                        char** out_json);
SIH_API sih_status sih_heat_group_series(sih_hub* hub, const char* group_by, const char* group,
                                         const char* resolution, int64_t from_ms, int64_t to_ms,
                                         char** out_json);
/* `window_ms` SIH_NONE: 15 minutes. */
SIH_API sih_status sih_heat_unmet_demand_w(sih_hub* hub, const char* hub_id, int64_t window_ms,
                                           int64_t* out_watts);

/* ---- settlement ----------------------------------------------------------------------------
 * Accounts are named by their id "kind/owner/currency" ("client/alice/USD"). Amounts are
 * exact decimal strings in the currency ("10.50"). Records are the JSON of Account /
 * Transfer / AccountEntry / EpochRecord / Payout / JobCharge / MarketTransaction /
 * Reputation ::to_json. */

/* The hub settings, as sih_hub_settings gives them (kept for older hosts). */
SIH_API sih_status sih_settlement_options(sih_hub* hub, char** out_json);
/* The operator's EIP-55 address, which signs every epoch. */
SIH_API sih_status sih_settlement_operator_address(sih_hub* hub, char** out_address);
/* Whom this hub's receipts may be signed by, as sih_receipt_verify takes them: the operator's
 * address, then every earlier address that signed a finalized epoch, separated by commas
 * ("0xAb..,0xCd.."). */
SIH_API sih_status sih_settlement_trusted_signers(sih_hub* hub, char** out_signers);
/* {"amount", "currency", "minorUnits"}: the price table's entry for `job_type`. */
SIH_API sih_status sih_settlement_price_of(sih_hub* hub, const char* job_type, char** out_json);
/* The job's charge, or the JSON `null` for a free job or an unknown id. */
SIH_API sih_status sih_settlement_charge_of(sih_hub* hub, const char* job_id, char** out_json);
/* The operator key file's path ("" with a host-supplied signer). */
SIH_API sih_status sih_settlement_operator_key_file(sih_hub* hub, char** out_path);
/* Replaces the operator key with a new random one / with `private_key_hex`; returns the new
 * address. Fails: SIH_CONFLICT (the key signed a finalized epoch and replace_signer is 0),
 * SIH_IO. */
SIH_API sih_status sih_settlement_generate_operator_key(sih_hub* hub, int replace_signer,
                                                        char** out_address);
SIH_API sih_status sih_settlement_import_operator_key(sih_hub* hub, const char* private_key_hex,
                                                      int replace_signer, char** out_address);

/* `request_json`: {"id", "debit", "credit" (account ids), "amount", "kind"?, "reference"?,
 * "pending"?, "timeoutAt"? (ms)}. Fails: SIH_CONFLICT (id used with other fields),
 * SIH_INSUFFICIENT_FUNDS (nothing written). */
SIH_API sih_status sih_settlement_transfer(sih_hub* hub, const char* request_json, char** out_json);
/* `amount` NULL: all of the pending amount. Fails: SIH_NOT_FOUND, SIH_CONFLICT. */
SIH_API sih_status sih_settlement_post_pending(sih_hub* hub, const char* id, const char* pending_id,
                                               const char* amount, char** out_json);
SIH_API sih_status sih_settlement_void_pending(sih_hub* hub, const char* id, const char* pending_id,
                                               char** out_json);
SIH_API sih_status sih_settlement_expire_pending(sih_hub* hub, int64_t* out_expired);
/* Funds a client or hub_operator account from outside; idempotent on the reference. */
SIH_API sih_status sih_settlement_top_up(sih_hub* hub, const char* account_id, const char* amount,
                                         const char* external_reference, char** out_json);
/* Pays out of a worker's or client's account under the idempotency key `id`.
 * Fails: SIH_INSUFFICIENT_FUNDS. `external_reference` may be NULL. */
SIH_API sih_status sih_settlement_withdraw(sih_hub* hub, const char* account_id, const char* amount,
                                           const char* id, const char* external_reference,
                                           char** out_json);
/* Fails: SIH_NOT_FOUND (never used). */
SIH_API sih_status sih_settlement_account(sih_hub* hub, const char* account_id, char** out_json);
/* `kind` NULL: every kind ("client", "worker", "hub_operator", ...). */
SIH_API sih_status sih_settlement_accounts(sih_hub* hub, const char* kind, char** out_json);
/* Newest first, `limit` 1..10000. */
SIH_API sih_status sih_settlement_history(sih_hub* hub, const char* account_id, int64_t limit,
                                          char** out_json);
SIH_API sih_status sih_settlement_transfer_by_id(sih_hub* hub, const char* id, char** out_json);
/* {"USD": minor units, ...}. */
SIH_API sih_status sih_settlement_deposits(sih_hub* hub, char** out_json);
SIH_API sih_status sih_settlement_withdrawals(sih_hub* hub, char** out_json);

/* `request_json`: {"id", "type" ("compute" | "storage" | "heat" | "energy"), "buyerHub",
 * "sellerHub", "quantity", "unitPrice" ("0.02"), "currency"?, "reference"?}. Fails:
 * SIH_NOT_FOUND (unknown hub), SIH_INSUFFICIENT_FUNDS, SIH_CONFLICT. */
SIH_API sih_status sih_settlement_create_market_transaction(sih_hub* hub, const char* request_json,
                                                            char** out_json);
SIH_API sih_status sih_settlement_settle_market_transaction(sih_hub* hub, const char* id,
                                                            char** out_json);
SIH_API sih_status sih_settlement_cancel_market_transaction(sih_hub* hub, const char* id,
                                                            char** out_json);
SIH_API sih_status sih_settlement_market_transaction(sih_hub* hub, const char* id, char** out_json);
/* `filter_json`: {"hub", "type", "status", "limit"}, all optional; NULL: {}. */
SIH_API sih_status sih_settlement_market_transactions(sih_hub* hub, const char* filter_json,
                                                      char** out_json);

SIH_API sih_status sih_settlement_worker_reputation(sih_hub* hub, const char* worker_id,
                                                    char** out_json);
SIH_API sih_status sih_settlement_hub_reputation(sih_hub* hub, const char* hub_id, char** out_json);
/* `subject`: "worker" or "hub"; best score first. */
SIH_API sih_status sih_settlement_reputations(sih_hub* hub, const char* subject, char** out_json);

SIH_API sih_status sih_settlement_current_epoch(sih_hub* hub, char** out_json);
/* Seals the active epoch (or finishes an interrupted seal): Merkle root, signature, payouts. */
SIH_API sih_status sih_settlement_seal_epoch(sih_hub* hub, char** out_json);
/* Seals when due; the JSON `null` when nothing was due. */
SIH_API sih_status sih_settlement_seal_due_epoch(sih_hub* hub, char** out_json);
/* The epoch's JSON carries "total_distributed" (its payouts' sum) and "previous_root" (the
 * previous epoch's jobs_merkle_root, signed in SUMMARY.json; null for epoch 1). */
SIH_API sih_status sih_settlement_epoch(sih_hub* hub, const char* epoch_id, char** out_json);
SIH_API sih_status sih_settlement_epochs(sih_hub* hub, char** out_json);
/* The epoch's jobs.json leaves as a JSON array of their JCS texts' objects. */
SIH_API sih_status sih_settlement_epoch_jobs(sih_hub* hub, const char* epoch_id, char** out_json);
/* Each payout's "status" is "pending" until withdrawals of the worker's account
 * (sih_settlement_withdraw, oldest payout first) cover it, then "paid". */
SIH_API sih_status sih_settlement_epoch_payouts(sih_hub* hub, const char* epoch_id,
                                                char** out_json);
/* {"jobs.json", "agents.json", "SUMMARY.json", "SIGNATURE.txt"} as strings, byte for byte: the
 * bundle's files under their file names.
 * Fails: SIH_NOT_FOUND, SIH_CONFLICT (not finalized). */
SIH_API sih_status sih_settlement_epoch_bundle(sih_hub* hub, const char* epoch_id, char** out_json);
/* The receipt document of a job in a finalized epoch. Fails: SIH_NOT_FOUND, SIH_CONFLICT. */
SIH_API sih_status sih_settlement_receipt(sih_hub* hub, const char* job_id, char** out_json);
/* {"epochs": [...]} for an explorer. */
SIH_API sih_status sih_settlement_index(sih_hub* hub, char** out_json);

/* Hex of sha256(job_id ‖ result_hash ‖ worker_id): the seed's proof of execution. */
SIH_API sih_status sih_proof_of_execution(const char* job_id, const char* result_hash,
                                          const char* worker_id, char** out_hex);

/* Worker signatures (EIP-191 personal_sign) of a proof of execution (sih_proof_of_execution), as
 * a worker makes them and the settlement checks them (requireWorkerSignatures). No hub needed. */
/* Signs `message` (`length` bytes) with the secp256k1 key `private_key` (64 hex digits, "0x"
 * optional): `*out_signature` is "0x" + 130 hex digits (r ‖ s ‖ v, v 27 or 28), deterministic
 * (RFC 6979), as ethers' signMessage makes it. Fails: SIH_INVALID_ARGUMENT naming
 * "private_key" (the message never repeats the key). */
SIH_API sih_status sih_eip191_sign(const char* private_key, const uint8_t* message, size_t length,
                                   char** out_signature);
/* `*out_valid` 1 if `signature` over `message` was made by the key of `address` (EIP-55 or
 * lowercase hex), else 0 (including a signature no key recovers from). Fails:
 * SIH_INVALID_ARGUMENT naming "signature" or "address" when either is malformed. */
SIH_API sih_status sih_eip191_verify(const uint8_t* message, size_t length, const char* signature,
                                     const char* address, int* out_valid);

/* What verifying a receipt found. Strings are NUL-terminated and truncated to their arrays
 * (on a UTF-8 character boundary). */
typedef enum sih_receipt_status {
    SIH_RECEIPT_VALID = 0,      /* the proof holds and a trusted signer signed the summary */
    SIH_RECEIPT_UNVERIFIED = 1, /* the proof holds, but no trusted signer was given */
    SIH_RECEIPT_INVALID = 2     /* malformed, tampered, or signed by an untrusted key */
} sih_receipt_status;
typedef struct sih_receipt_check {
    int valid;         /* 1 only when status is SIH_RECEIPT_VALID */
    char problem[256]; /* why not valid, "" when valid */
    char job_id[80];
    char epoch_id[80];
    char signer[48];    /* the EIP-55 address that signed the summary */
    int status;         /* a sih_receipt_status */
    int signer_trusted; /* 1: signer is one of the trusted signers */
} sih_receipt_check;

/* Hot path: checks a receipt document (as sih_settlement_receipt writes it) with no hub:
 * signature, Merkle proof, leaf and summary, each JSON text read strictly (see above), then
 * its signer against `trusted_signers`: one EIP-55 address or several separated by commas
 * (as sih_settlement_trusted_signers gives them). A receipt carries its own signer, so with
 * `trusted_signers` NULL or "" nothing vouches for it: status SIH_RECEIPT_UNVERIFIED, valid 0.
 * A malformed, invalid or untrusted receipt is SIH_OK with out_check->valid 0 and the problem
 * named. Fails: SIH_INVALID_ARGUMENT (receipt or out_check NULL, or a malformed address in
 * trusted_signers). */
SIH_API sih_status sih_receipt_verify(const char* receipt_json, size_t receipt_size,
                                      const char* trusted_signers, sih_receipt_check* out_check);

/* A verifier that remembers summaries it already checked, so receipts of one epoch cost one
 * signature recovery in all. Not thread-safe: one per thread. */
typedef struct sih_receipt_verifier sih_receipt_verifier;
SIH_API sih_status sih_receipt_verifier_new(sih_receipt_verifier** out_verifier);
/* As sih_receipt_verify. */
SIH_API sih_status sih_receipt_verifier_verify(sih_receipt_verifier* verifier,
                                               const char* receipt_json, size_t receipt_size,
                                               const char* trusted_signers,
                                               sih_receipt_check* out_check);
SIH_API void sih_receipt_verifier_destroy(sih_receipt_verifier** verifier);

/* ---- worker agent ----------------------------------------------------------------------- */

typedef struct sih_agent sih_agent;

typedef enum sih_execution_outcome {
    SIH_EXECUTION_SUCCEEDED = 0, /* exit status 0 */
    SIH_EXECUTION_FAILED = 1,    /* retried */
    SIH_EXECUTION_TIMED_OUT = 2, /* retried */
    SIH_EXECUTION_CANCELLED = 3, /* stopped on request */
    SIH_EXECUTION_REFUSED = 4    /* could not start: not retried */
} sih_execution_outcome;

/* One attempt of a job, as a C executor sees it (valid during the call only). */
typedef struct sih_execution_request {
    const char* job_json; /* the JobRecord */
    const char* job_id;
    int64_t attempt;
    const char* work_dir;      /* private to this attempt */
    const char* input_dir;     /* work_dir/input, inputs already fetched */
    const char* output_dir;    /* every regular file left here becomes an output CID */
    const char* const* inputs; /* input paths, in inputDataRefs order */
    size_t input_count;
    const char* stdout_file;
    const char* stderr_file;
    const void* internal; /* the library's; read through sih_execution_stop_requested() */
} sih_execution_request;

typedef struct sih_execution_result {
    sih_execution_outcome outcome; /* preset to SIH_EXECUTION_FAILED */
    int has_exit_code;
    int exit_code;
    char message[512]; /* why, for anything but success */
} sih_execution_result;

/* 1 when the agent asks the attempt to stop (drain, stop, lost lease): return promptly with
 * SIH_EXECUTION_CANCELLED. */
SIH_API int sih_execution_stop_requested(const sih_execution_request* request);

/* Runs one attempt to its end on one of the agent's threads (several at once with slots > 1)
 * and fills `result`. */
typedef void (*sih_executor_fn)(void* payload, const sih_execution_request* request,
                                sih_execution_result* result);
/* Told each event line of the agent (a job ended, the state changed), from its threads. */
typedef void (*sih_agent_event_fn)(void* payload, const char* line);

/* Version 2 added native_jobs, allowed_commands, allowed_command_count, bwrap_program and
 * unsandboxed_native. A struct of version 1 (compiled against an older header) is read
 * without them: native jobs sandboxed, any program allowed. Version 3 added worker_key_hex;
 * an older struct is read without it: no key, unsigned completions. */
#define SIH_AGENT_OPTIONS_VERSION 3
typedef struct sih_agent_options {
    uint32_t version;              /* SIH_AGENT_OPTIONS_VERSION */
    const char* worker_id;         /* NULL: "agent-" and the host name */
    const char* hub_id;            /* required; the hub must be registered */
    int64_t slots;                 /* default 1 */
    const char* hardware_json;     /* {"cpuCores", "memoryBytes", "gpus": [{"model", "vram"}]};
                                      NULL: detected */
    const char* labels_json;       /* {"key": "value"} added to the worker's labels; NULL: none */
    const char* work_root;         /* outside the hub folder (else SIH_INVALID_ARGUMENT); NULL:
                                      a new private folder, removed with the agent */
    int64_t heartbeat_interval_ms; /* 0: the hub setting heartbeatIntervalMs */
    int64_t renew_interval_ms;     /* 0: a third of the lease duration */
    int64_t poll_interval_ms;      /* default 1000 */
    sih_executor_fn executor;      /* NULL: the built-in process and container executors */
    void* executor_payload;
    sih_agent_event_fn on_event; /* optional */
    void* event_payload;
    /* Since version 2. Native jobs (containerImage "native") run in a bubblewrap sandbox that
     * sees only a read-only system and the job's own folders (see ProcessExecutor in
     * worker_agent.hpp). A job refused by these rules fails with the reason, not retried. */
    int native_jobs;                     /* default 1; 0: refuse every native job */
    const char* const* allowed_commands; /* programs native jobs may run (names on the jobs'
                                            PATH or absolute paths); NULL/0: any */
    size_t allowed_command_count;
    const char* bwrap_program; /* NULL: bwrap on /usr/local/bin:/usr/bin:/bin */
    /* DANGER: 1 runs native jobs WITHOUT A SANDBOX, as this process's user: a job can then
     * read operator.key, rewrite hub.db and use the network. Default 0. */
    int unsandboxed_native;
    /* Since version 3. The worker's secp256k1 private key, 64 hex digits ("0x" optional), or
     * NULL. With a key, each completion carries the proof of execution signed with it
     * (EIP-191) and the worker registers with the key's "address" label, so a hub with
     * requireWorkerSignatures takes its work; without, completions are unsigned. A malformed
     * key fails sih_agent_new with SIH_INVALID_ARGUMENT naming "worker_key" (the key itself
     * never appears in an error). The library copies the key; the caller may wipe its
     * buffer once sih_agent_new returns. */
    const char* worker_key_hex;
} sih_agent_options;

#define SIH_AGENT_OPTIONS_INIT                                                                    \
    {                                                                                             \
        SIH_AGENT_OPTIONS_VERSION, NULL, NULL, 1, NULL, NULL, NULL, 0, 0, 1000, NULL, NULL, NULL, \
            NULL, 1, NULL, 0, NULL, 0, NULL                                                       \
    }
SIH_API sih_status sih_agent_options_init(sih_agent_options* options, uint32_t version);

/* Prepares an agent for `hub` (which it keeps open; sih_hub_close stops the agent first).
 * Fails: SIH_INVALID_ARGUMENT (bad options: a work_root inside the hub folder, an allowed
 * command that is no program, ...). */
SIH_API sih_status sih_agent_new(sih_hub* hub, const sih_agent_options* options,
                                 sih_agent** out_agent);
/* Registers the worker and starts heartbeats, renewals and claiming. Returns the worker
 * record. Fails: SIH_NOT_FOUND (unknown hub), SIH_CONFLICT (already started). */
SIH_API sih_status sih_agent_start(sih_agent* agent, char** out_json);
/* Stops claiming and waits up to `grace_ms` for running jobs; hands back the rest. */
SIH_API sih_status sih_agent_drain(sih_agent* agent, int64_t grace_ms, int64_t* out_handed_back);
/* Drains with `grace_ms`, stops the threads and marks the worker offline. Idempotent. */
SIH_API sih_status sih_agent_stop(sih_agent* agent, int64_t grace_ms);
/* Waits (real time) until no job runs; *out_idle 1 if it became idle within `timeout_ms`. */
SIH_API sih_status sih_agent_wait_idle(sih_agent* agent, int64_t timeout_ms, int* out_idle);
/* {"state", "workerId", "slots", "running": [...], "completed", "failed", "handedBack",
 * "energyMwh", "energySource", "utilisationPpm", "powerDrawW"}. */
SIH_API sih_status sih_agent_status(sih_agent* agent, char** out_json);
SIH_API sih_status sih_agent_worker_id(sih_agent* agent, char** out_worker_id);
/* The hardware the agent reports: {"cpuCores", "memoryBytes", "gpus": [...]}. */
SIH_API sih_status sih_agent_hardware(sih_agent* agent, char** out_json);
/* Stops the agent (no grace) if it runs and releases it. */
SIH_API void sih_agent_destroy(sih_agent** agent);

/* The machine as the agent detects it: {"cpuCores", "memoryBytes", "gpus": [...]}. */
SIH_API sih_status sih_detect_hardware(char** out_json);

/* ---- the hub on the network (sihlicon/server.hpp) -------------------------------------- */

/* An HTTP/1.1 server (HTTPS with a certificate) over one hub: the endpoints, tokens, limits
 * and timeouts of sihlicon::Server (include/sihlicon/server.hpp documents them). */
typedef struct sih_server sih_server;

/* Receives one access log line per answered request (NUL-terminated, without a newline;
 * `TIME PEER "METHOD TARGET" STATUS BYTES MSms PRINCIPAL`, never a token). Called from the
 * server's threads, possibly from several at once; it must not stop or free the server. */
typedef void (*sih_access_log_fn)(void* payload, const char* line);

/* Starts serving `hub`. `options_json`: NULL for the defaults, or an object of any of
 * {"address" (an IP literal, default "127.0.0.1"), "port" (0..65535, default 0: a free one,
 * see sih_server_port), "tlsCertificate", "tlsPrivateKey" (PEM files, both or neither),
 * "maxConnections" (default 512), "headerLimit" (bytes, default 16384, at least 1024),
 * "bodyLimit" (bytes, default 1 MiB), "readTimeoutMs", "writeTimeoutMs" (default 30000),
 * "idleTimeoutMs" (default 60000), "threads" (1..1024, default 2), "maintenanceIntervalMs"
 * (0: none, else 1..86400000, default 60000: the server seals epochs when due and expires
 * pending transfers, server.hpp "Maintenance")} (ServerOptions::from_json, the codec Python
 * and Node use too). `access_log` may be NULL (no log). The hub must stay
 * open while the server runs: sih_hub_close stops the hub's servers first (a server stopped
 * so answers SIH_CONFLICT until freed). On success *out_server must be released with
 * sih_server_free(). Fails: SIH_INVALID_ARGUMENT (an unknown key, a wrong type or a value
 * out of range, named; a TLS file OpenSSL refuses), SIH_IO (the address cannot be bound). */
SIH_API sih_status sih_server_start(sih_hub* hub, const char* options_json,
                                    sih_access_log_fn access_log, void* access_log_payload,
                                    sih_server** out_server);
/* The port listened on (the one chosen when 0 was asked for). Fails: SIH_CONFLICT (stopped,
 * or its hub closed). */
SIH_API sih_status sih_server_port(const sih_server* server, int* out_port);
/* Stops accepting, lets the requests in flight finish (at most readTimeoutMs +
 * writeTimeoutMs), closes every connection and joins the server's threads. Idempotent. */
SIH_API sih_status sih_server_stop(sih_server* server);
/* Stops the server if it runs and releases it (also after its hub was closed). sih_server_port
 * and sih_server_stop may be called from any thread; sih_server_free when no other thread uses
 * the server. */
SIH_API void sih_server_free(sih_server** server);

#ifdef __cplusplus
}
#endif

#endif /* SIHLICON_H */
