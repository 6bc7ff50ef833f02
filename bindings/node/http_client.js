// SPDX-License-Identifier: Apache-2.0
//
// SihliconHttpClient: the seed's SDK shape (seed-api-contracts.md, "SDK Examples") over HTTP,
// against a hub's server (`sihlicon serve`, or Server in this package):
//
//   const client = new SihliconClient({ apiUrl: 'https://hub.example:8443/api',
//                                       sessionToken: 'sih_…' });
//   const { jobId } = await client.compute.submit({ jobType: 'ocr', jobName: '…',
//                                                   workloadConfig: { containerImage: '…' } });
//   const manifest = await client.storage.upload('/data/scan.pdf', { storageTier: 'cold' });
//   const credit = await client.heat.getCredits({ hubId: 'pool' });
//
// Requests go through node:http / node:https with a keep-alive agent (close() ends its idle
// connections) and carry `Authorization: Bearer <sessionToken>`. A body over 64 KiB is sent
// with `Expect: 100-continue`, once the server admitted it (after 1 s from a server that
// ignores Expect), so a refusal before the body (401, 413) is its answer, not a broken pipe. Each method resolves to the
// contract's payload: the named record where the contract names one (job, jobs, manifest,
// credit, stats), the whole response body otherwise (submit: {success, jobId}; cancel and
// delete: {success, message}; settle: {success, settledCreditChf}). A refused request rejects
// with SihliconError: `code` from the server's details.code when it sends one, else from the
// status (400 invalid_argument, 401/403 permission_denied, 402 insufficient_funds, 404/405
// not_found, 409 conflict, 413 invalid_argument, 429 quota_exceeded, 503 busy, other 5xx
// internal); `field` from details.field; `status`, `error` and `details` as the server sent them
// (and `retryAfter` in seconds on 429). A request that gets no answer rejects with code "io".
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');
const { randomBytes } = require('node:crypto');

const { ErrorCode, SihliconError } = require('./errors.js');

const codes = new Set(Object.values(ErrorCode));

function codeOfStatus(status) {
  switch (status) {
    case 400: case 413: return ErrorCode.INVALID_ARGUMENT;
    case 401: case 403: return ErrorCode.PERMISSION_DENIED;
    case 402: return ErrorCode.INSUFFICIENT_FUNDS;
    case 404: case 405: return ErrorCode.NOT_FOUND;
    case 409: return ErrorCode.CONFLICT;
    case 429: return ErrorCode.QUOTA_EXCEEDED;
    case 503: return ErrorCode.BUSY;
    default: return status >= 500 ? ErrorCode.INTERNAL : ErrorCode.INVALID_ARGUMENT;
  }
}

// The SihliconError of a refused request: the contract's {error, details} and the status.
function httpError(status, headers, text) {
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  const message = body && typeof body.error === 'string' ? body.error : `HTTP ${status}`;
  const details = body && body.details !== undefined ? body.details : undefined;
  const code = details && codes.has(details.code) ? details.code : codeOfStatus(status);
  const field = details && typeof details.field === 'string' ? details.field : undefined;
  const error = new SihliconError(message, code, field);
  error.status = status;
  error.error = message;
  if (details !== undefined) error.details = details;
  const retryAfter = Number.parseInt(headers['retry-after'], 10);
  if (status === 429 && Number.isFinite(retryAfter)) error.retryAfter = retryAfter;
  return error;
}

function required(value, field) {
  if (typeof value !== 'string' || value === '') {
    throw new SihliconError(`${field}: a non-empty string is required`,
      ErrorCode.INVALID_ARGUMENT, field);
  }
  return value;
}

// An instant for a query or body: a Date, milliseconds since the epoch, or ISO 8601 text.
function isoOf(value, field) {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  const date = value instanceof Date ? value : new Date(value);
  if (typeof value !== 'number' && !(value instanceof Date)) {
    throw new SihliconError(`${field}: a Date, milliseconds or ISO 8601 text is required`,
      ErrorCode.INVALID_ARGUMENT, field);
  }
  if (Number.isNaN(date.getTime())) {
    throw new SihliconError(`${field}: '${value}' is not an instant`,
      ErrorCode.INVALID_ARGUMENT, field);
  }
  return date.toISOString();
}

