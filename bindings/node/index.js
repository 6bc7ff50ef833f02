// SPDX-License-Identifier: Apache-2.0
//
// The npm package `sihlicon`: the native addon (build/Release/sihlicon.node, built by
// `npm install`) and the SDK-shaped client of client.js. CommonJS; index.mjs re-exports the
// same objects for ESM.
'use strict';

const path = require('node:path');

const native = require(path.join(__dirname, 'build', 'Release', 'sihlicon.node'));

const { ErrorCode, SihliconError } = require('./errors.js');

native._setErrorClass(SihliconError);
require('./events.js').install(native.Hub);

const { SihliconClient, SihliconHttpClient } = require('./client.js');
const { Server } = require('./server.js');

module.exports = {
  Hub: native.Hub,
  ManualClock: native.ManualClock,
  Scheduler: native.Scheduler,
  ContentStore: native.ContentStore,
  HeatLedger: native.HeatLedger,
  Settlement: native.Settlement,
  WorkerAgent: native.WorkerAgent,
  Server,
  verifyReceipt: native.verifyReceipt,
  parseJson: native.parseJson,
  computeCid: native.computeCid,
  proofOfExecution: native.proofOfExecution,
  eip191Sign: native.eip191Sign,
  eip191Verify: native.eip191Verify,
  version: native.version,
  ErrorCode,
  SihliconError,
  SihliconClient,
  SihliconHttpClient,
};
