// SPDX-License-Identifier: Apache-2.0
//
// GET /api/v1/events (events_routes.cpp): the hub's event log over HTTP, at once, as a long
// poll and as Server-Sent Events, each token reading what concerns it.
#include "server/contract_fixture.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace sihlicon {

using testing::ContractFixture;
using testing::error_of;
using testing::HttpClient;
using testing::json_of;
using testing::request;

namespace {

std::vector<std::int64_t> sequences_of(const boost::json::object& body) {
    std::vector<std::int64_t> sequences;
    for (const auto& event : body.at("events").as_array()) {
        sequences.push_back(event.at("sequence").as_int64());
    }
    return sequences;
}

// One SSE event as a strict reader of the text/event-stream format sees it.
struct SseEvent {
    std::string id;
    std::string event;
    std::string data;
};

// A follower over a raw socket: sends the request, checks the header (200,
// text/event-stream, chunked), undoes the chunked framing strictly and parses the event
// stream strictly (only the fields id, event, data, retry and comment lines; every line ends
// in LF; an event ends with an empty line).
class SseFollower {
  public:
    SseFollower(std::uint16_t port, const std::string& token, std::string_view extra = {}) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        const auto text = request("GET", "/api/v1/events", token, {},
                                  "Accept: text/event-stream\r\n" + std::string(extra));
        REQUIRE(::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(text.size()));
        while (raw_.find("\r\n\r\n") == std::string::npos) {
            REQUIRE(fill(std::chrono::seconds(5)));
        }
        const auto end = raw_.find("\r\n\r\n");
        header_ = raw_.substr(0, end);
        raw_.erase(0, end + 4);
        REQUIRE(header_.starts_with("HTTP/1.1 200"));
        CHECK(header_.find("Content-Type: text/event-stream") != std::string::npos);
        CHECK(header_.find("Transfer-Encoding: chunked") != std::string::npos);
    }
    ~SseFollower() { ::close(fd_); }
    SseFollower(const SseFollower&) = delete;
    SseFollower& operator=(const SseFollower&) = delete;

    // The next event, or nothing when none comes within `timeout`.
    std::optional<SseEvent> next(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            if (auto event = parse_event()) {
                return event;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !fill(left)) {
                return std::nullopt;
            }
        }
    }
    int comments() const { return comments_; }

  private:
    bool fill(std::chrono::milliseconds timeout) {
        pollfd descriptor{fd_, POLLIN, 0};
        if (::poll(&descriptor, 1, static_cast<int>(timeout.count())) <= 0) {
            return false;
        }
        char buffer[4096];
        const auto got = ::recv(fd_, buffer, sizeof buffer, 0);
        if (got <= 0) {
            return false;
        }
        raw_.append(buffer, static_cast<std::size_t>(got));
        return true;
    }

    // Moves whole chunks from raw_ to text_.
    void unchunk() {
        while (true) {
            const auto line_end = raw_.find("\r\n");
            if (line_end == std::string::npos) {
                return;
            }
            const auto size = std::stoul(raw_.substr(0, line_end), nullptr, 16);
            REQUIRE(size > 0);  // the stream does not end while followed
            if (raw_.size() < line_end + 2 + size + 2) {
                return;
            }
            REQUIRE(raw_.substr(line_end + 2 + size, 2) == "\r\n");
            text_ += raw_.substr(line_end + 2, size);
            raw_.erase(0, line_end + 2 + size + 2);
        }
    }

    std::optional<SseEvent> parse_event() {
        unchunk();
        while (true) {
            const auto block_end = text_.find("\n\n");
            if (block_end == std::string::npos) {
                return std::nullopt;
            }
            const auto block = text_.substr(0, block_end + 1);
            text_.erase(0, block_end + 2);
            CHECK(block.find('\r') == std::string::npos);
            SseEvent event;
            bool has_data = false;
            std::size_t at = 0;
            while (at < block.size()) {
                const auto line = block.substr(at, block.find('\n', at) - at);
                at += line.size() + 1;
                if (line.starts_with(":")) {
                    ++comments_;
                    continue;
                }
                const auto colon = line.find(": ");
                REQUIRE(colon != std::string::npos);
                const auto field = line.substr(0, colon);
                const auto value = line.substr(colon + 2);
                if (field == "id") {
                    event.id = value;
                } else if (field == "event") {
                    event.event = value;
                } else if (field == "data") {
                    REQUIRE(!has_data);  // one data line per event: the JSON has no newline
                    event.data = value;
                    has_data = true;
                } else {
                    REQUIRE(field == "retry");
                }
            }
            if (has_data) {
                return event;
            }
        }
    }

    int fd_ = -1;
    std::string raw_;
    std::string header_;
    std::string text_;
    int comments_ = 0;
};

}  // namespace

