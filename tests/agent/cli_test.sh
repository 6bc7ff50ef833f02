#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `sihlicon agent run`: runs a hub's queued native jobs and stops when idle (--once), or drains
# and stops on SIGTERM.
# Usage: cli_test.sh PATH_TO_SIHLICON
# shellcheck source=../support/cli_checks.sh
source "$(dirname "$0")/../support/cli_checks.sh"
export SIHLICON_HUB="$work/hub"
json_field() {  # json_field KEY JSON: the first string value of KEY
  sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" <<<"$2" | head -n 1
}

"$sihlicon" init >/dev/null
"$sihlicon" hub register '{"hubId":"pool","name":"Pool","site":"enge","region":"CH","heatRecoveryPpm":900000,"powerCapacityW":20000}' >/dev/null
printf 'hello world\n' >"$work/page.txt"
cid=$(json_field contentId "$("$sihlicon" --json put "$work/page.txt" --owner ann)")
cat >"$work/job.json" <<JSON
{"jobType":"custom","jobName":"sum","workloadConfig":{"containerImage":"native","command":["sh","-c","cd \"\$SIHLICON_INPUT_DIR\" && sha256sum page.txt > \"\$SIHLICON_OUTPUT_DIR/sum.txt\""],"resources":{"cpu":"1"}},"inputDataRefs":["$cid"]}
JSON
job=$(json_field jobId "$("$sihlicon" --json job submit "@$work/job.json" --owner ann)")
check "the job is submitted" grep -q '^job-' <<<"$job"

out=$("$sihlicon" agent run --worker-id bee-cli --slots 2 --poll-ms 20 --once 2>&1); rc=$?
check "agent run --once exits 0" test "$rc" -eq 0
check "agent run prints the job's end" grep -q "job $job attempt 1 completed" <<<"$out"
check "agent run stops when idle" grep -q "agent bee-cli stopped" <<<"$out"
out=$("$sihlicon" --json job show "$job")
check "the job completed" grep -q '"status":"completed"' <<<"$out"
check "its energy is modelled without RAPL" grep -q '"energySource":"modelled"' <<<"$out"
sum="a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447  page.txt"
sum_cid=$(printf '%s\n' "$sum" >"$work/sum.txt" && "$sihlicon" cid "$work/sum.txt")
check "its output is the sha256sum line, by CID" grep -q "$sum_cid" <<<"$out"

# --worker-key-file: the worker signs its completions with the key (its address a label);
# the file is refused, as operator.key is, when group or others may read it.
printf 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n' >"$work/worker.key"
chmod 600 "$work/worker.key"
signed=$(json_field jobId "$("$sihlicon" --json job submit "@$work/job.json" --owner ann)")
out=$("$sihlicon" agent run --worker-id bee-key --poll-ms 20 --once --worker-key-file "$work/worker.key" 2>&1); rc=$?
check "agent run --worker-key-file exits 0" test "$rc" -eq 0
check "the keyed agent completes the job" grep -q "job $signed attempt 1 completed" <<<"$out"
out=$("$sihlicon" --json worker list)
check "the keyed worker carries its key's address" grep -q '"address":"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"' <<<"$out"
chmod 644 "$work/worker.key"
out=$("$sihlicon" agent run --worker-id bee-key --once --worker-key-file "$work/worker.key" 2>&1); rc=$?
check "a worker key file others may read is refused" test "$rc" -ne 0
check "the refusal names the mode" grep -q 'has mode 0644' <<<"$out"
printf 'zc0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n' >"$work/bad.key"
chmod 600 "$work/bad.key"
out=$("$sihlicon" agent run --worker-id bee-key --once --worker-key-file "$work/bad.key" 2>&1); rc=$?
check "a malformed worker key is refused" test "$rc" -ne 0
check "the refusal never shows the key" bash -c '! grep -q c0974bec39a <<<"$0"' "$out"

out=$("$sihlicon" --json agent run --worker-id bee-cli --once); rc=$?
check "agent run --json exits 0" test "$rc" -eq 0
check "agent run --json prints the final status" grep -q '"state":"stopped"' <<<"$out"

"$sihlicon" agent run --worker-id bee-term --poll-ms 20 >"$work/term.log" 2>&1 &
pid=$!
sleep 0.5
kill -TERM "$pid"
wait "$pid"; rc=$?
check "agent run stops cleanly on SIGTERM" test "$rc" -eq 0
check "SIGTERM drains" grep -q "draining" "$work/term.log"
out=$("$sihlicon" --json worker list)
bee_term=$(grep -o '"workerId":"bee-term".*' <<<"$out")  # the last worker, by id
check "a stopped agent's worker is offline" grep -q '"status":"offline"' <<<"$bee_term"

# Jobs cannot reach the hub: a native job runs in a sandbox that does not see the hub folder.
native_job() {  # native_job NAME COMMAND_JSON_ARRAY: submits a native job of one attempt
  json_field jobId "$("$sihlicon" --json job submit "{\"jobType\":\"custom\",\"jobName\":\"$1\",\"maxAttempts\":1,\"workloadConfig\":{\"containerImage\":\"native\",\"command\":$2,\"env\":{\"HUB\":\"$SIHLICON_HUB\"}}}" --owner ann)"
}
job=$(native_job steal '["sh","-c","cat \"$HUB/operator.key\""]')
out=$("$sihlicon" agent run --worker-id bee-sandbox --poll-ms 20 --once 2>&1); rc=$?
check "agent run exits 0 after a hostile job" test "$rc" -eq 0
out=$("$sihlicon" --json job show "$job")
check "a job reading operator.key fails" grep -q '"status":"failed"' <<<"$out"
check "it cannot see the key" grep -q 'No such file or directory' <<<"$out"

