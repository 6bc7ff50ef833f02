// SPDX-License-Identifier: Apache-2.0
//
// The hub's event log (include/sihlicon/events.hpp, src/hub/event_log.hpp): its table, the
// appends the services make inside their transactions, and the reads.
#include "hub/event_log.hpp"

#include "core/json.hpp"
#include "hub/hub_internal.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/principal.hpp>

#include <boost/json.hpp>

#include <fmt/format.h>

#include <thread>

namespace sihlicon {

namespace events {

std::int64_t append(store::Transaction& tx, Timestamp at, std::string_view kind,
                    std::string_view subject, const Concerns& concerns,
                    std::string_view payload_json) {
    return tx
        .prepare(
            "INSERT INTO hub_events (at, kind, subject, client, worker, payload) "
            "VALUES (?, ?, ?, ?, ?, ?)")
        .bind_all(at.ms(), kind, subject, concerns.client, concerns.worker, payload_json)
        .insert();
}

std::int64_t append_job_transition(store::Transaction& tx, Timestamp at, std::string_view job_id,
                                   std::optional<JobStatus> from, JobStatus to,
                                   std::string_view actor, std::string_view reason) {
    // One statement, as the job_events insert it replaces: the owner and worker come from the
    // job row (in the page the caller just updated), the payload is built by SQLite.
    std::optional<std::string_view> from_name;
    if (from) {
        from_name = to_string(*from);
    }
    const std::string_view to_name = to_string(to);
    return tx
        .prepare(
            "INSERT INTO hub_events (at, kind, subject, client, worker, payload) "
            "SELECT ?1, 'job.' || ?3, id, owner, worker_id, "
            "json_object('from', ?2, 'to', ?3, 'actor', ?4, 'reason', ?5) FROM jobs WHERE id = ?6")
        .bind_all(at.ms(), from_name, to_name, actor, reason, job_id)
        .insert();
}

}  // namespace events

namespace {

void check_read(std::int64_t after, std::int64_t limit) {
    if (after < 0) {
        throw Error::invalid("after", std::to_string(after), "must not be negative");
    }
    if (limit < 1 || limit > Hub::kMaxEventsPerRead) {
        throw Error::invalid("limit", std::to_string(limit),
                             fmt::format("must be 1 to {}", Hub::kMaxEventsPerRead));
    }
}

std::vector<HubEvent> read_events(store::Transaction& tx, std::int64_t after, std::int64_t limit,
                                  const EventReader& reader) {
    static constexpr std::string_view kColumns =
        "SELECT seq, at, kind, subject, client, worker, payload FROM hub_events ";
    std::optional<store::Statement> rows;
    if (!reader.worker_id.empty()) {
        rows.emplace(tx.prepare(
            fmt::format("{} WHERE seq > ? AND worker = ? ORDER BY seq LIMIT ?", kColumns)));
        rows->bind_all(after, reader.worker_id, limit);
    } else if (reader.principal == kOperatorPrincipal) {
        rows.emplace(tx.prepare(fmt::format("{} WHERE seq > ? ORDER BY seq LIMIT ?", kColumns)));
        rows->bind_all(after, limit);
    } else if (!reader.principal.empty()) {
        rows.emplace(tx.prepare(
            fmt::format("{} WHERE seq > ? AND client = ? ORDER BY seq LIMIT ?", kColumns)));
        rows->bind_all(after, reader.principal, limit);
    } else {
        return {};  // the anonymous reader sees nothing
    }
    std::vector<HubEvent> result;
    while (rows->step()) {
        HubEvent event;
        event.sequence = rows->column_int64(0);
        event.at = Timestamp::from_ms(rows->column_int64(1));
        event.kind = rows->column_text(2);
        event.subject = rows->column_text(3);
        event.client = rows->column_optional_text(4);
        event.worker = rows->column_optional_text(5);
        event.payload = rows->column_text(6);
        result.push_back(std::move(event));
    }
    return result;
}

std::int64_t last_sequence(store::Transaction& tx) {
    auto row = tx.prepare("SELECT COALESCE(MAX(seq), 0) FROM hub_events");
    row.step();
    return row.column_int64(0);
}

}  // namespace

std::string HubEvent::to_json() const {
    const auto optional = [](const std::optional<std::string>& text) {
        return text ? boost::json::value(*text) : boost::json::value(nullptr);
    };
    const boost::json::object object{
        {"sequence", sequence},
        {"at", to_iso8601(at)},
        {"kind", kind},
        {"subject", subject},
        {"client", optional(client)},
        {"worker", optional(worker)},
        {"payload", boost::json::parse(payload)},  // our own JSON object
    };
    return json::serialize(object);
}

std::vector<HubEvent> Hub::events_after(std::int64_t after, std::int64_t limit,
                                        const EventReader& reader) const {
    check_read(after, limit);
    return impl_->core.database->read(
        [&](store::Transaction& tx) { return read_events(tx, after, limit, reader); });
}

std::vector<HubEvent> Hub::wait_for_events(std::int64_t after, std::int64_t limit,
                                           const EventReader& reader,
                                           std::chrono::milliseconds timeout) const {
    check_read(after, limit);
    if (timeout < std::chrono::milliseconds{0} || timeout > kMaxEventWait) {
        throw Error::invalid("timeout", std::to_string(timeout.count()),
                             fmt::format("must be 0 to {} ms", kMaxEventWait.count()));
    }
    // Waiting uses the steady clock (the hub's clock may be a test's manual clock).
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::int64_t scanned = after;  // no event the reader may see up to here
    auto& database = *impl_->core.database;
    while (true) {
        auto found = database.read([&](store::Transaction& tx) {
            const std::int64_t last = last_sequence(tx);
            std::vector<HubEvent> events;
            if (last > scanned) {
                events = read_events(tx, scanned, limit, reader);
                if (events.empty()) {
                    // Sequences grow in commit order: nothing up to `last` can still appear.
                    scanned = last;
                }
            }
            return events;
        });
        if (!found.empty() || std::chrono::steady_clock::now() >= deadline) {
            return found;
        }
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            kEventPollInterval, deadline - std::chrono::steady_clock::now()));
    }
}

std::int64_t Hub::last_event_sequence() const {
    return impl_->core.database->read([](store::Transaction& tx) { return last_sequence(tx); });
}

}  // namespace sihlicon
