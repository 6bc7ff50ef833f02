// SPDX-License-Identifier: Apache-2.0
//
// Settlement: the hub's money. A double-entry journal of accounts and transfers (the
// TigerBeetle model of SPECS.md), the job charges the scheduler makes through it, and epochs
// sealed with an RFC 9162 Merkle root over their completed jobs and an EIP-191 signature by
// the operator's key, from which anyone can check a job's receipt offline.
//
// Journal. An account is (kind, owner, currency); it is created on first use. Every transfer
// moves an amount from a debit account to a credit account and writes two entries that sum to
// zero (−amount, +amount), each with the account's balance after it. Only `external` accounts
// (the outside world: bank, chain, heat off-taker) may go below zero; for every other account
// available = balance − pending debits never goes below zero (insufficient_funds, nothing
// written). A transfer's id is its idempotency key: the same id with the same fields returns
// the stored transfer (`exists` true), with different fields throws conflict; it is never
// applied twice. A pending transfer reserves its amount at once (pending debits); it is
// resolved at most once: posted in full or in part (the rest released) or voided, and after
// its timeout it can only expire.
// Every balance, pending amount and balance_after is computed with checked int64 arithmetic
// before anything is written: a movement that would take one outside int64 (a top-up onto a
// balance near 2^63 - 1, an external account debited below -2^63) throws invalid_argument
// naming the account, field "amount", and writes nothing. The tables also CHECK that these
// columns hold integers (schema migration 11), so no path can store a REAL.
//
// Jobs (the hub setting chargeJobs, HubSettings::charge_jobs, off by default so a hub without
// clients runs free): submitting a job reserves its price (a pending client → escrow transfer, in
// the submit's own transaction; insufficient funds refuses the job and nothing is queued);
// completion posts it (the money waits in escrow for the epoch's payouts); a final failure or a
// cancellation voids it. A completion may carry the seed's proof of execution sha256(job_id ‖
// result_hash ‖ worker_id) and an EIP-191 worker signature over that proof's hex; a wrong one
// refuses the completion. Every completed job (charged or not) joins the active epoch.
//
// Demand pricing (the seeds' dynamic pricing): a job's price is its type's table price times a
// demand multiplier between the hub settings demand_min_ppm and demand_max_ppm, computed in
// the submission's transaction from the depth of the job's queue and the utilisation of the
// workers that could run it, and recorded on the job's charge (charge_of()). In ppm of 1×:
//   queue       = min(queued jobs ahead in the job's queue, demand_full_queue_depth)
//                 × 1,000,000 / demand_full_queue_depth
//   utilisation = CPU leased / CPU offered by the online and busy workers of the job's hub
//                 (every hub's for a job pinned to none), in ppm; 1,000,000 with no worker
//   demand      = (queue + utilisation) / 2
//   multiplier  = demand_min_ppm + (demand_max_ppm − demand_min_ppm) × demand / 1,000,000
//   price       = table price × multiplier / 1,000,000, rounded half up to a minor unit
// (every division rounds down unless said otherwise). The defaults keep the seed's flat
// price; e.g. 800,000 and 2,000,000 let it fall to 0.8× when idle and rise to 2× when busy.
// Shares of an epoch's revenue (hub settings): protocol 2 %, operator 5 %; the rest 70 % work
// (by jobs completed), 30 % readiness (by uptime within the epoch; by jobs if no worker was
// up).
//
// Marketplace: transactions between hubs (compute, storage, heat, energy) move money between
// the hubs' hub_operator accounts: creating one reserves its total (a pending transfer from the
// buyer to the seller), settling it posts the reservation, cancelling it voids it.
//
// Reputation: per worker and per hub, the success rate and on-time rate of its ended attempts
// and its uptime, from counters kept with the jobs' transitions and the workers' heartbeats.
// The scheduler breaks ties between otherwise equal workers with it (Scheduler::explain()).
//
// Epochs: active → sealing → finalized (see seal_epoch()). Heat settlements of the heat ledger
// post here (external/heat-offtaker → heat_credits/<hub>) in the settlement's transaction.
//
// Thread safety: a Settlement is safe to use from any number of threads, and several
// processes may use one hub: every decision is made inside one database transaction.
#pragma once

