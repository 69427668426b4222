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
#include <vector>

#include "common/secret.h"

namespace portcullis::policy {

using Duration = std::chrono::milliseconds;

struct Endpoint {
  std::string host;  // as written: an IPv4/IPv6 literal or a host name
  uint16_t port = 0;
};

struct ListenConfig {
  std::optional<Endpoint> postgres;
  std::optional<Endpoint> http;
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
  // PostgreSQL's own limit on a startup packet (MAX_STARTUP_PACKET_LENGTH, src/include/libpq/pqcomm.h).
  std::size_t max_startup_packet = 10000;
  // Largest message the gateway buffers whole to inspect it (Query, Parse, Bind, ...). Larger
  // pass-through messages (CopyData, DataRow) are streamed and never buffered whole.
  std::size_t max_message_size = 64u << 20;
  Duration handshake_timeout = std::chrono::seconds(15);
  Duration idle_timeout = Duration::zero();  // zero: no limit, as in PostgreSQL
  std::size_t max_connections = 10000;
};

struct OidcIssuerConfig {
  std::string issuer;
  std::string audience;
  std::filesystem::path jwks_file;  // absolute after loading; empty when jwks_url is used
  std::string jwks_url;
  std::string groups_claim = "groups";
  std::string subject_claim = "sub";
  int line = 0;
};

struct IdentityConfig {
  std::filesystem::path signing_key_file;  // absolute after loading
  std::string issuer = "portcullis";       // `iss` of gateway tokens
  std::vector<OidcIssuerConfig> oidc;
  Duration leeway = std::chrono::seconds(60);  // clock skew allowed on exp / nbf / iat
  Duration default_token_ttl = std::chrono::hours(1);
  Duration max_token_ttl = std::chrono::hours(24 * 30);
};

struct ApiConfig {
  std::vector<std::string> admin_groups;
  std::vector<std::string> auditor_groups;
};

enum class BackendTlsMode { disable, prefer, require, verify_full };

struct CredentialProfile {
  std::string name;
  std::string user;
  std::string password_env;  // name of the variable the password was read from, if any
  Secret password;           // resolved at load time; empty for trust authentication
};

struct ConnectionConfig {
  std::string name;
  std::string kind;  // "postgres"
  Endpoint address;
  std::string database;
  BackendTlsMode tls = BackendTlsMode::prefer;
  std::filesystem::path tls_ca_file;  // for verify-full; system roots when empty
  std::map<std::string, CredentialProfile> credentials;
  bool lockdown = false;
  int line = 0;
};

struct WhoConfig {
  std::vector<std::string> groups;
  std::vector<std::string> subjects;
  std::vector<std::string> kinds;  // "user", "service"; empty: any
};

struct AccessRuleConfig {
  std::string name;
  WhoConfig who;
  std::vector<std::string> connections;
  std::string credentials = "default";
  std::vector<std::string> allow;  // statement classes
  std::string masking;             // profile name; empty: none
  int line = 0;
};

struct Config {
  std::filesystem::path source_file;  // absolute path of the file this was read from
  ListenConfig listen;
  std::optional<TlsConfig> tls;
  LimitsConfig limits;
  std::string state_url;  // normalised: sqlite:///abs/path.db or postgresql://...
  IdentityConfig identity;
  ApiConfig api;
  std::vector<ConnectionConfig> connections;
  std::vector<AccessRuleConfig> access;

  const ConnectionConfig* find_connection(std::string_view name) const {
    for (const auto& c : connections)
      if (c.name == name) return &c;
    return nullptr;
  }
};

using ConfigPtr = std::shared_ptr<const Config>;

}  // namespace portcullis::policy
