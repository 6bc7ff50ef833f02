// SPDX-License-Identifier: Apache-2.0
#include "scheduler/fixture.hpp"
#include "support/errors.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

using namespace sihlicon;
using sihlicon::testing::error_of;
using sihlicon::testing::SchedulerFixture;

TEST_CASE("a claimed job runs on one worker, completes with its energy, and records the heat") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    const auto submitted = fixture.scheduler().submit(SchedulerFixture::job());
    const auto claimed = fixture.scheduler().claim("bee-01", 5);
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0].job.id == submitted.id);
    CHECK(claimed[0].job.status == JobStatus::running);
    CHECK(claimed[0].lease.token.size() == 32);
    CHECK(claimed[0].lease.expires_at == fixture.clock->now() + std::chrono::seconds(60));
    CHECK(fixture.scheduler().worker("bee-01").used_cpu_millicores == 1000);
    CHECK(fixture.scheduler().worker("bee-01").status == WorkerStatus::busy);
    CHECK(fixture.scheduler().claim("bee-01", 5).empty());  // nothing else queued

    const auto done = fixture.scheduler().complete(submitted.id, claimed[0].lease.token,
                                                   fixture.completion(2'000'000));
    CHECK(done.status == JobStatus::completed);
    CHECK(done.actual_energy->mwh() == 2'000'000);
    CHECK(done.heat_generated->mwh() == 1'800'000);  // 90 % heat recovery
    CHECK(done.output_refs == std::vector<std::string>{testing::kCidHelloWorld});
    const auto worker = fixture.scheduler().worker("bee-01");
    CHECK(worker.used_cpu_millicores == 0);
    CHECK(worker.running_jobs == 0);
    CHECK(worker.status == WorkerStatus::online);
    CHECK(fixture.scheduler().hub("zurich").running_power_w == 0);
}

TEST_CASE("a worker stays busy while it holds a job and is online again after its last one") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    for (int i = 0; i < 3; ++i) {
        fixture.scheduler().submit(SchedulerFixture::job("job-" + std::to_string(i)));
    }
    const auto first = fixture.scheduler().claim("bee-01", 1);
    const auto second = fixture.scheduler().claim("bee-01", 1);  // claimed while already busy
    REQUIRE(first.size() == 1);
    REQUIRE(second.size() == 1);
    CHECK(fixture.scheduler().worker("bee-01").status == WorkerStatus::busy);
    CHECK(fixture.scheduler().worker("bee-01").running_jobs == 2);
    CHECK(fixture.scheduler().worker("bee-01").used_cpu_millicores == 2000);
    fixture.scheduler().complete(first[0].lease.job_id, first[0].lease.token, fixture.completion());
    CHECK(fixture.scheduler().worker("bee-01").status == WorkerStatus::busy);
    fixture.scheduler().fail(second[0].lease.job_id, second[0].lease.token, "crashed", false);
    auto worker = fixture.scheduler().worker("bee-01");
    CHECK(worker.status == WorkerStatus::online);
    CHECK(worker.running_jobs == 0);
    CHECK(worker.used_cpu_millicores == 0);
    CHECK(fixture.scheduler().hub("zurich").running_power_w == 0);
    // Draining while holding a job: ending it leaves the worker draining.
    const auto third = fixture.scheduler().claim("bee-01", 1);
    REQUIRE(third.size() == 1);
    fixture.scheduler().set_worker_status("bee-01", WorkerStatus::draining);
    fixture.scheduler().complete(third[0].lease.job_id, third[0].lease.token, fixture.completion());
    worker = fixture.scheduler().worker("bee-01");
    CHECK(worker.status == WorkerStatus::draining);
    CHECK(worker.running_jobs == 0);
}