#include <sihlicon/crypto.hpp>
#include <sihlicon/export.hpp>
#include <sihlicon/money.hpp>
#include <sihlicon/time.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sihlicon {

namespace detail {
struct HubCore;
}
class Scheduler;
class ContentStore;
class HeatLedger;

enum class AccountKind {
    client,
    worker,
    hub_operator,
    escrow,
    treasury,
    protocol_fee,
    operator_fee,
    heat_credits,
    model_royalties,
    external,
};

// What a transfer is for, as the account history shows it (the seed's credit transaction
// kinds and those beyond them).
enum class TransferKind {
    deposit,
    withdrawal,
    job_charge,
    refund,
    payout,
    protocol_fee,
    operator_fee,
    heat_credit,
    royalty,
    transfer,
};

enum class TransferStatus { posted, pending, voided, expired };

SIHLICON_API std::string_view to_string(AccountKind value) noexcept;     // "hub_operator"
SIHLICON_API std::string_view to_string(TransferKind value) noexcept;    // "job_charge"
SIHLICON_API std::string_view to_string(TransferStatus value) noexcept;  // "pending"
SIHLICON_API AccountKind parse_account_kind(std::string_view text, std::string_view field = "kind");
SIHLICON_API TransferKind parse_transfer_kind(std::string_view text,
                                              std::string_view field = "kind");

struct SIHLICON_API AccountRef {
    AccountKind kind = AccountKind::client;
    // A client, worker or hub id, 1..128 bytes without control characters; "hub" for the
    // hub's own accounts (escrow, fees).
    std::string owner;
    Currency currency = Currency::of("USD");

    // "client/alice/USD": the account's id.
    std::string id() const;
    friend bool operator==(const AccountRef&, const AccountRef&) = default;
};

struct SIHLICON_API Account {
    AccountRef ref;
    Money balance{0, Currency::of("USD")};          // posted
    Money pending_debits{0, Currency::of("USD")};   // reserved by pending transfers
    Money pending_credits{0, Currency::of("USD")};  // promised by pending transfers
    Timestamp created_at;

    // balance − pending debits: what may still be debited.
    Money available() const;
    // {"account", "kind", "owner", "currency", "balance", "pendingDebits", "pendingCredits",
    //  "available"} with amounts as exact decimal strings.
    std::string to_json() const;
};

// The body of a client top-up (`POST /api/v1/clients/{clientId}/topup`): {"amount": exact
// decimal text in major units of the hub's currency (Money::parse: "25.00"; a JSON number is
// refused, so no amount is ever rounded through a double), "externalReference": the deposit's
// reference (e.g. an L1 transaction hash), the top-up's idempotency key}. Both required, no
// other member.
struct SIHLICON_API TopUpRequest {
    Money amount{0, Currency::of("USD")};
    std::string external_reference;

    // The longest reference read (bytes); Settlement::top_up checks the rest.
    static constexpr std::size_t kMaxReferenceBytes = 256;

    // Throws Error::invalid naming the field (missing, mistyped or unknown member, an amount
    // Money::parse refuses in `currency`, a body that is not a strict JSON object).
    static TopUpRequest from_json(std::string_view json, Currency currency);
};

struct TransferRequest {
    std::string id;  // idempotency key, [A-Za-z0-9._:@/-]{1,200}
    AccountRef debit;
    AccountRef credit;
    Money amount{0, Currency::of("USD")};  // > 0, in the accounts' currency
    TransferKind kind = TransferKind::transfer;
    std::string reference;                // a job id, an L1 transaction hash, ...
    bool pending = false;                 // two-phase: reserve now, post or void later
    std::optional<Timestamp> timeout_at;  // pending only: afterwards it can only expire
};

struct SIHLICON_API Transfer {
    std::string id;
    std::string debit_account;
    std::string credit_account;
    Money amount{0, Currency::of("USD")};
    TransferKind kind = TransferKind::transfer;
    std::string reference;
    TransferStatus status = TransferStatus::posted;
    std::optional<std::string> pending_id;  // a post or void: the pending transfer it resolved
    std::optional<Timestamp> timeout_at;
    Timestamp created_at;
    bool exists = false;  // true when this call found the transfer already stored

    std::string to_json() const;
};

