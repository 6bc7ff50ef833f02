// SPDX-License-Identifier: Apache-2.0
//
// ContentStore: named references (name@version → CID) and community memberships, both shown
// and changed only as the acting principal may.
#include "cas/cas_internal.hpp"
#include "core/json.hpp"
#include "hub/event_log.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/principal.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>

namespace sihlicon {

namespace {

constexpr std::string_view kReferenceColumns = "name, version, content_id, owner, created_at";

void validate_name(std::string_view name) {
    const bool ok =
        !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                   c == '/' || c == '-';
        });
    if (!ok) {
        throw Error::invalid("name", name,
                             "must be 1 to 128 lower-case letters, digits, '.', '_', '/' or '-'");
    }
}

void validate_version(std::string_view version) {
    const bool ok = !version.empty() && version.size() <= 64 &&
                    std::all_of(version.begin(), version.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' ||
                               c == '_' || c == '+' || c == '-';
                    });
    if (!ok) {
        throw Error::invalid("version", version,
                             "must be 1 to 64 letters, digits, '.', '_', '+' or '-'");
    }
}

NamedReference read_reference(store::Statement& row) {
    return NamedReference{row.column_text(0), row.column_text(1), row.column_text(2),
                          row.column_text(3), Timestamp::from_ms(row.column_int64(4))};
}

// The one error for a reference that does not exist or that the principal may not see.
Error no_reference(std::string_view name, std::optional<std::string_view> version) {
    return Error(ErrorCode::not_found,
                 version ? fmt::format("no reference {}@{}", name, *version)
                         : fmt::format("no reference named {}", name),
                 "name");
}

// Every version of `name` whose content `principal` may read, oldest first.
std::vector<NamedReference> visible_versions(store::Transaction& tx, std::string_view name,
                                             std::string_view principal) {
    auto row = tx.prepare(
        fmt::format("SELECT {} FROM cas_refs WHERE name = ? ORDER BY ordinal", kReferenceColumns));
    row.bind_all(name);
    std::vector<NamedReference> references;
    while (row.step()) {
        references.push_back(read_reference(row));
    }
    std::erase_if(references, [&](const NamedReference& reference) {
        return !cas::readable(tx, reference.content_id, principal);
    });
    return references;
}

bool is_member(store::Transaction& tx, std::string_view community_id, std::string_view principal) {
    auto row =
        tx.prepare("SELECT 1 FROM cas_community_members WHERE community_id = ? AND principal = ?");
    row.bind_all(community_id, principal);
    return row.step();
}

// Throws permission_denied unless `principal` may change the members of `community_id`
// (see ContentStore::add_community_member). `founding`: `principal` adds itself.
void check_may_change(store::Transaction& tx, std::string_view community_id,
                      std::string_view principal, bool founding) {
    if (principal == kOperatorPrincipal ||
        (!principal.empty() && is_member(tx, community_id, principal))) {
        return;
    }
    if (founding) {
        auto any = tx.prepare("SELECT 1 FROM cas_community_members WHERE community_id = ?");
        any.bind_all(community_id);
        if (!any.step()) {
            return;
        }
    }
    throw Error(ErrorCode::permission_denied,
                fmt::format("'{}' is not a member of community '{}' and may not change its members",
                            principal, community_id),
                "principal");
}

}  // namespace

void ContentStore::add_community_member(std::string_view community_id, std::string_view member,
                                        std::string_view principal) {
    cas::check_principal(community_id, "communityId");
    cas::check_principal(member, "member");
    impl_->core.database->write([&](store::Transaction& tx) {
        check_may_change(tx, community_id, principal, !principal.empty() && member == principal);
        tx.prepare(
              "INSERT INTO cas_community_members (community_id, principal, added_at) "
              "VALUES (?, ?, ?) ON CONFLICT (community_id, principal) DO NOTHING")
            .bind_all(community_id, member, impl_->core.now().ms())
            .run();
    });
}

void ContentStore::remove_community_member(std::string_view community_id, std::string_view member,
                                           std::string_view principal) {
    cas::check_principal(community_id, "communityId");
    cas::check_principal(member, "member");
    impl_->core.database->write([&](store::Transaction& tx) {
        check_may_change(tx, community_id, principal, false);
        tx.prepare("DELETE FROM cas_community_members WHERE community_id = ? AND principal = ?")
            .bind_all(community_id, member)
            .run();
    });
}

