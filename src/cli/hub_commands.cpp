// SPDX-License-Identifier: Apache-2.0
//
// `sihlicon init`, `info` and `version`.
#include "cli/command.hpp"

#include <sihlicon/version.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <cstdlib>
#include <iostream>

namespace sihlicon::cli {

namespace {

void print_info(const HubInfo& info, bool json) {
    if (json) {
        std::cout << info.to_json() << '\n';
        return;
    }
    fmt::print("directory        {}\n", info.directory);
    fmt::print("instance         {}\n", info.instance_id);
    fmt::print("schema version   {} (this sihlicon writes {})\n", info.schema_version,
               info.latest_schema_version);
    fmt::print("created          {} by sihlicon {}\n", to_iso8601(info.created_at),
               info.created_by_version);
    fmt::print("database         {} ({} bytes)\n", info.database_path, info.database_bytes);
    fmt::print("blobs            {}\n", info.blob_directory);
    for (const auto& [label, count] : info.counts) {
        fmt::print("{:<16} {}\n", label, count);
    }
}

int command_init(const Context& context) {
    require_no_arguments(context);
    print_info(open_hub(context, true).info(), context.json);
    return EXIT_SUCCESS;
}

int command_info(const Context& context) {
    require_no_arguments(context);
    print_info(open_hub(context).info(), context.json);
    return EXIT_SUCCESS;
}

int command_version(const Context& context) {
    require_no_arguments(context);
    if (context.json) {
        const boost::json::object object{
            {"libraryVersion", library_version()},
            {"headerVersion", SIHLICON_VERSION_STRING},
            {"abiVersion", SIHLICON_ABI_VERSION},
            {"schemaVersion", Hub::latest_schema_version()},
        };
        std::cout << boost::json::serialize(object) << '\n';
    } else {
        fmt::print("sihlicon {} (ABI {}, schema {})\n", library_version(), SIHLICON_ABI_VERSION,
                   Hub::latest_schema_version());
    }
    return EXIT_SUCCESS;
}

}  // namespace

void add_hub_commands(std::vector<Command>& commands) {
    commands.push_back(
        {"init", "create the hub (or bring it up to date) and show its info", command_init});
    commands.push_back(
        {"info", "show the hub's identity, schema version and record counts", command_info});
    commands.push_back({"version", "show the library, ABI and schema versions", command_version});
}

}  // namespace sihlicon::cli
