// SPDX-License-Identifier: Apache-2.0
//
// The command table of the `sihlicon` tool. Each service contributes its commands from a file
// of its own (src/cli/<service>_commands.cpp) through one add_*_commands function.
#pragma once

#include <sihlicon/hub.hpp>

#include <boost/program_options.hpp>

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
    // `sihlicon NAME --help`: the command's own help (its options and an example); empty: the
    // tool's --help.
    std::function<std::string()> help = {};
};

// Opens the hub named by --hub. `create` allows creating it; otherwise a missing hub is
// Error(not_found). Throws UsageError when no hub was named.
Hub open_hub(const Context& context, bool create = false);

void require_no_arguments(const Context& context);

// Parses a command's own arguments (context.arguments) against `options`; `positional` names
// the positional arguments in order, the first `required` of them required (default: all; the
// last may repeat when `repeat_last`). Throws UsageError for anything malformed or missing.
boost::program_options::variables_map parse_arguments(
    const Context& context, const boost::program_options::options_description& options,
    const std::vector<std::string>& positional, bool repeat_last = false,
    std::size_t required = static_cast<std::size_t>(-1));

// A JSON argument: the text itself, "@FILE" for a file's contents, or "-" for standard input.
std::string read_json_argument(const std::string& argument);

// Prints one record: its JSON with --json, else `text` as print_lines does.
void print_record(const Context& context, const std::string& json, const std::string& text);

// Writes `text` to standard output line by line (split at '\n', each written with a '\n'
// after it, a final empty line dropped), every line shown with printable(): whatever a name
// holds, it can neither move the cursor nor hide a character.
void print_lines(std::string_view text);

// Writes one record's line of a listing: `line` without one trailing '\n', shown with
// printable() (a newline inside becomes "\x0a"), then '\n'. No name can forge a line.
void print_line(std::string_view line);

void add_hub_commands(std::vector<Command>& commands);
void add_agent_commands(std::vector<Command>& commands);
void add_cas_commands(std::vector<Command>& commands);
void add_heat_commands(std::vector<Command>& commands);
void add_scheduler_commands(std::vector<Command>& commands);
void add_settlement_commands(std::vector<Command>& commands);
void add_token_commands(std::vector<Command>& commands);
void add_serve_commands(std::vector<Command>& commands);
void add_settings_commands(std::vector<Command>& commands);
void add_peer_commands(std::vector<Command>& commands);
void add_audit_commands(std::vector<Command>& commands);

}  // namespace sihlicon::cli
