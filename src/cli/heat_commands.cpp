// SPDX-License-Identifier: Apache-2.0
//
// The heat ledger's commands: `heat record|credits|stats|settle|series|rate HUB_ID ...`;
// `heat stats` and `heat series` also take --site S or --region R instead of HUB_ID.
// With --json each prints the library's JSON shape (the seed's, where the seed has one).
#include "cli/command.hpp"
#include "core/json.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/heat_ledger.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include <cstdlib>
#include <iostream>

namespace po = boost::program_options;

namespace sihlicon::cli {

namespace {

// Parses the command's arguments: HUB_ID first, then the options.
po::variables_map parse(const Context& context, po::options_description& options) {
    options.add_options()("hub-id", po::value<std::string>(), "the hub whose heat is meant");
    return parse_arguments(context, options, {"hub-id"});
}

std::string text(const po::variables_map& values, const char* name) {
    return values[name].as<std::string>();
}

std::optional<Timestamp> optional_instant(const po::variables_map& values, const char* name) {
    if (!values.count(name)) {
        return std::nullopt;
    }
    return parse_iso8601(text(values, name), name);
}

Timestamp required_instant(const po::variables_map& values, const char* name) {
    if (!values.count(name)) {
        throw UsageError{fmt::format("missing option --{}", name)};
    }
    return parse_iso8601(text(values, name), name);
}

// For stats and series: HUB_ID, or --site S or --region R (every hub there, summed).
po::variables_map parse_with_group(const Context& context, po::options_description& options) {
    options.add_options()("hub-id", po::value<std::string>(), "the hub whose heat is meant")(
        "site", po::value<std::string>(), "sum every hub of this site")(
        "region", po::value<std::string>(), "sum every hub of this region");
    return parse_arguments(context, options, {"hub-id"}, false, 0);
}

// The group named by --site or --region, or std::nullopt for HUB_ID. Exactly one of the three.
std::optional<HubGroup> group_of(const po::variables_map& values) {
    const auto given = values.count("hub-id") + values.count("site") + values.count("region");
    if (given != 1) {
        throw UsageError{"give exactly one of HUB_ID, --site and --region"};
    }
    if (values.count("site")) {
        return HubGroup{HubGroupKind::site, text(values, "site")};
    }
    if (values.count("region")) {
        return HubGroup{HubGroupKind::region, text(values, "region")};
    }
    return std::nullopt;
}

void print_credit(const HeatCredit& credit) {
    fmt::print("hub              {}\n", credit.hub_id);
    fmt::print("period           {} to {}\n", to_iso8601(credit.period_start),
               to_iso8601(credit.period_end));
    fmt::print("heat             {} kWh\n", credit.total_heat.to_kwh_string());
    fmt::print("credit           {}\n", credit.credit.to_string());
    fmt::print("settled          {}\n", credit.settled ? "yes" : "no");
}

int command_record(const Context& context) {
    po::options_description options;
    options.add_options()("kind", po::value<std::string>()->default_value("other"),
                          "battery-losses, standalone-heater or other")(
        "kwh", po::value<std::string>(), "the heat delivered, exact decimal kWh")(
        "electrical-kwh", po::value<std::string>(), "the electricity it came from, if any")(
        "at", po::value<std::string>(), "when it was delivered, ISO 8601 (default: now)")(
        "tag", po::value<std::string>()->default_value(""), "the source's label")(
        "source", po::value<std::string>()->default_value("measured"),
        "measured, modelled or estimated");
    const auto values = parse(context, options);
    if (!values.count("kwh")) {
        throw UsageError{"missing option --kwh"};
    }
    ManualHeat heat;
    heat.hub_id = text(values, "hub-id");
    heat.kind = parse_heat_kind(text(values, "kind"), "kind");
    heat.thermal = Energy::parse_kwh(text(values, "kwh"), "kwh");
    if (values.count("electrical-kwh")) {
        heat.electrical = Energy::parse_kwh(text(values, "electrical-kwh"), "electrical-kwh");
    }
    heat.tag = text(values, "tag");
    heat.source = parse_energy_source(text(values, "source"), "source");
    heat.at = optional_instant(values, "at");
    const Hub hub = open_hub(context);
    const auto record = hub.heat_ledger().record(heat);
    if (context.json) {
        std::cout << record.to_json() << '\n';
    } else {
        fmt::print("recorded {} kWh of heat ({}, {}) as record {}, credited at {}\n",
                   record.thermal.to_kwh_string(), to_string(record.kind), to_string(record.source),
                   record.sequence, to_iso8601(record.credit_at));
    }
    return EXIT_SUCCESS;
}

int command_credits(const Context& context) {
    po::options_description options;
    options.add_options()("start", po::value<std::string>(),
                          "period start, ISO 8601 (default: end of the last settled period)")(
        "end", po::value<std::string>(), "period end, ISO 8601 (default: now)");
    const auto values = parse(context, options);
    const Hub hub = open_hub(context);
    const auto credit = hub.heat_ledger().credits(
        text(values, "hub-id"), optional_instant(values, "start"), optional_instant(values, "end"));
    if (context.json) {
        std::cout << credit.to_json() << '\n';
    } else {
        print_credit(credit);
    }
    return EXIT_SUCCESS;
}

int command_stats(const Context& context) {
    po::options_description options;
    const auto values = parse_with_group(context, options);
    const auto group = group_of(values);
    const Hub hub = open_hub(context);
    if (group) {
        const auto totals = hub.heat_ledger().group_stats(*group);
        if (context.json) {
            std::cout << totals.to_json() << '\n';
            return EXIT_SUCCESS;
        }
        fmt::print("{:<17}{}\n", to_string(group->kind), printable(group->name));
        fmt::print("hubs             {}\n", totals.hub_ids.size());
        fmt::print("heat             {} kWh\n", totals.total_heat.to_kwh_string());
        fmt::print("credit           {}\n", totals.total_credit.to_string());
        fmt::print("unsettled        {}\n", totals.unsettled_credit.to_string());
        fmt::print("periods          {}\n", totals.period_count);
        fmt::print("last period end  {}\n",
                   totals.last_period_end ? to_iso8601(*totals.last_period_end) : "none");
        for (const auto& stats : totals.hubs) {
            fmt::print("  {}  {} kWh  {}\n", printable(stats.hub_id),
                       stats.total_heat.to_kwh_string(), stats.total_credit.to_string());
        }
        return EXIT_SUCCESS;
    }
    const auto stats = hub.heat_ledger().stats(text(values, "hub-id"));
    if (context.json) {
        std::cout << stats.to_json() << '\n';
    } else {
        fmt::print("hub              {}\n", stats.hub_id);
        fmt::print("heat             {} kWh\n", stats.total_heat.to_kwh_string());
        fmt::print("credit           {}\n", stats.total_credit.to_string());
        fmt::print("unsettled        {}\n", stats.unsettled_credit.to_string());
        fmt::print("periods          {}\n", stats.period_count);
        fmt::print("last period end  {}\n",
                   stats.last_period_end ? to_iso8601(*stats.last_period_end) : "none");
    }
    return EXIT_SUCCESS;
}

int command_settle(const Context& context) {
    po::options_description options;
    options.add_options()("start", po::value<std::string>(), "period start, ISO 8601")(
        "end", po::value<std::string>(), "period end, ISO 8601");
    const auto values = parse(context, options);
    const Timestamp start = required_instant(values, "start");
    const Timestamp end = required_instant(values, "end");
    const Hub hub = open_hub(context);
    const auto settlement = hub.heat_ledger().settle(text(values, "hub-id"), start, end);
    if (context.json) {
        std::cout << settlement.to_json() << '\n';
    } else {
        fmt::print("settled {} to {}: {} kWh, {} ({} records)\n",
                   to_iso8601(settlement.period_start), to_iso8601(settlement.period_end),
                   settlement.total_heat.to_kwh_string(), settlement.credit.to_string(),
                   settlement.record_count);
    }
    return EXIT_SUCCESS;
}

int command_series(const Context& context) {
    po::options_description options;
    options.add_options()("resolution", po::value<std::string>()->default_value("hour"),
                          "hour or day")("from", po::value<std::string>(), "ISO 8601")(
        "to", po::value<std::string>(), "ISO 8601");
    const auto values = parse_with_group(context, options);
    const auto group = group_of(values);
    const auto resolution = parse_series_resolution(text(values, "resolution"), "resolution");
    const Timestamp from = required_instant(values, "from");
    const Timestamp to = required_instant(values, "to");
    const Hub hub = open_hub(context);
    std::vector<HeatSeriesPoint> points;
    if (group) {
        const auto series = hub.heat_ledger().group_series(*group, resolution, from, to);
        if (context.json) {
            std::cout << series.to_json() << '\n';
            return EXIT_SUCCESS;
        }
        points = series.points;
    } else {
        const auto series = hub.heat_ledger().series(text(values, "hub-id"), resolution, from, to);
        if (context.json) {
            std::cout << series.to_json() << '\n';
            return EXIT_SUCCESS;
        }
        points = series.points;
    }
    fmt::print("{:<24}  {:>16}  {:>16}  {:>16}  {:>8}\n", "start", "electricity kWh", "heat kWh",
               "demand kWh", "records");
    for (const auto& point : points) {
        fmt::print("{:<24}  {:>16}  {:>16}  {:>16}  {:>8}\n", to_iso8601(point.start),
                   point.electricity.to_kwh_string(), point.heat.to_kwh_string(),
                   point.heat_demand.to_kwh_string(), point.records);
    }
    return EXIT_SUCCESS;
}

int command_rate(const Context& context) {
    po::options_description options;
    options.add_options()("set", po::value<std::string>(),
                          "a new rate per kWh thermal in major units (0.05)")(
        "currency", po::value<std::string>()->default_value("CHF"), "the rate's currency")(
        "from", po::value<std::string>(), "when the new rate applies, ISO 8601");
    const auto values = parse(context, options);
    const std::string hub_id = text(values, "hub-id");
    const Hub hub = open_hub(context);
    if (values.count("set")) {
        const auto rate =
            Money::parse(text(values, "set"), Currency::of(text(values, "currency")), "set");
        hub.heat_ledger().set_credit_rate(hub_id, rate, required_instant(values, "from"));
    } else if (values.count("from")) {
        throw UsageError{"--from needs --set"};
    }
    const auto rates = hub.heat_ledger().credit_rates(hub_id);
    if (context.json) {
        std::cout << json::join_array(rates) << '\n';
        return EXIT_SUCCESS;
    }
    for (const auto& rate : rates) {
        fmt::print("from {}  {} per kWh{}\n", to_iso8601(rate.effective_from),
                   rate.per_kwh.to_string(), rate.is_default ? " (default)" : "");
    }
    return EXIT_SUCCESS;
}

}  // namespace

void add_heat_commands(std::vector<Command>& commands) {
    commands.push_back({"heat record", "record heat from a source other than a job (HUB_ID --kwh)",
                        command_record});
    commands.push_back(
        {"heat credits", "heat and credit of a hub over a period (HUB_ID)", command_credits});
    commands.push_back({"heat stats",
                        "heat and credit statistics of a hub (HUB_ID), or summed over a site or "
                        "region (--site S | --region R)",
                        command_stats});
    commands.push_back(
        {"heat settle", "settle a hub's period once (HUB_ID --start --end)", command_settle});
    commands.push_back({"heat series",
                        "hourly or daily electricity, heat and demand (HUB_ID | --site | --region)",
                        command_series});
    commands.push_back(
        {"heat rate", "show or set a hub's credit rate per kWh (HUB_ID [--set])", command_rate});
}

}  // namespace sihlicon::cli
