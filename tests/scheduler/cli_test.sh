#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The scheduler from the command line: hubs, workers and a job's whole life.
# Usage: cli_test.sh PATH_TO_SIHLICON
# shellcheck source=../support/cli_checks.sh
source "$(dirname "$0")/../support/cli_checks.sh"
export SIHLICON_HUB="$work/hub"
json_field() {  # json_field KEY JSON: the first string value of KEY
  sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" <<<"$2" | head -n 1
}

"$sihlicon" init >/dev/null
out=$("$sihlicon" --json hub register '{"hubId":"zurich","name":"Zurich pool","site":"enge","region":"CH","heatRecoveryPpm":900000,"powerCapacityW":20000}')
check "hub register prints the hub" grep -q '"hubId":"zurich"' <<<"$out"
out=$("$sihlicon" hub register '{"hubId":"zurich","name":"again","site":"x","region":"CH"}' 2>&1); rc=$?
check "registering a hub twice is a conflict" test "$rc" -eq 1
check "the conflict is named" grep -q 'conflict' <<<"$out"

out=$("$sihlicon" --json worker register '{"workerId":"bee-01","hubId":"zurich","cpu":"8","memory":"32Gi","gpus":[{"model":"A100","vram":"80Gi"}]}' --executors native,container)
check "worker register prints the worker" grep -q '"workerId":"bee-01"' <<<"$out"
check "worker memory is parsed exactly" grep -q '"memoryBytes":34359738368' <<<"$out"
check "worker register takes --executors" grep -q '"executors":\["native","container"\]' <<<"$out"
out=$("$sihlicon" worker register '{"workerId":"bee-x","hubId":"zurich","cpu":"1"}' --executors native,vm 2>&1); rc=$?
check "an unknown executor is refused" test "$rc" -eq 1
check "the refusal names executors[1]" grep -q 'executors\[1\]' <<<"$out"
out=$("$sihlicon" worker list)
check "worker list shows the executors" grep -q 'bee-01 .*executors native,container' <<<"$out"
check "the refused worker was not registered" bash -c '! grep -q bee-x' <<<"$out"

# GPU stats in heartbeats, shown by worker list; VRAM above the GPU's is refused, named.
out=$("$sihlicon" --json worker heartbeat --worker bee-01 --utilisation 500000 --gpus '[{"utilisationPpm":750000,"vramUsed":1073741824}]')
check "worker heartbeat records GPU stats" grep -q '"gpuStats":\[{"utilisationPpm":750000,"vramUsed":1073741824}\]' <<<"$out"
out=$("$sihlicon" worker list)
check "worker list shows GPU stats" grep -q 'gpu0 750000 ppm vram 1073741824/85899345920 bytes' <<<"$out"
out=$("$sihlicon" worker heartbeat --worker bee-01 --gpus '[{"vramUsed":85899345921}]' 2>&1); rc=$?
check "VRAM above the GPU's exits 1" test "$rc" -eq 1
check "VRAM above the GPU's is named" grep -q 'gpus\[0\].vramUsed.*85899345921' <<<"$out"
out=$("$sihlicon" worker heartbeat --worker bee-01 --gpus '[], "powerDrawW": 9' 2>&1); rc=$?
check "a --gpus that repeats a member exits 1" test "$rc" -eq 1

cat >"$work/job.json" <<'JSON'
{"jobType":"ocr","jobName":"Process historical ledger","workloadConfig":{"containerImage":"tesseract/tesseract:latest","resources":{"cpu":"2","memory":"2Gi"}},"priority":10,"estimatedComputeKwh":2}
JSON
out=$("$sihlicon" --json job submit "@$work/job.json" --owner ann)
job=$(json_field jobId "$out")
check "job submit returns a job id" grep -q '^job-' <<<"$job"
check "the job is queued" grep -q '"status":"queued"' <<<"$out"

out=$("$sihlicon" job submit '{"jobType":"ocr","jobName":"x","workloadConfig":{"containerImage":"i","resources":{"memory":"4Qi"}}}' --owner ann 2>&1); rc=$?
check "a bad field exits 1" test "$rc" -eq 1
check "a bad field is named" grep -q 'workloadConfig.resources.memory' <<<"$out"

# Names refuse control characters: a job name with a newline would forge a line of job list.
out=$("$sihlicon" job submit '{"jobType":"ocr","jobName":"ok\njob-01JFORGED completed","workloadConfig":{"containerImage":"i"}}' --owner ann 2>&1); rc=$?
check "a job name with a newline exits 1" test "$rc" -eq 1
check "the job name is named" grep -q 'jobName: may not hold the control character U+000A' <<<"$out"
out=$("$sihlicon" job submit '{"jobType":"ocr","jobName":"x","jobName":"y","workloadConfig":{"containerImage":"i"}}' --owner ann 2>&1); rc=$?
check "a repeated member name exits 1" test "$rc" -eq 1
check "the repeated name is named" grep -q 'duplicate member name' <<<"$out"

out=$("$sihlicon" job explain "$job")
check "explain says the worker can run it" grep -q 'worker bee-01: can run' <<<"$out"
check "explain gives the hub's expected heat" grep -q 'hub zurich: can run (expected heat 1.8 kWh)' <<<"$out"
out=$("$sihlicon" --json job show "$job")
check "the job record shows estimatedComputeKwh" grep -q '"estimatedComputeKwh":2' <<<"$out"

