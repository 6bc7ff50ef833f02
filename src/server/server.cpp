// SPDX-License-Identifier: Apache-2.0
//
// sihlicon::Server (include/sihlicon/server.hpp): connections, HTTP/1.1 and TLS on
// Boost.Beast and Asio. The only file of the library that includes Beast; what a request
// means is decided by server/api.hpp.
#include "server/api.hpp"
#include "server/maintenance.hpp"
#include "server/spool_body.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/server.hpp>
#include <sihlicon/text.hpp>
#include <sihlicon/time.hpp>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

namespace sihlicon {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

// Connections accepted beyond max_connections only to be told 503; more are closed at once.
constexpr std::size_t kRejectBacklog = 64;
// What is read and thrown away of a refused request's body before its connection is closed
// (closing with unread data would reset the connection and could lose the answer).
constexpr std::size_t kDiscardBytes = 64 * 1024;
constexpr auto kDiscardTime = std::chrono::milliseconds(500);
// The most read at once while waiting for a request's first bytes.
constexpr std::size_t kFirstRead = 4096;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// A streamed request body must bring at least this many bytes per read_timeout: its deadline
// moves on each time they have arrived (a whole 4 GiB upload is not held to one read_timeout,
// a client trickling bytes still is).
constexpr std::uint64_t kProgressBytes = 64 * 1024;

// What every connection of a server shares.
class SessionBase {
  public:
    virtual ~SessionBase() = default;
    // The server is stopping: close now if idle, else after the current response.
    virtual void stop_soon() = 0;
};

}  // namespace

// What the connections of a server share (Server::Impl is this).
struct ServerCore {
    Hub& hub;
    ServerOptions options;
    server::Api api;
    // Declared before the io_context: destroying it destroys the handlers still queued, and
    // with them sessions, which deregister themselves here and use the TLS context.
    std::mutex mutex;  // guards sessions and next_session
    std::condition_variable drained;
    std::map<std::uint64_t, std::weak_ptr<SessionBase>> sessions;
    std::uint64_t next_session = 0;
    std::optional<ssl::context> tls;
    net::io_context io{};
    std::optional<tcp::acceptor> acceptor;
    std::vector<std::thread> threads;
    std::atomic<std::uint16_t> port{0};
    std::atomic<bool> started{false};
    std::atomic<bool> stopping{false};
    std::mutex stop_mutex;  // one stop() at a time; a second waits for the first
    bool stopped = false;   // guarded by stop_mutex

    server::Maintenance maintenance;  // the periodic tasks (maintenance.hpp)

    ServerCore(Hub& h, ServerOptions o)
        : hub(h),
          options(std::move(o)),
          api(h, options.spool_directory),
          maintenance(h, options.access_log) {}

    void accept();
    void log(std::string_view line) const {
        try {
            options.access_log(line);
        } catch (...) {
            // A failing log sink loses its line, never the request.
        }
    }

    // Runs the connections' handlers until stop(). A handler that throws (only
    // std::bad_alloc can) loses its connection; the thread goes on serving the others.
    void serve() {
        while (true) {
            try {
                io.run();
                return;
            } catch (...) {
            }
        }
    }
};

namespace {

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  public:
    static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

    Session(ServerCore& server, Stream stream, bool reject, std::uint64_t id)
        : server_(server), stream_(std::move(stream)), reject_(reject), id_(id) {
        beast::error_code ec;
        const auto endpoint = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
        peer_ = ec ? std::string("-")
                   : fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
    }

    ~Session() override {
        std::lock_guard lock(server_.mutex);
        server_.sessions.erase(id_);
        server_.drained.notify_all();
    }

