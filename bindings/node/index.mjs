// SPDX-License-Identifier: Apache-2.0
// ESM entry of the package `sihlicon`: the same objects as the CommonJS entry (index.js).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const sihlicon = require('./index.js');

export const {
  Hub,
  ManualClock,
  Scheduler,
  ContentStore,
  HeatLedger,
  Settlement,
  WorkerAgent,
  Server,
  verifyReceipt,
  parseJson,
  computeCid,
  proofOfExecution,
  eip191Sign,
  eip191Verify,
  version,
  ErrorCode,
  SihliconError,
  SihliconClient,
  SihliconHttpClient,
} = sihlicon;
export default sihlicon;
