// SPDX-License-Identifier: Apache-2.0
//
// `sihlicon token create|list|revoke`: the API tokens of the hub's server (tokens.hpp), and
// `sihlicon token address add|list|rm`: the addresses whose signed requests it accepts
// (request_signing.hpp). The tool acts as the hub operator, the only principal that
// administers both.
#include "cli/command.hpp"
#include "core/json.hpp"

#include <sihlicon/crypto.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/request_signing.hpp>
#include <sihlicon/text.hpp>
#include <sihlicon/tokens.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <cstdlib>
#include <iostream>

namespace po = boost::program_options;

namespace sihlicon::cli {

namespace {

std::string token_line(const TokenRecord& record) {
    std::string line =
        fmt::format("{}  {}  {}", record.id, record.principal, to_string(record.role));
    if (!record.worker_id.empty()) {
        line += "  worker " + record.worker_id;
    }
    line += "  created " + to_iso8601(record.created_at);
    if (record.revoked_at) {
        line += "  revoked " + to_iso8601(*record.revoked_at);
    }
    return line;
}

int token_create(const Context& context) {
    po::options_description options;
    options.add_options()("principal", po::value<std::string>(), "who the token authenticates")(
        "role", po::value<std::string>(), "client, worker or operator")(
        "worker-id", po::value<std::string>(), "the worker a worker token acts as");
    const auto values = parse_arguments(context, options, {"principal"});
    if (!values.count("role")) {
        throw UsageError{"token create needs --role client|worker|operator"};
    }
    const auto role = parse_role(values["role"].as<std::string>());
    const auto worker_id =
        values.count("worker-id") ? values["worker-id"].as<std::string>() : std::string();
    auto hub = open_hub(context);
    const auto issued = ApiTokens(hub).create(
        kOperatorPrincipal, values["principal"].as<std::string>(), role, worker_id);
    if (context.json) {
        auto object = boost::json::parse(issued.record.to_json()).as_object();
        object["token"] = issued.secret;
        std::cout << boost::json::serialize(object) << '\n';
    } else {
        print_line(token_line(issued.record));
        std::cout << "token " << issued.secret << '\n';
        std::cout << "(shown once: the hub keeps only its hash)\n";
    }
    return EXIT_SUCCESS;
}

int token_list(const Context& context) {
    require_no_arguments(context);
    auto hub = open_hub(context);
    const auto records = ApiTokens(hub).list(kOperatorPrincipal);
    if (context.json) {
        std::cout << json::join_array(records) << '\n';
        return EXIT_SUCCESS;
    }
    for (const auto& record : records) {
        print_line(token_line(record));
    }
    return EXIT_SUCCESS;
}

int token_revoke(const Context& context) {
    po::options_description options;
    options.add_options()("id", po::value<std::string>(), "the token's id (tok-...)");
    const auto values = parse_arguments(context, options, {"id"});
    auto hub = open_hub(context);
    const auto record = ApiTokens(hub).revoke(kOperatorPrincipal, values["id"].as<std::string>());
    print_record(context, record.to_json(), token_line(record));
    return EXIT_SUCCESS;
}

std::string address_line(const AddressRecord& record) {
    std::string line =
        fmt::format("{}  {}  {}", record.address, record.principal, to_string(record.role));
    if (!record.worker_id.empty()) {
        line += "  worker " + record.worker_id;
    }
    line += "  added " + to_iso8601(record.created_at);
    if (record.revoked_at) {
        line += "  removed " + to_iso8601(*record.revoked_at);
    }
    return line;
}

// token address add PRINCIPAL 0xADDR --role R [--worker-id W] | list | rm 0xADDR
int token_address(const Context& context) {
    if (context.arguments.empty()) {
        throw UsageError{"token address needs add, list or rm"};
    }
    const auto action = context.arguments.front();
    Context rest = context;
    rest.arguments.erase(rest.arguments.begin());
    if (action == "list") {
        require_no_arguments(rest);
        auto hub = open_hub(rest);
        const auto records = ApiAddresses(hub).list(kOperatorPrincipal);
        if (context.json) {
            std::cout << json::join_array(records) << '\n';
            return EXIT_SUCCESS;
        }
        for (const auto& record : records) {
            print_line(address_line(record));
        }
        return EXIT_SUCCESS;
    }
    if (action == "rm") {
        po::options_description options;
        options.add_options()("address", po::value<std::string>(), "the address (0x...)");
        const auto values = parse_arguments(rest, options, {"address"});
        const auto address = crypto::Address::parse(values["address"].as<std::string>());
        auto hub = open_hub(rest);
        const auto record = ApiAddresses(hub).remove(kOperatorPrincipal, address);
        print_record(rest, record.to_json(), address_line(record));
        return EXIT_SUCCESS;
    }
    if (action != "add") {
        throw UsageError{
            fmt::format("token address {}: expected add, list or rm", printable(action, 40))};
    }
    po::options_description options;
    options.add_options()("principal", po::value<std::string>(), "whose address it is")(
        "address", po::value<std::string>(), "the Ethereum address (0x + 40 hex digits)")(
        "role", po::value<std::string>(), "client, worker or operator")(
        "worker-id", po::value<std::string>(), "the worker a worker address acts as");
    const auto values = parse_arguments(rest, options, {"principal", "address"});
    if (!values.count("role")) {
        throw UsageError{"token address add needs --role client|worker|operator"};
    }
    const auto role = parse_role(values["role"].as<std::string>());
    const auto address = crypto::Address::parse(values["address"].as<std::string>());
    const auto worker_id =
        values.count("worker-id") ? values["worker-id"].as<std::string>() : std::string();
    auto hub = open_hub(rest);
    const auto record = ApiAddresses(hub).add(
        kOperatorPrincipal, address, values["principal"].as<std::string>(), role, worker_id);
    print_record(rest, record.to_json(), address_line(record));
    return EXIT_SUCCESS;
}

}  // namespace

void add_token_commands(std::vector<Command>& commands) {
    commands.push_back({"token create",
                        "create an API token: PRINCIPAL --role client|worker|operator "
                        "[--worker-id W] (the secret is shown once)",
                        token_create});
    commands.push_back({"token list", "list API tokens (never their secrets)", token_list});
    commands.push_back({"token revoke", "revoke an API token by its id", token_revoke});
    commands.push_back({"token address",
                        "signed-request addresses: add PRINCIPAL 0xADDR --role "
                        "client|worker|operator [--worker-id W] | list | rm 0xADDR",
                        token_address});
}

}  // namespace sihlicon::cli
