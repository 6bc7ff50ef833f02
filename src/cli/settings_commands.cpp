// SPDX-License-Identifier: Apache-2.0
//
// `sihlicon settings show|set|history`: the hub's stored settings (include/sihlicon/settings.hpp).
#include "cli/command.hpp"
#include "core/json.hpp"

#include <sihlicon/principal.hpp>
#include <sihlicon/settings.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <cstdlib>
#include <iostream>

namespace sihlicon::cli {

namespace po = boost::program_options;

namespace {

// One "key  value" line per setting, one per price ("prices.ocr  0.05").
std::string settings_text(const HubSettings& settings) {
    const auto object = boost::json::parse(settings.to_json()).as_object();
    std::string text;
    for (const auto& [key, value] : object) {
        if (value.is_object()) {
            if (value.as_object().empty()) {
                text += fmt::format("{:<27} {{}}\n", std::string_view(key));
            }
            for (const auto& [type, price] : value.as_object()) {
                text +=
                    fmt::format("{:<27} {}\n",
                                fmt::format("{}.{}", std::string_view(key), std::string_view(type)),
                                std::string_view(price.as_string()));
            }
            continue;
        }
        text += fmt::format(
            "{:<27} {}\n", std::string_view(key),
            value.is_string() ? std::string(value.as_string()) : boost::json::serialize(value));
    }
    return text;
}

int command_settings_show(const Context& context) {
    require_no_arguments(context);
    const auto settings = open_hub(context).settings();
    print_record(context, settings.to_json(), settings_text(settings));
    return EXIT_SUCCESS;
}

int command_settings_set(const Context& context) {
    po::options_description options;
    options.add_options()("by",
                          po::value<std::string>()->default_value(std::string(kOperatorPrincipal)),
                          "who changes it (only the operator may)")(
        "key", po::value<std::string>(),
        "the setting (as `settings show` names it; prices.TYPE for one price)")(
        "value", po::value<std::string>(),
        "its value: true/false, 0.05, 60000 or 60s/5m/2h/1d for durations, none");
    const auto values = parse_arguments(context, options, {"key", "value"});
    auto hub = open_hub(context);
    const auto settings =
        hub.set_setting(values["key"].as<std::string>(), values["value"].as<std::string>(),
                        values["by"].as<std::string>());
    print_record(context, settings.to_json(), settings_text(settings));
    return EXIT_SUCCESS;
}

int command_settings_history(const Context& context) {
    po::options_description options;
    options.add_options()("after", po::value<std::int64_t>()->default_value(0),
                          "only changes after this seq")(
        "limit", po::value<std::int64_t>()->default_value(1000), "at most this many (1..10000)");
    const auto values = parse_arguments(context, options, {});
    const auto changes = open_hub(context).settings_history(values["after"].as<std::int64_t>(),
                                                            values["limit"].as<std::int64_t>());
    if (context.json) {
        std::cout << json::join_array(changes) << '\n';
        return EXIT_SUCCESS;
    }
    for (const auto& change : changes) {
        print_line(fmt::format("{} {} {} {}: {} -> {}", change.seq, to_iso8601(change.at),
                               change.by, change.key, change.old_value, change.new_value));
    }
    return EXIT_SUCCESS;
}

}  // namespace

void add_settings_commands(std::vector<Command>& commands) {
    commands.push_back({"settings show",
                        "show the hub's settings (money and routing for the whole hub)",
                        command_settings_show});
    commands.push_back({"settings set",
                        "change one hub setting (KEY VALUE), audited; every process applies it",
                        command_settings_set});
    commands.push_back(
        {"settings history", "show who changed which setting, when", command_settings_history});
}

}  // namespace sihlicon::cli
