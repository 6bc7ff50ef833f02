// SPDX-License-Identifier: Apache-2.0
//
// The hub's event log (include/sihlicon/events.hpp): every change appended in its own
// transaction, in one hub-wide order, read by each principal as far as it concerns them, and
// followed from another process.
#include "hub/event_log.hpp"
#include "settlement/fixture.hpp"
#include "support/errors.hpp"

#include <doctest/doctest.h>
#include <sihlicon/events.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/principal.hpp>

#include <boost/json.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace sihlicon {

using testing::error_from;
using testing::SettlementFixture;
using testing::usd;

namespace {

const EventReader kOperatorReader{std::string(kOperatorPrincipal), ""};

std::vector<HubEvent> all_events(const Hub& hub, const EventReader& reader = kOperatorReader,
                                 std::int64_t after = 0) {
    return hub.events_after(after, Hub::kMaxEventsPerRead, reader);
}

std::vector<std::string> kinds_of(const std::vector<HubEvent>& events) {
    std::vector<std::string> kinds;
    for (const auto& event : events) {
        kinds.push_back(event.kind);
    }
    return kinds;
}

}  // namespace

TEST_CASE("every job transition is one event of the hub's log, which Scheduler::events reads") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", usd("10"), "tx-1");
    const auto before = f.count("SELECT COUNT(*) FROM hub_events");
    const auto id = f.run_job("alice", "bee-01");
    const auto events = all_events(*f.hub, kOperatorReader, f.hub->last_event_sequence() - 3);
    CHECK(kinds_of(events) ==
          std::vector<std::string>{"job.queued", "job.running", "job.completed"});
    // No second insert per transition: one row each, and job_events is a view of them.
    CHECK(f.count("SELECT COUNT(*) FROM hub_events") - before == 3);
    CHECK(f.count("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'job_events' AND type = "
                  "'view'") == 1);
    const auto job_events = f.scheduler().events(id);
    REQUIRE(job_events.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(job_events[i].sequence == events[i].sequence);
        CHECK(events[i].subject == id);
        CHECK(events[i].client == "alice");
    }
    CHECK(job_events[2].to == JobStatus::completed);
    CHECK(job_events[2].from == JobStatus::running);
    CHECK(events[1].worker == "bee-01");
    const auto payload = boost::json::parse(events[2].payload).as_object();
    CHECK(payload.at("from").as_string() == "running");
    CHECK(payload.at("to").as_string() == "completed");
    CHECK(payload.at("actor").as_string() == job_events[2].actor);
    CHECK(events[0].sequence < events[1].sequence);
    CHECK(events[1].sequence < events[2].sequence);
}

TEST_CASE("content, names, heat settlements, seals and payouts are appended to the log") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", usd("10"), "tx-1");
    const std::string text = "some bytes";
    const auto manifest = f.hub->content_store().put_bytes(
        {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, "alice");
    f.hub->content_store().set_reference("report", "v1", manifest.content_id, "alice");
    f.hub->content_store().remove_reference("report", "v1", "alice");
    f.hub->content_store().remove(manifest.content_id, "alice");
    f.run_job("alice", "bee-01");
    f.clock->advance(std::chrono::minutes(1));
    f.scheduler().heartbeat("bee-01", {});
    const auto start = f.clock->now();
    f.clock->advance(std::chrono::hours(1));
    f.hub->heat_ledger().settle("zurich", start, f.clock->now());
    const auto sealed = f.settlement().seal_epoch();

    std::vector<std::string> kinds;
    for (const auto& event : all_events(*f.hub)) {
        // (The seal stores its bundle's files as content too: content.stored events of their
        // own, left out here.)
        const bool bundle_file =
            event.kind == "content.stored" && event.subject != manifest.content_id;
        if (event.kind.rfind("job.", 0) != 0 && !bundle_file) {
            kinds.push_back(event.kind);
        }
    }
    CHECK(kinds == std::vector<std::string>{"content.stored", "content.named", "content.unnamed",
                                            "content.removed", "heat.settled", "payout.made",
                                            "epoch.sealed"});
    const auto events = all_events(*f.hub);
    const auto stored = std::find_if(events.begin(), events.end(),
                                     [](const HubEvent& e) { return e.kind == "content.stored"; });
    CHECK(stored->subject == manifest.content_id);
    CHECK(stored->client == "alice");
    const auto payout = std::find_if(events.begin(), events.end(),
                                     [](const HubEvent& e) { return e.kind == "payout.made"; });
    CHECK(payout->subject == sealed.id);
    CHECK(payout->worker == "bee-01");
    CHECK(!payout->client);
    const auto as_json = boost::json::parse(payout->to_json()).as_object();
    CHECK(as_json.at("payload").at("workerId").as_string() == "bee-01");
    CHECK(as_json.at("sequence").as_int64() == payout->sequence);
}

