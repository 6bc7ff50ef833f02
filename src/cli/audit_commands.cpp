// SPDX-License-Identifier: Apache-2.0
//
// `sihlicon ledger audit`: the ledger checked against its invariants (audit_ledger,
// ledger_audit.hpp). Exit 0 when every check holds, 1 when one does not; --json prints
// LedgerAudit's JSON, else one summary line and one line per problem ("check subject: detail").
#include "cli/command.hpp"

#include <sihlicon/ledger_audit.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

namespace sihlicon::cli {

namespace {

int command_ledger_audit(const Context& context) {
    require_no_arguments(context);
    auto hub = open_hub(context);
    const auto audit = audit_ledger(hub);
    if (context.json) {
        std::cout << audit.to_json() << '\n';
    } else {
        print_line(fmt::format("ledger {}: {} accounts, {} transfers, {} entries, {} sealed epochs",
                               audit.ok() ? "ok" : "BROKEN", audit.accounts, audit.transfers,
                               audit.entries, audit.epochs));
        for (const auto& problem : audit.problems) {
            print_line(fmt::format("{} {}: {}", problem.check, problem.subject, problem.detail));
        }
    }
    return audit.ok() ? EXIT_SUCCESS : EXIT_FAILURE;
}

}  // namespace

void add_audit_commands(std::vector<Command>& commands) {
    commands.push_back({"ledger audit",
                        "check the ledger: balances against entries, reservations, transfers, "
                        "totals, sealed epochs' Merkle roots (exit 1 if broken)",
                        command_ledger_audit});
}

}  // namespace sihlicon::cli
