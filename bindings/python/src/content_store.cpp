// SPDX-License-Identifier: Apache-2.0
//
// sihlicon._core.ContentStore: content in from buffers, files and readable objects, out as
// memoryviews that own their bytes (no copy) or streamed to a writable object.
#include "callbacks.hpp"
#include "common.hpp"
#include "handle.hpp"

namespace sihlicon::python {

namespace {

// Bytes the library returned, exposed through the buffer protocol without a copy.
struct OwnedBytes {
    std::vector<std::uint8_t> bytes;
};

struct ContentStoreRef : ServiceRef {};

ContentStore& store(Hub& hub) {
    return hub.content_store();
}

// declared_size: a Python int in 0 .. INT64_MAX (the core's bound), else InvalidArgument
// naming declaredSize, as the core names it.
std::uint64_t declared_size(const py::handle& value) {
    if (!py::isinstance<py::int_>(value) || py::isinstance<py::bool_>(value)) {
        throw Error::invalid("declaredSize", py::repr(value).cast<std::string>(), "must be an int");
    }
    int overflow = 0;
    const long long size = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (overflow != 0 || size < 0) {
        throw Error::invalid("declaredSize", py::str(value).cast<std::string>(),
                             "must be 0 .. 9223372036854775807");
    }
    return static_cast<std::uint64_t>(size);
}

PutOptions put_options(const py::dict& values) {
    PutOptions options;
    for (const auto& [key, value] : values) {
        const auto name = key.cast<std::string>();
        if (value.is_none()) {
            continue;
        }
        if (name == "file_name") {
            options.file_name = value.cast<std::string>();
        } else if (name == "mime_type") {
            options.mime_type = value.cast<std::string>();
        } else if (name == "storage_tier") {
            options.storage_tier = parse_storage_tier(value.cast<std::string>(), "storage_tier");
        } else if (name == "access_level") {
            options.access_level = parse_access_level(value.cast<std::string>(), "access_level");
        } else if (name == "min_replicas") {
            options.min_replicas = value.cast<int>();
        } else if (name == "source_hub_id") {
            options.source_hub_id = value.cast<std::string>();
        } else if (name == "metadata_json") {
            options.metadata_json = value.cast<std::string>();
        } else if (name == "allowed_regions") {
            options.allowed_regions = value.cast<std::vector<std::string>>();
        } else if (name == "chunk_size") {
            options.unixfs.chunk_size = value.cast<std::size_t>();
        } else if (name == "max_links") {
            options.unixfs.max_links = value.cast<std::size_t>();
        } else if (name == "declared_size") {
            options.declared_size = declared_size(value);
        } else {
            throw Error::invalid("options", name, "is not a put option");
        }
    }
    return options;
}

std::optional<std::string_view> optional_view(const std::optional<std::string>& text) {
    if (!text) {
        return std::nullopt;
    }
    return std::string_view(*text);
}

}  // namespace

py::memoryview owned_bytes(std::vector<std::uint8_t> bytes) {
    py::object owner = py::cast(OwnedBytes{std::move(bytes)});
    return py::memoryview(py::reinterpret_borrow<py::buffer>(owner));
}

void bind_owned_bytes(py::module_& module) {
    py::class_<OwnedBytes>(module, "_OwnedBytes", py::buffer_protocol())
        .def_buffer([](OwnedBytes& owned) {
            return py::buffer_info(owned.bytes.data(), static_cast<py::ssize_t>(owned.bytes.size()),
                                   true);
        });
}

ContentStore::ByteSource python_source(py::object reader,
                                       const std::shared_ptr<CallbackErrors>& errors) {
    auto held = hold(std::move(reader));
    return [held, errors](std::span<std::uint8_t> buffer) -> std::size_t {
        return errors->run([&]() -> std::size_t {
            const py::object& object = *held;
            if (py::hasattr(object, "readinto")) {
                auto view = py::memoryview::from_memory(buffer.data(),
                                                        static_cast<py::ssize_t>(buffer.size()));
                py::object count = object.attr("readinto")(view);
                view.attr("release")();
                if (count.is_none()) {
                    throw Error(ErrorCode::io, "the source is non-blocking and had no data");
                }
                const auto n = count.cast<std::size_t>();
                if (n > buffer.size()) {
                    throw Error(ErrorCode::io, "readinto returned more bytes than asked for");
                }
                return n;
            }
            py::object chunk = object.attr("read")(buffer.size());
            InputBuffer data(chunk);
            const auto bytes = data.bytes();
            if (bytes.size() > buffer.size()) {
                throw Error(ErrorCode::io, "read returned more bytes than asked for");
            }
            std::copy(bytes.begin(), bytes.end(), buffer.begin());
            return bytes.size();
        });
    };
}

ContentStore::ByteSink python_sink(py::object write,
                                   const std::shared_ptr<CallbackErrors>& errors) {
    auto held = hold(std::move(write));
    return [held, errors](std::span<const std::uint8_t> bytes) {
        errors->run([&] {
            // A read-only view of the library's buffer, valid during this call only: released
            // afterwards, so a view kept by the callee fails loudly instead of reading freed
            // memory.
            auto view =
                py::memoryview::from_memory(bytes.data(), static_cast<py::ssize_t>(bytes.size()));
            (*held)(view);
            view.attr("release")();
        });
    };
}

ContentStore::Progress python_progress(const std::optional<py::function>& progress,
                                       const std::shared_ptr<CallbackErrors>& errors) {
    if (!progress) {
        return {};
    }
    auto held = hold(*progress);
    return [held, errors](std::uint64_t done) { errors->run([&] { (*held)(done); }); };
}

void bind_content_store(py::module_& module) {
    using Ref = ContentStoreRef;
    module.attr("OPERATOR_PRINCIPAL") = std::string(kOperatorPrincipal);
    // The seed's upload metadata decoded by the core (PutOptions::from_json): the put options
    // with the core's defaults, by the names put_options reads.
    module.def("put_options_from_json", [](std::string_view text) {
        const auto options = PutOptions::from_json(text);
        py::dict values;
        values["file_name"] =
            options.file_name ? py::object(py::str(*options.file_name)) : py::none();
        values["mime_type"] =
            options.mime_type ? py::object(py::str(*options.mime_type)) : py::none();
        values["storage_tier"] = std::string(to_string(options.storage_tier));
        values["access_level"] = std::string(to_string(options.access_level));
        values["min_replicas"] = options.min_replicas;
        values["source_hub_id"] =
            options.source_hub_id ? py::object(py::str(*options.source_hub_id)) : py::none();
        values["metadata_json"] = options.metadata_json;
        values["allowed_regions"] = options.allowed_regions;
        return values;
    });
    py::class_<Ref>(module, "ContentStore")
        .def(py::init([](const std::shared_ptr<HubHandle>& hub) { return Ref{{hub}}; }))
        .def("put_bytes",
             [](const Ref& s, const py::object& data, const std::string& owner,
                const py::dict& options) {
                 const auto parsed = put_options(options);
                 InputBuffer buffer(data);
                 return to_py(with_hub(s, [&](Hub& hub) {
                     return store(hub).put_bytes(buffer.bytes(), owner, parsed);
                 }));
             })
        .def("put_file",
             [](const Ref& s, const std::string& path, const std::string& owner,
                const py::dict& options, const std::optional<py::function>& progress) {
                 const auto parsed = put_options(options);
                 auto errors = std::make_shared<CallbackErrors>();
                 auto report = python_progress(progress, errors);
                 return to_py(errors->invoke([&] {
                     return with_hub(s, [&](Hub& hub) {
                         return store(hub).put_file(path, owner, parsed, report);
                     });
                 }));
             })
        .def("put_stream",
             [](const Ref& s, py::object reader, const std::string& owner, const py::dict& options,
                const std::optional<py::function>& progress) {
                 const auto parsed = put_options(options);
                 auto errors = std::make_shared<CallbackErrors>();
                 auto source = python_source(std::move(reader), errors);
                 auto report = python_progress(progress, errors);
                 return to_py(errors->invoke([&] {
                     return with_hub(s, [&](Hub& hub) {
                         return store(hub).put_stream(source, owner, parsed, report);
                     });
                 }));
             })
        .def("get_bytes",
             [](const Ref& s, const std::string& cid, const std::string& principal,
                std::uint64_t offset, const std::optional<std::uint64_t>& length) {
                 return owned_bytes(with_hub(s, [&](Hub& hub) {
                     return store(hub).get_bytes(cid, principal, offset, length);
                 }));
             })
        .def("get",
             [](const Ref& s, const std::string& cid, const std::string& principal,
                py::object write, std::uint64_t offset, const std::optional<std::uint64_t>& length,
                const std::optional<py::function>& progress) {
                 auto errors = std::make_shared<CallbackErrors>();
                 auto sink = python_sink(std::move(write), errors);
                 auto report = python_progress(progress, errors);
                 errors->invoke([&] {
                     with_hub(s, [&](Hub& hub) {
                         store(hub).get(cid, principal, sink, offset, length, report);
                     });
                 });
             })
        .def("get_to_file",
             [](const Ref& s, const std::string& cid, const std::string& principal,
                const std::string& path, std::uint64_t offset,
                const std::optional<std::uint64_t>& length,
                const std::optional<py::function>& progress) {
                 auto errors = std::make_shared<CallbackErrors>();
                 auto report = python_progress(progress, errors);
                 return errors->invoke([&] {
                     return with_hub(s, [&](Hub& hub) {
                         return store(hub).get_to_file(cid, principal, path, offset, length,
                                                       report);
                     });
                 });
             })
        .def("stat",
             [](const Ref& s, const std::string& cid, const std::string& principal) {
                 return to_py(
                     with_hub(s, [&](Hub& hub) { return store(hub).stat(cid, principal); }));
             })
        .def("list",
             [](const Ref& s, const std::string& principal, const std::optional<std::string>& owner,
                std::size_t limit) {
                 return to_py_list(with_hub(s, [&](Hub& hub) {
                     return store(hub).list(principal, optional_view(owner), limit);
                 }));
             })
        .def("remove",
             [](const Ref& s, const std::string& cid, const std::string& principal) {
                 with_hub(s, [&](Hub& hub) { store(hub).remove(cid, principal); });
             })
        .def("move_to_tier",
             [](const Ref& s, const std::string& cid, const std::string& principal,
                const std::string& tier) {
                 const auto parsed = parse_storage_tier(tier, "tier");
                 return to_py(with_hub(
                     s, [&](Hub& hub) { return store(hub).move_to_tier(cid, principal, parsed); }));
             })
        .def("add_community_member",
             [](const Ref& s, const std::string& community, const std::string& member,
                const std::string& principal) {
                 with_hub(s, [&](Hub& hub) {
                     store(hub).add_community_member(community, member, principal);
                 });
             })
        .def("remove_community_member",
             [](const Ref& s, const std::string& community, const std::string& member,
                const std::string& principal) {
                 with_hub(s, [&](Hub& hub) {
                     store(hub).remove_community_member(community, member, principal);
                 });
             })
        .def("communities_of",
             [](const Ref& s, const std::string& member, const std::string& principal) {
                 return with_hub(
                     s, [&](Hub& hub) { return store(hub).communities_of(member, principal); });
             })
        .def("set_reference",
             [](const Ref& s, const std::string& name, const std::string& version,
                const std::string& cid, const std::string& principal) {
                 return to_py(with_hub(s, [&](Hub& hub) {
                     return store(hub).set_reference(name, version, cid, principal);
                 }));
             })
        .def("resolve_reference",
             [](const Ref& s, const std::string& name, const std::optional<std::string>& version,
                const std::string& principal) {
                 return to_py(with_hub(s, [&](Hub& hub) {
                     return store(hub).resolve_reference(name, optional_view(version), principal);
                 }));
             })
        .def("reference_versions",
             [](const Ref& s, const std::string& name, const std::string& principal) {
                 return to_py_list(with_hub(
                     s, [&](Hub& hub) { return store(hub).reference_versions(name, principal); }));
             })
        .def("remove_reference",
             [](const Ref& s, const std::string& name, const std::string& version,
                const std::string& principal) {
                 with_hub(s,
                          [&](Hub& hub) { store(hub).remove_reference(name, version, principal); });
             })
        .def("export_car",
             [](const Ref& s, const std::string& cid, const std::string& principal,
                py::object write) {
                 auto errors = std::make_shared<CallbackErrors>();
                 auto sink = python_sink(std::move(write), errors);
                 errors->invoke([&] {
                     with_hub(s, [&](Hub& hub) { store(hub).export_car(cid, principal, sink); });
                 });
             })
        .def("export_car_to_file",
             [](const Ref& s, const std::string& cid, const std::string& principal,
                const std::string& path) {
                 return with_hub(s, [&](Hub& hub) {
                     return store(hub).export_car_to_file(cid, principal, path);
                 });
             })
        .def(
            "import_car",
            [](const Ref& s, py::object reader, const std::string& owner, const py::dict& options) {
                const auto parsed = put_options(options);
                auto errors = std::make_shared<CallbackErrors>();
                auto source = python_source(std::move(reader), errors);
                return to_py_list(errors->invoke([&] {
                    return with_hub(
                        s, [&](Hub& hub) { return store(hub).import_car(source, owner, parsed); });
                }));
            })
        .def("replicas",
             [](const Ref& s, const std::string& cid, const std::string& principal) {
                 return to_py_list(
                     with_hub(s, [&](Hub& hub) { return store(hub).replicas(cid, principal); }));
             })
        .def("repair_plan",
             [](const Ref& s, const std::vector<std::string>& offline) {
                 return to_py_list(
                     with_hub(s, [&](Hub& hub) { return store(hub).repair_plan(offline); }));
             })
        .def("confirm_replica",
             [](const Ref& s, const std::string& cid, const std::string& hub_id) {
                 with_hub(s, [&](Hub& hub) { store(hub).confirm_replica(cid, hub_id); });
             })
        .def("fail_replica",
             [](const Ref& s, const std::string& cid, const std::string& hub_id) {
                 with_hub(s, [&](Hub& hub) { store(hub).fail_replica(cid, hub_id); });
             })
        .def("scrub",
             [](const Ref& s, const std::optional<std::size_t>& sample_blocks) {
                 ScrubOptions options;
                 options.sample_blocks = sample_blocks;
                 return to_py(with_hub(s, [&](Hub& hub) { return store(hub).scrub(options); }));
             })
        .def("collect_garbage",
             [](const Ref& s) {
                 return with_hub(s, [](Hub& hub) { return store(hub).collect_garbage(); });
             })
        .def("set_quota",
             [](const Ref& s, const std::string& owner, std::int64_t upload_bytes_per_hour,
                const std::optional<std::int64_t>& total_bytes) {
                 Quota quota;
                 quota.upload_bytes_per_hour = upload_bytes_per_hour;
                 quota.total_bytes = total_bytes;
                 with_hub(s, [&](Hub& hub) { store(hub).set_quota(owner, quota); });
             })
        .def("quota", [](const Ref& s, const std::string& owner) {
            return to_py(with_hub(s, [&](Hub& hub) { return store(hub).quota(owner); }));
        });
}

}  // namespace sihlicon::python
