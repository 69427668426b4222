// The configuration model: an immutable snapshot of portcullis.yaml, shared by every session
// as std::shared_ptr<const Config>. A reload builds a new one and swaps the pointer.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/secret.h"

namespace portcullis::config {

using Duration = std::chrono::milliseconds;

struct Endpoint {
  std::string host;  // as written: an IPv4/IPv6 literal or a host name
  uint16_t port = 0;
  int line = 0;  // where it was written; 0 for a default
};

// The protocols a listener or a connection may name. Which of them this gateway can serve is
// not the model's business: the front ends built in decide (check_front_ends).
enum class ConnectionKind { postgres, mysql, ssh, kubernetes };

std::string_view to_string(ConnectionKind kind);

struct ListenConfig {
  // One listener per protocol front end, keyed by its name (to_string(ConnectionKind)).
  std::map<std::string, Endpoint, std::less<>> front_ends;
  std::optional<Endpoint> http;  // the REST API and /metrics

  const Endpoint* find(std::string_view protocol) const {
    auto it = front_ends.find(protocol);
    return it == front_ends.end() ? nullptr : &it->second;
  }
};

// Where plain TCP (no TLS) is accepted from clients.
enum class PlaintextPolicy {
  loopback,  // only on listeners bound to a loopback address (the default)
  allow,     // anywhere: for deployments behind a TLS-terminating load balancer
  never,     // TLS always
};

struct TlsConfig {
  std::filesystem::path cert_file;  // absolute after loading
  std::filesystem::path key_file;
  PlaintextPolicy plaintext = PlaintextPolicy::loopback;
};

// Limits on what one client may make the gateway hold or wait for.
struct LimitsConfig {
  // PostgreSQL's own limit on a startup packet (MAX_STARTUP_PACKET_LENGTH,
  // src/include/libpq/pqcomm.h).
  std::size_t max_startup_packet = 10000;
  // Largest message the gateway buffers whole to inspect it (Query, Parse, Bind, ...). Larger
  // pass-through messages (CopyData, DataRow) are streamed and never buffered whole.
  std::size_t max_message_size = 64u << 20;
  // Largest SQL text the gateway classifies. Parsing costs about a hundred times the text in
  // memory (the parse tree as JSON, then its walk) and ~0.5 ms per KiB: a bound on both, per
  // statement. Larger texts are refused with a clear error; the session goes on.
  std::size_t max_statement_size = 256u << 10;
  Duration handshake_timeout = std::chrono::seconds(15);
  Duration idle_timeout = Duration::zero();  // zero: no limit, as in PostgreSQL
  std::size_t max_connections = 10000;
  // Connections still in their handshake (accepted, not yet authenticated), in all and per
  // source address (IPv6: per /64). They cost their peer nothing but a socket: beyond these a
  // new connection is closed at once, so idle connections from one host cannot hold the
  // descriptors and slots that other clients' logins need. 256 in flight lets thousands of
  // logins a second through; 32 per address covers a pooler or an application server opening
  // its pool at start-up.
  std::size_t max_unauthenticated = 256;
  std::size_t max_unauthenticated_per_address = 32;
  // Memory all sessions together may hold for large messages (those over the relay buffer,
  // up to max_message_size each). Beyond it, the session that needs more ends with an
  // out_of_memory error instead of the host running out. Four messages of the default
  // max_message_size.
  std::size_t max_buffered_total = 256u << 20;
};

struct OidcIssuerConfig {
  std::string issuer;
  std::string audience;
  std::filesystem::path jwks_file;  // absolute after loading; empty when jwks_url is used
  std::string jwks_url;
  std::string groups_claim = "groups";
  std::string subject_claim = "sub";
  // The web console offers sign-in with this provider: the authorization-code flow with PKCE,
  // as the public OAuth client `audience`, whose ID token is then the console's bearer token.
  bool console = false;
  int line = 0;
};

// The gateway's SSH keys (`identity.ssh`). Both are created (mode 0600) on first use.
struct SshIdentityConfig {
  std::filesystem::path host_key_file;  // absolute after loading: what clients pin
  std::filesystem::path ca_key_file;    // absolute after loading: signs user certificates
  // Longest validity of a user certificate; a certificate never outlives the credential that
  // asked for it either.
  Duration max_certificate_ttl = std::chrono::hours(12);
};

struct IdentityConfig {
  std::filesystem::path signing_key_file;  // absolute after loading
  std::string issuer = "portcullis";       // `iss` of gateway tokens
  std::vector<OidcIssuerConfig> oidc;
  Duration leeway = std::chrono::seconds(60);  // clock skew allowed on exp / nbf / iat
  Duration default_token_ttl = std::chrono::hours(1);
  Duration max_token_ttl = std::chrono::hours(24 * 30);
  SshIdentityConfig ssh;
};

struct ApiConfig {
  std::vector<std::string> admin_groups;
  std::vector<std::string> auditor_groups;
  // Browser origins ("https://console.example.com") whose pages may call /mcp. A request
  // that carries any other Origin is refused (DNS-rebinding protection); requests without
  // one (agents, scripts) are not browsers' and are taken.
  std::vector<std::string> allowed_origins;
};

enum class BackendTlsMode { disable, prefer, require, verify_full };

struct CredentialProfile {
  std::string name;
  std::string user;
  std::string password_env;             // name of the variable the password was read from, if any
  Secret password;                      // resolved at load time; empty for trust authentication
  std::filesystem::path password_file;  // absolute; the file the password was read from, if any
  // ssh connections: the private key the gateway logs in to the target with (absolute).
  std::filesystem::path key_file;
  // kubernetes connections: a bearer token (from `token_env` or `token_file`), or a client
  // certificate and its key (absolute paths).
  Secret token;
  std::string token_env;
  std::filesystem::path token_file;
  std::filesystem::path client_cert_file;
  std::filesystem::path client_key_file;
  int line = 0;
};

// Where a database connection (postgres, mysql) goes.
struct DatabaseTarget {
  Endpoint address;
  std::string database;
  BackendTlsMode tls = BackendTlsMode::prefer;
  std::filesystem::path tls_ca_file;  // for verify-full; system roots when empty
};

// True for the kinds that reach a database server and so have a DatabaseTarget.
constexpr bool is_database(ConnectionKind kind) {
  return kind == ConnectionKind::postgres || kind == ConnectionKind::mysql;
}

// The target host's key, pinned: the gateway refuses a host that shows another.
struct SshHostKey {
  std::string line;                        // "ssh-ed25519 AAAA..." (no comment), or empty
  std::filesystem::path known_hosts_file;  // absolute; or this: OpenSSH's known_hosts format
};

// Where a kubernetes connection goes: the API server's HTTPS address (`address:
// https://HOST:PORT`), checked against `ca_file` (the system's roots when empty).
struct KubernetesTarget {
  std::filesystem::path ca_file;  // absolute
};

struct ConnectionConfig {
  std::string name;
  ConnectionKind kind = ConnectionKind::postgres;
  // Database kinds: address and database are required; ssh and kubernetes: the address (a
  // kubernetes address is written as an https:// URL and kept here as host and port).
  DatabaseTarget target;
  KubernetesTarget kubernetes;  // kubernetes only
  SshHostKey host_key;          // ssh only
  std::map<std::string, CredentialProfile> credentials;
  bool lockdown = false;
  int line = 0;
};

struct WhoConfig {
  std::vector<std::string> groups;
  std::vector<std::string> subjects;
  std::vector<std::string> kinds;  // "user", "service"; empty: any
};

struct ReviewersConfig {
  std::vector<std::string> groups;
  std::vector<std::string> subjects;
};

struct AccessRuleConfig {
  std::string name;
  WhoConfig who;
  std::vector<std::string> connections;
  std::string credentials = "default";
  std::vector<std::string> allow;  // statement classes, ssh and kubernetes classes
  // ssh, and kubernetes exec: when given, every simple command (after unwrapping) must match
  // one entry: a program name, optionally followed by its leading words ("systemctl status").
  std::vector<std::string> programs;
  // kubernetes: when given, the resources a request may name: "pods", "pods/log",
  // "deployments" (a subresource is listed on its own, except exec and attach, which `pods`
  // covers); empty: any resource the classes allow.
  std::vector<std::string> resources;
  std::string masking;  // profile name as written; empty or "none": no masking
  // Just-in-time access: the rule grants nothing until a request for it is approved, and then
  // only for the duration approved (at most `max_duration`).
  bool requires_request = false;
  ReviewersConfig reviewers;  // who may approve a request (requires_request only)
  std::size_t min_approvals = 1;
  Duration max_duration = std::chrono::hours(8);
  int line = 0;
};

// What a guardrail requires of the statement's WHERE clause (`when.where`).
enum class WhereCondition {
  any,      // not a condition
  absent,   // matches UPDATE / DELETE / ... without a WHERE clause
  present,  // matches only statements that have one
};

// The conditions of a guardrail; every list given must match (empty lists match anything).
struct GuardrailWhen {
  std::vector<std::string> statements;  // statement kinds: drop_table, delete, copy_program, ...
  std::vector<std::string> classes;     // statement classes: read, write, ddl, ...
  std::vector<std::string> functions;   // functions called, lower case
  std::vector<std::string> tables;      // objects touched
  WhereCondition where = WhereCondition::any;
  // A write (insert, update, delete, merge, or one nested in the statement) that the
  // planner estimates to touch more than this many rows; a write whose estimate cannot be
  // made matches too (fail closed). Unset: no condition on rows.
  std::optional<uint64_t> rows_over;
  std::vector<std::string> connections;  // connection names; empty: every connection
  WhoConfig who;                         // callers; all empty: every caller
  // ssh command lines (a guardrail with any of these applies to ssh commands only, and names
  // no SQL condition): programs run (entries as in access `programs`), paths (globs matched
  // against every argument and redirection target), options of a program.
  std::vector<std::string> programs;
  std::vector<std::string> paths;
  struct ProgramOptions {
    std::string program;
    std::vector<std::string> options;  // "-delete", "-exec", "--force", "-r"
  };
  std::vector<ProgramOptions> options;
  // kubernetes requests (a guardrail with any of these applies to kubernetes requests only):
  // verbs (get, list, delete, exec, ...), resources ("pods", "pods/log", "secrets"),
  // namespaces and object names (globs).
  std::vector<std::string> verbs;
  std::vector<std::string> resources;
  std::vector<std::string> namespaces;
  std::vector<std::string> names;

