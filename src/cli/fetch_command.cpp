// SPDX-License-Identifier: Apache-2.0
//
// `sihlicon fetch CID --from URL [--from URL2 ...] [--token-file F] [--owner P]`: the
// fetcher (include/sihlicon/fetcher.hpp) from the command line. Registered by
// add_cas_commands (cas_commands.cpp).
#include "cli/command.hpp"

#include <sihlicon/content_store.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/fetcher.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>

namespace po = boost::program_options;

namespace sihlicon::cli {

namespace {

// The first line of `path`, without a trailing CR or spaces.
std::string token_from_file(const std::string& path) {
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

}  // namespace

int command_fetch(const Context& context) {
    const char* principal = std::getenv("SIHLICON_PRINCIPAL");
    po::options_description options("fetch");
    options.add_options()("cid", po::value<std::string>(), "the CID to fetch")(
        "from", po::value<std::vector<std::string>>()->composing(),
        "a gateway URL http(s)://HOST[:PORT] (repeatable, tried in order)")(
        "token-file", po::value<std::string>(),
        "a file whose first line is a bearer token sent to every gateway")(
        "ca-file", po::value<std::string>(), "PEM certificate authorities for https")(
        "owner",
        po::value<std::string>()->default_value(
            principal != nullptr && *principal != '\0' ? principal : "local"),
        "the owner of the stored content")("tier", po::value<std::string>()->default_value("hot"),
                                           "hot, cold or glacier")(
        "access", po::value<std::string>()->default_value("private"),
        "private, community or public")("max-bytes", po::value<std::uint64_t>(),
                                        "the largest CAR read (default 1 GiB)")(
        "max-blocks", po::value<std::uint64_t>(), "the most blocks read (default 1000000)")(
        "timeout-ms", po::value<std::int64_t>(), "one gateway's whole transfer (default 600000)");
    const auto values = parse_arguments(context, options, {"cid"});
    if (!values.count("from")) {
        throw UsageError{"fetch needs at least one --from URL"};
    }
    FetchOptions fetch;
    const std::string token =
        values.count("token-file") ? token_from_file(values["token-file"].as<std::string>()) : "";
    for (const auto& url : values["from"].as<std::vector<std::string>>()) {
        fetch.gateways.push_back(Gateway{url, token});
    }
    if (values.count("ca-file")) {
        fetch.ca_file = values["ca-file"].as<std::string>();
    }
    if (values.count("max-bytes")) {
        fetch.max_bytes = values["max-bytes"].as<std::uint64_t>();
    }
    if (values.count("max-blocks")) {
        fetch.max_blocks = values["max-blocks"].as<std::uint64_t>();
    }
    if (values.count("timeout-ms")) {
        fetch.timeout = std::chrono::milliseconds(values["timeout-ms"].as<std::int64_t>());
    }
    fetch.put.storage_tier = parse_storage_tier(values["tier"].as<std::string>(), "tier");
    fetch.put.access_level = parse_access_level(values["access"].as<std::string>(), "access");
    const auto hub = open_hub(context);
    const auto result = fetch_content(hub.content_store(), values["cid"].as<std::string>(),
                                      values["owner"].as<std::string>(), fetch);
    if (context.json) {
        auto object = boost::json::parse(result.manifest.to_json()).as_object();
        object["gateway"] = result.gateway;
        object["carBytes"] = result.car_bytes;
        std::cout << boost::json::serialize(object) << '\n';
    } else {
        std::cout << result.manifest.content_id << '\n';
    }
    return EXIT_SUCCESS;
}

}  // namespace sihlicon::cli
