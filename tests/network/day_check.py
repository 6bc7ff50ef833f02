# SPDX-License-Identifier: Apache-2.0
"""The day's audit, run after the server has stopped (standard library only).

    day_check.py --sihlicon S --hub DIR --topup AMOUNT --acks F... [--worker-logs F...]
                 [--label NAME] [--figures FILE] [--seal]

Exits 1 (printing every failed check) unless:
- every idempotency key a client had acknowledged names one job id, and the hub holds exactly
  the acknowledged jobs (a submission whose answer was lost and was repeated is one job);
- each ended completed, not dead-lettered, its events one `claimed` per attempt, exactly one
  transition to completed, and completed the last (sihlicon job events);
- with --worker-logs (the Python workers' logs): each job's completion was accepted exactly once
  across all workers, for the attempt and worker the record holds, with the energy the worker
  measured and the result hash of that attempt;
- the ledger balances (sihlicon account; the journal read-only from hub.db): every account's
  balance is the sum of its entries, all balances sum to zero, each transfer's entries sum to
  zero, nothing is left pending, each job has exactly one posted charge, and each client's
  balance is its top-up less its jobs' charges;
- with --seal: `sihlicon epoch seal` takes every job into the epoch with the charges as its
  revenue, escrow is left empty, and the receipts of the retried jobs (and a few others)
  verify with `sihlicon receipt verify`.
Prints the figures (jobs, attempts, jobs/s from first submission to last completion, p50/p99 of
the acknowledged submissions' round trips) and appends them to --figures.
"""
import argparse
import concurrent.futures
import datetime
import decimal
import hashlib
import json
import os
import subprocess
import sys
import tempfile

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAILED:", what, flush=True)


def cli(args, *command):
    result = subprocess.run([args.sihlicon, "--hub", args.hub, "--json", *command],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"sihlicon {' '.join(command)}: {result.stderr or result.stdout}")
    return json.loads(result.stdout)


