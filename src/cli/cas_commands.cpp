// SPDX-License-Identifier: Apache-2.0
//
// The content store's commands: `cid` (no hub needed), put, get, stat, ls, rm,
// ref set|get|ls|rm, tier, community add|rm|ls, quota, scrub, gc, car export|import, and
// fetch (fetch_command.cpp).
#include "cli/command.hpp"

#include <sihlicon/cid.hpp>
#include <sihlicon/content_store.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/principal.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

namespace po = boost::program_options;

namespace sihlicon::cli {

namespace {

constexpr std::uint64_t kProgressStep = 16 * 1024 * 1024;

std::string default_principal() {
    const char* from_environment = std::getenv("SIHLICON_PRINCIPAL");
    return from_environment != nullptr && *from_environment != '\0' ? from_environment : "local";
}

void add_principal(po::options_description& options) {
    options.add_options()("as", po::value<std::string>()->default_value(default_principal()),
                          "the principal acting (default: $SIHLICON_PRINCIPAL or 'local')");
}

// For what the hub's operator does: community membership.
void add_operator_principal(po::options_description& options) {
    options.add_options()("as",
                          po::value<std::string>()->default_value(std::string(kOperatorPrincipal)),
                          "the principal acting (default: the operator)");
}

void add_unixfs(po::options_description& options) {
    options.add_options()("chunk-size", po::value<std::size_t>(), "bytes per leaf (262144)")(
        "max-links", po::value<std::size_t>(), "links per node (174)")(
        "profile", po::value<std::string>(), "unixfs-v0-2015 (default) or unixfs-v1-2025");
}

UnixfsOptions unixfs_from(const po::variables_map& values) {
    UnixfsOptions options;
    if (values.count("profile")) {
        options = UnixfsOptions::profile(values["profile"].as<std::string>());
    }
    if (values.count("chunk-size")) {
        options.chunk_size = values["chunk-size"].as<std::size_t>();
    }
    if (values.count("max-links")) {
        options.max_links = values["max-links"].as<std::size_t>();
    }
    options.validate();
    return options;
}

// A progress line on stderr, only when stderr is a terminal.
ContentStore::Progress progress_line(std::string_view verb) {
    if (::isatty(STDERR_FILENO) == 0) {
        return {};
    }
    auto next = std::make_shared<std::uint64_t>(kProgressStep);
    return [verb = std::string(verb), next](std::uint64_t done) {
        if (done >= *next) {
            std::fprintf(stderr, "\r%s %.1f MiB", verb.c_str(),
                         static_cast<double>(done) / (1024.0 * 1024.0));
            std::fflush(stderr);
            *next = done + kProgressStep;
        }
    };
}

void end_progress() {
    if (::isatty(STDERR_FILENO) != 0) {
        std::fprintf(stderr, "\r\033[K");
    }
}

void print_manifest(const Manifest& manifest, bool json) {
    if (json) {
        std::cout << manifest.to_json() << '\n';
        return;
    }
    std::string hubs;
    for (const auto& hub : manifest.replica_hubs) {
        hubs += (hubs.empty() ? "" : " ") + hub;
    }
    // One print_line per field: a stored name can neither break a line nor forge one.
    print_line(fmt::format("contentId     {}", manifest.content_id));
    print_line(fmt::format("fileName      {}", manifest.file_name.value_or("")));
    print_line(fmt::format("fileSizeBytes {}", manifest.file_size_bytes));
    print_line(fmt::format("mimeType      {}", manifest.mime_type.value_or("")));
    print_line(fmt::format("storageTier   {}", to_string(manifest.storage_tier)));
    print_line(fmt::format("accessLevel   {}", to_string(manifest.access_level)));
    print_line(fmt::format("owner         {}", manifest.owner));
    print_line(fmt::format("minReplicas   {}", manifest.min_replicas));
    print_line(fmt::format("replicaHubs   {}", hubs));
    print_line(fmt::format("createdAt     {}", to_iso8601(manifest.created_at)));
}

int command_cid(const Context& context) {
    po::options_description options("cid");
    add_unixfs(options);
    options.add_options()("files", po::value<std::vector<std::string>>(), "files");
    const auto values = parse_arguments(context, options, {"files"}, true);
    const auto unixfs = unixfs_from(values);
    boost::json::array results;
    for (const auto& file : values["files"].as<std::vector<std::string>>()) {
        const auto cid = compute_file_cid(file, unixfs).to_string();
        if (context.json) {
            results.push_back(boost::json::object{{"file", file}, {"cid", cid}});
        } else {
            std::cout << cid << '\n';
        }
    }
    if (context.json) {
        std::cout << boost::json::serialize(results) << '\n';
    }
    return EXIT_SUCCESS;
}

int command_put(const Context& context) {
    po::options_description options("put");
    add_unixfs(options);
    options.add_options()("file", po::value<std::string>(), "the file to store")(
        "owner", po::value<std::string>()->default_value(default_principal()), "the owner")(
        "file-name", po::value<std::string>(), "fileName (default: the file's name)")(
        "mime-type", po::value<std::string>(), "mimeType")(
        "tier", po::value<std::string>()->default_value("hot"), "hot, cold or glacier")(
        "access", po::value<std::string>()->default_value("private"),
        "private, community or public")("min-replicas", po::value<int>()->default_value(3),
                                        "minReplicas")("source-hub", po::value<std::string>(),
                                                       "sourceHubId")(
        "metadata", po::value<std::string>()->default_value("{}"), "a JSON object")(
        "region", po::value<std::vector<std::string>>(), "an allowed replica region (repeatable)");
    const auto values = parse_arguments(context, options, {"file"});
    PutOptions put;
    put.unixfs = unixfs_from(values);
    if (values.count("file-name")) {
        put.file_name = values["file-name"].as<std::string>();
    }
    if (values.count("mime-type")) {
        put.mime_type = values["mime-type"].as<std::string>();
    }
    put.storage_tier = parse_storage_tier(values["tier"].as<std::string>(), "tier");
    put.access_level = parse_access_level(values["access"].as<std::string>(), "access");
    put.min_replicas = values["min-replicas"].as<int>();
    if (values.count("source-hub")) {
        put.source_hub_id = values["source-hub"].as<std::string>();
    }
    put.metadata_json = values["metadata"].as<std::string>();
    if (values.count("region")) {
        put.allowed_regions = values["region"].as<std::vector<std::string>>();
    }
    const auto hub = open_hub(context);
    const auto manifest =
        hub.content_store().put_file(values["file"].as<std::string>(),
                                     values["owner"].as<std::string>(), put, progress_line("put"));
    end_progress();
    if (context.json) {
        std::cout << manifest.to_json() << '\n';
    } else {
        std::cout << manifest.content_id << '\n';
    }
    return EXIT_SUCCESS;
}

int command_get(const Context& context) {
    po::options_description options("get");
    add_principal(options);
    options.add_options()("cid", po::value<std::string>(), "the content")(
        "output,o", po::value<std::string>(), "write to this file (default: stdout)")(
        "offset", po::value<std::uint64_t>()->default_value(0), "first byte")(
        "length", po::value<std::uint64_t>(), "bytes to read (default: to the end)");
    const auto values = parse_arguments(context, options, {"cid"});
    const auto hub = open_hub(context);
    std::optional<std::uint64_t> length;
    if (values.count("length")) {
        length = values["length"].as<std::uint64_t>();
    }
    const auto& cid = values["cid"].as<std::string>();
    const auto& principal = values["as"].as<std::string>();
    const auto offset = values["offset"].as<std::uint64_t>();
    if (values.count("output")) {
        // Written to a temporary file renamed over the target only on success.
        const auto target = values["output"].as<std::string>();
        const auto written = hub.content_store().get_to_file(cid, principal, target, offset, length,
                                                             progress_line("get"));
        end_progress();
        if (context.json) {
            std::cout << boost::json::serialize(boost::json::object{
                             {"contentId", cid}, {"output", target}, {"bytes", written}})
                      << '\n';
        }
        return EXIT_SUCCESS;
    }
    hub.content_store().get(
        cid, principal,
        [&](std::span<const std::uint8_t> bytes) {
            std::cout.write(reinterpret_cast<const char*>(bytes.data()),
                            static_cast<std::streamsize>(bytes.size()));
        },
        offset, length, progress_line("get"));
    end_progress();
    std::cout.flush();
    if (!std::cout) {
        throw Error(ErrorCode::io, "cannot write to standard output", "output");
    }
    return EXIT_SUCCESS;
}

int command_stat(const Context& context) {
    po::options_description options("stat");
    add_principal(options);
    options.add_options()("cid", po::value<std::string>(), "the content");
    const auto values = parse_arguments(context, options, {"cid"});
    const auto hub = open_hub(context);
    print_manifest(
        hub.content_store().stat(values["cid"].as<std::string>(), values["as"].as<std::string>()),
        context.json);
    return EXIT_SUCCESS;
}

int command_ls(const Context& context) {
    po::options_description options("ls");
    add_principal(options);
    options.add_options()("owner", po::value<std::string>(), "only this owner's content")(
        "limit", po::value<std::size_t>()->default_value(1000), "at most this many");
    const auto values = parse_arguments(context, options, {});
    const auto hub = open_hub(context);
    std::optional<std::string> owner;
    if (values.count("owner")) {
        owner = values["owner"].as<std::string>();
    }
    const auto manifests =
        hub.content_store().list(values["as"].as<std::string>(),
                                 owner ? std::optional<std::string_view>(*owner) : std::nullopt,
                                 values["limit"].as<std::size_t>());
    if (context.json) {
        boost::json::array array;
        for (const auto& manifest : manifests) {
            array.push_back(boost::json::parse(manifest.to_json()));
        }
        std::cout << boost::json::serialize(array) << '\n';
        return EXIT_SUCCESS;
    }
    for (const auto& manifest : manifests) {
        print_line(fmt::format("{}  {:>12}  {:<7}  {:<9}  {:<12}  {}", manifest.content_id,
                               manifest.file_size_bytes, to_string(manifest.storage_tier),
                               to_string(manifest.access_level), manifest.owner,
                               manifest.file_name.value_or("")));
    }
    return EXIT_SUCCESS;
}

int command_rm(const Context& context) {
    po::options_description options("rm");
    add_principal(options);
    options.add_options()("cid", po::value<std::string>(), "the content");
    const auto values = parse_arguments(context, options, {"cid"});
    const auto hub = open_hub(context);
    hub.content_store().remove(values["cid"].as<std::string>(), values["as"].as<std::string>());
    if (context.json) {
        std::cout << boost::json::serialize(
                         boost::json::object{{"success", true}, {"message", "Content deleted"}})
                  << '\n';
    }
    return EXIT_SUCCESS;
}

int command_ref_set(const Context& context) {
    po::options_description options("ref set");
    add_principal(options);
    options.add_options()("reference", po::value<std::string>(), "name@version")(
        "cid", po::value<std::string>(), "the content");
    const auto values = parse_arguments(context, options, {"reference", "cid"});
    const auto [name, version] = parse_reference(values["reference"].as<std::string>());
    if (!version) {
        throw UsageError{"ref set needs name@version"};
    }
    const auto hub = open_hub(context);
    const auto reference = hub.content_store().set_reference(
        name, *version, values["cid"].as<std::string>(), values["as"].as<std::string>());
    if (context.json) {
        std::cout << reference.to_json() << '\n';
    } else {
        fmt::print("{}@{} {}\n", reference.name, reference.version, reference.content_id);
    }
    return EXIT_SUCCESS;
}

int command_ref_get(const Context& context) {
    po::options_description options("ref get");
    add_principal(options);
    options.add_options()("reference", po::value<std::string>(), "name or name@version");
    const auto values = parse_arguments(context, options, {"reference"});
    const auto [name, version] = parse_reference(values["reference"].as<std::string>());
    const auto hub = open_hub(context);
    const auto reference = hub.content_store().resolve_reference(
        name, version ? std::optional<std::string_view>(*version) : std::nullopt,
        values["as"].as<std::string>());
    if (context.json) {
        std::cout << reference.to_json() << '\n';
    } else {
        std::cout << reference.content_id << '\n';
    }
    return EXIT_SUCCESS;
}

int command_ref_ls(const Context& context) {
    po::options_description options("ref ls");
    add_principal(options);
    options.add_options()("name", po::value<std::string>(), "the name");
    const auto values = parse_arguments(context, options, {"name"});
    const auto hub = open_hub(context);
    const auto references = hub.content_store().reference_versions(values["name"].as<std::string>(),
                                                                   values["as"].as<std::string>());
    boost::json::array array;
    for (const auto& reference : references) {
        if (context.json) {
            array.push_back(boost::json::parse(reference.to_json()));
        } else {
            fmt::print("{}@{} {}\n", reference.name, reference.version, reference.content_id);
        }
    }
    if (context.json) {
        std::cout << boost::json::serialize(array) << '\n';
    }
    return EXIT_SUCCESS;
}

int command_ref_rm(const Context& context) {
    po::options_description options("ref rm");
    add_principal(options);
    options.add_options()("reference", po::value<std::string>(), "name@version");
    const auto values = parse_arguments(context, options, {"reference"});
    const auto [name, version] = parse_reference(values["reference"].as<std::string>());
    if (!version) {
        throw UsageError{"ref rm needs name@version"};
    }
    const auto hub = open_hub(context);
    hub.content_store().remove_reference(name, *version, values["as"].as<std::string>());
    if (context.json) {
        std::cout << boost::json::serialize(boost::json::object{
                         {"name", name}, {"version", *version}, {"removed", true}})
                  << '\n';
    }
    return EXIT_SUCCESS;
}

int command_tier(const Context& context) {
    po::options_description options("tier");
    add_principal(options);
    options.add_options()("cid", po::value<std::string>(), "the content")(
        "tier", po::value<std::string>(), "hot, cold or glacier");
    const auto values = parse_arguments(context, options, {"cid", "tier"});
    const auto hub = open_hub(context);
    const auto manifest = hub.content_store().move_to_tier(
        values["cid"].as<std::string>(), values["as"].as<std::string>(),
        parse_storage_tier(values["tier"].as<std::string>(), "tier"));
    print_manifest(manifest, context.json);
    return EXIT_SUCCESS;
}

int command_scrub(const Context& context) {
    po::options_description options("scrub");
    options.add_options()("sample", po::value<std::size_t>(), "check only this many blocks");
    const auto values = parse_arguments(context, options, {});
    const auto hub = open_hub(context);
    ScrubOptions scrub;
    if (values.count("sample")) {
        scrub.sample_blocks = values["sample"].as<std::size_t>();
    }
    const auto report = hub.content_store().scrub(scrub);
    if (context.json) {
        std::cout << report.to_json() << '\n';
    } else {
        fmt::print("checked {} blocks ({} bytes), {} problems\n", report.blocks_checked,
                   report.bytes_checked, report.problems.size());
        for (const auto& problem : report.problems) {
            fmt::print("{} {} {}\n", problem.problem, to_string(problem.tier), problem.block_cid);
        }
    }
    return report.problems.empty() ? EXIT_SUCCESS : 1;
}

int command_car_export(const Context& context) {
    po::options_description options("car export");
    add_principal(options);
    options.add_options()("cid", po::value<std::string>(), "the content")(
        "file", po::value<std::string>(), "the CAR file to write");
    const auto values = parse_arguments(context, options, {"cid", "file"});
    const auto hub = open_hub(context);
    const auto target = values["file"].as<std::string>();
    // Written to a temporary file renamed over the target only on success.
    const auto bytes = hub.content_store().export_car_to_file(
        values["cid"].as<std::string>(), values["as"].as<std::string>(), target);
    if (context.json) {
        std::cout << boost::json::serialize(
                         boost::json::object{{"contentId", values["cid"].as<std::string>()},
                                             {"file", target},
                                             {"bytes", bytes}})
                  << '\n';
    }
    return EXIT_SUCCESS;
}

int command_car_import(const Context& context) {
    po::options_description options("car import");
    options.add_options()("file", po::value<std::string>(), "the CAR file")(
        "owner", po::value<std::string>()->default_value(default_principal()), "the owner")(
        "tier", po::value<std::string>()->default_value("hot"), "hot, cold or glacier")(
        "access", po::value<std::string>()->default_value("private"),
        "private, community or public");
    const auto values = parse_arguments(context, options, {"file"});
    PutOptions put;
    put.storage_tier = parse_storage_tier(values["tier"].as<std::string>(), "tier");
    put.access_level = parse_access_level(values["access"].as<std::string>(), "access");
    const auto path = values["file"].as<std::string>();
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw Error(ErrorCode::io, fmt::format("cannot open {}", path), "file");
    }
    const auto hub = open_hub(context);
    const auto manifests = hub.content_store().import_car(
        [&](std::span<std::uint8_t> buffer) {
            file.read(reinterpret_cast<char*>(buffer.data()),
                      static_cast<std::streamsize>(buffer.size()));
            return static_cast<std::size_t>(file.gcount());
        },
        values["owner"].as<std::string>(), put);
    boost::json::array array;
    for (const auto& manifest : manifests) {
        if (context.json) {
            array.push_back(boost::json::parse(manifest.to_json()));
        } else {
            std::cout << manifest.content_id << '\n';
        }
    }
    if (context.json) {
        std::cout << boost::json::serialize(array) << '\n';
    }
    return EXIT_SUCCESS;
}

int command_gc(const Context& context) {
    require_no_arguments(context);
    const auto hub = open_hub(context);
    const auto removed = hub.content_store().collect_garbage();
    if (context.json) {
        std::cout << boost::json::serialize(boost::json::object{{"removedBlocks", removed}})
                  << '\n';
    } else {
        fmt::print("removed {} unreferenced blocks\n", removed);
    }
    return EXIT_SUCCESS;
}

// The communities of `member` that `actor` may see.
int print_communities(const Context& context, const Hub& hub, const std::string& member,
                      const std::string& actor) {
    const auto communities = hub.content_store().communities_of(member, actor);
    if (context.json) {
        boost::json::array array;
        for (const auto& community : communities) {
            array.emplace_back(community);
        }
        std::cout << boost::json::serialize(
                         boost::json::object{{"principal", member}, {"communities", array}})
                  << '\n';
    } else {
        fmt::print("{}: {}\n", member, fmt::join(communities, ", "));
    }
    return EXIT_SUCCESS;
}

int command_community(const Context& context, bool add) {
    po::options_description options("community");
    add_operator_principal(options);
    options.add_options()("community", po::value<std::string>(), "community id")(
        "principal", po::value<std::string>(), "member");
    const auto values = parse_arguments(context, options, {"community", "principal"});
    const auto hub = open_hub(context);
    const auto& community = values["community"].as<std::string>();
    const auto& member = values["principal"].as<std::string>();
    const auto& actor = values["as"].as<std::string>();
    if (add) {
        hub.content_store().add_community_member(community, member, actor);
    } else {
        hub.content_store().remove_community_member(community, member, actor);
    }
    return print_communities(context, hub, member, actor);
}

int command_community_list(const Context& context) {
    po::options_description options("community ls");
    add_operator_principal(options);
    options.add_options()("principal", po::value<std::string>(), "member");
    const auto values = parse_arguments(context, options, {"principal"});
    return print_communities(context, open_hub(context), values["principal"].as<std::string>(),
                             values["as"].as<std::string>());
}

int command_quota(const Context& context) {
    po::options_description options("quota");
    options.add_options()("owner", po::value<std::string>(), "owner, or * for the default")(
        "per-hour", po::value<std::int64_t>(), "set: upload bytes per hour")(
        "total", po::value<std::int64_t>(), "set: total bytes (0: no limit)");
    const auto values = parse_arguments(context, options, {"owner"});
    const auto hub = open_hub(context);
    const auto& owner = values["owner"].as<std::string>();
    if (values.count("per-hour") || values.count("total")) {
        Quota quota = hub.content_store().quota(owner);
        if (values.count("per-hour")) {
            quota.upload_bytes_per_hour = values["per-hour"].as<std::int64_t>();
        }
        if (values.count("total")) {
            const auto total = values["total"].as<std::int64_t>();
            quota.total_bytes = total == 0 ? std::nullopt : std::optional(total);
        }
        hub.content_store().set_quota(owner, quota);
    }
    const auto quota = hub.content_store().quota(owner);
    if (context.json) {
        auto object = boost::json::parse(quota.to_json()).as_object();
        object["owner"] = owner;
        std::cout << boost::json::serialize(object) << '\n';
    } else {
        fmt::print("{}: {} bytes per hour, total {}\n", owner, quota.upload_bytes_per_hour,
                   quota.total_bytes ? std::to_string(*quota.total_bytes) + " bytes"
                                     : std::string("unlimited"));
    }
    return EXIT_SUCCESS;
}

}  // namespace