TEST_CASE(
    "claims and completions leave the stored worker status alone; a stored 'busy' still reads") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    fixture.scheduler().submit(SchedulerFixture::job("one"));
    fixture.scheduler().submit(SchedulerFixture::job("two"));
    const auto stored_status = [&] {
        return HubAccess::database(fixture.hub).read([](store::Transaction& tx) {
            auto row = tx.prepare("SELECT status FROM workers WHERE id = 'bee-01'");
            REQUIRE(row.step());
            return row.column_text(0);
        });
    };
    const auto first = fixture.scheduler().claim("bee-01", 1);
    REQUIRE(first.size() == 1);
    CHECK(fixture.scheduler().worker("bee-01").status == WorkerStatus::busy);
    CHECK(stored_status() == "online");  // busy is read from running_jobs, not written

    // A hub written by an earlier version stores 'busy' while a worker holds jobs.
    HubAccess::database(fixture.hub).write([](store::Transaction& tx) {
        tx.prepare("UPDATE workers SET status = 'busy' WHERE id = 'bee-01'").run();
    });
    CHECK(fixture.scheduler().worker("bee-01").status == WorkerStatus::busy);
    fixture.scheduler().complete(first[0].lease.job_id, first[0].lease.token, fixture.completion());
    CHECK(fixture.scheduler().worker("bee-01").status == WorkerStatus::online);
    const auto second = fixture.scheduler().claim("bee-01", 1);  // a stored 'busy' still claims
    REQUIRE(second.size() == 1);
    CHECK(fixture.scheduler().worker("bee-01").status == WorkerStatus::busy);
    fixture.scheduler().set_worker_status("bee-01", WorkerStatus::online);
    CHECK(stored_status() == "online");
    CHECK(fixture.scheduler().worker("bee-01").status == WorkerStatus::busy);
}

TEST_CASE("a stale or foreign lease token cannot complete a job and changes nothing") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    const auto job = fixture.scheduler().submit(SchedulerFixture::job());
    const auto lease = fixture.scheduler().claim("bee-01").at(0).lease;
    CHECK(error_of([&] {
              fixture.scheduler().complete(job.id, "00000000000000000000000000000000",
                                           fixture.completion());
          }) == ErrorCode::conflict);
    CHECK(fixture.scheduler().job(job.id).status == JobStatus::running);
    // The lease expires, the job is retried by someone else: the old token is stale.
    fixture.clock->advance(std::chrono::seconds(61));
    fixture.scheduler().tick();
    fixture.clock->advance(std::chrono::seconds(2));
    fixture.scheduler().tick();
    const auto again = fixture.scheduler().claim("bee-01").at(0).lease;
    CHECK(again.token != lease.token);
    CHECK(again.attempt == 2);
    CHECK(error_of([&] {
              fixture.scheduler().complete(job.id, lease.token, fixture.completion());
          }) == ErrorCode::conflict);
    CHECK(error_of([&] { fixture.scheduler().fail(job.id, lease.token, "x"); }) ==
          ErrorCode::conflict);
    CHECK(error_of([&] { fixture.scheduler().renew(job.id, lease.token); }) == ErrorCode::conflict);
    CHECK(fixture.scheduler().job(job.id).status == JobStatus::running);
}

TEST_CASE("the record a completion returns is the one stored, alone or in a batch") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    auto spec = SchedulerFixture::job();
    spec.hub_id = "zurich";
    spec.deadline = fixture.clock->now() + std::chrono::hours(1);
    const auto alone = fixture.scheduler().submit(spec);
    const auto lease = fixture.scheduler().claim("bee-01").at(0).lease;
    fixture.clock->advance(std::chrono::seconds(7));
    auto measured = fixture.completion(2'000'000);
    measured.result_hash = "sha256:abc";
    const auto done = fixture.scheduler().complete(alone.id, lease.token, measured);
    CHECK(done.to_json() == fixture.scheduler().job(alone.id).to_json());
    // And the repeat returns the same record.
    CHECK(fixture.scheduler().complete(alone.id, lease.token, measured).to_json() ==
          done.to_json());

    fixture.scheduler().submit(SchedulerFixture::job());
    fixture.scheduler().submit(SchedulerFixture::job());
    const auto claimed = fixture.scheduler().claim("bee-01", 2);
    REQUIRE(claimed.size() == 2);
    fixture.clock->advance(std::chrono::seconds(3));
    JobCompletion modelled;  // no figure: the hub's power model over the 3 s
    const auto batch = fixture.scheduler().complete_many(
        {{claimed[0].lease, fixture.completion()}, {claimed[1].lease, modelled}});
    REQUIRE(batch.size() == 2);
    CHECK(batch[1].energy_source == EnergySource::modelled);
    for (const auto& job : batch) {
        CHECK(job.to_json() == fixture.scheduler().job(job.id).to_json());
    }
}

