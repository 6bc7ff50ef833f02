// SPDX-License-Identifier: Apache-2.0
//
// The hub's event feed over HTTP (server.hpp): GET /api/v1/events for every token, each
// reading what Hub::events_after lets its principal see (the core decides: the operator
// every event, a client what concerns it, a worker what concerns its worker). Three forms:
//   - ?after=SEQ&limit=N: the events after SEQ at once, {"success", "events": [HubEvent],
//     "next": the sequence to ask after next};
//   - with &wait=SECONDS (1..kMaxWaitSeconds): a long poll, answered as soon as there is an
//     event for the reader, or with none when the time is up;
//   - with Accept: text/event-stream: Server-Sent Events, each event as "id: SEQ", "event:
//     KIND", "data: HubEvent JSON"; Last-Event-ID (or ?after=) resumes after that sequence;
//     a comment line every kKeepAlive when quiet. The stream lasts until the client leaves or
//     the server stops.
// Waiting answers hold no server thread: the connection asks again every kPollInterval
// (Response::Live). At most kMaxFollowers wait or stream at once (503 beyond).
#include "server/api.hpp"

#include <sihlicon/events.hpp>
#include <sihlicon/hub.hpp>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <memory>

namespace sihlicon::server {

namespace {

constexpr std::int64_t kMaxWaitSeconds = 60;
constexpr std::int64_t kDefaultLimit = 100;
constexpr std::int64_t kMaxFollowers = 64;
constexpr std::chrono::milliseconds kPollInterval{50};
constexpr std::chrono::seconds kKeepAlive{15};

const std::vector<Role> kEveryRole{Role::client, Role::worker, Role::hub_operator};

// Who reads, as the token says: a worker token reads as its worker.
EventReader reader_of(const Identity& identity) {
    if (identity.role == Role::worker) {
        return {identity.principal, identity.worker_id};
    }
    return {std::string(identity.acting_principal()), ""};
}

std::string events_body(const std::vector<HubEvent>& events, std::int64_t after) {
    std::string list = "[";
    for (const auto& event : events) {
        list += list.size() > 1 ? "," : "";
        list += event.to_json();
    }
    list += "]";
    const auto next = events.empty() ? after : events.back().sequence;
    return fmt::format(R"({{"success":true,"events":{},"next":{}}})", list, next);
}

// The followers waiting or streaming now; a Slot holds one place until it is destroyed.
struct Followers {
    std::atomic<std::int64_t> count{0};
};
struct Slot {
    std::shared_ptr<Followers> followers;
    explicit Slot(std::shared_ptr<Followers> f) : followers(std::move(f)) {}
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { followers->count.fetch_sub(1); }
};

std::shared_ptr<Slot> take_slot(const std::shared_ptr<Followers>& followers) {
    if (followers->count.fetch_add(1) >= kMaxFollowers) {
        followers->count.fetch_sub(1);
        throw Error(ErrorCode::busy,
                    fmt::format("the server already has {} event followers waiting", kMaxFollowers),
                    "wait");
    }
    return std::make_shared<Slot>(followers);
}

std::int64_t position(const Request& request, const std::map<std::string, std::string>& query,
                      bool stream) {
    if (const auto it = query.find("after"); it != query.end()) {
        return integer_parameter("after", it->second);
    }
    if (stream && !request.last_event_id.empty()) {
        return integer_parameter("Last-Event-ID", std::string(request.last_event_id));
    }
    return 0;
}

Response events(const Request& request, const std::shared_ptr<Followers>& followers) {
    const auto query = query_of(request.target, {"after", "limit", "wait"});
    const bool stream = request.accept.find("text/event-stream") != std::string_view::npos;
    const std::int64_t after = position(request, query, stream);
    const auto limit_it = query.find("limit");
    const std::int64_t limit =
        limit_it == query.end() ? kDefaultLimit : integer_parameter("limit", limit_it->second);
    std::int64_t wait = 0;
    if (const auto it = query.find("wait"); it != query.end()) {
        wait = integer_parameter("wait", it->second);
        if (wait < 0 || wait > kMaxWaitSeconds) {
            throw Error::invalid("wait", it->second,
                                 fmt::format("must be 0 to {} seconds", kMaxWaitSeconds));
        }
    }
    Hub* hub = request.hub;
    const EventReader reader = reader_of(*request.identity);
    auto first = hub->events_after(after, limit, reader);  // checks after and limit
    if (!stream) {
        if (!first.empty() || wait == 0) {
            return {200, events_body(first, after), {}};
        }
        auto live = std::make_shared<Response::Live>();
        live->interval = kPollInterval;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait);
        live->next = [hub, after, limit, reader, deadline,
                      slot = take_slot(followers)](bool& done) {
            const auto found = hub->events_after(after, limit, reader);
            if (found.empty() && std::chrono::steady_clock::now() < deadline) {
                return std::string();
            }
            done = true;
            return events_body(found, after);
        };
        Response response{200, {}, {}};
        response.live = std::move(live);
        return response;
    }
    auto live = std::make_shared<Response::Live>();
    live->interval = kPollInterval;
    live->stream = true;
    struct State {
        std::int64_t cursor;
        std::vector<HubEvent> pending;
        std::chrono::steady_clock::time_point last_sent;
        bool started = false;
    };
    auto state = std::make_shared<State>(
        State{after, std::move(first), std::chrono::steady_clock::now(), false});
    live->next = [hub, limit, reader, state, slot = take_slot(followers)](bool&) {
        std::string out;
        if (!state->started) {
            state->started = true;
            out = "retry: 1000\n\n";
        }
        auto found = state->pending.empty() ? hub->events_after(state->cursor, limit, reader)
                                            : std::move(state->pending);
        state->pending.clear();
        for (const auto& event : found) {
            out += fmt::format("id: {}\nevent: {}\ndata: {}\n\n", event.sequence, event.kind,
                               event.to_json());
            state->cursor = event.sequence;
        }
        const auto now = std::chrono::steady_clock::now();
        if (out.empty() && now - state->last_sent >= kKeepAlive) {
            out = ": keep-alive\n\n";
        }
        if (!out.empty()) {
            state->last_sent = now;
        }
        return out;
    };
    Response response{200, {}, {}};
    response.content_type = "text/event-stream";
    response.live = std::move(live);
    return response;
}

}  // namespace

void add_events_routes(RouteTable& table, Hub&) {
    auto followers = std::make_shared<Followers>();
    table.add({"GET", "/api/v1/events", false, kEveryRole,
               [followers](const Request& request) { return events(request, followers); }});
}

}  // namespace sihlicon::server
