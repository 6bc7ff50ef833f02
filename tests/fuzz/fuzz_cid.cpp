// SPDX-License-Identifier: Apache-2.0
//
// CID text (multibase: base32 CIDv1, base58btc CIDv0) and binary CIDs. What parses must print
// and parse back to the same CID.
#include "fuzz_support.hpp"

#include <sihlicon/cid.hpp>

using namespace sihlicon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::refuse_only_with_error([&] {
        const auto cid = Cid::parse_any_version(fuzz::as_text(data, size));
        fuzz::require(Cid::parse_any_version(cid.to_string()) == cid, "text round trip");
    });
    fuzz::refuse_only_with_error([&] {
        const auto cid = Cid::from_bytes(fuzz::as_bytes(data, size));
        fuzz::require(Cid::from_bytes(cid.to_bytes()) == cid, "binary round trip");
    });
    return 0;
}
