// The decision point: every Command a caller sends passes here before it is forwarded.
#pragma once

#include <vector>

#include "config/config.h"
#include "identity/identity.h"
#include "policy/access.h"
#include "policy/command.h"
#include "policy/decision.h"

namespace portcullis::policy {

// Which statements of `command` (by index) a guardrail with `rows_over` would decide on: the
// session estimates their rows before deciding. Empty when none.
std::vector<bool> statements_to_estimate(const config::Config& config,
                                         const identity::Identity& identity, const Grant& grant,
                                         const Command& command);

// Decides a command under the caller's grant, statement by statement; the first statement
// that is not allowed decides for the whole command (nothing of it is forwarded). For each
// statement: guardrails in order (the first that matches decides deny or review; allow ends
// the guardrail check but never widens the grant), then the grant's statement classes
// (transaction and session always pass; unknown only where named), then, for a read-only
// grant, anything that would lift read-only. A refusal anywhere wins over a review; a review
// is given only to what the grant allows. A command without a classification is refused.
// An SSH command (Command::shell()) is decided the same way, one simple command of its line
// at a time for guardrails; then the grant: every class it needs must be allowed (unknown
// refused with the reader's reason), and with the grant's `programs`, every simple command
// that runs a program must match an entry. On a locked-down connection only administrators
// run anything.
Decision decide(const config::Config& config, const identity::Identity& identity,
                const Grant& grant, const Command& command);

}  // namespace portcullis::policy
