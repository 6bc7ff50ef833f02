// SPDX-License-Identifier: Apache-2.0
//
// multipart/form-data (RFC 7578, framing of RFC 2046) over a spooled body: the parts are
// found by searching their delimiters in the file, chunk by chunk, so a part of any size is
// never loaded; a part is then read through SpoolFile::source(offset, size). Not installed.
#pragma once

#include "server/spool.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon::server {

struct MultipartPart {
    std::string name;                      // Content-Disposition's name
    std::optional<std::string> file_name;  // its filename, when given
    std::string content_type;              // the part's Content-Type, empty when absent
    std::uint64_t offset = 0;              // where its content starts in the body
    std::uint64_t size = 0;                // the content's exact length
};

// The most parts a body may have, and the longest header block of one part.
inline constexpr std::size_t kMaxMultipartParts = 16;
inline constexpr std::size_t kMaxPartHeaderBytes = 8 * 1024;

// The boundary of a "multipart/form-data; boundary=..." Content-Type (1 to 70 characters,
// quoted or not). Throws Error::invalid naming "Content-Type" otherwise.
std::string multipart_boundary(std::string_view content_type);

// The parts of the multipart body in `body`, in order. Throws Error::invalid naming "body" for
// a body with no delimiter, a part without its header block or Content-Disposition name, a
// part header over kMaxPartHeaderBytes, more than kMaxMultipartParts parts, or a body cut off
// before its closing delimiter ("--boundary--"); Error(io) when the file cannot be read.
std::vector<MultipartPart> multipart_parts(const SpoolFile& body, std::string_view boundary);

}  // namespace sihlicon::server
