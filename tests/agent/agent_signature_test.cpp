// SPDX-License-Identifier: Apache-2.0
// An agent with a worker key signs the proof of execution of each completion over its real
// outputs, so a hub with requireWorkerSignatures takes its work.
#include "agent/fixture.hpp"

#include <doctest/doctest.h>
#include <sihlicon/crypto.hpp>
#include <sihlicon/settlement.hpp>
#include <sihlicon/worker_agent.hpp>

namespace sihlicon::testing {

TEST_CASE("an agent with a worker key signs its proofs; a hub requiring signatures takes them") {
    AgentFixture fixture;
    fixture.hub.set_setting("requireWorkerSignatures", "true", "operator");
    const auto key = crypto::PrivateKey::generate();
    const auto job = fixture.scheduler().submit(
        AgentFixture::shell_job("signed", "printf 'result' > \"$SIHLICON_OUTPUT_DIR/out.txt\""));

    auto options = fixture.agent_options();
    options.worker_key = key;
    WorkerAgent agent(fixture.hub, options);
    const auto worker = agent.start();
    CHECK(worker.spec.labels.at("address") == key.address().to_string());
    const auto done = fixture.wait_final(agent, job.id);
    agent.stop();
    REQUIRE(done.status == JobStatus::completed);
    REQUIRE(done.output_refs.size() == 1);
    CHECK(done.output_refs[0] == AgentFixture::cid_of("result"));
    // The epoch records the proof over the real output: sha256(job ‖ output CID ‖ worker).
    const auto jobs =
        fixture.hub.settlement().epoch_jobs(fixture.hub.settlement().current_epoch().id);
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].poe_hash == proof_of_execution(job.id, done.output_refs[0], "bee-01"));
}

TEST_CASE("an agent without a key cannot complete on a hub that requires signatures") {
    AgentFixture fixture;
    fixture.hub.set_setting("requireWorkerSignatures", "true", "operator");
    auto spec = AgentFixture::shell_job("unsigned", "true");
    spec.max_attempts = 1;
    const auto job = fixture.scheduler().submit(spec);
    WorkerAgent agent(fixture.hub, fixture.agent_options());
    agent.start();
    const auto done = fixture.wait_final(agent, job.id);
    agent.stop();
    CHECK(done.status != JobStatus::completed);
}

}  // namespace sihlicon::testing
