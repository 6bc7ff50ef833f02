// SPDX-License-Identifier: Apache-2.0
//
// multipart/form-data over a spooled body (server/multipart.hpp).
#include "server/multipart.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/text.hpp>

#include <algorithm>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sihlicon::server {

namespace {

// How much of the body is searched at once.
constexpr std::size_t kSearchChunk = 1 << 20;

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

std::string lowered(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    return out;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

// The parameters of a header value "type; a=b; c=\"d;e\"" (names in lower case), the first
// element (the type) under "".
std::vector<std::pair<std::string, std::string>> header_parameters(std::string_view value,
                                                                   std::string_view field) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t at = 0;
    bool first = true;
    while (at <= value.size()) {
        std::string name;
        std::string text;
        // name (up to '=' or ';')
        while (at < value.size() && value[at] != '=' && value[at] != ';') {
            name += value[at++];
        }
        if (at < value.size() && value[at] == '=') {
            ++at;
            while (at < value.size() && (value[at] == ' ' || value[at] == '\t')) {
                ++at;
            }
            if (at < value.size() && value[at] == '"') {
                ++at;
                bool closed = false;
                while (at < value.size()) {
                    if (value[at] == '\\' && at + 1 < value.size()) {
                        text += value[at + 1];
                        at += 2;
                    } else if (value[at] == '"') {
                        ++at;
                        closed = true;
                        break;
                    } else {
                        text += value[at++];
                    }
                }
                if (!closed) {
                    throw Error::invalid(field, std::string(value), "has an unclosed quote");
                }
                while (at < value.size() && value[at] != ';') {
                    if (value[at] != ' ' && value[at] != '\t') {
                        throw Error::invalid(field, std::string(value),
                                             "has text after a quoted value");
                    }
                    ++at;
                }
            } else {
                while (at < value.size() && value[at] != ';') {
                    text += value[at++];
                }
                text = std::string(trim(text));
            }
        }
        const auto key = lowered(trim(name));
        if (first) {
            out.emplace_back("", key);
        } else if (!key.empty()) {
            out.emplace_back(key, text);
        }
        first = false;
        ++at;  // past ';' (or the end)
    }
    return out;
}

std::optional<std::string> parameter(const std::vector<std::pair<std::string, std::string>>& list,
                                     std::string_view name, std::string_view field) {
    std::optional<std::string> found;
    for (const auto& [key, value] : list) {
        if (key == name) {
            if (found) {
                throw Error::invalid(field, std::string(name), "names the parameter twice");
            }
            found = value;
        }
    }
    return found;
}

// The first `needle` in `body` at or after `from`, searched chunk by chunk.
std::optional<std::uint64_t> find(const SpoolFile& body, std::string_view needle,
                                  std::uint64_t from) {
    std::vector<std::uint8_t> chunk(kSearchChunk + needle.size());
    const std::boyer_moore_horspool_searcher searcher(needle.begin(), needle.end());
    while (from + needle.size() <= body.size()) {
        const auto got = body.read_at(from, chunk);
        const auto* begin = reinterpret_cast<const char*>(chunk.data());
        const auto* end = begin + got;
        const auto* hit = std::search(begin, end, searcher);
        if (hit != end) {
            return from + static_cast<std::uint64_t>(hit - begin);
        }
        if (got < chunk.size()) {
            return std::nullopt;  // the end of the body was searched
        }
        from += got - (needle.size() - 1);  // a needle across two chunks is found next time
    }
    return std::nullopt;
}

std::string read_text(const SpoolFile& body, std::uint64_t offset, std::size_t length) {
    std::string text(length, '\0');
    const auto got =
        body.read_at(offset, {reinterpret_cast<std::uint8_t*>(text.data()), text.size()});
    text.resize(got);
    return text;
}

Error truncated() {
    return Error::invalid("body", "",
                          "is not a whole multipart body: it ends before its closing boundary");
}

// Reads one part's header block at `at`; returns the part (offset set) or throws.
MultipartPart part_header(const SpoolFile& body, std::uint64_t at) {
    const auto head = read_text(body, at, kMaxPartHeaderBytes + 4);
    const auto end = head.find("\r\n\r\n");
    if (end == std::string::npos) {
        if (head.size() < kMaxPartHeaderBytes + 4) {
            throw truncated();
        }
        throw Error::invalid("body", "", "has a part header over 8 KiB");
    }
    MultipartPart part;
    part.offset = at + end + 4;
    bool disposition = false;
    std::string_view lines(head.data(), end);
    while (!lines.empty()) {
        const auto line_end = lines.find("\r\n");
        const auto line = lines.substr(0, line_end);
        lines.remove_prefix(line_end == std::string_view::npos ? lines.size() : line_end + 2);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            throw Error::invalid("body", printable(line, 200), "has a malformed part header");
        }
        const auto name = lowered(trim(line.substr(0, colon)));
        const auto value = trim(line.substr(colon + 1));
        if (name == "content-disposition") {
            if (disposition) {
                throw Error::invalid("body", "", "has a part with two Content-Disposition headers");
            }
            disposition = true;
            const auto parameters = header_parameters(value, "Content-Disposition");
            if (parameters.front().second != "form-data") {
                throw Error::invalid("Content-Disposition", printable(value, 200),
                                     "must be form-data");
            }
            auto part_name = parameter(parameters, "name", "Content-Disposition");
            if (!part_name || part_name->empty()) {
                throw Error::invalid("Content-Disposition", printable(value, 200),
                                     "must name the part (name=...)");
            }
            part.name = std::move(*part_name);
            part.file_name = parameter(parameters, "filename", "Content-Disposition");
        } else if (name == "content-type") {
            part.content_type = std::string(value);
        }
    }
    if (!disposition) {
        throw Error::invalid("body", "", "has a part without a Content-Disposition header");
    }
    return part;
}

}  // namespace

