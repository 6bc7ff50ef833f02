// SPDX-License-Identifier: Apache-2.0
//
// The fetcher: content pulled by CID from other hubs or from the IPFS network, verified block by
// block as it streams, and stored in this hub's ContentStore.
//
// A gateway is anything that speaks the IPFS Trustless Gateway protocol for CARs
// (https://specs.ipfs.tech/http-gateways/trustless-gateway/): a sihlicon hub (`sihlicon serve`,
// GET /ipfs/{cid}), or any IPFS trustless gateway such as kubo's. The fetcher asks
// `GET {url}/ipfs/{cidv1}?format=car&dag-scope=all` with `Accept: application/vnd.ipld.car`
// (and `Authorization: Bearer` when the gateway has a token), and reads the answer as a CAR v1
// stream through ContentStore::import_car: every block is hashed and compared with its CID as
// it arrives, the whole UnixFS file DAG must be present, and its declared sizes must be real.
//
// Thread safety: fetch_content may be called from several threads at once (each call has its
// own connections); the ContentStore must outlive the call.
#pragma once

#include <sihlicon/content_store.hpp>
#include <sihlicon/export.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon {

struct Gateway {
    // "http://HOST[:PORT]" or "https://HOST[:PORT]" (no path: the fetcher adds /ipfs/{cid}).
    std::string url;
    // Sent as "Authorization: Bearer TOKEN" when not empty (a hub's API token that may read
    // the content; public gateways need none). No spaces, at most 4096 bytes.
    std::string token;
};

struct FetchOptions {
    // Tried in this order; at least one.
    std::vector<Gateway> gateways;
    // PEM file of the certificate authorities trusted for https; empty: the system's. The
    // gateway's certificate is always verified and must name the URL's host.
    std::filesystem::path ca_file;
    std::chrono::milliseconds connect_timeout{5'000};
    // A gateway that sends nothing for this long (head or body) has failed.
    std::chrono::milliseconds idle_timeout{30'000};
    // The whole transfer from one gateway, from the request to the CAR's last byte.
    std::chrono::milliseconds timeout{10 * 60'000};
    // Connection errors, timeouts and 503 answers of one gateway are retried (back-off with
    // jitter, retry_initial doubling up to 2 s) for this long before the next gateway is tried.
    std::chrono::milliseconds retry_budget{5'000};
    std::chrono::milliseconds retry_initial{100};
    // The largest CAR read (header and every section, duplicates included) and the most
    // blocks (sections) it may hold. Both above zero.
    std::uint64_t max_bytes = std::uint64_t{1} << 30;
    std::uint64_t max_blocks = 1'000'000;
    // How the content is stored (tier, access level, file name, ...), as for import_car.
    PutOptions put;
};

struct FetchResult {
    Manifest manifest;
    std::string gateway;          // the url of the gateway that served it
    std::uint64_t car_bytes = 0;  // bytes of the CAR read from it
};

// Fetches the content `cid` (a CIDv0 or CIDv1 of a UnixFS file) from the first gateway of
// `options.gateways` that serves it and stores it for `owner` (ContentStore::import_car with
// options.put: the owner's quota, possession and size rules apply; a content the owner already
// has is recorded as a put of the same bytes). Returns its manifest.
//
// A gateway that cannot be reached, times out, answers another status than 200 or another
// Content-Type than application/vnd.ipld.car, sends more than max_bytes or max_blocks, or a
// CAR that is malformed or lacks a block of the DAG, is passed over for the next one.
// A gateway whose CAR holds a block whose bytes do not hash to its CID, names another root
// than `cid` (or more than one), or declares sizes that are not the real ones aborts the
// fetch: Error(integrity) naming the CID and the gateway, with the other gateways left
// untried (someone serves forged content: the operator must look).
//
// Nothing is stored unless the whole DAG arrived and verified: no manifest, no block left
// behind (import_car removes the blocks it wrote).
//
// Throws Error::invalid naming "cid", "gateways", "gateways[i].url", "gateways[i].token",
// "timeouts", "maxBytes", "maxBlocks" (or caFile) before anything is sent; integrity as
// above; not_found when every gateway answered 404 (or 410); io naming each gateway's
// problem when none served it; and, at once, whatever import_car throws for the owner
// (quota_exceeded, permission_denied, invalid_argument for options.put).
SIHLICON_API FetchResult fetch_content(ContentStore& store, std::string_view cid,
                                       std::string_view owner, const FetchOptions& options);

}  // namespace sihlicon
