// SPDX-License-Identifier: Apache-2.0
//
// Writing a file so that a failure leaves what was there: the one place every edge (CLI, C,
// Python, Node) goes through, via ContentStore::get_to_file and export_car_to_file. Not
// installed.
#pragma once

#include <sihlicon/content_store.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>

namespace sihlicon::cas {

// Calls `produce` with a sink that writes to a new temporary file in `path`'s folder; when
// `produce` returns, syncs the file and renames it over `path`. If `produce` or any write
// throws, the temporary file is removed and the error rethrown: an existing `path` is left
// byte for byte as it was. A replaced file keeps its mode; a new one gets 0666 less the umask.
// An existing `path` that is not a regular file (a device, a pipe) is written in place.
// Returns the number of bytes written. Throws Error(io) naming `field` when the file cannot
// be created, written or renamed.
std::uint64_t replace_file(const std::filesystem::path& path, std::string_view field,
                           const std::function<void(const ContentStore::ByteSink&)>& produce);

}  // namespace sihlicon::cas
