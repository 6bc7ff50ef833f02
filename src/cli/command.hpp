// SPDX-License-Identifier: Apache-2.0
//
// The command table of the `sihlicon` tool. Each service contributes its commands from a file
// of its own (src/cli/<service>_commands.cpp) through one add_*_commands function.
#pragma once

#include <sihlicon/hub.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon::cli {

struct Context {
    std::optional<std::string> hub_directory;  // --hub, or $SIHLICON_HUB
    bool json = false;                         // --json
    std::vector<std::string> arguments;        // what follows the command name
};

// Thrown for a malformed command line; the tool prints it and exits with status 2.
struct UsageError {
    std::string message;
};

struct Command {
    std::string_view name;     // a word ("init") or two ("job submit")
    std::string_view summary;  // one line for --help
    std::function<int(const Context&)> run;
};

// Opens the hub named by --hub. `create` allows creating it; otherwise a missing hub is
// Error(not_found). Throws UsageError when no hub was named.
Hub open_hub(const Context& context, bool create = false);

void require_no_arguments(const Context& context);

void add_hub_commands(std::vector<Command>& commands);

}  // namespace sihlicon::cli
