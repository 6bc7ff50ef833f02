// SPDX-License-Identifier: Apache-2.0
//
// Types of the npm package `sihlicon` (hand-written; the records are the JSON shapes of the
// C++ records' to_json(), see include/sihlicon/*.hpp).

/** An instant: milliseconds since the Unix epoch, a Date, or an ISO 8601 string. */
export type Instant = number | Date | string;
/** An exact decimal amount in major units of a currency, e.g. "10.50". */
export type Decimal = string;

export declare const version: string;

// ---- errors -------------------------------------------------------------------------------

export declare const ErrorCode: {
  readonly INVALID_ARGUMENT: 'invalid_argument';
  readonly NOT_FOUND: 'not_found';
  readonly CONFLICT: 'conflict';
  readonly PERMISSION_DENIED: 'permission_denied';
  readonly QUOTA_EXCEEDED: 'quota_exceeded';
  readonly INSUFFICIENT_FUNDS: 'insufficient_funds';
  readonly INTEGRITY: 'integrity';
  readonly IO: 'io';
  readonly BUSY: 'busy';
  readonly INTERNAL: 'internal';
};
export type ErrorCodeName = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Every error the library reports. */
export declare class SihliconError extends Error {
  constructor(message: string, code?: ErrorCodeName, field?: string);
  readonly name: 'SihliconError';
  readonly code: ErrorCodeName;
  /**
   * The input at fault ("workloadConfig.resources.memory", "sellerHub"), spelt as this API's
   * objects spell it, when the error is about one.
   */
  readonly field?: string;
  /** Set by SihliconHttpClient for a request the server refused: the HTTP status. */
  readonly status?: number;
  /** The contract's `error` (the message) and `details` ({code, field} for the library's errors). */
  readonly error?: string;
  readonly details?: unknown;
  /** Seconds from Retry-After on a 429. */
  readonly retryAfter?: number;
}

// ---- records ------------------------------------------------------------------------------

export type JobType = 'ocr' | 'ai-inference' | 'time-series' | 'video-processing' | 'scientific' | 'custom';
export type JobStatus = 'pending' | 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
export type StorageTier = 'hot' | 'cold' | 'glacier';
export type AccessLevel = 'private' | 'community' | 'public';
export type EnergySource = 'measured' | 'modelled' | 'estimated';
export type AccountKind =
  | 'client' | 'worker' | 'hub_operator' | 'escrow' | 'treasury' | 'protocol_fee'
  | 'operator_fee' | 'heat_credits' | 'model_royalties' | 'external';

export interface HubInfo {
  directory: string;
  databasePath: string;
  blobDirectory: string;
  schemaVersion: number;
  latestSchemaVersion: number;
  libraryVersion: string;
  createdByVersion: string;
  instanceId: string;
  createdAt: string;
  databaseBytes: number;
  counts: Record<string, number>;
}

export interface HubRecord {
  hubId: string;
  name: string;
  site: string;
  region: string;
  heatRecoveryPpm: number;
  powerCapacityW: number;
  routingPolicy: string;
  wattsPerCore: number;
  wattsPerGpu: number;
  throttleMinPriority: number;
  maxQueueDepth: number;
  gridSignal: 'surplus' | 'normal' | 'throttle' | 'curtail';
  powerBudgetW: number | null;
  gridValidUntil: string | null;
  heatDemandW: number;
  heatDemandValidUntil: string | null;
  runningPowerW: number;
  createdAt: string;
  updatedAt: string;
}

export interface WorkerRecord {
  workerId: string;
  hubId: string;
  status: 'online' | 'busy' | 'offline' | 'draining';
  labels: Record<string, string>;
  /** The last heartbeat's stats of the registered GPUs, in order (vramUsed in bytes). */
  gpuStats: GpuStats[];
  executors: Array<'native' | 'container'>;
  [key: string]: unknown;
}

/** One GPU's state in a heartbeat: utilisation 0..1,000,000 ppm, VRAM in use in bytes. */
export interface GpuStats {
  utilisationPpm: number;
  vramUsed: number;
}

/** The seed's job shape and the rest of the record in camelCase. */
export interface JobRecord {
  jobId: string;
  status: JobStatus;
  outputDataRefs: string[];
  actualComputeKwh: number | null;
  /** The client's estimate in kWh; null when none was given. */
  estimatedComputeKwh: number | null;
  heatGeneratedKwh: number | null;
  errorMessage: string | null;
  jobType: JobType;
  jobName: string;
  owner: string;
  priority: number;
  attempts: number;
  waitReason: string;
  /** The hub the job prefers (or is pinned to); null: any hub. */
  hubId: string | null;
  /** constraints.pinHub: the job runs on this hub only. */
  pinHub: string | null;
  /** A queued job preferring a hub: when any hub may take it. */
  preferUntil: string | null;
  /** The worker holding the running attempt, or that held the last one, and its hub. */
  workerId: string | null;
  runHubId: string | null;
  createdAt: string;
  updatedAt: string;
  [key: string]: unknown;
}

export interface Lease {
  jobId: string;
  workerId: string;
  /** Secret: whoever holds it may renew, complete or fail the attempt. */
  token: string;
  expiresAt: string;
  attempt: number;
}

export interface ClaimedJob {
  lease: Lease;
  job: JobRecord;
}

export interface JobEvent {
  sequence: number;
  jobId: string;
  from: JobStatus | null;
  to: JobStatus;
  at: string;
  actor: string;
  reason: string;
}

export interface QueueStats {
  hubId: string;
  byStatus: Partial<Record<JobStatus, number>>;
  oldestWaiting: string | null;
}

export interface Placement {
  hubId: string;
  workerId: string;
  eligible: boolean;
  reasons: string[];
  /** estimatedComputeKwh x the hub's heat recovery; null when the job has no estimate. */
  expectedHeatKwh: number | null;
}

export interface Manifest {
  contentId: string;
  fileName?: string;
  fileSizeBytes: number;
  mimeType?: string;
  storageTier: StorageTier;
  accessLevel: AccessLevel;
  replicaHubs: string[];
  createdAt: string;
  owner: string;
  minReplicas: number;
  sourceHubId?: string;
  metadata: Record<string, unknown>;
  allowedRegions: string[];
}

export interface NamedReference {
  name: string;
  version: string;
  contentId: string;
  owner: string;
  createdAt: string;
}

