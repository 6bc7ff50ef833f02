// SPDX-License-Identifier: Apache-2.0
//
// sihlicon._core.Server and the API tokens: the hub on the network (include/sihlicon/server.hpp)
// from Python. The options are the core's codec (ServerOptions::from_json), given as JSON by
// sihlicon/_server.py. A started server pins its hub like a worker agent does: Hub.close()
// (the Python layer) stops the hub's servers first. Every blocking call releases the GIL.
#include "common.hpp"
#include "handle.hpp"

#include <sihlicon/server.hpp>
#include <sihlicon/tokens.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace sihlicon::python {
namespace {

class ServerHandle {
  public:
    ServerHandle(std::shared_ptr<HubHandle> hub, const std::string& options_json,
                 std::optional<py::function> access_log)
        : hub_(std::move(hub)), options_(ServerOptions::from_json(options_json)) {
        if (access_log) {
            auto callback = std::make_shared<py::function>(*access_log);
            access_log_ = callback;
            options_.access_log = [callback](std::string_view line) {
                py::gil_scoped_acquire acquire;
                try {
                    (*callback)(std::string(line));
                } catch (py::error_already_set& error) {
                    error.discard_as_unraisable("sihlicon Server access_log");
                }
            };
        }
    }

    ~ServerHandle() {
        {
            py::gil_scoped_release release;
            std::lock_guard lock(mutex_);
            server_.reset();  // joins the server's threads, which may want the GIL
            pin_.reset();
        }
        options_ = ServerOptions{};
        access_log_.reset();
    }

    // Checks the options (the Server constructor), listens and serves. Throws Error(conflict)
    // when already started or stopped, or when the hub is closed.
    void start() {
        py::gil_scoped_release release;
        std::lock_guard lock(mutex_);
        if (server_ || stopped_) {
            throw Error(ErrorCode::conflict,
                        stopped_ ? "the server was stopped; make a new one"
                                 : "the server was already started",
                        "server");
        }
        pin_.emplace(*hub_);
        try {
            server_ = std::make_unique<Server>(pin_->hub(), options_);
            server_->start();
        } catch (...) {
            server_.reset();
            pin_.reset();
            throw;
        }
        port_ = server_->port();
    }

    // Read with the GIL held while stop() may be running: never blocks.
    std::uint16_t port() const { return port_.load(); }
    bool running() const { return port_.load() != 0; }

    // Idempotent; a stopped server cannot be started again.
    void stop() {
        py::gil_scoped_release release;
        std::lock_guard lock(mutex_);
        port_ = 0;
        if (server_) {
            server_->stop();
            server_.reset();
            stopped_ = true;
        }
        pin_.reset();
    }

  private:
    std::shared_ptr<HubHandle> hub_;
    ServerOptions options_;
    std::shared_ptr<py::function> access_log_;
    std::optional<HubHandle::Pin> pin_;
    std::mutex mutex_;                     // serialises start() and stop()
    std::unique_ptr<Server> server_;       // GUARDED_BY(mutex_)
    bool stopped_ = false;                 // GUARDED_BY(mutex_)
    std::atomic<std::uint16_t> port_ = 0;  // the port while running, else 0
};

py::dict token_to_py(const TokenRecord& record) {
    py::dict d;
    d["id"] = record.id;
    d["principal"] = record.principal;
    d["role"] = std::string(to_string(record.role));
    d["worker_id"] =
        record.worker_id.empty() ? py::object(py::none()) : py::object(py::str(record.worker_id));
    d["created_at"] = to_py(record.created_at);
    d["revoked_at"] = to_py(record.revoked_at);
    return d;
}

}  // namespace

void bind_server(py::module_& module) {
    py::class_<ServerHandle>(module, "Server")
        .def(
            py::init<std::shared_ptr<HubHandle>, const std::string&, std::optional<py::function>>(),
            py::arg("hub"), py::arg("options_json"), py::arg("access_log"))
        .def("start", &ServerHandle::start)
        .def("stop", &ServerHandle::stop)
        .def_property_readonly("port", &ServerHandle::port)
        .def_property_readonly("running", &ServerHandle::running);

    module.def("token_create", [](const std::shared_ptr<HubHandle>& hub, const std::string& by,
                                  const std::string& principal, const std::string& role,
                                  const std::string& worker_id) {
        IssuedToken issued;
        {
            py::gil_scoped_release release;
            HubHandle::Use use(*hub);
            issued = ApiTokens(use.hub()).create(by, principal, parse_role(role), worker_id);
        }
        py::dict d = token_to_py(issued.record);
        d["secret"] = issued.secret;
        return d;
    });
    module.def("token_list", [](const std::shared_ptr<HubHandle>& hub, const std::string& by) {
        std::vector<TokenRecord> records;
        {
            py::gil_scoped_release release;
            HubHandle::Use use(*hub);
            records = ApiTokens(use.hub()).list(by);
        }
        py::list list;
        for (const auto& record : records) {
            list.append(token_to_py(record));
        }
        return list;
    });
    module.def("token_revoke", [](const std::shared_ptr<HubHandle>& hub, const std::string& by,
                                  const std::string& token_id) {
        TokenRecord record;
        {
            py::gil_scoped_release release;
            HubHandle::Use use(*hub);
            record = ApiTokens(use.hub()).revoke(by, token_id);
        }
        return token_to_py(record);
    });
}

}  // namespace sihlicon::python