  bool names_ssh_conditions() const {
    return !programs.empty() || !paths.empty() || !options.empty();
  }
  bool names_sql_conditions() const {
    return !statements.empty() || !functions.empty() || !tables.empty() ||
           where != WhereCondition::any || rows_over.has_value();
  }
  bool names_kubernetes_conditions() const {
    return !verbs.empty() || !resources.empty() || !namespaces.empty() || !names.empty();
  }
};

enum class GuardrailAction { deny, review, allow };

struct GuardrailConfig {
  std::string name;
  GuardrailWhen when;
  GuardrailAction action = GuardrailAction::deny;
  std::string message;                        // shown to the caller; empty: none
  ReviewersConfig reviewers;                  // who may approve (action review only)
  Duration wait = std::chrono::seconds(120);  // how long a statement is held for review
  std::size_t min_approvals = 1;              // distinct reviewers who must approve
  int line = 0;
};

struct ColumnMaskConfig {
  std::string match;   // glob on table.column, e.g. "*.password*"
  std::string action;  // masking strategy, e.g. "redact"
  int line = 0;
};

// A detector defined in the configuration: a regex (Hyperscan syntax) or a list of words.
struct CustomDetectorConfig {
  std::string name;
  std::string regex;               // empty when `words` is given
  std::vector<std::string> words;  // matched as whole words, case-insensitively
  int line = 0;
};

struct MaskingProfileConfig {
  std::string name;
  std::vector<std::string> detectors;  // content detectors: email, credit_card, ...
  std::string strategy = "redact";     // default strategy: redact | partial | hash | null
  std::map<std::string, std::string> strategies;  // detector name -> strategy
  std::vector<ColumnMaskConfig> columns;
  std::vector<CustomDetectorConfig> custom;
  int line = 0;
};

struct MaskingConfig {
  // The profile `none` (no masking) is always valid in an access rule, defined or not.
  std::map<std::string, MaskingProfileConfig> profiles;
  // Key of the `hash` strategy: read from the variable `hash_key_env` or the file
  // `hash_key_file` at load time; empty when neither is given.
  std::string hash_key_env;
  std::filesystem::path hash_key_file;  // absolute after loading
  Secret hash_key;
};

enum class AuditDurability {
  strict,   // a command is forwarded only after its event is on disk
  batched,  // events are committed in groups without holding the command
};

// How much of each statement's (masked) result is kept in the journal.
struct RecordResultsConfig {
  std::size_t max_rows = 1000;
  std::size_t max_bytes = 1u << 20;
};

struct AuditExporterConfig {
  std::string kind;            // "jsonl"
  std::filesystem::path path;  // absolute after loading
  int line = 0;
};

struct AuditConfig {
  AuditDurability durability = AuditDurability::strict;
  RecordResultsConfig record_results;
  std::uint64_t checkpoint_every = 1000;  // a signed checkpoint every N events
  std::vector<AuditExporterConfig> exporters;
  // The segment files: by default `journal` beside the SQLite state file (var/journal with a
  // PostgreSQL state store).
  std::filesystem::path journal_dir;
  // Recordings of interactive SSH shells (asciicast v2, masked): by default `recordings` beside
  // the journal folder.
  std::filesystem::path recordings_dir;
  std::uint64_t segment_size = 64ull << 20;
};

// The approval workflow's timings.
struct ReviewsConfig {
  // An approved statement that timed out waiting may be run again, once, within this long of
  // its approval.
  Duration grant_lifetime = std::chrono::minutes(15);
  // A review nobody decides expires after this long.
  Duration pending_lifetime = std::chrono::hours(24);
};

enum class WebhookFormat {
  json,   // the generic payload (docs/reviews.md)
  slack,  // a Slack-compatible incoming-webhook payload ({"text": ...})
};

struct WebhookConfig {
  std::string name;  // for logs and metrics; the URL's host when not given
  std::string url;   // http:// or https://
  WebhookFormat format = WebhookFormat::json;
  Duration timeout = std::chrono::seconds(5);  // per attempt
  std::size_t max_attempts = 5;                // retried with exponential backoff
  int line = 0;
};

struct NotificationsConfig {
  std::vector<WebhookConfig> webhooks;
  // How reviewers reach the gateway's REST API, for the "how to approve" line of a message;
  // empty: derived from listen.http.
  std::string api_url;
};

struct Config {
  std::filesystem::path source_file;  // absolute path of the file this was read from
  ListenConfig listen;
  std::optional<TlsConfig> tls;
  LimitsConfig limits;
  std::string state_url;  // normalised: sqlite:///abs/path.db or postgresql://...
  // Names this gateway in every journal record and checkpoint, and among the instances that
  // share a PostgreSQL store (each appends its own chain). Default: the host name.
  std::string instance;
  IdentityConfig identity;
  ApiConfig api;
  std::vector<ConnectionConfig> connections;
  std::vector<AccessRuleConfig> access;
  std::vector<GuardrailConfig> guardrails;  // in the order written: the first match decides
  MaskingConfig masking;
  AuditConfig audit;
  ReviewsConfig reviews;
  NotificationsConfig notifications;

  const ConnectionConfig* find_connection(std::string_view name) const {
    for (const auto& c : connections)
      if (c.name == name) return &c;
    return nullptr;
  }

  // Null when `name` is not defined (`none` need not be: it means no masking).
  const MaskingProfileConfig* find_masking_profile(std::string_view name) const {
    auto it = masking.profiles.find(std::string(name));
    return it == masking.profiles.end() ? nullptr : &it->second;
  }
};

using ConfigPtr = std::shared_ptr<const Config>;

}  // namespace portcullis::config