// One line of an account's history: a posted movement and the balance after it.
struct SIHLICON_API AccountEntry {
    std::int64_t sequence = 0;
    std::string transfer_id;
    TransferKind kind = TransferKind::transfer;
    Money amount{0, Currency::of("USD")};  // signed: + credit, − debit
    Money balance_after{0, Currency::of("USD")};
    std::string reference;
    Timestamp at;

    // The seed's credit transaction shape: {"txType", "amount", "balanceAfter", "reference",
    //  "transferId", "sequence", "createdAt"}.
    std::string to_json() const;
};

enum class EpochStatus { active, sealing, finalized };
SIHLICON_API std::string_view to_string(EpochStatus value) noexcept;

struct SIHLICON_API EpochRecord {
    std::string id;  // "epoch-000001"
    std::int64_t number = 0;
    EpochStatus status = EpochStatus::active;
    Timestamp start;
    std::optional<Timestamp> end;
    std::int64_t jobs_count = 0;
    std::string jobs_merkle_root;  // hex, once sealed
    Money revenue{0, Currency::of("USD")};
    std::string signer;                                // EIP-55 address
    std::string signature;                             // 0x…, over SUMMARY.json
    std::map<std::string, std::string> artifact_cids;  // file name → CID
    std::string summary_json;                          // the exact signed bytes
    // What the epoch paid its workers (the sum of its payouts); 0 until finalized.
    Money total_distributed{0, Currency::of("USD")};
    // The jobs_merkle_root of the epoch before this one, as this one's SUMMARY.json signs it
    // ("previous_root"): empty for epoch 1 (null in JSON) and until the previous one is
    // finalized. A chain of bundles whose previous roots do not link shows a missing epoch.
    std::string previous_root;

    // The seed's epoch shape: {"epoch_id", "status", "start_time", "end_time", "jobs_count",
    // "jobs_merkle_root", "total_revenue", "total_distributed", "previous_root" (null for
    // epoch 1), "signature", "signer", "artifacts"}.
    std::string to_json() const;
};

// A payout is `pending` while it sits in the worker's account and `paid` once withdrawn: paid
// out of the hub (Settlement::withdraw, whose external reference records where it was posted,
// e.g. an L1 transaction). Withdrawals pay a worker's payouts oldest first: a payout is paid
// when the worker's withdrawals in its currency cover it and every earlier one. A payout of
// nothing is paid.
enum class PayoutStatus { pending, paid };
SIHLICON_API std::string_view to_string(PayoutStatus value) noexcept;

struct SIHLICON_API Payout {
    std::string epoch_id;
    std::string worker_id;
    Money work_share{0, Currency::of("USD")};
    Money readiness_share{0, Currency::of("USD")};
    std::int64_t jobs_completed = 0;
    // The worker's uptime within the epoch, the same figure its Reputation counts (time
    // covered by heartbeats no further apart than the missed-heartbeat limit); the readiness
    // pool is shared in proportion to it.
    std::int64_t uptime_ms = 0;
    PayoutStatus status = PayoutStatus::pending;  // as of when it was read

    Money total() const { return work_share + readiness_share; }
    // {"epoch_id", "worker", "work_share", "readiness_share", "total_payout", "currency",
    //  "jobs_completed", "uptime_ms", "status"}.
    std::string to_json() const;
};

// The files of a sealed epoch, byte for byte as stored and signed.
struct EpochBundle {
    std::string jobs_json;
    std::string agents_json;
    std::string summary_json;
    std::string signature_txt;
};

// What checking a receipt established. A receipt carries its own signer, so a signature that
// merely matches it proves nothing (anyone can sign a made-up epoch with a fresh key): only a
// signer the caller trusts makes a receipt valid.
enum class ReceiptStatus : int {
    valid = 0,       // the proof holds and a trusted signer signed the summary
    unverified = 1,  // the proof holds, but no trusted signer was given to check the signer by
    invalid = 2,     // malformed, tampered, or signed by a key that is not trusted
};

// "valid", "unverified", "invalid".
SIHLICON_API std::string_view to_string(ReceiptStatus status) noexcept;

struct ReceiptCheck {
    ReceiptStatus status = ReceiptStatus::invalid;
    bool valid = false;           // status == valid, and only then
    bool signer_trusted = false;  // `signer` is one of the trusted signers
    std::string problem;          // why not valid; empty only when valid
    std::string job_id;
    std::string epoch_id;
    std::string signer;  // the address that signed the summary (EIP-55), once recovered
};

