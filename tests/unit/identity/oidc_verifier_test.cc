#include "identity/oidc_verifier.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <fstream>

#include "identity/base64url.h"
#include "test_clock.h"
#include "test_keys.h"

namespace portcullis::identity {
namespace {

using namespace std::chrono_literals;
using namespace testing;

constexpr const char* kIssuer = "https://idp.example.com/";

class OidcVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa1_ = generate_rsa_key().release();
    rsa2_ = generate_rsa_key().release();
    ec1_ = generate_ec_p256_key().release();
  }
  static void TearDownTestSuite() {
    for (auto* key : {rsa1_, rsa2_, ec1_}) EVP_PKEY_free(key);
  }

  void SetUp() override { verifier_.emplace(make_verifier(config())); }

  static config::OidcIssuerConfig config() {
    config::OidcIssuerConfig c;
    c.issuer = kIssuer;
    c.audience = "portcullis";
    return c;
  }

  static OidcVerifier make_verifier(const config::OidcIssuerConfig& c) {
    const auto json = boost::json::serialize(
        boost::json::object{{"keys", boost::json::array{rsa_jwk(rsa1_, "r1"), rsa_jwk(rsa2_, "r2"),
                                                        ec_jwk(ec1_, "e1")}}});
    auto keys = Jwks::parse(json);
    EXPECT_TRUE(keys) << keys.error().message;
    return OidcVerifier(c, std::move(*keys), kLeeway);
  }

  static boost::json::object claims() {
    return {{"iss", kIssuer},  {"aud", "portcullis"},
            {"sub", "alice"},  {"groups", boost::json::array{"engineering", "dba"}},
            {"iat", kNowSecs}, {"exp", kNowSecs + 300},
            {"jti", "id-1"}};
  }

  static std::string token(const boost::json::object& payload, const char* kid = "r1",
                           JwsAlgorithm alg = JwsAlgorithm::rs256, EVP_PKEY* key = nullptr) {
    if (key == nullptr) key = alg == JwsAlgorithm::es256 ? ec1_ : rsa1_;
    boost::json::object header{{"alg", std::string(to_string(alg))}, {"typ", "JWT"}};
    if (kid != nullptr) header["kid"] = kid;
    return sign_token(header, payload, alg, key);
  }

  Result<Identity> verify(std::string_view text, TimePoint now = kNow) const {
    auto jwt = parse_jwt(text);
    if (!jwt) return jwt.error();
    return verifier_->verify(*jwt, now);
  }

  std::string reason(std::string_view text, TimePoint now = kNow) const {
    auto identity = verify(text, now);
    return identity ? "(accepted)" : identity.error().message;
  }

  static EVP_PKEY* rsa1_;
  static EVP_PKEY* rsa2_;
  static EVP_PKEY* ec1_;
  std::optional<OidcVerifier> verifier_;
};
EVP_PKEY* OidcVerifierTest::rsa1_ = nullptr;
EVP_PKEY* OidcVerifierTest::rsa2_ = nullptr;
EVP_PKEY* OidcVerifierTest::ec1_ = nullptr;

TEST_F(OidcVerifierTest, AcceptsRs256TokenSignedByEachRsaKid) {
  auto one = verify(token(claims(), "r1", JwsAlgorithm::rs256, rsa1_));
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(one->subject, "alice");
  EXPECT_EQ(one->groups, (std::vector<std::string>{"engineering", "dba"}));
  EXPECT_EQ(one->kind, SubjectKind::user);
  EXPECT_EQ(one->method, AuthMethod::oidc);
  EXPECT_EQ(one->issuer, kIssuer);
  EXPECT_EQ(one->token_id, "id-1");
  EXPECT_EQ(one->credential, "jti id-1");
  EXPECT_EQ(one->expires_at, kNow + 300s);
  EXPECT_TRUE(verify(token(claims(), "r2", JwsAlgorithm::rs256, rsa2_)));
}

TEST_F(OidcVerifierTest, AcceptsEs256TokenWithRawSignature) {
  const std::string text = token(claims(), "e1", JwsAlgorithm::es256);
  EXPECT_EQ(base64url_decode(text.substr(text.rfind('.') + 1))->size(), 64u);
  auto identity = verify(text);
  ASSERT_TRUE(identity) << identity.error().message;
  EXPECT_EQ(identity->subject, "alice");
}