function query(values) {
  const parts = [];
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== null) {
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
    }
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

// One HTTP connection pool to one server.
class Transport {
  #base;
  #module;
  #agent;
  #token;
  #timeoutMs;

  constructor({ apiUrl, sessionToken, ca, timeoutMs = 60000 }) {
    let url;
    try {
      url = new URL(required(apiUrl, 'apiUrl'));
    } catch (error) {
      if (error instanceof SihliconError) throw error;
      throw new SihliconError(`apiUrl: '${apiUrl}' is not a URL`, ErrorCode.INVALID_ARGUMENT, 'apiUrl');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new SihliconError(`apiUrl: '${apiUrl}' must be http or https`,
        ErrorCode.INVALID_ARGUMENT, 'apiUrl');
    }
    this.#token = required(sessionToken, 'sessionToken');
    if (/[\r\n]/.test(this.#token)) {
      throw new SihliconError('sessionToken: must be one line', ErrorCode.INVALID_ARGUMENT,
        'sessionToken');
    }
    this.#base = url.href.replace(/\/+$/, '');
    this.#module = url.protocol === 'https:' ? https : http;
    this.#agent = new this.#module.Agent({ keepAlive: true, ...(ca ? { ca } : {}) });
    this.#timeoutMs = timeoutMs;
  }

  // Sends a request and resolves to the parsed JSON body of a 2xx answer. `json`: a JSON
  // value for the body; `raw`: {contentType, length, parts()} where parts() yields the body's
  // Buffers (an async generator, so a file is read as it is sent).
  request(method, route, { json, raw } = {}) {
    return new Promise((resolve, reject) => {
      const headers = { authorization: `Bearer ${this.#token}`, accept: 'application/json' };
      let body = null;
      if (json !== undefined) {
        const payload = Buffer.from(JSON.stringify(json));
        headers['content-type'] = 'application/json';
        headers['content-length'] = payload.length;
        body = { parts: () => slices(payload) };
      } else if (raw !== undefined) {
        headers['content-type'] = raw.contentType;
        headers['content-length'] = raw.length;
        body = raw;
      }
      // A body larger than a socket's buffers is sent only after the server admitted it
      // (Expect: 100-continue): a refusal (401, 413) then arrives instead of a broken pipe.
      const expectContinue = body !== null && headers['content-length'] > 1 << 16;
      if (expectContinue) headers.expect = '100-continue';
      let answered = false;  // a response arrived: it settles the Promise, not a write error
      const request = this.#module.request(`${this.#base}${route}`, {
        method, headers, agent: this.#agent, timeout: this.#timeoutMs,
      }, (response) => {
        answered = true;
        const chunks = [];
        let ended = false;
        const settle = () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (response.statusCode < 200 || response.statusCode > 299) {
            reject(httpError(response.statusCode, response.headers, text));
            return;
          }
          if (!ended) {
            reject(new SihliconError(`the server's answer to ${method} ${route} was cut off`,
              ErrorCode.IO));
            return;
          }
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new SihliconError(`the server's answer to ${method} ${route} is not JSON`,
              ErrorCode.IO));
          }
        };
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('error', () => {});  // 'close' follows and settles with what arrived
        response.on('end', () => {
          ended = true;
          settle();
        });
        response.on('close', () => {
          if (!ended) settle();
        });
      });
      request.on('timeout', () => request.destroy(new Error(`no answer in ${this.#timeoutMs} ms`)));
      request.on('error', (error) => {
        // A server that refuses a body (413, 401) answers and closes before reading it; the
        // write then fails, but the answer is what counts.
        if (!answered) reject(ioError(error));
      });
      if (body === null) {
        request.end();
        return;
      }
      const start = () => {
        send(request, body.parts(), () => answered).catch((error) => request.destroy(error));
      };
      if (!expectContinue) {
        start();
        return;
      }
      // The body goes once the server says 100 Continue (or, from a server that ignores
      // Expect, after a second); a refusal instead of it means the body is never sent.
      let started = false;
      const go = () => {
        clearTimeout(timer);
        if (started || answered || request.destroyed) return;
        started = true;
        start();
      };
      const timer = setTimeout(go, 1000);
      request.on('continue', go);
      request.on('close', () => clearTimeout(timer));
      request.flushHeaders();
    });
  }

  close() {
    this.#agent.destroy();
  }
}