// The settlement's per-process options. What decides money for the whole hub (charging,
// prices, demand pricing, fees, the 70/30 split, the epoch length, requireWorkerSignatures)
// is a stored hub setting (include/sihlicon/settings.hpp, Hub::settings), read at use.
struct SettlementOptions {
    // The operator's key: a host-supplied signer, else the 0600 file `operator.key` in the
    // hub directory (generated when absent).
    std::shared_ptr<const crypto::Signer> signer;
};

// The proof of execution of the seed: hex of sha256(job_id ‖ result_hash ‖ worker_id).
SIHLICON_API std::string proof_of_execution(std::string_view job_id, std::string_view result_hash,
                                            std::string_view worker_id);

// The canonical jobs.json leaf of one job record (RFC 8785 JCS text) — the bytes a receipt's
// leaf hash is computed over.
struct SIHLICON_API EpochJob {
    std::string job_id;
    std::string client;
    std::string worker;
    std::string job_type;
    std::string hub;
    Money fee{0, Currency::of("USD")};
    std::string result_hash;
    std::string poe_hash;
    Timestamp completed_at;

    // {"client","completed_at","currency","fee","hub","job_id","job_type","poe_hash",
    //  "result_hash","worker"} in JCS form; fee in minor units, completed_at in ms.
    std::string leaf() const;
};

// Builds the four files of an epoch from its jobs (in job-id order), its payouts and its
// treasury figures, and signs SUMMARY.json with `signer`. Pure: the same input and key give
// the same bytes. Throws Error::invalid if jobs are not in strictly increasing id order.
struct EpochFigures {
    std::string epoch_id;
    Timestamp start;
    Timestamp end;
    Money revenue{0, Currency::of("USD")};
    Money protocol_fee{0, Currency::of("USD")};
    Money operator_fee{0, Currency::of("USD")};
    Money work_pool{0, Currency::of("USD")};
    Money readiness_pool{0, Currency::of("USD")};
    std::vector<Payout> payouts;
    // The previous epoch's jobs_merkle_root, signed as "previous_root" in SUMMARY.json (null
    // when empty: epoch 1). SUMMARY.json also signs "total_distributed", the payouts' sum.
    std::string previous_root;
};
SIHLICON_API EpochBundle build_epoch_bundle(const std::vector<EpochJob>& jobs,
                                            const EpochFigures& figures,
                                            const crypto::Signer& signer);

// Checks a receipt document (as Settlement::receipt() writes it) with no hub: the signature
// over the embedded SUMMARY.json recovers the embedded signer; the summary's jobs_merkle_root
// is the receipt's root and its jobs_count the tree size; the leaf names the receipt's job
// and its inclusion proof leads to the root. Every JSON text in it (the receipt, its summary,
// its leaf) is read strictly (no duplicate member names, valid UTF-8). Then the signer decides:
//   - one of `trusted_signers`: status valid (valid and signer_trusted true);
//   - `trusted_signers` empty: status unverified, valid false: the receipt is consistent, but
//     only with the key it carries, which anyone can make;
//   - otherwise: status invalid, the problem naming the signer and the trusted addresses.
// Whom to trust comes from outside the receipt: an operator's published address, or a hub's
// Settlement::trusted_signers(). Never throws: a malformed document is an invalid check with
// the problem named.
SIHLICON_API ReceiptCheck verify_receipt(std::string_view receipt_json,
                                         const std::vector<crypto::Address>& trusted_signers);
// verify_receipt with the one trusted signer `trusted_signer`.
SIHLICON_API ReceiptCheck verify_receipt(std::string_view receipt_json,
                                         const crypto::Address& trusted_signer);

// A verifier that remembers summaries whose signature it already checked, so receipts of one
// epoch cost one signature recovery in all. Not thread-safe; use one per thread.
class SIHLICON_API ReceiptVerifier {
  public:
    // As verify_receipt.
    ReceiptCheck verify(std::string_view receipt_json,
                        const std::vector<crypto::Address>& trusted_signers);
    ReceiptCheck verify(std::string_view receipt_json, const crypto::Address& trusted_signer);

