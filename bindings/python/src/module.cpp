// SPDX-License-Identifier: Apache-2.0
//
// sihlicon._core: the native half of the Python package. It binds the C++ API directly (not
// the C ABI): errors become the Python exception classes of sihlicon/_errors.py, records
// become dicts that sihlicon/_records.py turns into dataclasses, and every call that touches
// a hub runs with the GIL released.
#include "common.hpp"
#include "handle.hpp"

#include <sihlicon/cid.hpp>
#include <sihlicon/crypto.hpp>
#include <sihlicon/peers.hpp>
#include <sihlicon/version.hpp>

#include <mutex>

namespace sihlicon::python {
namespace {

// The Python classes of the error codes, registered by sihlicon/_errors.py at import. Leaked
// on purpose: it must outlive every translation, up to the interpreter's end.
py::dict* error_classes = nullptr;

// Text from the library as a Python str. Error messages are valid UTF-8 by the library's own
// rule; decoding with "replace" is the last resort that keeps a translation from raising
// UnicodeDecodeError in place of the sihlicon error.
py::str message_text(const std::string& text) {
    PyObject* decoded =
        PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace");
    if (decoded == nullptr) {
        throw py::error_already_set();
    }
    return py::reinterpret_steal<py::str>(decoded);
}

void translate_error(std::exception_ptr pointer) {
    try {
        std::rethrow_exception(pointer);
    } catch (const Error& error) {
        py::object cls;
        if (error_classes != nullptr) {
            const auto key = py::int_(static_cast<int>(error.code()));
            if (error_classes->contains(key)) {
                cls = (*error_classes)[key];
            }
        }
        if (!cls) {
            PyErr_SetString(PyExc_RuntimeError, error.what());
            return;
        }
        py::object instance = cls(message_text(error.what()), message_text(error.field()));
        PyErr_SetObject(cls.ptr(), instance.ptr());
    }
}

std::vector<crypto::Address> addresses(const std::vector<std::string>& texts,
                                       std::string_view field) {
    std::vector<crypto::Address> result;
    for (const auto& text : texts) {
        result.push_back(crypto::Address::parse(text, field));
    }
    return result;
}

HubOptions hub_options(bool create_if_missing, std::int64_t busy_timeout_ms,
                       const std::string& durability, const std::string& integrity_check,
                       int reader_connections, std::int64_t commit_interval_ms,
                       const std::shared_ptr<ManualClock>& clock, const py::dict& scheduler,
                       const py::dict& settlement) {
    HubOptions options;
    options.create_if_missing = create_if_missing;
    options.busy_timeout = std::chrono::milliseconds(busy_timeout_ms);
    if (durability == "power_loss") {
        options.durability = Durability::power_loss;
    } else if (durability == "process_crash") {
        options.durability = Durability::process_crash;
    } else {
        throw Error::invalid("durability", durability, "must be power_loss or process_crash");
    }
    if (integrity_check == "none") {
        options.integrity_check = IntegrityCheck::none;
    } else if (integrity_check == "quick") {
        options.integrity_check = IntegrityCheck::quick;
    } else if (integrity_check == "full") {
        options.integrity_check = IntegrityCheck::full;
    } else {
        throw Error::invalid("integrity_check", integrity_check, "must be none, quick or full");
    }
    options.reader_connections = reader_connections;
    options.commit_interval = std::chrono::milliseconds(commit_interval_ms);
    options.clock = clock;
    // The hub-wide fields are the initial settings of a hub this open creates.
    HubSettings initial;
    apply_scheduler_options(options.scheduler, initial, scheduler, false);
    apply_settlement_options(options.settlement, initial, settlement);
    options.initial_settings = initial;
    return options;
}

}  // namespace
}  // namespace sihlicon::python

using namespace sihlicon;
using namespace sihlicon::python;