std::vector<std::string> ContentStore::communities_of(std::string_view member,
                                                      std::string_view principal) const {
    const bool sees_all =
        principal == kOperatorPrincipal || (!principal.empty() && member == principal);
    return impl_->core.database->read([&](store::Transaction& tx) {
        auto row = tx.prepare(
            "SELECT m.community_id FROM cas_community_members m WHERE m.principal = ?1 AND "
            "(?3 OR EXISTS (SELECT 1 FROM cas_community_members s WHERE s.community_id = "
            "m.community_id AND s.principal = ?2)) ORDER BY m.community_id");
        row.bind(1, member);
        row.bind(2, principal);
        row.bind(3, std::int64_t{sees_all ? 1 : 0});
        std::vector<std::string> communities;
        while (row.step()) {
            communities.push_back(row.column_text(0));
        }
        return communities;
    });
}

NamedReference ContentStore::set_reference(std::string_view name, std::string_view version,
                                           std::string_view content_id,
                                           std::string_view principal) {
    validate_name(name);
    validate_version(version);
    cas::check_principal(principal, "principal");
    const std::string id = Cid::parse(content_id, "contentId").to_string();
    return impl_->core.database->write([&](store::Transaction& tx) {
        impl_->visible_manifest(tx, id, principal);  // a name only for content one may read
        {
            auto owner = tx.prepare("SELECT owner FROM cas_refs WHERE name = ? LIMIT 1");
            owner.bind_all(name);
            if (owner.step() && owner.column_text(0) != principal) {
                throw Error(ErrorCode::permission_denied,
                            fmt::format("the name '{}' belongs to another principal", name),
                            "name");
            }
        }
        auto existing = tx.prepare(fmt::format(
            "SELECT {} FROM cas_refs WHERE name = ? AND version = ?", kReferenceColumns));
        existing.bind_all(name, version);
        if (existing.step()) {
            auto reference = read_reference(existing);
            if (reference.content_id != id) {
                // The CID is not shown: its content may be unreadable to the name's owner now.
                throw Error(ErrorCode::conflict,
                            fmt::format("{}@{} already points to other content (ref rm it first)",
                                        name, version),
                            "version");
            }
            return reference;
        }
        const auto now = impl_->core.now();
        tx.prepare(
              "INSERT INTO cas_refs (name, version, content_id, owner, ordinal, created_at) "
              "VALUES (?1, ?2, ?3, ?4, (SELECT COALESCE(MAX(ordinal), 0) + 1 FROM cas_refs "
              "WHERE name = ?1), ?5)")
            .bind_all(name, version, id, principal, now.ms())
            .run();
        events::append(
            tx, now, "content.named", name, {principal, std::nullopt},
            json::serialize(boost::json::object{
                {"name", name}, {"version", version}, {"contentId", id}, {"owner", principal}}));
        return NamedReference{std::string(name), std::string(version), id, std::string(principal),
                              now};
    });
}

NamedReference ContentStore::resolve_reference(std::string_view name,
                                               std::optional<std::string_view> version,
                                               std::string_view principal) const {
    validate_name(name);
    if (version) {
        validate_version(*version);
    }
    return impl_->core.database->read([&](store::Transaction& tx) {
        auto references = visible_versions(tx, name, principal);
        if (version) {
            std::erase_if(references,
                          [&](const NamedReference& r) { return r.version != *version; });
        }
        if (references.empty()) {
            throw no_reference(name, version);
        }
        return references.back();
    });
}

std::vector<NamedReference> ContentStore::reference_versions(std::string_view name,
                                                             std::string_view principal) const {
    validate_name(name);
    return impl_->core.database->read(
        [&](store::Transaction& tx) { return visible_versions(tx, name, principal); });
}

void ContentStore::remove_reference(std::string_view name, std::string_view version,
                                    std::string_view principal) {
    validate_name(name);
    validate_version(version);
    impl_->core.database->write([&](store::Transaction& tx) {
        auto row = tx.prepare(fmt::format("SELECT {} FROM cas_refs WHERE name = ? AND version = ?",
                                          kReferenceColumns));
        row.bind_all(name, version);
        if (!row.step()) {
            throw no_reference(name, version);
        }
        const auto reference = read_reference(row);
        if (principal.empty() || reference.owner != principal) {
            if (!cas::readable(tx, reference.content_id, principal)) {
                throw no_reference(name, version);
            }
            throw Error(ErrorCode::permission_denied,
                        fmt::format("'{}' does not own the name '{}'", principal, name), "name");
        }
        tx.prepare("DELETE FROM cas_refs WHERE name = ? AND version = ?")
            .bind_all(name, version)
            .run();
        events::append(tx, impl_->core.now(), "content.unnamed", name, {principal, std::nullopt},
                       json::serialize(boost::json::object{{"name", name},
                                                           {"version", version},
                                                           {"contentId", reference.content_id},
                                                           {"owner", principal}}));
    });
}

}  // namespace sihlicon
