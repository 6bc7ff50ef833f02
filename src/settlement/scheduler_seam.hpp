// SPDX-License-Identifier: Apache-2.0
//
// The seam through which settlement follows the scheduler's jobs inside the scheduler's own
// transactions (defined in src/scheduler/scheduler.cpp). Not installed.
//   - on_transition runs once per job state change, after the scheduler's write body and in
//     its transaction, so a submission and its reservation, a completion and its charge, an
//     end and its void commit together; a throw undoes the whole write.
//   - check_completion runs before a completion changes anything (lease already checked):
//     it refuses a wrong proof of execution or worker signature.
#pragma once

#include "store/database.hpp"

#include <sihlicon/scheduler.hpp>

#include <functional>
#include <string_view>

namespace sihlicon::detail {

struct JobSettlementHooks {
    std::function<void(store::Transaction& tx, const JobEvent& event)> on_transition;
    std::function<void(store::Transaction& tx, std::string_view job_id, std::string_view worker_id,
                       const JobCompletion& completion)>
        check_completion;
};

struct SchedulerAccess {
    // Installs (or, with empty functions, removes) the hooks.
    // REQUIRES: no scheduler call runs concurrently (call it while the hub is being opened).
    static void set_settlement_hooks(Scheduler& scheduler, JobSettlementHooks hooks);
};

}  // namespace sihlicon::detail