TEST_CASE("repeating a completion with the same token and payload is harmless") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    const auto job = fixture.scheduler().submit(SchedulerFixture::job());
    const auto lease = fixture.scheduler().claim("bee-01").at(0).lease;
    const auto first = fixture.scheduler().complete(job.id, lease.token, fixture.completion());
    const auto second = fixture.scheduler().complete(job.id, lease.token, fixture.completion());
    CHECK(second.status == JobStatus::completed);
    CHECK(second.finished_at == first.finished_at);
    CHECK(fixture.scheduler().events(job.id).size() == 3);  // queued, running, completed once
    CHECK(error_of([&] {
              fixture.scheduler().complete(job.id, lease.token, fixture.completion(5));
          }) == ErrorCode::conflict);
}

TEST_CASE("an expired lease retries with exponential back-off and dead-letters at the end") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    auto spec = SchedulerFixture::job();
    spec.max_attempts = 3;
    spec.backoff_ms = 1000;
    const auto job = fixture.scheduler().submit(spec);
    const std::int64_t expected_backoff[] = {1000, 2000};
    for (int attempt = 1; attempt <= 3; ++attempt) {
        CAPTURE(attempt);
        REQUIRE(fixture.scheduler().claim("bee-01").size() == 1);
        fixture.scheduler().heartbeat("bee-01", {});
        fixture.clock->advance(std::chrono::seconds(60));
        fixture.scheduler().tick();
        const auto now = fixture.scheduler().job(job.id);
        if (attempt < 3) {
            CHECK(now.status == JobStatus::pending);
            CHECK(now.wait_reason == "backoff");
            CHECK(*now.ready_at ==
                  fixture.clock->now() + std::chrono::milliseconds(expected_backoff[attempt - 1]));
            CHECK(fixture.scheduler().claim("bee-01").empty());  // still backing off
            fixture.clock->advance(std::chrono::milliseconds(expected_backoff[attempt - 1]));
        } else {
            CHECK(now.status == JobStatus::failed);
            CHECK(now.dead_letter);
            CHECK(now.attempts == 3);
            CHECK(now.error_message->find("lease expired") != std::string::npos);
        }
    }
    CHECK(fixture.scheduler().worker("bee-01").running_jobs == 0);
}

TEST_CASE("a worker that misses its heartbeats goes offline and its jobs come back") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    fixture.add_worker("bee-02", "zurich");
    auto spec = SchedulerFixture::job();
    spec.backoff_ms = 0;
    const auto job = fixture.scheduler().submit(spec);
    const auto lease = fixture.scheduler().claim("bee-01").at(0).lease;
    fixture.clock->advance(std::chrono::seconds(45));
    fixture.scheduler().renew(job.id, lease.token);  // the lease alone would still be valid
    fixture.scheduler().heartbeat("bee-02", {});
    fixture.clock->advance(std::chrono::seconds(46));  // bee-01 silent for 91 s > 3 x 30 s
    CHECK(fixture.scheduler().tick() == 1);
    CHECK(fixture.scheduler().worker("bee-01").status == WorkerStatus::offline);
    CHECK(fixture.scheduler().worker("bee-01").running_jobs == 0);
    CHECK(fixture.scheduler().job(job.id).status == JobStatus::queued);
    CHECK(error_of([&] { fixture.scheduler().claim("bee-01"); }) == ErrorCode::conflict);
    const auto taken = fixture.scheduler().claim("bee-02");
    REQUIRE(taken.size() == 1);
    CHECK(taken[0].job.id == job.id);
    fixture.scheduler().heartbeat("bee-01", {});
    CHECK(fixture.scheduler().worker("bee-01").status == WorkerStatus::online);
}

