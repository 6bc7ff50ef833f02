/* SPDX-License-Identifier: Apache-2.0
 *
 * The C ABI, specified from C11: every function on its success path and its error paths
 * (NULL arguments, malformed JSON, stale leases, wrong options-struct versions), against the
 * shared library exactly as a C program links it. Usage: capi_test [test name].
 * Compiled as strict ISO C11 (no GNU extensions); POSIX for the temporary folders and threads.
 */
#define _POSIX_C_SOURCE 200809L

#include <sihlicon.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int failures = 0;

#define CHECK(condition)                                                                      \
    do {                                                                                      \
        if (!(condition)) {                                                                   \
            fprintf(stderr, "%s:%d: CHECK(%s) failed (last error: %s)\n", __FILE__, __LINE__, \
                    #condition, sih_last_error());                                            \
            ++failures;                                                                       \
        }                                                                                     \
    } while (0)
#define OK(call) CHECK((call) == SIH_OK)
#define FAILS(call, status) CHECK((call) == (status))

/* Whether `*json` contains `needle`; frees it and sets it to NULL. */
static int has(char** json, const char* needle) {
    int found = *json != NULL && strstr(*json, needle) != NULL;
    if (!found) {
        fprintf(stderr, "  expected %s in %s\n", needle, *json ? *json : "(null)");
    }
    sih_free(*json);
    *json = NULL;
    return found;
}

/* The last error names `field`. */
static int error_names(const char* field) {
    int named =
        strstr(sih_last_error_field(), field) != NULL || strstr(sih_last_error(), field) != NULL;
    if (!named) {
        fprintf(stderr, "  expected the error to name %s: %s (field %s)\n", field, sih_last_error(),
                sih_last_error_field());
    }
    return named;
}

static char directory[256];

/* A new private folder under $TMPDIR (else /tmp); the six X are mkdtemp's template. */
static void fresh_directory(void) {
    const char* tmp = getenv("TMPDIR");
    snprintf(directory, sizeof directory, "%s/sihlicon-capi-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(directory) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
}

static void remove_directory(void) {
    char command[300];
    snprintf(command, sizeof command, "rm -rf '%s'", directory);
    if (system(command) != 0) {
        fprintf(stderr, "could not remove %s\n", directory);
    }
}

static const int64_t kStart = 1767225600000; /* 2026-01-01T00:00:00Z */

static const char* kHubSpec =
    "{\"hubId\":\"hub-zurich\",\"name\":\"Zurich pool\",\"site\":\"zh-1\","
    "\"region\":\"CH\",\"heatRecoveryPpm\":900000,\"powerCapacityW\":20000}";
static const char* kWorkerSpec =
    "{\"workerId\":\"worker-1\",\"hubId\":\"hub-zurich\",\"cpu\":\"8\",\"memory\":\"16Gi\","
    "\"executors\":[\"native\",\"container\"]}";

/* Opens a hub on a manual clock with charging on. */
static sih_hub* open_hub(sih_clock** out_clock) {
    fresh_directory();
    sih_clock* clock = NULL;
    OK(sih_clock_new_manual(kStart, &clock));
    sih_hub_options options = SIH_HUB_OPTIONS_INIT;
    options.clock = clock;
    options.durability = SIH_DURABILITY_PROCESS_CRASH;
    options.settlement_options_json =
        "{\"chargeJobs\":true,\"defaultPrice\":\"0.10\",\"submissionsPerHour\":0}";
    sih_hub* hub = NULL;
    OK(sih_hub_open(directory, &options, &hub));
    CHECK(hub != NULL);
    if (hub == NULL) {
        exit(1);
    }
    OK(sih_scheduler_register_hub(hub, kHubSpec, NULL));
    OK(sih_scheduler_register_worker(hub, kWorkerSpec, NULL));
    *out_clock = clock;
    return hub;
}

static void close_hub(sih_hub** hub, sih_clock** clock) {
    sih_hub_close(hub);
    CHECK(*hub == NULL);
    sih_clock_destroy(clock);
    CHECK(*clock == NULL);
    remove_directory();
}

/* ---- common ---------------------------------------------------------------------------- */

static void test_version_status_and_memory(void) {
    CHECK(strcmp(sih_version(), SIH_VERSION_STRING) == 0);
    CHECK(strcmp(sih_status_name(SIH_OK), "ok") == 0);
    CHECK(strcmp(sih_status_name(SIH_CONFLICT), "conflict") == 0);
    CHECK(strcmp(sih_status_name(SIH_INTERNAL), "internal") == 0);
    CHECK(strcmp(sih_status_name(SIH_OUT_OF_MEMORY), "out_of_memory") == 0);
    CHECK(strcmp(sih_status_name(SIH_CALLBACK_ABORTED), "callback_aborted") == 0);
    CHECK(strcmp(sih_status_name((sih_status)99), "unknown") == 0);
    sih_free(NULL);
    CHECK(sih_hub_latest_schema_version() >= 6);
}

static void test_errors_are_per_thread_and_name_the_field(void) {
    FAILS(sih_hub_open(NULL, NULL, NULL), SIH_INVALID_ARGUMENT);
    CHECK(sih_last_error_code() == SIH_INVALID_ARGUMENT);
    CHECK(error_names("directory"));
    char* address = (char*)"untouched";
    FAILS(sih_settlement_operator_address(NULL, &address), SIH_INVALID_ARGUMENT);
    CHECK(strcmp(address, "untouched") == 0); /* out-parameters untouched on failure */
    CHECK(error_names("hub"));
}

static void test_manual_clock(void) {
    sih_clock* clock = NULL;
    FAILS(sih_clock_new_manual(0, NULL), SIH_INVALID_ARGUMENT);
    OK(sih_clock_new_manual(1000, &clock));
    int64_t now = 0;
    OK(sih_clock_now(clock, &now));
    CHECK(now == 1000);
    OK(sih_clock_advance(clock, 500));
    OK(sih_clock_now(clock, &now));
    CHECK(now == 1500);
    OK(sih_clock_set(clock, 10));
    OK(sih_clock_now(clock, &now));
    CHECK(now == 10);
    OK(sih_clock_set(clock, INT64_MAX - 1));
    FAILS(sih_clock_advance(clock, 10), SIH_INVALID_ARGUMENT); /* overflow: unchanged */
    OK(sih_clock_now(clock, &now));
    CHECK(now == INT64_MAX - 1);
    FAILS(sih_clock_now(NULL, &now), SIH_INVALID_ARGUMENT);
    FAILS(sih_clock_set(NULL, 1), SIH_INVALID_ARGUMENT);
    FAILS(sih_clock_advance(NULL, 1), SIH_INVALID_ARGUMENT);
    sih_clock_destroy(&clock);
    CHECK(clock == NULL);
    sih_clock_destroy(&clock); /* a pointer to NULL */
    sih_clock_destroy(NULL);
}

/* ---- hubs ------------------------------------------------------------------------------ */

static void test_hub_options_and_open_errors(void) {
    sih_hub_options options;
    FAILS(sih_hub_options_init(&options, 0), SIH_INVALID_ARGUMENT);
    FAILS(sih_hub_options_init(&options, SIH_HUB_OPTIONS_VERSION + 1), SIH_INVALID_ARGUMENT);
    FAILS(sih_hub_options_init(NULL, SIH_HUB_OPTIONS_VERSION), SIH_INVALID_ARGUMENT);
    OK(sih_hub_options_init(&options, SIH_HUB_OPTIONS_VERSION));
    CHECK(options.create_if_missing == 1 && options.busy_timeout_ms == 30000 &&
          options.reader_connections == 4 && options.clock == NULL &&
          options.commit_interval_ms == 0);
    /* A version 1 struct (an older header's) ends before commit_interval_ms: init leaves it. */
    options.commit_interval_ms = 77;
    OK(sih_hub_options_init(&options, 1));
    CHECK(options.version == 1 && options.commit_interval_ms == 77);

    fresh_directory();
    sih_hub* hub = NULL;
    options.version = 7;
    FAILS(sih_hub_open(directory, &options, &hub), SIH_INVALID_ARGUMENT);
    CHECK(error_names("options.version"));
    CHECK(hub == NULL);

    OK(sih_hub_options_init(&options, SIH_HUB_OPTIONS_VERSION));
    options.scheduler_options_json = "{\"leaseDurationMs\":";
    FAILS(sih_hub_open(directory, &options, &hub), SIH_INVALID_ARGUMENT);
    options.scheduler_options_json = "{\"leaseDuration\":5}";
    FAILS(sih_hub_open(directory, &options, &hub), SIH_INVALID_ARGUMENT);
    CHECK(error_names("leaseDuration"));
    options.scheduler_options_json = NULL;
    options.settlement_options_json = "{\"defaultPrice\":\"ten\"}";
    FAILS(sih_hub_open(directory, &options, &hub), SIH_INVALID_ARGUMENT);
    CHECK(error_names("defaultPrice"));
    options.settlement_options_json = NULL;
    options.durability = (sih_durability)5;
    FAILS(sih_hub_open(directory, &options, &hub), SIH_INVALID_ARGUMENT);
    CHECK(error_names("durability"));
    OK(sih_hub_options_init(&options, SIH_HUB_OPTIONS_VERSION));
    options.commit_interval_ms = -1;
    FAILS(sih_hub_open(directory, &options, &hub), SIH_INVALID_ARGUMENT);
    CHECK(error_names("commit_interval"));

    char missing[300];
    snprintf(missing, sizeof missing, "%s/absent", directory);
    OK(sih_hub_options_init(&options, SIH_HUB_OPTIONS_VERSION));
    options.create_if_missing = 0;
    FAILS(sih_hub_open(missing, &options, &hub), SIH_NOT_FOUND);
    FAILS(sih_hub_open("", NULL, &hub), SIH_INVALID_ARGUMENT);
    FAILS(sih_hub_open(directory, NULL, NULL), SIH_INVALID_ARGUMENT);

    /* Defaults (options NULL) open; info names the schema. */
    OK(sih_hub_open(directory, NULL, &hub));
    char* info = NULL;
    OK(sih_hub_info(hub, &info));
    CHECK(has(&info, "\"schemaVersion\""));
    sih_hub_close(&hub);
    CHECK(hub == NULL);
    sih_hub_close(&hub);
    sih_hub_close(NULL);

    /* With a write log: the hub opens, and closing it commits the log (which then no longer
     * starts with a record's magic, "SIHW"). */
    OK(sih_hub_options_init(&options, SIH_HUB_OPTIONS_VERSION));
    options.commit_interval_ms = 10;
    OK(sih_hub_open(directory, &options, &hub));
    OK(sih_hub_info(hub, &info));
    CHECK(has(&info, "\"schemaVersion\""));
    sih_hub_close(&hub);
    char log_path[320];
    snprintf(log_path, sizeof log_path, "%s/hub.db-log", directory);
    FILE* log = fopen(log_path, "rb");
    CHECK(log != NULL);
    if (log != NULL) {
        char magic[4] = {0};
        CHECK(fread(magic, 1, sizeof magic, log) < sizeof magic ||
              memcmp(magic, "SIHW", sizeof magic) != 0);
        fclose(log);
    }
    remove_directory();
}

/* ---- scheduler ------------------------------------------------------------------------- */

static int events_seen = 0;
static void count_event(void* payload, const char* event_json) {
    (void)payload;
    if (strstr(event_json, "\"jobId\"") != NULL) {
        ++events_seen;
    }
}

static void test_scheduler_hubs_and_workers(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    char* json = NULL;

    FAILS(sih_scheduler_register_hub(hub, kHubSpec, NULL), SIH_CONFLICT);
    FAILS(sih_scheduler_register_hub(hub, "{\"hubId\":", NULL), SIH_INVALID_ARGUMENT);
    FAILS(sih_scheduler_register_hub(hub, NULL, NULL), SIH_INVALID_ARGUMENT);
    CHECK(error_names("spec_json"));
    OK(sih_scheduler_hub(hub, "hub-zurich", &json));
    CHECK(has(&json, "\"hubId\":\"hub-zurich\""));
    FAILS(sih_scheduler_hub(hub, "hub-nowhere", &json), SIH_NOT_FOUND);
    OK(sih_scheduler_update_hub(hub,
                                "{\"hubId\":\"hub-zurich\",\"name\":\"Zurich pool 2\",\"site\":"
                                "\"zh-1\",\"region\":\"CH\",\"heatRecoveryPpm\":900000,"
                                "\"powerCapacityW\":20000}",
                                &json));
    CHECK(has(&json, "Zurich pool 2"));
    FAILS(sih_scheduler_update_hub(hub,
                                   "{\"hubId\":\"hub-x\",\"name\":\"x\",\"site\":\"x\","
                                   "\"region\":\"CH\"}",
                                   NULL),
          SIH_NOT_FOUND);
    OK(sih_scheduler_hubs(hub, &json));
    CHECK(has(&json, "hub-zurich"));
    OK(sih_scheduler_set_grid_state(hub, "hub-zurich",
                                    "{\"signal\":\"throttle\",\"powerBudgetW\":5000}", &json));
    CHECK(has(&json, "throttle"));
    FAILS(sih_scheduler_set_grid_state(hub, "hub-zurich", "{\"signal\":\"loud\"}", NULL),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("signal"));
    OK(sih_scheduler_set_grid_state(hub, "hub-zurich", "{\"signal\":\"normal\"}", NULL));
    OK(sih_scheduler_set_heat_demand(hub, "hub-zurich", 4000, SIH_NONE, &json));
    CHECK(has(&json, "4000"));

    OK(sih_scheduler_heartbeat(hub, "worker-1", 250000, 180, &json));
    CHECK(has(&json, "\"workerId\":\"worker-1\""));
    FAILS(sih_scheduler_heartbeat(hub, "worker-9", 0, 0, NULL), SIH_NOT_FOUND);
    OK(sih_scheduler_worker(hub, "worker-1", &json));
    CHECK(has(&json, "worker-1"));
    OK(sih_scheduler_workers(hub, NULL, &json));
    CHECK(has(&json, "worker-1"));
    OK(sih_scheduler_workers(hub, "hub-zurich", &json));
    CHECK(has(&json, "worker-1"));
    FAILS(sih_scheduler_set_worker_status(hub, "worker-1", "sleepy", NULL), SIH_INVALID_ARGUMENT);
    OK(sih_scheduler_set_worker_status(hub, "worker-1", "draining", &json));
    CHECK(has(&json, "draining"));
    OK(sih_scheduler_set_worker_status(hub, "worker-1", "online", NULL));
    FAILS(sih_scheduler_register_worker(hub, "{\"hubId\":\"hub-zurich\",\"cpu\":\"0\"}", NULL),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("cpu"));
    /* Executors pass through the spec JSON and show in the record; no field means native. */
    OK(sih_scheduler_worker(hub, "worker-1", &json));
    CHECK(has(&json, "\"executors\":[\"native\",\"container\"]"));
    OK(sih_scheduler_register_worker(
        hub, "{\"workerId\":\"worker-2\",\"hubId\":\"hub-zurich\",\"cpu\":\"1\"}", &json));
    CHECK(has(&json, "\"executors\":[\"native\"]"));
    FAILS(sih_scheduler_register_worker(
              hub, "{\"hubId\":\"hub-zurich\",\"cpu\":\"1\",\"executors\":[\"native\",\"vm\"]}",
              NULL),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("executors[1]"));
    OK(sih_scheduler_set_worker_status(hub, "worker-2", "offline", NULL));

    OK(sih_scheduler_options(hub, &json));
    CHECK(has(&json, "\"claimScanLimit\":256"));
    /* A hub-wide setting is not a process option. */
    FAILS(sih_scheduler_set_options(hub, "{\"submissionsPerHour\":5}"), SIH_INVALID_ARGUMENT);
    CHECK(error_names("submissionsPerHour"));
    OK(sih_scheduler_set_options(hub, "{\"leaseDurationMs\":120000}"));
    OK(sih_scheduler_options(hub, &json));
    CHECK(has(&json, "\"leaseDurationMs\":120000"));
    FAILS(sih_scheduler_set_options(hub, "{\"claimScanLimit\":0}"), SIH_INVALID_ARGUMENT);
    FAILS(sih_scheduler_set_options(hub, NULL), SIH_INVALID_ARGUMENT);
    close_hub(&hub, &clock);
}

/* A heartbeat's GPU stats (sih_scheduler_heartbeat_json), checked against the registered
   GPUs and shown in the worker's record. */
static void test_scheduler_heartbeat_gpu_stats(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    char* json = NULL;
    OK(sih_scheduler_register_worker(hub,
                                     "{\"workerId\":\"worker-gpu\",\"hubId\":\"hub-zurich\","
                                     "\"cpu\":\"8\",\"gpus\":[{\"model\":\"NVIDIA L4\","
                                     "\"vram\":\"1Gi\"}]}",
                                     NULL));
    OK(sih_scheduler_heartbeat_json(
        hub, "worker-gpu",
        "{\"utilisationPpm\":5,\"gpus\":[{\"utilisationPpm\":750000,\"vramUsed\":1024}]}", &json));
    CHECK(has(&json, "\"gpuStats\":[{\"utilisationPpm\":750000,\"vramUsed\":1024}]"));
    OK(sih_scheduler_workers(hub, "hub-zurich", &json));
    CHECK(has(&json, "\"vramUsed\":1024"));
    FAILS(sih_scheduler_heartbeat_json(hub, "worker-gpu", "{\"gpus\":[{\"vramUsed\":1073741825}]}",
                                       &json),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("gpus[0].vramUsed"));
    CHECK(strstr(sih_last_error(), "1073741825") != NULL);
    FAILS(sih_scheduler_heartbeat_json(hub, "worker-gpu", "{\"gpus\":[{},{}]}", NULL),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("gpus"));
    FAILS(sih_scheduler_heartbeat_json(hub, "worker-gpu", "{\"gpu\":[]}", NULL),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("gpu"));
    FAILS(sih_scheduler_heartbeat_json(hub, "worker-gpu", NULL, NULL), SIH_INVALID_ARGUMENT);
    CHECK(error_names("beat_json"));
    FAILS(sih_scheduler_heartbeat_json(hub, "worker-9", "{}", NULL), SIH_NOT_FOUND);
    OK(sih_scheduler_worker(hub, "worker-gpu", &json)); /* the refused beats stored nothing */
    CHECK(has(&json, "\"vramUsed\":1024"));
    close_hub(&hub, &clock);
}

#define JOB_JSON(type)                                                \
    "{\"jobType\":\"" type                                            \
    "\",\"jobName\":\"scan\",\"workloadConfig\":{\"containerImage\":" \
    "\"native\",\"command\":[\"true\"],\"resources\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}"
static const char* kJob = JOB_JSON("ocr");

/* Inputs as users write them (ipfs://, CIDv0) are stored as CIDv1; estimatedComputeKwh is
   shown, bounded, and turned into each hub's expected heat by explain. */
static void test_scheduler_seed_fields(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    char* json = NULL;
    OK(sih_settlement_top_up(hub, "client/alice/USD", "5.00", "bank-1", NULL));
#define SEED_JOB(extra)                                                                 \
    "{\"jobType\":\"ocr\",\"jobName\":\"scan\",\"workloadConfig\":{\"containerImage\":" \
    "\"native\",\"resources\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}," extra "}"
    FAILS(sih_scheduler_submit_json(hub, SEED_JOB("\"inputDataRefs\":[\"ipfs://nope\"]"), "alice",
                                    &json),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("inputDataRefs[0]") && error_names("ipfs://nope"));
    FAILS(
        sih_scheduler_submit_json(hub, SEED_JOB("\"estimatedComputeKwh\":100001"), "alice", &json),
        SIH_INVALID_ARGUMENT);
    CHECK(error_names("estimatedComputeKwh"));
    OK(sih_scheduler_submit_json(
        hub,
        SEED_JOB("\"estimatedComputeKwh\":2,\"inputDataRefs\":"
                 "[\"ipfs://QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR\"]"),
        "alice", &json));
#undef SEED_JOB
    CHECK(json != NULL && strstr(json, "\"estimatedComputeKwh\":2") != NULL);
    char job_id[80] = {0};
    {
        const char* at = json != NULL ? strstr(json, "\"jobId\":\"") : NULL;
        CHECK(at != NULL);
        if (at != NULL) {
            sscanf(at + 9, "%79[^\"]", job_id);
        }
    }
    CHECK(has(&json, "\"bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi\""));
    OK(sih_scheduler_explain(hub, job_id, &json));
    CHECK(has(&json, "\"expectedHeatKwh\":1.8"));
    close_hub(&hub, &clock);
}

static void test_scheduler_job_lifecycle(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    char* json = NULL;
    OK(sih_settlement_top_up(hub, "client/alice/USD", "5.00", "bank-1", NULL));

    int64_t subscription = 0;
    FAILS(sih_scheduler_subscribe(hub, NULL, NULL, &subscription), SIH_INVALID_ARGUMENT);
    OK(sih_scheduler_subscribe(hub, count_event, NULL, &subscription));

    char* job_id = NULL;
    FAILS(sih_scheduler_submit(hub, "{\"jobType\":", "alice", &job_id), SIH_INVALID_ARGUMENT);
    FAILS(sih_scheduler_submit(hub,
                               "{\"jobType\":\"ocr\",\"jobName\":\"a\",\"workloadConfig\":{"
                               "\"containerImage\":\"native\",\"resources\":"
                               "{\"memory\":\"lots\"}}}",
                               "alice", &job_id),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("memory"));
    CHECK(job_id == NULL);
    /* Strict JSON: a repeated member name, a lone surrogate, a control character in a name. */
    FAILS(sih_scheduler_submit(hub,
                               "{\"jobType\":\"ocr\",\"jobName\":\"a\",\"jobName\":\"b\","
                               "\"workloadConfig\":{\"containerImage\":\"native\"}}",
                               "alice", &job_id),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("duplicate member name"));
    FAILS(sih_scheduler_submit(hub,
                               "{\"jobType\":\"ocr\",\"jobName\":\"\\ud800\","
                               "\"workloadConfig\":{\"containerImage\":\"native\"}}",
                               "alice", &job_id),
          SIH_INVALID_ARGUMENT);
    FAILS(sih_scheduler_submit(hub,
                               "{\"jobType\":\"ocr\",\"jobName\":\"ok\\nforged 1 completed\","
                               "\"workloadConfig\":{\"containerImage\":\"native\"}}",
                               "alice", &job_id),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("jobName"));
    CHECK(job_id == NULL);
    FAILS(sih_scheduler_submit(hub, kJob, "bob", &job_id), SIH_INSUFFICIENT_FUNDS);
    OK(sih_scheduler_submit(hub, kJob, "alice", &job_id));
    CHECK(job_id != NULL && strncmp(job_id, "job-", 4) == 0);

    sih_lease leases[4];
    size_t count = 99;
    FAILS(sih_scheduler_claim(hub, "worker-1", NULL, 4, &count), SIH_INVALID_ARGUMENT);
    FAILS(sih_scheduler_claim(hub, "worker-1", leases, 4, NULL), SIH_INVALID_ARGUMENT);
    FAILS(sih_scheduler_claim(hub, "worker-9", leases, 4, &count), SIH_NOT_FOUND);
    OK(sih_scheduler_claim(hub, "worker-1", leases, 0, &count));
    CHECK(count == 0);
    OK(sih_scheduler_claim(hub, "worker-1", leases, 4, &count));
    CHECK(count == 1);
    CHECK(strcmp(leases[0].job_id, job_id) == 0);
    CHECK(strcmp(leases[0].worker_id, "worker-1") == 0);
    CHECK(leases[0].attempt == 1 && strlen(leases[0].token) > 8);
    CHECK(leases[0].expires_at_ms > kStart);

    sih_lease renewed;
    OK(sih_clock_advance(clock, 1000));
    OK(sih_scheduler_renew(hub, job_id, leases[0].token, &renewed));
    CHECK(renewed.expires_at_ms == leases[0].expires_at_ms + 1000);
    FAILS(sih_scheduler_renew(hub, job_id, "not-the-token", &renewed), SIH_CONFLICT);

    /* A stale token changes nothing; a completion struct of an unknown version is refused. */
    sih_completion completion = SIH_COMPLETION_INIT;
    completion.energy_mwh = 2000000; /* 2 kWh */
    FAILS(sih_scheduler_complete(hub, job_id, "stale-token", &completion), SIH_CONFLICT);
    completion.version = 2;
    FAILS(sih_scheduler_complete(hub, job_id, leases[0].token, &completion), SIH_INVALID_ARGUMENT);
    CHECK(error_names("completion.version"));
    FAILS(sih_completion_init(&completion, 0), SIH_INVALID_ARGUMENT);
    OK(sih_completion_init(&completion, SIH_COMPLETION_VERSION));
    completion.energy_mwh = -5;
    FAILS(sih_scheduler_complete(hub, job_id, leases[0].token, &completion), SIH_INVALID_ARGUMENT);
    CHECK(error_names("energy_mwh"));
    OK(sih_scheduler_job(hub, job_id, &json));
    CHECK(has(&json, "\"status\":\"running\""));

    const char* outputs[] = {"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"};
    completion.energy_mwh = 2000000;
    completion.output_refs = outputs;
    completion.output_ref_count = 1;
    completion.result_hash = "abc123";
    completion.metrics_json = "{\"pages\":3}";
    OK(sih_scheduler_complete(hub, job_id, leases[0].token, &completion));
    OK(sih_scheduler_job(hub, job_id, &json));
    CHECK(has(&json, "\"status\":\"completed\""));
    /* 2 kWh at 90 % recovery: 1.8 kWh of heat. */
    OK(sih_scheduler_job(hub, job_id, &json));
    CHECK(has(&json, "\"heatGeneratedKwh\":1.8"));
    OK(sih_settlement_charge_of(hub, job_id, &json));
    CHECK(has(&json, "\"status\":\"charged\""));
    OK(sih_settlement_charge_of(hub, "job-unknown", &json));
    CHECK(has(&json, "null"));

    OK(sih_scheduler_events(hub, job_id, &json));
    CHECK(has(&json, "\"to\":\"completed\""));
    OK(sih_scheduler_queue_stats(hub, "hub-zurich", &json));
    CHECK(has(&json, "completed"));
    OK(sih_scheduler_jobs(hub, "{\"status\":\"completed\",\"limit\":10}", &json));
    CHECK(has(&json, job_id));
    FAILS(sih_scheduler_jobs(hub, "{\"limit\":0}", &json), SIH_INVALID_ARGUMENT);
    CHECK(error_names("limit"));
    FAILS(sih_scheduler_jobs(hub, "{\"colour\":\"red\"}", &json), SIH_INVALID_ARGUMENT);
    CHECK(error_names("colour"));
    OK(sih_scheduler_jobs(hub, NULL, &json));
    CHECK(has(&json, job_id));
    OK(sih_scheduler_jobs(hub, "{\"workerId\":\"worker-1\",\"deadLetter\":false}", &json));
    CHECK(has(&json, job_id));
    OK(sih_scheduler_jobs(hub, "{\"deadLetter\":true}", &json));
    CHECK(has(&json, "[]"));
    FAILS(sih_scheduler_jobs(hub, "{\"deadLetter\":\"yes\"}", &json), SIH_INVALID_ARGUMENT);
    CHECK(error_names("deadLetter"));
    /* A hub's listing holds the jobs that ran on it, unpinned ones too; the record says where. */
    OK(sih_scheduler_jobs(hub, "{\"hubId\":\"hub-zurich\",\"status\":\"completed\"}", &json));
    CHECK(has(&json, job_id));
    OK(sih_scheduler_job(hub, job_id, &json));
    CHECK(has(&json, "\"runHubId\":\"hub-zurich\""));
    /* constraints.pinHub pins a job; it must name a registered hub and agree with hubId. */
    FAILS(sih_scheduler_submit_json(hub,
                                    "{\"jobType\":\"ocr\",\"jobName\":\"p\",\"workloadConfig\":"
                                    "{\"containerImage\":\"i\"},\"constraints\":{\"pinHub\":"
                                    "\"nowhere\"}}",
                                    "alice", &json),
          SIH_NOT_FOUND);
    CHECK(error_names("constraints.pinHub"));
    FAILS(sih_scheduler_submit_json(hub,
                                    "{\"jobType\":\"ocr\",\"jobName\":\"p\",\"workloadConfig\":"
                                    "{\"containerImage\":\"i\"},\"hubId\":\"hub-zurich\","
                                    "\"constraints\":{\"pinHub\":\"elsewhere\"}}",
                                    "alice", &json),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("constraints.pinHub"));
    CHECK(events_seen >= 3);

    /* JSON forms: submit, claim, complete; many; fail, cancel, requeue. */
    OK(sih_scheduler_submit_json(hub, kJob, "alice", &json));
    CHECK(has(&json, "\"status\":\"queued\""));
    OK(sih_scheduler_explain(hub, job_id, &json));
    CHECK(has(&json, "\"eligible\""));
    OK(sih_scheduler_claim_json(hub, "worker-1", 1, &json));
    CHECK(json != NULL);
    char claimed_id[80] = {0};
    char token[80] = {0};
    {
        const char* at = strstr(json, "\"jobId\":\"");
        const char* tok = strstr(json, "\"token\":\"");
        CHECK(at != NULL && tok != NULL);
        if (at != NULL && tok != NULL) {
            sscanf(at + 9, "%79[^\"]", claimed_id);
            sscanf(tok + 9, "%79[^\"]", token);
        }
        sih_free(json);
    }
    FAILS(sih_scheduler_complete_json(hub, claimed_id, token, "{\"energyMwh\":\"x\"}", &json),
          SIH_INVALID_ARGUMENT);
    FAILS(sih_scheduler_complete_json(hub, claimed_id, token, "{\"energyMwh\":1,\"energyKwh\":1}",
                                      &json),
          SIH_INVALID_ARGUMENT);
    /* The core's codec (JobCompletion::from_json): a negative kWh is refused naming it. */
    FAILS(sih_scheduler_complete_json(hub, claimed_id, token, "{\"energyKwh\":\"-0.5\"}", &json),
          SIH_INVALID_ARGUMENT);
    CHECK(strcmp(sih_last_error_field(), "energyKwh") == 0);
    OK(sih_scheduler_complete_json(hub, claimed_id, token,
                                   "{\"energyKwh\":\"0.5\",\"outputDataRefs\":[]}", &json));
    CHECK(has(&json, "\"actualComputeKwh\":0.5"));

    OK(sih_scheduler_submit_many(hub, "[" JOB_JSON("ocr") "," JOB_JSON("scientific") "]", "alice",
                                 &json));
    CHECK(has(&json, "scientific"));
    FAILS(sih_scheduler_submit_many(hub, "[" JOB_JSON("ocr") "," JOB_JSON("poetry") "]", "alice",
                                    &json),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("specs[1]"));
    FAILS(sih_scheduler_submit_many(hub, "{}", "alice", &json), SIH_INVALID_ARGUMENT);
    { /* a spec over 1 MiB is refused by its size, naming jobSpec */
        const size_t size = ((size_t)1 << 20) + 1;
        char* big = malloc(size + 1);
        CHECK(big != NULL);
        memset(big, ' ', size);
        memcpy(big, kJob, strlen(kJob));
        big[size] = '\0';
        char* big_id = NULL;
        FAILS(sih_scheduler_submit(hub, big, "alice", &big_id), SIH_INVALID_ARGUMENT);
        CHECK(error_names("jobSpec"));
        big[size - 1] = '\0'; /* 1 MiB exactly: accepted */
        OK(sih_scheduler_submit(hub, big, "alice", &big_id));
        sih_free(big_id);
        free(big);
    }
    OK(sih_scheduler_claim(hub, "worker-1", leases, 2, &count));
    CHECK(count == 2);
    {
        char body[600];
        snprintf(body, sizeof body,
                 "[{\"jobId\":\"%s\",\"token\":\"%s\",\"energyMwh\":1000},"
                 "{\"jobId\":\"%s\",\"token\":\"stale\"}]",
                 leases[0].job_id, leases[0].token, leases[1].job_id);
        FAILS(sih_scheduler_complete_many(hub, body, &json), SIH_CONFLICT); /* all or none */
        OK(sih_scheduler_job(hub, leases[0].job_id, &json));
        CHECK(has(&json, "\"status\":\"running\""));
        snprintf(body, sizeof body, "[{\"jobId\":\"%s\",\"token\":\"%s\",\"energyMwh\":1000}]",
                 leases[0].job_id, leases[0].token);
        OK(sih_scheduler_complete_many(hub, body, &json));
        CHECK(has(&json, "completed"));
    }
    FAILS(sih_scheduler_fail(hub, leases[1].job_id, "stale", "oops", 1, NULL), SIH_CONFLICT);
    OK(sih_scheduler_fail(hub, leases[1].job_id, leases[1].token, "disk full", 0, &json));
    CHECK(has(&json, "\"status\":\"failed\""));
    OK(sih_scheduler_requeue(hub, leases[1].job_id, "operator", NULL, &json));
    CHECK(has(&json, "\"status\":\"queued\""));
    OK(sih_scheduler_cancel(hub, leases[1].job_id, "alice", "no longer needed", &json));
    CHECK(has(&json, "\"status\":\"cancelled\""));
    FAILS(sih_scheduler_cancel(hub, leases[1].job_id, "alice", NULL, NULL), SIH_CONFLICT);
    FAILS(sih_scheduler_requeue(hub, "job-none", "operator", NULL, NULL), SIH_NOT_FOUND);

    /* A lease that expires: tick hands the job back. */
    OK(sih_scheduler_submit(hub, kJob, "alice", NULL));
    OK(sih_scheduler_claim(hub, "worker-1", leases, 1, &count));
    CHECK(count == 1);
    OK(sih_clock_advance(clock, 10 * 60 * 1000));
    int64_t changed = 0;
    OK(sih_scheduler_tick(hub, &changed));
    CHECK(changed >= 1);
    sih_completion late = SIH_COMPLETION_INIT;
    FAILS(sih_scheduler_complete(hub, leases[0].job_id, leases[0].token, &late), SIH_CONFLICT);

    OK(sih_scheduler_unsubscribe(hub, subscription));
    OK(sih_scheduler_unsubscribe(hub, 12345));
    int seen = events_seen;
    OK(sih_scheduler_submit(hub, kJob, "alice", NULL));
    CHECK(events_seen == seen);
    sih_free(job_id);
    close_hub(&hub, &clock);
}

/* ---- content store --------------------------------------------------------------------- */

typedef struct {
    const char* data;
    size_t size;
    size_t offset;
    int fail_at_call;
    int calls;
} reader_state;

static int64_t read_chunks(void* payload, uint8_t* buffer, size_t capacity) {
    reader_state* state = payload;
    if (++state->calls == state->fail_at_call) {
        return -1;
    }
    size_t n = state->size - state->offset;
    if (n > capacity) {
        n = capacity;
    }
    if (n > 3) {
        n = 3; /* small reads: the library must loop */
    }
    memcpy(buffer, state->data + state->offset, n);
    state->offset += n;
    return (int64_t)n;
}

typedef struct {
    char bytes[4096];
    size_t size;
    int abort;
} writer_state;

static int collect(void* payload, const uint8_t* bytes, size_t size) {
    writer_state* state = payload;
    if (state->abort) {
        return 1;
    }
    if (state->size + size > sizeof state->bytes) {
        return 1;
    }
    memcpy(state->bytes + state->size, bytes, size);
    state->size += size;
    return 0;
}

static const char* kHelloCid = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";

static void test_content_store(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    char* json = NULL;
    char* cid = NULL;

    /* The CID IPFS computes for "hello world" (SPECS.md). */
    OK(sih_cid_of_bytes((const uint8_t*)"hello world", 11, NULL, &cid));
    CHECK(cid != NULL && strcmp(cid, kHelloCid) == 0);
    sih_free(cid);
    cid = NULL;
    FAILS(sih_cid_of_bytes(NULL, 3, NULL, &cid), SIH_INVALID_ARGUMENT);

    sih_put_options options;
    FAILS(sih_put_options_init(&options, 3), SIH_INVALID_ARGUMENT);
    OK(sih_put_options_init(&options, SIH_PUT_OPTIONS_VERSION));
    CHECK(options.min_replicas == 3 && options.storage_tier == SIH_TIER_HOT);
    options.file_name = "hello.txt";
    options.mime_type = "text/plain";
    options.access_level = SIH_ACCESS_COMMUNITY;
    options.metadata_json = "{\"lang\":\"en\"}";
    OK(sih_cas_put_bytes(hub, (const uint8_t*)"hello world", 11, "alice", &options, &cid));
    CHECK(cid != NULL && strcmp(cid, kHelloCid) == 0);
    options.version = 9;
    FAILS(sih_cas_put_bytes(hub, (const uint8_t*)"x", 1, "alice", &options, NULL),
          SIH_INVALID_ARGUMENT);
    OK(sih_put_options_init(&options, SIH_PUT_OPTIONS_VERSION));
    options.min_replicas = 65;
    FAILS(sih_cas_put_bytes(hub, (const uint8_t*)"x", 1, "alice", &options, NULL),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("minReplicas"));
    FAILS(sih_cas_put_bytes(hub, (const uint8_t*)"x", 1, NULL, NULL, NULL), SIH_INVALID_ARGUMENT);

    OK(sih_cas_stat(hub, kHelloCid, "alice", &json));
    CHECK(has(&json, "\"fileName\":\"hello.txt\""));
    /* Content one may not read fails exactly as unknown content: same code, same message. */
    const char* kUnknownCid = /* "not stored anywhere" */
        "bafkreiclezh54wls5etuyvprbjtss7uwdcuhumwula56i7xxp4psy2laqi";
    FAILS(sih_cas_stat(hub, kHelloCid, "mallory", &json), SIH_NOT_FOUND);
    CHECK(strncmp(sih_last_error(), "no content ", 11) == 0 &&
          strcmp(sih_last_error() + 11, kHelloCid) == 0);
    FAILS(sih_cas_stat(hub, kUnknownCid, "mallory", &json), SIH_NOT_FOUND);
    CHECK(strncmp(sih_last_error(), "no content ", 11) == 0 &&
          strcmp(sih_last_error() + 11, kUnknownCid) == 0);
    FAILS(sih_cas_replicas(hub, kHelloCid, "mallory", &json), SIH_NOT_FOUND);
    FAILS(sih_cas_export_car(hub, kHelloCid, NULL, collect, NULL), SIH_NOT_FOUND);
    FAILS(sih_cas_stat(hub, "not-a-cid", "alice", &json), SIH_INVALID_ARGUMENT);

    writer_state out = {{0}, 0, 0};
    OK(sih_cas_get(hub, kHelloCid, "alice", 0, SIH_TO_END, collect, &out));
    CHECK(out.size == 11 && memcmp(out.bytes, "hello world", 11) == 0);
    out.size = 0;
    OK(sih_cas_get(hub, kHelloCid, "alice", 6, 5, collect, &out));
    CHECK(out.size == 5 && memcmp(out.bytes, "world", 5) == 0);
    out.abort = 1;
    FAILS(sih_cas_get(hub, kHelloCid, "alice", 0, SIH_TO_END, collect, &out), SIH_CALLBACK_ABORTED);
    FAILS(sih_cas_get(hub, kHelloCid, "alice", 0, SIH_TO_END, NULL, &out), SIH_INVALID_ARGUMENT);
    uint8_t* bytes = NULL;
    size_t size = 0;
    OK(sih_cas_get_bytes(hub, kHelloCid, "alice", 0, 5, &bytes, &size));
    CHECK(size == 5 && memcmp(bytes, "hello", 5) == 0);
    sih_free(bytes);

    /* Community access. */
    FAILS(sih_cas_get_bytes(hub, kHelloCid, "bob", 0, SIH_TO_END, &bytes, &size), SIH_NOT_FOUND);
    /* Membership changes need a member (or the founder of an empty community, or the
     * operator) acting. */
    OK(sih_cas_add_community_member(hub, "pool-club", "bob", "bob")); /* founds it */
    OK(sih_cas_remove_community_member(hub, "pool-club", "bob", "operator"));
    OK(sih_cas_add_community_member(hub, "pool-club", "alice", "alice"));
    FAILS(sih_cas_add_community_member(hub, "pool-club", "bob", "bob"), SIH_PERMISSION_DENIED);
    FAILS(sih_cas_add_community_member(hub, "pool-club", "bob", NULL), SIH_PERMISSION_DENIED);
    OK(sih_cas_add_community_member(hub, "pool-club", "bob", "alice"));
    OK(sih_cas_communities_of(hub, "bob", "bob", &json));
    CHECK(has(&json, "[\"pool-club\"]"));
    OK(sih_cas_communities_of(hub, "bob", "mallory", &json));
    CHECK(has(&json, "[]"));
    OK(sih_cas_get_bytes(hub, kHelloCid, "bob", 0, SIH_TO_END, &bytes, &size));
    CHECK(size == 11);
    sih_free(bytes);
    FAILS(sih_cas_remove_community_member(hub, "pool-club", "alice", "mallory"),
          SIH_PERMISSION_DENIED);
    OK(sih_cas_remove_community_member(hub, "pool-club", "bob", "bob"));
    FAILS(sih_cas_add_community_member(hub, "", "bob", "operator"), SIH_INVALID_ARGUMENT);

    /* Streams: small reads, and a read callback that aborts stores nothing. */
    const char* text = "a stream of bytes, read three at a time";
    reader_state in = {text, strlen(text), 0, 0, 0};
    char* stream_cid = NULL;
    OK(sih_cas_put_stream(hub, read_chunks, &in, "alice", NULL, &stream_cid));
    char* expected = NULL;
    OK(sih_cid_of_bytes((const uint8_t*)text, strlen(text), NULL, &expected));
    CHECK(stream_cid != NULL && expected != NULL && strcmp(stream_cid, expected) == 0);
    sih_free(expected);
    reader_state aborting = {"different bytes entirely", 24, 0, 2, 0};
    char* aborted_cid = NULL;
    FAILS(sih_cas_put_stream(hub, read_chunks, &aborting, "alice", NULL, &aborted_cid),
          SIH_CALLBACK_ABORTED);
    CHECK(aborted_cid == NULL);
    FAILS(sih_cas_put_stream(hub, NULL, NULL, "alice", NULL, NULL), SIH_INVALID_ARGUMENT);

    char path[320];
    snprintf(path, sizeof path, "%s/input.txt", directory);
    FILE* file = fopen(path, "w");
    fputs("hello world", file);
    fclose(file);
    char* file_cid = NULL;
    OK(sih_cas_put_file(hub, path, "carol", NULL, &file_cid));
    CHECK(file_cid != NULL && strcmp(file_cid, kHelloCid) == 0);
    sih_free(file_cid);
    snprintf(path, sizeof path, "%s/absent.txt", directory);
    FAILS(sih_cas_put_file(hub, path, "carol", NULL, NULL), SIH_IO);

    OK(sih_cas_list(hub, "alice", NULL, 100, &json));
    CHECK(has(&json, stream_cid));
    OK(sih_cas_list(hub, "carol", "carol", 10, &json));
    CHECK(has(&json, kHelloCid));
    FAILS(sih_cas_list(hub, "alice", NULL, 0, &json), SIH_INVALID_ARGUMENT);

    OK(sih_cas_move_to_tier(hub, stream_cid, "alice", SIH_TIER_COLD, &json));
    CHECK(has(&json, "\"storageTier\":\"cold\""));
    FAILS(sih_cas_move_to_tier(hub, stream_cid, "alice", (sih_storage_tier)7, &json),
          SIH_INVALID_ARGUMENT);

    /* References. */
    OK(sih_cas_set_reference(hub, "models/ocr", "1.0", kHelloCid, "alice", &json));
    CHECK(has(&json, "\"version\":\"1.0\""));
    OK(sih_cas_set_reference(hub, "models/ocr", "1.1", stream_cid, "alice", NULL));
    FAILS(sih_cas_set_reference(hub, "models/ocr", "1.0", stream_cid, "alice", NULL), SIH_CONFLICT);
    FAILS(sih_cas_set_reference(hub, "Models!", "1.0", kHelloCid, "alice", NULL),
          SIH_INVALID_ARGUMENT);
    OK(sih_cas_resolve_reference(hub, "models/ocr", NULL, "alice", &json));
    CHECK(has(&json, "\"version\":\"1.1\""));
    OK(sih_cas_resolve_reference(hub, "models/ocr", "1.0", "alice", &json));
    CHECK(has(&json, kHelloCid));
    FAILS(sih_cas_resolve_reference(hub, "models/none", NULL, "alice", &json), SIH_NOT_FOUND);
    OK(sih_cas_reference_versions(hub, "models/ocr", "alice", &json));
    CHECK(has(&json, "1.1"));
    /* Names hide what a principal may not read, and only their owner removes them. */
    FAILS(sih_cas_resolve_reference(hub, "models/ocr", "1.1", "mallory", &json), SIH_NOT_FOUND);
    OK(sih_cas_reference_versions(hub, "models/ocr", NULL, &json));
    CHECK(has(&json, "[]"));
    FAILS(sih_cas_set_reference(hub, "steal", "1", stream_cid, "mallory", NULL), SIH_NOT_FOUND);
    FAILS(sih_cas_remove_reference(hub, "models/ocr", "1.1", "mallory"), SIH_NOT_FOUND);
    OK(sih_cas_set_reference(hub, "models/tmp", "1", kHelloCid, "alice", NULL));
    FAILS(sih_cas_remove_reference(hub, "models/tmp", "1", "bob"), SIH_NOT_FOUND);
    OK(sih_cas_remove_reference(hub, "models/tmp", "1", "alice"));
    FAILS(sih_cas_resolve_reference(hub, "models/tmp", "1", "alice", &json), SIH_NOT_FOUND);

    /* CAR out and back in, for another owner. */
    writer_state car = {{0}, 0, 0};
    OK(sih_cas_export_car(hub, kHelloCid, "alice", collect, &car));
    CHECK(car.size > 11);
    reader_state car_in = {car.bytes, car.size, 0, 0, 0};
    OK(sih_cas_import_car(hub, read_chunks, &car_in, "dave", NULL, &json));
    CHECK(has(&json, "\"owner\":\"dave\""));
    reader_state garbage = {"not a car file", 14, 0, 0, 0};
    FAILS(sih_cas_import_car(hub, read_chunks, &garbage, "dave", NULL, &json),
          SIH_INVALID_ARGUMENT);
    /* A block whose bytes do not hash to its CID: integrity. */
    car.bytes[car.size - 1] = (char)(car.bytes[car.size - 1] ^ 1);
    reader_state forged = {car.bytes, car.size, 0, 0, 0};
    FAILS(sih_cas_import_car(hub, read_chunks, &forged, "erin", NULL, &json), SIH_INTEGRITY);

    /* Replicas over the hubs table. */
    OK(sih_scheduler_register_hub(hub,
                                  "{\"hubId\":\"hub-basel\",\"name\":\"Basel\",\"site\":\"bs-1\","
                                  "\"region\":\"CH\"}",
                                  NULL));
    OK(sih_cas_repair_plan(hub, NULL, 0, &json));
    CHECK(has(&json, "targetHubId"));
    const char* offline[] = {"hub-basel"};
    OK(sih_cas_repair_plan(hub, offline, 1, &json));
    CHECK(json != NULL);
    sih_free(json);
    OK(sih_cas_confirm_replica(hub, kHelloCid, "hub-basel"));
    OK(sih_cas_replicas(hub, kHelloCid, "alice", &json));
    CHECK(has(&json, "\"state\":\"pinned\""));
    OK(sih_cas_fail_replica(hub, kHelloCid, "hub-basel"));
    FAILS(sih_cas_confirm_replica(hub, kHelloCid, "hub-mars"), SIH_NOT_FOUND);

    OK(sih_cas_scrub(hub, SIH_NONE, &json));
    CHECK(has(&json, "\"problems\":[]"));
    OK(sih_cas_scrub(hub, 1, &json));
    CHECK(has(&json, "\"blocksChecked\":1"));
    FAILS(sih_cas_scrub(hub, -2, &json), SIH_INVALID_ARGUMENT);
    int64_t removed = -1;
    OK(sih_cas_collect_garbage(hub, &removed));
    CHECK(removed == 0);

    OK(sih_cas_set_quota(hub, "erin", 5, SIH_NONE));
    OK(sih_cas_quota(hub, "erin", &json));
    CHECK(has(&json, "\"uploadBytesPerHour\":5,\"totalBytes\":null"));
    FAILS(sih_cas_put_bytes(hub, (const uint8_t*)"too many bytes", 14, "erin", NULL, NULL),
          SIH_QUOTA_EXCEEDED);
    FAILS(sih_cas_set_quota(hub, "erin", -1, SIH_NONE), SIH_INVALID_ARGUMENT);
    { /* a declared size over the quota is refused before the stream is read */
        reader_state unread = {"too many bytes", 14, 0, 0, 0};
        FAILS(sih_cas_put_stream_sized(hub, read_chunks, &unread, 14, "erin", NULL, NULL),
              SIH_QUOTA_EXCEEDED);
        CHECK(unread.calls == 0);
        /* a stream yielding more than it declared is refused, naming declaredSize */
        reader_state liar = {"twelve bytes", 12, 0, 0, 0};
        char* liar_cid = NULL;
        FAILS(sih_cas_put_stream_sized(hub, read_chunks, &liar, 4, "alice", NULL, &liar_cid),
              SIH_INVALID_ARGUMENT);
        CHECK(error_names("declaredSize"));
        CHECK(liar_cid == NULL);
        reader_state honest = {"twelve bytes", 12, 0, 0, 0};
        OK(sih_cas_put_stream_sized(hub, read_chunks, &honest, 12, "alice", NULL, &liar_cid));
        sih_free(liar_cid);
    }

    FAILS(sih_cas_remove(hub, kHelloCid, "mallory"), SIH_NOT_FOUND);
    OK(sih_cas_remove(hub, kHelloCid, "dave"));
    FAILS(sih_cas_remove(hub, kHelloCid, "dave"), SIH_NOT_FOUND);
    /* A reference (models/ocr@1.0, alice's) never blocks removal by an owner. */
    OK(sih_cas_remove(hub, kHelloCid, "carol"));
    OK(sih_cas_remove(hub, kHelloCid, "alice"));
    FAILS(sih_cas_resolve_reference(hub, "models/ocr", "1.0", "alice", &json), SIH_NOT_FOUND);
    sih_free(stream_cid);
    sih_free(cid);
    close_hub(&hub, &clock);
}

/* ---- a host's blob backend ---------------------------------------------------------------- */

typedef struct {
    int used;
    sih_storage_tier tier;
    char cid[80];
    uint8_t* bytes;
    size_t size;
} memory_block;

typedef struct {
    pthread_mutex_t mutex;
    memory_block blocks[64];
    int fail_writes_after; /* -1: never */
    int writes;
    int removes;
} memory_backend;

static memory_block* find_block(memory_backend* m, sih_storage_tier tier, const char* cid) {
    for (int i = 0; i < 64; ++i) {
        if (m->blocks[i].used && m->blocks[i].tier == tier && strcmp(m->blocks[i].cid, cid) == 0) {
            return &m->blocks[i];
        }
    }
    return NULL;
}

static int memory_write(void* payload, sih_storage_tier tier, const char* cid, const uint8_t* bytes,
                        size_t size) {
    memory_backend* m = payload;
    pthread_mutex_lock(&m->mutex);
    int result = -5;
    if (m->fail_writes_after < 0 || m->writes < m->fail_writes_after) {
        for (int i = 0; i < 64; ++i) {
            if (!m->blocks[i].used) {
                m->blocks[i].used = 1;
                m->blocks[i].tier = tier;
                snprintf(m->blocks[i].cid, sizeof m->blocks[i].cid, "%s", cid);
                m->blocks[i].bytes = malloc(size ? size : 1);
                memcpy(m->blocks[i].bytes, bytes, size);
                m->blocks[i].size = size;
                result = 0;
                break;
            }
        }
    }
    ++m->writes;
    pthread_mutex_unlock(&m->mutex);
    return result;
}

static int memory_contains(void* payload, sih_storage_tier tier, const char* cid) {
    memory_backend* m = payload;
    pthread_mutex_lock(&m->mutex);
    int found = find_block(m, tier, cid) != NULL;
    pthread_mutex_unlock(&m->mutex);
    return found;
}

static int memory_read(void* payload, sih_storage_tier tier, const char* cid, sih_write_fn sink,
                       void* sink_payload) {
    memory_backend* m = payload;
    pthread_mutex_lock(&m->mutex);
    memory_block* block = find_block(m, tier, cid);
    int result = 1;
    if (block != NULL) {
        result = sink(sink_payload, block->bytes, block->size) == 0 ? 0 : -1;
    }
    pthread_mutex_unlock(&m->mutex);
    return result;
}

static int memory_remove(void* payload, sih_storage_tier tier, const char* cid) {
    memory_backend* m = payload;
    pthread_mutex_lock(&m->mutex);
    memory_block* block = find_block(m, tier, cid);
    if (block != NULL) {
        free(block->bytes);
        block->used = 0;
        ++m->removes;
    }
    pthread_mutex_unlock(&m->mutex);
    return 0;
}

static int memory_list(void* payload, sih_storage_tier tier,
                       void (*visit)(void* visit_payload, const char* cid), void* visit_payload) {
    memory_backend* m = payload;
    pthread_mutex_lock(&m->mutex);
    for (int i = 0; i < 64; ++i) {
        if (m->blocks[i].used && m->blocks[i].tier == tier) {
            visit(visit_payload, m->blocks[i].cid);
        }
    }
    pthread_mutex_unlock(&m->mutex);
    return 0;
}

static int memory_block_count(memory_backend* m) {
    int count = 0;
    for (int i = 0; i < 64; ++i) {
        count += m->blocks[i].used;
    }
    return count;
}

static void test_content_store_on_a_host_blob_backend(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    char* json = NULL;
    memory_backend memory;
    memset(&memory, 0, sizeof memory);
    pthread_mutex_init(&memory.mutex, NULL);
    memory.fail_writes_after = -1;

    sih_blob_backend backend = {SIH_BLOB_BACKEND_VERSION, &memory,     memory_write,  NULL,
                                memory_contains,          memory_read, memory_remove, memory_list};
    FAILS(sih_cas_use_backend(hub, NULL), SIH_INVALID_ARGUMENT);
    backend.version = 2;
    FAILS(sih_cas_use_backend(hub, &backend), SIH_INVALID_ARGUMENT);
    CHECK(error_names("backend.version"));
    backend.version = SIH_BLOB_BACKEND_VERSION;
    backend.read = NULL;
    FAILS(sih_cas_use_backend(hub, &backend), SIH_INVALID_ARGUMENT);
    CHECK(error_names("backend.read"));
    backend.read = memory_read;
    OK(sih_cas_use_backend(hub, &backend));

    /* Blocks go to the host's storage and come back verified. */
    char* cid = NULL;
    OK(sih_cas_put_bytes(hub, (const uint8_t*)"hello world", 11, "alice", NULL, &cid));
    CHECK(cid != NULL && strcmp(cid, kHelloCid) == 0);
    CHECK(memory_block_count(&memory) == 1);
    uint8_t* bytes = NULL;
    size_t size = 0;
    OK(sih_cas_get_bytes(hub, kHelloCid, "alice", 0, SIH_TO_END, &bytes, &size));
    CHECK(size == 11 && memcmp(bytes, "hello world", 11) == 0);
    sih_free(bytes);
    OK(sih_cas_scrub(hub, SIH_NONE, &json));
    CHECK(has(&json, "\"blocksChecked\":1,"));

    /* A corrupted block is caught on read. */
    memory.blocks[0].bytes[0] = 'j';
    FAILS(sih_cas_get_bytes(hub, kHelloCid, "alice", 0, SIH_TO_END, &bytes, &size), SIH_INTEGRITY);
    memory.blocks[0].bytes[0] = 'h';

    /* A failed write: SIH_IO, no manifest, and the blocks already written are removed. */
    static uint8_t big[700000];
    for (size_t i = 0; i < sizeof big; ++i) {
        big[i] = (uint8_t)(i * 7 + i / 251);
    }
    memory.fail_writes_after = memory.writes + 1;
    char* failed = NULL;
    FAILS(sih_cas_put_bytes(hub, big, sizeof big, "alice", NULL, &failed), SIH_IO);
    CHECK(error_names("blob backend"));
    CHECK(failed == NULL);
    CHECK(memory_block_count(&memory) == 1);
    memory.fail_writes_after = -1;
    OK(sih_cas_list(hub, "alice", "alice", 10, &json));
    CHECK(has(&json, kHelloCid));

    /* Removing the last manifest removes its block from the host's storage. */
    OK(sih_cas_remove(hub, kHelloCid, "alice"));
    CHECK(memory_block_count(&memory) == 0);
    sih_free(cid);
    close_hub(&hub, &clock);
    pthread_mutex_destroy(&memory.mutex);
}

/* ---- heat ------------------------------------------------------------------------------ */

/* Reads the unsigned varint at bytes[*at], advancing *at. */
static size_t read_varint(const char* bytes, size_t* at) {
    size_t value = 0;
    for (int shift = 0;; shift += 7) {
        const uint8_t byte = (uint8_t)bytes[(*at)++];
        value |= (size_t)(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            return value;
        }
    }
}

/* A stranger importing a CAR that holds only the root block of someone's multi-block file
 * gets no manifest and still cannot read the file. */
static void test_car_import_proves_possession(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    char* cid = NULL;
    char* json = NULL;
    sih_put_options options = SIH_PUT_OPTIONS_INIT;
    options.chunk_size = 64; /* 300 bytes: five leaves under one root */
    char data[300];
    for (size_t i = 0; i < sizeof data; ++i) {
        data[i] = (char)(i * 7 + 3);
    }
    OK(sih_cas_put_bytes(hub, (const uint8_t*)data, sizeof data, "alice", &options, &cid));
    writer_state car = {{0}, 0, 0};
    OK(sih_cas_export_car(hub, cid, "alice", collect, &car));
    /* The export is the header, then the root's section first: keep only those. */
    size_t end = 0;
    end += read_varint(car.bytes, &end);
    end += read_varint(car.bytes, &end);
    CHECK(end < car.size);
    reader_state root_only = {car.bytes, end, 0, 0, 0};
    FAILS(sih_cas_import_car(hub, read_chunks, &root_only, "mallory", NULL, &json),
          SIH_INVALID_ARGUMENT);
    CHECK(json == NULL);
    CHECK(strstr(sih_last_error(), "is not complete in the CAR") != NULL);
    CHECK(sih_cas_stat(hub, cid, "mallory", &json) != SIH_OK);
    writer_state out = {{0}, 0, 0};
    CHECK(sih_cas_get(hub, cid, "mallory", 0, SIH_TO_END, collect, &out) != SIH_OK);
    CHECK(out.size == 0);
    OK(sih_cas_list(hub, "mallory", "mallory", 10, &json));
    CHECK(has(&json, "[]"));
    /* The whole CAR proves possession. */
    reader_state whole = {car.bytes, car.size, 0, 0, 0};
    OK(sih_cas_import_car(hub, read_chunks, &whole, "mallory", NULL, &json));
    CHECK(has(&json, "\"owner\":\"mallory\""));
    sih_free(cid);
    close_hub(&hub, &clock);
}

/* Issue 26: the same bytes put again with other metadata update the owner's manifest and
 * leave no copy in the old tier; sourceHubId names a registered hub. */
static void test_content_store_reput_and_source_hub(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    char* json = NULL;
    char* cid = NULL;
    sih_put_options options = SIH_PUT_OPTIONS_INIT;
    options.file_name = "a.txt";
    OK(sih_cas_put_bytes(hub, (const uint8_t*)"hello world", 11, "alice", &options, &cid));
    sih_free(cid);
    cid = NULL;
    options.file_name = "b.txt";
    options.storage_tier = SIH_TIER_COLD;
    options.access_level = SIH_ACCESS_PUBLIC;
    options.source_hub_id = "hub-zurich";
    OK(sih_cas_put_bytes(hub, (const uint8_t*)"hello world", 11, "alice", &options, &cid));
    sih_free(cid);
    cid = NULL;
    OK(sih_cas_stat(hub, kHelloCid, "bob", &json)); /* public now */
    CHECK(has(&json, "\"fileName\":\"b.txt\""));
    OK(sih_cas_stat(hub, kHelloCid, "alice", &json));
    CHECK(has(&json, "\"storageTier\":\"cold\""));
    OK(sih_cas_stat(hub, kHelloCid, "alice", &json));
    CHECK(has(&json, "\"sourceHubId\":\"hub-zurich\""));
    /* No copy is left in the hot tier: <hub>/blobs/hot holds no block file. */
    char command[400];
    snprintf(command, sizeof command,
             "test -z \"$(find '%s' -path '*/hot/*' -type f ! -path '*/.staging/*' "
             "2>/dev/null)\"",
             directory);
    CHECK(system(command) == 0);

    options.source_hub_id = "hub-nowhere";
    FAILS(sih_cas_put_bytes(hub, (const uint8_t*)"other bytes", 11, "alice", &options, &cid),
          SIH_NOT_FOUND);
    CHECK(error_names("sourceHubId"));
    OK(sih_cas_list(hub, "alice", "alice", 100, &json));
    const char* first = json != NULL ? strstr(json, "\"contentId\"") : NULL;
    CHECK(first != NULL && strstr(first + 1, "\"contentId\"") == NULL); /* nothing stored */
    sih_free(json);
    json = NULL;
    close_hub(&hub, &clock);
}

static void test_heat_ledger(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    char* json = NULL;

    OK(sih_clock_advance(clock, 3600 * 1000));
    OK(sih_heat_record(hub,
                       "{\"hubId\":\"hub-zurich\",\"kind\":\"standalone-heater\",\"tag\":\"pool\","
                       "\"thermalKwh\":\"1.5\"}",
                       &json));
    CHECK(has(&json, "\"thermalKwh\":1.5"));
    FAILS(
        sih_heat_record(hub, "{\"hubId\":\"hub-zurich\",\"kind\":\"job\",\"thermalKwh\":1}", &json),
        SIH_INVALID_ARGUMENT);
    FAILS(sih_heat_record(hub,
                          "{\"hubId\":\"hub-mars\",\"kind\":\"other\",\"tag\":\"t\","
                          "\"thermalKwh\":1}",
                          &json),
          SIH_NOT_FOUND);
    FAILS(
        sih_heat_record(hub, "{\"hubId\":\"hub-zurich\",\"kind\":\"other\",\"tag\":\"t\"}", &json),
        SIH_INVALID_ARGUMENT);
    CHECK(error_names("thermalKwh"));
    FAILS(sih_heat_record(hub, "[", &json), SIH_INVALID_ARGUMENT);
    OK(sih_heat_record_many(hub,
                            "[{\"hubId\":\"hub-zurich\",\"kind\":\"battery-losses\","
                            "\"thermalKwh\":0.25,\"electricalKwh\":\"0.25\"},"
                            "{\"hubId\":\"hub-zurich\",\"kind\":\"other\",\"tag\":\"sauna\","
                            "\"thermalKwh\":\"0.25\",\"energySource\":\"estimated\"}]",
                            &json));
    CHECK(has(&json, "sauna"));
    FAILS(sih_heat_record_many(hub,
                               "[{\"hubId\":\"hub-zurich\",\"kind\":\"other\",\"tag\":\"a\","
                               "\"thermalKwh\":1},{\"hubId\":\"hub-zurich\",\"kind\":\"other\"}]",
                               &json),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("records[1]"));

    OK(sih_clock_advance(clock, 1000));
    OK(sih_heat_credits(hub, "hub-zurich", SIH_NONE, SIH_NONE, &json));
    CHECK(has(&json, "\"totalHeatKwh\":2"));
    OK(sih_heat_stats(hub, "hub-zurich", &json));
    CHECK(has(&json, "\"totalHeatKwh\":2"));
    FAILS(sih_heat_stats(hub, "hub-mars", &json), SIH_NOT_FOUND);

    OK(sih_heat_set_credit_rate(hub, "hub-zurich", 7, "CHF", 0, &json));
    CHECK(has(&json, "\"ratePerKwh\":7"));
    FAILS(sih_heat_set_credit_rate(hub, "hub-zurich", -1, "CHF", 0, &json), SIH_INVALID_ARGUMENT);
    FAILS(sih_heat_set_credit_rate(hub, "hub-zurich", 1, "XX", 0, &json), SIH_INVALID_ARGUMENT);
    OK(sih_heat_credit_rates(hub, "hub-zurich", &json));
    CHECK(has(&json, "\"ratePerKwh\":7"));

    int64_t now = 0;
    OK(sih_clock_now(clock, &now));
    OK(sih_clock_advance(clock, 1000));
    OK(sih_heat_settle(hub, "hub-zurich", 0, now + 1, &json));
    CHECK(has(&json, "\"settledCreditChf\":14"));             /* 2 kWh x 7 */
    OK(sih_heat_settle(hub, "hub-zurich", 0, now + 1, NULL)); /* idempotent */
    FAILS(sih_heat_settle(hub, "hub-zurich", 1, now, &json), SIH_CONFLICT);
    FAILS(sih_heat_settle(hub, "hub-zurich", 10, 5, &json), SIH_INVALID_ARGUMENT);
    OK(sih_heat_settlements(hub, "hub-zurich", &json));
    CHECK(has(&json, "\"recordCount\":3"));
    OK(sih_heat_series(hub, "hub-zurich", "hour", kStart, kStart + 2 * 3600 * 1000, &json));
    CHECK(has(&json, "\"resolution\":\"hour\""));
    FAILS(sih_heat_series(hub, "hub-zurich", "week", kStart, kStart + 1, &json),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("resolution"));

    OK(sih_scheduler_set_heat_demand(hub, "hub-zurich", 10000, SIH_NONE, NULL));
    int64_t unmet = -1;
    OK(sih_heat_unmet_demand_w(hub, "hub-zurich", SIH_NONE, &unmet));
    CHECK(unmet >= 0 && unmet <= 10000);
    FAILS(sih_heat_unmet_demand_w(hub, "hub-zurich", 0, &unmet), SIH_INVALID_ARGUMENT);

    /* Totals over the hubs of a site or region (issue 26). */
    OK(sih_scheduler_register_hub(hub,
                                  "{\"hubId\":\"hub-zurich-2\",\"name\":\"Zurich 2\","
                                  "\"site\":\"zh-1\",\"region\":\"CH\",\"heatRecoveryPpm\":900000,"
                                  "\"powerCapacityW\":20000}",
                                  NULL));
    OK(sih_heat_record(hub,
                       "{\"hubId\":\"hub-zurich-2\",\"kind\":\"other\",\"tag\":\"t\","
                       "\"thermalKwh\":\"0.5\"}",
                       NULL));
    OK(sih_heat_group_stats(hub, "site", "zh-1", &json));
    CHECK(has(&json, "\"totalHeatKwh\":2.5"));
    OK(sih_heat_group_stats(hub, "region", "CH", &json));
    CHECK(has(&json, "\"hubIds\":[\"hub-zurich\",\"hub-zurich-2\"]"));
    FAILS(sih_heat_group_stats(hub, "site", "nowhere", &json), SIH_NOT_FOUND);
    CHECK(error_names("site"));
    FAILS(sih_heat_group_stats(hub, "district", "zh-1", &json), SIH_INVALID_ARGUMENT);
    CHECK(error_names("group_by"));
    FAILS(sih_heat_group_stats(hub, "site", NULL, &json), SIH_INVALID_ARGUMENT);
    OK(sih_clock_now(clock, &now));
    OK(sih_heat_group_series(hub, "region", "CH", "day", kStart, now, &json));
    CHECK(has(&json, "\"heatKwh\":2.5"));
    FAILS(sih_heat_group_series(hub, "region", "CH", "week", kStart, now, &json),
          SIH_INVALID_ARGUMENT);
    close_hub(&hub, &clock);
}

/* ---- settlement ------------------------------------------------------------------------ */

static void test_settlement_journal_and_market(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    char* json = NULL;

    OK(sih_settlement_options(hub, &json));
    CHECK(has(&json, "\"chargeJobs\":true"));
    OK(sih_settlement_price_of(hub, "ocr", &json));
    CHECK(has(&json, "\"amount\":\"0.100000\""));

    OK(sih_settlement_top_up(hub, "client/alice/USD", "10.00", "tx-1", &json));
    CHECK(has(&json, "deposit"));
    OK(sih_settlement_top_up(hub, "client/alice/USD", "10.00", "tx-1", &json));
    CHECK(has(&json, "\"exists\":true"));
    FAILS(sih_settlement_top_up(hub, "client/alice/USD", "11.00", "tx-1", &json), SIH_CONFLICT);
    FAILS(sih_settlement_top_up(hub, "client/alice/USD", "ten", "tx-2", &json),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("amount"));
    FAILS(sih_settlement_top_up(hub, "client-alice-USD", "1.00", "tx-3", &json),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("account_id"));
    FAILS(sih_settlement_top_up(hub, "escrow/hub/USD", "1.00", "tx-4", &json),
          SIH_INVALID_ARGUMENT);

    OK(sih_settlement_transfer(hub,
                               "{\"id\":\"t-1\",\"debit\":\"client/alice/USD\","
                               "\"credit\":\"client/bob/USD\",\"amount\":\"2.50\"}",
                               &json));
    CHECK(has(&json, "\"status\":\"posted\""));
    FAILS(sih_settlement_transfer(hub,
                                  "{\"id\":\"t-2\",\"debit\":\"client/bob/USD\","
                                  "\"credit\":\"client/alice/USD\",\"amount\":\"99.00\"}",
                                  &json),
          SIH_INSUFFICIENT_FUNDS);
    FAILS(sih_settlement_transfer(hub, "{\"id\":\"t-3\"}", &json), SIH_INVALID_ARGUMENT);
    CHECK(error_names("debit"));
    OK(sih_settlement_transfer(hub,
                               "{\"id\":\"p-1\",\"debit\":\"client/alice/USD\","
                               "\"credit\":\"client/bob/USD\",\"amount\":\"1.00\","
                               "\"pending\":true}",
                               &json));
    CHECK(has(&json, "\"status\":\"pending\""));
    OK(sih_settlement_post_pending(hub, "p-1-post", "p-1", "0.40", &json));
    CHECK(has(&json, "0.400000"));
    FAILS(sih_settlement_post_pending(hub, "p-1-again", "p-1", NULL, &json), SIH_CONFLICT);
    FAILS(sih_settlement_post_pending(hub, "p-x-post", "p-x", NULL, &json), SIH_NOT_FOUND);
    OK(sih_settlement_transfer(hub,
                               "{\"id\":\"p-2\",\"debit\":\"client/alice/USD\","
                               "\"credit\":\"client/bob/USD\",\"amount\":\"1.00\","
                               "\"pending\":true,\"timeoutAt\":1767225601000}",
                               NULL));
    OK(sih_clock_advance(clock, 2000));
    int64_t expired = 0;
    OK(sih_settlement_expire_pending(hub, &expired));
    CHECK(expired == 1);
    OK(sih_settlement_transfer(hub,
                               "{\"id\":\"p-3\",\"debit\":\"client/alice/USD\","
                               "\"credit\":\"client/bob/USD\",\"amount\":\"1.00\","
                               "\"pending\":true}",
                               NULL));
    OK(sih_settlement_void_pending(hub, "p-3-void", "p-3", &json));
    CHECK(has(&json, "voided"));

    OK(sih_settlement_account(hub, "client/alice/USD", &json));
    CHECK(has(&json, "\"balance\":\"7.100000\""));
    FAILS(sih_settlement_account(hub, "client/zoe/USD", &json), SIH_NOT_FOUND);
    OK(sih_settlement_accounts(hub, "client", &json));
    CHECK(has(&json, "client/bob/USD"));
    OK(sih_settlement_accounts(hub, NULL, &json));
    CHECK(has(&json, "external"));
    FAILS(sih_settlement_accounts(hub, "pirate", &json), SIH_INVALID_ARGUMENT);
    OK(sih_settlement_history(hub, "client/alice/USD", 10, &json));
    CHECK(has(&json, "\"txType\""));
    FAILS(sih_settlement_history(hub, "client/alice/USD", 0, &json), SIH_INVALID_ARGUMENT);
    OK(sih_settlement_withdraw(hub, "client/bob/USD", "1.00", "w-1", NULL, &json));
    CHECK(has(&json, "withdrawal"));
    FAILS(sih_settlement_withdraw(hub, "client/bob/USD", "100.00", "w-2", "iban", &json),
          SIH_INSUFFICIENT_FUNDS);
    OK(sih_settlement_transfer_by_id(hub, "t-1", &json));
    CHECK(has(&json, "\"id\":\"t-1\""));
    FAILS(sih_settlement_transfer_by_id(hub, "t-404", &json), SIH_NOT_FOUND);
    OK(sih_settlement_deposits(hub, &json));
    CHECK(has(&json, "\"USD\":10000000")); /* 10.00 USD in micro-units */
    OK(sih_settlement_withdrawals(hub, &json));
    CHECK(has(&json, "\"USD\""));

    /* The marketplace between two hubs. */
    OK(sih_scheduler_register_hub(hub,
                                  "{\"hubId\":\"hub-basel\",\"name\":\"Basel\",\"site\":\"bs-1\","
                                  "\"region\":\"CH\"}",
                                  NULL));
    OK(sih_settlement_top_up(hub, "hub_operator/hub-basel/USD", "20.00", "op-1", NULL));
    const char* order =
        "{\"id\":\"m-1\",\"type\":\"heat\",\"buyerHub\":\"hub-basel\","
        "\"sellerHub\":\"hub-zurich\",\"quantity\":1000,\"unitPrice\":\"0.01\"}";
    OK(sih_settlement_create_market_transaction(hub, order, &json));
    CHECK(has(&json, "\"total\":\"10.000000\""));
    FAILS(sih_settlement_create_market_transaction(
              hub,
              "{\"id\":\"m-2\",\"type\":\"heat\",\"buyerHub\":\"hub-basel\",\"sellerHub\":"
              "\"hub-zurich\",\"quantity\":100000,\"unitPrice\":\"0.01\"}",
              &json),
          SIH_INSUFFICIENT_FUNDS);
    FAILS(sih_settlement_create_market_transaction(
              hub,
              "{\"id\":\"m-3\",\"type\":\"gold\",\"buyerHub\":\"hub-basel\",\"sellerHub\":"
              "\"hub-zurich\",\"quantity\":1,\"unitPrice\":\"0.01\"}",
              &json),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("type"));
    OK(sih_settlement_settle_market_transaction(hub, "m-1", &json));
    CHECK(has(&json, "\"status\":\"settled\""));
    FAILS(sih_settlement_cancel_market_transaction(hub, "m-1", &json), SIH_CONFLICT);
    OK(sih_settlement_market_transaction(hub, "m-1", &json));
    CHECK(has(&json, "m-1"));
    OK(sih_settlement_create_market_transaction(
        hub,
        "{\"id\":\"m-4\",\"type\":\"compute\",\"buyerHub\":\"hub-basel\",\"sellerHub\":"
        "\"hub-zurich\",\"quantity\":2,\"unitPrice\":\"0.50\"}",
        NULL));
    OK(sih_settlement_cancel_market_transaction(hub, "m-4", &json));
    CHECK(has(&json, "cancelled"));
    OK(sih_settlement_market_transactions(hub, "{\"hub\":\"hub-basel\",\"status\":\"settled\"}",
                                          &json));
    CHECK(has(&json, "m-1"));
    OK(sih_settlement_market_transactions(hub, NULL, &json));
    CHECK(has(&json, "m-4"));
    FAILS(sih_settlement_market_transactions(hub, "{\"limit\":0}", &json), SIH_INVALID_ARGUMENT);
    FAILS(sih_settlement_market_transaction(hub, "m-404", &json), SIH_NOT_FOUND);

    OK(sih_settlement_worker_reputation(hub, "worker-1", &json));
    CHECK(has(&json, "\"subject\":\"worker\""));
    OK(sih_settlement_hub_reputation(hub, "hub-zurich", &json));
    CHECK(has(&json, "\"subject\":\"hub\""));
    FAILS(sih_settlement_worker_reputation(hub, "worker-404", &json), SIH_NOT_FOUND);
    OK(sih_settlement_reputations(hub, "worker", &json));
    CHECK(has(&json, "worker-1"));
    FAILS(sih_settlement_reputations(hub, "planet", &json), SIH_INVALID_ARGUMENT);
    close_hub(&hub, &clock);
}

/* A top-up past the int64 balance is refused naming the account, and changes nothing. */
static void test_settlement_top_up_overflow(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    char* json = NULL;
    OK(sih_settlement_top_up(hub, "client/carol/USD", "9223372036854.775807", "tx-max", NULL));
    FAILS(sih_settlement_top_up(hub, "client/carol/USD", "0.000001", "tx-one", &json),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("client/carol/USD"));
    CHECK(strstr(sih_last_error(), "overflows") != NULL);
    OK(sih_settlement_account(hub, "client/carol/USD", &json));
    CHECK(has(&json, "\"balance\":\"9223372036854.775807\""));
    FAILS(sih_settlement_transfer_by_id(hub, "deposit:tx-one", &json), SIH_NOT_FOUND);
    close_hub(&hub, &clock);
}

/* EIP-191 sign and verify with no hub; a hub with requireWorkerSignatures refuses a completion
 * its worker did not sign, and takes the one it did. */
static void test_worker_signatures_and_eip191(void) {
    /* Hardhat's first test account: a well-known key and its address. */
    const char* key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    const char* address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
    const uint8_t message[] = {'h', 'e', 'l', 'l', 'o'};
    char* signature = NULL;
    OK(sih_eip191_sign(key, message, sizeof message, &signature));
    CHECK(signature != NULL && strlen(signature) == 132 && strncmp(signature, "0x", 2) == 0);
    int valid = -1;
    OK(sih_eip191_verify(message, sizeof message, signature, address, &valid));
    CHECK(valid == 1);
    OK(sih_eip191_verify(message, 4, signature, address, &valid));
    CHECK(valid == 0); /* another message */
    OK(sih_eip191_verify(message, sizeof message, signature,
                         "0x0000000000000000000000000000000000000001", &valid));
    CHECK(valid == 0); /* another signer */
    FAILS(sih_eip191_verify(message, sizeof message, "0x1234", address, &valid),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("signature"));
    FAILS(sih_eip191_sign("0x12", message, sizeof message, &signature), SIH_INVALID_ARGUMENT);
    CHECK(error_names("private_key"));
    sih_free(signature);

    fresh_directory();
    sih_clock* clock = NULL;
    OK(sih_clock_new_manual(kStart, &clock));
    sih_hub_options options = SIH_HUB_OPTIONS_INIT;
    options.clock = clock;
    options.durability = SIH_DURABILITY_PROCESS_CRASH;
    options.settlement_options_json = "{\"requireWorkerSignatures\":true,\"submissionsPerHour\":0}";
    sih_hub* hub = NULL;
    OK(sih_hub_open(directory, &options, &hub));
    if (hub == NULL) {
        exit(1);
    }
    char* json = NULL;
    OK(sih_settlement_options(hub, &json));
    CHECK(has(&json, "\"requireWorkerSignatures\":true"));
    OK(sih_scheduler_register_hub(hub, kHubSpec, NULL));
    OK(sih_scheduler_register_worker(hub,
                                     "{\"workerId\":\"worker-1\",\"hubId\":\"hub-zurich\","
                                     "\"cpu\":\"8\",\"memory\":\"16Gi\",\"executors\":[\"native\","
                                     "\"container\"],\"labels\":{\"address\":"
                                     "\"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\"}}",
                                     NULL));
    char* job_id = NULL;
    OK(sih_scheduler_submit(hub, kJob, "alice", &job_id));
    sih_lease lease;
    size_t count = 0;
    OK(sih_scheduler_claim(hub, "worker-1", &lease, 1, &count));
    CHECK(count == 1);
    sih_completion completion = SIH_COMPLETION_INIT;
    completion.result_hash = "result-1";
    FAILS(sih_scheduler_complete(hub, job_id, lease.token, &completion), SIH_INVALID_ARGUMENT);
    CHECK(error_names("worker_signature"));
    char* proof = NULL;
    OK(sih_proof_of_execution(job_id, "result-1", "worker-1", &proof));
    OK(sih_eip191_sign(key, (const uint8_t*)proof, strlen(proof), &signature));
    completion.worker_signature = signature;
    OK(sih_scheduler_complete(hub, job_id, lease.token, &completion));
    sih_free(signature);
    sih_free(proof);
    sih_free(job_id);
    close_hub(&hub, &clock);
}

static void test_epochs_receipts_and_operator_key(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    char* json = NULL;
    OK(sih_settlement_top_up(hub, "client/alice/USD", "1.00", "tx-1", NULL));

    char* job_id = NULL;
    OK(sih_scheduler_submit(hub, kJob, "alice", &job_id));
    sih_lease lease;
    size_t count = 0;
    OK(sih_scheduler_claim(hub, "worker-1", &lease, 1, &count));
    CHECK(count == 1);
    char* proof = NULL;
    OK(sih_proof_of_execution(job_id, "result-1", "worker-1", &proof));
    CHECK(proof != NULL && strlen(proof) == 64);
    FAILS(sih_proof_of_execution(job_id, NULL, "worker-1", &proof), SIH_INVALID_ARGUMENT);
    sih_completion completion = SIH_COMPLETION_INIT;
    completion.energy_mwh = 1000000;
    completion.result_hash = "result-1";
    completion.proof_of_execution = proof;
    OK(sih_scheduler_complete(hub, job_id, lease.token, &completion));
    sih_free(proof);

    FAILS(sih_settlement_receipt(hub, job_id, &json), SIH_CONFLICT); /* not sealed yet */
    OK(sih_settlement_current_epoch(hub, &json));
    CHECK(has(&json, "\"status\":\"active\""));
    OK(sih_clock_advance(clock, 60 * 1000));
    char* epoch = NULL;
    OK(sih_settlement_seal_epoch(hub, &epoch));
    CHECK(epoch != NULL && strstr(epoch, "\"status\":\"finalized\"") != NULL);
    CHECK(has(&epoch, "\"jobs_count\":1"));
    OK(sih_settlement_seal_due_epoch(hub, &json));
    CHECK(has(&json, "null"));
    OK(sih_settlement_epochs(hub, &json));
    CHECK(has(&json, "epoch-000001"));
    OK(sih_settlement_epoch(hub, "epoch-000001", &json));
    CHECK(has(&json, "jobs_merkle_root"));
    OK(sih_settlement_epoch(hub, "epoch-000001", &json));
    CHECK(has(&json, "\"previous_root\":null")); /* epoch 1 has none */
    OK(sih_settlement_epoch(hub, "epoch-000001", &json));
    CHECK(has(&json, "\"total_distributed\":\""));
    FAILS(sih_settlement_epoch(hub, "epoch-999999", &json), SIH_NOT_FOUND);
    OK(sih_settlement_epoch_jobs(hub, "epoch-000001", &json));
    CHECK(has(&json, job_id));
    OK(sih_settlement_epoch_payouts(hub, "epoch-000001", &json));
    CHECK(has(&json, "worker-1"));
    /* Pending until a withdrawal of the worker's payout pays it. */
    OK(sih_settlement_epoch_payouts(hub, "epoch-000001", &json));
    {
        char total[32] = "";
        const char* at = json != NULL ? strstr(json, "\"total_payout\":\"") : NULL;
        CHECK(at != NULL && sscanf(at, "\"total_payout\":\"%31[0-9.]", total) == 1);
        CHECK(has(&json, "\"status\":\"pending\""));
        OK(sih_settlement_withdraw(hub, "worker/worker-1/USD", total, "payout-w-1", "0xl1", &json));
        sih_free(json);
        json = NULL;
        OK(sih_settlement_epoch_payouts(hub, "epoch-000001", &json));
        CHECK(has(&json, "\"status\":\"paid\""));
    }
    OK(sih_settlement_epoch_bundle(hub, "epoch-000001", &json));
    CHECK(has(&json, "SUMMARY.json"));
    OK(sih_settlement_epoch_bundle(hub, "epoch-000001", &json));
    CHECK(has(&json, "\"SIGNATURE.txt\":\"0x")); /* named as the file is */
    FAILS(sih_settlement_epoch_bundle(hub, "epoch-000002", &json), SIH_CONFLICT);
    OK(sih_settlement_index(hub, &json));
    CHECK(has(&json, "\"epochs\""));

    char* address = NULL;
    OK(sih_settlement_operator_address(hub, &address));
    CHECK(address != NULL && strncmp(address, "0x", 2) == 0 && strlen(address) == 42);
    char* receipt = NULL;
    OK(sih_settlement_receipt(hub, job_id, &receipt));
    CHECK(receipt != NULL);

    sih_receipt_check check;
    OK(sih_receipt_verify(receipt, strlen(receipt), address, &check));
    CHECK(check.valid == 1 && check.problem[0] == '\0');
    CHECK(strcmp(check.job_id, job_id) == 0 && strcmp(check.epoch_id, "epoch-000001") == 0);
    CHECK(strcmp(check.signer, address) == 0);
    CHECK(check.status == SIH_RECEIPT_VALID && check.signer_trusted == 1);
    /* No trusted signer: the receipt only agrees with the key it carries. Never valid. */
    OK(sih_receipt_verify(receipt, strlen(receipt), NULL, &check));
    CHECK(check.valid == 0 && check.status == SIH_RECEIPT_UNVERIFIED);
    CHECK(check.signer_trusted == 0 && strstr(check.problem, "unverified") != NULL);
    OK(sih_receipt_verify(receipt, strlen(receipt), "", &check));
    CHECK(check.valid == 0 && check.status == SIH_RECEIPT_UNVERIFIED);
    /* Another signer trusted: invalid, not an error. */
    OK(sih_receipt_verify(receipt, strlen(receipt), "0x0000000000000000000000000000000000000001",
                          &check));
    CHECK(check.valid == 0 && check.status == SIH_RECEIPT_INVALID && check.problem[0] != '\0');
    /* One of several trusted signers. */
    char list[128];
    snprintf(list, sizeof list, "0x0000000000000000000000000000000000000001,%s", address);
    OK(sih_receipt_verify(receipt, strlen(receipt), list, &check));
    CHECK(check.valid == 1 && check.status == SIH_RECEIPT_VALID);
    FAILS(sih_receipt_verify(receipt, strlen(receipt), "0xnothex", &check), SIH_INVALID_ARGUMENT);
    CHECK(error_names("trusted_signers"));
    /* A receipt repeating a member name is invalid, whoever signed it. */
    char* doubled = malloc(strlen(receipt) + 32);
    CHECK(doubled != NULL);
    if (doubled != NULL) {
        snprintf(doubled, strlen(receipt) + 32, "{\"job_id\":\"job-other\",%s", receipt + 1);
        OK(sih_receipt_verify(doubled, strlen(doubled), address, &check));
        CHECK(check.valid == 0 && check.status == SIH_RECEIPT_INVALID);
        CHECK(strstr(check.problem, "duplicate member name") != NULL);
        free(doubled);
    }
    /* A tampered receipt: the leaf no longer hashes into the root. */
    char* tampered = strdup(receipt);
    char* fee = strstr(tampered, "worker-1");
    CHECK(fee != NULL);
    if (fee != NULL) {
        fee[7] = '2';
    }
    OK(sih_receipt_verify(tampered, strlen(tampered), NULL, &check));
    CHECK(check.valid == 0);
    OK(sih_receipt_verify("{", 1, NULL, &check));
    CHECK(check.valid == 0 && check.problem[0] != '\0');
    FAILS(sih_receipt_verify(NULL, 0, NULL, &check), SIH_INVALID_ARGUMENT);
    FAILS(sih_receipt_verify(receipt, strlen(receipt), NULL, NULL), SIH_INVALID_ARGUMENT);

    sih_receipt_verifier* verifier = NULL;
    FAILS(sih_receipt_verifier_new(NULL), SIH_INVALID_ARGUMENT);
    OK(sih_receipt_verifier_new(&verifier));
    for (int i = 0; i < 3; ++i) {
        OK(sih_receipt_verifier_verify(verifier, receipt, strlen(receipt), address, &check));
        CHECK(check.valid == 1);
    }
    OK(sih_receipt_verifier_verify(verifier, tampered, strlen(tampered), NULL, &check));
    CHECK(check.valid == 0);
    FAILS(sih_receipt_verifier_verify(NULL, receipt, strlen(receipt), NULL, &check),
          SIH_INVALID_ARGUMENT);
    sih_receipt_verifier_destroy(&verifier);
    CHECK(verifier == NULL);
    sih_receipt_verifier_destroy(&verifier);
    free(tampered);

    /* The operator key: a finalized epoch pins it unless the caller says replace. */
    char* key_file = NULL;
    OK(sih_settlement_operator_key_file(hub, &key_file));
    CHECK(has(&key_file, "operator.key"));
    char* fresh = NULL;
    FAILS(sih_settlement_generate_operator_key(hub, 0, &fresh), SIH_CONFLICT);
    OK(sih_settlement_generate_operator_key(hub, 1, &fresh));
    CHECK(fresh != NULL && strcmp(fresh, address) != 0);
    char* imported = NULL;
    FAILS(sih_settlement_import_operator_key(hub, "zz", 1, &imported), SIH_INVALID_ARGUMENT);
    OK(sih_settlement_import_operator_key(
        hub, "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318", 1, &imported));
    CHECK(imported != NULL && strcmp(imported, "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23") == 0);
    /* The sealed receipt still verifies against the key that signed it, and against the hub's
     * trusted signers, which keep the earlier key that signed a finalized epoch. */
    OK(sih_receipt_verify(receipt, strlen(receipt), address, &check));
    CHECK(check.valid == 1);
    char* signers = NULL;
    OK(sih_settlement_trusted_signers(hub, &signers));
    CHECK(signers != NULL && strncmp(signers, imported, 42) == 0 && strstr(signers, address));
    OK(sih_receipt_verify(receipt, strlen(receipt), signers, &check));
    CHECK(check.valid == 1 && check.status == SIH_RECEIPT_VALID);
    sih_free(signers);
    sih_free(imported);
    sih_free(fresh);
    sih_free(receipt);
    sih_free(address);
    sih_free(epoch);
    sih_free(job_id);
    close_hub(&hub, &clock);
}

/* ---- worker agent ---------------------------------------------------------------------- */

static int executions = 0;

static void write_output(void* payload, const sih_execution_request* request,
                         sih_execution_result* result) {
    (void)payload;
    ++executions;
    CHECK(request->attempt == 1);
    CHECK(strstr(request->job_json, request->job_id) != NULL);
    CHECK(sih_execution_stop_requested(request) == 0);
    char path[600];
    snprintf(path, sizeof path, "%s/result.txt", request->output_dir);
    FILE* file = fopen(path, "w");
    if (file != NULL) {
        fputs("hello world", file);
        fclose(file);
    }
    result->outcome = SIH_EXECUTION_SUCCEEDED;
    result->has_exit_code = 1;
    result->exit_code = 0;
}

static int agent_events = 0;
static void count_agent_event(void* payload, const char* line) {
    (void)payload;
    (void)line;
    ++agent_events;
}

static void test_worker_agent_with_a_c_executor(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    char* json = NULL;
    OK(sih_settlement_top_up(hub, "client/alice/USD", "1.00", "tx-1", NULL));

    sih_agent_options options;
    FAILS(sih_agent_options_init(&options, 0), SIH_INVALID_ARGUMENT);
    OK(sih_agent_options_init(&options, SIH_AGENT_OPTIONS_VERSION));
    CHECK(options.slots == 1 && options.poll_interval_ms == 1000);
    sih_agent* agent = NULL;
    FAILS(sih_agent_new(hub, &options, &agent), SIH_INVALID_ARGUMENT); /* no hub id */
    CHECK(error_names("hub_id"));
    options.hub_id = "hub-zurich";
    options.worker_id = "agent-c";
    options.hardware_json = "{\"cpuCores\":2,\"memoryBytes\":4294967296}";
    options.labels_json = "{\"rack\":\"a\"}";
    options.poll_interval_ms = 20;
    options.executor = write_output;
    options.on_event = count_agent_event;
    options.version = 99;
    FAILS(sih_agent_new(hub, &options, &agent), SIH_INVALID_ARGUMENT);
    options.version = SIH_AGENT_OPTIONS_VERSION;
    options.hardware_json = "{\"cpuCores\":\"two\"}";
    FAILS(sih_agent_new(hub, &options, &agent), SIH_INVALID_ARGUMENT);
    CHECK(error_names("cpuCores"));
    options.hardware_json = "{\"cpuCores\":2,\"memoryBytes\":4294967296}";
    OK(sih_agent_new(hub, &options, &agent));

    OK(sih_agent_start(agent, &json));
    CHECK(has(&json, "\"rack\":\"a\""));
    FAILS(sih_agent_start(agent, &json), SIH_CONFLICT);
    char* worker = NULL;
    OK(sih_agent_worker_id(agent, &worker));
    CHECK(has(&worker, "agent-c"));
    OK(sih_agent_hardware(agent, &json));
    CHECK(has(&json, "\"cpuCores\":2"));

    char* job_id = NULL;
    OK(sih_scheduler_submit(hub, kJob, "alice", &job_id));
    int done = 0;
    for (int i = 0; i < 500 && !done; ++i) {
        OK(sih_scheduler_job(hub, job_id, &json));
        done = json != NULL && strstr(json, "\"status\":\"completed\"") != NULL;
        if (done) {
            /* The output file became an output CID. */
            CHECK(strstr(json, kHelloCid) != NULL);
        }
        sih_free(json);
        if (!done) {
            struct timespec pause = {0, 10 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    CHECK(done);
    CHECK(executions == 1);
    int idle = 0;
    OK(sih_agent_wait_idle(agent, 5000, &idle));
    CHECK(idle == 1);
    OK(sih_agent_status(agent, &json));
    CHECK(has(&json, "\"completed\":1"));
    int64_t handed_back = -1;
    OK(sih_agent_drain(agent, 100, &handed_back));
    CHECK(handed_back == 0);
    OK(sih_agent_stop(agent, 0));
    OK(sih_agent_stop(agent, 0)); /* idempotent */
    CHECK(agent_events > 0);
    sih_agent_destroy(&agent);
    CHECK(agent == NULL);
    sih_agent_destroy(&agent);
    sih_agent_destroy(NULL);

    /* Closing the hub stops a live agent; the agent then refuses calls until destroyed. */
    options.worker_id = "agent-d";
    OK(sih_agent_new(hub, &options, &agent));
    OK(sih_agent_start(agent, NULL));
    sih_hub_close(&hub);
    FAILS(sih_agent_status(agent, &json), SIH_CONFLICT);
    sih_agent_destroy(&agent);

    OK(sih_detect_hardware(&json));
    CHECK(has(&json, "\"cpuCores\""));
    sih_free(job_id);
    sih_clock_destroy(&clock);
    remove_directory();
}

/* An agent given worker_key_hex (version 3) signs each completion's proof of execution, so a
   hub with requireWorkerSignatures takes its work; a bad key is named, never shown. */
static void test_worker_agent_with_a_worker_key(void) {
    const char* key = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    fresh_directory();
    sih_clock* clock = NULL;
    OK(sih_clock_new_manual(kStart, &clock));
    sih_hub_options hub_options = SIH_HUB_OPTIONS_INIT;
    hub_options.clock = clock;
    hub_options.durability = SIH_DURABILITY_PROCESS_CRASH;
    hub_options.scheduler_options_json = "{\"submissionsPerHour\":0}";
    hub_options.settlement_options_json = "{\"requireWorkerSignatures\":true}";
    sih_hub* hub = NULL;
    OK(sih_hub_open(directory, &hub_options, &hub));
    if (hub == NULL) {
        exit(1);
    }
    OK(sih_scheduler_register_hub(hub, kHubSpec, NULL));
    char* json = NULL;

    sih_agent_options options;
    options.worker_key_hex = "untouched";
    OK(sih_agent_options_init(&options, 2)); /* a version 2 struct ends before the key */
    CHECK(strcmp(options.worker_key_hex, "untouched") == 0);
    OK(sih_agent_options_init(&options, SIH_AGENT_OPTIONS_VERSION));
    CHECK(SIH_AGENT_OPTIONS_VERSION == 3 && options.worker_key_hex == NULL);
    options.hub_id = "hub-zurich";
    options.worker_id = "agent-signed";
    options.hardware_json = "{\"cpuCores\":2,\"memoryBytes\":4294967296}";
    options.poll_interval_ms = 20;
    options.executor = write_output;

    sih_agent* agent = NULL;
    /* One character off: refused, named, and no digit of the key in the error. */
    options.worker_key_hex = "zc0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    FAILS(sih_agent_new(hub, &options, &agent), SIH_INVALID_ARGUMENT);
    CHECK(error_names("worker_key"));
    CHECK(strstr(sih_last_error(), "c0974bec39a17e") == NULL);
    options.worker_key_hex = "0x1234";
    FAILS(sih_agent_new(hub, &options, &agent), SIH_INVALID_ARGUMENT);
    CHECK(error_names("worker_key"));
    CHECK(strstr(sih_last_error(), "1234") == NULL);
    /* A version 2 struct is read without its key (so whatever lies there is not read). */
    options.version = 2;
    OK(sih_agent_new(hub, &options, &agent));
    sih_agent_destroy(&agent);
    options.version = SIH_AGENT_OPTIONS_VERSION;

    options.worker_key_hex = key;
    OK(sih_agent_new(hub, &options, &agent));
    OK(sih_agent_start(agent, &json));
    CHECK(has(&json, "\"address\":\"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\""));
    char* job_id = NULL;
    OK(sih_scheduler_submit(hub, kJob, "alice", &job_id));
    int done = 0;
    for (int i = 0; i < 500 && !done; ++i) {
        OK(sih_scheduler_job(hub, job_id, &json));
        done = json != NULL && strstr(json, "\"status\":\"completed\"") != NULL;
        sih_free(json);
        json = NULL;
        if (!done) {
            struct timespec pause = {0, 10 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    /* Completed on a hub that verifies each completion's signature against the worker's
       address: the agent signed the proof with the key. */
    CHECK(done);
    OK(sih_agent_stop(agent, 0));
    sih_agent_destroy(&agent);
    sih_free(job_id);
    close_hub(&hub, &clock);
}

/* ---- every function refuses a NULL hub --------------------------------------------------- */

static void test_every_hub_function_refuses_null(void) {
    char* json = NULL;
    int64_t number = 0;
    size_t count = 0;
    sih_lease lease;
    uint8_t* bytes = NULL;
    sih_status results[] = {
        sih_hub_info(NULL, &json),
        sih_scheduler_options(NULL, &json),
        sih_scheduler_set_options(NULL, "{}"),
        sih_scheduler_register_hub(NULL, kHubSpec, &json),
        sih_scheduler_update_hub(NULL, kHubSpec, &json),
        sih_scheduler_hub(NULL, "h", &json),
        sih_scheduler_hubs(NULL, &json),
        sih_scheduler_set_grid_state(NULL, "h", "{}", &json),
        sih_scheduler_set_heat_demand(NULL, "h", 1, SIH_NONE, &json),
        sih_scheduler_register_worker(NULL, kWorkerSpec, &json),
        sih_scheduler_heartbeat(NULL, "w", 0, 0, &json),
        sih_scheduler_heartbeat_json(NULL, "w", "{}", &json),
        sih_scheduler_set_worker_status(NULL, "w", "online", &json),
        sih_scheduler_worker(NULL, "w", &json),
        sih_scheduler_workers(NULL, NULL, &json),
        sih_scheduler_submit(NULL, kJob, "a", &json),
        sih_scheduler_submit_json(NULL, kJob, "a", &json),
        sih_scheduler_submit_many(NULL, "[]", "a", &json),
        sih_scheduler_claim(NULL, "w", &lease, 1, &count),
        sih_scheduler_claim_json(NULL, "w", 1, &json),
        sih_scheduler_renew(NULL, "j", "t", &lease),
        sih_scheduler_complete(NULL, "j", "t", NULL),
        sih_scheduler_complete_json(NULL, "j", "t", NULL, &json),
        sih_scheduler_complete_many(NULL, "[]", &json),
        sih_scheduler_fail(NULL, "j", "t", "e", 1, &json),
        sih_scheduler_cancel(NULL, "j", "b", NULL, &json),
        sih_scheduler_requeue(NULL, "j", "b", NULL, &json),
        sih_scheduler_tick(NULL, &number),
        sih_scheduler_job(NULL, "j", &json),
        sih_scheduler_jobs(NULL, NULL, &json),
        sih_scheduler_events(NULL, "j", &json),
        sih_scheduler_queue_stats(NULL, "h", &json),
        sih_scheduler_explain(NULL, "j", &json),
        sih_scheduler_subscribe(NULL, count_event, NULL, &number),
        sih_scheduler_unsubscribe(NULL, 1),
        sih_cas_put_bytes(NULL, (const uint8_t*)"x", 1, "a", NULL, &json),
        sih_cas_put_stream(NULL, read_chunks, NULL, "a", NULL, &json),
        sih_cas_put_file(NULL, "/dev/null", "a", NULL, &json),
        sih_cas_get(NULL, kHelloCid, "a", 0, SIH_TO_END, collect, NULL),
        sih_cas_get_bytes(NULL, kHelloCid, "a", 0, SIH_TO_END, &bytes, &count),
        sih_cas_stat(NULL, kHelloCid, "a", &json),
        sih_cas_list(NULL, "a", NULL, 10, &json),
        sih_cas_remove(NULL, kHelloCid, "a"),
        sih_cas_move_to_tier(NULL, kHelloCid, "a", SIH_TIER_COLD, &json),
        sih_cas_add_community_member(NULL, "c", "a", "a"),
        sih_cas_remove_community_member(NULL, "c", "a", "a"),
        sih_cas_communities_of(NULL, "a", "a", &json),
        sih_cas_set_reference(NULL, "n", "1", kHelloCid, "a", &json),
        sih_cas_resolve_reference(NULL, "n", NULL, "a", &json),
        sih_cas_reference_versions(NULL, "n", "a", &json),
        sih_cas_remove_reference(NULL, "n", "1", "a"),
        sih_cas_export_car(NULL, kHelloCid, "a", collect, NULL),
        sih_cas_import_car(NULL, read_chunks, NULL, "a", NULL, &json),
        sih_cas_replicas(NULL, kHelloCid, "a", &json),
        sih_cas_repair_plan(NULL, NULL, 0, &json),
        sih_cas_confirm_replica(NULL, kHelloCid, "h"),
        sih_cas_fail_replica(NULL, kHelloCid, "h"),
        sih_cas_scrub(NULL, SIH_NONE, &json),
        sih_cas_collect_garbage(NULL, &number),
        sih_cas_set_quota(NULL, "a", 1, SIH_NONE),
        sih_cas_quota(NULL, "a", &json),
        sih_cas_use_backend(NULL, NULL),
        sih_heat_record(NULL, "{}", &json),
        sih_heat_record_many(NULL, "[]", &json),
        sih_heat_set_credit_rate(NULL, "h", 5, "CHF", 0, &json),
        sih_heat_credit_rates(NULL, "h", &json),
        sih_heat_credits(NULL, "h", SIH_NONE, SIH_NONE, &json),
        sih_heat_stats(NULL, "h", &json),
        sih_heat_group_stats(NULL, "site", "s", &json),
        sih_heat_group_series(NULL, "site", "s", "hour", 0, 1, &json),
        sih_heat_settle(NULL, "h", 0, 1, &json),
        sih_heat_settlements(NULL, "h", &json),
        sih_heat_series(NULL, "h", "hour", 0, 1, &json),
        sih_heat_unmet_demand_w(NULL, "h", SIH_NONE, &number),
        sih_settlement_options(NULL, &json),
        sih_hub_settings(NULL, &json),
        sih_hub_update_settings(NULL, "{}", "operator", &json),
        sih_hub_set_setting(NULL, "chargeJobs", "true", "operator", &json),
        sih_hub_settings_history(NULL, 0, 10, &json),
        sih_hub_events_after(NULL, 0, 10, "operator", NULL, &json),
        sih_hub_wait_for_events(NULL, 0, 10, "operator", NULL, 0, &json),
        sih_settlement_operator_address(NULL, &json),
        sih_settlement_price_of(NULL, "ocr", &json),
        sih_settlement_charge_of(NULL, "j", &json),
        sih_settlement_operator_key_file(NULL, &json),
        sih_settlement_generate_operator_key(NULL, 0, &json),
        sih_settlement_import_operator_key(NULL, "00", 0, &json),
        sih_settlement_transfer(NULL, "{}", &json),
        sih_settlement_post_pending(NULL, "i", "p", NULL, &json),
        sih_settlement_void_pending(NULL, "i", "p", &json),
        sih_settlement_expire_pending(NULL, &number),
        sih_settlement_top_up(NULL, "client/a/USD", "1", "r", &json),
        sih_settlement_withdraw(NULL, "client/a/USD", "1", "i", NULL, &json),
        sih_settlement_account(NULL, "client/a/USD", &json),
        sih_settlement_accounts(NULL, NULL, &json),
        sih_settlement_history(NULL, "client/a/USD", 10, &json),
        sih_settlement_transfer_by_id(NULL, "i", &json),
        sih_settlement_deposits(NULL, &json),
        sih_settlement_withdrawals(NULL, &json),
        sih_settlement_create_market_transaction(NULL, "{}", &json),
        sih_settlement_settle_market_transaction(NULL, "m", &json),
        sih_settlement_cancel_market_transaction(NULL, "m", &json),
        sih_settlement_market_transaction(NULL, "m", &json),
        sih_settlement_market_transactions(NULL, NULL, &json),
        sih_settlement_worker_reputation(NULL, "w", &json),
        sih_settlement_hub_reputation(NULL, "h", &json),
        sih_settlement_reputations(NULL, "worker", &json),
        sih_settlement_current_epoch(NULL, &json),
        sih_settlement_seal_epoch(NULL, &json),
        sih_settlement_seal_due_epoch(NULL, &json),
        sih_settlement_epoch(NULL, "e", &json),
        sih_settlement_epochs(NULL, &json),
        sih_settlement_epoch_jobs(NULL, "e", &json),
        sih_settlement_epoch_payouts(NULL, "e", &json),
        sih_settlement_epoch_bundle(NULL, "e", &json),
        sih_settlement_receipt(NULL, "j", &json),
        sih_settlement_trusted_signers(NULL, &json),
        sih_settlement_index(NULL, &json),
        sih_agent_new(NULL, NULL, NULL),
        sih_agent_start(NULL, &json),
        sih_agent_drain(NULL, 0, &number),
        sih_agent_stop(NULL, 0),
        sih_agent_wait_idle(NULL, 0, NULL),
        sih_agent_status(NULL, &json),
        sih_agent_worker_id(NULL, &json),
        sih_agent_hardware(NULL, &json),
    };
    for (size_t i = 0; i < sizeof results / sizeof results[0]; ++i) {
        if (results[i] != SIH_INVALID_ARGUMENT) {
            fprintf(stderr, "  call %zu of the NULL table returned %s\n", i,
                    sih_status_name(results[i]));
        }
        CHECK(results[i] == SIH_INVALID_ARGUMENT);
    }
    CHECK(json == NULL && bytes == NULL);
    CHECK(sih_execution_stop_requested(NULL) == 0);
}

/* Waits (real time) until job `job_id` has `status` (e.g. "\"status\":\"failed\""); returns
 * its record (sih_free it) or NULL. */
static char* wait_for_job(sih_hub* hub, const char* job_id, const char* status) {
    for (int i = 0; i < 500; ++i) {
        char* json = NULL;
        OK(sih_scheduler_job(hub, job_id, &json));
        if (json != NULL && strstr(json, status) != NULL) {
            return json;
        }
        sih_free(json);
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return NULL;
}

/* Native jobs under the library's executors: the operator's rules and the sandbox. */
static void test_worker_agent_native_job_rules(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    OK(sih_settlement_top_up(hub, "client/alice/USD", "1.00", "tx-1", NULL));
    char* json = NULL;

    /* A version 1 struct ends before the version 2 fields: init leaves them alone. */
    sih_agent_options options;
    options.native_jobs = 7;
    options.unsandboxed_native = 7;
    OK(sih_agent_options_init(&options, 1));
    CHECK(options.native_jobs == 7 && options.unsandboxed_native == 7);
    OK(sih_agent_options_init(&options, SIH_AGENT_OPTIONS_VERSION));
    CHECK(options.native_jobs == 1 && options.unsandboxed_native == 0);
    CHECK(options.allowed_commands == NULL && options.bwrap_program == NULL);
    options.hub_id = "hub-zurich";
    options.poll_interval_ms = 20;
    options.hardware_json = "{\"cpuCores\":2,\"memoryBytes\":4294967296}";

    sih_agent* agent = NULL;
    char inside[300];
    snprintf(inside, sizeof inside, "%s/agent", directory);
    options.work_root = inside;
    FAILS(sih_agent_new(hub, &options, &agent), SIH_INVALID_ARGUMENT);
    CHECK(error_names("work_root"));
    options.work_root = NULL;
    const char* const unknown[] = {"no-such-program-anywhere"};
    options.allowed_commands = unknown;
    options.allowed_command_count = 1;
    FAILS(sih_agent_new(hub, &options, &agent), SIH_INVALID_ARGUMENT);
    CHECK(error_names("allowed_commands"));

    /* An allow-list: `true` runs, nothing else. */
    const char* const allowed[] = {"true"};
    options.allowed_commands = allowed;
    options.worker_id = "agent-allow";
    char* ok_id = NULL;
    char* refused_id = NULL;
    OK(sih_scheduler_submit(hub, kJob, "alice", &ok_id));
    OK(sih_scheduler_submit(hub,
                            "{\"jobType\":\"ocr\",\"jobName\":\"shell\",\"workloadConfig\":{"
                            "\"containerImage\":\"native\",\"command\":[\"sh\",\"-c\",\"true\"]}}",
                            "alice", &refused_id));
    OK(sih_agent_new(hub, &options, &agent));
    OK(sih_agent_start(agent, NULL));
    json = wait_for_job(hub, ok_id, "\"status\":\"completed\"");
    CHECK(json != NULL);
    sih_free(json);
    json = wait_for_job(hub, refused_id, "\"status\":\"failed\"");
    CHECK(json != NULL && strstr(json, "is not a program worker agent-allow allows") != NULL);
    sih_free(json);
    sih_agent_destroy(&agent);
    sih_free(ok_id);
    sih_free(refused_id);

    /* Native jobs off: the agent registers no native executor, so it is handed no native job;
       the job waits queued (it was handed out and failed before executors were placed by). */
    options.allowed_commands = NULL;
    options.allowed_command_count = 0;
    options.native_jobs = 0;
    options.worker_id = "agent-off";
    char* job_id = NULL;
    OK(sih_scheduler_submit(hub, kJob, "alice", &job_id));
    OK(sih_agent_new(hub, &options, &agent));
    OK(sih_agent_start(agent, &json));
    CHECK(has(&json, "\"executors\":[]"));
    int idle = 0;
    for (int i = 0; i < 3; ++i) {
        OK(sih_agent_wait_idle(agent, 5000, &idle));
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    OK(sih_scheduler_job(hub, job_id, &json));
    CHECK(has(&json, "\"status\":\"queued\""));
    sih_agent_destroy(&agent);
    OK(sih_scheduler_cancel(hub, job_id, "alice", "no native worker", NULL));
    sih_free(job_id);

    /* No bubblewrap: refused, unless the operator opts out of the sandbox. */
    options.native_jobs = 1;
    options.bwrap_program = "/nonexistent/bwrap";
    options.worker_id = "agent-nobwrap";
    OK(sih_scheduler_submit(hub, kJob, "alice", &job_id));
    OK(sih_agent_new(hub, &options, &agent));
    OK(sih_agent_start(agent, NULL));
    json = wait_for_job(hub, job_id, "\"status\":\"failed\"");
    CHECK(json != NULL && strstr(json, "cannot make one") != NULL);
    sih_free(json);
    sih_agent_destroy(&agent);
    sih_free(job_id);
    options.unsandboxed_native = 1;
    options.worker_id = "agent-trusted";
    OK(sih_scheduler_submit(hub, kJob, "alice", &job_id));
    OK(sih_agent_new(hub, &options, &agent));
    OK(sih_agent_start(agent, NULL));
    json = wait_for_job(hub, job_id, "\"status\":\"completed\"");
    CHECK(json != NULL);
    sih_free(json);
    sih_agent_destroy(&agent);
    sih_free(job_id);
    close_hub(&hub, &clock);
}

/* ---- hub settings ----------------------------------------------------------------------- */

static void test_hub_settings(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    char* json = NULL;
    OK(sih_hub_settings(hub, &json));
    CHECK(has(&json, "\"chargeJobs\":true"));
    OK(sih_hub_settings(hub, &json));
    CHECK(has(&json, "\"submissionsPerHour\":0"));

    /* One key in its text form: the stored price applies to the next price. */
    OK(sih_hub_set_setting(hub, "defaultPrice", "0.25", "operator", &json));
    CHECK(has(&json, "\"defaultPrice\":\"0.250000\""));
    OK(sih_settlement_price_of(hub, "ocr", &json));
    CHECK(has(&json, "\"amount\":\"0.250000\""));
    OK(sih_hub_update_settings(hub, "{\"prices\":{\"ocr\":\"0.05\"}}", "operator", &json));
    CHECK(has(&json, "\"prices\":{\"ocr\":\"0.050000\"}"));
    OK(sih_settlement_price_of(hub, "ocr", &json));
    CHECK(has(&json, "\"amount\":\"0.050000\""));

    /* Only the operator; a bad value names the key and changes nothing. */
    FAILS(sih_hub_set_setting(hub, "defaultPrice", "0.30", "alice", &json), SIH_PERMISSION_DENIED);
    FAILS(sih_hub_set_setting(hub, "protocolFeePpm", "2000000", "operator", &json),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("protocolFeePpm"));
    FAILS(sih_hub_update_settings(hub, "{\"epochDurationMs\":0}", "operator", &json),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("epochDurationMs"));
    OK(sih_hub_settings(hub, &json));
    CHECK(has(&json, "\"defaultPrice\":\"0.250000\""));
    OK(sih_hub_settings(hub, &json));
    CHECK(has(&json, "\"protocolFeePpm\":20000"));

    OK(sih_hub_settings_history(hub, 0, 100, &json));
    CHECK(has(&json, "\"key\":\"defaultPrice\",\"old\":\"0.100000\",\"new\":\"0.250000\""));
    OK(sih_hub_settings_history(hub, 0, 100, &json));
    CHECK(has(&json, "\"by\":\"operator\""));
    FAILS(sih_hub_settings_history(hub, 0, 0, &json), SIH_INVALID_ARGUMENT);
    sih_hub_close(&hub);

    /* Initial settings apply only when the hub is created. */
    sih_hub_options options = SIH_HUB_OPTIONS_INIT;
    options.clock = clock;
    options.settlement_options_json = "{\"chargeJobs\":false}";
    OK(sih_hub_open(directory, &options, &hub));
    OK(sih_hub_settings(hub, &json));
    CHECK(has(&json, "\"chargeJobs\":true"));
    sih_free(json);
    close_hub(&hub, &clock);
}

/* The hub's event log: each reader sees what concerns it, in order. */
static void test_hub_events(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    char* json = NULL;
    char* ann = NULL;
    char* bob = NULL;
    OK(sih_hub_update_settings(hub, "{\"chargeJobs\":false}", "operator", &json));
    sih_free(json);
    OK(sih_scheduler_submit(hub, kJob, "ann", &ann));
    OK(sih_scheduler_submit(hub, kJob, "bob", &bob));
    OK(sih_hub_events_after(hub, 0, 100, "ann", NULL, &json));
    CHECK(strstr(json, "\"kind\":\"job.queued\"") != NULL);
    CHECK(strstr(json, "\"client\":\"ann\"") != NULL);
    CHECK(strstr(json, "\"client\":\"bob\"") == NULL);
    sih_free(json);
    OK(sih_hub_events_after(hub, 0, 100, "operator", "", &json));
    CHECK(has(&json, "\"client\":\"bob\""));
    OK(sih_hub_events_after(hub, 0, 100, "", NULL, &json));
    CHECK(strcmp(json, "[]") == 0);
    sih_free(json);
    /* Nothing new for ann: an empty answer once the time is up. */
    OK(sih_hub_wait_for_events(hub, 1000000, 100, "ann", NULL, 10, &json));
    CHECK(strcmp(json, "[]") == 0);
    sih_free(json);
    json = NULL;
    FAILS(sih_hub_events_after(hub, -1, 100, "operator", NULL, &json), SIH_INVALID_ARGUMENT);
    CHECK(error_names("after"));
    FAILS(sih_hub_events_after(hub, 0, 0, "operator", NULL, &json), SIH_INVALID_ARGUMENT);
    CHECK(error_names("limit"));
    FAILS(sih_hub_events_after(hub, 0, 10, NULL, NULL, &json), SIH_INVALID_ARGUMENT);
    FAILS(sih_hub_wait_for_events(hub, 0, 10, "operator", NULL, -5, &json), SIH_INVALID_ARGUMENT);
    CHECK(error_names("timeout"));
    sih_free(ann);
    sih_free(bob);
    close_hub(&hub, &clock);
}

/* ---- the hub on the network ------------------------------------------------------------- */

typedef struct {
    pthread_mutex_t mutex;
    int lines;
    char last[512];
} access_log_state;

static void record_access(void* payload, const char* line) {
    access_log_state* state = (access_log_state*)payload;
    pthread_mutex_lock(&state->mutex);
    ++state->lines;
    snprintf(state->last, sizeof state->last, "%s", line);
    pthread_mutex_unlock(&state->mutex);
}

/* Sends `request` to 127.0.0.1:port over a plain socket and reads the whole answer into
 * `answer` (the server closes after "Connection: close"). Returns -1 if no connection. */
static int http_exchange(int port, const char* request, char* answer, size_t capacity) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t)port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr*)&address, sizeof address) != 0) {
        close(fd);
        return -1;
    }
    size_t length = strlen(request);
    if (send(fd, request, length, 0) != (ssize_t)length) {
        close(fd);
        return -1;
    }
    size_t used = 0;
    for (;;) {
        ssize_t got = recv(fd, answer + used, capacity - 1 - used, 0);
        if (got <= 0) {
            break;
        }
        used += (size_t)got;
        if (used == capacity - 1) {
            break;
        }
    }
    answer[used] = '\0';
    close(fd);
    return (int)used;
}

static const char* kWellKnownRequest =
    "GET /.well-known/sihlicon.json HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

static void test_server_from_c(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    access_log_state log;
    memset(&log, 0, sizeof log);
    pthread_mutex_init(&log.mutex, NULL);

    sih_server* server = NULL;
    OK(sih_server_start(hub, "{\"address\":\"127.0.0.1\",\"port\":0,\"threads\":1}", record_access,
                        &log, &server));
    CHECK(server != NULL);
    int port = 0;
    OK(sih_server_port(server, &port));
    CHECK(port > 0 && port <= 65535);
    char answer[4096];
    CHECK(http_exchange(port, kWellKnownRequest, answer, sizeof answer) > 0);
    CHECK(strncmp(answer, "HTTP/1.1 200", 12) == 0);
    CHECK(strstr(answer, "\"instanceId\"") != NULL);
    CHECK(strstr(answer, "\"signer\":\"0x") != NULL);
    /* A request without a token for an endpoint that needs one: the contract's error JSON. */
    CHECK(http_exchange(port,
                        "GET /api/compute?hubId=hub-zurich HTTP/1.1\r\nHost: localhost\r\n"
                        "Connection: close\r\n\r\n",
                        answer, sizeof answer) > 0);
    CHECK(strncmp(answer, "HTTP/1.1 401", 12) == 0);
    CHECK(strstr(answer, "\"error\"") != NULL);

    /* Stopping joins the server's threads: every access log line has been written. */
    OK(sih_server_stop(server));
    OK(sih_server_stop(server)); /* idempotent */
    pthread_mutex_lock(&log.mutex);
    CHECK(log.lines == 2);
    CHECK(strstr(log.last, "\"GET /api/compute?hubId=hub-zurich\" 401") != NULL);
    pthread_mutex_unlock(&log.mutex);
    CHECK(http_exchange(port, kWellKnownRequest, answer, sizeof answer) < 0);
    FAILS(sih_server_port(server, &port), SIH_CONFLICT);
    sih_server_free(&server);
    CHECK(server == NULL);
    sih_server_free(&server); /* NULL is accepted */
    sih_server_free(NULL);

    /* Bad options name the key and start nothing; out_server is untouched. */
    FAILS(sih_server_start(hub, "{\"listen\":\"0.0.0.0:80\"}", NULL, NULL, &server),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("listen"));
    FAILS(sih_server_start(hub, "{\"port\":70000}", NULL, NULL, &server), SIH_INVALID_ARGUMENT);
    CHECK(error_names("port"));
    FAILS(sih_server_start(hub, "{\"address\":\"localhost\"}", NULL, NULL, &server),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("address"));
    FAILS(sih_server_start(hub, "{\"tlsCertificate\":\"/nonexistent/cert.pem\"}", NULL, NULL,
                           &server),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("tlsPrivateKey"));
    FAILS(sih_server_start(hub,
                           "{\"tlsCertificate\":\"/nonexistent/c.pem\","
                           "\"tlsPrivateKey\":\"/nonexistent/k.pem\"}",
                           NULL, NULL, &server),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("tlsCertificate"));
    FAILS(sih_server_start(hub, "{\"threads\":0}", NULL, NULL, &server), SIH_INVALID_ARGUMENT);
    CHECK(error_names("threads"));
    FAILS(sih_server_start(hub, "{\"port\":1,\"port\":2}", NULL, NULL, &server),
          SIH_INVALID_ARGUMENT);
    FAILS(sih_server_start(hub, "not json", NULL, NULL, &server), SIH_INVALID_ARGUMENT);
    FAILS(sih_server_start(NULL, NULL, NULL, NULL, &server), SIH_INVALID_ARGUMENT);
    CHECK(error_names("hub"));
    FAILS(sih_server_start(hub, NULL, NULL, NULL, NULL), SIH_INVALID_ARGUMENT);
    CHECK(error_names("out_server"));
    CHECK(server == NULL);
    FAILS(sih_server_port(NULL, &port), SIH_INVALID_ARGUMENT);
    FAILS(sih_server_stop(NULL), SIH_INVALID_ARGUMENT);

    /* Closing the hub stops its servers first; the handle is still freed afterwards. */
    OK(sih_server_start(hub, NULL, NULL, NULL, &server));
    OK(sih_server_port(server, &port));
    CHECK(http_exchange(port, kWellKnownRequest, answer, sizeof answer) > 0);
    CHECK(strncmp(answer, "HTTP/1.1 200", 12) == 0);
    close_hub(&hub, &clock);
    CHECK(http_exchange(port, kWellKnownRequest, answer, sizeof answer) < 0);
    FAILS(sih_server_port(server, &port), SIH_CONFLICT);
    OK(sih_server_stop(server));
    sih_server_free(&server);
    CHECK(server == NULL);
    pthread_mutex_destroy(&log.mutex);
}

/* The server's maintenance seals a due epoch on the hub's clock and logs it. */
static void test_server_maintenance_from_c(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    access_log_state log;
    memset(&log, 0, sizeof log);
    pthread_mutex_init(&log.mutex, NULL);
    char* json = NULL;
    OK(sih_settlement_current_epoch(hub, &json));
    CHECK(has(&json, "\"epoch_id\":\"epoch-000001\""));

    sih_server* server = NULL;
    FAILS(sih_server_start(hub, "{\"maintenanceIntervalMs\":-1}", NULL, NULL, &server),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("maintenanceIntervalMs"));
    OK(sih_server_start(hub, "{\"maintenanceIntervalMs\":5}", record_access, &log, &server));
    OK(sih_clock_advance(clock, 24LL * 3600 * 1000));
    int sealed = 0;
    for (int i = 0; i < 2000 && !sealed; ++i) {
        OK(sih_settlement_epoch(hub, "epoch-000001", &json));
        sealed = json != NULL && strstr(json, "\"status\":\"finalized\"") != NULL;
        sih_free(json);
        json = NULL;
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    CHECK(sealed);
    OK(sih_server_stop(server));
    pthread_mutex_lock(&log.mutex);
    CHECK(strstr(log.last, "maintenance sealed epoch-000001") != NULL);
    pthread_mutex_unlock(&log.mutex);
    sih_server_free(&server);
    close_hub(&hub, &clock);
    pthread_mutex_destroy(&log.mutex);
}

/* Peers: the operator's, listed without their tokens, URLs checked. */
static void test_peers(void) {
    sih_clock* clock = NULL;
    sih_hub* hub = open_hub(&clock);
    char* json = NULL;
    const char* secret = "peer-token-3c9d81";
    OK(sih_peer_add(hub, "operator", "hub-basel", "https://basel.example:8443", secret, &json));
    CHECK(has(&json, "\"hubId\":\"hub-basel\",\"url\":\"https://basel.example:8443\""));
    OK(sih_peer_list(hub, "operator", &json));
    CHECK(json != NULL && strstr(json, secret) == NULL);
    CHECK(has(&json, "[{\"hubId\":\"hub-basel\""));
    FAILS(sih_peer_add(hub, "operator", "hub-x", "https://u:p@x.example", "t", &json),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("url"));
    FAILS(sih_peer_add(hub, "operator", "hub-x", "https://x.example/?q=1", "t", &json),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("url"));
    FAILS(sih_peer_add(hub, "operator", "hub-x", "https://x.example", "zq8 words", &json),
          SIH_INVALID_ARGUMENT);
    CHECK(error_names("token"));
    CHECK(strstr(sih_last_error(), "zq8") == NULL);
    FAILS(sih_peer_add(hub, "alice", "hub-x", "https://x.example", "t", &json),
          SIH_PERMISSION_DENIED);
    FAILS(sih_peer_list(hub, "alice", &json), SIH_PERMISSION_DENIED);
    FAILS(sih_peer_remove(hub, "alice", "hub-basel", &json), SIH_PERMISSION_DENIED);
    FAILS(sih_peer_add(NULL, "operator", "hub-x", "https://x.example", "t", &json),
          SIH_INVALID_ARGUMENT);
    CHECK(json == NULL);
    OK(sih_peer_remove(hub, "operator", "hub-basel", &json));
    CHECK(has(&json, "\"hubId\":\"hub-basel\""));
    FAILS(sih_peer_remove(hub, "operator", "hub-basel", &json), SIH_NOT_FOUND);
    OK(sih_peer_list(hub, "operator", &json));
    CHECK(has(&json, "[]"));
    close_hub(&hub, &clock);
}

/* ---- main ------------------------------------------------------------------------------- */

typedef struct {
    const char* name;
    void (*run)(void);
} test_case;

static const test_case tests[] = {
    {"version_status_and_memory", test_version_status_and_memory},
    {"errors_are_per_thread_and_name_the_field", test_errors_are_per_thread_and_name_the_field},
    {"manual_clock", test_manual_clock},
    {"hub_options_and_open_errors", test_hub_options_and_open_errors},
    {"scheduler_hubs_and_workers", test_scheduler_hubs_and_workers},
    {"scheduler_heartbeat_gpu_stats", test_scheduler_heartbeat_gpu_stats},
    {"scheduler_job_lifecycle", test_scheduler_job_lifecycle},
    {"scheduler_seed_fields", test_scheduler_seed_fields},
    {"content_store", test_content_store},
    {"content_store_on_a_host_blob_backend", test_content_store_on_a_host_blob_backend},
    {"car_import_proves_possession", test_car_import_proves_possession},
    {"content_store_reput_and_source_hub", test_content_store_reput_and_source_hub},
    {"heat_ledger", test_heat_ledger},
    {"settlement_journal_and_market", test_settlement_journal_and_market},
    {"settlement_top_up_overflow", test_settlement_top_up_overflow},
    {"epochs_receipts_and_operator_key", test_epochs_receipts_and_operator_key},
    {"worker_agent_with_a_c_executor", test_worker_agent_with_a_c_executor},
    {"worker_agent_native_job_rules", test_worker_agent_native_job_rules},
    {"worker_agent_with_a_worker_key", test_worker_agent_with_a_worker_key},
    {"every_hub_function_refuses_null", test_every_hub_function_refuses_null},
    {"worker_signatures_and_eip191", test_worker_signatures_and_eip191},
    {"hub_settings", test_hub_settings},
    {"hub_events", test_hub_events},
    {"server_from_c", test_server_from_c},
    {"server_maintenance_from_c", test_server_maintenance_from_c},
    {"peers", test_peers},
};

int main(int argc, char** argv) {
    int ran = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; ++i) {
        if (argc > 1 && strcmp(argv[1], tests[i].name) != 0) {
            continue;
        }
        int before = failures;
        tests[i].run();
        printf("%s %s\n", failures == before ? "ok  " : "FAIL", tests[i].name);
        ++ran;
    }
    if (ran == 0) {
        fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "");
        return 2;
    }
    printf("capi: %d failed checks\n", failures);
    return failures == 0 ? 0 : 1;
}
