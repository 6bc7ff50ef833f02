#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// The seed's REST contract (seed-api-contracts.md) served over an embedded hub with nothing but
// node:http and the sihlicon addon:
//
//   POST   /api/compute                        submit a job        -> {success, jobId}
//   GET    /api/compute?hubId=&status=&limit=  list jobs           -> {success, jobs}
//          (the hub's jobs: those preferring it (hubId) or pinned to it (constraints.pinHub),
//          and those that ran on it (runHubId); the caller's own only)
//   GET    /api/compute/{jobId}                job status          -> {success, job}
//   DELETE /api/compute/{jobId}                cancel              -> {success, message}
//   POST   /api/storage                        multipart upload    -> {success, manifest}
//   GET    /api/storage?contentId=             manifest            -> {success, manifest}
//   DELETE /api/storage?contentId=             delete              -> {success, message}
//   GET    /api/heat/credits?hubId=&start=&end=                    -> {success, credit}
//   GET    /api/heat/stats?hubId= (or ?site= / ?region=: summed)   -> {success, stats}
//   POST   /api/heat/settle {hubId, periodStart, periodEnd}        -> {success, settledCreditChf}
//
// Errors are {error, details?} with the seed's status codes (400 validation, 401 no session,
// 403 access denied, 404 not found, 500 internal) and, beyond the seed, 402 for insufficient
// funds, 405 for a method not allowed, 409 for a state conflict, 413 for a body too large, 429
// for a rate limit and 503 for a busy hub — the same mapping as examples/python/rest_server.py.
// Every authenticated response carries the seed's rate-limit headers (1000 API requests per
// user per hour, fixed windows on the hub's clock); compute submissions (10 per hour) and
// storage uploads (100 MB per hour) are limited by the library itself.
//
// Authentication: the seed's session cookie `sihlhack_session=TOKEN`; the sessions (token to
// user) are given on the command line, standing in for the host's magic-link sign-in. Settling
// heat credits is reserved to the users named with --operator. No session may sign in as the
// library's own operator principal ('operator', principal.hpp), which administers the hub
// locally. Listens on 127.0.0.1 only.
//
//   node examples/node/rest-server.mjs ./demo-hub --port 8080 \
//       --session secret-ann=ann --session secret-op=olga --operator olga
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

// The package (bindings/node, built by `npm install` there); an application depending on
// `sihlicon` imports it by name.
import { ContentStore, HeatLedger, Hub, SihliconError, parseJson } from '../../bindings/node/index.mjs';

export const API_REQUESTS_PER_HOUR = 1000;
export const MAX_BODY_BYTES = 110_000_000;  // the seed's 100 MB hourly upload, plus framing
const SESSION_COOKIE = 'sihlhack_session';

export const STATUS_OF_ERROR = {
  invalid_argument: 400,
  not_found: 404,
  conflict: 409,
  permission_denied: 403,
  quota_exceeded: 429,
  insufficient_funds: 402,
  integrity: 500,
  io: 500,
  busy: 503,
  internal: 500,
};

const JOB_PATH = /^\/api\/compute\/([A-Za-z0-9._-]{1,128})$/;

class ApiError extends Error {
  constructor(status, message, details) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

function invalid(field, value, problem = 'is not valid') {
  return new ApiError(400, `${field}: ${problem} (got '${value}')`, { field });
}

function required(query, name) {
  const value = query.get(name);
  if (!value) throw invalid(name, '', 'is required');
  return value;
}

function integer(value, field) {
  if (Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^-?[0-9]{1,15}$/.test(value)) return Number(value);
  throw invalid(field, String(value), 'must be an integer');
}

// A JSON object read by the library's strict parser: a repeated member name, bytes that are
// not UTF-8 or a lone surrogate escape are refused (JSON.parse would keep the last of two
// names and turn bad bytes into U+FFFD).
function jsonObject(body, field = 'body') {
  let value;
  try {
    value = parseJson(body);
  } catch (error) {
    throw new ApiError(400, `${field}: not valid JSON (${error.message})`, { field });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(field, Array.isArray(value) ? 'array' : typeof value, 'must be a JSON object');
  }
  return value;
}

// The seed's API limit: `limit` requests per user per clock hour, read from the hub's clock
// so that tests drive it with a ManualClock.
class RateLimiter {
  #hub;
  #limit;
  #windows = new Map();  // user -> {start (s), count}

  constructor(hub, limit) {
    this.#hub = hub;
    this.#limit = limit;
  }

