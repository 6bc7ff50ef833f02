// SPDX-License-Identifier: Apache-2.0
#include "scheduler/fixture.hpp"
#include "scheduler/job_spec.hpp"

#include "support/schema_rewind.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>

#include <boost/json.hpp>

using namespace sihlicon;
using sihlicon::testing::SchedulerFixture;

namespace {

// The example body of the seed's POST /api/compute, verbatim but for a real CID.
const std::string kSeedExample = R"({
  "jobType": "ocr",
  "jobName": "Process historical ledger",
  "workloadConfig": {
    "containerImage": "tesseract/tesseract:latest",
    "command": ["tesseract", "/input/page.png", "/output"],
    "resources": {
      "cpu": "2",
      "memory": "2Gi"
    }
  },
  "inputDataRefs": ["bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"],
  "estimatedComputeKwh": 500,
  "priority": 10
})";

Error submit_error(SchedulerFixture& fixture, const std::string& json) {
    try {
        fixture.scheduler().submit_json(json, "client-a");
    } catch (const Error& error) {
        return error;
    }
    FAIL("the request must be refused: " << json);
    return Error(ErrorCode::internal, "unreachable");
}

Error submit_error_of(SchedulerFixture& fixture, const JobSpec& spec) {
    try {
        fixture.scheduler().submit(spec);
    } catch (const Error& error) {
        return error;
    }
    FAIL("the spec must be refused");
    return Error(ErrorCode::internal, "unreachable");
}

std::string with(const std::string& key, const std::string& value) {
    auto object = boost::json::parse(kSeedExample).as_object();
    object[key] = boost::json::parse(value);
    return boost::json::serialize(object);
}

std::string with_resources(const std::string& key, const std::string& value) {
    auto object = boost::json::parse(kSeedExample).as_object();
    object["workloadConfig"].as_object()["resources"].as_object()[key] = boost::json::parse(value);
    return boost::json::serialize(object);
}

}  // namespace

TEST_CASE("the seed's example request is accepted as is and queued") {
    SchedulerFixture fixture;
    const auto job = fixture.scheduler().submit_json(kSeedExample, "client-a");
    CHECK(is_valid_id(job.id, "job"));
    CHECK(job.status == JobStatus::queued);
    CHECK(job.spec.type == JobType::ocr);
    CHECK(job.spec.name == "Process historical ledger");
    CHECK(job.spec.workload.command.size() == 3);
    CHECK(job.spec.workload.resources.cpu_millicores == 2000);
    CHECK(job.spec.workload.resources.memory_bytes == 2LL * 1024 * 1024 * 1024);
    CHECK(job.spec.estimated_energy->mwh() == 500'000'000);
    CHECK(job.spec.priority == 10);
    CHECK(job.spec.owner == "client-a");
    const auto stored = fixture.scheduler().job(job.id);
    CHECK(stored.spec.workload.command == job.spec.workload.command);
    CHECK(stored.spec.input_refs == job.spec.input_refs);
}

TEST_CASE("a job's JSON has the seed's status shape") {
    SchedulerFixture fixture;
    const auto job = fixture.scheduler().submit_json(kSeedExample, "client-a");
    const auto json = boost::json::parse(job.to_json()).as_object();
    CHECK(json.at("jobId").as_string() == job.id);
    CHECK(json.at("status").as_string() == "queued");
    CHECK(json.at("outputDataRefs").as_array().empty());
    CHECK(json.at("actualComputeKwh").is_null());
    CHECK(json.at("heatGeneratedKwh").is_null());
    CHECK(json.at("errorMessage").is_null());
}