int command_fetch(const Context& context);  // fetch_command.cpp

void add_cas_commands(std::vector<Command>& commands) {
    commands.push_back({"cid", "print the IPFS CIDv1 of files (no hub needed)", command_cid});
    commands.push_back({"put", "store a file in the content store", command_put});
    commands.push_back({"get", "read content (or a byte range) by CID", command_get});
    commands.push_back({"stat", "show a content's manifest", command_stat});
    commands.push_back({"ls", "list the content visible to a principal", command_ls});
    commands.push_back({"rm", "remove a principal's content", command_rm});
    commands.push_back({"ref set", "point name@version at a CID", command_ref_set});
    commands.push_back({"ref get", "resolve name[@version] to a CID", command_ref_get});
    commands.push_back({"ref ls", "list the versions of a name", command_ref_ls});
    commands.push_back({"ref rm", "remove name@version (its owner only)", command_ref_rm});
    commands.push_back({"tier", "move content to the hot, cold or glacier tier", command_tier});
    commands.push_back({"community add",
                        "add a principal to a community: COMMUNITY PRINCIPAL [--as ACTOR]",
                        [](const Context& c) { return command_community(c, true); }});
    commands.push_back({"community rm", "remove a principal from a community",
                        [](const Context& c) { return command_community(c, false); }});
    commands.push_back({"community ls", "the communities of a principal", command_community_list});
    commands.push_back(
        {"quota", "show or set an owner's upload quota: OWNER [--per-hour N]", command_quota});
    commands.push_back({"scrub", "re-hash stored blocks and report damage", command_scrub});
    commands.push_back({"gc", "remove blocks that no manifest references", command_gc});
    commands.push_back(
        {"car export", "write a content's DAG as a CAR v1 file", command_car_export});
    commands.push_back({"car import", "store the DAGs of a CAR v1 file", command_car_import});
    commands.push_back(
        {"fetch", "fetch a CID from gateways: CID --from URL [--from URL2]", command_fetch});
}

}  // namespace sihlicon::cli
