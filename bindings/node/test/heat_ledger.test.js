// SPDX-License-Identifier: Apache-2.0
// HeatLedger: records, rates, the seed's credits/stats/settle, settlements, series and demand.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const { START, openHub, job, rejects } = require('./helpers.js');

const HOUR = 3_600_000;

test('a completed job leaves a heat record; credits, stats and settle follow the seed', async (t) => {
  const { hub, clock } = await openHub(t);
  const s = hub.scheduler;
  const h = hub.heatLedger;
  const submitted = s.submit(job(), 'ann');
  const [claimed] = s.claim('worker-1');
  clock.advanceMs(HOUR);
  s.complete(submitted.jobId, claimed.lease.token, { energyKwh: '3' });
  clock.advanceMs(1);  // periods are half-open: [start, now) holds the completion from now on
  // 3 kWh electrical at 90 % recovery: 2.7 kWh thermal, at CHF 0.05: 13.5 -> 14 centimes.
  const credit = h.credits('zurich-1');
  assert.equal(credit.totalHeatKwh, 2.7);
  assert.equal(credit.heatCreditChf, 14);
  assert.equal(credit.settled, false);
  const stats = h.stats('zurich-1');
  assert.equal(stats.totalHeatKwh, 2.7);
  assert.equal(stats.unsettledCreditChf, 14);
  assert.equal(stats.periodCount, 0);
  clock.advanceMs(HOUR);
  const settled = h.settle('zurich-1', START, new Date(START + 2 * HOUR).toISOString());
  assert.equal(settled.settledCreditChf, 14);
  assert.equal(settled.recordCount, 1);
  // Idempotent; an overlapping period is a conflict; the period must have ended.
  assert.deepEqual(h.settle('zurich-1', START, START + 2 * HOUR), settled);
  await rejects(assert, () => h.settle('zurich-1', START + HOUR, START + 3 * HOUR), 'invalid_argument');
  await rejects(assert, () => h.settle('zurich-1', START + HOUR, START + 2 * HOUR - 1), 'conflict');
  assert.deepEqual(h.settlements('zurich-1'), [settled]);
  const after = h.stats('zurich-1');
  assert.equal(after.periodCount, 1);
  assert.equal(after.lastPeriodEnd, new Date(START + 2 * HOUR).toISOString());
  assert.equal(h.credits('zurich-1', START, START + 2 * HOUR).settled, true);
});

test('manual heat, credit rates, series and unmet demand', async (t) => {
  const { hub, clock } = await openHub(t);
  const h = hub.heatLedger;
  clock.advanceMs(2 * HOUR);
  const heater = h.record({ hubId: 'zurich-1', kind: 'standalone-heater', tag: 'pool heater',
    thermalKwh: '1.5', electricalMwh: 1_600_000, source: 'measured', at: START + HOUR });
  assert.equal(heater.kind, 'standalone-heater');
  assert.equal(heater.thermalKwh, 1.5);
  assert.equal(heater.electricalKwh, 1.6);
  const many = h.recordMany([
    { hubId: 'zurich-1', tag: 'battery', kind: 'battery-losses', thermalMwh: 250_000 },
    { hubId: 'zurich-1', tag: 'misc', thermalKwh: 0.25 },
  ]);
  assert.deepEqual(many.map((r) => r.sequence), [heater.sequence + 1, heater.sequence + 2]);
  await rejects(assert, () => h.recordMany([
    { hubId: 'zurich-1', tag: 'ok', thermalKwh: 1 },
    { hubId: 'zurich-1', kind: 'other', thermalKwh: 1 },
  ]), 'invalid_argument', 'records[1].tag');
  await rejects(assert, () => h.record({ hubId: 'zurich-1', tag: 'x' }), 'invalid_argument', 'heat.thermalKwh');
  await rejects(assert, () => h.record({ hubId: 'nowhere', tag: 'x', thermalKwh: 1 }), 'not_found');

  const rate = h.setCreditRate('zurich-1', '0.08', 'CHF', START + HOUR);
  assert.equal(rate.ratePerKwh, 8);
  assert.deepEqual(h.creditRates('zurich-1').map((r) => [r.ratePerKwh, r.default]), [[5, true], [8, false]]);
  await rejects(assert, () => h.setCreditRate('zurich-1', '0.08', 'EUR', START + 2 * HOUR), 'conflict');
  await rejects(assert, () => h.setCreditRate('zurich-1', '0.081', 'CHF'), 'invalid_argument', 'ratePerKwh');

  const series = h.series('zurich-1', 'hour', START, START + 2 * HOUR);
  assert.equal(series.points.length, 2);
  assert.equal(series.points[1].heatKwh, 1.5);
  await rejects(assert, () => h.series('zurich-1', 'week', START, START + HOUR), 'invalid_argument', 'resolution');

  hub.scheduler.setHeatDemand('zurich-1', 5000);
  assert.equal(h.unmetHeatDemandW('zurich-1'), 5000 - 2000);  // 0.5 kWh over 15 minutes
  assert.equal(h.unmetHeatDemandW('zurich-1', HOUR), 5000 - 500);
  await rejects(assert, () => h.unmetHeatDemandW('zurich-1', 0), 'invalid_argument');
});

test('heat stats and series by site and region sum their hubs exactly', async (t) => {
  const { hub, clock } = await openHub(t);
  const h = hub.heatLedger;
  hub.scheduler.registerHub({ hubId: 'zurich-2', name: 'Zurich 2', site: 'sihlquai', region: 'CH',
    heatRecoveryPpm: 900000, powerCapacityW: 20000 });
  hub.scheduler.registerHub({ hubId: 'lyon-1', name: 'Lyon 1', site: 'lyon', region: 'FR',
    heatRecoveryPpm: 900000, powerCapacityW: 20000 });
  clock.advanceMs(HOUR / 2);
  h.record({ hubId: 'zurich-1', tag: 'a', thermalMwh: 1_000_001 });
  h.record({ hubId: 'zurich-2', tag: 'b', thermalMwh: 2_000_000 });
  h.record({ hubId: 'lyon-1', tag: 'c', thermalMwh: 4_000_000 });
  const stats = h.groupStats('site', 'sihlquai');
  assert.deepEqual(stats.hubIds, ['zurich-1', 'zurich-2']);
  assert.equal(stats.groupBy, 'site');
  assert.equal(stats.totalHeatKwh, 3.000001);
  assert.deepEqual(stats.hubs.map((s) => s.totalHeatKwh), [1.000001, 2]);
  assert.equal(stats.totalCreditChf, stats.hubs[0].totalCreditChf + stats.hubs[1].totalCreditChf);
  assert.deepEqual(h.groupStats('region', 'FR').hubIds, ['lyon-1']);
  const series = h.groupSeries('region', 'CH', 'hour', START, START + HOUR);
  assert.equal(series.points.length, 1);
  assert.equal(series.points[0].heatKwh, 3.000001);
  assert.equal(series.points[0].records, 2);
  await rejects(assert, () => h.groupStats('site', 'nowhere'), 'not_found', 'site');
  await rejects(assert, () => h.groupStats('district', 'sihlquai'), 'invalid_argument', 'groupBy');
});