    void run() {
        net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
            if constexpr (kTls) {
                beast::get_lowest_layer(self->stream_)
                    .expires_after(self->server_.options.read_timeout);
                self->stream_.async_handshake(ssl::stream_base::server,
                                              [self](beast::error_code ec) {
                                                  if (ec) {
                                                      return self->close_now();
                                                  }
                                                  self->read_header();
                                              });
            } else {
                self->read_header();
            }
        });
    }

    void stop_soon() override {
        net::post(stream_.get_executor(), [self = this->shared_from_this()] {
            if (!self->busy_) {
                self->close_now();
            }  // else: respond() sees stopping and closes after the answer
        });
    }

  private:
    void read_header() {
        if (server_.stopping) {
            return close_now();
        }
        busy_ = false;
        method_ = "-";
        target_ = "-";
        parser_.emplace();
        string_parser_.reset();
        spool_parser_.reset();
        file_response_.reset();
        response_ = {};
        parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
        // The body's limit is set once the request is admitted (admit() comes first).
        parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
        if (buffer_.size() > 0) {
            return read_rest_of_header();  // a pipelined request has begun already
        }
        // Idle until the first byte of the next request, then read_timeout for its header: a
        // client that trickles a header byte by byte is cut off like one that stalls a body.
        beast::get_lowest_layer(stream_).expires_after(server_.options.idle_timeout);
        stream_.async_read_some(
            buffer_.prepare(kFirstRead),
            [self = this->shared_from_this()](beast::error_code ec, std::size_t bytes) {
                self->buffer_.commit(bytes);
                if (ec) {
                    return self->close_now();  // closed, reset, or idle too long
                }
                self->read_rest_of_header();
            });
    }

    void read_rest_of_header() {
        beast::get_lowest_layer(stream_).expires_after(server_.options.read_timeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = this->shared_from_this()](
                                    beast::error_code ec, std::size_t) { self->on_header(ec); });
    }

    void on_header(beast::error_code ec) {
        busy_ = true;
        started_ = std::chrono::steady_clock::now();
        if (ec) {
            return refuse_unreadable(ec);
        }
        auto& request = parser_->get();
        method_ = std::string(request.method_string());
        target_ = std::string(request.target());
        if (reject_) {
            auto response = server::error_response(503, "the server has too many connections");
            response.headers.emplace_back("Retry-After", "1");
            return respond(std::move(response), false);
        }
        const SignedHeaders signed_headers{request[kAddressHeader], request[kTimestampHeader],
                                           request[kContentSha256Header], request[kSignatureHeader],
                                           request[http::field::host]};
        admission_ = server_.api.admit(method_, target_, request[http::field::authorization],
                                       request[http::field::cookie], signed_headers);
        admission_.lease_token = std::string(request["Sihlicon-Lease-Token"]);
        admission_.accept = std::string(request[http::field::accept]);
        admission_.last_event_id = std::string(request["Last-Event-ID"]);
        if (admission_.refusal) {
            return respond(std::move(*admission_.refusal),
                           parser_->is_done() && request.keep_alive());
        }
        const bool streaming = admission_.route->streaming_body;
        const auto limit = streaming ? server_.options.upload_limit : server_.options.body_limit;
        if (const auto length = parser_->content_length(); length && *length > limit) {
            return respond(too_large(limit), false);
        }
        if (parser_->is_done()) {  // no body (a streaming route gets an empty spool file)
            std::shared_ptr<server::SpoolFile> empty;
            if (streaming) {
                try {
                    empty = server::SpoolFile::create(server_.options.spool_directory);
                } catch (const Error& error) {
                    return respond(server::response_for(error), false);
                }
            }
            auto response = server_.api.handle(admission_, target_,
                                               request[http::field::content_type], {}, empty.get());
            empty.reset();  // gone before the answer is sent
            return respond(std::move(response), request.keep_alive());
        }
        const bool expects_continue = beast::iequals(request[http::field::expect], "100-continue");
        // The header parser gives way to one that reads the body the route wants (`request`
        // is gone with it).
        if (streaming) {
            try {
                spool_ = server::SpoolFile::create(server_.options.spool_directory);
            } catch (const Error& error) {
                return respond(server::response_for(error), false);
            }
            spool_parser_.emplace(std::move(*parser_));
            spool_parser_->get().body() = spool_;
            spool_parser_->body_limit(limit);
            progress_mark_ = 0;
        } else {
            string_parser_.emplace(std::move(*parser_));
            string_parser_->body_limit(limit);
        }
        beast::get_lowest_layer(stream_).expires_after(server_.options.read_timeout);
        if (expects_continue) {
            net::async_write(
                stream_, net::buffer(kContinue.data(), kContinue.size()),
                [self = this->shared_from_this()](beast::error_code error, std::size_t) {
                    if (error) {
                        return self->close_now();
                    }
                    self->read_body();
                });
            return;
        }
        read_body();
    }

    void read_body() {
        if (spool_parser_) {
            return read_spooled();
        }
        http::async_read(stream_, buffer_, *string_parser_,
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                             self->on_body(ec);
                         });
    }

    void on_body(beast::error_code ec) {
        if (ec == http::error::body_limit) {
            return respond(too_large(server_.options.body_limit), false);
        }
        if (ec) {
            return refuse_unreadable(ec);
        }
        auto& request = string_parser_->get();
        auto response = server_.api.handle(admission_, target_, request[http::field::content_type],
                                           request.body());
        respond(std::move(response), request.keep_alive());
    }

    // A streaming body: read piece by piece into the spool file, its deadline moved on by
    // every kProgressBytes that arrive.
    void read_spooled() {
        http::async_read_some(stream_, buffer_, *spool_parser_,
                              [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                                  self->on_spooled(ec);
                              });
    }

    void on_spooled(beast::error_code ec) {
        if (ec == http::error::body_limit) {
            drop_spool();
            return respond(too_large(server_.options.upload_limit), false);
        }
        if (ec == beast::errc::io_error) {  // the spool file could not be written
            drop_spool();
            return respond(
                server::error_response(503, "the server has no room for the request body now"),
                false);
        }
        if (ec) {
            drop_spool();  // closed, timed out or malformed: no handler, and the file goes
            return refuse_unreadable(ec);
        }
        if (!spool_parser_->is_done()) {
            if (spool_->size() - progress_mark_ >= kProgressBytes) {
                progress_mark_ = spool_->size();
                beast::get_lowest_layer(stream_).expires_after(server_.options.read_timeout);
            }
            return read_spooled();
        }
        auto& request = spool_parser_->get();
        auto response = server_.api.handle(admission_, target_, request[http::field::content_type],
                                           {}, spool_.get());
        const bool keep_alive = request.keep_alive();
        drop_spool();  // gone before the answer is sent
        respond(std::move(response), keep_alive);
    }

    // Closes the spool file of the body being read (the parser holds it too).
    void drop_spool() {
        spool_.reset();
        spool_parser_.reset();
    }

    server::Response too_large(std::uint64_t limit) const {
        return server::error_response(
            413, fmt::format("the request body exceeds the server's limit of {} bytes", limit));
    }

    // A request that could not be read: malformed (400), a header over its limit (413), or
    // a connection that closed or timed out (closed without an answer).
    void refuse_unreadable(beast::error_code ec) {
        if (ec == http::error::header_limit) {
            return respond(server::error_response(
                               413, fmt::format("the request header exceeds the server's limit of "
                                                "{} bytes",
                                                server_.options.header_limit)),
                           false);
        }
        if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
            ec != http::error::end_of_stream && ec != http::error::partial_message) {
            return respond(server::error_response(
                               400, fmt::format("malformed HTTP request: {}", ec.message())),
                           false);
        }
        close_now();
    }

    template <class Body>
    void fill(http::response<Body>& response, const server::Response& answer, bool keep_alive) {
        response.version(11);
        response.result(static_cast<unsigned>(answer.status));
        response.set(http::field::content_type, answer.content_type);
        response.set(http::field::cache_control, "no-store");
        for (const auto& [name, value] : answer.headers) {
            response.set(name, value);
        }
        response.keep_alive(keep_alive);
    }

    void respond(server::Response answer, bool keep_alive) {
        keep_alive = keep_alive && !server_.stopping;
        status_ = answer.status;
        const auto after_write = [self = this->shared_from_this(), keep_alive](beast::error_code ec,
                                                                               std::size_t) {
            self->log();
            self->file_response_.reset();  // the response's spool file goes now
            if (ec) {
                return self->close_now();
            }
            if (!keep_alive) {
                return self->close_gracefully();
            }
            self->read_header();
        };
        if (method_ == "HEAD") {
            // No body, and only the Content-Length the handler states (none for a body whose
            // length is not known without producing it).
            response_ = {};
            fill(response_, answer, keep_alive);
            response_bytes_ = 0;
            beast::get_lowest_layer(stream_).expires_after(server_.options.write_timeout);
            http::async_write(stream_, response_, after_write);
            return;
        }
        if (answer.live) {
            return start_live(std::move(answer), keep_alive);
        }
        if (answer.file) {
            // A body from a file, sent in chunks with its Content-Length. write_timeout
            // applies to each chunk's write, as to a whole small response.
            file_response_.emplace();
            fill(*file_response_, answer, keep_alive);
            response_bytes_ = answer.file->size();
            file_response_->body() = std::move(answer.file);
            file_response_->prepare_payload();
            file_serializer_.emplace(*file_response_);
            beast::get_lowest_layer(stream_).expires_after(server_.options.write_timeout);
            return write_file(after_write);
        }
        response_ = {};
        fill(response_, answer, keep_alive);
        response_bytes_ = answer.body.size();
        response_.body() = std::move(answer.body);
        response_.prepare_payload();
        beast::get_lowest_layer(stream_).expires_after(server_.options.write_timeout);
        http::async_write(stream_, response_, after_write);
    }

    // A live response (server::Response::Live): next() is asked every interval on a timer
    // of this connection's executor.
    void start_live(server::Response answer, bool keep_alive) {
        live_ = std::move(answer.live);
        live_answer_ = std::move(answer);
        live_keep_alive_ = keep_alive;
        live_timer_.emplace(stream_.get_executor());
        if (!live_->stream) {
            return live_tick();
        }
        live_response_.emplace();
        fill(*live_response_, live_answer_, false);
        live_response_->chunked(true);
        live_serializer_.emplace(*live_response_);
        beast::get_lowest_layer(stream_).expires_after(server_.options.write_timeout);
        http::async_write_header(
            stream_, *live_serializer_,
            [self = this->shared_from_this()](beast::error_code ec, std::size_t bytes) {
                self->response_bytes_ += bytes;
                if (ec) {
                    return self->end_live(false);
                }
                beast::get_lowest_layer(self->stream_).expires_never();
                self->live_tick();
            });
    }

    void live_again() {
        live_timer_->expires_after(live_->interval);
        live_timer_->async_wait([self = this->shared_from_this()](beast::error_code ec) {
            if (ec) {
                return self->end_live(false);
            }
            self->live_tick();
        });
    }

    void live_tick() {
        bool done = false;
        std::string piece;
        try {
            piece = live_->next(done);
        } catch (const Error& error) {
            if (!live_->stream) {
                live_.reset();
                return respond(server::response_for(error), live_keep_alive_);
            }
            done = true;
        } catch (...) {
            if (!live_->stream) {
                live_.reset();
                return respond(server::error_response(500, "internal server error"), false);
            }
            done = true;
        }
        if (!live_->stream) {
            if (!done && server_.stopping) {
                live_.reset();
                return respond(server::error_response(503, "the server is stopping"), false);
            }
            if (!done) {
                return live_again();
            }
            auto answer = std::move(live_answer_);
            answer.live = nullptr;
            answer.body = std::move(piece);
            live_.reset();
            return respond(std::move(answer), live_keep_alive_);
        }
        done = done || server_.stopping;
        if (piece.empty()) {
            return done ? end_live(true) : live_again();
        }
        live_chunk_ = std::move(piece);
        beast::get_lowest_layer(stream_).expires_after(server_.options.write_timeout);
        net::async_write(
            stream_, http::make_chunk(net::buffer(live_chunk_)),
            [self = this->shared_from_this(), done](beast::error_code ec, std::size_t bytes) {
                self->response_bytes_ += bytes;
                if (ec) {
                    return self->end_live(false);
                }
                beast::get_lowest_layer(self->stream_).expires_never();
                if (done) {
                    return self->end_live(true);
                }
                self->live_again();
            });
    }

    // Ends a stream: its last chunk when the connection still works, then the connection.
    void end_live(bool last_chunk) {
        live_.reset();
        live_serializer_.reset();
        live_response_.reset();
        if (!last_chunk) {
            log();
            return close_now();
        }
        beast::get_lowest_layer(stream_).expires_after(server_.options.write_timeout);
        net::async_write(stream_, http::make_chunk_last(),
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                             self->log();
                             if (ec) {
                                 return self->close_now();
                             }
                             self->close_gracefully();
                         });
    }

    template <class Done>
    void write_file(Done done) {
        http::async_write_some(
            stream_, *file_serializer_,
            [self = this->shared_from_this(), done](beast::error_code ec, std::size_t bytes) {
                if (ec || self->file_serializer_->is_done()) {
                    self->file_serializer_.reset();
                    return done(ec, bytes);
                }
                beast::get_lowest_layer(self->stream_)
                    .expires_after(self->server_.options.write_timeout);
                self->write_file(done);
            });
    }

    void log() {
        if (!server_.options.access_log) {
            return;
        }
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - started_);
        const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now());
        const auto principal =
            admission_.identity ? admission_.identity->principal : std::string("-");
        server_.log(fmt::format("{} {} \"{} {}\" {} {} {}ms {}",
                                to_iso8601(Timestamp::from_time_point(now)), peer_,
                                printable(method_, 32), printable(target_, 2048), status_,
                                response_bytes_, elapsed.count(), printable(principal, 256)));
        admission_ = {};
    }

    // Ends the connection after an answer: TLS close_notify, a FIN, then up to kDiscardBytes
    // of what the client still sends are read and dropped before closing, so the answer is
    // not lost to a reset.
    void close_gracefully() {
        if constexpr (kTls) {
            beast::get_lowest_layer(stream_).expires_after(server_.options.write_timeout);
            stream_.async_shutdown(
                [self = this->shared_from_this()](beast::error_code) { self->close_now(); });
        } else {
            beast::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
            stream_.expires_after(kDiscardTime);
            discard();
        }
    }

    void discard() {
        if constexpr (!kTls) {
            stream_.async_read_some(
                net::buffer(discard_buffer_),
                [self = this->shared_from_this()](beast::error_code ec, std::size_t bytes) {
                    self->discarded_ += bytes;
                    if (ec || self->discarded_ >= kDiscardBytes) {
                        return self->close_now();
                    }
                    self->discard();
                });
        }
    }

    void close_now() {
        beast::error_code ignored;
        beast::get_lowest_layer(stream_).socket().close(ignored);
    }

    ServerCore& server_;
    Stream stream_;
    bool reject_;
    std::uint64_t id_;
    std::string peer_;
    beast::flat_buffer buffer_;
    // The header is read with parser_; the body with string_parser_ or spool_parser_ (made
    // from parser_ once the route is known).
    std::optional<http::request_parser<http::empty_body>> parser_;
    std::optional<http::request_parser<http::string_body>> string_parser_;
    std::optional<http::request_parser<server::SpoolBody>> spool_parser_;
    std::shared_ptr<server::SpoolFile> spool_;  // a streaming body being read
    std::uint64_t progress_mark_ = 0;
    http::response<http::string_body> response_;
    std::optional<http::response<server::SpoolBody>> file_response_;
    std::optional<http::response_serializer<server::SpoolBody>> file_serializer_;
    std::uint64_t response_bytes_ = 0;
    // A live response (start_live).
    std::shared_ptr<server::Response::Live> live_;
    server::Response live_answer_;
    bool live_keep_alive_ = false;
    std::optional<net::steady_timer> live_timer_;
    std::optional<http::response<http::empty_body>> live_response_;
    std::optional<http::response_serializer<http::empty_body>> live_serializer_;
    std::string live_chunk_;
    server::Admission admission_;
    std::string method_;
    std::string target_;
    int status_ = 0;
    bool busy_ = false;
    std::chrono::steady_clock::time_point started_;
    std::array<char, 4096> discard_buffer_{};
    std::size_t discarded_ = 0;
};

}  // namespace