TEST_CASE("every malformed field is refused by name and nothing is written") {
    SchedulerFixture fixture;
    struct Case {
        std::string body;
        std::string field;
    };
    const std::vector<Case> cases{
        {with("jobType", R"("mining")"), "jobType"},
        {with("jobName", R"("")"), "jobName"},
        {with("jobName", "42"), "jobName"},
        {with("priority", "1.5"), "priority"},
        {with("priority", "100000"), "priority"},
        {with("inputDataRefs", R"(["bafkreiabc123..."])"), "inputDataRefs[0]"},
        {with("estimatedComputeKwh", "-1"), "estimatedComputeKwh"},
        {with("scheduledAt", R"("tomorrow")"), "scheduledAt"},
        {with("deadline", R"("2020-01-01T00:00:00Z")"), "deadline"},
        {with("jobNmae", R"("typo")"), "jobNmae"},
        {with("maxAttempts", "0"), "maxAttempts"},
        {with("dependsOn", R"(["not-a-job"])"), "dependsOn"},
        {with_resources("memory", R"("4Qi")"), "workloadConfig.resources.memory"},
        {with_resources("memory", R"("1.5Gi")"), "workloadConfig.resources.memory"},
        {with_resources("cpu", R"("0")"), "workloadConfig.resources.cpu"},
        {with_resources("cpu", R"("0.0001")"), "workloadConfig.resources.cpu"},
        {with_resources("cpu", "2"), "workloadConfig.resources.cpu"},
        {with_resources("gpu", R"("yes")"), "workloadConfig.resources.gpu"},
        {R"({"jobType":"ocr","jobName":"x"})", "workloadConfig"},
        {"[1,2]", "body"},
        {"{not json", "body"},
    };
    for (const auto& [body, field] : cases) {
        CAPTURE(body);
        const auto error = submit_error(fixture, body);
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == field);
    }
    CHECK(fixture.count_jobs() == 0);
}

TEST_CASE("a job name, owner, hub, key or label holding a control character is refused") {
    // A name with a newline would forge a line in `job list`; a bidi override would hide one.
    SchedulerFixture fixture;
    struct Case {
        std::string body;
        std::string field;
    };
    const std::vector<Case> cases{
        {with("jobName", R"("ok\n01J... completed forged")"), "jobName"},
        {with("jobName", R"("tab\tname")"), "jobName"},
        {with("jobName", R"("esc\u001b[2J")"), "jobName"},
        {with("jobName", R"("c1\u0085")"), "jobName"},
        {with("jobName", R"("rlo\u202eexe.txt")"), "jobName"},
        {with("jobName", R"("ls\u2028")"), "jobName"},
        {with("hubId", R"("hub\u0000")"), "hubId"},
        {with("idempotencyKey", R"("k\u007f")"), "idempotencyKey"},
        {with("constraints", R"({"labels":{"zone":"a\nb"}})"), "constraints.labels.zone"},
    };
    for (const auto& [body, field] : cases) {
        CAPTURE(body);
        const auto error = submit_error(fixture, body);
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == field);
        CHECK(std::string(error.what()).find('\n') == std::string::npos);
    }
    // Through the C++ API too, not only JSON.
    auto spec = JobSpec::from_json(kSeedExample, "client-a");
    spec.name = "two\nlines";
    CHECK(submit_error_of(fixture, spec).field() == "jobName");
    spec.name = "fine";
    spec.owner = "eve\r";
    CHECK(submit_error_of(fixture, spec).field() == "owner");
    CHECK(fixture.count_jobs() == 0);
    // Any script is fine.
    fixture.scheduler().submit_json(with("jobName", R"("Zürich 名前 \ud83d\udd25")"), "client-a");
    CHECK(fixture.count_jobs() == 1);
}

TEST_CASE("a job spec repeating a member name is refused, not read with the last value") {
    SchedulerFixture fixture;
    const auto body = R"({"jobName":"first",)" + kSeedExample.substr(1);
    const auto error = submit_error(fixture, body);
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(std::string(error.what()).find("duplicate member name \"jobName\"") != std::string::npos);
    CHECK(fixture.count_jobs() == 0);
}

TEST_CASE("resource quantities are parsed exactly") {
    CHECK(parse_cpu_millicores("2") == 2000);
    CHECK(parse_cpu_millicores("500m") == 500);
    CHECK(parse_cpu_millicores("1.5") == 1500);
    CHECK(parse_cpu_millicores("0.125") == 125);
    CHECK(parse_memory_bytes("4Gi") == 4LL << 30);
    CHECK(parse_memory_bytes("512M") == 512'000'000);
    CHECK(parse_memory_bytes("1Ki") == 1024);
    CHECK(parse_memory_bytes("123") == 123);
    CHECK(parse_memory_bytes("7Ei") == 7LL << 60);
}

