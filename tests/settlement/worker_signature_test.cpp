// SPDX-License-Identifier: Apache-2.0
// requireWorkerSignatures: a completion counts only with its worker's EIP-191 signature of the
// proof of execution.
#include "settlement/fixture.hpp"
#include "support/errors.hpp"

#include <doctest/doctest.h>

#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>

using namespace sihlicon;
using sihlicon::testing::error_of;
using sihlicon::testing::SettlementFixture;

TEST_CASE("with requireWorkerSignatures an unsigned or wrongly signed completion is refused") {
    SettlementFixture f;
    f.hub.reset();
    HubOptions options;
    options.clock = f.clock;
    options.durability = Durability::process_crash;
    HubSettings settings;
    settings.submissions_per_hour = 0;
    settings.require_worker_signatures = true;
    f.hub = sihlicon::testing::open_with_settings(f.dir.path(), options, settings);
    CHECK(f.hub->settings().require_worker_signatures);

    const auto key = crypto::PrivateKey::generate();
    f.add_site();
    f.add_worker("bee-01", {{"address", key.address().to_string()}});
    f.add_worker("bee-02");  // no key: it can never complete a job on this hub
    const auto job = f.scheduler().submit(SettlementFixture::job());
    const auto claimed = f.scheduler().claim("bee-01", 1);
    REQUIRE(claimed.size() == 1);
    auto completion = SettlementFixture::done("result-1");
    // Unsigned, even with the right proof: refused, naming the field; the job still runs.
    completion.proof_of_execution = proof_of_execution(job.id, "result-1", "bee-01");
    try {
        f.scheduler().complete(job.id, claimed[0].lease.token, completion);
        FAIL("an unsigned completion was accepted");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "worker_signature");
    }
    CHECK(f.scheduler().job(job.id).status == JobStatus::running);
    // Signed by another key: refused.
    const auto proof = *completion.proof_of_execution;
    completion.worker_signature =
        crypto::PrivateKey::generate().sign_message(std::string_view(proof)).to_hex();
    CHECK(error_of([&] { f.scheduler().complete(job.id, claimed[0].lease.token, completion); }) ==
          ErrorCode::invalid_argument);
    // Signed over another job's proof: refused.
    completion.worker_signature =
        key.sign_message(std::string_view(proof_of_execution("other", "result-1", "bee-01")))
            .to_hex();
    CHECK(error_of([&] { f.scheduler().complete(job.id, claimed[0].lease.token, completion); }) ==
          ErrorCode::invalid_argument);
    CHECK(f.scheduler().job(job.id).status == JobStatus::running);
    // Signed by the worker's key, with the proof left for the hub to compute: completed.
    completion.proof_of_execution.reset();
    completion.worker_signature = key.sign_message(std::string_view(proof)).to_hex();
    CHECK(f.scheduler().complete(job.id, claimed[0].lease.token, completion).status ==
          JobStatus::completed);

    // A worker without a key cannot sign: its completions are refused.
    const auto other = f.scheduler().submit(SettlementFixture::job());
    const auto taken = f.scheduler().claim("bee-02", 1);
    REQUIRE(taken.size() == 1);
    CHECK(error_of([&] {
              f.scheduler().complete(other.id, taken[0].lease.token,
                                     SettlementFixture::done("result-2"));
          }) == ErrorCode::invalid_argument);
}

TEST_CASE("without requireWorkerSignatures an unsigned completion is accepted") {
    SettlementFixture f;
    f.charge_jobs = false;
    CHECK_FALSE(f.hub->settings().require_worker_signatures);
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", sihlicon::testing::usd("1"), "tx-1");
    CHECK_FALSE(f.run_job("alice", "bee-01").empty());
}
