// What a caller may do through the API, from its groups and the configuration's `api` section:
// admin groups may do everything, auditor groups may read the journal.
#pragma once

#include "config/config.h"
#include "identity/identity.h"

namespace portcullis::api {

struct Roles {
  bool admin = false;
  bool auditor = false;

  bool may_read_journal() const { return admin || auditor; }
};

Roles roles_of(const identity::Identity& caller, const config::ApiConfig& api);

}  // namespace portcullis::api
