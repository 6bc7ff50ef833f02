# SPDX-License-Identifier: Apache-2.0
"""A remote worker over the workers API (standard library only), for the day tests.

    day_worker.py --server URL --token-file F --worker-id W --hub-id H [--cafile PEM]
                  [--slots N] [--log FILE] [--renew-after SECONDS]

Registers, then loops: claims up to its free slots in one request, runs each job's command as a
process (only `sleep SECONDS`, at most 10 s, see run_seconds: anything else is failed as not
retryable), renews the lease of each job every --renew-after seconds it runs (default 20; a
renewal refused as stale kills the job's process and drops the attempt), heartbeats every 5 s,
and completes each finished job with its measured energy (run time x 50 W, in whole mWh, at
least 1) and a result hash.
Every request that cannot reach the server (refused, reset, timed out) is repeated with
exponential backoff and full jitter (day_http.Backoff), on a new connection: a completion is
repeated with the same lease token and payload, which the scheduler accepts once and answers
the same again. A 409 for a completion means the lease went stale (it expired and the job was
handed out again): the attempt is dropped. A claim refused because the worker is unknown or
offline registers it again. SIGTERM: claims no more, finishes and completes what runs, exits 0.

The log (one line per event, flushed): `claimed JOB ATTEMPT`, `completed JOB ATTEMPT MWH`,
`renewed JOB ATTEMPT`, `stale JOB ATTEMPT STATUS`, `failed JOB ATTEMPT`, `unreachable WHAT ERROR`.
"""
import argparse
import hashlib
import random
import signal
import subprocess
import sys
import time

from day_http import Backoff, Link, Unreachable

WATTS = 50
HEARTBEAT_S = 5.0


def run_seconds(job):
    """How long the job runs: its command `sleep S` when the claim carries its workloadConfig;
    the claim's job record of this version does not (JobRecord::to_json has no command), so
    otherwise the day's naming convention, a jobName ending in `-<N>ms`. None: not allowed."""
    command = (job.get("workloadConfig") or {}).get("command")
    text = None
    if command is not None:
        if len(command) == 2 and command[0] == "sleep":
            text = command[1]
    else:
        name = job.get("jobName", "")
        if name.endswith("ms") and "-" in name:
            try:
                text = str(int(name[name.rindex("-") + 1:-2]) / 1000)
            except ValueError:
                text = None
    try:
        seconds = float(text) if text is not None else -1.0
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 10 else None