  private:
    // What a checked summary established, by its signature's hex.
    struct VerifiedSummary {
        std::string summary;
        crypto::Address address;
        std::string signer_text;  // as the receipts write it
        std::string signer;       // EIP-55
        std::string epoch_id;
        std::string root;
        std::int64_t jobs_count = 0;
    };
    std::map<std::string, VerifiedSummary, std::less<>> verified_;
};

// The charge of a job submitted with charging on: the table price, the demand multiplier and
// the signals it came from, the price reserved, and the reservation's state.
struct SIHLICON_API JobCharge {
    std::string job_id;
    std::string client;
    std::string job_type;
    Money base_price{0, Currency::of("USD")};  // the price table's
    std::int64_t multiplier_ppm = 1'000'000;   // demand multiplier, ppm of 1×
    Money price{0, Currency::of("USD")};       // base_price × multiplier, reserved and charged
    std::int64_t queue_depth = 0;              // queued jobs ahead of it (capped, see options)
    std::int64_t utilisation_ppm = 0;          // of the workers that could run it
    std::string status;                        // "reserved", "charged", "voided"

    // {"jobId", "client", "jobType", "basePrice", "multiplierPpm", "price", "currency",
    //  "queueDepth", "utilisationPpm", "status"}, amounts as exact decimal strings.
    std::string to_json() const;
};

// ---- marketplace ----------------------------------------------------------------------------

// What hubs trade (the Sihlicon seed's transaction types). Quantities are integers in the
// type's unit: compute "job", storage "GB-month", heat and energy "Wh".
enum class MarketType { compute, storage, heat, energy };
// pending: created, its total reserved from the buyer; settled: paid to the seller;
// cancelled: the reservation released.
enum class MarketStatus { pending, settled, cancelled };

SIHLICON_API std::string_view to_string(MarketType value) noexcept;    // "heat"
SIHLICON_API std::string_view to_string(MarketStatus value) noexcept;  // "settled"
SIHLICON_API std::string_view unit_of(MarketType value) noexcept;      // "Wh"
SIHLICON_API MarketType parse_market_type(std::string_view text, std::string_view field = "type");
SIHLICON_API MarketStatus parse_market_status(std::string_view text,
                                              std::string_view field = "status");

struct MarketRequest {
    std::string id;  // idempotency key, [A-Za-z0-9._:@/-]{1,200}
    MarketType type = MarketType::compute;
    std::string buyer_hub;                     // a registered hub
    std::string seller_hub;                    // another registered hub
    std::int64_t quantity = 0;                 // > 0, in unit_of(type)
    Money unit_price{0, Currency::of("USD")};  // > 0; quantity × unit_price must fit int64
    std::string reference;                     // optional: an order, a heat settlement, ...
};

struct SIHLICON_API MarketTransaction {
    std::string id;
    MarketType type = MarketType::compute;
    std::string buyer_hub;
    std::string seller_hub;
    std::int64_t quantity = 0;
    std::string unit;
    Money unit_price{0, Currency::of("USD")};
    Money total{0, Currency::of("USD")};  // quantity × unit_price, exactly
    MarketStatus status = MarketStatus::pending;
    std::string reference;
    std::string transfer_id;                   // the pending transfer that reserved the total
    std::optional<std::string> resolution_id;  // the transfer that posted or voided it
    Timestamp created_at;
    std::optional<Timestamp> resolved_at;
    bool exists = false;  // true when this call found the transaction already stored

    // {"id", "type", "buyerHub", "sellerHub", "quantity", "unit", "unitPrice", "total",
    //  "currency", "status", "reference", "transferId", "resolutionId", "createdAt",
    //  "resolvedAt"}; amounts as exact decimal strings, absent values as null.
    std::string to_json() const;
};

struct MarketFilter {
    std::optional<std::string> hub;  // as buyer or as seller
    std::optional<MarketType> type;
    std::optional<MarketStatus> status;
    std::int64_t limit = 100;  // 1..10,000; newest (by id) first
};

// ---- reputation ---------------------------------------------------------------------------

enum class ReputationSubject { worker, hub };
SIHLICON_API std::string_view to_string(ReputationSubject value) noexcept;  // "worker"

