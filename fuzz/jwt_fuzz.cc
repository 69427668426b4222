// libFuzzer target: arbitrary bytes as the password a client presents, through the whole
// Authenticator (API key / gateway token / OIDC dispatch, JWT parse, claims, signature), plus
// the JWKS parser. Keys are generated once per run.
#include <openssl/core_names.h>
#include <stdlib.h>

#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string_view>

#include "identity/authenticator.h"
#include "identity/base64url.h"
#include "identity/jwks.h"
#include "identity/jwt.h"
#include "store/state_store.h"

namespace {

using namespace portcullis;

// An empty store: API key and revocation look-ups find nothing, without touching a disk.
class EmptyStore final : public store::StateStore {
 public:
  Result<void> insert_api_key(const store::ApiKeyRecord&) override { return {}; }
  Result<std::optional<store::ApiKeyRecord>> find_api_key_by_hash(std::string_view) override {
    return std::optional<store::ApiKeyRecord>();
  }
  Result<std::vector<store::ApiKeyRecord>> list_api_keys() override {
    return std::vector<store::ApiKeyRecord>();
  }
  Result<bool> revoke_api_key(std::string_view) override { return false; }
  Result<void> touch_api_key(std::string_view, store::TimePoint) override { return {}; }
  Result<void> insert_review(const store::ReviewRecord&) override { return {}; }
  Result<std::optional<store::ReviewRecord>> find_review(std::string_view) override {
    return std::optional<store::ReviewRecord>();
  }
  Result<std::vector<store::ReviewRecord>> list_reviews(std::optional<store::ReviewStatus>,
                                                        std::size_t) override {
    return std::vector<store::ReviewRecord>();
  }
  Result<store::ReviewRecord> update_review(std::string_view, const ReviewChange&) override {
    return make_error("not_found", "no reviews here");
  }
  Result<std::vector<store::ReviewRecord>> approved_reviews(store::ReviewKind, std::string_view,
                                                            std::string_view,
                                                            store::TimePoint) override {
    return std::vector<store::ReviewRecord>();
  }
  Result<std::vector<store::ReviewRecord>> overdue_reviews(store::TimePoint) override {
    return std::vector<store::ReviewRecord>();
  }
  Result<void> upsert_revocation(const store::RevocationRecord&) override { return {}; }
  Result<std::optional<store::RevocationRecord>> find_revocation(std::string_view) override {
    return std::optional<store::RevocationRecord>();
  }
};

std::string bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, name, &bn);
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return identity::base64url_encode(bytes);
}

std::string ec_coordinates(EVP_PKEY* key, bool y) {
  unsigned char point[65];
  std::size_t length = 0;
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &length);
  return identity::base64url_encode(
      std::string_view(reinterpret_cast<const char*>(point) + (y ? 33 : 1), 32));
}

struct Fixture {
  EmptyStore store;
  std::unique_ptr<identity::Authenticator> authenticator;

  Fixture() {
    char dir_template[] = "/tmp/jwt-fuzz-XXXXXX";
    const std::filesystem::path dir = mkdtemp(dir_template);
    EVP_PKEY* rsa = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
    EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    const boost::json::object jwks{
        {"keys",
         boost::json::array{boost::json::object{{"kty", "RSA"},
                                                {"kid", "r1"},
                                                {"n", bn_param(rsa, OSSL_PKEY_PARAM_RSA_N)},
                                                {"e", bn_param(rsa, OSSL_PKEY_PARAM_RSA_E)}},
                            boost::json::object{{"kty", "EC"},
                                                {"crv", "P-256"},
                                                {"kid", "e1"},
                                                {"x", ec_coordinates(ec, false)},
                                                {"y", ec_coordinates(ec, true)}}}}};
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    std::ofstream(dir / "jwks.json") << boost::json::serialize(jwks);

    policy::Config config;
    config.identity.signing_key_file = dir / "signing.key";
    policy::OidcIssuerConfig idp;
    idp.issuer = "https://idp.example.com/";
    idp.audience = "portcullis";
    idp.jwks_file = dir / "jwks.json";
    config.identity.oidc.push_back(idp);
    auto made = identity::make_authenticator(config, store, true);
    if (!made) abort();
    authenticator = std::move(*made);
    std::filesystem::remove_all(dir);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

  auto parsed = identity::parse_jwt(input);
  if (parsed && parsed->signing_input.size() > input.size()) abort();
  (void)fixture.authenticator->authenticate(Secret(std::string(input)), "alice", now);
  (void)identity::Jwks::parse(input);
  return 0;
}