TEST_F(OidcVerifierTest, RefusesEs256SignatureInDerForm) {
  const std::string input = jws_signing_input({{"alg", "ES256"}, {"kid", "e1"}}, claims());
  // DER-encode a valid raw signature, as a careless signer might send it.
  auto raw = sign_jws(JwsAlgorithm::es256, ec1_, input);
  ASSERT_TRUE(raw);
  BignumPtr r(BN_bin2bn(reinterpret_cast<const unsigned char*>(raw->data()), 32, nullptr));
  BignumPtr s(BN_bin2bn(reinterpret_cast<const unsigned char*>(raw->data()) + 32, 32, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  ECDSA_SIG_set0(sig.get(), r.release(), s.release());
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  const std::string der_text(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  EXPECT_EQ(reason(input + "." + base64url_encode(der_text)), "token signature is invalid");
}

TEST_F(OidcVerifierTest, RefusesTokenSignedByAnotherKidsKey) {
  EXPECT_EQ(reason(token(claims(), "r2", JwsAlgorithm::rs256, rsa1_)),
            "token signature is invalid");
}

TEST_F(OidcVerifierTest, RefusesUnknownKid) {
  EXPECT_EQ(reason(token(claims(), "r9")), "token key id \"r9\" is not in the issuer's key set");
}

TEST_F(OidcVerifierTest, RefusesMissingKidWhenTheSetHasSeveralKeys) {
  EXPECT_EQ(reason(token(claims(), nullptr)),
            "token has no key id (\"kid\") and the issuer has several keys");
}

TEST_F(OidcVerifierTest, AcceptsMissingKidWhenTheSetHasOneKey) {
  const auto json =
      boost::json::serialize(boost::json::object{{"keys", boost::json::array{rsa_jwk(rsa2_, "")}}});
  OidcVerifier single(config(), *Jwks::parse(json), kLeeway);
  auto jwt = parse_jwt(token(claims(), nullptr, JwsAlgorithm::rs256, rsa2_));
  auto identity = single.verify(*jwt, kNow);
  EXPECT_TRUE(identity) << identity.error().message;
}

TEST_F(OidcVerifierTest, RefusesAlgorithmNotMatchingKeyType) {
  // RS256 header naming the EC key, and ES256 header naming an RSA key.
  const std::string rs_on_ec =
      sign_token({{"alg", "RS256"}, {"kid", "e1"}}, claims(), JwsAlgorithm::rs256, rsa1_);
  EXPECT_EQ(reason(rs_on_ec), "token algorithm \"RS256\" does not match the key type (EC P-256)");
  const std::string es_on_rsa =
      sign_token({{"alg", "ES256"}, {"kid", "r1"}}, claims(), JwsAlgorithm::es256, ec1_);
  EXPECT_EQ(reason(es_on_rsa), "token algorithm \"ES256\" does not match the key type (RSA)");
}

TEST_F(OidcVerifierTest, RefusesHmacTokenUsingThePublicKeyAsSecret) {
  for (int bits : {256, 384, 512}) {
    const std::string alg = "HS" + std::to_string(bits);
    const std::string forged =
        hmac_token({{"alg", alg}, {"kid", "r1"}}, claims(), public_key_pem(rsa1_), bits);
    EXPECT_EQ(reason(forged), "token algorithm \"" + alg +
                                  "\" is not accepted (shared-secret HMAC algorithms are refused)");
  }
}

TEST_F(OidcVerifierTest, RefusesWrongIssuer) {
  auto payload = claims();
  payload["iss"] = "https://evil.example.com/";
  EXPECT_EQ(reason(token(payload)), "token issuer \"https://evil.example.com/\" is not trusted");
}

TEST_F(OidcVerifierTest, AcceptsAudienceAsStringOrArray) {
  auto payload = claims();
  payload["aud"] = boost::json::array{"other-app", "portcullis"};
  EXPECT_TRUE(verify(token(payload)));
}

TEST_F(OidcVerifierTest, RefusesWrongOrMissingAudience) {
  auto payload = claims();
  payload["aud"] = "other-app";
  EXPECT_EQ(reason(token(payload)), "token audience does not include \"portcullis\"");
  payload["aud"] = boost::json::array{"a", "b"};
  EXPECT_EQ(reason(token(payload)), "token audience does not include \"portcullis\"");
  payload.erase("aud");
  EXPECT_EQ(reason(token(payload)), "token audience does not include \"portcullis\"");
  payload["aud"] = 7;
  EXPECT_EQ(reason(token(payload)), "malformed token: \"aud\" claim is not a string or list");
}

TEST_F(OidcVerifierTest, AppliesLeewayToExpiry) {
  const std::string text = token(claims());  // exp = now + 300s
  EXPECT_TRUE(verify(text, kNow + 300s + kLeeway - 1ms));
  EXPECT_EQ(reason(text, kNow + 300s + kLeeway), "token expired");
}

TEST_F(OidcVerifierTest, AppliesLeewayToNotBefore) {
  auto payload = claims();
  payload["nbf"] = kNowSecs + 100;
  const std::string text = token(payload);
  EXPECT_EQ(reason(text, kNow + 40s - 1ms), "token not yet valid");
  EXPECT_TRUE(verify(text, kNow + 40s));
}

TEST_F(OidcVerifierTest, AppliesLeewayToIssuedAt) {
  auto payload = claims();
  payload["iat"] = kNowSecs + 60;
  EXPECT_TRUE(verify(token(payload)));
  payload["iat"] = kNowSecs + 61;
  EXPECT_EQ(reason(token(payload)), "token issued in the future");
}

TEST_F(OidcVerifierTest, ReadsConfiguredSubjectAndGroupsClaims) {
  auto c = config();
  c.subject_claim = "preferred_username";
  c.groups_claim = "roles";
  OidcVerifier custom = make_verifier(c);
  auto payload = claims();
  payload["preferred_username"] = "bob";
  payload["roles"] = "admins";  // a single string is one group
  auto identity = custom.verify(*parse_jwt(token(payload)), kNow);
  ASSERT_TRUE(identity) << identity.error().message;
  EXPECT_EQ(identity->subject, "bob");
  EXPECT_EQ(identity->groups, std::vector<std::string>{"admins"});
  payload.erase("preferred_username");
  auto missing = custom.verify(*parse_jwt(token(payload)), kNow);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "malformed token: missing \"preferred_username\" claim");
}

TEST_F(OidcVerifierTest, RefusesGroupsThatAreNotStrings) {
  auto payload = claims();
  payload["groups"] = boost::json::array{"ok", 3};
  EXPECT_EQ(reason(token(payload)), "malformed token: \"groups\" claim is not a list of strings");
}

TEST_F(OidcVerifierTest, AbsentGroupsClaimMeansNoGroups) {
  auto payload = claims();
  payload.erase("groups");
  auto identity = verify(token(payload));
  ASSERT_TRUE(identity);
  EXPECT_TRUE(identity->groups.empty());
}

TEST(OidcVerifierLoad, RefusesJwksUrlAsNotSupportedYet) {
  config::OidcIssuerConfig c;
  c.issuer = kIssuer;
  c.audience = "portcullis";
  c.jwks_url = "https://idp.example.com/jwks";
  auto verifier = OidcVerifier::load(c, kLeeway);
  ASSERT_FALSE(verifier);
  EXPECT_NE(verifier.error().message.find("jwks_url is not supported yet"), std::string::npos);
}

TEST(OidcVerifierLoad, RefusesIssuerWithoutAudience) {
  config::OidcIssuerConfig c;
  c.issuer = kIssuer;
  c.jwks_file = "/nonexistent";
  auto verifier = OidcVerifier::load(c, kLeeway);
  ASSERT_FALSE(verifier);
  EXPECT_NE(verifier.error().message.find("\"audience\" is required"), std::string::npos);
}

TEST(OidcVerifierLoad, LoadsKeysFromJwksFile) {
  TempDir dir;
  auto key = generate_ec_p256_key();
  std::ofstream(dir.path() / "jwks.json") << boost::json::serialize(
      boost::json::object{{"keys", boost::json::array{ec_jwk(key.get(), "e")}}});
  config::OidcIssuerConfig c;
  c.issuer = kIssuer;
  c.audience = "portcullis";
  c.jwks_file = dir.path() / "jwks.json";
  auto verifier = OidcVerifier::load(c, kLeeway);
  ASSERT_TRUE(verifier) << verifier.error().message;
  EXPECT_EQ(verifier->issuer(), kIssuer);
}

TEST_F(OidcVerifierTest, RefusesASubjectThatCouldForgeALogLine) {
  auto payload = claims();
  payload["sub"] = "alice\r\nevent=login_ok";
  EXPECT_EQ(reason(token(payload)),
            "malformed token: the \"sub\" claim contains a control character (U+000D at byte 5)");
  payload["sub"] = "alice\xe2\x80\xa9";
  EXPECT_NE(reason(token(payload)).find("U+2029"), std::string::npos);
  // Invalid UTF-8 does not get as far: the JSON parser refuses it first.
  payload["sub"] = std::string("alice\xc0\x8a");
  EXPECT_NE(reason(token(payload)), "(accepted)");
}

}  // namespace
}  // namespace portcullis::identity
