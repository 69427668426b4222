// The decision point: every Command a caller sends passes here before it is forwarded.
#pragma once

#include "policy/access.h"
#include "policy/command.h"
#include "policy/config.h"
#include "policy/decision.h"

namespace portcullis::policy {

// Decides one command under the caller's grant. Statement classification and guardrails
// plug in here; until they exist every command the grant reaches is allowed, decided by the
// grant's access rule.
Decision decide(const Config& config, const Grant& grant, const Command& command);

}  // namespace portcullis::policy
