// SPDX-License-Identifier: Apache-2.0
#include <sihlicon/version.hpp>

namespace sihlicon {

const char* library_version() noexcept {
    return SIHLICON_VERSION_STRING;
}

}  // namespace sihlicon