void ServerCore::accept() {
    acceptor->async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || stopping) {
            return;  // the acceptor was closed by stop()
        }
        if (!ec) {
            std::unique_lock lock(mutex);
            const auto count = sessions.size();
            if (count < options.max_connections + kRejectBacklog) {
                const bool reject = count >= options.max_connections;
                const auto id = next_session++;
                if (tls) {
                    auto tls_session =
                        std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
                            *this, beast::ssl_stream<beast::tcp_stream>(std::move(socket), *tls),
                            reject, id);
                    sessions.emplace(id, tls_session);
                    lock.unlock();
                    tls_session->run();
                } else {
                    auto plain_session = std::make_shared<Session<beast::tcp_stream>>(
                        *this, beast::tcp_stream(std::move(socket)), reject, id);
                    sessions.emplace(id, plain_session);
                    lock.unlock();
                    plain_session->run();
                }
            }  // else the socket closes here
        }
        accept();
    });
}

struct Server::Impl : ServerCore {
    using ServerCore::ServerCore;
};

server::Api& server::api_of(Server& server) {
    return server.impl_->api;
}

Server::Server(Hub& hub, ServerOptions options) {
    beast::error_code ec;
    net::ip::make_address(options.address, ec);
    if (ec) {
        throw Error::invalid("address", options.address, "is not an IPv4 or IPv6 address");
    }
    if (options.tls_certificate.has_value() != options.tls_private_key.has_value()) {
        throw Error::invalid(options.tls_certificate ? "tlsPrivateKey" : "tlsCertificate", "",
                             "must be given with the other TLS file, or neither");
    }
    if (options.max_connections < 1) {
        throw Error::invalid("maxConnections", "0", "must be at least 1");
    }
    if (options.header_limit < 1024 ||
        options.header_limit > std::numeric_limits<std::uint32_t>::max()) {
        throw Error::invalid("headerLimit", std::to_string(options.header_limit),
                             "must be 1024 to 4294967295 bytes");
    }
    for (const auto& [field, value] : {std::pair{"readTimeout", options.read_timeout},
                                       std::pair{"writeTimeout", options.write_timeout},
                                       std::pair{"idleTimeout", options.idle_timeout}}) {
        // At most a day: a deadline is now + the timeout, which must not overflow the clock.
        if (value.count() < 1 || value > std::chrono::hours(24)) {
            throw Error::invalid(field, std::to_string(value.count()), "must be 1 ms to 1 day");
        }
    }
    if (options.upload_limit < 1) {
        throw Error::invalid("uploadLimit", "0", "must be at least 1 byte");
    }
    std::error_code folder_error;
    if (!options.spool_directory.empty() &&
        !std::filesystem::is_directory(options.spool_directory, folder_error)) {
        throw Error::invalid("spoolDirectory", options.spool_directory.string(), "is not a folder");
    }
    if (options.threads < 1 || options.threads > 1024) {
        throw Error::invalid("threads", std::to_string(options.threads), "must be 1 to 1024");
    }
    if (options.maintenance_interval.count() < 0 ||
        options.maintenance_interval > std::chrono::hours(24)) {
        throw Error::invalid("maintenanceIntervalMs",
                             std::to_string(options.maintenance_interval.count()),
                             "must be 0 (none) or 1 ms to 1 day");
    }
    impl_ = std::make_unique<Impl>(hub, std::move(options));
}