PYBIND11_MODULE(_core, module) {
    module.doc() = "sihlicon's native module; use the sihlicon package instead.";
    module.attr("__version__") = std::string(library_version());

    py::register_exception_translator(translate_error);
    module.def("_set_error_classes", [](const py::dict& classes) {
        if (error_classes == nullptr) {
            error_classes = new py::dict();
        }
        error_classes->clear();
        for (const auto& [key, value] : classes) {
            (*error_classes)[key] = value;
        }
    });
    module.def("_raise", [](int code, const std::string& message, const std::string& field) {
        throw Error(static_cast<ErrorCode>(code), message, field);
    });
    module.def("error_code_names", [] {
        py::dict names;
        for (int code = 1; code <= 10; ++code) {
            const auto name = to_string(static_cast<ErrorCode>(code));
            names[py::int_(code)] = py::str(name.data(), name.size());
        }
        return names;
    });

    bind_owned_bytes(module);

    py::class_<ManualClock, std::shared_ptr<ManualClock>>(module, "ManualClock")
        .def(py::init([](std::int64_t start_ms) {
                 return std::make_shared<ManualClock>(Timestamp::from_ms(start_ms));
             }),
             py::arg("start_ms"))
        .def("now_ms", [](const ManualClock& clock) { return clock.now().ms(); })
        .def(
            "set_ms",
            [](ManualClock& clock, std::int64_t ms) { clock.set(Timestamp::from_ms(ms)); },
            py::arg("ms"))
        .def(
            "advance_ms",
            [](ManualClock& clock, std::int64_t ms) {
                clock.advance(std::chrono::milliseconds(ms));
            },
            py::arg("ms"));

    py::class_<HubHandle, std::shared_ptr<HubHandle>>(module, "Hub")
        .def_static(
            "open",
            [](const std::string& directory, bool create_if_missing, std::int64_t busy_timeout_ms,
               const std::string& durability, const std::string& integrity_check,
               int reader_connections, std::int64_t commit_interval_ms,
               const std::shared_ptr<ManualClock>& clock, const py::dict& scheduler,
               const py::dict& settlement) {
                auto options = hub_options(create_if_missing, busy_timeout_ms, durability,
                                           integrity_check, reader_connections, commit_interval_ms,
                                           clock, scheduler, settlement);
                return without_gil(
                    [&] { return std::make_shared<HubHandle>(Hub::open(directory, options)); });
            },
            py::arg("directory"), py::arg("create_if_missing"), py::arg("busy_timeout_ms"),
            py::arg("durability"), py::arg("integrity_check"), py::arg("reader_connections"),
            py::arg("commit_interval_ms"), py::arg("clock"), py::arg("scheduler"),
            py::arg("settlement"))
        .def("close", [](HubHandle& handle) { without_gil([&] { handle.close(); }); })
        .def_property_readonly("closed", [](HubHandle& handle) { return handle.closed(); })
        .def("info",
             [](const std::shared_ptr<HubHandle>& handle) {
                 return to_py(with_hub(ServiceRef{handle}, [](Hub& hub) { return hub.info(); }));
             })
        .def("directory",
             [](const std::shared_ptr<HubHandle>& handle) {
                 return with_hub(ServiceRef{handle},
                                 [](Hub& hub) { return hub.directory().string(); });
             })
        .def("blob_directory",
             [](const std::shared_ptr<HubHandle>& handle) {
                 return with_hub(ServiceRef{handle},
                                 [](Hub& hub) { return hub.blob_directory().string(); });
             })
        .def("now_ms",
             [](const std::shared_ptr<HubHandle>& handle) {
                 return with_hub(ServiceRef{handle},
                                 [](Hub& hub) { return hub.clock().now().ms(); });
             })
        // ---- settings: the one JSON codec of HubSettings ----
        .def("settings",
             [](const std::shared_ptr<HubHandle>& handle) {
                 return with_hub(ServiceRef{handle},
                                 [](Hub& hub) { return hub.settings().to_json(); });
             })
        .def(
            "set_setting",
            [](const std::shared_ptr<HubHandle>& handle, const std::string& key,
               const std::string& value, const std::string& by) {
                return with_hub(ServiceRef{handle}, [&](Hub& hub) {
                    return hub.set_setting(key, value, by).to_json();
                });
            },
            py::arg("key"), py::arg("value"), py::arg("by"))
        .def(
            "update_settings",
            [](const std::shared_ptr<HubHandle>& handle, const std::string& patch_json,
               const std::string& by) {
                return with_hub(ServiceRef{handle}, [&](Hub& hub) {
                    return hub.patch_settings(patch_json, by).to_json();
                });
            },
            py::arg("patch_json"), py::arg("by"))
        .def(
            "settings_history",
            [](const std::shared_ptr<HubHandle>& handle, std::int64_t after_seq,
               std::int64_t limit) {
                return with_hub(ServiceRef{handle}, [&](Hub& hub) {
                    std::string text = "[";
                    for (const auto& change : hub.settings_history(after_seq, limit)) {
                        text += text.size() > 1 ? "," : "";
                        text += change.to_json();
                    }
                    return text + "]";
                });
            },
            py::arg("after_seq"), py::arg("limit"))
        // ---- peers (peers.hpp): JSON records, never a token ----
        .def(
            "peer_add",
            [](const std::shared_ptr<HubHandle>& handle, const std::string& hub_id,
               const std::string& url, const std::string& token, const std::string& by) {
                return with_hub(ServiceRef{handle}, [&](Hub& hub) {
                    return Peers(hub).add(by, hub_id, url, token).to_json();
                });
            },
            py::arg("hub_id"), py::arg("url"), py::arg("token"), py::arg("by"))
        .def(
            "peer_list",
            [](const std::shared_ptr<HubHandle>& handle, const std::string& by) {
                return with_hub(ServiceRef{handle}, [&](Hub& hub) {
                    std::string text = "[";
                    for (const auto& peer : Peers(hub).list(by)) {
                        text += text.size() > 1 ? "," : "";
                        text += peer.to_json();
                    }
                    return text + "]";
                });
            },
            py::arg("by"))
        .def(
            "peer_remove",
            [](const std::shared_ptr<HubHandle>& handle, const std::string& hub_id,
               const std::string& by) {
                return with_hub(ServiceRef{handle},
                                [&](Hub& hub) { return Peers(hub).remove(by, hub_id).to_json(); });
            },
            py::arg("hub_id"), py::arg("by"))
        .def(
            "events_after",
            // The hub's events (include/sihlicon/events.hpp) as a JSON array; waits up to
            // timeout_ms (0: not at all) for the first one, without the GIL.
            [](const std::shared_ptr<HubHandle>& handle, std::int64_t after, std::int64_t limit,
               const std::string& principal, const std::string& worker_id,
               std::int64_t timeout_ms) {
                return with_hub(ServiceRef{handle}, [&](Hub& hub) {
                    const EventReader reader{principal, worker_id};
                    const auto events =
                        timeout_ms == 0
                            ? hub.events_after(after, limit, reader)
                            : hub.wait_for_events(after, limit, reader,
                                                  std::chrono::milliseconds(timeout_ms));
                    std::string text = "[";
                    for (const auto& event : events) {
                        text += text.size() > 1 ? "," : "";
                        text += event.to_json();
                    }
                    return text + "]";
                });
            },
            py::arg("after"), py::arg("limit"), py::arg("principal"), py::arg("worker_id"),
            py::arg("timeout_ms"))
        .def("last_event_sequence",
             [](const std::shared_ptr<HubHandle>& handle) {
                 return with_hub(ServiceRef{handle},
                                 [](Hub& hub) { return hub.last_event_sequence(); });
             })
        .def_static("latest_schema_version", &Hub::latest_schema_version);

    bind_scheduler(module);
    bind_content_store(module);
    bind_heat_ledger(module);
    bind_settlement(module);
    bind_power_meter(module);
    bind_worker_agent(module);
    bind_server(module);

    // ---- no hub needed ----
    module.def(
        "verify_receipt",
        [](const std::string& receipt_json, const std::vector<std::string>& trusted_signers) {
            const auto trusted = addresses(trusted_signers, "trusted_signers");
            return to_py(without_gil([&] { return verify_receipt(receipt_json, trusted); }));
        },
        py::arg("receipt_json"), py::arg("trusted_signers"));
    // ReceiptVerifier is not thread-safe; the mutex lets Python threads share one.
    struct SharedVerifier {
        std::mutex mutex;
        ReceiptVerifier verifier;
    };
    py::class_<SharedVerifier>(module, "ReceiptVerifier")
        .def(py::init<>())
        .def(
            "verify",
            [](SharedVerifier& shared, const std::string& receipt_json,
               const std::vector<std::string>& trusted_signers) {
                const auto trusted = addresses(trusted_signers, "trusted_signers");
                return to_py(without_gil([&] {
                    std::lock_guard lock(shared.mutex);
                    return shared.verifier.verify(receipt_json, trusted);
                }));
            },
            py::arg("receipt_json"), py::arg("trusted_signers"));
    module.def(
        "compute_cid",
        [](const py::object& data, std::size_t chunk_size, std::size_t max_links) {
            InputBuffer buffer(data);
            UnixfsOptions options{chunk_size, max_links};
            return without_gil([&] { return compute_cid(buffer.bytes(), options).to_string(); });
        },
        py::arg("data"), py::arg("chunk_size"), py::arg("max_links"));
    module.def(
        "compute_file_cid",
        [](const std::string& path, std::size_t chunk_size, std::size_t max_links) {
            UnixfsOptions options{chunk_size, max_links};
            return without_gil([&] { return compute_file_cid(path, options).to_string(); });
        },
        py::arg("path"), py::arg("chunk_size"), py::arg("max_links"));
    module.def(
        "normalize_cid",
        [](const std::string& text) { return Cid::parse_any_version(text).to_v1().to_string(); },
        py::arg("text"));
    module.def("proof_of_execution", &proof_of_execution, py::arg("job_id"), py::arg("result_hash"),
               py::arg("worker_id"));
    module.def(
        "eip191_sign",
        [](const std::string& private_key, const py::bytes& message) {
            const std::string_view bytes = message;
            return crypto::PrivateKey::parse(private_key).sign_message(bytes).to_hex();
        },
        py::arg("private_key"), py::arg("message"));
    module.def(
        "eip191_verify",
        [](const py::bytes& message, const std::string& signature, const std::string& address) {
            const std::string_view bytes = message;
            return crypto::verify_message(bytes, crypto::Signature::parse(signature, "signature"),
                                          crypto::Address::parse(address, "address"));
        },
        py::arg("message"), py::arg("signature"), py::arg("address"));
    module.def(
        "market_unit",
        [](const std::string& type) { return std::string(unit_of(parse_market_type(type))); },
        py::arg("type"));
    module.def(
        "money_parse",
        [](const std::string& text, const std::string& currency) {
            return Money::parse(text, Currency::of(currency)).minor_units();
        },
        py::arg("text"), py::arg("currency"));
    module.def(
        "money_decimal",
        [](std::int64_t minor_units, const std::string& currency) {
            return Money(minor_units, Currency::of(currency)).to_decimal_string();
        },
        py::arg("minor_units"), py::arg("currency"));
    module.def(
        "allocate",
        [](std::int64_t total, const std::vector<std::int64_t>& weights) {
            return allocate(total, weights);
        },
        py::arg("total"), py::arg("weights"));
    module.def(
        "energy_kwh_string",
        [](std::int64_t mwh) { return Energy::milliwatt_hours(mwh).to_kwh_string(); },
        py::arg("mwh"));
    module.def(
        "energy_parse_kwh",
        [](const std::string& text, const std::string& field) {
            return Energy::parse_kwh(text, field).mwh();
        },
        py::arg("text"), py::arg("field"));
    module.def(
        "to_iso8601", [](std::int64_t ms) { return to_iso8601(Timestamp::from_ms(ms)); },
        py::arg("ms"));
    module.def(
        "parse_iso8601",
        [](const std::string& text, const std::string& field) {
            return parse_iso8601(text, field).ms();
        },
        py::arg("text"), py::arg("field"));
}