out=$("$sihlicon" job submit '{"jobType":"custom","jobName":"preload","workloadConfig":{"containerImage":"native","command":["true"],"env":{"LD_PRELOAD":"/tmp/x.so"}}}' --owner ann 2>&1); rc=$?
check "a job whose env sets LD_PRELOAD is refused" test "$rc" -ne 0
check "the refusal names LD_PRELOAD" grep -q 'LD_PRELOAD' <<<"$out"

job=$(native_job off '["true"]')
out=$("$sihlicon" agent run --worker-id bee-off --poll-ms 20 --once --no-native 2>&1); rc=$?
check "agent run --no-native exits 0" test "$rc" -eq 0
out=$("$sihlicon" worker list)
check "--no-native registers no native executor" grep -q 'bee-off .*executors none' <<<"$out"
out=$("$sihlicon" --json job show "$job")
check "the native job is not handed to it: it waits queued" grep -q '"status":"queued"' <<<"$out"
"$sihlicon" job cancel "$job" --by ann >/dev/null

job=$(native_job shell '["sh","-c","true"]')
allowed=$(native_job version '["sha256sum","--version"]')
out=$("$sihlicon" agent run --worker-id bee-allow --poll-ms 20 --once --allow-command sha256sum \
  --allow-command wc 2>&1)
check "--allow-command refuses another program" grep -q "'sh' is not a program worker bee-allow allows (allowed: sha256sum, wc)" <<<"$out"
check "--allow-command runs the program it names" grep -q "job $allowed attempt 1 completed" <<<"$out"

job=$(native_job nobwrap '["true"]')
out=$("$sihlicon" agent run --worker-id bee-nobwrap --poll-ms 20 --once --bwrap "$work/no-bwrap" 2>&1)
check "without bwrap, native jobs are refused" grep -q "this worker cannot make one" <<<"$out"
job=$(native_job trusted '["sh","-c","ls \"$HUB\""]')
out=$("$sihlicon" agent run --worker-id bee-trusted --poll-ms 20 --once --bwrap "$work/no-bwrap" \
  --unsandboxed-native 2>&1)
check "--unsandboxed-native warns" grep -q "WARNING: agent bee-trusted runs native jobs UNSANDBOXED" <<<"$out"
check "--unsandboxed-native runs the job" grep -q "job $job attempt 1 completed" <<<"$out"

out=$("$sihlicon" agent run --work-dir "$SIHLICON_HUB/agent" --once 2>&1); rc=$?
check "a --work-dir inside the hub folder exits 1" test "$rc" -eq 1
check "the error names work_root" grep -q 'work_root.*inside the hub folder' <<<"$out"

out=$("$sihlicon" agent run --slots 0 2>&1); rc=$?
check "agent run --slots 0 exits 1" test "$rc" -eq 1
check "the error names slots" grep -q 'slots' <<<"$out"

# --server: the same agent against `sihlicon serve`, its worker token read from a file.
wtoken=$(json_field token "$("$sihlicon" --json token create bee-remote --role worker --worker-id bee-remote)")
printf '%s\n' "$wtoken" >"$work/worker.token"
chmod 600 "$work/worker.token"
"$sihlicon" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>&1 &
server=$!
for _ in $(seq 400); do
  grep -q '^listening on' "$work/serve.out" && break
  sleep 0.05
done
port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/serve.out")
remote=$(json_field jobId "$("$sihlicon" --json job submit "@$work/job.json" --owner ann)")
out=$(env -u SIHLICON_HUB "$sihlicon" agent run --server "http://127.0.0.1:$port" \
  --token-file "$work/worker.token" --hub-id pool --worker-id bee-remote --poll-ms 20 --once 2>&1); rc=$?
check "agent run --server exits 0" test "$rc" -eq 0
check "the remote agent completes the job" grep -q "job $remote attempt 1 completed" <<<"$out"
out=$("$sihlicon" --json job show "$remote")
check "the remote job's output is the sha256sum line" grep -q "$sum_cid" <<<"$out"
out=$(env -u SIHLICON_HUB "$sihlicon" agent run --server "http://127.0.0.1:$port" \
  --hub-id pool --once 2>&1); rc=$?
check "--server without a token is a usage error" test "$rc" -eq 2
out=$(env -u SIHLICON_HUB "$sihlicon" agent run --server "http://127.0.0.1:$port" \
  --token-file "$work/worker.token" --hub-id pool --worker-id bee-other --once 2>&1); rc=$?
check "a worker token for another worker is refused" test "$rc" -ne 0
check "the refusal says so" grep -q "registers only worker 'bee-remote'" <<<"$out"
check "the token never shows" test "$(grep -c "${wtoken#sih_}" <<<"$out")" -eq 0
kill -TERM "$server"
wait "$server"
finish "agent cli"
