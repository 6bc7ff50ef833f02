// SPDX-License-Identifier: Apache-2.0
//
// Fault injection for the fault tests: this executable defines write, pwrite, pwrite64,
// fsync and fdatasync itself (exported, so SQLite's calls through libsqlite3 reach them too)
// and passes each call to the C library unless an armed fault matches the file the call
// writes to. Every other test program is unaffected.
#pragma once

#include <string>

namespace sihlicon::testing {

enum class FaultCall { write, sync };

// From now on, calls of kind `call` on a file whose path contains `path_part` fail with
// `error` (ENOSPC, EIO, ...) after `pass` of them have gone through. Replaces any armed fault.
void arm_fault(std::string path_part, FaultCall call, int error, int pass = 0);

// A full disk that one file keeps full: from now on, writes to a file whose path contains
// `path_part` fail with ENOSPC while the file `full_while` exists. Replaces any armed fault.
void arm_disk_full(std::string path_part, std::string full_while);

// No more faults.
void disarm_fault();

// How many calls the armed fault has failed so far.
int faults_injected();

}  // namespace sihlicon::testing
