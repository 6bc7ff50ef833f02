// SPDX-License-Identifier: Apache-2.0
//
// The seed's POST /api/compute body and the hub and worker registrations, as JSON from outside.
#include "fuzz_support.hpp"

#include <sihlicon/scheduler.hpp>

using namespace sihlicon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::as_text(data, size);
    fuzz::refuse_only_with_error([&] {
        const auto spec = JobSpec::from_json(text, "fuzzer");
        fuzz::require(!spec.owner.empty(), "an accepted job has an owner");
    });
    fuzz::refuse_only_with_error([&] { HubSpec::from_json(text); });
    fuzz::refuse_only_with_error([&] { WorkerSpec::from_json(text); });
    return 0;
}
