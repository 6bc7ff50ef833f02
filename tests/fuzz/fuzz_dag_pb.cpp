// SPDX-License-Identifier: Apache-2.0
//
// dag-pb blocks with UnixFS data, as the content store decodes them when it walks a DAG.
#include "cid/unixfs.hpp"
#include "fuzz_support.hpp"

using namespace sihlicon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::refuse_only_with_error([&] {
        const auto node = cid::decode_file_node(fuzz::as_bytes(data, size), "fuzzed block");
        fuzz::require(node.links.size() == node.link_tsizes.size(), "a size for every link");
    });
    return 0;
}
