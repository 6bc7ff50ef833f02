// SPDX-License-Identifier: Apache-2.0
//
// The C ABI's JSON entry points: the first byte picks one, the rest is its JSON text. Every
// call must return SIH_OK or a documented refusal, never SIH_INTERNAL; a refusal must set a
// last error and leave the out-parameter untouched. One hub (a temporary folder, opened
// through the C ABI) serves the whole run.
#include "fuzz_support.hpp"

#include <sihlicon.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

namespace {

sih_hub* hub() {
    static const auto folder = std::filesystem::temp_directory_path() /
                               ("sihlicon-fuzz-capi-" + std::to_string(::getpid()));
    static sih_hub* instance = [] {
        std::filesystem::remove_all(folder);
        sih_hub_options options = SIH_HUB_OPTIONS_INIT;
        options.durability = SIH_DURABILITY_PROCESS_CRASH;
        options.integrity_check = SIH_INTEGRITY_CHECK_NONE;
        options.settlement_options_json = R"({"submissionsPerHour":0})";
        sih_hub* opened = nullptr;
        sihlicon::fuzz::require(sih_hub_open(folder.c_str(), &options, &opened) == SIH_OK,
                                "the fuzz hub opens");
        sih_scheduler_register_hub(
            opened,
            R"({"hubId":"hub-a","name":"A","site":"s-a","region":"CH","heatRecoveryPpm":900000})",
            nullptr);
        sih_scheduler_register_hub(
            opened, R"({"hubId":"hub-b","name":"B","site":"s-b","region":"CH"})", nullptr);
        sih_scheduler_register_worker(opened, R"({"workerId":"w-1","hubId":"hub-a","cpu":"4"})",
                                      nullptr);
        sih_settlement_top_up(opened, "hub_operator/hub-b/USD", "100", "seed", nullptr);
        return opened;
    }();
    static const struct Cleanup {
        ~Cleanup() {
            sih_hub_close(&instance);
            std::error_code ignored;
            std::filesystem::remove_all(folder, ignored);
        }
    } cleanup;
    return instance;
}

char kUntouched[] = "untouched";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    const char* json = text.c_str();  // an embedded NUL just ends the text early
    auto* h = hub();
    char* out = kUntouched;
    sih_status status = SIH_OK;
    switch (data[0] % 16) {
        case 0:
            status = sih_scheduler_submit(h, json, "fuzzer", &out);
            break;
        case 1:
            status = sih_scheduler_register_hub(h, json, &out);
            break;
        case 2:
            status = sih_scheduler_register_worker(h, json, &out);
            break;
        case 3:
            status = sih_scheduler_set_grid_state(h, "hub-a", json, &out);
            break;
        case 4:
            status = sih_scheduler_complete_json(h, "job-none", "token", json, &out);
            break;
        case 5:
            status = sih_scheduler_jobs(h, json, &out);
            break;
        case 6:
            status = sih_scheduler_submit_many(h, json, "fuzzer", &out);
            break;
        case 7:
            status = sih_scheduler_complete_many(h, json, &out);
            break;
        case 8:
            status = sih_heat_record(h, json, &out);
            break;
        case 9:
            status = sih_heat_record_many(h, json, &out);
            break;
        case 10:
            status = sih_settlement_transfer(h, json, &out);
            break;
        case 11:
            status = sih_settlement_create_market_transaction(h, json, &out);
            break;
        case 12:
            status = sih_settlement_market_transactions(h, json, &out);
            break;
        case 13:
            status = sih_scheduler_update_hub(h, json, &out);
            break;
        case 14: {
            sih_receipt_check check;
            status = sih_receipt_verify(text.data(), text.size(), nullptr, &check);
            sihlicon::fuzz::require(status == SIH_OK, "receipt verification never fails");
            sihlicon::fuzz::require(check.valid == 0 || check.problem[0] == '\0',
                                    "a valid receipt names no problem");
            break;
        }
        default: {
            sih_hub_options options = SIH_HUB_OPTIONS_INIT;
            options.settlement_options_json = json;
            options.create_if_missing = 0;
            // Reading the options fails before any file is touched, or the folder is absent.
            sih_hub* other = nullptr;
            status = sih_hub_open("/nonexistent/sihlicon-fuzz", &options, &other);
            sihlicon::fuzz::require(status != SIH_OK && other == nullptr,
                                    "no hub opens in a missing folder");
            break;
        }
    }
    sihlicon::fuzz::require(status != SIH_INTERNAL && status != SIH_OUT_OF_MEMORY,
                            "a JSON entry point refuses input with a documented status");
    if (status == SIH_OK) {
        if (out != kUntouched) {
            sih_free(out);
        }
    } else {
        sihlicon::fuzz::require(out == kUntouched, "a refusal leaves out_json untouched");
        sihlicon::fuzz::require(std::strlen(sih_last_error()) > 0, "a refusal sets a message");
    }
    return 0;
}