// A worker's or hub's record. An attempt counts when it ends on the worker: completed (a
// success), failed, retried or timed out (a failure); a cancellation does not count. An
// attempt is on time when it completed within its job's timeout and, if the job has a
// deadline, by it. Uptime is the time covered by heartbeats no further apart than the
// scheduler's offline threshold (plus the time since the last one while that is within it), of
// the time since registration; Payout::uptime_ms is the same figure within an epoch. A hub's
// figures are the sums of its workers'. Rates are in ppm; with nothing to measure a rate is 0 (a
// newcomer earns its reputation).
struct SIHLICON_API Reputation {
    ReputationSubject subject = ReputationSubject::worker;
    std::string id;
    std::int64_t attempts = 0;
    std::int64_t successes = 0;
    std::int64_t on_time = 0;
    std::int64_t uptime_ms = 0;
    std::int64_t observed_ms = 0;       // since registration
    std::int64_t success_rate_ppm = 0;  // successes / attempts
    std::int64_t on_time_rate_ppm = 0;  // on_time / successes
    std::int64_t uptime_ppm = 0;        // uptime_ms / observed_ms
    // (success rate + on-time rate + uptime) / 3: the scheduler's tie-breaker.
    std::int64_t score_ppm = 0;

    // {"subject", "id", "attempts", "successes", "onTime", "uptimeMs", "observedMs",
    //  "successRatePpm", "onTimeRatePpm", "uptimePpm", "scorePpm"}.
    std::string to_json() const;
};

class SIHLICON_API Settlement {
  public:
    // Constructed by the Hub after its scheduler, content store and heat ledger; use
    // Hub::settlement(). Installs itself into the scheduler and the heat ledger.
    // Throws what loading the operator key throws (see SettlementOptions::signer).
    Settlement(detail::HubCore& core, Scheduler& scheduler, ContentStore& content_store,
               HeatLedger& heat_ledger, SettlementOptions options);
    ~Settlement();
    Settlement(const Settlement&) = delete;
    Settlement& operator=(const Settlement&) = delete;

    const SettlementOptions& options() const;
    // The operator's address (signer of every epoch sealed from now on).
    crypto::Address operator_address() const;
    // Whom a receipt of this hub may be signed by: the operator's address first, then every
    // other address that signed one of its finalized epochs (earlier operator keys), in the
    // order they first signed. Pass it to verify_receipt to check this hub's receipts.
    std::vector<crypto::Address> trusted_signers() const;
    // The price of a job of `job_type` ("ocr"): the table's entry, else the default.
    Money price_of(std::string_view job_type) const;

    // The price recorded on a job when it was submitted with charging on, and its charge's
    // state ("reserved", "charged", "voided"); none for a free job or an unknown id.
    std::optional<std::pair<Money, std::string>> job_charge(std::string_view job_id) const;
    // The whole charge of a job (base price, demand multiplier, price, state); none for a free
    // job or an unknown id.
    std::optional<JobCharge> charge_of(std::string_view job_id) const;

    // ---- the operator key ----
    // The key file the hub signs with (<hub>/operator.key); empty with a host-supplied signer.
    std::filesystem::path operator_key_file() const;
    // Replaces the operator key with a new random key (generate) or with `key` (import):
    // writes the key file with mode 0600 (a temporary file, fsynced, renamed over the old one)
    // and signs every later epoch with the new key; sealed epochs keep their signature, so
    // their receipts stay valid. Returns the new address. Throws conflict when a host-supplied
    // signer is in use, or when the current key signed a finalized epoch and `replace_signer`
    // is false (an explorer would see the operator's address change); Error(io) when the file
    // cannot be written (the old key stays). Other processes with this hub open keep the old
    // key until they reopen it.
    crypto::Address generate_operator_key(bool replace_signer = false);
    crypto::Address import_operator_key(const crypto::PrivateKey& key, bool replace_signer = false);
    // The same acting as `by` (signer rotation is the operator's): throws permission_denied
    // (field "by"; the key stays) unless `by` is kOperatorPrincipal. `replace_signer` has no
    // default here, so a principal is never taken for it.
    crypto::Address generate_operator_key(std::string_view by, bool replace_signer);
    crypto::Address import_operator_key(std::string_view by, const crypto::PrivateKey& key,
                                        bool replace_signer);

