// SPDX-License-Identifier: Apache-2.0
//
// SihliconClient: the seed's TypeScript SDK shape (seed-api-contracts.md, "SDK Examples") over
// an embedded hub, for a Next.js API route or any server that links the addon (given
// {apiUrl, sessionToken} instead, it is the same shape over HTTP: http_client.js):
//
//   const client = new SihliconClient({ hub, user: 'ann' });
//   const job = await client.compute.submit({ jobType: 'ocr', jobName: '…',
//                                             workloadConfig: { containerImage: '…' } });
//   const manifest = await client.storage.upload(file, { storageTier: 'cold' });
//   const credits = await client.heat.getCredits(hubId);
//
// Every method returns a Promise (as the seed's SDK does) and rejects with the addon's
// SihliconError. `user` is the principal the host authenticated: jobs are submitted and listed
// as theirs, content is stored, read and deleted as theirs.
'use strict';

const { ErrorCode, SihliconError } = require('./errors.js');
const { SihliconHttpClient } = require('./http_client.js');

function required(value, field) {
  if (typeof value !== 'string' || value === '') {
    throw new SihliconError(`${field}: a non-empty string is required`,
      ErrorCode.INVALID_ARGUMENT, field);
  }
  return value;
}

// Runs `work` and returns its result as a Promise (a synchronous throw becomes a rejection).
async function call(work) {
  return work();
}

class Compute {
  #hub;
  #user;
  constructor(hub, user) {
    this.#hub = hub;
    this.#user = user;
  }

  // POST /api/compute: the seed's request body. Resolves to the job record (jobId, status, …).
  submit(request) {
    return call(() => this.#hub.scheduler.submit(request, this.#user));
  }

  // GET /api/compute/[jobId]: the user's job (another user's job is not found).
  get(jobId) {
    return call(() => {
      const job = this.#hub.scheduler.job(required(jobId, 'jobId'));
      if (job.owner !== this.#user) {  // other users' jobs are not revealed
        throw new SihliconError(`no job '${jobId}'`, ErrorCode.NOT_FOUND, 'jobId');
      }
      return job;
    });
  }

  // GET /api/compute?hubId=&status=&limit=: the user's jobs on a hub.
  list({ hubId, status, limit = 50 } = {}) {
    return call(() => this.#hub.scheduler.jobs({
      hubId: required(hubId, 'hubId'), status, limit, owner: this.#user,
    }));
  }

  // DELETE /api/compute/[jobId]: cancels the user's job; resolves to the cancelled record.
  cancel(jobId, reason = 'cancelled by the client') {
    return this.get(jobId).then(() => this.#hub.scheduler.cancel(jobId, this.#user, reason));
  }
}

class Storage {
  #hub;
  #user;
  constructor(hub, user) {
    this.#hub = hub;
    this.#user = user;
  }

  // POST /api/storage: `file` is a Buffer, a TypedArray, a string, or a Blob/File (read
  // first); `metadata` the seed's {fileName, mimeType, storageTier, accessLevel, minReplicas,
  // sourceHubId, metadata}. Resolves to the manifest.
  async upload(file, metadata = {}) {
    let data = file;
    const options = { ...metadata };
    if (typeof Blob !== 'undefined' && file instanceof Blob) {
      data = Buffer.from(await file.arrayBuffer());
      if (options.fileName === undefined && typeof file.name === 'string') options.fileName = file.name;
      if (options.mimeType === undefined && file.type) options.mimeType = file.type;
    }
    return this.#hub.contentStore.put(data, this.#user, options);
  }

  // GET /api/storage?contentId=: the manifest visible to the user.
  get(contentId) {
    return call(() => this.#hub.contentStore.stat(required(contentId, 'contentId'), this.#user));
  }

  // The content's bytes as a Buffer (optionally a range {offset, length}).
  download(contentId, range) {
    return this.#hub.contentStore.get(required(contentId, 'contentId'), this.#user, range);
  }

  // GET /api/storage listing: the manifests visible to the user, newest first.
  list({ owner, limit } = {}) {
    return call(() => this.#hub.contentStore.list(this.#user, { owner, limit }));
  }

  // DELETE /api/storage?contentId=: removes the user's manifest.
  delete(contentId) {
    return call(() => this.#hub.contentStore.remove(required(contentId, 'contentId'), this.#user));
  }
}

class Heat {
  #hub;
  constructor(hub) {
    this.#hub = hub;
  }

  // GET /api/heat/credits?hubId=&start=&end=: the seed's credit (heatCreditChf in minor units).
  getCredits(hubId, { start, end } = {}) {
    return call(() => this.#hub.heatLedger.credits(required(hubId, 'hubId'), start, end));
  }

  // GET /api/heat/stats?hubId=.
  getStats(hubId) {
    return call(() => this.#hub.heatLedger.stats(required(hubId, 'hubId')));
  }

  // POST /api/heat/settle {hubId, periodStart, periodEnd}: resolves to the settlement
  // (settledCreditChf in minor units).
  settle({ hubId, periodStart, periodEnd }) {
    return call(() => this.#hub.heatLedger.settle(required(hubId, 'hubId'), periodStart, periodEnd));
  }
}

class SihliconClient {
  // {hub, user}: in-process over an open Hub (this file). {apiUrl, sessionToken, ca?,
  // timeoutMs?}: over HTTP against a hub's server; returns a SihliconHttpClient
  // (http_client.js), which has the same compute, storage and heat groups.
  constructor(options) {
    if (options !== null && typeof options === 'object' && options.apiUrl !== undefined) {
      // eslint-disable-next-line no-constructor-return
      return new SihliconHttpClient(options);
    }
    const { hub, user } = options ?? {};
    if (hub === null || typeof hub !== 'object' || typeof hub.scheduler !== 'object') {
      throw new TypeError('hub: an open sihlicon Hub is required (await Hub.open(directory))');
    }
    required(user, 'user');
    this.hub = hub;
    this.user = user;
    this.compute = new Compute(hub, user);
    this.storage = new Storage(hub, user);
    this.heat = new Heat(hub);
    Object.freeze(this);
  }
}

module.exports = { SihliconClient, SihliconHttpClient };