export interface Quota {
  uploadBytesPerHour: number;
  totalBytes: number | null;
}

export interface HeatRecord {
  sequence: number;
  hubId: string;
  kind: 'job' | 'battery-losses' | 'standalone-heater' | 'other';
  jobId: string | null;
  tag: string;
  at: string;
  creditAt: string;
  electricalKwh: number | null;
  thermalKwh: number;
  energySource: EnergySource;
  heatRecoveryPpm: number | null;
  recordedAt: string;
}

export interface CreditRate {
  hubId: string;
  ratePerKwh: number;
  currency: string;
  effectiveFrom: string;
  default: boolean;
}

/** The seed's `credit`; heatCreditChf is in minor units (centimes). */
export interface HeatCredit {
  hubId: string;
  periodStart: string;
  periodEnd: string;
  totalHeatKwh: number;
  heatCreditChf: number;
  settled: boolean;
  currency: string;
}

/** The seed's `stats`; credits in minor units. */
export interface HeatStats {
  hubId: string;
  totalHeatKwh: number;
  totalCreditChf: number;
  unsettledCreditChf: number;
  periodCount: number;
  lastPeriodEnd: string | null;
  currency: string;
}

/** A settled period; settledCreditChf (minor units) is the seed's response field. */
export interface HeatSettlement {
  hubId: string;
  periodStart: string;
  periodEnd: string;
  totalHeatKwh: number;
  settledCreditChf: number;
  currency: string;
  recordCount: number;
  settledAt: string;
}

export interface HeatSeries {
  hubId: string;
  resolution: 'hour' | 'day';
  points: Array<{ start: string; electricityKwh: number; heatKwh: number; heatDemandKwh: number; records: number }>;
}

/** Stats summed exactly over every hub of a site or region (district heating). */
export interface HeatGroupStats {
  groupBy: 'site' | 'region';
  group: string;
  hubIds: string[];
  totalHeatKwh: number;
  totalCreditChf: number;
  unsettledCreditChf: number;
  periodCount: number;
  lastPeriodEnd: string | null;
  currency: string;
  hubs: HeatStats[];
}

/** A series summed bucket by bucket over every hub of a site or region. */
export interface HeatGroupSeries {
  groupBy: 'site' | 'region';
  group: string;
  hubIds: string[];
  resolution: 'hour' | 'day';
  points: HeatSeries['points'];
}

/** Amounts as exact decimal strings. */
export interface Account {
  account: string;
  kind: AccountKind;
  owner: string;
  currency: string;
  balance: Decimal;
  pendingDebits: Decimal;
  pendingCredits: Decimal;
  available: Decimal;
}

export interface Transfer {
  id: string;
  debitAccount: string;
  creditAccount: string;
  reference: string;
  createdAt: string;
  amount: Decimal;
  currency: string;
  kind: string;
  status: 'posted' | 'pending' | 'voided' | 'expired';
  exists: boolean;
  [key: string]: unknown;
}

export interface AccountEntry {
  txType: string;
  amount: Decimal;
  balanceAfter: Decimal;
  currency: string;
  reference: string;
  transferId: string;
  sequence: number;
  createdAt: string;
}

/** The charge of a job submitted with charging on; amounts in `currency`. */
export interface JobCharge {
  jobId: string;
  client: string;
  jobType: string;
  /** The price table's. */
  basePrice: Decimal;
  /** The demand multiplier, in ppm of 1×. */
  multiplierPpm: number;
  /** basePrice × multiplier: reserved, then charged. */
  price: Decimal;
  currency: string;
  /** Queued jobs ahead of it (capped at demandFullQueueDepth). */
  queueDepth: number;
  /** Of the workers that could run it. */
  utilisationPpm: number;
  status: 'reserved' | 'charged' | 'voided';
}

export type MarketType = 'compute' | 'storage' | 'heat' | 'energy';
export type MarketStatus = 'pending' | 'settled' | 'cancelled';

/** A transaction between two hubs; amounts as exact decimal strings in `currency`. */
export interface MarketTransaction {
  id: string;
  type: MarketType;
  buyerHub: string;
  sellerHub: string;
  quantity: number;
  /** "job" (compute), "GB-month" (storage) or "Wh" (heat, energy). */
  unit: string;
  unitPrice: Decimal;
  /** quantity × unitPrice, exactly. */
  total: Decimal;
  currency: string;
  status: MarketStatus;
  reference: string;
  /** The pending transfer that reserved the total. */
  transferId: string;
  /** The transfer that posted or voided it. */
  resolutionId: string | null;
  createdAt: string;
  resolvedAt: string | null;
}

export interface MarketRequest {
  /** Idempotency key. */
  id: string;
  type: MarketType;
  buyerHub: string;
  sellerHub: string;
  /** An integer in the type's unit. */
  quantity: number;
  unitPrice: Decimal;
  /** The unit price's currency; the settlement's by default. */
  currency?: string;
  reference?: string;
}

/** A worker's or hub's record; rates in ppm (0 with nothing to measure). */
export interface Reputation {
  subject: 'worker' | 'hub';
  id: string;
  attempts: number;
  successes: number;
  onTime: number;
  uptimeMs: number;
  observedMs: number;
  successRatePpm: number;
  onTimeRatePpm: number;
  uptimePpm: number;
  /** The mean of the three rates: the scheduler's tie-breaker. */
  scorePpm: number;
}

/** The seed's epoch shape (snake_case, as SwarmOrb's explorer reads it). */
export interface Epoch {
  epoch_id: string;
  status: 'active' | 'sealing' | 'finalized';
  start_time: string;
  end_time?: string;
  jobs_count: number;
  jobs_merkle_root: string;
  total_revenue: Decimal;
  /** What the epoch paid its workers (the sum of its payouts). */
  total_distributed: Decimal;
  /** The previous epoch's jobs_merkle_root, as SUMMARY.json signs it; null for epoch 1. */
  previous_root: string | null;
  currency: string;
  signature: string;
  signer: string;
  artifacts: Record<string, string>;
}

/** A jobs.json leaf (fee in minor units, completed_at in milliseconds). */
export interface EpochJob {
  job_id: string;
  client: string;
  worker: string;
  job_type: string;
  hub: string;
  fee: number;
  currency: string;
  result_hash: string;
  poe_hash: string;
  completed_at: number;
}

