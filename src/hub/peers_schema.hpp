// SPDX-License-Identifier: Apache-2.0
//
// The peers' table (include/sihlicon/peers.hpp), schema migration 21. Not installed.
//
// peers  one row per hub this hub knows: its id, its server's URL, the token this hub presents
//        to it (a secret, never listed), when it was added and by whom. The CHECKs repeat
//        the length limits of Peers::add. IF NOT EXISTS: safe to run again (tests rewind a
//        hub's schema version and reopen it).
#pragma once

#include <string_view>

namespace sihlicon::hub {

inline constexpr std::string_view kPeersSchema = R"sql(
CREATE TABLE IF NOT EXISTS peers (
    hub_id    TEXT PRIMARY KEY CHECK (length(CAST(hub_id AS BLOB)) BETWEEN 1 AND 128),
    url       TEXT NOT NULL CHECK (length(CAST(url AS BLOB)) BETWEEN 1 AND 2048),
    token     TEXT NOT NULL CHECK (length(CAST(token AS BLOB)) BETWEEN 1 AND 4096),
    added_at  INTEGER NOT NULL CHECK (typeof(added_at) = 'integer'),
    added_by  TEXT NOT NULL
);
)sql";

}  // namespace sihlicon::hub