TEST_CASE("a failed attempt is retried, a non-retryable failure is final") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    auto spec = SchedulerFixture::job();
    spec.backoff_ms = 0;
    const auto job = fixture.scheduler().submit(spec);
    auto lease = fixture.scheduler().claim("bee-01").at(0).lease;
    auto after = fixture.scheduler().fail(job.id, lease.token, "out of memory", true);
    CHECK(after.status == JobStatus::queued);
    CHECK(*after.error_message == "out of memory");
    lease = fixture.scheduler().claim("bee-01").at(0).lease;
    after = fixture.scheduler().fail(job.id, lease.token, "bad input file", false);
    CHECK(after.status == JobStatus::failed);
    CHECK_FALSE(after.dead_letter);
    CHECK(*after.error_message == "bad input file");
}

TEST_CASE("cancelling frees the worker and fails the jobs that depend on it") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    const auto first = fixture.scheduler().submit(SchedulerFixture::job("first"));
    auto second_spec = SchedulerFixture::job("second");
    second_spec.depends_on = {first.id};
    const auto second = fixture.scheduler().submit(second_spec);
    CHECK(second.status == JobStatus::pending);
    CHECK(second.wait_reason == "dependencies");
    fixture.scheduler().claim("bee-01");
    const auto cancelled = fixture.scheduler().cancel(first.id, "client-a", "not needed");
    CHECK(cancelled.status == JobStatus::cancelled);
    CHECK(fixture.scheduler().worker("bee-01").used_cpu_millicores == 0);
    const auto dependent = fixture.scheduler().job(second.id);
    CHECK(dependent.status == JobStatus::failed);
    CHECK(dependent.error_message->find(first.id) != std::string::npos);
    CHECK(error_of([&] { fixture.scheduler().cancel(first.id, "client-a"); }) ==
          ErrorCode::conflict);
    CHECK(error_of([&] { fixture.scheduler().cancel("job-01ARZ3NDEKTSV4RRFFQ69G5FAV", "x"); }) ==
          ErrorCode::not_found);
}

TEST_CASE("a dependency chain runs in order") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich", 16000);
    std::vector<std::string> chain;
    for (int i = 0; i < 4; ++i) {
        auto spec = SchedulerFixture::job("step-" + std::to_string(i));
        if (!chain.empty()) {
            spec.depends_on = {chain.back()};
        }
        chain.push_back(fixture.scheduler().submit(spec).id);
    }
    for (int i = 0; i < 4; ++i) {
        const auto claimed = fixture.scheduler().claim("bee-01", 10);
        REQUIRE(claimed.size() == 1);
        CHECK(claimed[0].job.id == chain[static_cast<std::size_t>(i)]);
        fixture.scheduler().complete(claimed[0].job.id, claimed[0].lease.token,
                                     fixture.completion());
    }
    CHECK(fixture.scheduler().claim("bee-01", 10).empty());
}

TEST_CASE("a job that depends on a failed job fails at once with the reason") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    const auto first = fixture.scheduler().submit(SchedulerFixture::job());
    const auto lease = fixture.scheduler().claim("bee-01").at(0).lease;
    fixture.scheduler().fail(first.id, lease.token, "broken", false);
    auto spec = SchedulerFixture::job();
    spec.depends_on = {first.id};
    const auto late = fixture.scheduler().submit(spec);
    CHECK(late.status == JobStatus::failed);
    CHECK(late.error_message->find("failed") != std::string::npos);
}

