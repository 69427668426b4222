// `connections`: the backends callers reach through the gateway, each with its kind, where it
// is (database kinds), and the credential profiles the gateway logs in with.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <sstream>

#include "config/sections.h"

namespace portcullis::config {
namespace {

constexpr std::array<EnumName<ConnectionKind>, 4> kConnectionKinds{{
    {"postgres", ConnectionKind::postgres},
    {"mysql", ConnectionKind::mysql},
    {"ssh", ConnectionKind::ssh},
    {"kubernetes", ConnectionKind::kubernetes},
}};
constexpr std::array<EnumName<BackendTlsMode>, 4> kBackendTlsModes{{
    {"disable", BackendTlsMode::disable},
    {"prefer", BackendTlsMode::prefer},
    {"require", BackendTlsMode::require},
    {"verify-full", BackendTlsMode::verify_full},
}};

// ssh credentials: a user and the private key the gateway logs in with (the caller never
// sees it). Passwords are not taken: a key cannot be phished from a target's prompt.
CredentialProfile read_ssh_credential(Reader& r, const Value& v) {
  Fields f = r.fields(v, {"user", "key_file"});
  CredentialProfile profile;
  r.require_name(f, "user", profile.user);
  if (const Value* x = f.find("key_file")) {
    if (auto p = r.read_existing_file(*x)) {
      profile.key_file = *p;
      // As ssh itself: a private key others can read is no longer only the gateway's.
      std::error_code ec;
      const auto perms = std::filesystem::status(*p, ec).permissions();
      using std::filesystem::perms;
      if (!ec && (perms & (perms::group_all | perms::others_all)) != perms::none)
        r.problem(*x, fmt::format("{}: the private key file {} may be read by other users "
                                  "(mode {:o}); chmod 600 it",
                                  f.path(), p->string(), static_cast<unsigned>(perms) & 0777));
    }
  } else {
    r.problem(f.line(), fmt::format("{}: missing required key \"key_file\"", f.path()));
  }
  return profile;
}

// kubernetes credentials: a bearer token (from a variable or a file, as a kubeconfig's token)
// or a client certificate with its key. The caller never sees either.
CredentialProfile read_kubernetes_credential(Reader& r, const Value& v) {
  Fields f = r.fields(v, {"token_env", "token_file", "client_cert_file", "client_key_file"});
  CredentialProfile profile;
  const Value* env = f.find("token_env");
  const Value* file = f.find("token_file");
  const Value* cert = f.find("client_cert_file");
  const Value* key = f.find("client_key_file");
  const int given = (env != nullptr) + (file != nullptr) + (cert != nullptr || key != nullptr);
  if (given != 1) {
    r.problem(f.line(), fmt::format("{}: give one of token_env, token_file or client_cert_file "
                                    "with client_key_file",
                                    f.path()));
    return profile;
  }
  if (env != nullptr) {
    if (auto secret = r.read_env_secret(*env)) {
      profile.token_env = secret->name;
      if (secret->value) profile.token = std::move(*secret->value);
    }
  } else if (file != nullptr) {
    if (auto path = r.read_path(*file)) {
      profile.token_file = *path;
      if (auto token = r.read_secret_file(*file, *path)) profile.token = std::move(*token);
    }
  } else if (cert == nullptr || key == nullptr) {
    r.problem(f.line(),
              fmt::format("{}: client_cert_file and client_key_file go together", f.path()));
  } else {
    if (auto p = r.read_existing_file(*cert)) profile.client_cert_file = *p;
    if (auto p = r.read_existing_file(*key)) profile.client_key_file = *p;
  }
  return profile;
}

CredentialProfile read_credential(Reader& r, const Value& v, ConnectionKind kind) {
  if (kind == ConnectionKind::ssh) return read_ssh_credential(r, v);
  if (kind == ConnectionKind::kubernetes) return read_kubernetes_credential(r, v);
  Fields f = r.fields(v, {"user", "password_env", "password_file"});
  CredentialProfile profile;
  r.require_name(f, "user", profile.user);
  const Value* env = f.find("password_env");
  const Value* file = f.find("password_file");
  if (env != nullptr && file != nullptr) {
    r.problem(*file, fmt::format("{}: give password_env or password_file, not both", f.path()));
    return profile;
  }
  if (env != nullptr) {
    auto secret = r.read_env_secret(*env);
    if (!secret) return profile;
    profile.password_env = secret->name;
    if (secret->value) profile.password = std::move(*secret->value);
  } else if (file != nullptr) {
    auto path = r.read_path(*file);
    if (!path) return profile;
    profile.password_file = *path;
    if (auto password = r.read_secret_file(*file, *path)) profile.password = std::move(*password);
  }
  return profile;
}

void read_credentials(Reader& r, const Value& v, ConnectionKind kind,
                      std::map<std::string, CredentialProfile>& profiles) {
  if (v.node.IsNull()) return;
  if (!v.node.IsMap()) {
    r.problem(v, fmt::format("{}: expected a map of credential profiles, got {}", v.path,
                             kind_of(v.node)));
    return;
  }
  for (const auto& entry : v.node) {
    const YAML::Node key = entry.first;
    const YAML::Node value = entry.second;
    const int key_line = line_of(key) > 0 ? line_of(key) : v.line;
    if (!key.IsScalar() || key.Scalar().empty()) {
      r.problem(key_line, fmt::format("{}: profile names must be plain names", v.path));
      continue;
    }
    const std::string name = key.Scalar();
    if (profiles.contains(name)) {
      r.problem(key_line, fmt::format("duplicate credential profile \"{}\" in {}", name, v.path));
      continue;
    }
    const int value_line = line_of(value) > 0 ? line_of(value) : key_line;
    CredentialProfile profile =
        read_credential(r, Value{value, value_line, fmt::format("{}.{}", v.path, name)}, kind);
    profile.name = name;
    profile.line = key_line;
    profiles.emplace(name, std::move(profile));
  }
}

// address, database, tls and tls_ca_file: where a database kind connects.
void read_database_target(Reader& r, const Fields& f, DatabaseTarget& target) {
  if (const Value* x = f.find("address")) {
    if (auto e = r.read_endpoint(*x, false)) target.address = *e;
  } else {
    r.problem(f.line(), fmt::format("{}: missing required key \"address\"", f.path()));
  }
  r.require_name(f, "database", target.database);
  if (const Value* x = f.find("tls")) {
    if (auto mode = r.read_enum(*x, kBackendTlsModes)) target.tls = *mode;
  }
  if (const Value* x = f.find("tls_ca_file")) {
    if (auto p = r.read_existing_file(*x)) target.tls_ca_file = *p;
  }
}

// "TYPE BASE64" of a host key as ssh-keyscan or a .pub file prints it (a comment is dropped).
// Its blob is compared byte for byte with the key the target shows.
std::optional<std::string> read_host_key_line(Reader& r, const Value& v) {
  auto text = r.read_name(v);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string type, encoded;
  in >> type >> encoded;
  static constexpr std::array<std::string_view, 6> kHostKeyTypes{
      "ssh-ed25519", "ecdsa-sha2-nistp256",       "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
      "ssh-rsa",     "sk-ssh-ed25519@openssh.com"};
  const bool known =
      std::find(kHostKeyTypes.begin(), kHostKeyTypes.end(), type) != kHostKeyTypes.end();
  const bool base64 = !encoded.empty() && encoded.size() % 4 == 0 &&
                      encoded.find_first_not_of(
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                          "0123456789+/=") == std::string::npos;
  if (!known || !base64) {
    r.problem(v,
              fmt::format("{}: expected a host key as \"TYPE BASE64\" (ssh-keyscan -t "
                          "ed25519 HOST prints one), with TYPE one of ssh-ed25519, ecdsa-sha2-*, "
                          "ssh-rsa",
                          v.path));
    return std::nullopt;
  }
  return type + ' ' + encoded;
}

void read_ssh_target(Reader& r, const Fields& f, ConnectionConfig& c) {
  if (const Value* x = f.find("address")) {
    if (auto e = r.read_endpoint(*x, false)) c.target.address = *e;
  } else {
    r.problem(f.line(), fmt::format("{}: missing required key \"address\"", f.path()));
  }
  const Value* line = f.find("host_key");
  const Value* file = f.find("known_hosts_file");
  if (line != nullptr && file != nullptr) {
    r.problem(*file, fmt::format("{}: give host_key or known_hosts_file, not both", f.path()));
  } else if (line != nullptr) {
    if (auto key = read_host_key_line(r, *line)) c.host_key.line = std::move(*key);
  } else if (file != nullptr) {
    if (auto p = r.read_existing_file(*file)) c.host_key.known_hosts_file = *p;
  } else {
    // Without a pinned key the first host to answer at the address would be trusted.
    r.problem(f.line(), fmt::format("{}: an ssh connection needs \"host_key\" or "
                                    "\"known_hosts_file\" (the target's key, pinned)",
                                    f.path()));
  }
}

// address (https://HOST:PORT, the port 443 when not given) and ca_file: where a kubernetes
// connection goes and how its certificate is checked.
void read_kubernetes_target(Reader& r, const Fields& f, ConnectionConfig& c) {
  const Value* x = f.find("address");
  if (x == nullptr) {
    r.problem(f.line(), fmt::format("{}: missing required key \"address\"", f.path()));
  } else if (auto url = r.read_string(*x)) {
    constexpr std::string_view kScheme = "https://";
    std::string_view rest(*url);
    if (!rest.starts_with(kScheme)) {
      r.problem(*x, fmt::format("{}: a kubernetes address is an https:// URL "
                                "(https://HOST:PORT), got {:?}",
                                x->path, *url));
    } else {
      rest.remove_prefix(kScheme.size());
      while (rest.ends_with('/')) rest.remove_suffix(1);
      if (rest.find('/') != std::string_view::npos) {
        r.problem(*x, fmt::format("{}: a kubernetes address has no path, got {:?}", x->path, *url));
      } else {
        // HOST:PORT as any other endpoint is written; HOST alone means port 443.
        const bool has_port = rest.starts_with('[') ? rest.find("]:") != std::string_view::npos
                                                    : rest.find(':') != std::string_view::npos;
        YAML::Node written(has_port ? std::string(rest) : fmt::format("{}:443", rest));
        if (auto e = r.read_endpoint(Value{written, x->line, x->path}, false))
          c.target.address = *e;
      }
    }
  }
  if (const Value* ca = f.find("ca_file")) {
    if (auto p = r.read_existing_file(*ca)) c.kubernetes.ca_file = *p;
  }
}

ConnectionConfig read_connection(Reader& r, const Value& v) {
  Fields f = r.fields(v, {"name", "kind", "address", "database", "tls", "tls_ca_file", "host_key",
                          "known_hosts_file", "ca_file", "credentials", "lockdown"});
  ConnectionConfig c;
  c.line = f.line();
  r.require_name(f, "name", c.name);
  if (const Value* x = f.find("kind")) {
    if (auto kind = r.read_enum(*x, kConnectionKinds)) c.kind = *kind;
  }
  if (is_database(c.kind)) {
    read_database_target(r, f, c.target);
  } else if (c.kind == ConnectionKind::ssh) {
    read_ssh_target(r, f, c);
  } else {
    read_kubernetes_target(r, f, c);
  }
  if (c.kind != ConnectionKind::kubernetes) {
    if (const Value* x = f.find("ca_file"))
      r.problem(*x, fmt::format("{}: ca_file is only used with kind kubernetes", f.path()));
  }
  if (!is_database(c.kind)) {
    for (std::string_view key : {"database", "tls", "tls_ca_file"}) {
      if (const Value* x = f.find(key)) {
        r.problem(*x,
                  fmt::format("{}: {} is only used with kind postgres or mysql", f.path(), key));
      }
    }
  }
  if (c.kind != ConnectionKind::ssh) {
    for (std::string_view key : {"host_key", "known_hosts_file"}) {
      if (const Value* x = f.find(key))
        r.problem(*x, fmt::format("{}: {} is only used with kind ssh", f.path(), key));
    }
  }
  if (const Value* x = f.find("lockdown")) {
    if (auto b = r.read_bool(*x)) c.lockdown = *b;
  }
  if (const Value* x = f.find("credentials")) read_credentials(r, *x, c.kind, c.credentials);
  return c;
}

}  // namespace

void read_connections(Reader& r, const Value& v, std::vector<ConnectionConfig>& connections) {
  r.for_each_item(v, [&](const Value& item) {
    ConnectionConfig c = read_connection(r, item);
    if (c.name.empty()) return;
    for (const auto& other : connections) {
      if (other.name == c.name) {
        r.problem(item, fmt::format("{}: connection name \"{}\" is already used at line {}",
                                    item.path, c.name, other.line));
        return;
      }
    }
    connections.push_back(std::move(c));
  });
}

}  // namespace portcullis::config
