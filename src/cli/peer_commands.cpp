// SPDX-License-Identifier: Apache-2.0
//
// `sihlicon peer add|list|rm`: the other hubs this hub knows (peers.hpp). The tool acts as the
// hub operator, the only principal that administers peers. The token a hub presents to a peer
// is read from a file (--token-file: its first line, trailing spaces and CR removed), never
// from the command line (other users see command lines), and is never printed.
#include "cli/command.hpp"
#include "core/json.hpp"

#include <sihlicon/peers.hpp>
#include <sihlicon/principal.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

namespace po = boost::program_options;

namespace sihlicon::cli {

namespace {

std::string peer_line(const PeerRecord& record) {
    return fmt::format("{}  {}  added {}", record.hub_id, record.url, to_iso8601(record.added_at));
}

std::string read_token_file(const std::string& path) {
    std::ifstream file(path);
    std::string line;
    if (!file || !std::getline(file, line)) {
        throw UsageError{fmt::format("cannot read a token from {}", path)};
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.pop_back();
    }
    return line;
}

int peer_add(const Context& context) {
    po::options_description options;
    options.add_options()("hub-id", po::value<std::string>(), "the peer hub's id")(
        "url", po::value<std::string>(), "the peer's server (http[s]://HOST[:PORT][/PATH])")(
        "token-file", po::value<std::string>(),
        "a file whose first line is the API token this hub presents to the peer");
    const auto values = parse_arguments(context, options, {"hub-id", "url"});
    if (!values.count("token-file")) {
        throw UsageError{"peer add needs --token-file F (the token this hub presents to the peer)"};
    }
    const auto token = read_token_file(values["token-file"].as<std::string>());
    auto hub = open_hub(context);
    const auto record = Peers(hub).add(kOperatorPrincipal, values["hub-id"].as<std::string>(),
                                       values["url"].as<std::string>(), token);
    print_record(context, record.to_json(), peer_line(record));
    return EXIT_SUCCESS;
}

int peer_list(const Context& context) {
    require_no_arguments(context);
    auto hub = open_hub(context);
    const auto records = Peers(hub).list(kOperatorPrincipal);
    if (context.json) {
        std::cout << json::join_array(records) << '\n';
        return EXIT_SUCCESS;
    }
    for (const auto& record : records) {
        print_line(peer_line(record));
    }
    return EXIT_SUCCESS;
}

int peer_rm(const Context& context) {
    po::options_description options;
    options.add_options()("hub-id", po::value<std::string>(), "the peer hub's id");
    const auto values = parse_arguments(context, options, {"hub-id"});
    auto hub = open_hub(context);
    const auto record = Peers(hub).remove(kOperatorPrincipal, values["hub-id"].as<std::string>());
    print_record(context, record.to_json(), "removed " + peer_line(record));
    return EXIT_SUCCESS;
}

}  // namespace

void add_peer_commands(std::vector<Command>& commands) {
    commands.push_back({"peer add",
                        "add a peer hub: HUB_ID URL --token-file F (the token this hub presents "
                        "to it; never printed)",
                        peer_add});
    commands.push_back({"peer list", "list the peer hubs (never their tokens)", peer_list});
    commands.push_back({"peer rm", "remove a peer hub and its token: HUB_ID", peer_rm});
}

}  // namespace sihlicon::cli
