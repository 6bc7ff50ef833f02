// SPDX-License-Identifier: Apache-2.0
#include "settlement/journal.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>

namespace sihlicon::settlement {

namespace {

// A transfer's phase: a one-phase movement, a pending reservation, or the resolution of one.
constexpr std::string_view kSingle = "single";
constexpr std::string_view kPending = "pending";
constexpr std::string_view kPost = "post";
constexpr std::string_view kVoid = "void";

TransferStatus parse_status(std::string_view text) {
    if (text == "posted") {
        return TransferStatus::posted;
    }
    if (text == "pending") {
        return TransferStatus::pending;
    }
    if (text == "voided") {
        return TransferStatus::voided;
    }
    if (text == "expired") {
        return TransferStatus::expired;
    }
    throw Error(ErrorCode::integrity, fmt::format("unknown transfer status '{}'", text));
}

constexpr std::string_view kTransferColumns =
    "id, debit_account, credit_account, amount, currency, kind, reference, status, pending_id, "
    "timeout_at, created_at, phase";

struct StoredTransfer {
    Transfer transfer;
    std::string phase;
};

std::optional<StoredTransfer> find_stored(store::Transaction& tx, std::string_view id) {
    auto row = tx.prepare(
        fmt::format("SELECT {} FROM settlement_transfers WHERE id = ?", kTransferColumns));
    row.bind_all(id);
    if (!row.step()) {
        return std::nullopt;
    }
    StoredTransfer stored;
    Transfer& t = stored.transfer;
    t.id = row.column_text(0);
    t.debit_account = row.column_text(1);
    t.credit_account = row.column_text(2);
    t.amount = Money(row.column_int64(3), Currency::of(row.column_text(4)));
    t.kind = parse_transfer_kind(row.column_text(5));
    t.reference = row.column_text(6);
    t.status = parse_status(row.column_text(7));
    t.pending_id = row.column_optional_text(8);
    if (const auto timeout = row.column_optional_int64(9)) {
        t.timeout_at = Timestamp::from_ms(*timeout);
    }
    t.created_at = Timestamp::from_ms(row.column_int64(10));
    stored.phase = row.column_text(11);
    return stored;
}

void ensure_account(store::Transaction& tx, const AccountRef& ref, Timestamp now) {
    tx.prepare(
          "INSERT INTO settlement_accounts (id, kind, owner, currency, created_at) "
          "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING")
        .bind_all(ref.id(), to_string(ref.kind), ref.owner, ref.currency.code(), now.ms())
        .run();
}

struct Balances {
    std::string id;
    std::string kind;
    std::int64_t balance = 0;
    std::int64_t pending_debits = 0;
    std::int64_t pending_credits = 0;
};

Balances balances_of(store::Transaction& tx, std::string_view account_id) {
    auto row = tx.prepare(
        "SELECT kind, balance, pending_debits, pending_credits FROM settlement_accounts "
        "WHERE id = ?");
    row.bind_all(account_id);
    if (!row.step()) {
        throw Error(ErrorCode::not_found, fmt::format("no account '{}'", account_id), "account");
    }
    return {std::string(account_id), row.column_text(0), row.column_int64(1), row.column_int64(2),
            row.column_int64(3)};
}

// Returns `value + delta`, the new `figure` ("balance", "pending debits", ...) of `account`.
// Throws Error(invalid_argument) naming the account, its figure and the amount if the result
// lies outside int64: every stored balance is computed here, before it is written, and
// never by SQL arithmetic (SQLite turns an overflowing integer sum into a REAL).
std::int64_t moved(const Balances& account, std::string_view figure, std::int64_t value,
                   std::int64_t delta, const Currency& currency) {
    std::int64_t result = 0;
    if (__builtin_add_overflow(value, delta, &result)) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("amount: account '{}' has {} {}; adding {} overflows the signed "
                                "64-bit range, nothing was written",
                                account.id, figure, Money(value, currency).to_string(),
                                Money(delta, currency).to_string()),
                    "amount");
    }
    return result;
}

