// SPDX-License-Identifier: Apache-2.0
//
// RFC 8785 JSON Canonicalization Scheme over Boost.JSON values, for code inside the library
// that builds its records as boost::json::value (epoch leaves, SUMMARY.json). Not installed;
// the public entry point is sihlicon::crypto::canonicalize_json.
//
// Thread safety: pure functions.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace sihlicon::crypto {

// Appends the JCS form of `value` to `out` (see canonicalize_json in crypto.hpp for the
// rules). Throws Error::invalid(field + path, ...) — e.g. "json.jobs[3].amount" — for an
// integer outside ±(2^53 − 1), a non-finite double, or a string or member name that is not
// valid UTF-8; on a throw `out` may hold a partial result.
void append_canonical_json(const boost::json::value& value, std::string& out,
                           std::string_view field = "json");

// The JCS form of `value`, as append_canonical_json.
std::string canonical_json(const boost::json::value& value, std::string_view field = "json");

// Parses JSON text for canonicalization: sihlicon::json::parse (core/json.hpp), whose rules
// (valid UTF-8, no duplicate member names, no number that overflows a double, no integer
// literal too long for 64 bits) are what JCS needs. Throws Error::invalid(field, json, ...).
boost::json::value parse_json_strict(std::string_view json, std::string_view field = "json");

}  // namespace sihlicon::crypto
