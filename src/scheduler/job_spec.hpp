// SPDX-License-Identifier: Apache-2.0
//
// Validation and the stored form of job specs. Not installed.
#pragma once

#include <sihlicon/scheduler.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon::json {
class ObjectReader;
}

namespace sihlicon::scheduler {

// An energy in kWh under `key`: an exact decimal string ("1.5") or a JSON number.
std::optional<Energy> optional_kwh(json::ObjectReader& reader, std::string_view key);

// The fields of JobCompletion::from_json read from an object whose other keys the caller reads
// (the server's {"token", ...}, the C ABI's {"jobId", "token", ...}); the caller calls finish().
JobCompletion completion_from(json::ObjectReader& reader);

// JobSpec::from_json without its size limit: for the specs the jobs table holds, which the
// hub stored itself (their canonical form may differ in length from what was submitted).
JobSpec stored_spec_from_json(std::string_view text, std::string_view owner = {});

// An input reference as users write it: a CIDv1, a CIDv0 ("Qm…") or "ipfs://<either>".
// Returns the equivalent CIDv1 text (base32), the one form jobs store and compare. Throws
// Error::invalid(field, text, problem) naming the whole text as given when it is none of these.
std::string normalize_input_ref(std::string_view text, std::string_view field);

// The spec with every input reference in its CIDv1 form (normalize_input_ref) and a pinned
// job's hub_id set to its pin_hub when it names none; the form
// submit() validates, stores and compares idempotency keys against.
JobSpec normalized(JobSpec spec);

// Checks every field of a spec, typed or parsed, against the rules of the seed and the
// scheduler (lengths, ranges, CIDs, ids). `now` bounds deadlines. Throws Error::invalid naming
// the field with its JSON name.
void validate(const JobSpec& spec, Timestamp now);

// The spec as the canonical JSON the jobs table stores; JobSpec::from_json reads it back.
std::string to_stored_json(const JobSpec& spec);

// Checks a worker's executors (WorkerSpec::executors): each "native" or "container", at most
// once. Throws Error::invalid naming "executors[i]" and the name.
void check_executors(const std::vector<std::string>& executors);

// A job's power budget on a hub: cores x watts_per_core + gpu x watts_per_gpu, rounded up.
std::int64_t budgeted_power_w(const Resources& resources, const HubSpec& hub);

}  // namespace sihlicon::scheduler