export interface EpochBundle {
  jobsJson: string;
  agentsJson: string;
  summaryJson: string;
  signatureTxt: string;
}

export interface Receipt {
  job_id: string;
  epoch_id: string;
  leaf: string;
  leaf_index: number;
  tree_size: number;
  proof: string[];
  root: string;
  summary: string;
  signature: string;
  signer: string;
}

export interface ReceiptCheck {
  /** 'valid': a trusted signer signed it; 'unverified': consistent, but no trusted signer was
   *  given (a receipt carries its own signer, which anyone can make); 'invalid'. */
  status: 'valid' | 'unverified' | 'invalid';
  /** True only when status is 'valid'. */
  valid: boolean;
  /** The signer is one of the trusted signers. */
  signerTrusted: boolean;
  /** Why not valid; empty only when valid. */
  problem: string;
  jobId: string;
  epochId: string;
  signer: string;
}

// ---- inputs -------------------------------------------------------------------------------

/** The seed's POST /api/compute body (and the fields beyond it the library reads). */
export interface JobRequest {
  jobType: JobType;
  jobName: string;
  jobDescription?: string;
  hubId?: string;
  workloadConfig: {
    containerImage: string;
    command?: string[];
    env?: Record<string, string>;
    resources?: { cpu?: string; memory?: string; gpu?: boolean };
    timeoutSeconds?: number;
  };
  inputDataRefs?: string[];
  estimatedComputeKwh?: number;
  priority?: number;
  scheduledAt?: string;
  idempotencyKey?: string;
  maxAttempts?: number;
  backoffMs?: number;
  deadline?: string;
  /** hubId prefers a hub for the hub's preference window; pinHub pins the job to it. */
  constraints?: { labels?: Record<string, string>; region?: string; pinHub?: string };
  dependsOn?: string[];
  [key: string]: unknown;
}

export interface HubSpec {
  hubId: string;
  name?: string;
  site?: string;
  region?: string;
  heatRecoveryPpm?: number;
  powerCapacityW?: number;
  routingPolicy?: string;
  wattsPerCore?: number;
  wattsPerGpu?: number;
  throttleMinPriority?: number;
  maxQueueDepth?: number;
}

export interface WorkerSpec {
  workerId?: string;
  hubId: string;
  cpu: string;
  memory: string;
  gpus?: Array<{ model: string; vram: string }>;
  labels?: Record<string, string>;
  /** The executors it has: "native", "container" (a container runtime). Absent: ["native"].
   *  A job goes only to a worker with the executor it needs. */
  executors?: Array<'native' | 'container'>;
}

export interface Completion {
  outputDataRefs?: string[];
  /** The electricity used: integer mWh, or an exact decimal kWh. Absent: modelled. */
  energyMwh?: number;
  energyKwh?: number | string;
  energySource?: EnergySource;
  resultHash?: string;
  metrics?: Record<string, unknown> | string;
  proofOfExecution?: string;
  workerSignature?: string;
}

export interface PutOptions {
  fileName?: string | null;
  mimeType?: string | null;
  storageTier?: StorageTier;
  accessLevel?: AccessLevel;
  minReplicas?: number;
  sourceHubId?: string | null;
  metadata?: Record<string, unknown> | string;
  allowedRegions?: string[];
  chunkSize?: number;
  maxLinks?: number;
}

/** The seed's upload metadata as ContentStore.putOptionsFromJson decodes it: every field. */
export interface DecodedPutOptions {
  fileName: string | null;
  mimeType: string | null;
  storageTier: StorageTier;
  accessLevel: AccessLevel;
  minReplicas: number;
  sourceHubId: string | null;
  metadata: Record<string, unknown>;
  allowedRegions: string[];
}

export interface ManualHeat {
  hubId: string;
  kind?: 'battery-losses' | 'standalone-heater' | 'other';
  tag?: string;
  at?: Instant;
  thermalMwh?: number;
  thermalKwh?: number | string;
  electricalMwh?: number;
  electricalKwh?: number | string;
  source?: EnergySource;
}

export type AccountRef = string | { kind: AccountKind; owner: string; currency?: string };

/**
 * This process's scheduler options (leaseDurationMs, claimScanLimit, inputRecheckIntervalMs).
 * The others are hub settings: given to Hub.open they are the initial settings of a hub that
 * open creates (ignored for an existing hub); setOptions refuses to change them (setSetting).
 */
export interface SchedulerOptions {
  leaseDurationMs?: number;
  heartbeatIntervalMs?: number;
  missedHeartbeats?: number;
  agingIntervalMs?: number;
  submissionsPerHour?: number;
  claimScanLimit?: number;
  inputRecheckIntervalMs?: number;
}

/**
 * Hub settings given to Hub.open: the initial settings of a hub that open creates, ignored for
 * an existing hub (change those with hub.setSetting / hub.updateSettings).
 */
export interface SettlementOptions {
  chargeJobs?: boolean;
  /** Refuse completions without a valid EIP-191 worker signature of the proof of execution. */
  requireWorkerSignatures?: boolean;
  currency?: string;
  defaultPrice?: Decimal;
  prices?: Partial<Record<JobType, Decimal>>;
  protocolFeePpm?: number;
  operatorFeePpm?: number;
  workPoolPpm?: number;
  /** Demand pricing: the multiplier of the table price with no demand, in ppm of 1×. */
  demandMinPpm?: number;
  /** ... and with full demand; equal to demandMinPpm (the default, 1×): a flat price. */
  demandMaxPpm?: number;
  /** The queue depth at which the queue's demand is full (100). */
  demandFullQueueDepth?: number;
  epochDurationMs?: number;
}

/** The hub's stored settings (include/sihlicon/settings.hpp): money and routing for the whole hub. */
export interface HubSettings {
  chargeJobs: boolean;
  requireWorkerSignatures: boolean;
  currency: string;
  defaultPrice: Decimal;
  prices: Partial<Record<JobType, Decimal>>;
  protocolFeePpm: number;
  operatorFeePpm: number;
  workPoolPpm: number;
  demandMinPpm: number;
  demandMaxPpm: number;
  demandFullQueueDepth: number;
  epochDurationMs: number;
  /** How long a job waits for its preferred hub, 0 .. 1 day. */
  preferenceWindowMs: number;
  submissionsPerHour: number;
  /** Requests per hour of one client token to the hub's server; 0: unlimited. */
  apiRequestsPerHour: number;
  agingIntervalMs: number;
  heartbeatIntervalMs: number;
  missedHeartbeats: number;
  /** The default upload quota (the content store's owner "*"). */
  defaultUploadBytesPerHour: number;
  defaultTotalBytes: number | null;
}