std::string multipart_boundary(std::string_view content_type) {
    const auto parameters = header_parameters(content_type, "Content-Type");
    if (parameters.front().second != "multipart/form-data") {
        throw Error::invalid("Content-Type", printable(content_type, 200),
                             "must be multipart/form-data");
    }
    auto boundary = parameter(parameters, "boundary", "Content-Type");
    if (!boundary || boundary->empty() || boundary->size() > 70 || boundary->back() == ' ' ||
        boundary->find_first_of("\r\n") != std::string::npos) {
        throw Error::invalid("Content-Type", printable(content_type, 200),
                             "must give a boundary of 1 to 70 characters");
    }
    return *boundary;
}

std::vector<MultipartPart> multipart_parts(const SpoolFile& body, std::string_view boundary) {
    const std::string dash_boundary = "--" + std::string(boundary);
    const std::string delimiter = "\r\n" + dash_boundary;
    // The first delimiter opens the body or follows a preamble's CRLF.
    std::uint64_t at = 0;
    if (read_text(body, 0, dash_boundary.size()) != dash_boundary) {
        const auto first = find(body, delimiter, 0);
        if (!first) {
            throw Error::invalid("body", "",
                                 "holds no multipart delimiter of the Content-Type's boundary");
        }
        at = *first + 2;
    }
    std::vector<MultipartPart> parts;
    while (true) {
        at += dash_boundary.size();  // past "--boundary"
        auto after = read_text(body, at, 2);
        if (after == "--") {
            return parts;  // the closing delimiter; an epilogue is ignored
        }
        // Transport padding, then the CRLF that ends the delimiter line.
        std::string padding = read_text(body, at, 256);
        const auto line_end = padding.find("\r\n");
        if (line_end == std::string::npos) {
            throw padding.size() < 256 ? truncated()
                                       : Error::invalid("body", "", "has a malformed delimiter");
        }
        if (padding.find_first_not_of(" \t") < line_end) {
            throw Error::invalid("body", "", "has a malformed delimiter line");
        }
        if (parts.size() == kMaxMultipartParts) {
            throw Error::invalid("body", "", "has more than 16 parts");
        }
        auto part = part_header(body, at + line_end + 2);
        const auto next = find(body, delimiter, part.offset);
        if (!next) {
            throw truncated();
        }
        part.size = *next - part.offset;
        parts.push_back(std::move(part));
        at = *next + 2;
    }
}

}  // namespace sihlicon::server