out=$("$sihlicon" --json job claim bee-01 --max 5)
token=$(json_field token "$out")
check "claim returns a lease token" test "${#token}" -eq 32

out=$("$sihlicon" job complete "$job" 0123456789abcdef0123456789abcdef --energy-kwh 1 2>&1); rc=$?
check "a foreign token is refused" test "$rc" -eq 1
out=$("$sihlicon" --json job complete "$job" "$token" --energy-kwh 2.5 \
  --output bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e)
check "complete records the energy" grep -q '"actualComputeKwh":2.5,' <<<"$out"
check "complete records the heat" grep -q '"heatGeneratedKwh":2.25,' <<<"$out"

out=$("$sihlicon" job events "$job")
check "the event log shows the three transitions" test "$(wc -l <<<"$out")" -eq 3
out=$("$sihlicon" --json job list --hub-id zurich)
check "job list --hub-id lists the unpinned job that ran on the hub" grep -q "$job" <<<"$out"
check "the record names the hub that ran it" grep -q '"runHubId":"zurich"' <<<"$out"
out=$("$sihlicon" job list --hub-id zurich)
check "job list shows the hub that ran it" grep -q 'ran on hub zurich' <<<"$out"
out=$("$sihlicon" --json job list --hub-id basel 2>&1)
check "job list --hub-id of a hub with no jobs is empty" test "$out" = "[]"
out=$("$sihlicon" --json job list --owner ann)
check "job list --owner finds the job" grep -q "$job" <<<"$out"
out=$("$sihlicon" --json job list --worker-id bee-01)
check "job list --worker-id finds the job bee-01 ran" grep -q "$job" <<<"$out"
out=$("$sihlicon" --json job list --worker-id bee-02)
check "job list --worker-id of another worker is empty" test "$out" = "[]"
out=$("$sihlicon" --json job list --dead-letter)
check "job list --dead-letter is empty without dead letters" test "$out" = "[]"
out=$("$sihlicon" --json job list --not-dead-letter)
check "job list --not-dead-letter finds the job" grep -q "$job" <<<"$out"
out=$("$sihlicon" job list --dead-letter --not-dead-letter 2>&1); rc=$?
check "--dead-letter with --not-dead-letter exits 1" test "$rc" -eq 1
# Defence in depth: a name stored before the rule (edited into the database here) is shown
# escaped, one job per line.
if command -v sqlite3 >/dev/null; then
  sqlite3 "$work/hub/hub.db" "UPDATE jobs SET spec = replace(spec, '\"jobName\":\"Process historical ledger\"', '\"jobName\":\"old\njob-01JFORGED  completed \u001b[2J\"') WHERE id = '$job'"
  out=$("$sihlicon" job list)
  check "job list shows one line per job" test "$(wc -l <<<"$out")" -eq 1
  check "job list escapes the newline" grep -qF 'old\x0ajob-01JFORGED  completed \x1b[2J' <<<"$out"
fi
out=$("$sihlicon" --json hub grid zurich curtail --budget 100)
check "hub grid sets the signal" grep -q '"gridSignal":"curtail"' <<<"$out"
out=$("$sihlicon" --json job stats)
check "job stats counts completed jobs" grep -q '"completed":1' <<<"$out"
out=$("$sihlicon" --json worker drain bee-01)
check "worker drain" grep -q '"status":"draining"' <<<"$out"

# hubId prefers a hub, --pin-hub (constraints.pinHub) pins a job to it.
out=$("$sihlicon" --json job submit '{"jobType":"ocr","jobName":"pinned","workloadConfig":{"containerImage":"i"}}' --owner ann --pin-hub zurich)
check "job submit --pin-hub pins the job" grep -q '"hubId":"zurich","pinHub":"zurich","preferUntil":null' <<<"$out"
out=$("$sihlicon" --json job submit '{"jobType":"ocr","jobName":"preferred","workloadConfig":{"containerImage":"i"}}' --owner ann --hub-id zurich)
check "job submit --hub-id prefers the hub for a window" grep -q '"hubId":"zurich","pinHub":null,"preferUntil":"' <<<"$out"
out=$("$sihlicon" job submit '{"jobType":"ocr","jobName":"both","workloadConfig":{"containerImage":"i"}}' --owner ann --hub-id zurich --pin-hub basel 2>&1); rc=$?
check "--hub-id and a different --pin-hub exit 1" test "$rc" -eq 1
check "the pin is named" grep -q 'constraints.pinHub' <<<"$out"
out=$("$sihlicon" job submit '{"jobType":"ocr","jobName":"lost","workloadConfig":{"containerImage":"i"}}' --owner ann --pin-hub basel 2>&1); rc=$?
check "an unknown --pin-hub exits 1" test "$rc" -eq 1
check "the unknown hub is named" grep -q "not_found: no hub 'basel'" <<<"$out"
out=$("$sihlicon" --json job list --hub-id zurich --status queued)
check "job list --hub-id lists the jobs pinned to and preferring the hub" test "$(grep -o '"jobId"' <<<"$out" | wc -l)" -eq 2

finish "scheduler cli"
