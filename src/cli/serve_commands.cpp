// SPDX-License-Identifier: Apache-2.0
//
// `sihlicon serve`: the hub on the network (server.hpp) until SIGINT or SIGTERM, then the
// requests in flight are drained and the tool exits 0. It prints "listening on HOST:PORT"
// (the port chosen when 0 was asked for) and then one access log line per request on
// standard output, and one line per maintenance action ("TIME maintenance sealed ..."): the
// server seals epochs when due (--maintenance-interval, 0: never), so an operator runs this one
// process.
//
// The options: the tool's defaults (127.0.0.1:8080, the rest ServerOptions'), then
// `--options FILE` (ServerOptions::from_json over them), then each flag given
// (ServerOptions::with, the same codec and ranges). A bad value is refused naming the flag (or
// the file) and the value, before the hub is opened.
#include "cli/command.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/server.hpp>

#include <fmt/format.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>

#include <pthread.h>

namespace po = boost::program_options;

namespace sihlicon::cli {

namespace {

// A flag that sets one ServerOptions key (ServerOptions::with). `checked_as` is the name the
// Server constructor's checks give the key when it differs.
struct Flag {
    const char* name;
    std::string_view key;
    std::string_view checked_as;
    const char* description;
};

constexpr Flag kFlags[] = {
    {"tls-cert", "tlsCertificate", "", "PEM certificate chain (TLS; with --tls-key)"},
    {"tls-key", "tlsPrivateKey", "", "PEM private key of the certificate"},
    {"threads", "threads", "", "threads serving connections, 1..1024 (default 2)"},
    {"max-connections", "maxConnections", "", "connections served at once (default 512)"},
    {"header-limit", "headerLimit", "",
     "longest request line + headers, bytes or 16KiB (default 16KiB)"},
    {"body-limit", "bodyLimit", "", "longest JSON request body, bytes or 1MiB (default 1MiB)"},
    {"upload-limit", "uploadLimit", "",
     "longest streamed upload (POST /api/storage), bytes or 4GiB (default 4GiB)"},
    {"spool-dir", "spoolDirectory", "",
     "existing folder for streamed bodies (default: the system temp folder)"},
    {"read-timeout", "readTimeoutMs", "readTimeout",
     "read timeout, ms or 500ms/30s/5m/2h/1d, up to 1d (default 30s)"},
    {"write-timeout", "writeTimeoutMs", "writeTimeout",
     "write timeout, as --read-timeout (default 30s)"},
    {"idle-timeout", "idleTimeoutMs", "idleTimeout",
     "keep-alive idle timeout, as --read-timeout (default 60s)"},
    {"maintenance-interval", "maintenanceIntervalMs", "maintenanceIntervalMs",
     "how often to seal a due epoch and expire pending transfers, as --read-timeout; 0: never "
     "(default 60s)"},
};

po::options_description serve_options() {
    po::options_description options("serve options");
    options.add_options()("listen", po::value<std::string>(),
                          "HOST:PORT or [IPV6]:PORT to listen on (default 127.0.0.1:8080; port "
                          "0: any free port)")(
        "options", po::value<std::string>(),
        "JSON file of ServerOptions keys (address, port, tlsCertificate, tlsPrivateKey, "
        "maxConnections, headerLimit, bodyLimit, uploadLimit, spoolDirectory, readTimeoutMs, "
        "writeTimeoutMs, idleTimeoutMs, threads, maintenanceIntervalMs); the flags override it");
    for (const auto& flag : kFlags) {
        options.add_options()(flag.name, po::value<std::string>(), flag.description);
    }
    return options;
}

std::string serve_help() {
    std::ostringstream text;
    text << "usage: sihlicon --hub DIR serve [options]\n\n"
            "Serves the hub over HTTP(S) until SIGINT/SIGTERM, then drains the requests in "
            "flight.\n\n"
         << serve_options()
         << "\nexample:\n"
            "  sihlicon --hub /srv/hub serve --listen 0.0.0.0:8443 --tls-cert hub.pem "
            "--tls-key hub.key \\\n"
            "      --threads 4 --upload-limit 8GiB --spool-dir /srv/spool --idle-timeout 2m\n"
            "  sihlicon --hub /srv/hub serve --options /etc/sihlicon/server.json --threads 8\n";
    return text.str();
}

// "HOST:PORT" or "[IPV6]:PORT", split; the parts are decoded by ServerOptions::with.
std::pair<std::string, std::string> split_listen(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        throw Error::invalid("--listen", text, "must be HOST:PORT");
    }
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    return {host, text.substr(colon + 1)};
}

// `error` (about one option) reworded to name where its value came from.
Error naming(const Error& error, std::string_view source, std::string_view value) {
    return Error(error.code(), fmt::format("{} '{}': {}", source, value, error.what()),
                 std::string(source));
}

std::string read_options_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw Error(ErrorCode::not_found, fmt::format("--options: cannot read {}", path),
                    "--options");
    }
    std::ostringstream content;
    content << file.rdbuf();
    return content.str();
}

