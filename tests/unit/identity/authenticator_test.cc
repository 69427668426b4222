// The Authenticator end to end: a real signing key file, a JWKS file and a SQLite store in a
// temporary folder; every refusal reason as a client would see it.
#include "identity/authenticator.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <fstream>

#include "identity/api_key.h"
#include "identity/base64url.h"
#include "identity/gateway_token.h"
#include "identity/signing_key.h"
#include "store/state_store.h"
#include "test_clock.h"
#include "test_keys.h"

namespace portcullis::identity {
namespace {

using namespace std::chrono_literals;
using namespace testing;

constexpr const char* kIdp = "https://idp.example.com/";

class AuthenticatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = generate_rsa_key().release();
    ec_ = generate_ec_p256_key().release();
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(rsa_);
    EVP_PKEY_free(ec_);
  }

  void SetUp() override {
    std::ofstream(dir_.path() / "jwks.json") << boost::json::serialize(
        boost::json::object{{"keys", boost::json::array{rsa_jwk(rsa_, "r1"), ec_jwk(ec_, "e1")}}});
    config_.identity.signing_key_file = dir_.path() / "var" / "signing.key";
    config::OidcIssuerConfig idp;
    idp.issuer = kIdp;
    idp.audience = "portcullis";
    idp.jwks_file = dir_.path() / "jwks.json";
    config_.identity.oidc.push_back(idp);
    auto store = store::open_state_store("sqlite://" + (dir_.path() / "var" / "state.db").string());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    auto auth = make_authenticator(config_, *store_, true);
    ASSERT_TRUE(auth) << auth.error().message;
    auth_ = std::move(*auth);
    auto key = load_signing_key(config_.identity.signing_key_file, false);
    ASSERT_TRUE(key);
    key_.emplace(std::move(*key));
  }

  std::string gateway_token(const std::string& subject, std::chrono::milliseconds ttl = 1h) {
    return issue_gateway_token(*key_, "portcullis", {subject, {"eng"}, SubjectKind::user, ttl},
                               kNow)
        ->reveal();
  }

  static boost::json::object idp_claims() {
    return {{"iss", kIdp},     {"aud", "portcullis"},   {"sub", "alice"},
            {"iat", kNowSecs}, {"exp", kNowSecs + 300}, {"groups", boost::json::array{"eng"}}};
  }

  static boost::json::object gateway_claims() {
    return {{"iss", "portcullis"},
            {"sub", "alice"},
            {"kind", "user"},
            {"iat", kNowSecs},
            {"exp", kNowSecs + 300}};
  }

