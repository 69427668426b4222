// Issuing and reading the gateway's SSH user certificates.
#include "identity/ssh_certificate_authority.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>

#include "identity/ssh_certificate.h"
#include "identity/ssh_keys.h"

namespace portcullis::identity {
namespace {

namespace json = boost::json;
using Clock = std::chrono::system_clock;

constexpr std::size_t kNonceSize = 32;
// Certificates start a little in the past, as ssh-keygen's do, so that a target's clock a
// little behind does not refuse them.
constexpr std::chrono::seconds kClockSkew{60};

uint64_t seconds_of(Clock::time_point t) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  return s < 0 ? 0 : static_cast<uint64_t>(s);
}

Clock::time_point time_of(uint64_t seconds) {
  return Clock::time_point(std::chrono::seconds(static_cast<int64_t>(
      std::min<uint64_t>(seconds, static_cast<uint64_t>(INT64_MAX / 1'000'000'000)))));
}

std::string identity_json(const Identity& caller) {
  json::array groups;
  for (const auto& g : caller.groups) groups.emplace_back(g);
  return json::serialize(json::object{
      {"subject", caller.subject},
      {"kind", std::string(to_string(caller.kind))},
      {"groups", std::move(groups)},
      {"method", std::string(to_string(caller.method))},
      {"issuer", caller.issuer},
      {"token_id", caller.token_id},
      {"issued_at", seconds_of(caller.issued_at)},
  });
}

Result<Identity> identity_from_json(std::string_view text) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  auto string_of = [o](std::string_view key) -> const json::string* {
    const json::value* x = o ? o->if_contains(key) : nullptr;
    return x ? x->if_string() : nullptr;
  };
  const json::string* subject = string_of("subject");
  const json::string* kind = string_of("kind");
  const json::string* method = string_of("method");
  const json::string* issuer = string_of("issuer");
  const json::string* token_id = string_of("token_id");
  const json::value* groups = o ? o->if_contains("groups") : nullptr;
  const json::value* issued = o ? o->if_contains("issued_at") : nullptr;
  if (!subject || subject->empty() || !kind || !method || !issuer || !token_id || !groups ||
      !groups->is_array() || !issued || !issued->is_number())
    return Error{"the certificate's identity cannot be read"};
  const uint64_t issued_seconds = issued->to_number<uint64_t>(ec);
  if (ec) return Error{"the certificate's identity cannot be read"};
  Identity id;
  id.subject = std::string(*subject);
  id.kind = *kind == "service" ? SubjectKind::service : SubjectKind::user;
  for (const auto& g : groups->as_array()) {
    if (!g.is_string()) return Error{"the certificate's identity cannot be read"};
    id.groups.emplace_back(g.as_string());
  }
  if (*method == "oidc")
    id.method = AuthMethod::oidc;
  else if (*method == "api_key")
    id.method = AuthMethod::api_key;
  else
    id.method = AuthMethod::gateway_token;
  id.issuer = std::string(*issuer);
  id.token_id = std::string(*token_id);
  id.issued_at = time_of(issued_seconds);
  return id;
}

}  // namespace

SshCertificateAuthority::SshCertificateAuthority(SigningKey key) : key_(std::move(key)) {
  auto blob = ssh::ed25519_public_blob(key_.pkey());
  if (blob) public_blob_ = std::move(*blob);
}

Result<SshCertificateAuthority> SshCertificateAuthority::load(const std::filesystem::path& file) {
  auto key = load_signing_key(file, /*create_if_missing=*/true);
  if (!key) return key.error();
  return SshCertificateAuthority(std::move(*key));
}

std::string SshCertificateAuthority::public_key_line() const {
  return ssh::public_key_line({.type = std::string(ssh::kEd25519), .blob = public_blob_},
                              "portcullis-user-ca");
}

Result<IssuedSshCertificate> SshCertificateAuthority::issue(const Identity& caller,
                                                            std::string_view public_key_line,
                                                            Clock::time_point now,
                                                            std::chrono::seconds max_ttl) const {
  auto key = ssh::parse_public_key_line(public_key_line);
  if (!key) return key.error();
  if (key->type != ssh::kEd25519)
    return Error{"only ssh-ed25519 keys are certified (ssh-keygen -t ed25519)"};
  const Clock::time_point end = std::min(caller.expires_at, now + max_ttl);
  if (end <= now) return Error{"the credential has expired"};
  std::array<unsigned char, kNonceSize> nonce{};
  uint64_t serial = 0;
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1 ||
      RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial) != 1)
    return Error{"no random bytes for the certificate"};
  ssh::CertificateFields fields{
      .serial = serial,
      .key_id = caller.subject,
      .principals = {caller.subject},
      .valid_after = seconds_of(now - kClockSkew),
      .valid_before = seconds_of(end),
      .critical_options = {},
      .extensions = {{"permit-pty", ""},
                     {std::string(kSshIdentityExtension), identity_json(caller)}},
  };
  auto blob = ssh::sign_user_certificate(
      key->blob, fields, key_.pkey(),
      std::string_view(reinterpret_cast<const char*>(nonce.data()), nonce.size()));
  if (!blob) return blob.error();
  return IssuedSshCertificate{
      .certificate = ssh::public_key_line(
          {.type = std::string(ssh::kEd25519Certificate), .blob = std::move(*blob)},
          caller.subject),
      .key_id = fields.key_id,
      .serial = serial,
      .valid_after = time_of(fields.valid_after),
      .valid_before = time_of(fields.valid_before),
  };
}

Result<Identity> SshCertificateAuthority::identity_of(std::string_view certificate_blob,
                                                      Clock::time_point now) const {
  auto certificate = ssh::verify_user_certificate(certificate_blob, public_blob_, seconds_of(now));
  if (!certificate) return certificate.error();
  const std::string* carried = certificate->extension(kSshIdentityExtension);
  if (!carried) return Error{"the certificate carries no identity"};
  auto id = identity_from_json(*carried);
  if (!id) return id.error();
  if (id->subject != certificate->fields.key_id)
    return Error{"the certificate's identity and key id differ"};
  id->expires_at = time_of(certificate->fields.valid_before);
  // The certificate, not the credential that asked for it (whose `jti` or name the identity
  // inside still holds in token_id): the serial tells one certificate of a subject from another.
  id->credential =
      fmt::format("ssh_certificate {} {}", certificate->fields.serial, certificate->fields.key_id);
  return id;
}

}  // namespace portcullis::identity