/** One row of the settings' audit trail. */
export interface SettingsChange {
  seq: number;
  /** ms since the epoch */
  at: number;
  by: string;
  key: string;
  old: unknown;
  new: unknown;
}

export interface HubOptions {
  createIfMissing?: boolean;
  busyTimeoutMs?: number;
  durability?: 'power_loss' | 'process_crash';
  integrityCheck?: 'none' | 'quick' | 'full';
  readerConnections?: number;
  /**
   * 0 (default): every write is committed to hub.db before it resolves. Above 0: a write
   * resolves once it is in the hub's write log (hub.db-log), and hub.db commits the log when
   * its oldest record is this old, before any read, and at close. Same crash guarantee as
   * `durability`; another process's reads and writes of the hub wait up to this long for
   * the commit.
   */
  commitIntervalMs?: number;
  clock?: ManualClock;
  scheduler?: SchedulerOptions;
  settlement?: SettlementOptions;
}

type Bytes = Buffer | Uint8Array | ArrayBufferView | ArrayBuffer | string;

// ---- handles ------------------------------------------------------------------------------

/** A clock that moves only when told to (tests, simulations). */
export declare class ManualClock {
  constructor(start?: Instant);
  nowMs(): number;
  setMs(ms: Instant): void;
  advanceMs(ms: number): void;
}

export declare class Hub {
  private constructor();
  /** Opens (or creates) the hub in `directory`. */
  static open(directory: string, options?: HubOptions): Promise<Hub>;
  static readonly latestSchemaVersion: number;
  readonly directory: string;
  readonly scheduler: Scheduler;
  readonly contentStore: ContentStore;
  readonly heatLedger: HeatLedger;
  readonly settlement: Settlement;
  info(): HubInfo;
  nowMs(): number;
  /** Refuses new calls, waits for those in flight, closes the database. */
  close(): Promise<void>;
  isClosed(): boolean;
  /** A worker agent for this machine on this hub, not yet started (see WorkerAgent). */
  workerAgent(options: AgentOptions): WorkerAgent;
  /** The native half of `new Server(hub, options)` (server.js); use Server. */
  _server(optionsJson: string, accessLog?: (line: string) => void): unknown;
  /**
   * A new API token (include/sihlicon/tokens.hpp) for `principal` with `role`; a worker token
   * needs `workerId`. Only `by` "operator" (the default) may. The secret is shown only here:
   * send it as `Authorization: Bearer <secret>` (SihliconClient's sessionToken).
   */
  createToken(principal: string, role: TokenRole,
    options?: { workerId?: string; by?: string }): { secret: string; record: TokenRecord };
  /** Every token, revoked ones included, in creation order (never secrets). */
  listTokens(options?: { by?: string }): TokenRecord[];
  /** Revokes a token: it authenticates nobody from now on. */
  revokeToken(tokenId: string, options?: { by?: string }): TokenRecord;
  /**
   * Adds a peer hub (include/sihlicon/peers.hpp): its server's URL (http:// or https://, a host,
   * an optional port and path; no user information, query or fragment) and the API token this
   * hub presents to it. Only the operator (`by`, default 'operator'). Throws SihliconError
   * naming hubId, url or token (never showing the token); conflict for a hub already a peer.
   */
  addPeer(hubId: string, url: string, token: string, options?: { by?: string }): PeerRecord;
  /** Every peer, by hub id: never a token. */
  peers(options?: { by?: string }): PeerRecord[];
  /** Removes a peer and its token; not_found for a hub that is not a peer. */
  removePeer(hubId: string, options?: { by?: string }): PeerRecord;
  /** The stored hub settings, as every process that opens the hub applies them. */
  settings(): HubSettings;
  /**
   * Changes one setting from its text ("true", "0.05", "60s"; key "prices.ocr"), validated,
   * written and audited in one transaction. Throws permission_denied unless `by` is
   * "operator" (the default), invalid_argument naming the key and the value.
   */
  setSetting(key: string, value: string, by?: string): HubSettings;
  /** The keys of `patch` over the stored settings; throws as setSetting. */
  updateSettings(patch: Partial<HubSettings> | string, by?: string): HubSettings;
  /** The audit trail, oldest first. */
  settingsHistory(options?: { afterSeq?: number; limit?: number }): SettingsChange[];
  /** The hub's events after `after` that the reader may see (the operator: all; a client:
   *  its own; `workerId`: that worker's), oldest first, at most `limit` (1..1000). */
  eventsAfter(options?: EventReadOptions): HubEvent[];
  /** The same, waiting up to `timeoutMs` (default 1000) for the first one, written by any
   *  process; [] when the time is up. */
  waitForEvents(options?: EventReadOptions & { timeoutMs?: number }): Promise<HubEvent[]>;
  /** The sequence of the last event in the log (0: none). */
  lastEventSequence(): number;
  /** Follows the log across processes: each event the reader may see reaches `listener`
   *  once, in order, after `after` (default: the events to come). */
  subscribe(listener: (event: HubEvent) => void, options?: EventReadOptions): EventSubscription;
}

export interface EventReadOptions {
  after?: number;
  limit?: number;
  principal?: string;
  workerId?: string;
}

/** One event of the hub's log (include/sihlicon/events.hpp). */
export interface HubEvent {
  sequence: number;
  at: string;
  kind: string;
  subject: string;
  client: string | null;
  worker: string | null;
  payload: Record<string, unknown>;
}

export interface EventSubscription {
  /** The sequence of the last event delivered. */
  readonly position: number;
  /** Stops delivering; settles once the last wait has ended. */
  stop(): Promise<void>;
  readonly done: Promise<void>;
}

/** One attempt of a job, as a JavaScript executor sees it. */
export interface ExecutionRequest {
  job: JobRecord;
  attempt: number;
  workDir: string;
  /** Holds the job's inputDataRefs, fetched from the content store. */
  inputDir: string;
  /** Every regular file left here becomes an output CID, in path order. */
  outputDir: string;
  inputs: string[];
  stdoutFile: string;
  stderrFile: string;
}