  take(user) {
    const now = Math.floor(this.#hub.nowMs() / 1000);
    const window = now - (now % 3600);
    let entry = this.#windows.get(user);
    if (entry === undefined || entry.start !== window) {
      entry = { start: window, count: 0 };
      this.#windows.set(user, entry);
    }
    const allowed = entry.count < this.#limit;
    if (allowed) entry.count += 1;
    const headers = {
      'X-RateLimit-Limit': String(this.#limit),
      'X-RateLimit-Remaining': String(this.#limit - entry.count),
      'X-RateLimit-Reset': String(entry.start + 3600),
    };
    if (!allowed) headers['Retry-After'] = String(entry.start + 3600 - now);
    return { headers, allowed };
  }
}

// The routes, over one hub. Each handler resolves to a success body (an object).
class Api {
  constructor(hub, { sessions = {}, operators = [], requestsPerHour = API_REQUESTS_PER_HOUR } = {}) {
    // The library's operator principal (kOperatorPrincipal) is never a remote user.
    if (Object.values(sessions).includes('operator')) {
      throw new Error("sessions: no remote user may sign in as 'operator', the library's operator principal");
    }
    this.hub = hub;
    this.sessions = new Map(Object.entries(sessions));
    this.operators = new Set(operators);
    this.limiter = new RateLimiter(hub, requestsPerHour);
  }

  // ---- compute ----
  submitJob(user, body) {
    const job = this.hub.scheduler.submit(jsonObject(body), user);
    return { success: true, jobId: job.jobId };
  }

  listJobs(user, body, query) {
    const hubId = required(query, 'hubId');
    const status = query.get('status') ?? undefined;
    const limit = integer(query.get('limit') ?? '50', 'limit');
    return { success: true, jobs: this.hub.scheduler.jobs({ hubId, status, owner: user, limit }) };
  }

  ownJob(user, jobId) {
    let job;
    try {
      job = this.hub.scheduler.job(jobId);
    } catch (error) {
      if (error.code === 'not_found' || error.code === 'invalid_argument') {
        throw new ApiError(404, `no job '${jobId}'`);
      }
      throw error;
    }
    if (job.owner !== user) throw new ApiError(404, `no job '${jobId}'`);  // not revealed
    return job;
  }

  getJob(user, jobId) {
    return { success: true, job: this.ownJob(user, jobId) };
  }

  cancelJob(user, jobId) {
    this.ownJob(user, jobId);
    this.hub.scheduler.cancel(jobId, user, 'cancelled through the API');
    return { success: true, message: 'Job cancelled' };
  }

  // ---- storage ----
  async upload(user, body, contentType) {
    if (!/^multipart\/form-data/i.test(contentType ?? '')) {
      throw invalid('Content-Type', contentType ?? '', 'must be multipart/form-data');
    }
    let form;
    try {
      form = await new Request('http://127.0.0.1/', {
        method: 'POST', headers: { 'content-type': contentType }, body,
      }).formData();
    } catch (error) {
      throw invalid('body', '', `is not a multipart body (${error.message})`);
    }
    const file = form.get('file');
    if (file === null || typeof file === 'string') {
      throw new ApiError(400, 'file: required', { field: 'file' });
    }
    // The metadata part is decoded by the library's codec (PutOptions::from_json): its fields,
    // defaults and refusals are the library's, as in `sihlicon serve`.
    const text = form.get('metadata');
    const options = ContentStore.putOptionsFromJson(
      typeof text === 'string' ? text : Buffer.from(text === null ? '{}' : await text.arrayBuffer()));
    options.fileName ??= file.name || null;
    const data = Buffer.from(await file.arrayBuffer());
    const manifest = await this.hub.contentStore.put(data, user, options);
    return { success: true, manifest };
  }

  getManifest(user, body, query) {
    return { success: true, manifest: this.hub.contentStore.stat(required(query, 'contentId'), user) };
  }

  deleteContent(user, body, query) {
    this.hub.contentStore.remove(required(query, 'contentId'), user);
    return { success: true, message: 'Content deleted' };
  }

  // ---- heat ----
  heatCredits(user, body, query) {
    const credit = this.hub.heatLedger.credits(required(query, 'hubId'),
      query.get('start') ?? undefined, query.get('end') ?? undefined);
    return { success: true, credit };
  }

  // ?hubId=H, or ?site=S / ?region=R: summed over every hub there (district heating).
  heatStats(user, body, query) {
    for (const groupBy of ['site', 'region']) {
      if (query.has(groupBy)) {
        return { success: true, stats: this.hub.heatLedger.groupStats(groupBy, query.get(groupBy)) };
      }
    }
    return { success: true, stats: this.hub.heatLedger.stats(required(query, 'hubId')) };
  }

  heatSettle(user, body) {
    if (!this.operators.has(user)) {
      throw new ApiError(403, 'only an operator may settle heat credits');
    }
    // The body is decoded by the library's codec (HeatPeriod::from_json).
    const period = HeatLedger.periodFromJson(body);
    const settlement = this.hub.heatLedger.settle(period.hubId, period.periodStart, period.periodEnd);
    return {
      success: true,
      settledCreditChf: settlement.settledCreditChf,
      currency: settlement.currency,
      settlement,
    };
  }

  // ---- HTTP ----
  authenticate(request) {
    for (const part of (request.headers.cookie ?? '').split(';')) {
      const [name, ...rest] = part.trim().split('=');
      if (name === SESSION_COOKIE) {
        const user = this.sessions.get(rest.join('='));
        if (user !== undefined) return user;
      }
    }
    throw new ApiError(401, 'not authenticated');
  }

  async route(method, url, user, body, request) {
    const query = url.searchParams;
    const table = {
      '/api/compute': { POST: this.submitJob, GET: this.listJobs },
      '/api/storage': { GET: this.getManifest, DELETE: this.deleteContent },
      '/api/heat/credits': { GET: this.heatCredits },
      '/api/heat/stats': { GET: this.heatStats },
      '/api/heat/settle': { POST: this.heatSettle },
    };
    if (url.pathname === '/api/storage' && method === 'POST') {
      return this.upload(user, body, request.headers['content-type']);
    }
    const match = JOB_PATH.exec(url.pathname);
    if (match) {
      if (method === 'GET') return this.getJob(user, match[1]);
      if (method === 'DELETE') return this.cancelJob(user, match[1]);
      throw new ApiError(405, `${method} is not allowed here`, { allow: ['DELETE', 'GET'] });
    }
    const routes = table[url.pathname];
    if (routes === undefined) throw new ApiError(404, `no route ${url.pathname}`);
    const handler = routes[method];
    if (handler === undefined) {
      throw new ApiError(405, `${method} is not allowed here`, { allow: Object.keys(routes).sort() });
    }
    return handler.call(this, user, body, query);
  }

  async handle(request, response) {
    let headers = {};
    let status = 200;
    let answer;
    try {
      const body = await readBody(request);
      const user = this.authenticate(request);
      const limit = this.limiter.take(user);
      headers = limit.headers;
      if (!limit.allowed) {
        throw new ApiError(429, `rate limit of ${API_REQUESTS_PER_HOUR} requests per hour reached`);
      }
      const url = new URL(request.url, 'http://127.0.0.1');
      answer = await this.route(request.method, url, user, body, request);
    } catch (error) {
      if (error instanceof ApiError) {
        status = error.status;
        answer = { error: error.message, ...(error.details === undefined ? {} : { details: error.details }) };
        if (status === 413) headers.Connection = 'close';
      } else if (error instanceof SihliconError) {
        status = STATUS_OF_ERROR[error.code] ?? 500;
        answer = { error: error.message, details: { code: error.code, field: error.field ?? null } };
      } else {  // a bug: answer 500, keep serving
        console.error('internal error:', error);
        status = 500;
        answer = { error: 'internal server error' };
      }
    }
    const text = JSON.stringify(answer);
    response.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      ...headers,
    });
    response.end(text);
  }
}

function readBody(request) {
  const length = request.headers['content-length'];
  if (length !== undefined && !/^[0-9]+$/.test(length)) {
    return Promise.reject(new ApiError(400, 'Content-Length: not a number'));
  }
  if (length !== undefined && Number(length) > MAX_BODY_BYTES) {
    request.resume();
    return Promise.reject(new ApiError(413, `the body exceeds ${MAX_BODY_BYTES} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    request.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError(413, `the body exceeds ${MAX_BODY_BYTES} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

// A server of the seed's API over `hub` on 127.0.0.1:`port` (0: any free port). Resolves once
// it listens; `server.address().port` is its port; `server.close()` stops it.
export async function startServer(hub, { sessions = {}, operators = [], port = 0, requestsPerHour } = {}) {
  const api = new Api(hub, { sessions, operators, requestsPerHour });
  const server = http.createServer((request, response) => {
    api.handle(request, response);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return server;
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      port: { type: 'string', default: '8080' },
      session: { type: 'string', multiple: true, default: [] },
      operator: { type: 'string', multiple: true, default: [] },
    },
  });
  if (positionals.length !== 1) {
    console.error('usage: rest-server.mjs HUB-DIRECTORY [--port N] [--session TOKEN=USER]... [--operator USER]...');
    process.exit(2);
  }
  const sessions = {};
  for (const item of values.session) {
    const at = item.indexOf('=');
    if (at <= 0 || at === item.length - 1) {
      console.error(`--session ${item}: expected TOKEN=USER`);
      process.exit(2);
    }
    sessions[item.slice(0, at)] = item.slice(at + 1);
  }
  const hub = await Hub.open(positionals[0]);
  const server = await startServer(hub, { sessions, operators: values.operator, port: Number(values.port) });
  const { address, port } = server.address();
  console.log(`serving the seed's API over ${hub.directory} on http://${address}:${port}/api/`);
  const stop = () => server.close(() => hub.close().then(() => process.exit(0)));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
