// SPDX-License-Identifier: Apache-2.0
//
// A remote input, received as a CAR v1 stream, verified and rebuilt into a file. Not installed.
#pragma once

#include <sihlicon/cid.hpp>
#include <sihlicon/content_store.hpp>

#include <cstdint>
#include <filesystem>
#include <span>

namespace sihlicon::agent {

// Reads `source` (a CAR v1 whose one root is `root`) as it streams (cas::CarReader), checks
// every block's hash against its CID as it is read and writes each block to a scratch folder
// beside `destination` ("<destination>.blocks", removed on return or throw), so that the CAR
// may list its blocks in any order (kubo's and sihlicon's put the root first, ipfs-car puts it
// last). Then requires every block of the root's UnixFS file DAG (and its declared sizes:
// cid::check_file_dag), and only then writes the file the DAG holds to `destination`
// (created or replaced; a file it could not finish is removed).
// Memory: one block (at most 8 MiB) and a few hundred bytes per distinct block of the CAR;
// disk: the blocks once in the scratch folder while the file is written.
// Throws Error(integrity) naming the block for a block whose bytes do not hash to its CID, a
// missing block, another root, or a malformed CAR or DAG; io when a file cannot be written;
// and whatever `source` throws (the link's network errors).
void write_verified_car_file(const ContentStore::ByteSource& source, const Cid& root,
                             const std::filesystem::path& destination);

// The same for a CAR already in memory.
void write_verified_car_file(std::span<const std::uint8_t> car, const Cid& root,
                             const std::filesystem::path& destination);

}  // namespace sihlicon::agent