export type ExecutionOutcome = 'succeeded' | 'failed' | 'timed_out' | 'cancelled' | 'refused';

export interface ExecutionResult {
  /** failed and timed_out are retried; refused is not. */
  outcome: ExecutionOutcome;
  exitCode?: number | null;
  message?: string;
}

/**
 * Runs one attempt on the main thread. `stopped()` turns true when the agent stops or drains;
 * return promptly then (after 2 s the attempt is reported cancelled). A throw or rejection
 * fails the attempt with its message.
 */
export type Executor = (
  request: ExecutionRequest,
  stopped: () => boolean,
) => ExecutionResult | Promise<ExecutionResult>;

export interface AgentOptions {
  /** Default: "agent-" and the host name. */
  workerId?: string;
  /** A registered hub. */
  hubId: string;
  /** Job slots (at least 1), bounded by the detected cores. Default 1. */
  slots?: number;
  labels?: Record<string, string>;
  /**
   * Where attempts get their private folders; outside the hub folder (else invalid_argument at
   * start()). Default: a new private folder, removed with the agent.
   */
  workRoot?: string;
  /** Reported at registration instead of the detected hardware. */
  hardware?: { cpuCores: number; memoryBytes: number; gpus?: { model: string; vramBytes: number }[] };
  /** Default: the scheduler's heartbeat interval. */
  heartbeatIntervalMs?: number;
  /** Default: a third of the scheduler's lease duration. */
  renewIntervalMs?: number;
  /** How often idle slots ask for work. Default 1000. */
  pollIntervalMs?: number;
  containerSearchPath?: string;
  /**
   * Native jobs (containerImage "native") run in a bubblewrap sandbox that sees only a
   * read-only system and their own input and output folders (no hub folder, no home, no
   * network). false: every native job fails, not retried. Default true.
   */
  nativeJobs?: boolean;
  /** The only programs native jobs may run (names on their PATH or absolute paths). Default: any. */
  allowedCommands?: string[];
  /** The bubblewrap to use. Default: bwrap on /usr/local/bin:/usr/bin:/bin; missing: native jobs fail. */
  bwrapProgram?: string;
  /**
   * DANGER: true runs native jobs WITHOUT A SANDBOX, as this process's user: a job can then read
   * operator.key and hub.db. Default false.
   */
  unsandboxedNative?: boolean;
  /**
   * The worker's secp256k1 private key: 64 hex digits ("0x" optional) or its 32 bytes. With it
   * the worker registers with the key's `address` label and signs each completion's proof of
   * execution (EIP-191), so a hub with requireWorkerSignatures takes its work. A malformed key
   * throws invalid_argument naming `workerKey` (the key is never shown).
   */
  workerKey?: string | Uint8Array;
  /** Runs every job instead of the library's process and container executors. */
  executor?: Executor;
  /** Told every time a job ends or the agent's state changes. */
  onEvent?: (line: string) => void;
}

export interface AgentStatus {
  state: 'idle' | 'running' | 'draining' | 'stopped';
  workerId: string;
  slots: number;
  running: { jobId: string; attempt: number; executor: string; elapsedMs: number }[];
  completed: number;
  failed: number;
  handedBack: number;
  energyMwh: number;
  energySource: EnergySource | null;
  utilisationPpm: number;
  powerDrawW: number;
}

/**
 * The runtime of one machine of a hub: registers it as a worker, heartbeats, claims jobs into
 * its slots, runs each (native processes, containers, or `executor`), renews leases and reports
 * energy and outputs. A started agent pins its hub and keeps Node's event loop alive until
 * stop(); hub.close() stops it first.
 */
export declare class WorkerAgent {
  private constructor();
  /** Registers the worker (online) and starts claiming. Rejects with conflict if started. */
  start(): Promise<WorkerRecord>;
  /** Stops claiming, waits up to graceMs for running jobs, hands the rest back. */
  drain(graceMs?: number): Promise<number>;
  /** Drains with graceMs, stops the agent and marks the worker offline. Idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** Resolves true once no job runs and no slot is claiming, false after timeoutMs. */
  waitIdle(timeoutMs: number): Promise<boolean>;
  status(): AgentStatus;
}

export declare class Scheduler {
  private constructor();
  options(): Required<SchedulerOptions>;
  setOptions(options: SchedulerOptions): Required<SchedulerOptions>;
  registerHub(spec: HubSpec | string): HubRecord;
  updateHub(spec: HubSpec | string): HubRecord;
  hub(hubId: string): HubRecord;
  hubs(): HubRecord[];
  setGridState(hubId: string, state: { signal: 'surplus' | 'normal' | 'throttle' | 'curtail'; powerBudgetW?: number; validUntil?: Instant }): HubRecord;
  setHeatDemand(hubId: string, watts: number, validUntil?: Instant): HubRecord;
  registerWorker(spec: WorkerSpec | string): WorkerRecord;
  /**
   * gpus[i] is the worker's i-th registered GPU. Throws invalid_argument naming e.g.
   * `gpus[1].vramUsed` (more GPUs than registered, VRAM above the GPU's); nothing is stored then.
   */
  heartbeat(
    workerId: string,
    beat?: { utilisationPpm?: number; powerDrawW?: number; gpus?: Partial<GpuStats>[] },
  ): WorkerRecord;
  setWorkerStatus(workerId: string, status: 'online' | 'draining' | 'offline'): WorkerRecord;
  worker(workerId: string): WorkerRecord;
  workers(hubId?: string): WorkerRecord[];
  submit(request: JobRequest | string, owner?: string): JobRecord;
  /** All or none. */
  submitMany(requests: Array<JobRequest | string>, owner?: string): JobRecord[];
  claim(workerId: string, max?: number): ClaimedJob[];
  renew(jobId: string, token: string): Lease;
  complete(jobId: string, token: string, completion?: Completion): JobRecord;
  /** All or none. */
  completeMany(completions: Array<Completion & { jobId: string; token: string }>): JobRecord[];
  fail(jobId: string, token: string, error: string, retryable?: boolean): JobRecord;
  cancel(jobId: string, by: string, reason?: string): JobRecord;
  requeue(jobId: string, by: string, reason?: string): JobRecord;
  tick(): number;
  job(jobId: string): JobRecord;
  /**
   * One page of jobs (limit default 50, at most 1000), continuing after the job whose id is
   * `after`. Jobs come in id order (submission order), except queued jobs listed by status,
   * which come in the order claims take them (highest aged priority first, then oldest).
   */
  /** `hubId`: jobs preferring or pinned to that hub and jobs run on it, each once; `workerId`:
   * jobs whose running or last attempt was leased to that worker; `deadLetter`:
   * only dead-lettered jobs (true) or only the others (false). */
  jobs(filter?: {
    hubId?: string; status?: JobStatus; owner?: string; workerId?: string; deadLetter?: boolean;
    limit?: number; after?: string;
  }): JobRecord[];
  events(jobId: string): JobEvent[];
  queueStats(hubId: string): QueueStats;
  explain(jobId: string): Placement[];
}