    // ---- journal ----
    // Creates a transfer (see the file comment). Throws invalid_argument (a bad field, or a
    // balance or pending amount of either account that would leave int64, naming the
    // account), conflict (the id exists with other fields), insufficient_funds (nothing
    // written).
    Transfer transfer(const TransferRequest& request);
    // Posts the pending transfer `pending_id`, capturing `amount` (none: all of it) and
    // releasing the rest, as transfer `id`. Throws not_found (no such pending transfer),
    // conflict (already resolved, expired, or `id` used otherwise), invalid_argument (amount
    // above the pending amount or not positive, or a balance that would leave int64).
    Transfer post_pending(std::string_view id, std::string_view pending_id,
                          std::optional<Money> amount = std::nullopt);
    // Voids the pending transfer, releasing all of it. Throws as post_pending().
    Transfer void_pending(std::string_view id, std::string_view pending_id);
    // Expires the pending transfers whose timeout passed. Returns how many.
    std::int64_t expire_pending();

    // A client top-up from outside (e.g. an L1 transaction hash as `external_reference`):
    // idempotent on the reference: a repeat with the same client and amount returns the first
    // transfer; with other values throws conflict. Throws invalid_argument naming the account
    // if the balance would exceed 2^63 - 1 minor units (nothing written).
    Transfer top_up(std::string_view client, const Money& amount,
                    std::string_view external_reference);
    // Funds a client's or a hub operator's account (`account.kind` client or hub_operator)
    // from outside, idempotent on the reference as above. Throws invalid_argument for another
    // kind.
    Transfer top_up(const AccountRef& account, const Money& amount,
                    std::string_view external_reference);
    // Pays `amount` out of a worker's (or client's) account to the outside world under the
    // idempotency key `id`. Throws insufficient_funds.
    Transfer withdraw(AccountKind kind, std::string_view owner, const Money& amount,
                      std::string_view id, std::string_view external_reference = {});

    // top_up and withdraw acting as `by` (what every remote edge calls, e.g. POST
    // /api/v1/clients/{clientId}/topup): money moves in and out of the hub only by its
    // operator. Throw permission_denied (field "by", nothing written) unless `by` is
    // kOperatorPrincipal, before anything else is checked; then as the forms above.
    // The forms above, without a principal, are the in-process host's and act as the operator
    // (whoever holds the Hub object, and so its files, administers the hub). transfer,
    // post_pending, void_pending and expire_pending are the in-process host's journal only:
    // no remote edge exposes them.
    Transfer top_up(std::string_view by, std::string_view client, const Money& amount,
                    std::string_view external_reference);
    Transfer top_up(std::string_view by, const AccountRef& account, const Money& amount,
                    std::string_view external_reference);
    Transfer withdraw(std::string_view by, AccountKind kind, std::string_view owner,
                      const Money& amount, std::string_view id,
                      std::string_view external_reference = {});

    // Throws not_found if the account was never used.
    Account account(const AccountRef& ref) const;
    std::vector<Account> accounts(std::optional<AccountKind> kind = std::nullopt) const;
    // Newest first, at most `limit` (1..10,000).
    std::vector<AccountEntry> history(const AccountRef& ref, std::int64_t limit = 100) const;
    // The same reads for an acting principal (what every remote edge calls): the operator
    // (kOperatorPrincipal, principal.hpp) reads any account; anyone else only its own client
    // account (kind client, owner the principal). Any other account throws not_found worded
    // exactly as an account never used ("no account 'ID'", field "account"): no oracle.
    Account account(const AccountRef& ref, std::string_view principal) const;
    std::vector<AccountEntry> history(const AccountRef& ref, std::int64_t limit,
                                      std::string_view principal) const;
    Transfer transfer_by_id(std::string_view id) const;  // throws not_found
    // Total deposits and withdrawals ever, per currency code. Throws Error(invalid_argument)
    // naming the currency if a total lies outside int64 (each amount fits; their sum may not).
    std::map<std::string, std::int64_t> deposits() const;
    std::map<std::string, std::int64_t> withdrawals() const;