TEST_CASE("requeue gives a dead-lettered job a fresh attempt budget") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    auto spec = SchedulerFixture::job();
    spec.max_attempts = 1;
    const auto job = fixture.scheduler().submit(spec);
    const auto lease = fixture.scheduler().claim("bee-01").at(0).lease;
    CHECK(fixture.scheduler().fail(job.id, lease.token, "crash").dead_letter);
    const auto requeued = fixture.scheduler().requeue(job.id, "operator", "fixed the image");
    CHECK(requeued.status == JobStatus::queued);
    CHECK(requeued.attempts == 0);
    CHECK_FALSE(requeued.dead_letter);
    CHECK(fixture.scheduler().claim("bee-01").size() == 1);
    const auto waiting = fixture.scheduler().submit(SchedulerFixture::job());
    CHECK(error_of([&] { fixture.scheduler().requeue(waiting.id, "operator"); }) ==
          ErrorCode::conflict);
}

TEST_CASE("every transition is in the job's event log and announced to subscribers") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    std::vector<JobEvent> heard;
    const auto subscription =
        fixture.scheduler().subscribe([&](const JobEvent& event) { heard.push_back(event); });
    const auto job = fixture.scheduler().submit(SchedulerFixture::job());
    const auto lease = fixture.scheduler().claim("bee-01").at(0).lease;
    fixture.scheduler().complete(job.id, lease.token, fixture.completion());
    const auto log = fixture.scheduler().events(job.id);
    REQUIRE(log.size() == 3);
    CHECK_FALSE(log[0].from.has_value());
    CHECK(log[0].to == JobStatus::queued);
    CHECK(log[0].actor == "client-a");
    CHECK(log[1].from == JobStatus::queued);
    CHECK(log[1].to == JobStatus::running);
    CHECK(log[1].actor == "bee-01");
    CHECK(log[2].to == JobStatus::completed);
    REQUIRE(heard.size() == 3);
    CHECK(heard[2].sequence == log[2].sequence);
    fixture.scheduler().unsubscribe(subscription);
    fixture.scheduler().submit(SchedulerFixture::job());
    CHECK(heard.size() == 3);
}

TEST_CASE("a refused operation announces nothing") {
    SchedulerFixture fixture;
    int heard = 0;
    fixture.scheduler().subscribe([&](const JobEvent&) { ++heard; });
    auto spec = SchedulerFixture::job();
    spec.hub_id = "nowhere";
    CHECK_THROWS(fixture.scheduler().submit(spec));
    CHECK(heard == 0);
}

TEST_CASE("jobs are listed by hub, status and owner in pages") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    for (int i = 0; i < 7; ++i) {
        auto spec = SchedulerFixture::job();
        spec.hub_id = "zurich";
        spec.owner = i % 2 == 0 ? "ann" : "bob";
        fixture.scheduler().submit(spec);
    }
    JobFilter filter;
    filter.hub_id = "zurich";
    filter.limit = 3;
    const auto page1 = fixture.scheduler().jobs(filter);
    CHECK(page1.size() == 3);
    filter.after = page1.back().id;
    const auto page2 = fixture.scheduler().jobs(filter);
    CHECK(page2.size() == 3);
    CHECK(page2.front().id > page1.back().id);
    filter.after.clear();
    filter.owner = "ann";
    filter.limit = 50;
    CHECK(fixture.scheduler().jobs(filter).size() == 4);
    filter.status = JobStatus::running;
    CHECK(fixture.scheduler().jobs(filter).empty());
    const auto stats = fixture.scheduler().queue_stats("zurich");
    CHECK(stats.by_status.at(JobStatus::queued) == 7);
    CHECK(stats.oldest_waiting == fixture.clock->now());
}