  // The refusal reason for `credential` presented as `user`; also checks that the reason
  // never repeats the credential or any of its parts.
  std::string reason(const std::string& credential, std::string_view user = "alice",
                     TimePoint now = kNow) {
    auto identity = auth_->authenticate(Secret(credential), user, now);
    if (identity) return "(accepted)";
    const std::string& message = identity.error().message;
    std::size_t start = 0;
    while (start < credential.size()) {
      const auto dot = credential.find('.', start);
      const auto piece =
          credential.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (piece.size() >= 8) {
        EXPECT_EQ(message.find(piece), std::string::npos) << message;
      }
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return message;
  }

  static EVP_PKEY* rsa_;
  static EVP_PKEY* ec_;
  TempDir dir_;
  config::Config config_;
  std::unique_ptr<store::StateStore> store_;
  std::unique_ptr<Authenticator> auth_;
  std::optional<SigningKey> key_;
};
EVP_PKEY* AuthenticatorTest::rsa_ = nullptr;
EVP_PKEY* AuthenticatorTest::ec_ = nullptr;

TEST_F(AuthenticatorTest, AcceptsGatewayToken) {
  auto identity = auth_->authenticate(Secret(gateway_token("alice")), "alice", kNow);
  ASSERT_TRUE(identity) << identity.error().message;
  EXPECT_EQ(identity->method, AuthMethod::gateway_token);
  EXPECT_EQ(identity->groups, std::vector<std::string>{"eng"});
}

TEST_F(AuthenticatorTest, AcceptsOidcTokensSignedWithRsaAndEc) {
  const auto rs =
      sign_token({{"alg", "RS256"}, {"kid", "r1"}}, idp_claims(), JwsAlgorithm::rs256, rsa_);
  auto identity = auth_->authenticate(Secret(rs), "alice", kNow);
  ASSERT_TRUE(identity) << identity.error().message;
  EXPECT_EQ(identity->method, AuthMethod::oidc);
  const auto es =
      sign_token({{"alg", "ES256"}, {"kid", "e1"}}, idp_claims(), JwsAlgorithm::es256, ec_);
  EXPECT_EQ(reason(es), "(accepted)");
}

TEST_F(AuthenticatorTest, AcceptsApiKeyNamedAsTheUser) {
  auto key = create_api_key(*store_, {"ci-bot", {"deploy"}, 24h * 30}, kNow);
  ASSERT_TRUE(key);
  auto identity = auth_->authenticate(*key, "ci-bot", kNow);
  ASSERT_TRUE(identity) << identity.error().message;
  EXPECT_EQ(identity->method, AuthMethod::api_key);
  EXPECT_EQ(identity->kind, SubjectKind::service);
  EXPECT_TRUE(store_->list_api_keys()->front().last_used_at.has_value());
}

TEST_F(AuthenticatorTest, CreatedTheSigningKeyFileWithMode0600) {
  EXPECT_EQ(std::filesystem::status(config_.identity.signing_key_file).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(AuthenticatorTest, RefusesTokenWithAlgNone) {
  const std::string token =
      encode_part({{"alg", "none"}, {"typ", "JWT"}}) + "." + encode_part(gateway_claims()) + ".";
  EXPECT_EQ(reason(token), "token algorithm \"none\" is not accepted");
  const std::string upper = encode_part({{"alg", "NONE"}}) + "." + encode_part(idp_claims()) + ".";
  EXPECT_EQ(reason(upper), "token algorithm \"NONE\" is not accepted");
}

TEST_F(AuthenticatorTest, RefusesHmacTokensEvenWithThePublicKeyAsSecret) {
  for (int bits : {256, 384, 512}) {
    const std::string alg = "HS" + std::to_string(bits);
    const auto forged =
        hmac_token({{"alg", alg}, {"kid", "r1"}}, idp_claims(), public_key_pem(rsa_), bits);
    EXPECT_EQ(reason(forged), "token algorithm \"" + alg +
                                  "\" is not accepted (shared-secret HMAC algorithms are refused)");
    const auto gateway = hmac_token({{"alg", alg}}, gateway_claims(), "secret", bits);
    EXPECT_NE(reason(gateway).find("is not accepted"), std::string::npos);
  }
}

TEST_F(AuthenticatorTest, RefusesOtherAlgorithms) {
  const std::string token =
      encode_part({{"alg", "PS256"}}) + "." + encode_part(idp_claims()) + ".c2ln";
  EXPECT_EQ(reason(token), "token algorithm \"PS256\" is not accepted");
}

TEST_F(AuthenticatorTest, RefusesAlgorithmNotMatchingKeyType) {
  // Gateway issuer, but signed ES256: not the gateway's Ed25519 key.
  const auto gateway = sign_token({{"alg", "ES256"}}, gateway_claims(), JwsAlgorithm::es256, ec_);
  EXPECT_EQ(reason(gateway), "token algorithm \"ES256\" does not match the key type (Ed25519)");
  const auto idp =
      sign_token({{"alg", "RS256"}, {"kid", "e1"}}, idp_claims(), JwsAlgorithm::rs256, rsa_);
  EXPECT_EQ(reason(idp), "token algorithm \"RS256\" does not match the key type (EC P-256)");
  // EdDSA claiming to come from the IdP.
  auto ed = generate_ed25519_key();
  const auto eddsa =
      sign_token({{"alg", "EdDSA"}, {"kid", "r1"}}, idp_claims(), JwsAlgorithm::eddsa, ed.get());
  EXPECT_EQ(reason(eddsa), "token algorithm \"EdDSA\" does not match the key type (RSA)");
}

TEST_F(AuthenticatorTest, RefusesExpiredToken) {
  EXPECT_EQ(reason(gateway_token("alice", 1h), "alice", kNow + 2h), "token expired");
}

TEST_F(AuthenticatorTest, RefusesTokenNotYetValid) {
  auto claims = idp_claims();
  claims["nbf"] = kNowSecs + 3600;
  EXPECT_EQ(
      reason(sign_token({{"alg", "RS256"}, {"kid", "r1"}}, claims, JwsAlgorithm::rs256, rsa_)),
      "token not yet valid");
}

TEST_F(AuthenticatorTest, RefusesUnknownIssuer) {
  auto claims = idp_claims();
  claims["iss"] = "https://evil.example.com/";
  EXPECT_EQ(
      reason(sign_token({{"alg", "RS256"}, {"kid", "r1"}}, claims, JwsAlgorithm::rs256, rsa_)),
      "token issuer \"https://evil.example.com/\" is not trusted");
  claims.erase("iss");
  EXPECT_EQ(
      reason(sign_token({{"alg", "RS256"}, {"kid", "r1"}}, claims, JwsAlgorithm::rs256, rsa_)),
      "malformed token: missing \"iss\" claim");
}

TEST_F(AuthenticatorTest, RefusesWrongAudience) {
  auto claims = idp_claims();
  claims["aud"] = "another-app";
  EXPECT_EQ(
      reason(sign_token({{"alg", "RS256"}, {"kid", "r1"}}, claims, JwsAlgorithm::rs256, rsa_)),
      "token audience does not include \"portcullis\"");
}

TEST_F(AuthenticatorTest, RefusesUnknownKid) {
  EXPECT_EQ(reason(sign_token({{"alg", "RS256"}, {"kid", "rotated"}}, idp_claims(),
                              JwsAlgorithm::rs256, rsa_)),
            "token key id \"rotated\" is not in the issuer's key set");
}

TEST_F(AuthenticatorTest, RefusesBadSignature) {
  const std::string token = gateway_token("alice");
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  auto claims = gateway_claims();
  claims["sub"] = "alice";
  claims["groups"] = boost::json::array{"dba"};
  const std::string altered =
      token.substr(0, first + 1) + encode_part(claims) + token.substr(second);
  EXPECT_EQ(reason(altered), "token signature is invalid");
  const std::string rs =
      sign_token({{"alg", "RS256"}, {"kid", "r1"}}, idp_claims(), JwsAlgorithm::rs256, rsa_);
  EXPECT_EQ(reason(with_altered_signature(rs)), "token signature is invalid");
}

TEST_F(AuthenticatorTest, RefusesMalformedToken) {
  EXPECT_EQ(reason("not-a-token"), "malformed token: expected three dot-separated parts");
  EXPECT_EQ(reason("eyJhbGciOi.eyJzdWIi.sig"), "malformed token: header is not valid base64url");
  EXPECT_EQ(reason(""), "no token presented");
}

TEST_F(AuthenticatorTest, RefusesOverlongToken) {
  EXPECT_EQ(reason(std::string(20000, 'a')), "token too long (more than 16384 bytes)");
}

TEST_F(AuthenticatorTest, RefusesTokenSubjectDifferentFromStartupUser) {
  EXPECT_EQ(reason(gateway_token("alice"), "bob"),
            "token subject \"alice\" does not match user \"bob\"");
  const auto rs =
      sign_token({{"alg", "RS256"}, {"kid", "r1"}}, idp_claims(), JwsAlgorithm::rs256, rsa_);
  EXPECT_EQ(reason(rs, "postgres"), "token subject \"alice\" does not match user \"postgres\"");
}

TEST_F(AuthenticatorTest, RefusesApiKeyPresentedForAnotherUser) {
  auto key = create_api_key(*store_, {"ci-bot", {}, {}}, kNow);
  EXPECT_EQ(reason(key->reveal(), "postgres"),
            "API key name \"ci-bot\" does not match user \"postgres\"");
}

TEST_F(AuthenticatorTest, RefusesUnknownApiKey) {
  EXPECT_EQ(reason("pcs_" + base64url_encode(std::string(32, '\x01')), "ci-bot"),
            "unknown API key");
}

TEST_F(AuthenticatorTest, RefusesExpiredApiKey) {
  auto key = create_api_key(*store_, {"ci-bot", {}, 1h}, kNow);
  EXPECT_EQ(reason(key->reveal(), "ci-bot", kNow + 1h), "API key expired");
}

TEST_F(AuthenticatorTest, RefusesRevokedApiKey) {
  auto key = create_api_key(*store_, {"ci-bot", {}, {}}, kNow);
  ASSERT_TRUE(*store_->revoke_api_key("ci-bot"));
  EXPECT_EQ(reason(key->reveal(), "ci-bot"), "API key revoked");
}

TEST_F(AuthenticatorTest, EveryRefusalReasonIsDistinct) {
  auto expired_key = create_api_key(*store_, {"old-bot", {}, 1h}, kNow);
  auto revoked_key = create_api_key(*store_, {"gone-bot", {}, {}}, kNow);
  ASSERT_TRUE(*store_->revoke_api_key("gone-bot"));
  auto claims = idp_claims();
  const auto rs = [&](boost::json::object c, const char* kid = "r1") {
    return sign_token({{"alg", "RS256"}, {"kid", kid}}, c, JwsAlgorithm::rs256, rsa_);
  };
  auto nbf = idp_claims();
  nbf["nbf"] = kNowSecs + 3600;
  auto iss = idp_claims();
  iss["iss"] = "x";
  auto aud = idp_claims();
  aud["aud"] = "x";
  const std::vector<std::string> reasons{
      reason(encode_part({{"alg", "none"}}) + "." + encode_part(claims) + "."),
      reason(hmac_token({{"alg", "HS256"}}, claims, "k", 256)),
      reason(sign_token({{"alg", "ES256"}, {"kid", "r1"}}, claims, JwsAlgorithm::es256, ec_)),
      reason(rs(claims), "alice", kNow + 1h),
      reason(rs(nbf)),
      reason(rs(iss)),
      reason(rs(aud)),
      reason(rs(claims, "zz")),
      reason(with_altered_signature(rs(claims))),
      reason("a.b"),
      reason(rs(claims), "bob"),
      reason("pcs_" + base64url_encode(std::string(32, '\x02')), "x"),
      reason(expired_key->reveal(), "old-bot", kNow + 2h),
      reason(revoked_key->reveal(), "gone-bot"),
      reason(std::string(kMaxTokenLength + 1, 'a')),
  };
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    EXPECT_NE(reasons[i], "(accepted)") << i;
    for (std::size_t j = i + 1; j < reasons.size(); ++j)
      EXPECT_NE(reasons[i], reasons[j]) << i << " " << j;
  }
}

TEST(MakeAuthenticator, RefusesMissingSigningKeyWhenNotAskedToCreate) {
  TempDir dir;
  config::Config config;
  config.identity.signing_key_file = dir.path() / "signing.key";
  auto store = store::open_state_store("sqlite://" + (dir.path() / "state.db").string());
  auto auth = make_authenticator(config, **store, false);
  ASSERT_FALSE(auth);
  EXPECT_NE(auth.error().message.find("does not exist"), std::string::npos);
}

TEST(MakeAuthenticator, RefusesJwksUrlAsNotSupportedYet) {
  TempDir dir;
  config::Config config;
  config::OidcIssuerConfig idp;
  idp.issuer = kIdp;
  idp.audience = "portcullis";
  idp.jwks_url = "https://idp.example.com/keys";
  config.identity.oidc.push_back(idp);
  auto store = store::open_state_store("sqlite://" + (dir.path() / "state.db").string());
  auto auth = make_authenticator(config, **store, true);
  ASSERT_FALSE(auth);
  EXPECT_NE(auth.error().message.find("not supported yet"), std::string::npos);
}

TEST(MakeAuthenticator, RefusesSigningKeyFileReadableByOthers) {
  TempDir dir;
  config::Config config;
  config.identity.signing_key_file = dir.path() / "signing.key";
  auto store = store::open_state_store("sqlite://" + (dir.path() / "state.db").string());
  ASSERT_TRUE(make_authenticator(config, **store, true));
  std::filesystem::permissions(config.identity.signing_key_file,
                               std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  auto auth = make_authenticator(config, **store, true);
  ASSERT_FALSE(auth);
  EXPECT_NE(auth.error().message.find("accessible by group or others"), std::string::npos);
}

}  // namespace
}  // namespace portcullis::identity
