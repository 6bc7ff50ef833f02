// SPDX-License-Identifier: Apache-2.0
//
// The header of a CAR v1 file (https://ipld.io/specs/transport/car/carv1/): the DAG-CBOR map
// {"roots": [CID, ...], "version": 1}. Read strictly, since it comes from outside: DAG-CBOR
// is canonical, so a header has exactly one encoding and anything else is refused. Not
// installed.
//
// Thread safety: pure functions.
#pragma once

#include <sihlicon/cid.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace sihlicon::cas {

// The DAG-CBOR header naming `roots`, without the varint length that precedes it in a file.
// REQUIRES: roots is not empty and names no CID twice.
std::vector<std::uint8_t> encode_car_header(std::span<const Cid> roots);

// Returns the roots of a CAR v1 header, in file order. Throws Error(invalid_argument), field
// "car header", for anything but the canonical DAG-CBOR encoding of a map with exactly the
// keys "roots" and "version" in that order: another CBOR type, indefinite lengths, integers or
// lengths not in their shortest form, a duplicate, unknown, missing or misordered key, a
// version other than 1 (CARv2 included), no root, a root that is not tag 42 over the bytes
// 0x00 + a binary CID sihlicon supports (raw or dag-pb, sha2-256), a root named twice, or
// trailing bytes.
std::vector<Cid> parse_car_header(std::span<const std::uint8_t> header);

// The length of the binary CID at the start of a CAR section (a CIDv0's 34 bytes, or a
// CIDv1's version, codec, hash code, digest length and digest). Throws Error(invalid_argument),
// field "car", for a malformed or truncated CID.
std::size_t car_section_cid_length(std::span<const std::uint8_t> section);

}  // namespace sihlicon::cas
