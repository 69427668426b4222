// Registering SSH public keys to subjects and finding who a registered key logs in as.
#include "identity/registered_ssh_keys.h"

#include <fmt/format.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

#include <array>
#include <memory>
#include <stdexcept>

#include "identity/openssl_ptr.h"
#include "identity/ssh_keys.h"
#include "identity/ssh_wire.h"
#include "identity/subject.h"

namespace portcullis::identity {
namespace {

// A comment is a label for people (`user@host`); anything longer is not one.
constexpr std::size_t kMaxCommentLength = 1024;
// Subjects are names in logs and the journal, as long as a DNS name at most.
constexpr std::size_t kMaxSubjectLength = 255;
// Ids are "k-" and 12 letters from an alphabet of 32: 60 bits, and no l/o/0/1 to misread.
constexpr std::string_view kIdAlphabet = "abcdefghijkmnpqrstuvwxyz23456789";
constexpr std::size_t kIdLetters = 12;

constexpr std::string_view kCertificateSuffix = "-cert-v01@openssh.com";

using EcGroupPtr = std::unique_ptr<EC_GROUP, OpensslDeleter<EC_GROUP_free>>;
using EcPointPtr = std::unique_ptr<EC_POINT, OpensslDeleter<EC_POINT_free>>;

struct EcdsaCurve {
  std::string_view key_type;
  std::string_view curve;  // the name inside the blob (RFC 5656 section 6.1)
  int nid;
};
constexpr std::array kEcdsaCurves{
    EcdsaCurve{"ecdsa-sha2-nistp256", "nistp256", NID_X9_62_prime256v1},
    EcdsaCurve{"ecdsa-sha2-nistp384", "nistp384", NID_secp384r1},
    EcdsaCurve{"ecdsa-sha2-nistp521", "nistp521", NID_secp521r1},
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// What follows TYPE and BASE64 on the line.
std::string_view comment_of(std::string_view line) {
  line = trim(line);
  for (int field = 0; field < 2; ++field) {
    const std::size_t space = line.find_first_of(" \t");
    if (space == std::string_view::npos) return {};
    line = trim(line.substr(space));
  }
  return line;
}

// RFC 4251 section 5: a positive mpint has no needless leading zero byte and its top bit clear
// (a zero byte is prepended when it would be set). Returns its bit length, or 0 when invalid.
int positive_mpint_bits(std::string_view mpint) {
  if (mpint.empty()) return 0;
  const auto first = static_cast<unsigned char>(mpint[0]);
  if (first & 0x80) return 0;  // negative
  if (first == 0) {
    if (mpint.size() < 2 || !(static_cast<unsigned char>(mpint[1]) & 0x80)) return 0;
    mpint.remove_prefix(1);
  }
  int top = 0;
  for (unsigned v = static_cast<unsigned char>(mpint[0]); v != 0; v >>= 1) ++top;
  return static_cast<int>((mpint.size() - 1) * 8) + top;
}

Result<void> check_rsa(ssh::WireReader& reader) {
  const std::string_view e = reader.string();
  const std::string_view n = reader.string();
  if (!reader.ok() || !reader.at_end()) return make_error("the ssh-rsa key cannot be read");
  const int e_bits = positive_mpint_bits(e);
  // The public exponent is odd and at least 3.
  if (e_bits < 2 || !(static_cast<unsigned char>(e.back()) & 1))
    return make_error("the ssh-rsa key's exponent is not valid");
  const int bits = positive_mpint_bits(n);
  if (bits == 0 || !(static_cast<unsigned char>(n.back()) & 1))
    return make_error("the ssh-rsa key's modulus is not valid");
  if (bits < kMinRsaKeyBits)
    return make_error(
        fmt::format("the ssh-rsa key has {} bits; at least {} are needed", bits, kMinRsaKeyBits));
  if (bits > kMaxRsaKeyBits)
    return make_error(
        fmt::format("the ssh-rsa key has {} bits; at most {} are accepted", bits, kMaxRsaKeyBits));
  return {};
}

Result<void> check_ecdsa(const EcdsaCurve& curve, ssh::WireReader& reader) {
  const std::string_view name = reader.string();
  const std::string_view point = reader.string();
  if (!reader.ok() || !reader.at_end() || name != curve.curve)
    return make_error(fmt::format("the {} key cannot be read", curve.key_type));
  EcGroupPtr group(EC_GROUP_new_by_curve_name(curve.nid));
  if (!group) return make_error(fmt::format("{} keys are not available", curve.key_type));
  EcPointPtr decoded(EC_POINT_new(group.get()));
  // oct2point refuses a point that is not on the curve; SSH sends it uncompressed (0x04).
  if (!decoded || point.empty() || point[0] != 0x04 ||
      EC_POINT_oct2point(group.get(), decoded.get(),
                         reinterpret_cast<const unsigned char*>(point.data()), point.size(),
                         nullptr) != 1 ||
      EC_POINT_is_at_infinity(group.get(), decoded.get()))
    return make_error(fmt::format("the {} key is not a point on its curve", curve.key_type));
  return {};
}

std::string new_ssh_key_id() {
  std::array<unsigned char, kIdLetters> bytes{};
  if (RAND_bytes(bytes.data(), bytes.size()) != 1) throw std::runtime_error("RAND_bytes failed");
  std::string id = "k-";
  for (const unsigned char b : bytes) id += kIdAlphabet[b & 31];
  return id;
}

}  // namespace

Result<void> check_registrable_ssh_key_blob(std::string_view blob) {
  ssh::WireReader reader(blob);
  const std::string_view type = reader.string();
  if (!reader.ok()) return make_error("the SSH public key cannot be read");
  if (type.ends_with(kCertificateSuffix))
    return make_error(
        "a certificate is not a plain key: register the key it certifies, or log in with the "
        "certificate");
  if (type.starts_with("sk-")) return make_error("security keys (sk-...) cannot be registered");
  if (type == ssh::kEd25519) {
    const std::string_view raw = reader.string();
    if (!reader.ok() || !reader.at_end() || raw.size() != ssh::kEd25519KeySize ||
        !ssh::ed25519_key_from_blob(blob))
      return make_error("the ssh-ed25519 key cannot be read");
    return {};
  }
  if (type == "ssh-rsa") return check_rsa(reader);
  for (const auto& curve : kEcdsaCurves)
    if (type == curve.key_type) return check_ecdsa(curve, reader);
  return make_error(
      "only ssh-ed25519, ecdsa-sha2-nistp256/384/521 and ssh-rsa keys can be registered");
}

Result<RegistrableSshKey> read_registrable_ssh_key(std::string_view line) {
  auto key = ssh::parse_public_key_line(line);
  if (!key) return key.error();
  if (auto valid = check_registrable_ssh_key_blob(key->blob); !valid) return valid.error();
  const std::string_view comment = comment_of(line);
  if (comment.size() > kMaxCommentLength)
    return make_error(
        fmt::format("the key's comment is longer than {} characters", kMaxCommentLength));
  if (auto valid = validate_subject(comment, "key comment"); !valid) return valid.error();
  RegistrableSshKey out;
  out.line = ssh::public_key_line(*key, comment);
  out.fingerprint = ssh::fingerprint(key->blob);
  out.key = std::move(*key);
  return out;
}

Result<store::SshKeyRecord> register_ssh_key(store::StateStore& store,
                                             const SshKeyRegistration& registration,
                                             TimePoint now) {
  if (registration.subject.empty()) return make_error("invalid", "the subject is empty");
  if (registration.subject.size() > kMaxSubjectLength)
    return make_error("invalid",
                      fmt::format("the subject is longer than {} characters", kMaxSubjectLength));
  if (auto valid = validate_subject(registration.subject, "subject"); !valid)
    return make_error("invalid", valid.error().message);
  for (const auto& group : registration.groups) {
    if (group.empty()) return make_error("invalid", "a group name is empty");
    if (auto valid = validate_subject(group, "group name"); !valid)
      return make_error("invalid", valid.error().message);
  }
  if (registration.expires_at && *registration.expires_at <= now)
    return make_error("invalid", "the key would expire before it is registered");
  auto key = read_registrable_ssh_key(registration.public_key);
  if (!key) return make_error("invalid", key.error().message);

  // The unique index refuses a second registration too; asking first names the one in force.
  auto existing = store.find_ssh_key(key->fingerprint);
  if (!existing) return existing.error();
  if (*existing)
    return make_error("conflict", fmt::format("the key {} is registered already (id {}, subject "
                                              "{}); remove it first",
                                              key->fingerprint, (*existing)->id,
                                              quote_untrusted((*existing)->subject)));

  store::SshKeyRecord record;
  record.id = new_ssh_key_id();
  record.subject = registration.subject;
  record.groups = registration.groups;
  record.public_key = std::move(key->line);
  record.fingerprint = std::move(key->fingerprint);
  record.created_at = now;
  record.created_by = registration.created_by;
  record.expires_at = registration.expires_at;
  if (auto inserted = store.insert_ssh_key(record); !inserted) return inserted.error();
  return record;
}

Result<Identity> identity_of_registered_key(store::StateStore& store, std::string_view blob,
                                            TimePoint now) {
  const std::string fingerprint = ssh::fingerprint(blob);
  auto found = store.find_ssh_key(fingerprint);
  if (!found) return make_error("SSH keys cannot be checked right now (state store error)");
  if (!*found)
    return make_error("not_found", fmt::format("the key {} is not registered", fingerprint));
  const store::SshKeyRecord& record = **found;
  // The fingerprint found the row; the key itself must be the one registered.
  auto registered = ssh::parse_public_key_line(record.public_key);
  if (!registered || registered->blob != blob)
    return make_error("not_found", fmt::format("the key {} is not registered", fingerprint));
  if (record.expires_at && now >= *record.expires_at)
    return make_error(fmt::format("the key {} (id {}) expired", fingerprint, record.id));
  // Checked when registered; a row written some other way is checked here too.
  if (auto valid = validate_subject(record.subject, "subject"); !valid || record.subject.empty())
    return make_error(fmt::format("the key {} names no valid subject", fingerprint));

  Identity identity;
  identity.subject = record.subject;
  identity.kind = SubjectKind::service;
  identity.groups = record.groups;
  identity.method = AuthMethod::ssh_key;
  identity.issuer = std::string(kSshKeyIssuer);
  identity.token_id = record.id;
  // Both: the id names the registration (removed rows stay), the fingerprint the key itself.
  identity.credential = fmt::format("ssh_key {} {}", record.id, fingerprint);
  identity.expires_at = record.expires_at.value_or(TimePoint::max());
  identity.issued_at = record.created_at;
  return identity;
}

}  // namespace portcullis::identity
