// SPDX-License-Identifier: Apache-2.0
//
// The one export macro of libsihlicon. The library is built with hidden visibility; only
// declarations marked SIHLICON_API are part of its ABI.
#pragma once

#if defined(SIHLICON_BUILDING_LIBRARY)
#define SIHLICON_API __attribute__((visibility("default")))
#else
#define SIHLICON_API
#endif
