// SPDX-License-Identifier: Apache-2.0
//
// The C++ records as Python dicts. Instants are int milliseconds since the epoch, energies int
// milliwatt-hours, amounts (minor units, currency code) pairs, enumerations their names; the
// Python layer (sihlicon/_records.py) makes typed dataclasses of them. Records that have a
// JSON form carry it under "json", the exact text the C++ to_json() writes.
#include "common.hpp"

namespace sihlicon::python {

py::object to_py(Timestamp value) {
    return py::int_(value.ms());
}

py::object to_py(const std::optional<Timestamp>& value) {
    return value ? to_py(*value) : py::none();
}

py::object money_to_py(const Money& value) {
    return py::make_tuple(value.minor_units(), std::string(value.currency().code()));
}

namespace {

py::object energy(const std::optional<Energy>& value) {
    return value ? py::object(py::int_(value->mwh())) : py::none();
}

py::object name(std::string_view text) {
    return py::str(text.data(), text.size());
}

template <typename Enum>
py::object optional_name(const std::optional<Enum>& value) {
    return value ? name(to_string(*value)) : py::none();
}

}  // namespace

py::dict to_py(const HubInfo& value) {
    py::dict d;
    d["directory"] = value.directory;
    d["database_path"] = value.database_path;
    d["blob_directory"] = value.blob_directory;
    d["schema_version"] = value.schema_version;
    d["latest_schema_version"] = value.latest_schema_version;
    d["library_version"] = value.library_version;
    d["created_by_version"] = value.created_by_version;
    d["instance_id"] = value.instance_id;
    d["created_at"] = to_py(value.created_at);
    d["database_bytes"] = value.database_bytes;
    py::dict counts;
    for (const auto& [kind, count] : value.counts) {
        counts[py::str(kind)] = count;
    }
    d["counts"] = counts;
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const HubRecord& value) {
    py::dict d;
    const auto& spec = value.spec;
    d["id"] = spec.id;
    d["name"] = spec.name;
    d["site"] = spec.site;
    d["region"] = spec.region;
    d["heat_recovery_ppm"] = spec.heat_recovery_ppm;
    d["power_capacity_w"] = spec.power_capacity_w;
    d["routing_policy"] = name(to_string(spec.routing_policy));
    d["watts_per_core"] = spec.watts_per_core;
    d["watts_per_gpu"] = spec.watts_per_gpu;
    d["throttle_min_priority"] = spec.throttle_min_priority;
    d["max_queue_depth"] = spec.max_queue_depth;
    d["grid_signal"] = name(to_string(value.grid.signal));
    d["grid_power_budget_w"] = value.grid.power_budget_w;
    d["grid_valid_until"] = to_py(value.grid.valid_until);
    d["heat_demand_w"] = value.heat_demand_w;
    d["heat_demand_valid_until"] = to_py(value.heat_demand_valid_until);
    d["running_power_w"] = value.running_power_w;
    d["created_at"] = to_py(value.created_at);
    d["updated_at"] = to_py(value.updated_at);
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const WorkerRecord& value) {
    py::dict d;
    const auto& spec = value.spec;
    d["id"] = spec.id;
    d["hub_id"] = spec.hub_id;
    d["cpu_millicores"] = spec.cpu_millicores;
    d["memory_bytes"] = spec.memory_bytes;
    py::list gpus;
    for (const auto& gpu : spec.gpus) {
        gpus.append(py::make_tuple(gpu.model, gpu.vram_bytes));
    }
    d["gpus"] = gpus;
    d["labels"] = spec.labels;
    d["executors"] = spec.executors;
    d["status"] = name(to_string(value.status));
    d["used_cpu_millicores"] = value.used_cpu_millicores;
    d["used_memory_bytes"] = value.used_memory_bytes;
    d["gpus_in_use"] = value.gpus_in_use;
    d["running_jobs"] = value.running_jobs;
    d["utilisation_ppm"] = value.utilisation_ppm;
    d["power_draw_w"] = value.power_draw_w;
    py::list gpu_stats;
    for (const auto& stats : value.gpu_stats) {
        gpu_stats.append(py::make_tuple(stats.utilisation_ppm, stats.vram_used_bytes));
    }
    d["gpu_stats"] = gpu_stats;
    d["last_heartbeat_at"] = to_py(value.last_heartbeat_at);
    d["registered_at"] = to_py(value.registered_at);
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const JobRecord& value) {
    py::dict d;
    const auto& spec = value.spec;
    d["id"] = value.id;
    d["type"] = name(to_string(spec.type));
    d["name"] = spec.name;
    d["description"] = spec.description;
    d["container_image"] = spec.workload.container_image;
    d["command"] = spec.workload.command;
    d["env"] = spec.workload.env;
    d["cpu_millicores"] = spec.workload.resources.cpu_millicores;
    d["memory_bytes"] = spec.workload.resources.memory_bytes;
    d["gpu"] = spec.workload.resources.gpu;
    d["timeout_seconds"] = spec.workload.timeout_seconds;
    d["input_refs"] = spec.input_refs;
    d["estimated_energy_mwh"] = energy(spec.estimated_energy);
    d["priority"] = spec.priority;
    d["scheduled_at"] = to_py(spec.scheduled_at);
    d["hub_id"] = spec.hub_id;
    d["pin_hub"] = spec.pin_hub;
    d["owner"] = spec.owner;
    d["idempotency_key"] = spec.idempotency_key;
    d["max_attempts"] = spec.max_attempts;
    d["deadline"] = to_py(spec.deadline);
    d["depends_on"] = spec.depends_on;
    d["status"] = name(to_string(value.status));
    d["wait_reason"] = value.wait_reason;
    d["ready_at"] = to_py(value.ready_at);
    d["attempts"] = value.attempts;
    d["dead_letter"] = value.dead_letter;
    d["worker_id"] = value.worker_id;
    d["run_hub_id"] = value.run_hub_id;
    d["prefer_until"] = to_py(value.prefer_until);
    d["lease_expires_at"] = to_py(value.lease_expires_at);
    d["power_w"] = value.power_w;
    d["output_refs"] = value.output_refs;
    d["actual_energy_mwh"] = energy(value.actual_energy);
    d["energy_source"] = optional_name(value.energy_source);
    d["heat_generated_mwh"] = energy(value.heat_generated);
    d["result_hash"] = value.result_hash;
    d["error_message"] = value.error_message;
    d["created_at"] = to_py(value.created_at);
    d["updated_at"] = to_py(value.updated_at);
    d["started_at"] = to_py(value.started_at);
    d["finished_at"] = to_py(value.finished_at);
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const Lease& value) {
    py::dict d;
    d["job_id"] = value.job_id;
    d["worker_id"] = value.worker_id;
    d["token"] = value.token;
    d["expires_at"] = to_py(value.expires_at);
    d["attempt"] = value.attempt;
    return d;
}

py::dict to_py(const ClaimedJob& value) {
    py::dict d;
    d["lease"] = to_py(value.lease);
    d["job"] = to_py(value.job);
    return d;
}

py::dict to_py(const JobEvent& value) {
    py::dict d;
    d["sequence"] = value.sequence;
    d["job_id"] = value.job_id;
    d["from_status"] = optional_name(value.from);
    d["to_status"] = name(to_string(value.to));
    d["at"] = to_py(value.at);
    d["actor"] = value.actor;
    d["reason"] = value.reason;
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const QueueStats& value) {
    py::dict d;
    d["hub_id"] = value.hub_id;
    py::dict by_status;
    for (const auto& [status, count] : value.by_status) {
        by_status[name(to_string(status))] = count;
    }
    d["by_status"] = by_status;
    d["oldest_waiting"] = to_py(value.oldest_waiting);
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const Placement& value) {
    py::dict d;
    d["hub_id"] = value.hub_id;
    d["worker_id"] = value.worker_id;
    d["eligible"] = value.eligible;
    d["reasons"] = value.reasons;
    d["expected_heat_mwh"] = energy(value.expected_heat);
    return d;
}

py::dict to_py(const Manifest& value) {
    py::dict d;
    d["content_id"] = value.content_id;
    d["file_name"] = value.file_name;
    d["file_size_bytes"] = value.file_size_bytes;
    d["mime_type"] = value.mime_type;
    d["storage_tier"] = name(to_string(value.storage_tier));
    d["access_level"] = name(to_string(value.access_level));
    d["replica_hubs"] = value.replica_hubs;
    d["created_at"] = to_py(value.created_at);
    d["owner"] = value.owner;
    d["min_replicas"] = value.min_replicas;
    d["source_hub_id"] = value.source_hub_id;
    d["metadata_json"] = value.metadata_json;
    d["allowed_regions"] = value.allowed_regions;
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const NamedReference& value) {
    py::dict d;
    d["name"] = value.name;
    d["version"] = value.version;
    d["content_id"] = value.content_id;
    d["owner"] = value.owner;
    d["created_at"] = to_py(value.created_at);
    return d;
}

py::dict to_py(const ReplicaRecord& value) {
    py::dict d;
    d["content_id"] = value.content_id;
    d["hub_id"] = value.hub_id;
    d["state"] = name(to_string(value.state));
    d["updated_at"] = to_py(value.updated_at);
    return d;
}

py::dict to_py(const RepairAction& value) {
    py::dict d;
    d["content_id"] = value.content_id;
    d["target_hub_id"] = value.target_hub_id;
    d["source_hub_ids"] = value.source_hub_ids;
    return d;
}

py::dict to_py(const ScrubReport& value) {
    py::dict d;
    d["blocks_checked"] = value.blocks_checked;
    d["bytes_checked"] = value.bytes_checked;
    py::list problems;
    for (const auto& problem : value.problems) {
        py::dict p;
        p["block_cid"] = problem.block_cid;
        p["tier"] = name(to_string(problem.tier));
        p["problem"] = problem.problem;
        p["content_ids"] = problem.content_ids;
        problems.append(p);
    }
    d["problems"] = problems;
    return d;
}

py::dict to_py(const Quota& value) {
    py::dict d;
    d["upload_bytes_per_hour"] = value.upload_bytes_per_hour;
    d["total_bytes"] = value.total_bytes;
    return d;
}

py::dict to_py(const HeatRecord& value) {
    py::dict d;
    d["sequence"] = value.sequence;
    d["hub_id"] = value.hub_id;
    d["kind"] = name(to_string(value.kind));
    d["job_id"] = value.job_id;
    d["tag"] = value.tag;
    d["at"] = to_py(value.at);
    d["credit_at"] = to_py(value.credit_at);
    d["electrical_mwh"] = energy(value.electrical);
    d["thermal_mwh"] = value.thermal.mwh();
    d["energy_source"] = name(to_string(value.source));
    d["heat_recovery_ppm"] = value.heat_recovery_ppm;
    d["recorded_at"] = to_py(value.recorded_at);
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const CreditRate& value) {
    py::dict d;
    d["hub_id"] = value.hub_id;
    d["per_kwh"] = money_to_py(value.per_kwh);
    d["effective_from"] = to_py(value.effective_from);
    d["is_default"] = value.is_default;
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const HeatCredit& value) {
    py::dict d;
    d["hub_id"] = value.hub_id;
    d["period_start"] = to_py(value.period_start);
    d["period_end"] = to_py(value.period_end);
    d["total_heat_mwh"] = value.total_heat.mwh();
    d["credit"] = money_to_py(value.credit);
    d["settled"] = value.settled;
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const HeatStats& value) {
    py::dict d;
    d["hub_id"] = value.hub_id;
    d["total_heat_mwh"] = value.total_heat.mwh();
    d["total_credit"] = money_to_py(value.total_credit);
    d["unsettled_credit"] = money_to_py(value.unsettled_credit);
    d["period_count"] = value.period_count;
    d["last_period_end"] = to_py(value.last_period_end);
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const HeatSettlement& value) {
    py::dict d;
    d["hub_id"] = value.hub_id;
    d["period_start"] = to_py(value.period_start);
    d["period_end"] = to_py(value.period_end);
    d["total_heat_mwh"] = value.total_heat.mwh();
    d["credit"] = money_to_py(value.credit);
    d["record_count"] = value.record_count;
    d["settled_at"] = to_py(value.settled_at);
    d["json"] = value.to_json();
    return d;
}

namespace {

py::list points_to_py(const std::vector<HeatSeriesPoint>& points) {
    py::list list;
    for (const auto& point : points) {
        py::dict p;
        p["start"] = to_py(point.start);
        p["electricity_mwh"] = point.electricity.mwh();
        p["heat_mwh"] = point.heat.mwh();
        p["heat_demand_mwh"] = point.heat_demand.mwh();
        p["records"] = point.records;
        list.append(p);
    }
    return list;
}

}  // namespace

py::dict to_py(const HeatSeries& value) {
    py::dict d;
    d["hub_id"] = value.hub_id;
    d["resolution"] = name(to_string(value.resolution));
    d["points"] = points_to_py(value.points);
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const HeatGroupStats& value) {
    py::dict d;
    d["group_by"] = name(to_string(value.group.kind));
    d["group"] = value.group.name;
    d["hub_ids"] = value.hub_ids;
    d["total_heat_mwh"] = value.total_heat.mwh();
    d["total_credit"] = money_to_py(value.total_credit);
    d["unsettled_credit"] = money_to_py(value.unsettled_credit);
    d["period_count"] = value.period_count;
    d["last_period_end"] = to_py(value.last_period_end);
    py::list hubs;
    for (const auto& stats : value.hubs) {
        hubs.append(to_py(stats));
    }
    d["hubs"] = hubs;
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const HeatGroupSeries& value) {
    py::dict d;
    d["group_by"] = name(to_string(value.group.kind));
    d["group"] = value.group.name;
    d["hub_ids"] = value.hub_ids;
    d["resolution"] = name(to_string(value.resolution));
    d["points"] = points_to_py(value.points);
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const Account& value) {
    py::dict d;
    d["id"] = value.ref.id();
    d["kind"] = name(to_string(value.ref.kind));
    d["owner"] = value.ref.owner;
    d["currency"] = std::string(value.ref.currency.code());
    d["balance"] = money_to_py(value.balance);
    d["pending_debits"] = money_to_py(value.pending_debits);
    d["pending_credits"] = money_to_py(value.pending_credits);
    d["available"] = money_to_py(value.available());
    d["created_at"] = to_py(value.created_at);
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const Transfer& value) {
    py::dict d;
    d["id"] = value.id;
    d["debit_account"] = value.debit_account;
    d["credit_account"] = value.credit_account;
    d["amount"] = money_to_py(value.amount);
    d["kind"] = name(to_string(value.kind));
    d["reference"] = value.reference;
    d["status"] = name(to_string(value.status));
    d["pending_id"] = value.pending_id;
    d["timeout_at"] = to_py(value.timeout_at);
    d["created_at"] = to_py(value.created_at);
    d["exists"] = value.exists;
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const AccountEntry& value) {
    py::dict d;
    d["sequence"] = value.sequence;
    d["transfer_id"] = value.transfer_id;
    d["kind"] = name(to_string(value.kind));
    d["amount"] = money_to_py(value.amount);
    d["balance_after"] = money_to_py(value.balance_after);
    d["reference"] = value.reference;
    d["at"] = to_py(value.at);
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const EpochRecord& value) {
    py::dict d;
    d["id"] = value.id;
    d["number"] = value.number;
    d["status"] = name(to_string(value.status));
    d["start"] = to_py(value.start);
    d["end"] = to_py(value.end);
    d["jobs_count"] = value.jobs_count;
    d["jobs_merkle_root"] = value.jobs_merkle_root;
    d["revenue"] = money_to_py(value.revenue);
    d["signer"] = value.signer;
    d["signature"] = value.signature;
    d["artifact_cids"] = value.artifact_cids;
    d["summary_json"] = value.summary_json;
    d["total_distributed"] = money_to_py(value.total_distributed);
    d["previous_root"] = value.previous_root.empty() ? py::object(py::none())
                                                     : py::object(py::str(value.previous_root));
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const EpochJob& value) {
    py::dict d;
    d["job_id"] = value.job_id;
    d["client"] = value.client;
    d["worker"] = value.worker;
    d["job_type"] = value.job_type;
    d["hub"] = value.hub;
    d["fee"] = money_to_py(value.fee);
    d["result_hash"] = value.result_hash;
    d["poe_hash"] = value.poe_hash;
    d["completed_at"] = to_py(value.completed_at);
    d["leaf"] = value.leaf();
    return d;
}

py::dict to_py(const Payout& value) {
    py::dict d;
    d["epoch_id"] = value.epoch_id;
    d["worker_id"] = value.worker_id;
    d["work_share"] = money_to_py(value.work_share);
    d["readiness_share"] = money_to_py(value.readiness_share);
    d["jobs_completed"] = value.jobs_completed;
    d["uptime_ms"] = value.uptime_ms;
    d["status"] = name(to_string(value.status));
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const EpochBundle& value) {
    py::dict d;
    d["jobs_json"] = value.jobs_json;
    d["agents_json"] = value.agents_json;
    d["summary_json"] = value.summary_json;
    d["signature_txt"] = value.signature_txt;
    return d;
}

py::dict to_py(const ReceiptCheck& value) {
    py::dict d;
    d["status"] = std::string(to_string(value.status));
    d["valid"] = value.valid;
    d["signer_trusted"] = value.signer_trusted;
    d["problem"] = value.problem;
    d["job_id"] = value.job_id;
    d["epoch_id"] = value.epoch_id;
    d["signer"] = value.signer;
    return d;
}

py::dict to_py(const JobCharge& value) {
    py::dict d;
    d["job_id"] = value.job_id;
    d["client"] = value.client;
    d["job_type"] = value.job_type;
    d["base_price"] = money_to_py(value.base_price);
    d["multiplier_ppm"] = value.multiplier_ppm;
    d["price"] = money_to_py(value.price);
    d["queue_depth"] = value.queue_depth;
    d["utilisation_ppm"] = value.utilisation_ppm;
    d["status"] = value.status;
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const MarketTransaction& value) {
    py::dict d;
    d["id"] = value.id;
    d["type"] = name(to_string(value.type));
    d["buyer_hub"] = value.buyer_hub;
    d["seller_hub"] = value.seller_hub;
    d["quantity"] = value.quantity;
    d["unit"] = value.unit;
    d["unit_price"] = money_to_py(value.unit_price);
    d["total"] = money_to_py(value.total);
    d["status"] = name(to_string(value.status));
    d["reference"] = value.reference;
    d["transfer_id"] = value.transfer_id;
    d["resolution_id"] = value.resolution_id;
    d["created_at"] = to_py(value.created_at);
    d["resolved_at"] = to_py(value.resolved_at);
    d["exists"] = value.exists;
    d["json"] = value.to_json();
    return d;
}

py::dict to_py(const Reputation& value) {
    py::dict d;
    d["subject"] = name(to_string(value.subject));
    d["id"] = value.id;
    d["attempts"] = value.attempts;
    d["successes"] = value.successes;
    d["on_time"] = value.on_time;
    d["uptime_ms"] = value.uptime_ms;
    d["observed_ms"] = value.observed_ms;
    d["success_rate_ppm"] = value.success_rate_ppm;
    d["on_time_rate_ppm"] = value.on_time_rate_ppm;
    d["uptime_ppm"] = value.uptime_ppm;
    d["score_ppm"] = value.score_ppm;
    d["json"] = value.to_json();
    return d;
}

std::optional<Timestamp> optional_timestamp(const std::optional<std::int64_t>& ms) {
    if (!ms) {
        return std::nullopt;
    }
    return Timestamp::from_ms(*ms);
}

std::optional<Energy> optional_energy(const std::optional<std::int64_t>& mwh) {
    if (!mwh) {
        return std::nullopt;
    }
    return Energy::milliwatt_hours(*mwh);
}

Money make_money(std::int64_t minor_units, std::string_view currency) {
    return Money(minor_units, Currency::of(currency));
}

}  // namespace sihlicon::python