TEST_CASE("queued jobs are listed in the order claims take them, page after page") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee", "zurich");
    auto pinned = [](std::string name, std::int64_t priority) {
        auto spec = SchedulerFixture::job(std::move(name), priority);
        spec.pin_hub = "zurich";
        return spec;
    };
    fixture.scheduler().submit(pinned("low", 0));
    // One aging interval later: "aged" (priority 1) now sorts level with "low", after it.
    fixture.advance(std::chrono::minutes(1));
    fixture.scheduler().submit(pinned("aged", 1));
    fixture.scheduler().submit(pinned("urgent", 50));
    fixture.scheduler().submit(pinned("later", 0));
    fixture.scheduler().submit(SchedulerFixture::job("unpinned", 100));
    auto names = [](const std::vector<JobRecord>& jobs) {
        std::vector<std::string> result;
        for (const auto& job : jobs) {
            result.push_back(job.spec.name);
        }
        return result;
    };
    JobFilter filter;
    filter.hub_id = "zurich";
    filter.status = JobStatus::queued;
    filter.limit = 2;
    const auto first = fixture.scheduler().jobs(filter);
    CHECK(names(first) == std::vector<std::string>{"urgent", "low"});
    filter.after = first.back().id;
    const auto second = fixture.scheduler().jobs(filter);
    CHECK(names(second) == std::vector<std::string>{"aged", "later"});
    filter.after = second.back().id;
    CHECK(fixture.scheduler().jobs(filter).empty());
    // Without a hub, the queues of every hub and of unpinned jobs, merged in the same order.
    filter = {};
    filter.status = JobStatus::queued;
    CHECK(names(fixture.scheduler().jobs(filter)) ==
          std::vector<std::string>{"unpinned", "urgent", "low", "aged", "later"});
    // The worker of zurich, which may run zurich's jobs and unpinned ones, is handed them in
    // the listed order.
    std::vector<std::string> claimed;
    for (int i = 0; i < 5; ++i) {
        const auto lease = fixture.scheduler().claim("bee", 1).at(0).lease;
        claimed.push_back(fixture.scheduler().job(lease.job_id).spec.name);
        fixture.scheduler().complete(lease.job_id, lease.token, fixture.completion());
    }
    CHECK(claimed == std::vector<std::string>{"unpinned", "urgent", "low", "aged", "later"});
    // A page continues after a job even once it has left the queue; a name that is no job
    // is refused, naming the field.
    filter.after = first.front().id;
    CHECK(names(fixture.scheduler().jobs(filter)).empty());
    filter.after = "job-nonexistent";
    CHECK_THROWS_WITH_AS(fixture.scheduler().jobs(filter), doctest::Contains("after"), Error);
}

