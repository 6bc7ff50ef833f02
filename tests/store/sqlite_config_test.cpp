// SPDX-License-Identifier: Apache-2.0
//
// What opening a hub does to SQLite's process-wide configuration (include/sihlicon/hub.hpp):
// it runs as its own program, once per mode, because that configuration can be set only
// before SQLite is first used in a process.
//
//   sqlite_config_test fresh             a process that has not used SQLite: opening a hub
//                                        turns SQLite's memory statistics off
//   sqlite_config_test host-initialised  the host called sqlite3_initialize() first: opening a
//                                        hub keeps SQLite's defaults (statistics on)
#include "support/temp_dir.hpp"

#include <sihlicon/hub.hpp>

#include <sqlite3.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode != "fresh" && mode != "host-initialised") {
        std::fprintf(stderr, "usage: sqlite_config_test fresh|host-initialised\n");
        return 2;
    }
    if (mode == "host-initialised" && sqlite3_initialize() != SQLITE_OK) {
        std::fprintf(stderr, "sqlite3_initialize failed\n");
        return 1;
    }
    const sihlicon::testing::TempDir folder;
    const auto hub = sihlicon::Hub::open(folder / "hub");
    const auto used = sqlite3_memory_used();  // stays 0 while the statistics are off
    const bool as_documented = mode == "fresh" ? used == 0 : used > 0;
    std::printf("%s: sqlite3_memory_used() = %lld after Hub::open: %s\n", mode.c_str(),
                static_cast<long long>(used),
                as_documented ? "as documented" : "NOT as documented");
    return as_documented ? 0 : 1;
}
