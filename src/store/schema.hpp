// SPDX-License-Identifier: Apache-2.0
//
// The hub's schema: every table of every service, as one numbered list of migrations. A new
// table or column is a new migration appended at the end; an applied migration never changes.
#pragma once

#include "store/migrations.hpp"

#include <span>
#include <string_view>

namespace sihlicon::store {

std::span<const Migration> hub_migrations();

// Tables whose row counts `sihlicon info` reports, with the label it reports them under.
struct CountedTable {
    std::string_view label;
    std::string_view table;
};
std::span<const CountedTable> counted_tables();

}  // namespace sihlicon::store