export declare class ContentStore {
  private constructor();
  /**
   * The seed's upload metadata (the "metadata" part of POST /api/storage, JSON text or its
   * bytes) decoded by the library's one codec, PutOptions::from_json: every field, the
   * library's defaults filled in (absent ones null), ready for put. Throws SihliconError
   * (invalid_argument) naming the field: an unknown one, a wrong type, text that is not one
   * strict JSON object. Ranges are checked by the put, as for options built in code.
   */
  static putOptionsFromJson(text: string | Bytes): DecodedPutOptions;
  /** Stores the bytes (read in place, not copied) as `owner`'s content. */
  put(data: Bytes, owner: string, options?: PutOptions): Promise<Manifest>;
  putFile(path: string, owner: string, options?: PutOptions): Promise<Manifest>;
  get(contentId: string, principal?: string, range?: { offset?: number; length?: number }): Promise<Buffer>;
  /**
   * Imports a CAR v1 (read in place): verifies every block against its CID and records a
   * manifest (with `options`) as `owner`'s for each root, which must be a UnixFS file; resolves
   * to the manifests in the header's order. A root is accepted only if the CAR holds every
   * block of its DAG or `owner` can already read it; otherwise invalid_argument naming the root
   * and the missing block, whether or not the hub holds that block. Declared UnixFS sizes must
   * be the real ones (integrity); quotas count the real bytes (quota_exceeded). Nothing is kept
   * on a rejection.
   */
  importCar(data: Bytes, owner: string, options?: PutOptions): Promise<Manifest[]>;
  /**
   * The content's DAG as a CAR v1 (header with the root, then every block once, depth-first,
   * each verified), for a `principal` who may read it (else not_found, as get).
   */
  exportCar(contentId: string, principal?: string): Promise<Buffer>;
  stat(contentId: string, principal?: string): Manifest;
  list(principal?: string, options?: { owner?: string; limit?: number }): Manifest[];
  remove(contentId: string, principal: string): void;
  moveToTier(contentId: string, principal: string, tier: StorageTier): Promise<Manifest>;
  /**
   * Membership changes by the acting `principal`: a member of the community, the founder of an
   * empty one adding itself, or the operator ('operator'); anyone else gets permission_denied.
   */
  addCommunityMember(communityId: string, member: string, principal: string): void;
  removeCommunityMember(communityId: string, member: string, principal: string): void;
  /** The communities of `member` that `principal` may see (all for itself or the operator). */
  communitiesOf(member: string, principal: string): string[];
  /** Only for content `principal` may read (else not_found, as for unknown content). */
  setReference(name: string, version: string, contentId: string, principal: string): NamedReference;
  /**
   * "name@version", or "name" for the latest version whose content `principal` may read;
   * not_found when there is none, or its content is unreadable or gone.
   */
  resolveReference(reference: string, principal?: string): NamedReference;
  /** The versions of `name` whose content `principal` may read, oldest first. */
  referenceVersions(name: string, principal?: string): NamedReference[];
  /** Deletes "name@version"; only the name's owner may (not_found if not visible). */
  removeReference(reference: string, principal: string): void;
  setQuota(owner: string, quota: { uploadBytesPerHour?: number; totalBytes?: number | null }): Quota;
  quota(owner: string): Quota;
  /** Removes blocks no manifest references; resolves to how many. */
  collectGarbage(): Promise<number>;
}

export declare class HeatLedger {
  private constructor();
  /**
   * The body of POST /api/heat/settle ({hubId, periodStart, periodEnd}, JSON text or its
   * bytes) decoded by the library's one codec, HeatPeriod::from_json: all three required, no
   * other member; the instants as ISO 8601 text. Throws SihliconError (invalid_argument)
   * naming the field.
   */
  static periodFromJson(text: string | Bytes): { hubId: string; periodStart: string; periodEnd: string };
  record(heat: ManualHeat): HeatRecord;
  recordMany(heat: ManualHeat[]): HeatRecord[];
  setCreditRate(hubId: string, ratePerKwh: Decimal, currency?: string, effectiveFrom?: Instant): CreditRate;
  creditRates(hubId: string): CreditRate[];
  credits(hubId: string, start?: Instant, end?: Instant): HeatCredit;
  stats(hubId: string): HeatStats;
  settle(hubId: string, periodStart: Instant, periodEnd: Instant): HeatSettlement;
  settlements(hubId: string): HeatSettlement[];
  series(hubId: string, resolution: 'hour' | 'day', from: Instant, to: Instant): HeatSeries;
  /** Throws NotFound (no hub there), Conflict (credits in different currencies). */
  groupStats(groupBy: 'site' | 'region', group: string): HeatGroupStats;
  groupSeries(groupBy: 'site' | 'region', group: string, resolution: 'hour' | 'day', from: Instant, to: Instant): HeatGroupSeries;
  unmetHeatDemandW(hubId: string, windowMs?: number): number;
}