TEST_CASE("resource quantities that are not exact are refused") {
    for (const char* bad : {"", "m", "-1", "1.2345", "2 ", "two", "1e3", "0m"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_cpu_millicores(bad), Error);
    }
    for (const char* bad : {"", "Gi", "4gi", "1.5Gi", "-1", "10Qi", "8Ei"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_memory_bytes(bad), Error);
    }
}

TEST_CASE("an idempotency key returns the first job for the same request, and refuses another") {
    SchedulerFixture fixture;
    auto spec = SchedulerFixture::job();
    spec.idempotency_key = "order-17";
    const auto first = fixture.scheduler().submit(spec);
    const auto again = fixture.scheduler().submit(spec);
    CHECK(again.id == first.id);
    CHECK(fixture.count_jobs() == 1);
    spec.name = "something else";
    CHECK_THROWS_WITH_AS(fixture.scheduler().submit(spec), doctest::Contains("order-17"), Error);
    CHECK(fixture.count_jobs() == 1);
}

TEST_CASE("the per-owner rate limit refuses the eleventh job in an hour with the time to wait") {
    SchedulerFixture fixture;
    fixture.hub.set_setting("submissionsPerHour", "10", "operator");  // the seed's default
    for (int i = 0; i < 10; ++i) {
        fixture.scheduler().submit(SchedulerFixture::job());
        fixture.clock->advance(std::chrono::minutes(1));
    }
    try {
        fixture.scheduler().submit(SchedulerFixture::job());
        FAIL("the eleventh job must be refused");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::quota_exceeded);
        CHECK(std::string(error.what()).find("retry in 3000 s") != std::string::npos);
    }
    auto other = SchedulerFixture::job();
    other.owner = "client-b";
    CHECK_NOTHROW(fixture.scheduler().submit(other));
    fixture.clock->advance(std::chrono::minutes(51));
    CHECK_NOTHROW(fixture.scheduler().submit(SchedulerFixture::job()));
}

TEST_CASE("a hub's queue-depth limit pushes back on submissions") {
    SchedulerFixture fixture;
    HubSpec spec = fixture.add_hub("zurich").spec;
    spec.max_queue_depth = 2;
    fixture.scheduler().update_hub(spec);
    auto job = SchedulerFixture::job();
    job.hub_id = "zurich";
    fixture.scheduler().submit(job);
    fixture.scheduler().submit(job);
    try {
        fixture.scheduler().submit(job);
        FAIL("the third job must be refused");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::quota_exceeded);
    }
    CHECK(fixture.count_jobs() == 2);
}

TEST_CASE("a job pinned to an unknown hub or depending on an unknown job is refused") {
    SchedulerFixture fixture;
    auto job = SchedulerFixture::job();
    job.hub_id = "nowhere";
    CHECK_THROWS_WITH_AS(fixture.scheduler().submit(job), doctest::Contains("nowhere"), Error);
    job.hub_id.reset();
    job.depends_on = {"job-01ARZ3NDEKTSV4RRFFQ69G5FAV"};
    try {
        fixture.scheduler().submit(job);
        FAIL("must be refused");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::not_found);
        CHECK(error.field() == "dependsOn");
    }
    CHECK(fixture.count_jobs() == 0);
}

TEST_CASE("a batch of submissions is accepted whole or not at all") {
    SchedulerFixture fixture;
    std::vector<JobSpec> batch(5, SchedulerFixture::job());
    CHECK(fixture.scheduler().submit_many(batch).size() == 5);
    batch[3].hub_id = "nowhere";
    CHECK_THROWS_AS(fixture.scheduler().submit_many(batch), Error);
    CHECK(fixture.count_jobs() == 5);
}