// The Buffer in slices, so that writing it yields to the event loop (and to a response).
function* slices(payload) {
  for (let offset = 0; offset < payload.length; offset += 1 << 16) {
    yield payload.subarray(offset, Math.min(payload.length, offset + (1 << 16)));
  }
}

// Writes the parts with backpressure, stopping once the server has answered (a refusal
// before the body) or the request is gone, then ends the request.
async function send(request, parts, answered) {
  for await (const part of parts) {
    if (answered() || request.destroyed) return;
    if (!request.write(part)) {
      await new Promise((resolve) => {
        const done = () => {
          request.off('drain', done);
          request.off('close', done);
          resolve();
        };
        request.on('drain', done);
        request.on('close', done);
      });
    }
  }
  if (!answered() && !request.destroyed) request.end();
}

function ioError(error) {
  const wrapped = new SihliconError(`request failed: ${error.message}`, ErrorCode.IO);
  wrapped.cause = error;
  return wrapped;
}

class Compute {
  #transport;
  constructor(transport) {
    this.#transport = transport;
  }

  // POST /api/compute → {success, jobId}.
  async submit(spec) {
    return this.#transport.request('POST', '/compute', { json: spec });
  }

  // GET /api/compute/{jobId} → the job.
  async get(jobId) {
    const body = await this.#transport.request('GET',
      `/compute/${encodeURIComponent(required(jobId, 'jobId'))}`);
    return body.job;
  }

  // GET /api/compute?hubId=&status=&limit= → the jobs.
  async list({ hubId, status, limit } = {}) {
    const body = await this.#transport.request('GET', `/compute${query({ hubId, status, limit })}`);
    return body.jobs;
  }

  // DELETE /api/compute/{jobId} → {success, message}.
  async cancel(jobId) {
    return this.#transport.request('DELETE',
      `/compute/${encodeURIComponent(required(jobId, 'jobId'))}`);
  }
}

// The multipart/form-data body of an upload: the "file" part streamed from `source` and the
// "metadata" part (JSON), with its exact length so no chunked encoding is needed.
async function multipart(file, metadata) {
  const boundary = `sihlicon-${randomBytes(16).toString('hex')}`;
  const meta = { ...metadata };
  let length;
  let source;
  if (typeof file === 'string' || file instanceof URL) {
    const stat = await fs.promises.stat(file);
    if (!stat.isFile()) {
      throw new SihliconError(`file: '${file}' is not a file`, ErrorCode.INVALID_ARGUMENT, 'file');
    }
    length = stat.size;
    source = () => fs.createReadStream(file);
    if (meta.fileName === undefined) meta.fileName = path.basename(String(file instanceof URL ? file.pathname : file));
  } else if (typeof Blob !== 'undefined' && file instanceof Blob) {
    length = file.size;
    source = () => require('node:stream').Readable.fromWeb(file.stream());
    if (meta.fileName === undefined && typeof file.name === 'string') meta.fileName = file.name;
    if (meta.mimeType === undefined && file.type) meta.mimeType = file.type;
  } else if (ArrayBuffer.isView(file) || file instanceof ArrayBuffer) {
    const bytes = file instanceof ArrayBuffer ? Buffer.from(file)
      : Buffer.from(file.buffer, file.byteOffset, file.byteLength);
    length = bytes.length;
    source = () => [bytes];
  } else {
    throw new SihliconError('file: a path, a Buffer, a TypedArray or a Blob is required',
      ErrorCode.INVALID_ARGUMENT, 'file');
  }
  const quoted = (text) => String(text).replace(/["\r\n\\]/g, '_');
  const name = meta.fileName !== undefined ? quoted(meta.fileName) : 'upload';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n` +
    `Content-Type: application/json\r\n\r\n${JSON.stringify(meta)}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n');
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: head.length + length + tail.length,
    async* parts() {
      yield head;
      let sent = 0;
      for await (const chunk of source()) {
        sent += chunk.length;
        yield chunk;
      }
      if (sent !== length) {
        throw new SihliconError(`file: its size changed while it was sent (${length} -> ${sent})`,
          ErrorCode.IO, 'file');
      }
      yield tail;
    },
  };
}

class Storage {
  #transport;
  constructor(transport) {
    this.#transport = transport;
  }

  // POST /api/storage (multipart/form-data): `file` is a path on disk (streamed, not read into
  // memory), a Buffer/TypedArray/ArrayBuffer or a Blob; `metadata` the contract's {fileName,
  // mimeType, storageTier, accessLevel, minReplicas, sourceHubId, metadata}. → the manifest.
  async upload(file, metadata = {}) {
    const raw = await multipart(file, metadata);
    const body = await this.#transport.request('POST', '/storage', { raw });
    return body.manifest;
  }

  // GET /api/storage?contentId= → the manifest.
  async getManifest(contentId) {
    const body = await this.#transport.request('GET',
      `/storage${query({ contentId: required(contentId, 'contentId') })}`);
    return body.manifest;
  }

  // DELETE /api/storage?contentId= → {success, message}.
  async delete(contentId) {
    return this.#transport.request('DELETE',
      `/storage${query({ contentId: required(contentId, 'contentId') })}`);
  }
}

