// SPDX-License-Identifier: Apache-2.0
//
// When a hub acknowledges a committed change: the database's commits and the content store's
// blocks follow the same setting (HubOptions::durability).
#pragma once

namespace sihlicon {

enum class Durability {
    process_crash,  // survives kill -9 of the process; a power cut may lose the last commits
    power_loss,     // every commit is fsynced before it is acknowledged (the default)
};

}  // namespace sihlicon