TEST_CASE("a job whose input is not stored yet waits as pending and is queued once it arrives") {
    SchedulerFixture fixture;
    fixture.add_hub("pool");
    fixture.add_worker("bee", "pool");
    auto spec = SchedulerFixture::job();
    spec.input_refs = {testing::kCidHelloWorld, testing::kCidHelloWorldLine};
    const auto job = fixture.scheduler().submit(spec);
    CHECK(job.status == JobStatus::pending);
    CHECK(job.wait_reason == "inputs");
    fixture.advance(std::chrono::seconds(5));
    CHECK(fixture.scheduler().claim("bee").empty());  // still missing: it keeps waiting
    CHECK(fixture.scheduler().job(job.id).wait_reason == "inputs");
    const auto explained = fixture.scheduler().explain(job.id);
    CHECK(explained.front().reasons.front().find("inputs") != std::string::npos);

    const std::string line = "hello world\n";
    fixture.hub.content_store().put_bytes(
        {reinterpret_cast<const std::uint8_t*>(line.data()), line.size()}, "client-a");
    CHECK(fixture.scheduler().claim("bee").empty());  // looked at again once a second
    fixture.advance(fixture.scheduler().options().input_recheck_interval);
    const auto claimed = fixture.scheduler().claim("bee");
    REQUIRE(claimed.size() == 1);
    CHECK(claimed.front().lease.job_id == job.id);
    const auto events = fixture.scheduler().events(job.id);
    CHECK(events.front().to == JobStatus::pending);
    CHECK(events.front().reason.find("inputs") != std::string::npos);
}

TEST_CASE("a job whose inputs are all stored is queued at once") {
    SchedulerFixture fixture;
    auto spec = SchedulerFixture::job();
    spec.input_refs = {testing::kCidHelloWorld};
    CHECK(fixture.scheduler().submit(spec).status == JobStatus::queued);
}

TEST_CASE("a job released by its dependency still waits for a missing input") {
    SchedulerFixture fixture;
    fixture.add_hub("pool");
    fixture.add_worker("bee", "pool");
    const auto first = fixture.scheduler().submit(SchedulerFixture::job("first"));
    auto spec = SchedulerFixture::job("second");
    spec.depends_on = {first.id};
    spec.input_refs = {testing::kCidHelloWorldLine};
    const auto second = fixture.scheduler().submit(spec);
    CHECK(second.wait_reason == "dependencies");
    const auto claimed = fixture.scheduler().claim("bee");
    REQUIRE(claimed.size() == 1);
    fixture.scheduler().complete(claimed.front().lease.job_id, claimed.front().lease.token,
                                 fixture.completion());
    const auto now_waiting = fixture.scheduler().job(second.id);
    CHECK(now_waiting.status == JobStatus::pending);
    CHECK(now_waiting.wait_reason == "inputs");
}

TEST_CASE(
    "a hub made before migration 7 reopens with its jobs listed by hub and status and its "
    "workers' running jobs found") {
    SchedulerFixture fixture;
    fixture.add_hub("pool");
    fixture.add_worker("bee", "pool");
    auto spec = SchedulerFixture::job("pinned");
    spec.hub_id = "pool";
    const auto first = fixture.scheduler().submit(spec);
    const auto second = fixture.scheduler().submit(spec);
    REQUIRE(fixture.scheduler().claim("bee", 1).size() == 1);
    // Back to schema 6: jobs_by_hub as migration 2 made it, with the status in its key.
    HubAccess::database(fixture.hub).write([](store::Transaction& tx) {
        testing::restore_job_events_table(tx);
        for (const char* sql :
             {"DROP INDEX jobs_by_hub", "CREATE INDEX jobs_by_hub ON jobs (hub_id, status, id)",
              "DELETE FROM schema_migrations WHERE version >= 7", "PRAGMA user_version = 6"}) {
            tx.prepare(sql).run();
        }
    });
    fixture.hub = fixture.open_hub();
    CHECK(fixture.hub.info().schema_version == Hub::latest_schema_version());
    const auto definition = HubAccess::database(fixture.hub).read([](store::Transaction& tx) {
        auto row = tx.prepare("SELECT sql FROM sqlite_master WHERE name = 'jobs_by_hub'");
        REQUIRE(row.step());
        return row.column_text(0);
    });
    // Migration 9, run again, keeps pinned jobs only.
    CHECK(definition == "CREATE INDEX jobs_by_hub ON jobs (hub_id, id) WHERE hub_id IS NOT NULL");
    JobFilter on_pool;
    on_pool.hub_id = "pool";
    const auto listed = fixture.scheduler().jobs(on_pool);
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].id == std::min(first.id, second.id));
    on_pool.status = JobStatus::running;
    CHECK(fixture.scheduler().jobs(on_pool).size() == 1);
    on_pool.status = JobStatus::queued;
    CHECK(fixture.scheduler().jobs(on_pool).size() == 1);
    // Migration 9: the lease index, not an index by worker, finds the job an offline worker
    // held, and gives it back.
    fixture.scheduler().set_worker_status("bee", WorkerStatus::offline);
    on_pool.status = JobStatus::running;
    CHECK(fixture.scheduler().jobs(on_pool).empty());
}