// The new balances of a posted movement of `amount` from `debit` to `credit`.
struct Posting {
    std::int64_t debit_balance = 0;
    std::int64_t credit_balance = 0;
};

Posting plan_posting(const Balances& debit, const Balances& credit, const Money& amount) {
    return {moved(debit, "a balance of", debit.balance, -amount.minor_units(), amount.currency()),
            moved(credit, "a balance of", credit.balance, amount.minor_units(), amount.currency())};
}

void post_entry(store::Transaction& tx, std::string_view transfer_id, std::string_view account_id,
                std::int64_t amount, std::int64_t balance_after, Timestamp now) {
    tx.prepare("UPDATE settlement_accounts SET balance = ? WHERE id = ?")
        .bind_all(balance_after, account_id)
        .run();
    tx.prepare(
          "INSERT INTO settlement_entries (transfer_id, account_id, amount, balance_after, at) "
          "VALUES (?, ?, ?, ?, ?)")
        .bind_all(transfer_id, account_id, amount, balance_after, now.ms())
        .run();
}

void post(store::Transaction& tx, const Transfer& t, const Posting& posting, Timestamp now) {
    const std::int64_t amount = t.amount.minor_units();
    post_entry(tx, t.id, t.debit_account, -amount, posting.debit_balance, now);
    post_entry(tx, t.id, t.credit_account, amount, posting.credit_balance, now);
}

void set_pending(store::Transaction& tx, std::string_view debit, std::int64_t pending_debits,
                 std::string_view credit, std::int64_t pending_credits) {
    tx.prepare("UPDATE settlement_accounts SET pending_debits = ? WHERE id = ?")
        .bind_all(pending_debits, debit)
        .run();
    tx.prepare("UPDATE settlement_accounts SET pending_credits = ? WHERE id = ?")
        .bind_all(pending_credits, credit)
        .run();
}

// Releases `amount` of pending debits and credits. The columns hold at least `amount` (CHECK
// >= 0 and every release matches an earlier reservation), so the subtraction cannot overflow.
void release_pending(store::Transaction& tx, std::string_view debit, std::string_view credit,
                     std::int64_t amount) {
    tx.prepare("UPDATE settlement_accounts SET pending_debits = pending_debits - ? WHERE id = ?")
        .bind_all(amount, debit)
        .run();
    tx.prepare("UPDATE settlement_accounts SET pending_credits = pending_credits - ? WHERE id = ?")
        .bind_all(amount, credit)
        .run();
}

void insert_transfer(store::Transaction& tx, const Transfer& t, std::string_view phase) {
    std::optional<std::int64_t> timeout;
    if (t.timeout_at) {
        timeout = t.timeout_at->ms();
    }
    tx.prepare(fmt::format("INSERT INTO settlement_transfers ({}) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           kTransferColumns))
        .bind_all(t.id, t.debit_account, t.credit_account, t.amount.minor_units(),
                  t.amount.currency().code(), to_string(t.kind), t.reference, to_string(t.status),
                  t.pending_id, timeout, t.created_at.ms(), phase)
        .run();
}

void validate(const TransferRequest& request, Timestamp now) {
    check_name("id", request.id, 200);
    check_owner("debit.owner", request.debit.owner);
    check_owner("credit.owner", request.credit.owner);
    check_name("reference", request.reference.empty() ? "-" : request.reference, 256);
    if (request.amount.minor_units() <= 0) {
        throw Error::invalid("amount", request.amount.to_string(), "must be above zero");
    }
    if (request.debit.currency != request.amount.currency() ||
        request.credit.currency != request.amount.currency()) {
        throw Error::invalid("currency", request.amount.currency().code(),
                             "must be the currency of both accounts");
    }
    if (request.debit == request.credit) {
        throw Error::invalid("credit", request.credit.id(), "must differ from the debit account");
    }
    if (request.timeout_at && !request.pending) {
        throw Error::invalid("timeout_at", std::to_string(request.timeout_at->ms()),
                             "only a pending transfer has a timeout");
    }
    if (request.timeout_at && *request.timeout_at <= now) {
        throw Error::invalid("timeout_at", std::to_string(request.timeout_at->ms()),
                             "must be in the future");
    }
}

}  // namespace

void check_name(std::string_view field, std::string_view text, std::size_t max) {
    if (text.empty() || text.size() > max) {
        throw Error::invalid(field, text, fmt::format("must have 1 to {} characters", max));
    }
    for (const char c : text) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '@' ||
                        c == '/' || c == '-';
        if (!ok) {
            throw Error::invalid(field, text, "may only hold letters, digits and . _ : @ / -");
        }
    }
}

