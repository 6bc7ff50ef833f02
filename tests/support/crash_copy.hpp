// SPDX-License-Identifier: Apache-2.0
//
// The files of a database as a crash at this moment would leave them: the database, its
// write-ahead log and its write log (store/write_log.hpp), copied aside while the original
// stays open. Reopening the copy is recovering from that crash.
#pragma once

#include "support/temp_dir.hpp"

#include <filesystem>
#include <string>

namespace sihlicon::testing {

inline std::filesystem::path copy_as_after_a_crash(const std::filesystem::path& db,
                                                   const TempDir& into, int number) {
    const auto copy = into / ("crash-" + std::to_string(number) + ".db");
    std::filesystem::copy_file(db, copy);
    for (const char* suffix : {"-wal", "-log"}) {
        const auto file = std::filesystem::path(db.string() + suffix);
        if (std::filesystem::exists(file)) {
            std::filesystem::copy_file(file, copy.string() + suffix);
        }
    }
    return copy;
}

}  // namespace sihlicon::testing
