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

out=$("$sihlicon" agent run --slots 0 2>&1); rc=$?
check "agent run --slots 0 exits 1" test "$rc" -eq 1
check "the error names slots" grep -q 'slots' <<<"$out"
finish "agent cli"