TEST_CASE("a hub made before migration 10 counts its jobs once and lists them by state") {
    SchedulerFixture fixture;
    fixture.add_hub("pool");
    fixture.add_worker("bee", "pool");
    auto spec = SchedulerFixture::job("pinned");
    spec.hub_id = "pool";
    spec.max_attempts = 1;
    const auto done = fixture.scheduler().submit(spec);
    const auto broken = fixture.scheduler().submit(spec);
    for (const auto& item : fixture.scheduler().claim("bee", 2)) {
        if (item.lease.job_id == done.id) {
            fixture.scheduler().complete(item.lease.job_id, item.lease.token, fixture.completion());
        } else {
            fixture.scheduler().fail(item.lease.job_id, item.lease.token, "exit 1", false);
        }
    }
    const auto waiting = fixture.scheduler().submit(spec);
    fixture.scheduler().submit(SchedulerFixture::job("unpinned"));
    // Back to schema 9: jobs_ready without created_at, and lists and counts that are wrong (a
    // second run of migration 10 must list and count afresh, not add).
    HubAccess::database(fixture.hub).write([](store::Transaction& tx) {
        testing::restore_job_events_table(tx);
        for (const char* sql :
             {"DELETE FROM job_states", "DROP INDEX jobs_ready",
              "CREATE INDEX jobs_ready ON jobs (queue_hub, sort_key) WHERE status = 'queued'",
              "UPDATE job_counts SET count = 99",
              "DELETE FROM schema_migrations WHERE version >= 10", "PRAGMA user_version = 9"}) {
            tx.prepare(sql).run();
        }
    });
    fixture.hub = fixture.open_hub();
    CHECK(fixture.hub.info().schema_version == Hub::latest_schema_version());
    const auto stats = fixture.scheduler().queue_stats("pool");
    CHECK(stats.by_status.at(JobStatus::queued) == 1);
    CHECK(stats.by_status.at(JobStatus::completed) == 1);
    CHECK(stats.by_status.at(JobStatus::failed) == 1);
    CHECK(stats.by_status.at(JobStatus::running) == 0);
    CHECK(stats.oldest_waiting == waiting.created_at);
    CHECK(fixture.scheduler().queue_stats("").by_status.at(JobStatus::queued) == 1);
    JobFilter failed;
    failed.status = JobStatus::failed;
    const auto listed = fixture.scheduler().jobs(failed);
    REQUIRE(listed.size() == 1);
    CHECK(listed.front().id == broken.id);
    // The counts go on from there.
    fixture.scheduler().cancel(waiting.id, "operator");
    const auto after = fixture.scheduler().queue_stats("pool");
    CHECK(after.by_status.at(JobStatus::queued) == 0);
    CHECK(after.by_status.at(JobStatus::cancelled) == 1);
    CHECK_FALSE(after.oldest_waiting);
}

