# SPDX-License-Identifier: Apache-2.0
"""A client of the day tests (standard library only): submits jobs on POST /api/compute.

    day_client.py --server URL --token-file F --name C --jobs N --rate R --out FILE
                  [--cafile PEM] [--give-up SECONDS]

Submits N short jobs (`sleep` 20..300 ms, named `day-C-IIII-<ms>ms`), at about R a second
(exponential gaps), each with the idempotency key `C-IIII`. A request that cannot reach the
server (refused, reset, timed out) or is answered 5xx is repeated with the same key, with
exponential backoff and full jitter, so a submission whose answer was lost is not doubled; a 429
waits for Retry-After. A job counts as acknowledged when the client holds its jobId: the line
`ack KEY JOBID MS` (MS: the answered request's round trip) goes to FILE, flushed. Any other
answer stops the client with exit code 1, and so does not being acknowledged within
--give-up seconds.
"""
import argparse
import random
import sys
import time

from day_http import Backoff, Link, Unreachable


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--token-file", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--jobs", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--cafile")
    parser.add_argument("--give-up", type=float, default=120.0)
    # A file uploaded once (POST /api/storage, multipart) whose CID every job names as its
    # input: the remote agents fetch it as a CAR and verify it block by block before each job.
    parser.add_argument("--input-file")
    args = parser.parse_args()
    with open(args.token_file, encoding="ascii") as f:
        link = Link(args.server, f.read().strip(), cafile=args.cafile)
    out = open(args.out, "a", encoding="ascii")
    rng = random.Random(args.name)
    backoff = Backoff()
    inputs = [upload(link, args.input_file, backoff, args.give_up)] if args.input_file else []
    for i in range(args.jobs):
        time.sleep(rng.expovariate(args.rate))
        ms = rng.randint(20, 300)
        key = f"{args.name}-{i:04d}"
        body = {"jobType": "custom", "jobName": f"day-{key}-{ms}ms", "idempotencyKey": key,
                "workloadConfig": {"containerImage": "native",
                                   "command": ["sleep", f"{ms / 1000:.3f}"]}}
        if inputs:
            # The job copies its input to its output: the completion then names the input's
            # CID as its output, which proves the bytes went there and back intact.
            body["inputDataRefs"] = inputs
            body["workloadConfig"]["command"] = [
                "sh", "-c",
                f'sleep {ms / 1000:.3f} && cp "$SIHLICON_INPUT_DIR"/* "$SIHLICON_OUTPUT_DIR"/']
        first = time.monotonic()
        while True:
            if time.monotonic() - first > args.give_up:
                sys.exit(f"{key}: not acknowledged within {args.give_up} s")
            started = time.monotonic()
            try:
                status, answer = link.call("POST", "/api/compute", body)
            except Unreachable as error:
                out.write(f"unreachable {key} {error}\n".replace("\n", " ").rstrip() + "\n")
                backoff.wait()
                continue
            elapsed_ms = (time.monotonic() - started) * 1000
            if status == 200 and answer.get("success") and answer.get("jobId"):
                backoff.reset()
                out.write(f"ack {key} {answer['jobId']} {elapsed_ms:.2f}\n")
                out.flush()
                break
            if status >= 500:
                backoff.wait()
                continue
            if status == 429:
                time.sleep(float(answer.get("details", {}).get("retryAfter", 1)))
                continue
            sys.exit(f"{key}: refused {status} {answer}")
    out.write("done\n")
    out.close()


def upload(link, path, backoff, give_up):
    """Stores the file through the contract's multipart upload; returns its CID."""
    with open(path, "rb") as f:
        data = f.read()
    boundary = "day-input-boundary-7f3a"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"input.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    first = time.monotonic()
    while time.monotonic() - first < give_up:
        try:
            status, answer = link.call("POST", "/api/storage", raw_body=body,
                                       content_type=f"multipart/form-data; boundary={boundary}")
        except Unreachable:
            backoff.wait()
            continue
        if status == 200:
            backoff.reset()
            return answer["manifest"]["contentId"]
        sys.exit(f"upload of {path} refused: {status} {answer}")
    sys.exit(f"upload of {path} not acknowledged within {give_up} s")


if __name__ == "__main__":
    main()