ServerOptions decode_options(const po::variables_map& values) {
    ServerOptions options;
    options.port = 8080;
    if (values.count("options")) {
        const auto path = values["options"].as<std::string>();
        try {
            options = ServerOptions::from_json(read_options_file(path), options);
        } catch (const Error& error) {
            if (error.field() == "--options") {
                throw;
            }
            throw naming(error, "--options", path);
        }
    }
    if (values.count("listen")) {
        const auto text = values["listen"].as<std::string>();
        const auto [host, port] = split_listen(text);
        try {
            options = options.with("address", host).with("port", port);
        } catch (const Error& error) {
            throw naming(error, "--listen", text);
        }
    }
    for (const auto& flag : kFlags) {
        if (values.count(flag.name)) {
            const auto text = values[flag.name].as<std::string>();
            try {
                options = options.with(flag.key, text);
            } catch (const Error& error) {
                throw naming(error, fmt::format("--{}", flag.name), text);
            }
        }
    }
    return options;
}

// The Server constructor's checks name an option's key: say which flag (or the file) set it.
Error naming_origin(const Error& error, const po::variables_map& values) {
    if (error.field() == "address" || error.field() == "port") {
        if (values.count("listen")) {
            return naming(error, "--listen", values["listen"].as<std::string>());
        }
    }
    for (const auto& flag : kFlags) {
        if ((error.field() == flag.key || error.field() == flag.checked_as) &&
            values.count(flag.name)) {
            return naming(error, fmt::format("--{}", flag.name),
                          values[flag.name].as<std::string>());
        }
    }
    if (values.count("options")) {
        return naming(error, "--options", values["options"].as<std::string>());
    }
    return error;
}

int serve(const Context& context) {
    const auto values = parse_arguments(context, serve_options(), {});
    auto server_options = decode_options(values);
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
    std::optional<Server> server;
    try {
        server.emplace(hub, server_options);
    } catch (const Error& error) {
        throw naming_origin(error, values);
    }
    server->start();
    {
        std::lock_guard lock(output);
        const bool v6 = server_options.address.find(':') != std::string::npos;
        std::cout << fmt::format("listening on {}{}{}:{}{}", v6 ? "[" : "", server_options.address,
                                 v6 ? "]" : "", server->port(),
                                 server_options.tls_certificate ? " (TLS)" : "")
                  << '\n'
                  << std::flush;
    }
    int received = 0;
    sigwait(&signals, &received);
    server->stop();
    return EXIT_SUCCESS;
}

}  // namespace

void add_serve_commands(std::vector<Command>& commands) {
    commands.push_back({"serve",
                        "serve the hub over HTTP(S): --listen HOST:PORT [--tls-cert F --tls-key F] "
                        "[--options FILE] [--threads N ...] until SIGINT/SIGTERM (serve --help)",
                        serve, serve_help});
}

}  // namespace sihlicon::cli