TEST_CASE("the stored text of a job's spec is written field by field, in one fixed order") {
    JobSpec spec;
    spec.type = JobType::ai_inference;
    spec.name = "embed \"docs\"";
    spec.description = "line\nbreak";
    spec.workload.container_image = "ghcr.io/acme/embed:1";
    spec.workload.command = {"python", "run.py"};
    spec.workload.env = {{"B", "2"}, {"A", "1"}};
    spec.workload.resources = {2500, 4LL << 30, true, 16LL << 30};
    spec.workload.timeout_seconds = 600;
    spec.input_refs = {"bafkreia"};
    spec.estimated_energy = Energy::parse_kwh("0.0125");
    spec.priority = -3;
    spec.scheduled_at = Timestamp::from_ms(1'700'000'000'123);
    spec.hub_id = "hub-a";
    spec.owner = "ann";
    spec.idempotency_key = "key-1";
    spec.max_attempts = 5;
    spec.backoff_ms = 250;
    spec.deadline = Timestamp::from_ms(1'700'000'360'000);
    spec.required_labels = {{"zone", "north"}};
    spec.region = "eu";
    spec.depends_on = {"job-1", "job-2"};
    // What the boost::json tree it was built as before wrote, byte for byte.
    CHECK(scheduler::to_stored_json(spec) ==
          R"({"jobType":"ai-inference","jobName":"embed \"docs\"","jobDescription":"line\nbreak",)"
          R"("workloadConfig":{"containerImage":"ghcr.io/acme/embed:1","command":["python",)"
          R"("run.py"],"env":{"A":"1","B":"2"},"resources":{"cpu":"2500m","memory":"4294967296",)"
          R"("gpu":true,"gpuMemory":"17179869184"},"timeoutSeconds":600},)"
          R"("inputDataRefs":["bafkreia"],"priority":-3,"owner":"ann","maxAttempts":5,)"
          R"("backoffMs":250,"constraints":{"labels":{"zone":"north"},"region":"eu"},)"
          R"("dependsOn":["job-1","job-2"],"estimatedComputeKwh":0.0125,)"
          R"("scheduledAt":"2023-11-14T22:13:20.123Z","hubId":"hub-a","idempotencyKey":"key-1",)"
          R"("deadline":"2023-11-14T22:19:20.000Z"})");
    JobSpec plain;
    plain.owner = "bob";
    CHECK(scheduler::to_stored_json(plain) ==
          R"({"jobType":"custom","jobName":"","jobDescription":"","workloadConfig":)"
          R"({"containerImage":"","command":[],"env":{},"resources":{"cpu":"1000m",)"
          R"("memory":"0","gpu":false},"timeoutSeconds":3600},"inputDataRefs":[],"priority":0,)"
          R"("owner":"bob","maxAttempts":3,"backoffMs":1000,"constraints":{"labels":{}},)"
          R"("dependsOn":[]})");
    // and it is what the spec is read back from
    CHECK(scheduler::stored_spec_from_json(scheduler::to_stored_json(spec)).name == spec.name);
}

TEST_CASE(
    "a job whose input is another owner's private content waits exactly as for content "
    "nobody stored") {
    SchedulerFixture fixture;
    fixture.add_hub("pool");
    fixture.add_worker("bee", "pool");
    const std::string secret = "a private ledger page\n";
    const auto stored = fixture.hub.content_store().put_bytes(
        {reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()}, "someone-else");
    auto spec = SchedulerFixture::job();
    REQUIRE(spec.owner != "someone-else");
    spec.input_refs = {stored.content_id};
    const auto job = fixture.scheduler().submit(spec);
    CHECK(job.status == JobStatus::pending);  // no existence oracle through the scheduler
    CHECK(job.wait_reason == "inputs");
    fixture.advance(fixture.scheduler().options().input_recheck_interval);
    CHECK(fixture.scheduler().claim("bee").empty());

    // Once the job's owner supplies the bytes itself, the job runs.
    fixture.hub.content_store().put_bytes(
        {reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()}, spec.owner);
    fixture.advance(fixture.scheduler().options().input_recheck_interval);
    CHECK(fixture.scheduler().claim("bee").size() == 1);
}
