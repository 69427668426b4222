// Parsing a JWKS document into OpenSSL public keys (RFC 7517, key parameters RFC 7518 6.2/6.3).
#include "identity/jwks.h"

#include <fmt/format.h>
#include <openssl/core_names.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <iterator>
#include <sstream>

#include "identity/base64url.h"
#include "identity/claims.h"

namespace portcullis::identity {
namespace {

// NIST SP 800-131A: RSA keys below 2048 bits are no longer acceptable for signatures.
constexpr int kMinRsaBits = 2048;
// A P-256 coordinate is 32 bytes, written in full (RFC 7518 6.2.1.2).
constexpr std::size_t kP256CoordinateSize = 32;
// A JWKS file of an IdP holds a handful of keys; a file far larger is a mistake.
constexpr std::uintmax_t kMaxJwksFileSize = 1 << 20;

std::optional<std::string> member_string(const boost::json::object& jwk, std::string_view name) {
  const auto* value = jwk.if_contains(name);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string(value->get_string());
}

Result<std::string> key_bytes(const boost::json::object& jwk, std::string_view name,
                              std::string_view label) {
  auto text = member_string(jwk, name);
  if (!text) return make_error(fmt::format("key {}: missing \"{}\"", label, name));
  auto bytes = base64url_decode(*text);
  if (!bytes || bytes->empty())
    return make_error(fmt::format("key {}: \"{}\" is not valid base64url", label, name));
  return std::move(*bytes);
}

Result<EvpPkeyPtr> from_params(const char* type, OSSL_PARAM_BLD* builder, std::string_view label) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(builder));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return make_error(fmt::format("key {}: not a valid {} public key", label, type));
  EvpPkeyPtr key(raw);
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1)
    return make_error(fmt::format("key {}: not a valid {} public key", label, type));
  return key;
}

Result<EvpPkeyPtr> rsa_key(const boost::json::object& jwk, std::string_view label) {
  auto n = key_bytes(jwk, "n", label);
  if (!n) return n.error();
  auto e = key_bytes(jwk, "e", label);
  if (!e) return e.error();
  BignumPtr n_bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                           static_cast<int>(n->size()), nullptr));
  BignumPtr e_bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                           static_cast<int>(e->size()), nullptr));
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!n_bn || !e_bn || !builder ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1)
    return make_error(fmt::format("key {}: cannot build RSA key", label));
  auto key = from_params("RSA", builder.get(), label);
  if (!key) return key.error();
  if (EVP_PKEY_get_bits(key->get()) < kMinRsaBits)
    return make_error(fmt::format("key {}: RSA key shorter than {} bits", label, kMinRsaBits));
  return key;
}

Result<EvpPkeyPtr> ec_p256_key(const boost::json::object& jwk, std::string_view label) {
  auto x = key_bytes(jwk, "x", label);
  if (!x) return x.error();
  auto y = key_bytes(jwk, "y", label);
  if (!y) return y.error();
  if (x->size() != kP256CoordinateSize || y->size() != kP256CoordinateSize)
    return make_error(fmt::format("key {}: P-256 coordinates must be 32 bytes", label));
  // SEC 1 uncompressed point: 0x04 || X || Y.
  const std::string point = std::string(1, '\x04') + *x + *y;
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1)
    return make_error(fmt::format("key {}: cannot build EC key", label));
  return from_params("EC", builder.get(), label);
}

}  // namespace

Result<Jwks> Jwks::parse(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value document = boost::json::parse(json, ec);
  if (ec) return make_error("JWKS is not valid JSON");
  const auto* root = document.if_object();
  const auto* keys = root == nullptr ? nullptr : root->if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return make_error("JWKS has no \"keys\" array");

  Jwks set;
  std::size_t index = 0;
  for (const auto& item : keys->get_array()) {
    ++index;
    const auto* jwk = item.if_object();
    if (jwk == nullptr) return make_error(fmt::format("JWKS key #{} is not an object", index));
    auto kid = member_string(*jwk, "kid");
    const std::string label = kid ? quote_untrusted(*kid) : fmt::format("#{}", index);
    // Keys for encryption, and keys meant for algorithms this gateway does not accept, can
    // never verify a token it takes: skip them rather than fail on an IdP's full key set.
    if (auto use = member_string(*jwk, "use"); use && *use != "sig") continue;
    const auto kty = member_string(*jwk, "kty").value_or("");
    const auto alg = member_string(*jwk, "alg");
    const auto crv = member_string(*jwk, "crv").value_or("");
    Jwk entry{kid, JwsAlgorithm::rs256, nullptr};
    Result<EvpPkeyPtr> key = make_error("");
    if (kty == "RSA") {
      if (alg && *alg != "RS256") continue;
      entry.algorithm = JwsAlgorithm::rs256;
      key = rsa_key(*jwk, label);
    } else if (kty == "EC" && crv == "P-256") {
      if (alg && *alg != "ES256") continue;
      entry.algorithm = JwsAlgorithm::es256;
      key = ec_p256_key(*jwk, label);
    } else {
      continue;
    }
    if (!key) return make_error("JWKS " + key.error().message);
    for (const auto& existing : set.keys_)
      if (kid && existing.kid == kid)
        return make_error(fmt::format("JWKS has two keys with kid {}", label));
    entry.key = share_pkey(std::move(*key));
    set.keys_.push_back(std::move(entry));
  }
  if (set.keys_.empty()) return make_error("JWKS has no usable RS256 or ES256 signing key");
  return set;
}

Result<Jwks> Jwks::load_file(const std::filesystem::path& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec)
    return make_error(fmt::format("cannot read JWKS file {}: {}", file.string(), ec.message()));
  if (size > kMaxJwksFileSize)
    return make_error(fmt::format("JWKS file {} is too large", file.string()));
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(fmt::format("cannot read JWKS file {}", file.string()));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto set = parse(text);
  if (!set) return make_error(fmt::format("JWKS file {}: {}", file.string(), set.error().message));
  return set;
}

Result<const Jwk*> Jwks::find(const std::optional<std::string>& kid) const {
  if (!kid) {
    if (keys_.size() == 1) return &keys_.front();
    return make_error("token has no key id (\"kid\") and the issuer has several keys");
  }
  for (const auto& key : keys_)
    if (key.kid == kid) return &key;
  return make_error(
      fmt::format("token key id {} is not in the issuer's key set", quote_untrusted(*kid)));
}

}  // namespace portcullis::identity
