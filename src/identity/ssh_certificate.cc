// OpenSSH certificates: encoding, signing, reading and checking.
#include "identity/ssh_certificate.h"

#include <fmt/format.h>

#include <algorithm>

#include "identity/claims.h"
#include "identity/ssh_keys.h"
#include "identity/ssh_wire.h"

namespace portcullis::identity::ssh {
namespace {

std::string packed_strings(const std::vector<std::string>& values) {
  WireWriter w;
  for (const auto& v : values) w.string(v);
  return w.take();
}

// Options and extensions: each a name and its data, the data itself a string holding the
// value (empty data for a flag).
std::string packed_options(std::vector<std::pair<std::string, std::string>> options) {
  std::sort(options.begin(), options.end());
  WireWriter w;
  for (const auto& [name, value] : options) {
    w.string(name);
    if (value.empty()) {
      w.string("");
    } else {
      WireWriter data;
      data.string(value);
      w.string(data.bytes());
    }
  }
  return w.take();
}

Result<std::vector<std::string>> unpack_strings(std::string_view bytes) {
  std::vector<std::string> out;
  WireReader r(bytes);
  while (r.ok() && !r.at_end()) out.emplace_back(r.string());
  if (!r.ok()) return Error{"a certificate's principals are malformed"};
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> unpack_options(std::string_view bytes,
                                                                        std::string_view what) {
  std::vector<std::pair<std::string, std::string>> out;
  WireReader r(bytes);
  while (r.ok() && !r.at_end()) {
    std::string name(r.string());
    const std::string_view data = r.string();
    std::string value;
    if (!data.empty()) {
      WireReader inner(data);
      value = std::string(inner.string());
      if (!inner.ok() || !inner.at_end())
        return Error{fmt::format("a certificate's {} are malformed", what)};
    }
    if (!out.empty() && name <= out.back().first)
      return Error{fmt::format("a certificate's {} are not in order or repeat", what)};
    out.emplace_back(std::move(name), std::move(value));
  }
  if (!r.ok()) return Error{fmt::format("a certificate's {} are malformed", what)};
  return out;
}

}  // namespace

const std::string* Certificate::extension(std::string_view name) const {
  for (const auto& [n, v] : fields.extensions)
    if (n == name) return &v;
  return nullptr;
}

Result<std::string> sign_user_certificate(std::string_view key_blob,
                                          const CertificateFields& fields, EVP_PKEY* ca,
                                          std::string_view nonce) {
  WireReader key(key_blob);
  const std::string_view key_type = key.string();
  const std::string_view raw = key.string();
  if (!key.ok() || !key.at_end() || key_type != kEd25519 || raw.size() != kEd25519KeySize)
    return Error{"only ssh-ed25519 keys are certified"};
  auto ca_blob = ed25519_public_blob(ca);
  if (!ca_blob) return Error{"the SSH certificate authority's key is not an Ed25519 key"};
  WireWriter w;
  w.string(kEd25519Certificate)
      .string(nonce)
      .string(raw)
      .u64(fields.serial)
      .u32(kUserCertificate)
      .string(fields.key_id)
      .string(packed_strings(fields.principals))
      .u64(fields.valid_after)
      .u64(fields.valid_before)
      .string(packed_options(fields.critical_options))
      .string(packed_options(fields.extensions))
      .string("")  // reserved
      .string(*ca_blob);
  auto signature = ed25519_signature_blob(ca, w.bytes());
  if (!signature) return signature.error();
  w.string(*signature);
  return w.take();
}

Result<Certificate> parse_certificate(std::string_view blob) {
  WireReader r(blob);
  const std::string_view type = r.string();
  if (!r.ok()) return Error{"the certificate is malformed"};
  if (type != kEd25519Certificate)
    // Not fmt's {:?}: Debian's libfmt 9 asserts (and aborts) escaping some invalid UTF-8.
    return Error{fmt::format("certificates of type {} are not accepted (only {})",
                             quote_untrusted(type), kEd25519Certificate)};
  Certificate c;
  c.nonce = std::string(r.string());
  const std::string_view raw = r.string();
  c.fields.serial = r.u64();
  c.type = r.u32();
  c.fields.key_id = std::string(r.string());
  const std::string_view principals = r.string();
  c.fields.valid_after = r.u64();
  c.fields.valid_before = r.u64();
  const std::string_view critical = r.string();
  const std::string_view extensions = r.string();
  (void)r.string();  // reserved
  c.signature_key = std::string(r.string());
  const std::size_t signed_length = r.consumed();
  c.signature = std::string(r.string());
  if (!r.ok() || !r.at_end() || raw.size() != kEd25519KeySize)
    return Error{"the certificate is malformed"};
  c.signed_bytes = std::string(blob.substr(0, signed_length));
  WireWriter key;
  key.string(kEd25519).string(raw);
  c.key = key.take();
  auto names = unpack_strings(principals);
  if (!names) return names.error();
  c.fields.principals = std::move(*names);
  auto options = unpack_options(critical, "critical options");
  if (!options) return options.error();
  c.fields.critical_options = std::move(*options);
  auto extension_list = unpack_options(extensions, "extensions");
  if (!extension_list) return extension_list.error();
  c.fields.extensions = std::move(*extension_list);
  return c;
}

Result<Certificate> verify_user_certificate(std::string_view blob, std::string_view ca_blob,
                                            uint64_t now) {
  auto c = parse_certificate(blob);
  if (!c) return c.error();
  if (c->type != kUserCertificate) return Error{"the certificate is not a user certificate"};
  if (c->signature_key != ca_blob)
    return Error{"the certificate is signed by another authority than the gateway's"};
  auto ca = ed25519_key_from_blob(ca_blob);
  if (!ca) return ca.error();
  if (!ed25519_signature_verifies(ca->get(), c->signature, c->signed_bytes))
    return Error{"the certificate's signature does not verify"};
  if (now < c->fields.valid_after) return Error{"the certificate is not valid yet"};
  if (now >= c->fields.valid_before) return Error{"the certificate has expired"};
  if (!c->fields.critical_options.empty())
    return Error{fmt::format("the certificate has a critical option the gateway does not know ({})",
                             quote_untrusted(c->fields.critical_options.front().first))};
  return c;
}

}  // namespace portcullis::identity::ssh
