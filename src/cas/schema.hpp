// SPDX-License-Identifier: Apache-2.0
//
// The content store's tables (schema migration 3). Not installed.
#pragma once

#include <string_view>

namespace sihlicon::cas {

// cas_manifests          one per (content, owner); allowed_regions is a comma-separated list
// cas_dag_blocks         every block of a content's DAG, for verification and collection
// cas_replicas           a copy of a content on a hub: wanted | pinned | failed
// cas_refs               name@version -> content; ordinal orders the versions of a name
// cas_community_members  who shares a community, for access level "community"
// cas_uploads            upload volume per owner, for the hourly quota
// cas_quotas             per-owner limits; owner '*' is the default for everyone else
inline constexpr std::string_view kSchema = R"sql(
CREATE TABLE cas_manifests (
    content_id      TEXT NOT NULL,
    owner           TEXT NOT NULL,
    file_name       TEXT,
    file_size_bytes INTEGER NOT NULL CHECK (file_size_bytes >= 0),
    mime_type       TEXT,
    storage_tier    TEXT NOT NULL CHECK (storage_tier IN ('hot', 'cold', 'glacier')),
    access_level    TEXT NOT NULL CHECK (access_level IN ('private', 'community', 'public')),
    min_replicas    INTEGER NOT NULL CHECK (min_replicas >= 0),
    source_hub_id   TEXT,
    metadata        TEXT NOT NULL,
    allowed_regions TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (content_id, owner)
);
CREATE INDEX cas_manifests_owner ON cas_manifests (owner, created_at);
CREATE TABLE cas_dag_blocks (
    root_cid  TEXT NOT NULL,
    block_cid TEXT NOT NULL,
    size      INTEGER NOT NULL CHECK (size >= 0),
    PRIMARY KEY (root_cid, block_cid)
);
CREATE INDEX cas_dag_blocks_block ON cas_dag_blocks (block_cid);
CREATE TABLE cas_replicas (
    content_id TEXT NOT NULL,
    hub_id     TEXT NOT NULL REFERENCES hubs (id) ON DELETE CASCADE,
    state      TEXT NOT NULL CHECK (state IN ('wanted', 'pinned', 'failed')),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (content_id, hub_id)
);
CREATE TABLE cas_refs (
    name       TEXT NOT NULL,
    version    TEXT NOT NULL,
    content_id TEXT NOT NULL,
    owner      TEXT NOT NULL,
    ordinal    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE INDEX cas_refs_content ON cas_refs (content_id);
CREATE TABLE cas_community_members (
    community_id TEXT NOT NULL,
    principal    TEXT NOT NULL,
    added_at     INTEGER NOT NULL,
    PRIMARY KEY (community_id, principal)
);
CREATE INDEX cas_community_members_principal ON cas_community_members (principal);
CREATE TABLE cas_uploads (
    owner       TEXT NOT NULL,
    uploaded_at INTEGER NOT NULL,
    bytes       INTEGER NOT NULL CHECK (bytes >= 0)
);
CREATE INDEX cas_uploads_owner ON cas_uploads (owner, uploaded_at);
CREATE TABLE cas_quotas (
    owner                 TEXT PRIMARY KEY,
    upload_bytes_per_hour INTEGER NOT NULL CHECK (upload_bytes_per_hour >= 0),
    total_bytes           INTEGER CHECK (total_bytes >= 0)
);
)sql";

}  // namespace sihlicon::cas
