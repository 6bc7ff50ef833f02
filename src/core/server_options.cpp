// SPDX-License-Identifier: Apache-2.0
//
// ServerOptions::from_json and ServerOptions::with (include/sihlicon/server.hpp): the server's
// options as JSON, the codec the CLI, the C ABI, Python and Node share. Only the decoding
// lives here; the Server constructor checks what the options mean (an IP literal, both TLS
// files, the minimums).
#include "core/json.hpp"
#include "core/text_units.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/server.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <array>
#include <cstdint>

namespace sihlicon {

namespace {

enum class Kind { text, integer, size, duration };

struct Key {
    std::string_view name;
    Kind kind;
};

constexpr std::array<Key, 14> kKeys{{{"address", Kind::text},
                                     {"port", Kind::integer},
                                     {"tlsCertificate", Kind::text},
                                     {"tlsPrivateKey", Kind::text},
                                     {"maxConnections", Kind::integer},
                                     {"headerLimit", Kind::size},
                                     {"bodyLimit", Kind::size},
                                     {"uploadLimit", Kind::size},
                                     {"spoolDirectory", Kind::text},
                                     {"readTimeoutMs", Kind::duration},
                                     {"writeTimeoutMs", Kind::duration},
                                     {"idleTimeoutMs", Kind::duration},
                                     {"threads", Kind::integer},
                                     {"maintenanceIntervalMs", Kind::duration}}};

}  // namespace

ServerOptions ServerOptions::from_json(std::string_view text) {
    return from_json(text, ServerOptions{});
}

ServerOptions ServerOptions::from_json(std::string_view text, const ServerOptions& base) {
    const auto value = json::parse(text, "options");
    json::ObjectReader reader(value, "");
    ServerOptions options = base;
    // Decoded within int64; the Server constructor checks each option's own range.
    constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
    constexpr std::int64_t kMax = INT64_MAX;
    const auto duration = [&](std::string_view key, std::chrono::milliseconds current) {
        return std::chrono::milliseconds(
            reader.optional_int64(key, 0, kDayMs).value_or(current.count()));
    };
    if (auto address = reader.optional_string("address", 64)) {
        options.address = *address;
    }
    options.port =
        static_cast<std::uint16_t>(reader.optional_int64("port", 0, 65535).value_or(options.port));
    if (auto certificate = reader.optional_string("tlsCertificate", 4096)) {
        options.tls_certificate = *certificate;
    }
    if (auto key = reader.optional_string("tlsPrivateKey", 4096)) {
        options.tls_private_key = *key;
    }
    options.max_connections =
        static_cast<std::size_t>(reader.optional_int64("maxConnections", 0, kMax)
                                     .value_or(static_cast<std::int64_t>(options.max_connections)));
    options.header_limit =
        static_cast<std::size_t>(reader.optional_int64("headerLimit", 0, kMax)
                                     .value_or(static_cast<std::int64_t>(options.header_limit)));
    options.body_limit =
        static_cast<std::uint64_t>(reader.optional_int64("bodyLimit", 0, kMax)
                                       .value_or(static_cast<std::int64_t>(options.body_limit)));
    options.upload_limit =
        static_cast<std::uint64_t>(reader.optional_int64("uploadLimit", 0, kMax)
                                       .value_or(static_cast<std::int64_t>(options.upload_limit)));
    if (auto spool = reader.optional_string("spoolDirectory", 4096)) {
        options.spool_directory = *spool;
    }
    options.read_timeout = duration("readTimeoutMs", options.read_timeout);
    options.write_timeout = duration("writeTimeoutMs", options.write_timeout);
    options.idle_timeout = duration("idleTimeoutMs", options.idle_timeout);
    options.threads =
        static_cast<int>(reader.optional_int64("threads", 0, 1024).value_or(options.threads));
    options.maintenance_interval = duration("maintenanceIntervalMs", options.maintenance_interval);
    reader.finish();
    return options;
}

ServerOptions ServerOptions::with(std::string_view key, std::string_view value_text) const {
    const Key* found = nullptr;
    for (const auto& candidate : kKeys) {
        if (candidate.name == key) {
            found = &candidate;
        }
    }
    if (found == nullptr) {
        std::string names;
        for (const auto& candidate : kKeys) {
            names += fmt::format("{}{}", names.empty() ? "" : ", ", candidate.name);
        }
        throw Error::invalid("key", std::string(key),
                             fmt::format("is not a server option (options: {})", names));
    }
    boost::json::object patch;
    switch (found->kind) {
        case Kind::text:
            patch[found->name] = boost::json::string(value_text);
            break;
        case Kind::integer:
            if (const auto number = text_units::parse_integer(value_text)) {
                patch[found->name] = *number;
            } else {
                throw Error::invalid(key, value_text, "must be an integer");
            }
            break;
        case Kind::size:
            patch[found->name] = text_units::parse_size_bytes(key, value_text);
            break;
        case Kind::duration:
            patch[found->name] = text_units::parse_duration_ms(key, value_text);
            break;
    }
    try {
        return from_json(json::serialize(patch), *this);
    } catch (const Error& error) {
        // The range checks name the value read ("4294967296"); the caller wrote "4GiB".
        throw Error(error.code(), fmt::format("{} (given as '{}')", error.what(), value_text),
                    error.field());
    }
}

}  // namespace sihlicon