TEST_CASE("GET /api/v1/events: each token reads the events that concern it, after a sequence") {
    ContractFixture f;
    const auto ann_job = f.submit("ann");
    const auto bob_job = f.submit("bob");
    const auto ann = json_of(f.call("GET", "/api/v1/events", f.ann));
    REQUIRE(ann.at("events").as_array().size() == 1);
    CHECK(ann.at("events").at(0).at("subject").as_string() == ann_job);
    CHECK(ann.at("events").at(0).at("kind").as_string() == "job.queued");
    const auto all = json_of(f.call("GET", "/api/v1/events", f.op));
    const auto sequences = sequences_of(all);
    REQUIRE(sequences.size() == 2);
    CHECK(sequences[0] < sequences[1]);
    CHECK(all.at("next").as_int64() == sequences[1]);
    // The worker's token: no job ran on its worker.
    CHECK(json_of(f.call("GET", "/api/v1/events", f.bee)).at("events").as_array().empty());
    const auto rest = json_of(
        f.call("GET", "/api/v1/events?after=" + std::to_string(sequences[0]) + "&limit=5", f.op));
    REQUIRE(rest.at("events").as_array().size() == 1);
    CHECK(rest.at("events").at(0).at("subject").as_string() == bob_job);
    CHECK(error_of(f.call("GET", "/api/v1/events?after=-1", f.op), 400).find("after") !=
          std::string::npos);
    CHECK(error_of(f.call("GET", "/api/v1/events?limit=0", f.op), 400).find("limit") !=
          std::string::npos);
    CHECK(error_of(f.call("GET", "/api/v1/events?wait=61", f.op), 400).find("wait") !=
          std::string::npos);
    CHECK(error_of(f.call("GET", "/api/v1/events?from=1", f.op), 400).find("from") !=
          std::string::npos);
}

TEST_CASE("a long poll answers as soon as an event for the reader is committed") {
    ContractFixture f;
    const auto last = f.hub.last_event_sequence();
    const auto started = std::chrono::steady_clock::now();
    std::optional<testing::HttpResponse> answer;
    std::thread poller([&] {
        HttpClient client(f.server->port());
        if (client.send(
                request("GET", "/api/v1/events?wait=30&after=" + std::to_string(last), f.ann))) {
            answer = client.read_response(std::chrono::seconds(30));
        }
    });
    // bob's job does not answer ann's poll; ann's does.
    f.submit("bob");
    const auto ann_job = f.submit("ann");
    poller.join();
    REQUIRE(answer);
    const auto body = json_of(*answer);
    REQUIRE(body.at("events").as_array().size() == 1);
    CHECK(body.at("events").at(0).at("subject").as_string() == ann_job);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
    // Nothing more for ann: an empty answer once a second is up.
    const auto after = std::to_string(body.at("next").as_int64());
    const auto empty = json_of(f.call("GET", "/api/v1/events?wait=1&after=" + after, f.ann));
    CHECK(empty.at("events").as_array().empty());
    CHECK(empty.at("next").as_int64() == body.at("next").as_int64());
}

TEST_CASE(
    "an SSE follower that leaves and resumes sees every event once, in order, across a "
    "server restart") {
    ContractFixture f;
    // A server whose idle timeout is far shorter than the quiet spells of the stream.
    f.server->stop();
    ServerOptions options;
    options.idle_timeout = std::chrono::milliseconds(100);
    f.server = std::make_unique<Server>(f.hub, options);
    f.server->start();
    std::vector<std::string> submitted{f.submit("ann"), f.submit("ann")};
    std::vector<std::int64_t> seen;
    std::set<std::string> subjects;
    const auto take = [&](SseFollower& follower) {
        const auto event = follower.next();
        REQUIRE(event);
        CHECK(event->event == "job.queued");
        const auto data = boost::json::parse(event->data).as_object();
        CHECK(std::to_string(data.at("sequence").as_int64()) == event->id);
        seen.push_back(data.at("sequence").as_int64());
        subjects.insert(std::string(data.at("subject").as_string()));
    };
    {
        SseFollower follower(f.server->port(), f.ann);
        take(follower);
        take(follower);
        // Quiet for longer than the idle timeout: the stream stays, the next event arrives.
        CHECK(!follower.next(std::chrono::milliseconds(400)));
        submitted.push_back(f.submit("ann"));
        take(follower);
    }  // the follower leaves
    submitted.push_back(f.submit("ann"));
    f.submit("bob");
    f.server->stop();
    submitted.push_back(f.submit("ann"));
    f.server = std::make_unique<Server>(f.hub, options);
    f.server->start();
    {
        SseFollower follower(f.server->port(), f.ann,
                             "Last-Event-ID: " + std::to_string(seen.back()) + "\r\n");
        take(follower);
        take(follower);
        CHECK(!follower.next(std::chrono::milliseconds(200)));
    }
    REQUIRE(seen.size() == 5);
    for (std::size_t i = 1; i < seen.size(); ++i) {
        CHECK(seen[i] > seen[i - 1]);
    }
    CHECK(subjects == std::set<std::string>(submitted.begin(), submitted.end()));
}

}  // namespace sihlicon
