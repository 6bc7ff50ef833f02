// SPDX-License-Identifier: Apache-2.0
//
// `sihlicon`, the operator's command-line tool: `sihlicon --hub DIR <command> [--json]`.
// Each command is a row of kCommands; each service adds its own rows.
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/version.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace po = boost::program_options;

namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

struct Context {
    std::optional<std::string> hub_directory;
    bool json = false;
    std::vector<std::string> arguments;  // what follows the command name
};

struct UsageError {
    std::string message;
};

const std::string& require_hub(const Context& context) {
    if (!context.hub_directory) {
        throw UsageError{"this command needs --hub DIR (or SIHLICON_HUB in the environment)"};
    }
    return *context.hub_directory;
}

void require_no_arguments(const Context& context) {
    if (!context.arguments.empty()) {
        throw UsageError{fmt::format("unexpected argument '{}'", context.arguments.front())};
    }
}

void print_info(const sihlicon::HubInfo& info, bool json) {
    if (json) {
        std::cout << info.to_json() << '\n';
        return;
    }
    fmt::print("directory        {}\n", info.directory);
    fmt::print("instance         {}\n", info.instance_id);
    fmt::print("schema version   {} (this sihlicon writes {})\n", info.schema_version,
               info.latest_schema_version);
    fmt::print("created          {} by sihlicon {}\n", sihlicon::to_iso8601(info.created_at),
               info.created_by_version);
    fmt::print("database         {} ({} bytes)\n", info.database_path, info.database_bytes);
    fmt::print("blobs            {}\n", info.blob_directory);
    for (const auto& [label, count] : info.counts) {
        fmt::print("{:<16} {}\n", label, count);
    }
}

int command_init(const Context& context) {
    require_no_arguments(context);
    sihlicon::HubOptions options;
    options.create_if_missing = true;
    const auto hub = sihlicon::Hub::open(require_hub(context), options);
    print_info(hub.info(), context.json);
    return EXIT_SUCCESS;
}

int command_info(const Context& context) {
    require_no_arguments(context);
    sihlicon::HubOptions options;
    options.create_if_missing = false;
    const auto hub = sihlicon::Hub::open(require_hub(context), options);
    print_info(hub.info(), context.json);
    return EXIT_SUCCESS;
}

int command_version(const Context& context) {
    require_no_arguments(context);
    if (context.json) {
        const boost::json::object object{
            {"libraryVersion", sihlicon::library_version()},
            {"headerVersion", SIHLICON_VERSION_STRING},
            {"abiVersion", SIHLICON_ABI_VERSION},
            {"schemaVersion", sihlicon::Hub::latest_schema_version()},
        };
        std::cout << boost::json::serialize(object) << '\n';
    } else {
        fmt::print("sihlicon {} (ABI {}, schema {})\n", sihlicon::library_version(),
                   SIHLICON_ABI_VERSION, sihlicon::Hub::latest_schema_version());
    }
    return EXIT_SUCCESS;
}

struct Command {
    std::string_view name;
    std::string_view summary;
    std::function<int(const Context&)> run;
};

const std::vector<Command>& commands() {
    static const std::vector<Command> table{
        {"init", "create the hub (or bring it up to date) and show its info", command_init},
        {"info", "show the hub's identity, schema version and record counts", command_info},
        {"version", "show the library, ABI and schema versions", command_version},
    };
    return table;
}

std::string usage(const po::options_description& options) {
    std::string text = "usage: sihlicon [--hub DIR] [--json] <command> [arguments]\n\ncommands:\n";
    for (const auto& command : commands()) {
        text += fmt::format("  {:<10} {}\n", command.name, command.summary);
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

int run(int argc, char** argv) {
    po::options_description global("options");
    global.add_options()("help,h", "show this help")("version", "show the version")(
        "hub", po::value<std::string>(), "the hub directory (default: $SIHLICON_HUB)")(
        "json", "print results and errors as JSON");
    po::options_description hidden;
    hidden.add_options()("command", po::value<std::string>())(
        "arguments", po::value<std::vector<std::string>>());
    po::options_description all;
    all.add(global).add(hidden);
    po::positional_options_description positional;
    positional.add("command", 1).add("arguments", -1);

    Context context;
    po::variables_map values;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(),
                  values);
        po::notify(values);
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
    if (values.count("help")) {
        std::cout << usage(global);
        return EXIT_SUCCESS;
    }
    const std::string name =
        values.count("version")
            ? "version"
            : (values.count("command") ? values["command"].as<std::string>() : "");
    if (values.count("arguments")) {
        context.arguments = values["arguments"].as<std::vector<std::string>>();
    }
    for (const auto& command : commands()) {
        if (command.name == name) {
            try {
                return command.run(context);
            } catch (const UsageError& error) {
                print_error(context, "usage", error.message);
                return kExitUsage;
            } catch (const sihlicon::Error& error) {
                print_error(context, sihlicon::to_string(error.code()), error.what());
                return kExitError;
            }
        }
    }
    print_error(context, "usage",
                name.empty() ? "no command given; see sihlicon --help"
                             : fmt::format("unknown command '{}'; see sihlicon --help", name));
    return kExitUsage;
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