    // ---- marketplace ----
    // Creates a transaction between two hubs and reserves its total from the buyer's
    // hub_operator account (a pending transfer "market:<id>:reserve" to the seller's), in one
    // transaction. The id is an idempotency key: the same id and fields return the stored
    // transaction (`exists` true), other fields throw conflict. Throws invalid_argument (a bad
    // field, buyer = seller, or a total that overflows), not_found (an unknown hub),
    // insufficient_funds (the buyer cannot cover the total; nothing written).
    MarketTransaction create_market_transaction(const MarketRequest& request);
    // Settles a pending transaction: posts its reservation, paying the seller. Settling a
    // settled one returns it (`exists` true). Throws not_found, conflict (cancelled).
    MarketTransaction settle_market_transaction(std::string_view id);
    // Cancels a pending transaction: voids its reservation. Cancelling a cancelled one returns
    // it (`exists` true). Throws not_found, conflict (settled).
    MarketTransaction cancel_market_transaction(std::string_view id);
    // The three above acting as `by`: throw permission_denied (field "by", nothing written)
    // unless `by` is kOperatorPrincipal (the hub's money moves only by its operator). The forms
    // without a principal are the in-process host's and act as the operator.
    MarketTransaction create_market_transaction(std::string_view by, const MarketRequest& request);
    MarketTransaction settle_market_transaction(std::string_view by, std::string_view id);
    MarketTransaction cancel_market_transaction(std::string_view by, std::string_view id);
    MarketTransaction market_transaction(std::string_view id) const;  // throws not_found
    // Throws invalid_argument for a limit outside 1..10,000.
    std::vector<MarketTransaction> market_transactions(const MarketFilter& filter = {}) const;

    // ---- reputation ----
    // Throws not_found for an unknown worker or hub.
    Reputation worker_reputation(std::string_view worker_id) const;
    Reputation hub_reputation(std::string_view hub_id) const;
    // Every worker's (or hub's), best score first, then by id.
    std::vector<Reputation> reputations(ReputationSubject subject) const;

    // ---- epochs ----
    // The active epoch (created at first use, starting at the hub's first use of settlement).
    EpochRecord current_epoch() const;
    // Seals: if an epoch is `sealing` (a seal interrupted by a crash), finishes that one;
    // otherwise ends the active one now, opens the next, and seals it. Sealing collects the
    // epoch's completed jobs in job-id order, writes and signs the bundle, stores its files
    // in the content store, allocates and posts the payouts (transfer ids derived from the
    // epoch id, so a resumed seal never pays twice) and marks it finalized, in one
    // transaction. Returns the finalized epoch.
    EpochRecord seal_epoch();
    // Seals the active epoch if it is older than the hub setting epochDurationMs (or finishes an
    // interrupted seal). Returns it, or none. The check and the seal's beginning are one
    // transaction, so processes that call this at once (two servers' maintenance on one hub,
    // server.hpp) seal each due epoch once: the others get none, or the same epoch when they
    // find its seal still in progress (finishing it changes nothing more).
    std::optional<EpochRecord> seal_due_epoch();
    // The two above acting as `by` (what every remote edge calls): throw permission_denied
    // (field "by", nothing sealed) unless `by` is kOperatorPrincipal. The forms without a
    // principal are the in-process host's and act as the operator.
    EpochRecord seal_epoch(std::string_view by);
    std::optional<EpochRecord> seal_due_epoch(std::string_view by);
    EpochRecord epoch(std::string_view epoch_id) const;  // throws not_found
    std::vector<EpochRecord> epochs() const;             // oldest first
    std::vector<EpochJob> epoch_jobs(std::string_view epoch_id) const;
    std::vector<Payout> epoch_payouts(std::string_view epoch_id) const;
    // The stored files of a finalized epoch. Throws not_found / conflict (not finalized).
    EpochBundle epoch_bundle(std::string_view epoch_id) const;
    // The receipt of a job in a finalized epoch: {"job_id", "epoch_id", "leaf", "leaf_index",
    // "tree_size", "proof": [hex], "root", "summary", "signature", "signer"}.
    // Throws not_found (job not in any epoch), conflict (its epoch is not finalized yet).
    // The first receipt of an epoch rebuilds its Merkle tree from the jobs (about a second for
    // a million); the tree of the epoch last asked for stays in memory (64 bytes a job), so the
    // receipts of that epoch that follow only look up the job and its place.
    std::string receipt(std::string_view job_id) const;
    // {"epochs": [...]} for an explorer (the seed's SwarmOrb index.json).
    std::string index_json() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    friend struct SettlementAccess;
};

}  // namespace sihlicon
