// SPDX-License-Identifier: Apache-2.0
//
// The REST contract's storage endpoints (server/api.hpp's route table; server.hpp lists them):
// an upload streams (the multipart framing is parsed over the spooled body and the file part
// goes to ContentStore::put_stream without being loaded), a stat and a delete act as the
// token's principal under the content store's own rules.
#include "server/api.hpp"
#include "server/multipart.hpp"

#include <sihlicon/content_store.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/text.hpp>

#include <boost/json.hpp>

namespace sihlicon::server {

namespace {

const std::vector<Role> kClientsAndOperators{Role::client, Role::hub_operator};

// The longest metadata part: PutOptions' metadata object (64 KiB) and its other fields.
constexpr std::uint64_t kMaxMetadataPartBytes = 128 * 1024;

std::string required_content_id(const Request& request) {
    auto query = query_of(request.target, {"contentId"});
    const auto it = query.find("contentId");
    if (it == query.end() || it->second.empty()) {
        throw Error::invalid("contentId", "", "is required");
    }
    return it->second;
}

Response upload(const Request& request) {
    query_of(request.target, {});
    if (request.spooled == nullptr) {
        throw Error(ErrorCode::internal, "the upload route must stream its body");
    }
    const auto& body = *request.spooled;
    const auto parts = multipart_parts(body, multipart_boundary(request.content_type));
    const MultipartPart* file = nullptr;
    const MultipartPart* metadata = nullptr;
    for (const auto& part : parts) {
        const MultipartPart** slot = part.name == "file"       ? &file
                                     : part.name == "metadata" ? &metadata
                                                               : nullptr;
        if (slot == nullptr) {
            throw Error::invalid(printable(part.name, 128), part.name,
                                 "is not a part of an upload (file, metadata)");
        }
        if (*slot != nullptr) {
            throw Error::invalid(part.name, "", "is given more than once");
        }
        *slot = &part;
    }
    if (file == nullptr) {
        throw Error::invalid("file", "", "is required");
    }
    PutOptions options;
    if (metadata != nullptr) {
        if (metadata->size > kMaxMetadataPartBytes) {
            throw Error::invalid("metadata", "", "must be at most 128 KiB");
        }
        std::string text(static_cast<std::size_t>(metadata->size), '\0');
        body.read_at(metadata->offset, {reinterpret_cast<std::uint8_t*>(text.data()), text.size()});
        options = PutOptions::from_json(text);
    }
    if (!options.file_name && file->file_name && !file->file_name->empty()) {
        options.file_name = file->file_name;  // the form's file name, unless metadata names one
    }
    options.declared_size = file->size;
    const auto manifest = request.hub->content_store().put_stream(
        body.source(file->offset, file->size), request.identity->principal, options);
    return {200, success_with("manifest", manifest.to_json()), {}};
}

Response stat(const Request& request) {
    const auto content_id = required_content_id(request);
    const auto manifest =
        request.hub->content_store().stat(content_id, request.identity->principal);
    return {200, success_with("manifest", manifest.to_json()), {}};
}

Response remove(const Request& request) {
    const auto content_id = required_content_id(request);
    request.hub->content_store().remove(content_id, request.identity->principal);
    return {200,
            boost::json::serialize(
                boost::json::object{{"success", true}, {"message", "Content deleted"}}),
            {}};
}

}  // namespace

void add_storage_routes(RouteTable& table, Hub& /*hub*/) {
    Route put{"POST", "/api/storage", false, kClientsAndOperators, upload};
    put.streaming_body = true;
    table.add(std::move(put));
    table.add({"GET", "/api/storage", false, kClientsAndOperators, stat});
    table.add({"DELETE", "/api/storage", false, kClientsAndOperators, remove});
}

}  // namespace sihlicon::server
