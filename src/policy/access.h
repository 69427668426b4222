// Access: which access rule grants an identity a connection, and with what (backend
// credentials, statement classes, masking profile). Evaluated once per session.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "identity/identity.h"

namespace portcullis::policy {

struct Grant {
  std::string rule;  // the access rule that matched
  const config::ConnectionConfig* connection =
      nullptr;  // points into the snapshot the grant came from
  const config::CredentialProfile* credentials = nullptr;  // idem
  std::vector<std::string> allow;                          // statement or ssh classes
  // ssh: the programs every simple command of a command line must match, as the access rule
  // lists them ("ls", "systemctl status"); empty: any program.
  std::vector<std::string> programs;
  // kubernetes: the resources a request may name ("pods", "pods/log"); empty: any.
  std::vector<std::string> resources;
  std::string masking;  // masking profile, "" or "none" for none
  // Just-in-time access (the rule says requires_request): when the approved access ends.
  std::optional<std::chrono::system_clock::time_point> expires_at;
};

// Until when the identity holds approved access under `rule` (which requires a request), or
// nothing when it holds none. An error refuses the connection.
using AccessRequestCheck =
    std::function<Result<std::optional<std::chrono::system_clock::time_point>>(
        const config::AccessRuleConfig& rule)>;

// True when every criterion `who` states holds for the identity; an empty `who` matches
// everyone.
bool who_matches(const config::WhoConfig& who, const identity::Identity& identity);

// A grant that allows no statement class that changes anything (write, ddl, dcl, admin):
// its backend session is opened read-only as well.
bool is_read_only(const Grant& grant);

// The first access rule whose `who` matches the identity and that names the connection; a
// rule with `requires_request` counts only while `check_request` finds an approved request
// (never without a check). The error names the connection (and never says which rules
// exist, beyond that a request would grant it).
Result<Grant> select_grant(const config::Config& config, const identity::Identity& identity,
                           std::string_view connection_name,
                           const AccessRequestCheck& check_request = {});

}  // namespace portcullis::policy