TEST_CASE("queue statistics count a hub's jobs in every state without reading its history") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee", "zurich");
    auto pinned = [](std::string name) {
        auto spec = SchedulerFixture::job(std::move(name));
        spec.hub_id = "zurich";
        spec.max_attempts = 1;
        return spec;
    };
    auto& scheduler = fixture.scheduler();
    const auto done = scheduler.submit(pinned("done"));
    const auto broken = scheduler.submit(pinned("broken"));
    const auto busy = scheduler.submit(pinned("busy"));
    std::string busy_token;
    for (const auto& item : scheduler.claim("bee", 3)) {
        if (item.lease.job_id == busy.id) {
            busy_token = item.lease.token;
        } else if (item.lease.job_id == done.id) {
            scheduler.complete(item.lease.job_id, item.lease.token, fixture.completion());
        } else if (item.lease.job_id == broken.id) {
            scheduler.fail(item.lease.job_id, item.lease.token, "exit 1", false);
        }
    }
    fixture.advance(std::chrono::minutes(1));
    const auto waiting_since = fixture.clock->now();
    const auto dropped = scheduler.submit(pinned("dropped"));
    scheduler.cancel(dropped.id, "operator");
    scheduler.submit(pinned("waiting"));
    auto follower = pinned("follower");
    follower.depends_on = {busy.id};
    const auto pending = scheduler.submit(follower);
    CHECK(pending.status == JobStatus::pending);
    scheduler.submit(SchedulerFixture::job("elsewhere"));  // pinned to no hub

    const auto stats = scheduler.queue_stats("zurich");
    CHECK(stats.by_status == std::map<JobStatus, std::int64_t>{{JobStatus::pending, 1},
                                                               {JobStatus::queued, 1},
                                                               {JobStatus::running, 1},
                                                               {JobStatus::completed, 1},
                                                               {JobStatus::failed, 1},
                                                               {JobStatus::cancelled, 1}});
    CHECK(stats.oldest_waiting == waiting_since);
    const auto unpinned = scheduler.queue_stats("");
    CHECK(unpinned.by_status.at(JobStatus::queued) == 1);
    CHECK(unpinned.by_status.at(JobStatus::completed) == 0);
    // Each state is listed from its own index, in id order.
    for (const auto& [status, name] :
         std::vector<std::pair<JobStatus, std::string>>{{JobStatus::pending, "follower"},
                                                        {JobStatus::running, "busy"},
                                                        {JobStatus::completed, "done"},
                                                        {JobStatus::failed, "broken"},
                                                        {JobStatus::cancelled, "dropped"}}) {
        CAPTURE(to_string(status));
        JobFilter filter;
        filter.hub_id = "zurich";
        filter.status = status;
        const auto listed = scheduler.jobs(filter);
        REQUIRE(listed.size() == 1);
        CHECK(listed.front().spec.name == name);
    }
    // The job it waited for completes: the follower is queued, and the counts move with it.
    scheduler.complete(busy.id, busy_token, fixture.completion());
    const auto after = scheduler.queue_stats("zurich");
    CHECK(after.by_status.at(JobStatus::pending) == 0);
    CHECK(after.by_status.at(JobStatus::queued) == 2);
    CHECK(after.by_status.at(JobStatus::running) == 0);
    CHECK(after.by_status.at(JobStatus::completed) == 2);
}

