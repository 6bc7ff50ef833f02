// SPDX-License-Identifier: Apache-2.0
//
// A remote input, received as a CAR v1, verified and rebuilt into a file. Not installed.
#pragma once

#include <sihlicon/cid.hpp>

#include <cstdint>
#include <filesystem>
#include <span>

namespace sihlicon::agent {

// Reads `car` (a CAR v1 whose one root is `root`), checks every block's hash against its CID
// as it is read, requires every block of the root's UnixFS file DAG (and its declared sizes:
// cid::check_file_dag), and only then writes the file the DAG holds to `destination`
// (created or replaced; a file it could not finish is removed). Throws Error(integrity) naming the
// block for a block whose bytes do not hash to its CID, a missing block or a malformed CAR or DAG;
// io when the file cannot be written.
void write_verified_car_file(std::span<const std::uint8_t> car, const Cid& root,
                             const std::filesystem::path& destination);

}  // namespace sihlicon::agent
