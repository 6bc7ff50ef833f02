// SPDX-License-Identifier: Apache-2.0
//
// Receipt verification never throws and never accepts what it cannot prove: a fuzzed document
// is never valid without a trusted signer, and never valid against a fixed one (that would
// need a forged signature); every refusal names its problem.
#include "fuzz_support.hpp"

#include <sihlicon/settlement.hpp>

using namespace sihlicon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::as_text(data, size);
    try {
        const auto check = verify_receipt(text, {});
        fuzz::require(!check.valid && check.status != ReceiptStatus::valid,
                      "no receipt is valid without a trusted signer");
        fuzz::require(!check.problem.empty(), "a refusal names its problem");
        ReceiptVerifier verifier;
        fuzz::require(verifier.verify(text, {}).status == check.status, "both verifiers agree");
        const auto trusted = crypto::Address::parse("0x5ce9454909639D2D17A3F753ce7d93fa0b9aB12E");
        fuzz::require(!verify_receipt(text, trusted).valid, "no forged signature is valid");
    } catch (...) {
        fuzz::require(false, "verify_receipt threw");
    }
    return 0;
}