def iso(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


def read_acks(paths):
    acks, latencies = {}, []
    for path in paths:
        with open(path, encoding="ascii") as f:
            for line in f:
                parts = line.split()
                if parts and parts[0] == "ack":
                    key, job_id = parts[1], parts[2]
                    check(acks.get(key, job_id) == job_id, f"key {key} acknowledged as two jobs")
                    acks[key] = job_id
                    latencies.append(float(parts[3]))
    return acks, latencies


def all_jobs(args):
    jobs, after = [], None
    while True:
        page = cli(args, "job", "list", "--limit", "1000", *(["--after", after] if after else []))
        jobs += page
        if len(page) < 1000:
            return {job["jobId"]: job for job in jobs}
        after = page[-1]["jobId"]


def check_events(args, jobs):
    def events(job_id):
        return job_id, cli(args, "job", "events", job_id)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for job_id, log in pool.map(events, jobs):
            job = jobs[job_id]
            completions = [e for e in log if e["to"] == "completed"]
            claims = [e for e in log if e["to"] == "running"]
            check(len(completions) == 1, f"{job_id}: {len(completions)} completions in its events")
            check(bool(log) and log[-1]["to"] == "completed", f"{job_id}: does not end completed")
            check(len(claims) == job["attempts"],
                  f"{job_id}: {len(claims)} claims in its events, {job['attempts']} attempts")


def check_worker_logs(paths, jobs):
    accepted = {}
    for path in paths:
        with open(path, encoding="ascii") as f:
            for line in f:
                parts = line.split()
                if parts and parts[0] == "completed":
                    accepted.setdefault(parts[1], []).append((int(parts[2]), int(parts[3])))
    for job_id, job in jobs.items():
        got = accepted.get(job_id, [])
        check(len(got) == 1, f"{job_id}: its completion accepted {len(got)} times by workers")
        if len(got) != 1:
            continue
        attempt, mwh = got[0]
        check(attempt == job["attempts"], f"{job_id}: completed attempt {attempt}, record has "
              f"{job['attempts']}")
        kwh = decimal.Decimal(str(job["actualComputeKwh"]))
        check(kwh == decimal.Decimal(mwh) / 1_000_000,
              f"{job_id}: energy {kwh} kWh recorded, the worker measured {mwh} mWh")
        expected = hashlib.sha256(f"{job_id}:{attempt}:{job['workerId']}".encode()).hexdigest()
        check(job["resultHash"] == expected, f"{job_id}: result hash of another attempt")
    check(set(accepted) <= set(jobs), "a worker completed a job the hub does not list")


def minor(text):
    return int(decimal.Decimal(text) * 1_000_000)


def check_ledger(args, jobs, clients):
    # The ledger's invariants (balances against entries, reservations, double entry, totals,
    # sealed epochs' roots) are audited by the tool itself: `sihlicon ledger audit`.
    audit = subprocess.run([args.sihlicon, "--hub", args.hub, "--json", "ledger", "audit"],
                           capture_output=True, text=True, check=False)
    try:
        report = json.loads(audit.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"sihlicon ledger audit: {audit.stderr or audit.stdout}") from None
    check(audit.returncode == 0 and report["ok"], "the ledger audit fails")
    for problem in report["problems"]:
        check(False, f"ledger audit: {problem['check']} {problem['subject']}: {problem['detail']}")
    # Every completed job charged (its reservation posted), through the tool.
    charges = {}
    for job_id in jobs:
        charge = cli(args, "charge", job_id)
        check(charge["status"] == "charged", f"{job_id}: a charge {charge['status']}")
        charges[job_id] = minor(charge["price"])
    for client in clients:
        account = cli(args, "account", client)
        check(minor(account["pendingDebits"]) == 0,
              f"{client}: {account['pendingDebits']} still reserved")
        spent = sum(charges.get(j, 0) for j, job in jobs.items() if job["owner"] == client)
        check(minor(account["balance"]) == minor(args.topup) - spent,
              f"{client}: balance {account['balance']}, top-up {args.topup} less {spent} charged")
    return sum(charges.values())


def check_seal(args, jobs, revenue):
    epoch = cli(args, "epoch", "seal")
    check(epoch["jobs_count"] == len(jobs), f"the epoch has {epoch['jobs_count']} jobs")
    check(minor(epoch["total_revenue"]) == revenue, f"epoch revenue {epoch['total_revenue']}")
    escrow = cli(args, "account", "hub", "--kind", "escrow")
    check(minor(escrow["balance"]) == 0, f"escrow keeps {escrow['balance']} after the seal")
    retried = [j for j, job in jobs.items() if job["attempts"] > 1]
    sample = retried[:8] + sorted(jobs)[:2]
    with tempfile.TemporaryDirectory() as folder:
        for job_id in sample:
            path = os.path.join(folder, "receipt.json")
            with open(path, "w", encoding="ascii") as f:
                subprocess.run([args.sihlicon, "--hub", args.hub, "receipt", job_id], stdout=f,
                               check=True)
            verified = subprocess.run([args.sihlicon, "--hub", args.hub, "receipt", "verify",
                                       path], capture_output=True, check=False)
            check(verified.returncode == 0, f"{job_id}: its receipt does not verify")
    return len(sample)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sihlicon", required=True)
    parser.add_argument("--hub", required=True)
    parser.add_argument("--topup", required=True)
    parser.add_argument("--acks", nargs="+", required=True)
    parser.add_argument("--worker-logs", nargs="*", default=[])
    parser.add_argument("--label", default="day")
    parser.add_argument("--figures")
    parser.add_argument("--seal", action="store_true")
    # Every job names this input CID; with --copied, each job copied its input to its output,
    # so its completion names the same CID as its one output (the real agent ran it).
    parser.add_argument("--input-cid")
    parser.add_argument("--copied", action="store_true")
    args = parser.parse_args()

    acks, latencies = read_acks(args.acks)
    jobs = all_jobs(args)
    acked = set(acks.values())
    check(len(acked) == len(acks), "two keys acknowledged as one job")
    check(acked <= set(jobs), f"{len(acked - set(jobs))} acknowledged jobs are lost")
    check(set(jobs) <= acked, f"{len(set(jobs) - acked)} jobs the clients never acknowledged")
    jobs = {j: job for j, job in jobs.items() if j in acked}
    for job_id, job in jobs.items():
        check(job["status"] == "completed" and not job["deadLetter"],
              f"{job_id}: ended {job['status']}")
    for job_id, job in jobs.items():
        if args.input_cid:
            check(job.get("inputDataRefs") == [args.input_cid],
                  f"{job_id}: inputs {job.get('inputDataRefs')}, not [{args.input_cid}]")
        if args.copied:
            check(job.get("outputDataRefs") == [args.input_cid],
                  f"{job_id}: outputs {job.get('outputDataRefs')}, not its input copied")
    check_events(args, jobs)
    if args.worker_logs:
        check_worker_logs(args.worker_logs, jobs)
    revenue = check_ledger(args, jobs, sorted({job["owner"] for job in jobs.values()}))
    receipts = check_seal(args, jobs, revenue) if args.seal else 0

    finished = [iso(job["finishedAt"]) for job in jobs.values() if job["finishedAt"]]
    created = [iso(job["createdAt"]) for job in jobs.values()]
    span = (max(finished) - min(created)).total_seconds() if finished else 0.0
    figures = (f"{args.label}: {len(jobs)} jobs, {sum(job['attempts'] for job in jobs.values())} "
               f"attempts ({sum(job['attempts'] > 1 for job in jobs.values())} retried), "
               f"{len(jobs) / span if span else 0:.1f} jobs/s over {span:.1f} s, "
               f"submit p50 {percentile(latencies, 50):.1f} ms p99 {percentile(latencies, 99):.1f}"
               f" ms, {receipts} receipts verified, {len(failures)} failed checks")
    print(figures, flush=True)
    if args.figures:
        with open(args.figures, "a", encoding="utf-8") as f:
            f.write(figures + "\n")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
