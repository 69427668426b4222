// Grant selection: the first matching access rule wins, as INTERFACE.md orders it.
#include "policy/access.h"

#include <fmt/format.h>

#include <algorithm>

#include "policy/name_list.h"

namespace portcullis::policy {

bool who_matches(const config::WhoConfig& who, const identity::Identity& identity) {
  if (!who.subjects.empty() && !contains(who.subjects, identity.subject)) return false;
  if (!who.kinds.empty() && !contains(who.kinds, std::string(identity::to_string(identity.kind))))
    return false;
  if (!who.groups.empty()) {
    const bool any = std::any_of(identity.groups.begin(), identity.groups.end(),
                                 [&](const std::string& g) { return contains(who.groups, g); });
    if (!any) return false;
  }
  return true;
}

bool is_read_only(const Grant& grant) {
  for (const auto& c : grant.allow)
    if (c == "write" || c == "ddl" || c == "dcl" || c == "admin" || c == "unknown") return false;
  return true;
}

Result<Grant> select_grant(const config::Config& config, const identity::Identity& identity,
                           std::string_view connection_name,
                           const AccessRequestCheck& check_request) {
  const config::ConnectionConfig* connection = config.find_connection(connection_name);
  if (connection == nullptr)
    return make_error(fmt::format("unknown connection \"{}\"", connection_name));
  bool request_needed = false;
  for (const auto& rule : config.access) {
    if (!contains(rule.connections, connection_name) || !who_matches(rule.who, identity)) continue;
    std::optional<std::chrono::system_clock::time_point> expires_at;
    if (rule.requires_request) {
      if (!check_request) {
        request_needed = true;
        continue;
      }
      auto granted = check_request(rule);
      if (!granted) return granted.error();
      if (!*granted) {
        request_needed = true;
        continue;
      }
      expires_at = *granted;
    }
    const auto profile = connection->credentials.find(rule.credentials);
    if (profile == connection->credentials.end())
      // The loader rejects such a configuration; kept as a refusal rather than a crash.
      return make_error(
          fmt::format("access rule \"{}\" names credentials \"{}\" that connection "
                      "\"{}\" does not have",
                      rule.name, rule.credentials, connection_name));
    return Grant{.rule = rule.name,
                 .connection = connection,
                 .credentials = &profile->second,
                 .allow = rule.allow,
                 .programs = rule.programs,
                 .resources = rule.resources,
                 .masking = rule.masking,
                 .expires_at = expires_at};
  }
  if (request_needed)
    return make_error(
        fmt::format("the connection \"{}\" needs an approved access request (POST "
                    "/api/v1/access-requests); none is approved and current for \"{}\"",
                    connection_name, identity.subject));
  return make_error(fmt::format("no access rule grants \"{}\" the connection \"{}\"",
                                identity.subject, connection_name));
}

}  // namespace portcullis::policy
