// SPDX-License-Identifier: Apache-2.0
//
// A Beast body held in a spool file (server/spool.hpp), for server.cpp (the only file that
// includes this header and Beast): a streamed request body is appended to it as it arrives, a
// response body is sent from it in chunks. Not installed.
#pragma once

#include "server/spool.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/optional.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace sihlicon::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

// The most read from a spool file at once when sending it.
constexpr std::size_t kSendChunk = 64 * 1024;

// The body: the reader appends what arrives (the session made the file, so only it appends),
// the writer reads it back in chunks of kSendChunk.
struct SpoolBody {
    using value_type = std::shared_ptr<const SpoolFile>;

    static std::uint64_t size(const value_type& body) { return body ? body->size() : 0; }

    class reader {
      public:
        template <bool isRequest, class Fields>
        reader(http::header<isRequest, Fields>&, value_type& body) : body_(body) {}
        void init(const boost::optional<std::uint64_t>&, beast::error_code& ec) { ec = {}; }
        template <class ConstBufferSequence>
        std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
            std::size_t count = 0;
            try {
                // The session made the file; only it appends (const for the response's sake).
                auto& file = const_cast<SpoolFile&>(*body_);
                for (const auto buffer : beast::buffers_range_ref(buffers)) {
                    file.append({static_cast<const std::uint8_t*>(buffer.data()), buffer.size()});
                    count += buffer.size();
                }
                ec = {};
            } catch (...) {
                ec = make_error_code(beast::errc::io_error);
            }
            return count;
        }
        void finish(beast::error_code& ec) { ec = {}; }

      private:
        value_type& body_;
    };

    class writer {
      public:
        using const_buffers_type = net::const_buffer;
        template <bool isRequest, class Fields>
        writer(const http::header<isRequest, Fields>&, const value_type& body)
            : body_(body), chunk_(kSendChunk) {}
        void init(beast::error_code& ec) { ec = {}; }
        boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec) {
            const auto total = size(body_);
            if (offset_ >= total) {
                ec = {};
                return boost::none;
            }
            std::size_t got = 0;
            try {
                got = body_->read_at(offset_, chunk_);
            } catch (...) {
                got = 0;
            }
            if (got == 0) {  // unreadable, or shorter than its Content-Length
                ec = make_error_code(beast::errc::io_error);
                return boost::none;
            }
            ec = {};
            offset_ += got;
            return {{net::const_buffer(chunk_.data(), got), offset_ < total}};
        }

      private:
        const value_type& body_;
        std::vector<std::uint8_t> chunk_;
        std::uint64_t offset_ = 0;
    };
};

}  // namespace sihlicon::server
