// SPDX-License-Identifier: Apache-2.0
//
// Receipt verification never throws and never accepts what it cannot prove: a fuzzed document
// is an invalid check with its problem named (a valid one would need a forged signature).
#include "fuzz_support.hpp"

#include <sihlicon/settlement.hpp>

using namespace sihlicon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::as_text(data, size);
    try {
        const auto check = verify_receipt(text);
        fuzz::require(check.valid || !check.problem.empty(), "a refusal names its problem");
        ReceiptVerifier verifier;
        fuzz::require(verifier.verify(text).valid == check.valid, "both verifiers agree");
    } catch (...) {
        fuzz::require(false, "verify_receipt threw");
    }
    return 0;
}
