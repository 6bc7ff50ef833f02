// SPDX-License-Identifier: Apache-2.0
//
// CAR v1 import into a hub: a fuzzed archive is refused with an Error and stores nothing that
// does not verify. One hub (in a temporary folder) serves every input of the run.
#include "fuzz_support.hpp"

#include <sihlicon/hub.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

using namespace sihlicon;

namespace {

Hub& hub() {
    static const auto folder = std::filesystem::temp_directory_path() /
                               ("sihlicon-fuzz-car-" + std::to_string(::getpid()));
    static Hub instance = [] {
        std::filesystem::remove_all(folder);
        HubOptions options;
        options.durability = Durability::process_crash;
        options.integrity_check = IntegrityCheck::none;
        auto opened = Hub::open(folder, options);
        Quota unlimited;
        unlimited.upload_bytes_per_hour = INT64_MAX;
        opened.content_store().set_quota("fuzzer", unlimited);
        return opened;
    }();
    static const struct Cleanup {
        ~Cleanup() {
            std::error_code ignored;
            std::filesystem::remove_all(folder, ignored);
        }
    } cleanup;
    return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto& store = hub().content_store();
    std::size_t offset = 0;
    const ContentStore::ByteSource source = [&](std::span<std::uint8_t> buffer) {
        const std::size_t take = std::min(buffer.size(), size - offset);
        std::memcpy(buffer.data(), data + offset, take);
        offset += take;
        return take;
    };
    fuzz::refuse_only_with_error([&] {
        for (const auto& manifest : store.import_car(source, "fuzzer")) {
            // What was accepted reads back, every block verified on the way.
            store.get(manifest.content_id, "fuzzer", [](std::span<const std::uint8_t>) {});
        }
    });
    return 0;
}