TEST_CASE("eight threads claiming and completing at once run every job exactly once") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    for (int t = 0; t < 8; ++t) {
        fixture.add_worker("bee-" + std::to_string(t), "zurich", 64000, 64LL << 30);
    }
    std::vector<JobSpec> batch(400, SchedulerFixture::job());
    fixture.scheduler().submit_many(batch);
    std::mutex seen_mutex;
    std::map<std::string, int> runs;
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            const auto worker = "bee-" + std::to_string(t);
            for (;;) {
                const auto claimed = fixture.scheduler().claim(worker, 3);
                if (claimed.empty()) {
                    return;
                }
                for (const auto& item : claimed) {
                    fixture.scheduler().complete(item.lease.job_id, item.lease.token,
                                                 fixture.completion());
                    std::lock_guard lock(seen_mutex);
                    runs[item.lease.job_id] += 1;
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    CHECK(runs.size() == 400);
    CHECK(std::all_of(runs.begin(), runs.end(), [](const auto& run) { return run.second == 1; }));
    JobFilter filter;
    filter.status = JobStatus::completed;
    filter.limit = 1000;
    CHECK(fixture.scheduler().jobs(filter).size() == 400);
}

TEST_CASE("a completion without a measured figure is modelled from the hub's power model") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");  // 10 W per core, 90 % heat recovery
    fixture.add_worker("bee-01", "zurich");
    auto spec = SchedulerFixture::job();
    spec.workload.resources.cpu_millicores = 2000;  // 20 W
    const auto job = fixture.scheduler().submit(spec);
    const auto lease = fixture.scheduler().claim("bee-01").at(0).lease;
    fixture.advance(std::chrono::minutes(30));
    JobCompletion done;  // no energy reported
    const auto finished = fixture.scheduler().complete(job.id, lease.token, done);
    CHECK(finished.energy_source == EnergySource::modelled);
    CHECK(finished.actual_energy->mwh() == 10'000);  // 20 W for half an hour = 10 Wh
    CHECK(finished.heat_generated->mwh() == 9'000);
}

TEST_CASE("a completed job's heat is in the heat ledger, recorded with the completion") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    const auto job = fixture.scheduler().submit(SchedulerFixture::job());
    const auto lease = fixture.scheduler().claim("bee-01").at(0).lease;
    CHECK_THROWS(fixture.scheduler().complete(job.id, "0123456789abcdef0123456789abcdef",
                                              fixture.completion(4'000'000)));
    CHECK(fixture.hub.heat_ledger().stats("zurich").total_heat.mwh() == 0);
    fixture.scheduler().complete(job.id, lease.token, fixture.completion(4'000'000));
    CHECK(fixture.hub.heat_ledger().stats("zurich").total_heat.mwh() == 3'600'000);
}

TEST_CASE("a batch of completions frees every worker's and hub's resources and records all heat") {
    // complete_many stores the workers' and hubs' counters and the heat buckets once per
    // batch: the totals must equal those of completing the jobs one by one.
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_hub("basel");
    std::vector<std::pair<Lease, JobCompletion>> batch;
    std::map<std::string, std::int64_t> electrical_by_hub;
    std::int64_t mwh = 1'000'000;
    for (const auto& [worker, hub, gpus] :
         {std::tuple{"bee-01", "zurich", 1}, std::tuple{"bee-02", "zurich", 0},
          std::tuple{"bee-03", "basel", 2}}) {
        // Each worker registers just before it claims, so a claim takes all three jobs (an idle
        // worker of the same hub would get its share under least-loaded).
        fixture.add_worker(worker, hub, 4000, 8LL << 30,
                           std::vector<GpuSpec>(static_cast<std::size_t>(gpus),
                                                GpuSpec{gpus == 1 ? "A100" : "T4",
                                                        gpus == 1 ? 80LL << 30 : 16LL << 30}));
        for (int i = 0; i < 3; ++i) {
            auto spec = SchedulerFixture::job(fmt::format("{}-{}", worker, i));
            spec.hub_id = hub;
            spec.workload.resources.gpu = i < gpus;
            spec.workload.resources.gpu_vram_bytes = i < gpus ? 8LL << 30 : 0;
            fixture.scheduler().submit(spec);
        }
        const auto claimed = fixture.scheduler().claim(worker, 3);
        REQUIRE(claimed.size() == 3);
        const auto busy = fixture.scheduler().worker(worker);
        CHECK(busy.running_jobs == 3);
        CHECK(busy.gpus_in_use == (std::uint64_t{1} << gpus) - 1);
        for (const auto& job : claimed) {
            batch.emplace_back(job.lease, fixture.completion(mwh));
            electrical_by_hub[hub] += mwh;
            mwh += 250'000;
        }
    }
    CHECK(fixture.scheduler().hub("zurich").running_power_w > 0);

    // One stale token refuses the whole batch, counters and heat included.
    auto stale = batch;
    stale.back().first.token = "0123456789abcdef0123456789abcdef";
    CHECK(error_of([&] { fixture.scheduler().complete_many(stale); }) == ErrorCode::conflict);
    CHECK(fixture.scheduler().worker("bee-03").running_jobs == 3);
    CHECK(fixture.hub.heat_ledger().stats("basel").total_heat.mwh() == 0);

    const auto done = fixture.scheduler().complete_many(batch);
    REQUIRE(done.size() == 9);
    for (const auto& job : done) {
        CHECK(job.status == JobStatus::completed);
    }
    for (const auto* worker : {"bee-01", "bee-02", "bee-03"}) {
        const auto record = fixture.scheduler().worker(worker);
        CHECK(record.running_jobs == 0);
        CHECK(record.used_cpu_millicores == 0);
        CHECK(record.used_memory_bytes == 0);
        CHECK(record.gpus_in_use == 0);
        CHECK(record.status == WorkerStatus::online);
    }
    for (const auto* hub : {"zurich", "basel"}) {
        CHECK(fixture.scheduler().hub(hub).running_power_w == 0);
        // 90 % heat recovery, exact in mWh.
        CHECK(fixture.hub.heat_ledger().stats(hub).total_heat.mwh() ==
              electrical_by_hub[hub] * 9 / 10);
    }
}