class Worker:
    def __init__(self, args):
        with open(args.token_file, encoding="ascii") as f:
            token = f.read().strip()
        self.link = Link(args.server, token, cafile=args.cafile)
        self.id = args.worker_id
        self.hub_id = args.hub_id
        self.slots = args.slots
        self.renew_after = args.renew_after
        self.log_file = open(args.log, "a", encoding="ascii") if args.log else sys.stdout
        self.stopping = False
        self.running = {}  # job id -> {"token", "attempt", "process", "started", "renewed"}
        self.finished = []  # jobs whose process ended, completion not yet accepted
        self.backoff = Backoff()
        self.last_heartbeat = 0.0

    def log(self, line):
        self.log_file.write(line + "\n")
        self.log_file.flush()

    def call(self, what, method, path, body=None):
        """One request; on Unreachable logs it, waits with backoff and returns None."""
        try:
            status, answer = self.link.call(method, path, body)
        except Unreachable as error:
            self.log(f"unreachable {what} {error}".replace("\n", " "))
            self.backoff.wait()
            return None
        if status >= 500:
            self.log(f"unreachable {what} status {status}")
            self.backoff.wait()
            return None
        self.backoff.reset()
        return status, answer

    def register(self):
        while True:
            result = self.call("register", "POST", "/api/v1/workers/register",
                               {"workerId": self.id, "hubId": self.hub_id,
                                "cpu": str(self.slots), "memory": "8Gi"})
            if result is not None:
                status, answer = result
                if status != 200:
                    raise SystemExit(f"register refused: {status} {answer}")
                return

    def start(self, claim):
        lease, job = claim["lease"], claim["job"]
        job_id, attempt = lease["jobId"], lease["attempt"]
        self.log(f"claimed {job_id} {attempt}")
        process = None
        seconds = run_seconds(job)
        if seconds is not None:
            process = subprocess.Popen(["sleep", f"{seconds:.3f}"])
        entry = {"token": lease["token"], "attempt": attempt, "process": process,
                 "started": time.monotonic(), "renewed": time.monotonic(), "job_id": job_id}
        if process is None:
            self.finished.append(dict(entry, refused=True))
        else:
            self.running[job_id] = entry

    def claim(self):
        free = self.slots - len(self.running) - len(self.finished)
        if self.stopping or free <= 0:
            return 0
        result = self.call("claim", "POST", f"/api/v1/workers/{self.id}/claim", {"max": free})
        if result is None:
            return 0
        status, answer = result
        if status in (404, 409):  # unknown or offline: register again
            self.register()
            return 0
        if status != 200:
            raise SystemExit(f"claim refused: {status} {answer}")
        for claim in answer["claims"]:
            self.start(claim)
        return len(answer["claims"])

    def reap(self):
        for job_id, entry in list(self.running.items()):
            if entry["process"].poll() is not None:
                entry["ran_s"] = time.monotonic() - entry["started"]
                self.finished.append(entry)
                del self.running[job_id]

    def complete(self, entry):
        job_id, attempt = entry["job_id"], entry["attempt"]
        if entry.get("refused"):
            body = {"token": entry["token"], "error": "command not allowed", "retryable": False}
            result = self.call("fail", "POST", f"/api/v1/jobs/{job_id}/fail", body)
            if result is not None:
                self.log(f"failed {job_id} {attempt}")
            return result is not None
        if "mwh" not in entry:  # fixed once, so a repeated completion is the same payload
            entry["mwh"] = max(1, round(entry["ran_s"] * WATTS / 3.6))
        result_hash = hashlib.sha256(f"{job_id}:{attempt}:{self.id}".encode()).hexdigest()
        body = {"token": entry["token"], "energyMwh": entry["mwh"], "energySource": "measured",
                "resultHash": result_hash}
        result = self.call("complete", "POST", f"/api/v1/jobs/{job_id}/complete", body)
        if result is None:
            return False
        status, answer = result
        if status == 200:
            self.log(f"completed {job_id} {attempt} {entry['mwh']}")
        else:
            self.log(f"stale {job_id} {attempt} {status}")
        return True

    def renew(self):
        now = time.monotonic()
        for job_id, entry in list(self.running.items()):
            if now - entry["renewed"] < self.renew_after:
                continue
            result = self.call("renew", "POST", f"/api/v1/jobs/{job_id}/renew",
                               {"token": entry["token"]})
            if result is None:
                return
            status, _ = result
            if status == 200:
                entry["renewed"] = now
                self.log(f"renewed {job_id} {entry['attempt']}")
            else:  # the lease went stale: the job is someone else's now
                entry["process"].kill()
                entry["process"].wait()
                del self.running[job_id]
                self.log(f"stale {job_id} {entry['attempt']} {status}")

    def heartbeat(self):
        now = time.monotonic()
        if now - self.last_heartbeat < HEARTBEAT_S:
            return
        ppm = min(1_000_000, len(self.running) * 1_000_000 // max(1, self.slots))
        result = self.call("heartbeat", "POST", f"/api/v1/workers/{self.id}/heartbeat",
                           {"utilisationPpm": ppm, "powerDrawW": WATTS * len(self.running)})
        if result is not None:
            self.last_heartbeat = now
            if result[0] == 404:
                self.register()

    def run(self):
        self.register()
        self.log(f"registered {self.id}")
        while not (self.stopping and not self.running and not self.finished):
            self.reap()
            while self.finished:
                if not self.complete(self.finished[0]):
                    break
                self.finished.pop(0)
            self.renew()
            self.heartbeat()
            if self.claim() == 0:
                time.sleep(0.03 + 0.04 * random.random())
        self.log("stopped")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--token-file", required=True)
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--hub-id", required=True)
    parser.add_argument("--cafile")
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--log")
    parser.add_argument("--renew-after", type=float, default=20.0,
                        help="renew the lease of a job running this many seconds, and again")
    worker = Worker(parser.parse_args())

    def stop(_signum, _frame):
        worker.stopping = True

    signal.signal(signal.SIGTERM, stop)
    worker.run()


if __name__ == "__main__":
    main()