// getCredits(hubId, {start, end}) or getCredits({hubId, start, end}): both forms.
function hubQuery(first, rest) {
  return typeof first === 'string' ? { hubId: first, ...(rest || {}) } : { ...(first || {}) };
}

class Heat {
  #transport;
  constructor(transport) {
    this.#transport = transport;
  }

  // GET /api/heat/credits?hubId=&start=&end= → the credit.
  async getCredits(hubOrQuery, period) {
    const { hubId, start, end } = hubQuery(hubOrQuery, period);
    const body = await this.#transport.request('GET', `/heat/credits${query({
      hubId: required(hubId, 'hubId'), start: isoOf(start, 'start'), end: isoOf(end, 'end'),
    })}`);
    return body.credit;
  }

  // GET /api/heat/stats?hubId= → the stats.
  async getStats(hubOrQuery) {
    const { hubId } = hubQuery(hubOrQuery);
    const body = await this.#transport.request('GET',
      `/heat/stats${query({ hubId: required(hubId, 'hubId') })}`);
    return body.stats;
  }

  // POST /api/heat/settle {hubId, periodStart, periodEnd} (operator) → {success,
  // settledCreditChf}.
  async settle({ hubId, periodStart, periodEnd } = {}) {
    return this.#transport.request('POST', '/heat/settle', {
      json: {
        hubId: required(hubId, 'hubId'),
        periodStart: isoOf(periodStart, 'periodStart'),
        periodEnd: isoOf(periodEnd, 'periodEnd'),
      },
    });
  }
}

class SihliconHttpClient {
  #transport;

  // `apiUrl`: the contract's base ("https://host:port/api"); `sessionToken`: an API token
  // (hub.createToken, `sihlicon token create`); `ca`: PEM certificates to trust for HTTPS
  // (a self-signed server); `timeoutMs`: the longest wait for an answer (default 60000).
  constructor({ apiUrl, sessionToken, ca, timeoutMs } = {}) {
    this.#transport = new Transport({ apiUrl, sessionToken, ca, timeoutMs });
    this.apiUrl = apiUrl;
    this.compute = new Compute(this.#transport);
    this.storage = new Storage(this.#transport);
    this.heat = new Heat(this.#transport);
    Object.freeze(this);
  }

  // Closes the keep-alive connections (a later request opens a new one).
  close() {
    this.#transport.close();
  }
}

module.exports = { SihliconHttpClient };