export declare class Settlement {
  private constructor();
  /** The options in force (the operator key is never returned). */
  options(): Required<SettlementOptions>;
  operatorAddress(): string;
  /** Whom this hub's receipts may be signed by: the operator's address, then every earlier
   *  address that signed a finalized epoch. Pass it to verifyReceipt. */
  trustedSigners(): string[];
  priceOf(jobType: JobType): { amount: Decimal; currency: string };
  jobCharge(jobId: string): { amount: Decimal; currency: string; state: 'reserved' | 'charged' | 'voided' } | null;
  /** The whole charge of a job (demand multiplier and its signals); null for a free job. */
  chargeOf(jobId: string): JobCharge | null;
  /** <hub>/operator.key, or null when the host supplies the signer. */
  operatorKeyFile(): string | null;
  /**
   * Replaces the operator key with a new random one and returns its address. Throws conflict
   * when the current key signed a finalized epoch, unless replaceSigner.
   */
  generateOperatorKey(options?: { replaceSigner?: boolean }): string;
  /** As generateOperatorKey with `key` (0x and 64 hex digits). */
  importOperatorKey(key: string, options?: { replaceSigner?: boolean }): string;
  transfer(request: {
    id: string; debit: AccountRef; credit: AccountRef; amount: Decimal; currency?: string;
    kind?: string; reference?: string; pending?: boolean; timeoutAt?: Instant;
  }): Transfer;
  postPending(id: string, pendingId: string, amount?: Decimal, currency?: string): Transfer;
  voidPending(id: string, pendingId: string): Transfer;
  /** Expires the pending transfers whose timeout passed; returns how many. */
  expirePending(): number;
  /** A deposit from outside into a client's account (a client id) or a hub operator's. */
  topUp(account: string | { kind: 'client' | 'hub_operator'; owner: string; currency?: string },
    amount: Decimal, externalReference: string, currency?: string): Transfer;
  withdraw(kind: AccountKind, owner: string, amount: Decimal, id: string,
    options?: { externalReference?: string; currency?: string }): Transfer;
  account(ref: AccountRef): Account;
  accounts(kind?: AccountKind): Account[];
  history(ref: AccountRef, limit?: number): AccountEntry[];
  transferById(id: string): Transfer;
  /** Total deposits ever, per currency code. */
  deposits(): Record<string, Decimal>;
  withdrawals(): Record<string, Decimal>;
  /** Creates a transaction between hubs, reserving its total from the buyer's hub_operator account. */
  createMarketTransaction(request: MarketRequest): MarketTransaction;
  /** Pays the reservation to the seller. */
  settleMarketTransaction(id: string): MarketTransaction;
  /** Releases the reservation. */
  cancelMarketTransaction(id: string): MarketTransaction;
  marketTransaction(id: string): MarketTransaction;
  /** Newest (by id) first; `hub` as buyer or seller; limit 1..10,000 (100). */
  marketTransactions(filter?: { hub?: string; type?: MarketType; status?: MarketStatus; limit?: number }): MarketTransaction[];
  workerReputation(workerId: string): Reputation;
  hubReputation(hubId: string): Reputation;
  /** Every worker's (or hub's), best score first, then by id. */
  reputations(subject?: 'worker' | 'hub'): Reputation[];
  currentEpoch(): Epoch;
  /** Ends the active epoch, seals and signs it; resolves to the finalized epoch. */
  sealEpoch(): Promise<Epoch>;
  sealDueEpoch(): Promise<Epoch | null>;
  epoch(epochId: string): Epoch;
  epochs(): Epoch[];
  epochJobs(epochId: string): EpochJob[];
  /** Each payout's `status` is 'pending' until withdrawals (oldest first) pay it: 'paid'. */
  epochPayouts(epochId: string): Array<Record<string, unknown>>;
  epochBundle(epochId: string): EpochBundle;
  receipt(jobId: string): Receipt;
  index(): { epochs: Array<Record<string, unknown>> };
}

// ---- no hub needed ------------------------------------------------------------------------

/** Checks a receipt offline: signature, Merkle proof, root and leaf (its JSON read strictly:
 *  a repeated member name is invalid), then its signer against `trustedSigners` (an address or
 *  several, e.g. settlement.trustedSigners()). Without one the check is 'unverified' and
 *  `valid` is false. Never throws for a bad receipt; throws invalid_argument for a malformed
 *  address. */
export declare function verifyReceipt(receipt: Receipt | string, trustedSigners?: string | string[]): ReceiptCheck;
/** Parses JSON text (or a Buffer of it) with the library's one strict parser: a repeated
 *  member name, bytes that are not UTF-8 or a lone surrogate escape ("\ud800") throw
 *  invalid_argument (field 'body'). For hosts that read request bodies. */
export declare function parseJson(text: string | Uint8Array): unknown;
/** The CID IPFS (kubo, CIDv1) computes for the same bytes. */
export declare function computeCid(data: Bytes, options?: { chunkSize?: number; maxLinks?: number }): Promise<string>;
/** hex(sha256(jobId ‖ resultHash ‖ workerId)), the seed's proof of execution. */
export declare function proofOfExecution(jobId: string, resultHash: string, workerId: string): string;
/**
 * EIP-191 personal_sign of `message` (a string as UTF-8, or bytes) by the secp256k1 key
 * `privateKey` (64 hex digits, "0x" optional): "0x" + 130 hex digits, as ethers' signMessage.
 * A worker signs its proofOfExecution so; requireWorkerSignatures refuses completions without.
 */
export declare function eip191Sign(privateKey: string, message: string | Uint8Array): string;
/** Whether `signature` over `message` (EIP-191) was made by the key of `address`. */
export declare function eip191Verify(message: string | Uint8Array, signature: string, address: string): boolean;

// ---- the SDK-shaped client ----------------------------------------------------------------

/** SihliconClient's in-process form: `new SihliconClient({ hub, user })`. */
export interface SihliconClient {
  readonly hub: Hub;
  readonly user: string;
  readonly compute: {
    submit(request: JobRequest): Promise<JobRecord>;
    get(jobId: string): Promise<JobRecord>;
    list(query: { hubId: string; status?: JobStatus; limit?: number }): Promise<JobRecord[]>;
    cancel(jobId: string, reason?: string): Promise<JobRecord>;
  };
  readonly storage: {
    upload(file: Bytes | Blob, metadata?: PutOptions): Promise<Manifest>;
    get(contentId: string): Promise<Manifest>;
    download(contentId: string, range?: { offset?: number; length?: number }): Promise<Buffer>;
    list(query?: { owner?: string; limit?: number }): Promise<Manifest[]>;
    delete(contentId: string): Promise<void>;
  };
  readonly heat: {
    getCredits(hubId: string, period?: { start?: Instant; end?: Instant }): Promise<HeatCredit>;
    getStats(hubId: string): Promise<HeatStats>;
    settle(request: { hubId: string; periodStart: Instant; periodEnd: Instant }): Promise<HeatSettlement>;
  };
}

