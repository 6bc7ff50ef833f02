// SPDX-License-Identifier: Apache-2.0
//
// The benchmarks' hub, worker and no-op job (no imports: the server benchmark's agent and
// client processes load only this).

// The no-op job: it names an image, so its workers declare a container runtime.
export const request = {
  jobType: 'custom',
  jobName: 'no-op',
  workloadConfig: { containerImage: 'busybox:latest', resources: { cpu: '1' } },
};

export const benchHubSpec = {
  hubId: 'bench', name: 'Bench', site: 'bench', region: 'CH', powerCapacityW: 1_000_000_000,
};

// A worker that can take every no-op job the benchmarks submit.
export function benchWorkerSpec(workerId) {
  return { workerId, hubId: 'bench', cpu: '100000', memory: '1Ti', executors: ['native', 'container'] };
}
