// SPDX-License-Identifier: Apache-2.0
#include "agent/car_input.hpp"

#include "cas/car_reader.hpp"
#include "cid/file_dag.hpp"
#include "cid/unixfs.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>

namespace sihlicon::agent {

namespace {

[[noreturn]] void refuse(const std::string& problem) {
    throw Error(ErrorCode::integrity, fmt::format("input CAR: {}", problem), "car");
}

// A folder removed with everything in it when it goes out of scope.
struct ScratchFolder {
    std::filesystem::path path;
    explicit ScratchFolder(std::filesystem::path where) : path(std::move(where)) {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
        std::filesystem::create_directories(path);
    }
    ~ScratchFolder() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    ScratchFolder(const ScratchFolder&) = delete;
    ScratchFolder& operator=(const ScratchFolder&) = delete;

    std::filesystem::path of(const Cid& cid) const { return path / cid.to_string(); }
};

void write_bytes(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
        throw Error(ErrorCode::io, fmt::format("cannot write {}", path.string()), "input");
    }
}

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> bytes(std::istreambuf_iterator<char>(in), {});
    if (!in.eof() && in.fail()) {
        throw Error(ErrorCode::io, fmt::format("cannot read {}", path.string()), "input");
    }
    return bytes;
}

// The CAR's blocks by CIDv1, described for the DAG check, each written to the scratch folder.
using Described = std::map<Cid, std::optional<cid::FileBlock>>;  // nullopt: not a file block

Described read_blocks(const ContentStore::ByteSource& source, const Cid& root,
                      const ScratchFolder& scratch) {
    cas::CarReader reader(source);
    Described blocks;
    try {
        const auto roots = reader.read_header();
        if (roots.size() != 1 || roots.front().to_v1() != root.to_v1()) {
            refuse(fmt::format("its root is not {}", root.to_string()));
        }
        while (const auto block = reader.next()) {
            if (blocks.contains(block->cid)) {
                continue;
            }
            std::optional<cid::FileBlock> shape;
            try {
                shape = cid::describe_file_block(block->cid, block->bytes);
            } catch (const Error&) {
                // Refused below only if the root's DAG reaches it.
            }
            write_bytes(scratch.of(block->cid), block->bytes);
            blocks.emplace(block->cid, std::move(shape));
        }
    } catch (const Error& error) {
        if (error.code() == ErrorCode::integrity || error.code() == ErrorCode::io) {
            throw;
        }
        refuse(error.what());
    }
    return blocks;
}

void write_file(const ScratchFolder& scratch, const Cid& cid, std::ofstream& out,
                std::size_t depth) {
    if (depth > cid::kMaxFileDagDepth) {
        refuse("the DAG is too deep");
    }
    const auto block = read_bytes(scratch.of(cid));  // check_file_dag found every block
    if (cid.codec() == CidCodec::raw) {
        out.write(reinterpret_cast<const char*>(block.data()),
                  static_cast<std::streamsize>(block.size()));
        return;
    }
    const auto node = cid::decode_file_node(block, cid.to_string());
    out.write(reinterpret_cast<const char*>(node.data.data()),
              static_cast<std::streamsize>(node.data.size()));
    for (const auto& link : node.links) {
        write_file(scratch, link.to_v1(), out, depth + 1);
    }
}

}  // namespace

void write_verified_car_file(const ContentStore::ByteSource& source, const Cid& root,
                             const std::filesystem::path& destination) {
    ScratchFolder scratch(destination.string() + ".blocks");
    const auto blocks = read_blocks(source, root, scratch);
    cid::CheckedFile checked;
    try {
        checked =
            cid::check_file_dag(root.to_v1(), [&](const Cid& cid) -> std::optional<cid::FileBlock> {
                const auto found = blocks.find(cid);
                if (found == blocks.end()) {
                    return std::nullopt;
                }
                if (!found->second) {
                    refuse(fmt::format("block {} is not a UnixFS file block", cid.to_string()));
                }
                return found->second;
            });
    } catch (const Error& error) {
        if (error.code() == ErrorCode::integrity) {
            throw;
        }
        refuse(error.what());
    }
    if (checked.missing) {
        refuse(fmt::format("the DAG is incomplete: block {} is missing",
                           checked.missing->to_string()));
    }
    std::ofstream out(destination, std::ios::binary | std::ios::trunc);
    try {
        write_file(scratch, root.to_v1(), out, 0);
    } catch (...) {
        out.close();
        std::error_code ignored;
        std::filesystem::remove(destination, ignored);
        throw;
    }
    out.close();
    if (!out) {
        std::error_code ignored;
        std::filesystem::remove(destination, ignored);
        throw Error(ErrorCode::io, fmt::format("cannot write {}", destination.string()), "input");
    }
}

void write_verified_car_file(std::span<const std::uint8_t> car, const Cid& root,
                             const std::filesystem::path& destination) {
    std::size_t position = 0;
    const ContentStore::ByteSource source = [&](std::span<std::uint8_t> buffer) {
        const std::size_t take = std::min(buffer.size(), car.size() - position);
        std::memcpy(buffer.data(), car.data() + position, take);
        position += take;
        return take;
    };
    write_verified_car_file(source, root, destination);
}

}  // namespace sihlicon::agent