TEST_CASE("a change that rolls back leaves no event, and later events still come after") {
    SettlementFixture f;
    f.add_site();
    f.settlement().top_up("alice", usd("10"), "tx-1");
    const auto last = f.hub->last_event_sequence();
    // The submission runs inside this write (a nested savepoint of its transaction), which
    // then fails: the job and its event go together.
    CHECK_THROWS(f.database().write([&](store::Transaction&) {
        f.scheduler().submit(SettlementFixture::job("alice"));
        throw std::runtime_error("rolled back");
    }));
    CHECK(f.hub->last_event_sequence() == last);
    CHECK(f.count("SELECT COUNT(*) FROM jobs") == 0);
    const auto job = f.scheduler().submit(SettlementFixture::job("alice"));
    const auto events = all_events(*f.hub, kOperatorReader, last);
    REQUIRE(events.size() == 1);
    CHECK(events[0].subject == job.id);
    CHECK(events[0].sequence > last);
}

TEST_CASE("each reader sees only the events that concern it, as if the others did not exist") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.add_worker("bee-02");
    f.settlement().top_up("alice", usd("10"), "tx-1");
    f.settlement().top_up("bob", usd("10"), "tx-2");
    const auto alice_job = f.run_job("alice", "bee-01");
    const auto bob_job = f.run_job("bob", "bee-02");
    const auto subjects = [&](const EventReader& reader) {
        std::set<std::string> seen;
        for (const auto& event : all_events(*f.hub, reader)) {
            seen.insert(event.subject);
        }
        return seen;
    };
    CHECK(subjects({"alice", ""}) == std::set<std::string>{alice_job});
    CHECK(subjects({"bob", ""}) == std::set<std::string>{bob_job});
    // A worker: the jobs it ran, whatever principal its token names.
    CHECK(subjects({"someone", "bee-02"}) == std::set<std::string>{bob_job});
    CHECK(subjects({"mallory", ""}).empty());
    CHECK(subjects({"", ""}).empty());
    CHECK(subjects(kOperatorReader) == std::set<std::string>{alice_job, bob_job});
    // The same read from after the first of alice's events: the rest of hers only.
    const auto alice = all_events(*f.hub, {"alice", ""});
    CHECK(all_events(*f.hub, {"alice", ""}, alice[0].sequence).size() == alice.size() - 1);
}

TEST_CASE("reading the log refuses a negative position, a bad limit and a bad timeout") {
    SettlementFixture f;
    CHECK(error_from([&] { f.hub->events_after(-1, 10, kOperatorReader); }).field() == "after");
    CHECK(error_from([&] { f.hub->events_after(0, 0, kOperatorReader); }).field() == "limit");
    CHECK(error_from([&] {
              f.hub->events_after(0, Hub::kMaxEventsPerRead + 1, kOperatorReader);
          }).field() == "limit");
    CHECK(error_from([&] {
              f.hub->wait_for_events(0, 10, kOperatorReader, std::chrono::milliseconds(-1));
          }).field() == "timeout");
    CHECK(error_from([&] {
              f.hub->wait_for_events(0, 10, kOperatorReader,
                                     Hub::kMaxEventWait + std::chrono::milliseconds(1));
          }).field() == "timeout");
    // Nothing new: an empty answer once the time is up.
    CHECK(f.hub
              ->wait_for_events(f.hub->last_event_sequence(), 10, kOperatorReader,
                                std::chrono::milliseconds(0))
              .empty());
}

TEST_CASE("a follower waiting for events sees those another process writes, in order, once") {
    SettlementFixture f;
    f.add_site();
    f.settlement().top_up("alice", usd("10"), "tx-1");
    f.settlement().top_up("bob", usd("10"), "tx-2");
    const auto start = f.hub->last_event_sequence();
    int go[2];
    REQUIRE(pipe(go) == 0);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {  // another process: waits for the signal, then submits five jobs
        int status = 0;
        try {
            close(go[1]);
            char byte = 0;
            if (read(go[0], &byte, 1) != 1) {
                _exit(4);
            }
            auto other = Hub::open(f.dir.path());
            for (int i = 0; i < 5; ++i) {
                other.scheduler().submit(SettlementFixture::job(i == 2 ? "bob" : "alice"));
            }
        } catch (...) {
            status = 1;
        }
        _exit(status);
    }
    close(go[0]);
    // The follower starts waiting before anything is written, then the writer is let go.
    std::vector<HubEvent> seen;
    std::thread follower([&] {
        std::int64_t after = start;
        while (seen.size() < 4) {
            const auto events =
                f.hub->wait_for_events(after, 2, {"alice", ""}, std::chrono::seconds(20));
            if (events.empty()) {
                break;  // time is up: the check below fails
            }
            for (const auto& event : events) {
                seen.push_back(event);
                after = event.sequence;
            }
        }
    });
    REQUIRE(write(go[1], "x", 1) == 1);
    close(go[1]);
    follower.join();
    int status = -1;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    REQUIRE(seen.size() == 4);  // alice's four submissions, not bob's
    std::set<std::string> subjects;
    for (std::size_t i = 0; i < seen.size(); ++i) {
        CHECK(seen[i].client == "alice");
        CHECK(seen[i].kind == "job.queued");
        subjects.insert(seen[i].subject);
        if (i > 0) {
            CHECK(seen[i].sequence > seen[i - 1].sequence);
        }
    }
    CHECK(subjects.size() == 4);
    CHECK(all_events(*f.hub, {"alice", ""}, seen.back().sequence).empty());
}

}  // namespace sihlicon
