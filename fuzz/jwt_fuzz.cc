// libFuzzer target: arbitrary bytes as the password a client presents, through the whole
// Authenticator (API key / gateway token / OIDC dispatch, JWT parse, claims, signature), plus
// the JWKS parser. The OIDC keys are generated once per run; the gateway's signing key is a
// fixed test key, so that the one valid gateway token the harness issues at start is the same
// on every run (fuzz/corpus/jwt_fuzz/valid-token seeds it).
//
// Each input is tried twice: as the credential itself, and as an XOR mask laid over the valid
// token (two bytes of offset, then the mask), so that every byte of the token is mutated.
// Invariant: a credential authenticates only if its three base64url segments decode to the
// very header, payload and signature of the valid token. (Comparing decoded bytes, not text:
// two texts may decode alike, in the last character's unused bits, and a verifier may accept
// both without harm; anything that decodes differently is a forgery.)
#include <openssl/core_names.h>
#include <stdio.h>
#include <stdlib.h>

#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "identity/authenticator.h"
#include "identity/base64url.h"
#include "identity/jwks.h"
#include "identity/jws.h"
#include "identity/jwt.h"
#include "identity/signing_key.h"
#include "store/state_store.h"

namespace {

using namespace portcullis;

// An empty store: API key, SSH key and revocation look-ups find nothing, without touching a
// disk.
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
  Result<void> insert_ssh_key(const store::SshKeyRecord&) override { return {}; }
  Result<std::optional<store::SshKeyRecord>> find_ssh_key(std::string_view) override {
    return std::optional<store::SshKeyRecord>();
  }
  Result<std::vector<store::SshKeyRecord>> list_ssh_keys(std::string_view) override {
    return std::vector<store::SshKeyRecord>();
  }
  Result<bool> remove_ssh_key(std::string_view, store::TimePoint, std::string_view) override {
    return false;
  }
};

// A fixed Ed25519 test key (PKCS#8 PEM); it signs nothing but the fuzz target's token.
constexpr std::string_view kSigningKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIC+RsmGXv1gtdhXtOnQH51VNSQFNGj4w56iWBbUD4CJ2\n"
    "-----END PRIVATE KEY-----\n";

// The valid token is issued at 2023-11-14T22:13:20Z, and checked a minute later.
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000 + 60));

// The decoded segments of a compact JWS; nullopt unless there are exactly three that decode.
std::optional<std::vector<std::string>> decoded_segments(std::string_view token) {
  std::vector<std::string> out;
  for (;;) {
    const auto dot = token.find('.');
    auto part = identity::base64url_decode(token.substr(0, dot));
    if (!part) return std::nullopt;
    out.push_back(std::move(*part));
    if (dot == std::string_view::npos) break;
    token.remove_prefix(dot + 1);
  }
  if (out.size() != 3) return std::nullopt;
  return out;
}

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
  std::string valid_token;
  std::vector<std::string> valid_segments;

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

    {
      std::ofstream key(dir / "signing.key");
      key << kSigningKeyPem;
    }
    std::filesystem::permissions(dir / "signing.key", std::filesystem::perms::owner_read |
                                                          std::filesystem::perms::owner_write);
    config::Config config;
    config.identity.signing_key_file = dir / "signing.key";
    config::OidcIssuerConfig idp;
    idp.issuer = "https://idp.example.com/";
    idp.audience = "portcullis";
    idp.jwks_file = dir / "jwks.json";
    config.identity.oidc.push_back(idp);
    auto made = identity::make_authenticator(config, store, true);
    if (!made) abort();
    authenticator = std::move(*made);
    auto key = identity::load_signing_key(dir / "signing.key", false);
    if (!key) abort();
    // As issue_gateway_token writes one, with a fixed jti in place of a random one: the
    // same token on every run.
    const int64_t issued = 1'700'000'000;
    const boost::json::object header{{"alg", "EdDSA"}, {"typ", "JWT"}, {"kid", key->key_id()}};
    const boost::json::object payload{{"iss", config.identity.issuer},
                                      {"sub", "alice"},
                                      {"groups", boost::json::array{"testers"}},
                                      {"kind", "user"},
                                      {"iat", issued},
                                      {"nbf", issued},
                                      {"exp", issued + 3600},
                                      {"jti", "ZnV6ei10b2tlbi1qdGkwMQ"}};
    valid_token = identity::jws_signing_input(header, payload);
    auto signature = identity::sign_jws(identity::JwsAlgorithm::eddsa, key->pkey(), valid_token);
    if (!signature) abort();
    valid_token += '.' + identity::base64url_encode(*signature);
    // PORTCULLIS_FUZZ_PRINT_TOKEN=1 prints it, to write fuzz/corpus/jwt_fuzz/valid-token.
    if (getenv("PORTCULLIS_FUZZ_PRINT_TOKEN") != nullptr)
      fprintf(stderr, "%s\n", valid_token.c_str());
    auto segments = decoded_segments(valid_token);
    if (!segments) abort();
    valid_segments = std::move(*segments);
    // The invariant below means something only if the valid token does authenticate.
    if (!authenticator->authenticate(Secret(valid_token), "alice", kNow)) abort();
    std::filesystem::remove_all(dir);
  }

  void check(const std::string& credential) const {
    if (!authenticator->authenticate(Secret(credential), "alice", kNow)) return;
    const auto segments = decoded_segments(credential);
    if (!segments || *segments != valid_segments) __builtin_trap();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto parsed = identity::parse_jwt(input);
  if (parsed && parsed->signing_input.size() > input.size()) abort();
  fixture.check(std::string(input));
  (void)identity::Jwks::parse(input);

  if (size >= 2) {
    std::string mutated = fixture.valid_token;
    std::size_t at = (std::size_t{data[0]} << 8 | data[1]) % mutated.size();
    for (std::size_t i = 2; i < size && at < mutated.size(); ++i, ++at)
      mutated[at] = static_cast<char>(mutated[at] ^ data[i]);
    fixture.check(mutated);
  }
  return 0;
}
