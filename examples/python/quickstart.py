#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A hub day in miniature, in Python: open (or create) a hub in the folder given on the
command line, register a physical hub and a worker, store the job's input (its CID is the one
IPFS computes), submit the seed's compute job with it, run it on the worker, record the energy
it used and the heat it gave, seal the settlement epoch and check the job's receipt offline.

    python3 examples/python/quickstart.py ./demo-hub-python
"""

from __future__ import annotations

import sys

import sihlicon


def ensure_site(scheduler: sihlicon.Scheduler) -> None:
    try:
        scheduler.hub("zurich-pool")
    except sihlicon.NotFound:
        scheduler.register_hub(
            {
                "hubId": "zurich-pool",
                "name": "Zurich public pool",
                "site": "enge",
                "region": "CH",
                "heatRecoveryPpm": 920_000,  # 92 % of the electricity comes back as heat
                "powerCapacityW": 20_000,
            }
        )
    scheduler.register_worker(
        {
            "workerId": "bee-01",
            "hubId": "zurich-pool",
            "cpu": "16",
            "memory": "64Gi",
            "gpus": [{"model": "NVIDIA A100", "vram": "80Gi"}],
            "executors": ["native", "container"],  # it has a container runtime
        }
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: quickstart.py HUB_DIRECTORY", file=sys.stderr)
        return 2
    try:
        with sihlicon.Hub(argv[1]) as hub:
            info = hub.info()
            print(f"sihlicon {sihlicon.__version__}: hub {info.instance_id} at {info.directory}"
                  f" (schema {info.schema_version})")
            scheduler = hub.scheduler
            ensure_site(scheduler)

            page = "Folio 17: 3 Fass Wein an die Zunft zur Meisen, 12 Gulden.".encode()
            source = hub.content_store.put(
                page, owner="demo-client", file_name="page-17.txt", mime_type="text/plain"
            )
            print(f"stored input {source.content_id} ({source.file_size_bytes} bytes)")

            job = scheduler.submit(
                {
                    "jobType": "ocr",
                    "jobName": "Process historical ledger",
                    "workloadConfig": {
                        "containerImage": "tesseract/tesseract:latest",
                        "command": ["tesseract", "/input/page.png", "/output"],
                        "resources": {"cpu": "2", "memory": "2Gi"},
                    },
                    "inputDataRefs": [source.content_id],
                    "priority": 10,
                },
                owner="demo-client",
            )
            print(f"submitted {job.id} ({job.status.value})")

            claimed = scheduler.claim("bee-01")
            if not claimed:
                print("quickstart: bee-01 was given no job", file=sys.stderr)
                return 1
            lease = claimed[0].lease
            print(f"bee-01 runs {lease.job_id} (attempt {lease.attempt})")

            output = hub.content_store.put(b"3 Fass Wein, Zunft zur Meisen, 12 Gulden",
                                           owner="bee-01")
            finished = scheduler.complete(
                lease.job_id,
                lease.token,
                output_refs=[output.content_id],
                energy_mwh=sihlicon.parse_kwh("1.25"),  # what the worker measured
                result_hash=output.content_id,
            )
            assert finished.actual_energy_mwh is not None
            assert finished.heat_generated_mwh is not None
            print(f"completed: {sihlicon.kwh(finished.actual_energy_mwh)} kWh of electricity gave"
                  f" {sihlicon.kwh(finished.heat_generated_mwh)} kWh of heat")

            credit = hub.heat_ledger.credits("zurich-pool")
            print(f"unsettled heat credit of zurich-pool: {credit.credit}"
                  f" for {sihlicon.kwh(credit.total_heat_mwh)} kWh")

            epoch = hub.settlement.seal_epoch()
            # Checked against the operator's published keys, never the key the receipt carries.
            trusted = hub.settlement.trusted_signers()
            check = sihlicon.verify_receipt(hub.settlement.receipt(job.id), trusted)
            print(f"sealed {epoch.id}: {epoch.jobs_count} job(s), root {epoch.jobs_merkle_root[:18]}…,"
                  f" signed by {epoch.signer}; receipt of {job.id} valid: {check.valid}")
            return 0 if check.valid else 1
    except sihlicon.Error as error:
        print(f"quickstart: {error.code.label}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
