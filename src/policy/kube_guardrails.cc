// Matching guardrail conditions against Kubernetes requests.
#include <algorithm>
#include <string>
#include <vector>

#include "policy/access.h"
#include "policy/guardrails.h"
#include "shell/glob_match.h"

namespace portcullis::policy {
namespace {

bool listed(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool any_glob_matches(const std::vector<std::string>& globs, std::string_view value) {
  return std::any_of(globs.begin(), globs.end(),
                     [&](const std::string& glob) { return shell::glob_match(glob, value); });
}

}  // namespace

bool guardrail_matches(const config::GuardrailWhen& when, const KubeCommand& request,
                       const shell::SimpleCommand* simple, std::string_view connection,
                       const identity::Identity& identity) {
  if (when.names_sql_conditions()) return false;
  if (!when.connections.empty() && !listed(when.connections, connection)) return false;
  if (!who_matches(when.who, identity)) return false;
  if (!when.verbs.empty() && !listed(when.verbs, request.verb)) return false;
  if (!when.resources.empty() && !listed(when.resources, request.resource) &&
      !listed(when.resources, request.resource_key()))
    return false;
  if (!when.namespaces.empty() && !any_glob_matches(when.namespaces, request.namespace_name))
    return false;
  // A request on the whole collection (a list, a watch, a create, a deletecollection) can
  // return or change objects of any name: it matches, unless narrowed to one name.
  if (!when.names.empty() && !request.name.empty() && !any_glob_matches(when.names, request.name))
    return false;
  if (!when.classes.empty() &&
      std::none_of(when.classes.begin(), when.classes.end(),
                   [&](const std::string& name) { return request.needs(name); }))
    return false;
  if (when.names_ssh_conditions())
    return request.exec != nullptr && shell_conditions_match(when, *request.exec, simple);
  return true;
}

}  // namespace portcullis::policy
