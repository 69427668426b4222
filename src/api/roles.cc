// Group membership to API roles.
#include "api/roles.h"

#include <algorithm>

namespace portcullis::api {
namespace {

bool in_any(const std::vector<std::string>& groups, const std::vector<std::string>& wanted) {
  return std::any_of(groups.begin(), groups.end(), [&](const std::string& group) {
    return std::find(wanted.begin(), wanted.end(), group) != wanted.end();
  });
}

}  // namespace

Roles roles_of(const identity::Identity& caller, const config::ApiConfig& api) {
  Roles roles;
  roles.admin = in_any(caller.groups, api.admin_groups);
  roles.auditor = in_any(caller.groups, api.auditor_groups);
  return roles;
}

}  // namespace portcullis::api
