// SPDX-License-Identifier: Apache-2.0
//
// `sihlicon serve`: the hub on the network (server.hpp) until SIGINT or SIGTERM, then the
// requests in flight are drained and the tool exits 0. It prints "listening on HOST:PORT"
// (the port chosen when 0 was asked for) and then one access log line per request on
// standard output, and one line per maintenance action ("TIME maintenance sealed ..."): the
// server seals epochs when due (--maintenance-interval-ms, 0: never), so an operator runs
// this one process.
#include "cli/command.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/server.hpp>

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <mutex>

#include <pthread.h>

namespace po = boost::program_options;

namespace sihlicon::cli {

namespace {

// "HOST:PORT" or "[IPV6]:PORT".
std::pair<std::string, std::uint16_t> parse_listen(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        throw Error::invalid("--listen", text, "must be HOST:PORT");
    }
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    const auto port_text = std::string_view(text).substr(colon + 1);
    unsigned port = 0;
    const auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() ||
        port > 65535) {
        throw Error::invalid("--listen", text, "needs a port from 0 to 65535");
    }
    return {host, static_cast<std::uint16_t>(port)};
}

int serve(const Context& context) {
    po::options_description options;
    options.add_options()("listen", po::value<std::string>()->default_value("127.0.0.1:8080"),
                          "HOST:PORT to listen on (port 0: any free port)")(
        "tls-cert", po::value<std::string>(), "PEM certificate chain (TLS)")(
        "tls-key", po::value<std::string>(), "PEM private key of the certificate")(
        "threads", po::value<int>()->default_value(2), "threads serving connections")(
        "max-connections", po::value<std::size_t>()->default_value(512),
        "connections served at once")(
        "maintenance-interval-ms", po::value<std::int64_t>()->default_value(60'000),
        "how often to seal a due epoch and expire pending transfers (0: never)");
    const auto values = parse_arguments(context, options, {});
    ServerOptions server_options;
    std::tie(server_options.address, server_options.port) =
        parse_listen(values["listen"].as<std::string>());
    if (values.count("tls-cert")) {
        server_options.tls_certificate = values["tls-cert"].as<std::string>();
    }
    if (values.count("tls-key")) {
        server_options.tls_private_key = values["tls-key"].as<std::string>();
    }
    server_options.threads = values["threads"].as<int>();
    server_options.max_connections = values["max-connections"].as<std::size_t>();
    server_options.maintenance_interval =
        std::chrono::milliseconds(values["maintenance-interval-ms"].as<std::int64_t>());
    std::mutex output;
    server_options.access_log = [&output](std::string_view line) {
        std::lock_guard lock(output);
        std::cout << line << '\n' << std::flush;
    };

    // The signals are taken by sigwait below, never by a handler: blocked before the
    // server's threads start, so they inherit the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    auto hub = open_hub(context);
    Server server(hub, server_options);
    server.start();
    {
        std::lock_guard lock(output);
        const bool v6 = server_options.address.find(':') != std::string::npos;
        std::cout << fmt::format("listening on {}{}{}:{}{}", v6 ? "[" : "", server_options.address,
                                 v6 ? "]" : "", server.port(),
                                 server_options.tls_certificate ? " (TLS)" : "")
                  << '\n'
                  << std::flush;
    }
    int received = 0;
    sigwait(&signals, &received);
    server.stop();
    return EXIT_SUCCESS;
}

}  // namespace

void add_serve_commands(std::vector<Command>& commands) {
    commands.push_back({"serve",
                        "serve the hub over HTTP(S): --listen HOST:PORT [--tls-cert F --tls-key F] "
                        "until SIGINT/SIGTERM",
                        serve});
}

}  // namespace sihlicon::cli
