/* SPDX-License-Identifier: Apache-2.0
 *
 * The C quickstart: one hub on disk, from C. It opens (or creates) a hub, registers a site and
 * a worker, stores an input, submits a job that reads it, claims the job as the worker,
 * completes it with the energy it used, reads the heat credit that energy earned, seals the
 * epoch, and verifies the job's receipt offline.
 *
 *   quickstart [hub directory]     (default: ./quickstart-hub)
 */
#include <sihlicon.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the failure and leaves. Every sih_* call below goes through it. */
static void check(sih_status status, const char* what) {
    if (status != SIH_OK) {
        fprintf(stderr, "%s failed: %s: %s\n", what, sih_status_name(status), sih_last_error());
        exit(1);
    }
}

int main(int argc, char** argv) {
    const char* directory = argc > 1 ? argv[1] : "quickstart-hub";
    printf("sihlicon %s (C ABI)\n", sih_version());

    sih_hub_options options = SIH_HUB_OPTIONS_INIT;
    options.settlement_options_json = "{\"chargeJobs\":true}";
    sih_hub* hub = NULL;
    check(sih_hub_open(directory, &options, &hub), "open the hub");

    /* A site whose heat warms a pool (90 % recovered), and one worker. Registering again on a
     * second run is a conflict we accept. */
    sih_status status = sih_scheduler_register_hub(
        hub,
        "{\"hubId\":\"hub-pool\",\"name\":\"Pool heat hub\",\"site\":\"zh-1\",\"region\":"
        "\"CH\",\"heatRecoveryPpm\":900000,\"powerCapacityW\":10000}",
        NULL);
    if (status != SIH_CONFLICT) {
        check(status, "register the hub");
    }
    check(sih_scheduler_register_worker(
              hub,
              "{\"workerId\":\"worker-c\",\"hubId\":\"hub-pool\",\"cpu\":\"4\",\"memory\":\"8Gi\"}",
              NULL),
          "register the worker");

    /* The input, stored under the CID IPFS computes for the same bytes. */
    const char* input = "pages to recognise";
    char* cid = NULL;
    check(sih_cas_put_bytes(hub, (const uint8_t*)input, strlen(input), "alice", NULL, &cid),
          "store the input");
    printf("input   %s\n", cid);

    /* The client pays for jobs: fund her account, then submit. */
    check(sih_settlement_top_up(hub, "client/alice/USD", "1.00", "bank-transfer-1", NULL),
          "top up");
    char spec[600];
    snprintf(spec, sizeof spec,
             "{\"jobType\":\"ocr\",\"jobName\":\"scan\",\"inputDataRefs\":[\"%s\"],"
             "\"workloadConfig\":{\"containerImage\":\"native\",\"command\":[\"ocr\"],"
             "\"resources\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}",
             cid);
    char* job_id = NULL;
    check(sih_scheduler_submit(hub, spec, "alice", &job_id), "submit");
    printf("job     %s\n", job_id);

    /* The worker claims it (typed lease) and completes it with 1.5 kWh measured. */
    sih_lease leases[1];
    size_t claimed = 0;
    check(sih_scheduler_claim(hub, "worker-c", leases, 1, &claimed), "claim");
    if (claimed != 1 || strcmp(leases[0].job_id, job_id) != 0) {
        fprintf(stderr, "expected to claim %s\n", job_id);
        return 1;
    }
    sih_completion completion = SIH_COMPLETION_INIT;
    completion.energy_mwh = 1500000;
    completion.result_hash = "text-of-the-pages";
    check(sih_scheduler_complete(hub, leases[0].job_id, leases[0].token, &completion), "complete");

    /* The heat that energy became, and the credit it earns the site. */
    char* credit = NULL;
    check(sih_heat_credits(hub, "hub-pool", SIH_NONE, SIH_NONE, &credit), "read the credit");
    printf("credit  %s\n", credit);

    /* Seal the epoch: Merkle root over its jobs, signed by the operator's key. */
    char* epoch = NULL;
    check(sih_settlement_seal_epoch(hub, &epoch), "seal the epoch");
    printf("epoch   %s\n", epoch);

    /* Anyone can check the job's receipt offline, with no hub, given whom to trust: the
     * operator's published addresses (the key a receipt carries proves nothing by itself). */
    char* receipt = NULL;
    check(sih_settlement_receipt(hub, job_id, &receipt), "read the receipt");
    char* trusted_signers = NULL;
    check(sih_settlement_trusted_signers(hub, &trusted_signers), "read the operator's keys");
    sih_receipt_check result;
    check(sih_receipt_verify(receipt, strlen(receipt), trusted_signers, &result),
          "verify the receipt");
    printf("receipt %s in %s signed by %s: %s\n", result.job_id, result.epoch_id, result.signer,
           result.valid ? "valid" : result.problem);

    sih_free(trusted_signers);
    sih_free(receipt);
    sih_free(epoch);
    sih_free(credit);
    sih_free(job_id);
    sih_free(cid);
    sih_hub_close(&hub);
    return result.valid ? 0 : 1;
}
