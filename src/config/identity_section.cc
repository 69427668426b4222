// `identity`: the key gateway tokens are signed with, their lifetimes, and the OIDC issuers
// whose tokens are accepted.
#include <fmt/format.h>

#include "config/sections.h"
#include "config/units.h"

namespace portcullis::config {
namespace {

constexpr std::string_view kDefaultSigningKeyFile = "var/signing.key";
constexpr std::string_view kDefaultSshHostKeyFile = "var/ssh_host_ed25519";
constexpr std::string_view kDefaultSshCaKeyFile = "var/ssh_user_ca";

std::optional<OidcIssuerConfig> read_oidc(Reader& r, const Value& v) {
  Fields f = r.fields(v, {"issuer", "audience", "jwks_file", "jwks_url", "groups_claim",
                          "subject_claim", "console"});
  OidcIssuerConfig oidc;
  oidc.line = f.line();
  bool ok = r.require_name(f, "issuer", oidc.issuer);
  ok = r.require_name(f, "audience", oidc.audience) && ok;
  const Value* file = f.find("jwks_file");
  const Value* url = f.find("jwks_url");
  if (file != nullptr && url != nullptr) {
    r.problem(*url, fmt::format("{}: give jwks_file or jwks_url, not both", f.path()));
    ok = false;
  } else if (file == nullptr && url == nullptr) {
    r.problem(f.line(),
              fmt::format("{}: missing required key \"jwks_file\" or \"jwks_url\"", f.path()));
    ok = false;
  } else if (file != nullptr) {
    if (auto p = r.read_existing_file(*file))
      oidc.jwks_file = *p;
    else
      ok = false;
  } else if (auto s = r.read_name(*url)) {
    if (!s->starts_with("https://") && !s->starts_with("http://")) {
      r.problem(*url, fmt::format("{}: expected an https:// URL", url->path));
      ok = false;
    }
    oidc.jwks_url = *s;
  } else {
    ok = false;
  }
  if (const Value* x = f.find("groups_claim")) {
    if (auto s = r.read_name(*x)) oidc.groups_claim = *s;
  }
  if (const Value* x = f.find("subject_claim")) {
    if (auto s = r.read_name(*x)) oidc.subject_claim = *s;
  }
  if (const Value* x = f.find("console")) {
    if (auto b = r.read_bool(*x))
      oidc.console = *b;
    else
      ok = false;
  }
  if (!ok) return std::nullopt;
  return oidc;
}

void read_ssh(Reader& r, const Value& v, SshIdentityConfig& ssh) {
  Fields f = r.fields(v, {"host_key_file", "ca_key_file", "max_certificate_ttl"});
  // Both keys are created on first use, so they need not exist yet.
  if (const Value* x = f.find("host_key_file")) {
    if (auto p = r.read_path(*x)) ssh.host_key_file = *p;
  }
  if (const Value* x = f.find("ca_key_file")) {
    if (auto p = r.read_path(*x)) ssh.ca_key_file = *p;
  }
  if (const Value* x = f.find("max_certificate_ttl")) {
    if (auto d = r.read_duration(*x, false)) ssh.max_certificate_ttl = *d;
  }
}

}  // namespace

void read_identity(Reader& r, const Value* v, IdentityConfig& identity) {
  identity.signing_key_file = r.resolve(std::string(kDefaultSigningKeyFile));
  identity.ssh.host_key_file = r.resolve(std::string(kDefaultSshHostKeyFile));
  identity.ssh.ca_key_file = r.resolve(std::string(kDefaultSshCaKeyFile));
  if (v == nullptr) return;
  Fields f = r.fields(*v, {"signing_key_file", "issuer", "oidc", "leeway", "default_token_ttl",
                           "max_token_ttl", "ssh"});
  // The key is created on first start, so it need not exist yet.
  if (const Value* x = f.find("signing_key_file")) {
    if (auto p = r.read_path(*x)) identity.signing_key_file = *p;
  }
  if (const Value* x = f.find("issuer")) {
    if (auto s = r.read_name(*x)) identity.issuer = *s;
  }
  if (const Value* x = f.find("leeway")) {
    if (auto d = r.read_duration(*x, true)) identity.leeway = *d;
  }
  const Value* default_ttl = f.find("default_token_ttl");
  if (default_ttl != nullptr) {
    if (auto d = r.read_duration(*default_ttl, false)) identity.default_token_ttl = *d;
  }
  if (const Value* x = f.find("max_token_ttl")) {
    if (auto d = r.read_duration(*x, false)) identity.max_token_ttl = *d;
  }
  if (identity.default_token_ttl > identity.max_token_ttl) {
    r.problem(default_ttl ? default_ttl->line : f.line(),
              fmt::format("identity.default_token_ttl ({}) is longer than "
                          "identity.max_token_ttl ({})",
                          format_duration(identity.default_token_ttl),
                          format_duration(identity.max_token_ttl)));
  }
  if (const Value* x = f.find("ssh")) read_ssh(r, *x, identity.ssh);
  if (const Value* x = f.find("oidc")) {
    r.for_each_item(*x, [&](const Value& item) {
      if (auto issuer = read_oidc(r, item)) identity.oidc.push_back(std::move(*issuer));
    });
  }
}

}  // namespace portcullis::config