export interface HttpClientOptions {
  /** The contract's base URL: "https://host:port/api". */
  apiUrl: string;
  /** An API token (hub.createToken, `sihlicon token create`), sent as a Bearer token. */
  sessionToken: string;
  /** PEM certificates to trust for HTTPS (e.g. a self-signed server's). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** The longest wait for an answer, ms (default 60000). */
  timeoutMs?: number;
}

/**
 * The seed SDK's shape over HTTP (keep-alive), against a hub's server: each method resolves to
 * the contract's payload with its camelCase keys and rejects with a SihliconError carrying
 * status, error and details.
 */
export declare class SihliconHttpClient {
  constructor(options: HttpClientOptions);
  readonly apiUrl: string;
  readonly compute: {
    /** POST /api/compute → {success, jobId}. */
    submit(request: JobRequest): Promise<{ success: true; jobId: string }>;
    /** GET /api/compute/{jobId}. */
    get(jobId: string): Promise<JobRecord>;
    /** GET /api/compute?hubId=&status=&limit= (a client's own jobs only). */
    list(query?: { hubId?: string; status?: JobStatus; limit?: number }): Promise<JobRecord[]>;
    /** DELETE /api/compute/{jobId}. */
    cancel(jobId: string): Promise<{ success: true; message: string }>;
  };
  readonly storage: {
    /** POST /api/storage (multipart): a path on disk (streamed), bytes or a Blob. */
    upload(file: string | URL | Uint8Array | ArrayBuffer | Blob, metadata?: PutOptions): Promise<Manifest>;
    /** GET /api/storage?contentId=. */
    getManifest(contentId: string): Promise<Manifest>;
    /** DELETE /api/storage?contentId=. */
    delete(contentId: string): Promise<{ success: true; message: string }>;
  };
  readonly heat: {
    getCredits(query: { hubId: string; start?: Instant; end?: Instant }): Promise<HeatCredit>;
    getCredits(hubId: string, period?: { start?: Instant; end?: Instant }): Promise<HeatCredit>;
    getStats(query: { hubId: string } | string): Promise<HeatStats>;
    /** POST /api/heat/settle (operator). */
    settle(request: { hubId: string; periodStart: Instant; periodEnd: Instant }):
      Promise<{ success: true; settledCreditChf: number }>;
  };
  /** Closes the keep-alive connections (a later request opens a new one). */
  close(): void;
}

export declare const SihliconClient: {
  new (options: { hub: Hub; user: string }): SihliconClient;
  new (options: HttpClientOptions): SihliconHttpClient;
  readonly prototype: SihliconClient;
};

// ---- the hub on the network ------------------------------------------------------------------

export type TokenRole = 'client' | 'worker' | 'operator';

/** An API token as the hub stores it (never its secret). */
export interface TokenRecord {
  id: string;
  principal: string;
  role: TokenRole;
  /** The worker a worker token acts as; null for other roles. */
  workerId: string | null;
  createdAt: string;
  revokedAt: string | null;
}

/**
 * The options of Server: the library's codec (ServerOptions::from_json); absent keys take the
 * defaults. An unknown key or a value out of its type's range throws at construction (naming
 * it); the other checks reject start().
 */
/** A peer hub as listed: never the token this hub presents to it. */
export interface PeerRecord {
  hubId: string;
  url: string;
  /** ISO 8601. */
  addedAt: string;
}

export interface ServerOptions {
  /** An IPv4 or IPv6 literal (default "127.0.0.1"). */
  address?: string;
  /** 0 (default): a free port, see start() and port. */
  port?: number;
  /** PEM files of the certificate chain and its key: HTTPS (both or neither). */
  tlsCertificate?: string;
  tlsPrivateKey?: string;
  /** Connections served at once (default 512). */
  maxConnections?: number;
  /** Request line plus headers, bytes (default 16384, at least 1024). */
  headerLimit?: number;
  /** Request body, bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Timeouts in ms: reading a request (30000), writing an answer (30000), idle (60000). */
  readTimeoutMs?: number;
  writeTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** Threads serving connections (default 2, 1..1024). */
  threads?: number;
  /**
   * How often the server seals the epoch when it is due and expires pending transfers, on the
   * hub's clock, in ms (default 60000; 0: never; at most 86400000).
   */
  maintenanceIntervalMs?: number;
  /**
   * One line per request: `TIME PEER "METHOD TARGET" STATUS BYTES MSms PRINCIPAL`, and one per
   * maintenance action or failure: `TIME maintenance ...`.
   */
  accessLog?: (line: string) => void;
}

/**
 * The hub on the network (include/sihlicon/server.hpp): HTTP/1.1, HTTPS with a certificate.
 * A started server keeps the hub open and the process alive until stop() or hub.close(),
 * which stops the hub's servers first.
 */
export declare class Server {
  constructor(hub: Hub, options?: ServerOptions);
  /** Listens and serves; resolves to the port. Rejects for a bad option, a busy address. */
  start(): Promise<number>;
  /** The port listened on; 0 when not running. */
  readonly port: number;
  readonly running: boolean;
  /** "http(s)://ADDRESS:PORT". */
  readonly url: string;
  /** Lets the requests in flight finish, then closes everything. Idempotent. */
  stop(): Promise<void>;
}

declare const sihlicon: {
  Hub: typeof Hub;
  ManualClock: typeof ManualClock;
  Scheduler: typeof Scheduler;
  ContentStore: typeof ContentStore;
  HeatLedger: typeof HeatLedger;
  Settlement: typeof Settlement;
  WorkerAgent: typeof WorkerAgent;
  Server: typeof Server;
  verifyReceipt: typeof verifyReceipt;
  computeCid: typeof computeCid;
  proofOfExecution: typeof proofOfExecution;
  eip191Sign: typeof eip191Sign;
  eip191Verify: typeof eip191Verify;
  version: string;
  ErrorCode: typeof ErrorCode;
  SihliconError: typeof SihliconError;
  SihliconClient: typeof SihliconClient;
  SihliconHttpClient: typeof SihliconHttpClient;
};
export default sihlicon;
