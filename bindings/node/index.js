// SPDX-License-Identifier: Apache-2.0
//
// The npm package `sihlicon`: the native addon (build/Release/sihlicon.node, built by
// `npm install`) and the SDK-shaped client of client.js. CommonJS; index.mjs re-exports the
// same objects for ESM.
'use strict';

const path = require('node:path');

const native = require(path.join(__dirname, 'build', 'Release', 'sihlicon.node'));

// The names of the library's error codes (ErrorCode in include/sihlicon/error.hpp).
const ErrorCode = Object.freeze({
  INVALID_ARGUMENT: 'invalid_argument',
  NOT_FOUND: 'not_found',
  CONFLICT: 'conflict',
  PERMISSION_DENIED: 'permission_denied',
  QUOTA_EXCEEDED: 'quota_exceeded',
  INSUFFICIENT_FUNDS: 'insufficient_funds',
  INTEGRITY: 'integrity',
  IO: 'io',
  BUSY: 'busy',
  INTERNAL: 'internal',
});

// Every error the library reports: `code` is one of ErrorCode's values, `field` names the
// input at fault when there is one (absent otherwise).
class SihliconError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SihliconError';
  }
}
native._setErrorClass(SihliconError);

const { SihliconClient } = require('./client.js');

module.exports = {
  Hub: native.Hub,
  ManualClock: native.ManualClock,
  Scheduler: native.Scheduler,
  ContentStore: native.ContentStore,
  HeatLedger: native.HeatLedger,
  Settlement: native.Settlement,
  verifyReceipt: native.verifyReceipt,
  computeCid: native.computeCid,
  proofOfExecution: native.proofOfExecution,
  version: native.version,
  ErrorCode,
  SihliconError,
  SihliconClient,
};
