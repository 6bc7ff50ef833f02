// SPDX-License-Identifier: Apache-2.0
//
// Test-only access to a Settlement's internals. Not installed; production code never calls it.
#pragma once

#include "settlement/epochs.hpp"

#include <sihlicon/settlement.hpp>

namespace sihlicon {

struct SettlementAccess {
    // Installs (or, empty, removes) the function seal_epoch() calls at the named points of a
    // seal (see SealFaultPoint in src/settlement/epochs.hpp), so a test can kill the process
    // in the middle of one. REQUIRES: no seal runs concurrently.
    static void set_seal_fault_point(Settlement& settlement, settlement::SealFaultPoint fault);
};

}  // namespace sihlicon
