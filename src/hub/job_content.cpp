// SPDX-License-Identifier: Apache-2.0
//
// Lease-checked content of a job (include/sihlicon/hub_link.hpp): what lets a remote worker
// read its job's inputs and store its outputs as the job's owner, only under the job's live
// lease. Here, in the composition root, since it needs both the scheduler and the content store.
#include <sihlicon/cid.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/hub_link.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace sihlicon {

JobRecord require_job_lease(Hub& hub, const JobContentAccess& access) {
    return hub.scheduler().check_lease(access.job_id, access.lease_token,
                                       access.acting_worker.value_or(""));
}

Manifest export_job_input(Hub& hub, const JobContentAccess& access, std::string_view cid,
                          const ContentStore::ByteSink& sink) {
    const auto job = require_job_lease(hub, access);
    // Inputs are stored as CIDv1 text; the request may name one in any form.
    std::optional<std::string> wanted;
    try {
        wanted = Cid::parse_any_version(cid, "cid").to_v1().to_string();
    } catch (const Error&) {
        wanted.reset();
    }
    const auto& refs = job.spec.input_refs;
    if (!wanted || std::find(refs.begin(), refs.end(), *wanted) == refs.end()) {
        throw Error(ErrorCode::not_found, fmt::format("no content {}", printable(cid, 128)),
                    "contentId");
    }
    auto& store = hub.content_store();
    auto manifest = store.stat(*wanted, job.spec.owner);
    store.export_car(*wanted, job.spec.owner, sink);
    return manifest;
}

Manifest store_job_output(Hub& hub, const JobContentAccess& access,
                          const ContentStore::ByteSource& source, std::uint64_t size,
                          std::string_view file_name) {
    const auto job = require_job_lease(hub, access);
    PutOptions options;
    options.file_name = std::string(file_name);
    options.declared_size = size;
    return hub.content_store().put_stream(source, job.spec.owner, options);
}

}  // namespace sihlicon
