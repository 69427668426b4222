// The readers of the sections of portcullis.yaml, one file each (listen_section.cc, ...), and
// the parts that access rules and guardrails share. Internal to the loader.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/loader.h"
#include "config/reader.h"

namespace portcullis::config {

// Statement classes as the classifier names them (sql::StatementClass), for `allow` and
// `when.classes`.
inline constexpr std::array<std::string_view, 8> kStatementClasses{
    "read", "write", "ddl", "dcl", "admin", "transaction", "session", "unknown"};
// What an access rule may allow, or a guardrail match: statement classes, the classes of ssh
// commands and sessions, and of kubernetes requests (which add `secrets`).
inline constexpr std::array<std::string_view, 15> kCommandClasses{
    "read", "write", "ddl",  "dcl",     "admin", "transaction", "session", "unknown",
    "exec", "shell", "sftp", "forward", "agent", "file_write",  "secrets"};

// The verbs of kubernetes requests, for guardrails' `verbs`.
inline constexpr std::array<std::string_view, 12> kKubernetesVerbs{
    "get",  "list",   "watch",       "create", "update", "patch", "delete", "deletecollection",
    "exec", "attach", "portforward", "proxy"};
// A list of kubernetes resources ("pods", "pods/log", "deployments"): plural lower-case names,
// a subresource after one slash.
std::vector<std::string> read_kubernetes_resources(Reader& r, const Value& v);

// `listen` may be absent: a PostgreSQL listener on loopback is the default.
void read_listen(Reader& r, const Value* v, ListenConfig& listen);
// Plain TCP is accepted only on loopback listeners unless the tls section says otherwise.
void check_listeners(Reader& r, const Config& config, const Value* listen, const Value* tls);
std::optional<TlsConfig> read_tls(Reader& r, const Value& v);
void read_limits(Reader& r, const Value& v, LimitsConfig& limits);
void read_state(Reader& r, const Value* v, std::string& state_url);
// `instance`: this gateway's name; the host name when absent.
void read_instance(Reader& r, const Value* v, std::string& instance);
void read_identity(Reader& r, const Value* v, IdentityConfig& identity);
void read_api(Reader& r, const Value& v, ApiConfig& api);
void read_connections(Reader& r, const Value& v, std::vector<ConnectionConfig>& connections);
void read_masking(Reader& r, const Value& v, const MaskingVocabulary& vocabulary,
                  MaskingConfig& masking);

// Rule names share one namespace (access and guardrails): the journal's `rule` field must
// name one rule.
class RuleNames {
 public:
  bool claim(Reader& r, const std::string& name, int line, std::string_view path);

 private:
  std::map<std::string, int> lines_;
};

WhoConfig read_who(Reader& r, const Value& v);
ReviewersConfig read_reviewers(Reader& r, const Value& v);
// Reports a name that is not a connection of `config`.
const ConnectionConfig* check_connection_name(Reader& r, const Config& config, const Value& item,
                                              const std::string& name);

// Read after connections and masking, which the rules name.
void read_access(Reader& r, const Value& v, RuleNames& names, Config& config);
void read_guardrails(Reader& r, const Value& v, RuleNames& names, Config& config);
void read_audit(Reader& r, const Value& v, AuditConfig& audit);
// audit.journal_dir when the configuration names none: beside the SQLite state file; and
// audit.recordings_dir: beside the journal folder.
void default_journal_dir(Reader& r, std::string_view state_url, AuditConfig& audit);
void read_reviews(Reader& r, const Value& v, ReviewsConfig& reviews);
void read_notifications(Reader& r, const Value& v, NotificationsConfig& notifications);

}  // namespace portcullis::config