void check_owner(std::string_view field, std::string_view text) {
    if (text.empty() || text.size() > 128) {
        throw Error::invalid(field, text, "must have 1 to 128 bytes");
    }
    require_plain_text(field, text);
}

std::optional<Transfer> find_transfer(store::Transaction& tx, std::string_view id) {
    auto stored = find_stored(tx, id);
    if (!stored) {
        return std::nullopt;
    }
    return stored->transfer;
}

std::optional<Account> find_account(store::Transaction& tx, std::string_view account_id) {
    auto row = tx.prepare(
        "SELECT kind, owner, currency, balance, pending_debits, pending_credits, created_at "
        "FROM settlement_accounts WHERE id = ?");
    row.bind_all(account_id);
    if (!row.step()) {
        return std::nullopt;
    }
    const auto currency = Currency::of(row.column_text(2));
    Account account;
    account.ref = AccountRef{parse_account_kind(row.column_text(0)), row.column_text(1), currency};
    account.balance = Money(row.column_int64(3), currency);
    account.pending_debits = Money(row.column_int64(4), currency);
    account.pending_credits = Money(row.column_int64(5), currency);
    account.created_at = Timestamp::from_ms(row.column_int64(6));
    return account;
}

Transfer create_transfer(store::Transaction& tx, const TransferRequest& request, Timestamp now) {
    validate(request, now);
    Transfer t;
    t.id = request.id;
    t.debit_account = request.debit.id();
    t.credit_account = request.credit.id();
    t.amount = request.amount;
    t.kind = request.kind;
    t.reference = request.reference;
    t.status = request.pending ? TransferStatus::pending : TransferStatus::posted;
    t.timeout_at = request.timeout_at;
    t.created_at = now;
    const auto phase = request.pending ? kPending : kSingle;
    if (auto earlier = find_stored(tx, request.id)) {
        const Transfer& e = earlier->transfer;
        const bool same = earlier->phase == phase && e.debit_account == t.debit_account &&
                          e.credit_account == t.credit_account && e.amount == t.amount &&
                          e.kind == t.kind && e.reference == t.reference &&
                          e.timeout_at == t.timeout_at;
        if (!same) {
            throw Error(ErrorCode::conflict,
                        fmt::format("transfer '{}' exists with different fields", request.id),
                        "id");
        }
        Transfer existing = e;
        existing.exists = true;
        return existing;
    }
    ensure_account(tx, request.debit, now);
    ensure_account(tx, request.credit, now);
    const auto debit = balances_of(tx, t.debit_account);
    const auto credit = balances_of(tx, t.credit_account);
    if (debit.kind != to_string(AccountKind::external) &&
        debit.balance - debit.pending_debits < t.amount.minor_units()) {
        throw Error(
            ErrorCode::insufficient_funds,
            fmt::format(
                "account '{}' has {} available, {} needed", t.debit_account,
                Money(debit.balance - debit.pending_debits, t.amount.currency()).to_string(),
                t.amount.to_string()),
            "amount");
    }
    // Every new figure is computed, and refused on overflow, before the transfer is written;
    // a throw rolls back the caller's transaction, the accounts ensured above included.
    if (request.pending) {
        const auto pending_debits = moved(debit, "pending debits of", debit.pending_debits,
                                          t.amount.minor_units(), t.amount.currency());
        const auto pending_credits = moved(credit, "pending credits of", credit.pending_credits,
                                           t.amount.minor_units(), t.amount.currency());
        insert_transfer(tx, t, phase);
        set_pending(tx, t.debit_account, pending_debits, t.credit_account, pending_credits);
    } else {
        const auto posting = plan_posting(debit, credit, t.amount);
        insert_transfer(tx, t, phase);
        post(tx, t, posting, now);
    }
    return t;
}

