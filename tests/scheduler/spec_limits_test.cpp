// SPDX-License-Identifier: Apache-2.0
//
// Job specs are refused by their length before they are parsed.
#include "scheduler/fixture.hpp"
#include "support/errors.hpp"
#include "support/samples.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>

#include <string>

using namespace sihlicon;
using sihlicon::testing::error_from;
using sihlicon::testing::SchedulerFixture;

namespace {

const std::string kSpec = R"({"jobType": "ocr", "jobName": "ledger",
  "workloadConfig": {"containerImage": "tesseract/tesseract:latest",
                     "resources": {"cpu": "1", "memory": "1Gi"}}})";

// kSpec padded with spaces to `size` bytes: valid JSON of exactly that length.
std::string spec_of_size(std::size_t size) {
    return kSpec + std::string(size - kSpec.size(), ' ');
}

}  // namespace

TEST_CASE("a job spec of 1 MiB is accepted and one byte more is refused by its size") {
    SchedulerFixture fixture;
    fixture.scheduler().register_hub(sihlicon::testing::pool_hub());
    CHECK(JobSpec::kMaxJsonBytes == 1'048'576);
    CHECK_NOTHROW(fixture.scheduler().submit_json(spec_of_size(JobSpec::kMaxJsonBytes), "ann"));
    const auto error = error_from(
        [&] { fixture.scheduler().submit_json(spec_of_size(JobSpec::kMaxJsonBytes + 1), "ann"); });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(error.field() == "jobSpec");
    CHECK(std::string(error.what()).find("1048577 bytes") != std::string::npos);
    CHECK(std::string(error.what()).find("at most 1048576 bytes") != std::string::npos);
}

TEST_CASE("an oversized job spec is refused before it is parsed") {
    // Malformed after its first bytes: a parser would report the syntax, not the size.
    const std::string text = R"({"jobType": ")" + std::string(2u << 20, '[');
    const auto error = error_from([&] { JobSpec::from_json(text, "ann"); });
    CHECK(error.field() == "jobSpec");
    CHECK(std::string(error.what()).find("2097165 bytes") != std::string::npos);
}

TEST_CASE("an array of specs names the oversized element, and an oversized array is refused") {
    const std::string array = "[" + kSpec + "," + R"({"jobType": "ocr", "jobName": ")" +
                              std::string(1u << 20, 'x') + "\"}]";
    auto error = error_from([&] { JobSpec::array_from_json(array, "ann"); });
    CHECK(error.field() == "specs[1].jobSpec");
    CHECK(JobSpec::array_from_json("[" + kSpec + "," + kSpec + "]", "ann").size() == 2);
    const std::string huge = "[" + std::string(JobSpec::kMaxArrayJsonBytes, ' ') + "]";
    error = error_from([&] { JobSpec::array_from_json(huge, "ann"); });
    CHECK(error.field() == "specs");
    CHECK(std::string(error.what()).find(std::to_string(huge.size()) + " bytes") !=
          std::string::npos);
}