Server::~Server() {
    stop();
}

void Server::start() {
    auto& impl = *impl_;
    if (impl.started.exchange(true)) {
        throw Error(ErrorCode::conflict, "the server was already started");
    }
    const auto& options = impl.options;
    if (options.tls_certificate) {
        impl.tls.emplace(ssl::context::tls_server);
        impl.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                              ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                              ssl::context::no_tlsv1_1);
        beast::error_code ec;
        impl.tls->use_certificate_chain_file(options.tls_certificate->string(), ec);
        if (ec) {
            throw Error::invalid("tlsCertificate", options.tls_certificate->string(),
                                 "is not a readable PEM certificate chain: " + ec.message());
        }
        impl.tls->use_private_key_file(options.tls_private_key->string(), ssl::context::pem, ec);
        if (ec) {
            throw Error::invalid(
                "tlsPrivateKey", options.tls_private_key->string(),
                "is not a readable PEM private key for the certificate: " + ec.message());
        }
    }
    beast::error_code ec;
    const tcp::endpoint endpoint(net::ip::make_address(options.address), options.port);
    // On a strand of its own: its accept handlers and stop()'s close never run at once.
    impl.acceptor.emplace(net::make_strand(impl.io));
    impl.acceptor->open(endpoint.protocol(), ec);
    if (!ec) {
        impl.acceptor->set_option(net::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        impl.acceptor->bind(endpoint, ec);
    }
    if (!ec) {
        impl.acceptor->listen(net::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        impl.acceptor.reset();
        throw Error(ErrorCode::io,
                    fmt::format("cannot listen on {} port {}: {}", options.address, options.port,
                                ec.message()),
                    "address");
    }
    impl.port = impl.acceptor->local_endpoint().port();
    impl.accept();
    for (int i = 0; i < options.threads; ++i) {
        impl.threads.emplace_back([&impl] { impl.serve(); });
    }
    if (options.maintenance_interval.count() > 0) {
        impl.maintenance.start(options.maintenance_interval);
    }
}

std::uint16_t Server::port() const {
    return impl_->port;
}

void Server::stop() {
    auto& impl = *impl_;
    std::lock_guard stopping(impl.stop_mutex);
    if (!impl.started || impl.stopped) {
        return;
    }
    impl.stopped = true;
    impl.stopping = true;
    impl.maintenance.stop();
    if (impl.acceptor) {
        net::post(impl.acceptor->get_executor(), [&impl] {
            beast::error_code ignored;
            impl.acceptor->close(ignored);
        });
    }
    std::vector<std::shared_ptr<SessionBase>> live;
    {
        std::lock_guard lock(impl.mutex);
        for (const auto& [id, weak] : impl.sessions) {
            if (auto session = weak.lock()) {
                live.push_back(std::move(session));
            }
        }
    }
    for (const auto& session : live) {
        session->stop_soon();
    }
    live.clear();
    {
        std::unique_lock lock(impl.mutex);
        impl.drained.wait_for(
            lock, impl.options.read_timeout + impl.options.write_timeout + std::chrono::seconds(1),
            [&impl] { return impl.sessions.empty(); });
    }
    impl.io.stop();
    for (auto& thread : impl.threads) {
        thread.join();
    }
    impl.threads.clear();
}

}  // namespace sihlicon