Transfer resolve_pending(store::Transaction& tx, std::string_view id, std::string_view pending_id,
                         std::optional<std::int64_t> amount, bool post, Timestamp now) {
    check_name("id", id, 200);
    check_name("pending_id", pending_id, 200);
    const auto pending = find_stored(tx, pending_id);
    if (!pending || pending->phase != kPending) {
        throw Error(ErrorCode::not_found, fmt::format("no pending transfer '{}'", pending_id),
                    "pending_id");
    }
    const Transfer& p = pending->transfer;
    const std::int64_t captured =
        post ? amount.value_or(p.amount.minor_units()) : p.amount.minor_units();
    if (post && (captured <= 0 || captured > p.amount.minor_units())) {
        throw Error::invalid(
            "amount", std::to_string(captured),
            fmt::format("must be above zero and at most the pending {}", p.amount.minor_units()));
    }
    const auto phase = post ? kPost : kVoid;
    if (auto earlier = find_stored(tx, id)) {
        const Transfer& e = earlier->transfer;
        if (earlier->phase != phase || e.pending_id != std::string(pending_id) ||
            e.amount.minor_units() != captured) {
            throw Error(ErrorCode::conflict,
                        fmt::format("transfer '{}' exists with different fields", id), "id");
        }
        Transfer existing = e;
        existing.exists = true;
        return existing;
    }
    if (p.status != TransferStatus::pending) {
        throw Error(
            ErrorCode::conflict,
            fmt::format("pending transfer '{}' is already {}", pending_id, to_string(p.status)),
            "pending_id");
    }
    if (p.timeout_at && *p.timeout_at <= now) {
        throw Error(ErrorCode::conflict,
                    fmt::format("pending transfer '{}' timed out; it can only expire", pending_id),
                    "pending_id");
    }
    Transfer t;
    t.id = std::string(id);
    t.debit_account = p.debit_account;
    t.credit_account = p.credit_account;
    t.amount = Money(captured, p.amount.currency());
    t.kind = p.kind;
    t.reference = p.reference;
    t.status = post ? TransferStatus::posted : TransferStatus::voided;
    t.pending_id = std::string(pending_id);
    t.created_at = now;
    std::optional<Posting> posting;
    if (post) {
        posting = plan_posting(balances_of(tx, t.debit_account), balances_of(tx, t.credit_account),
                               t.amount);
    }
    insert_transfer(tx, t, phase);
    release_pending(tx, p.debit_account, p.credit_account, p.amount.minor_units());
    tx.prepare("UPDATE settlement_transfers SET status = ? WHERE id = ?")
        .bind_all(to_string(t.status), pending_id)
        .run();
    if (posting) {
        settlement::post(tx, t, *posting, now);
    }
    return t;
}

std::int64_t expire_pending(store::Transaction& tx, Timestamp now) {
    std::vector<std::pair<std::string, std::pair<std::string, std::string>>> due;
    std::vector<std::int64_t> amounts;
    {
        auto rows = tx.prepare(
            "SELECT id, debit_account, credit_account, amount FROM settlement_transfers "
            "WHERE status = 'pending' AND timeout_at IS NOT NULL AND timeout_at <= ? "
            "ORDER BY id");
        rows.bind_all(now.ms());
        while (rows.step()) {
            due.push_back({rows.column_text(0), {rows.column_text(1), rows.column_text(2)}});
            amounts.push_back(rows.column_int64(3));
        }
    }
    for (std::size_t i = 0; i < due.size(); ++i) {
        release_pending(tx, due[i].second.first, due[i].second.second, amounts[i]);
        tx.prepare("UPDATE settlement_transfers SET status = 'expired' WHERE id = ?")
            .bind_all(due[i].first)
            .run();
    }
    return static_cast<std::int64_t>(due.size());
}

}  // namespace sihlicon::settlement
