// SPDX-License-Identifier: Apache-2.0
//
// `sihlicon`, the operator's command-line tool: `sihlicon [--hub DIR] [--json] <command> ...`.
// Commands are rows of a table that each service fills (see command.hpp). A command may be two
// words ("job submit"): the longest name that matches the words given wins.
#include "cli/command.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace po = boost::program_options;

namespace sihlicon::cli {

Hub open_hub(const Context& context, bool create) {
    if (!context.hub_directory) {
        throw UsageError{"this command needs --hub DIR (or SIHLICON_HUB in the environment)"};
    }
    HubOptions options;
    options.create_if_missing = create;
    return Hub::open(*context.hub_directory, options);
}

void require_no_arguments(const Context& context) {
    if (!context.arguments.empty()) {
        throw UsageError{fmt::format("unexpected argument '{}'", context.arguments.front())};
    }
}

po::variables_map parse_arguments(const Context& context, const po::options_description& options,
                                  const std::vector<std::string>& positional, bool repeat_last,
                                  std::size_t required) {
    po::positional_options_description layout;
    for (std::size_t i = 0; i < positional.size(); ++i) {
        layout.add(positional[i].c_str(), repeat_last && i + 1 == positional.size() ? -1 : 1);
    }
    po::variables_map values;
    try {
        po::store(
            po::command_line_parser(context.arguments).options(options).positional(layout).run(),
            values);
        po::notify(values);
    } catch (const po::error& error) {
        throw UsageError{error.what()};
    }
    for (std::size_t i = 0; i < std::min(required, positional.size()); ++i) {
        if (!values.count(positional[i])) {
            throw UsageError{fmt::format("missing argument {}", positional[i])};
        }
    }
    return values;
}

std::string read_json_argument(const std::string& argument) {
    if (argument == "-") {
        return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    }
    if (!argument.empty() && argument.front() == '@') {
        std::ifstream file(argument.substr(1), std::ios::binary);
        if (!file) {
            throw UsageError{fmt::format("cannot read {}", argument.substr(1))};
        }
        return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
    }
    return argument;
}

void print_record(const Context& context, const std::string& json, const std::string& text) {
    if (context.json) {
        std::cout << json << '\n';
    } else {
        print_lines(text);
        if (text.empty() || text.back() == '\n') {
            std::cout << '\n';  // as before: the text and one more newline
        }
    }
}

void print_line(std::string_view line) {
    if (!line.empty() && line.back() == '\n') {
        line.remove_suffix(1);
    }
    std::cout << printable(line) << '\n';
}

void print_lines(std::string_view text) {
    while (!text.empty()) {
        const auto end = std::min(text.find('\n'), text.size());
        std::cout << printable(text.substr(0, end)) << '\n';
        text.remove_prefix(std::min(end + 1, text.size()));
    }
}

}  // namespace sihlicon::cli

namespace {

using sihlicon::cli::Command;
using sihlicon::cli::Context;
using sihlicon::cli::UsageError;

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

const std::vector<Command>& commands() {
    static const std::vector<Command> table = [] {
        std::vector<Command> all;
        sihlicon::cli::add_hub_commands(all);
        sihlicon::cli::add_cas_commands(all);
        sihlicon::cli::add_heat_commands(all);
        sihlicon::cli::add_scheduler_commands(all);
        sihlicon::cli::add_settlement_commands(all);
        sihlicon::cli::add_settings_commands(all);
        sihlicon::cli::add_agent_commands(all);
        sihlicon::cli::add_token_commands(all);
        sihlicon::cli::add_serve_commands(all);
        sihlicon::cli::add_peer_commands(all);
        sihlicon::cli::add_audit_commands(all);
        return all;
    }();
    return table;
}

std::string usage(const po::options_description& options) {
    std::string text = "usage: sihlicon [--hub DIR] [--json] <command> [arguments]\n\ncommands:\n";
    for (const auto& command : commands()) {
        text += fmt::format("  {:<16} {}\n", command.name, command.summary);
    }
    std::ostringstream described;
    described << options;
    return text + "\n" + described.str();
}

void print_error(const Context& context, std::string_view code, std::string_view message) {
    if (context.json) {
        const boost::json::object object{{"error", message}, {"code", code}};
        std::cerr << boost::json::serialize(object) << '\n';
    } else {
        std::cerr << "sihlicon: " << code << ": " << message << '\n';
    }
}

// The command whose (one- or two-word) name matches the start of `words`, longest first.
const Command* find_command(const std::vector<std::string>& words, std::size_t& used) {
    const Command* best = nullptr;
    for (const auto& command : commands()) {
        std::string joined;
        for (std::size_t n = 1; n <= words.size() && n <= 2; ++n) {
            joined += (n > 1 ? " " : "") + words[n - 1];
            if (command.name == joined && (best == nullptr || n > used)) {
                best = &command;
                used = n;
            }
        }
    }
    return best;
}

int run(int argc, char** argv) {
    po::options_description global("options");
    global.add_options()("help,h", "show this help")("version", "show the version")(
        "hub", po::value<std::string>(), "the hub directory (default: $SIHLICON_HUB)")(
        "json", "print results and errors as JSON");
    po::options_description hidden;
    hidden.add_options()("words", po::value<std::vector<std::string>>());
    po::options_description all;
    all.add(global).add(hidden);
    po::positional_options_description positional;
    positional.add("words", -1);

    Context context;
    po::variables_map values;
    std::vector<std::string> words;
    try {
        // Options after the command belong to the command, except --hub and --json.
        const auto parsed = po::command_line_parser(argc, argv)
                                .options(all)
                                .positional(positional)
                                .allow_unregistered()
                                .run();
        po::store(parsed, values);
        po::notify(values);
        words = po::collect_unrecognized(parsed.options, po::include_positional);
    } catch (const po::error& error) {
        print_error(context, "usage", error.what());
        return kExitUsage;
    }
    context.json = values.count("json") > 0;
    if (values.count("hub")) {
        context.hub_directory = values["hub"].as<std::string>();
    } else if (const char* from_environment = std::getenv("SIHLICON_HUB")) {
        context.hub_directory = from_environment;
    }
    if (values.count("version")) {
        words.insert(words.begin(), "version");
    }
    std::size_t used = 0;
    const Command* command = find_command(words, used);
    if (values.count("help")) {
        std::cout << (command != nullptr && command->help ? command->help() : usage(global));
        return EXIT_SUCCESS;
    }
    if (command == nullptr) {
        print_error(context, "usage",
                    words.empty()
                        ? "no command given; see sihlicon --help"
                        : fmt::format("unknown command '{}'; see sihlicon --help", words.front()));
        return kExitUsage;
    }
    context.arguments.assign(words.begin() + static_cast<std::ptrdiff_t>(used), words.end());
    try {
        return command->run(context);
    } catch (const UsageError& error) {
        print_error(context, "usage", error.message);
        return kExitUsage;
    } catch (const sihlicon::Error& error) {
        print_error(context, sihlicon::to_string(error.code()), error.what());
        return kExitError;
    }
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& error) {
        std::cerr << "sihlicon: internal: " << error.what() << '\n';
        return kExitError;
    }
}
