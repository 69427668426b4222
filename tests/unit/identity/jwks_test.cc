#include "identity/jwks.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <fstream>

#include "identity/base64url.h"
#include "test_keys.h"

namespace portcullis::identity {
namespace {

using namespace testing;

std::string set_of(std::initializer_list<boost::json::value> keys) {
  return boost::json::serialize(
      boost::json::object{{"keys", boost::json::array(keys.begin(), keys.end())}});
}

class JwksTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = generate_rsa_key().release();
    ec_ = generate_ec_p256_key().release();
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(rsa_);
    EVP_PKEY_free(ec_);
  }
  static EVP_PKEY* rsa_;
  static EVP_PKEY* ec_;
};
EVP_PKEY* JwksTest::rsa_ = nullptr;
EVP_PKEY* JwksTest::ec_ = nullptr;

TEST_F(JwksTest, LoadsRsaAndEcKeysByKid) {
  auto set = Jwks::parse(set_of({rsa_jwk(rsa_, "r1"), ec_jwk(ec_, "e1")}));
  ASSERT_TRUE(set) << set.error().message;
  ASSERT_EQ(set->keys().size(), 2u);
  auto r1 = set->find(std::string("r1"));
  ASSERT_TRUE(r1);
  EXPECT_EQ((*r1)->algorithm, JwsAlgorithm::rs256);
  EXPECT_EQ(EVP_PKEY_eq((*r1)->key.get(), rsa_), 1);
  auto e1 = set->find(std::string("e1"));
  ASSERT_TRUE(e1);
  EXPECT_EQ((*e1)->algorithm, JwsAlgorithm::es256);
  EXPECT_EQ(EVP_PKEY_eq((*e1)->key.get(), ec_), 1);
}

TEST_F(JwksTest, RefusesUnknownKid) {
  auto set = Jwks::parse(set_of({rsa_jwk(rsa_, "r1")}));
  auto found = set->find(std::string("r9"));
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().message, "token key id \"r9\" is not in the issuer's key set");
}

TEST_F(JwksTest, TokenWithoutKidUsesTheOnlyKey) {
  auto set = Jwks::parse(set_of({rsa_jwk(rsa_, "r1")}));
  EXPECT_TRUE(set->find(std::nullopt));
  auto two = Jwks::parse(set_of({rsa_jwk(rsa_, "r1"), ec_jwk(ec_, "e1")}));
  auto found = two->find(std::nullopt);
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().message, "token has no key id (\"kid\") and the issuer has several keys");
}

TEST_F(JwksTest, SkipsEncryptionKeysAndUnacceptedAlgorithms) {
  auto enc = rsa_jwk(rsa_, "enc1");
  enc["use"] = "enc";
  auto rs512 = rsa_jwk(rsa_, "r512");
  rs512["alg"] = "RS512";
  boost::json::object okp{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AAAA"}, {"kid", "o1"}};
  auto set = Jwks::parse(set_of({enc, rs512, okp, ec_jwk(ec_, "e1")}));
  ASSERT_TRUE(set) << set.error().message;
  ASSERT_EQ(set->keys().size(), 1u);
  EXPECT_EQ(set->keys()[0].kid, "e1");
}

TEST_F(JwksTest, RefusesSetWithoutUsableKey) {
  auto enc = rsa_jwk(rsa_, "enc1");
  enc["use"] = "enc";
  auto set = Jwks::parse(set_of({enc}));
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().message, "JWKS has no usable RS256 or ES256 signing key");
}

TEST_F(JwksTest, RefusesShortRsaKey) {
  auto weak = generate_rsa_key(1024);
  auto set = Jwks::parse(set_of({rsa_jwk(weak.get(), "weak")}));
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().message, "JWKS key \"weak\": RSA key shorter than 2048 bits");
}

TEST_F(JwksTest, RefusesEcPointNotOnTheCurve) {
  auto jwk = ec_jwk(ec_, "bad");
  auto y = *base64url_decode(jwk["y"].as_string());
  y[31] ^= 0x01;
  jwk["y"] = base64url_encode(y);
  auto set = Jwks::parse(set_of({jwk}));
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().message, "JWKS key \"bad\": not a valid EC public key");
}

TEST_F(JwksTest, RefusesDuplicateKid) {
  auto set = Jwks::parse(set_of({rsa_jwk(rsa_, "k"), ec_jwk(ec_, "k")}));
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().message, "JWKS has two keys with kid \"k\"");
}

TEST_F(JwksTest, RefusesMalformedDocuments) {
  EXPECT_EQ(Jwks::parse("nope").error().message, "JWKS is not valid JSON");
  EXPECT_EQ(Jwks::parse("{}").error().message, "JWKS has no \"keys\" array");
  EXPECT_EQ(Jwks::parse(R"({"keys":[1]})").error().message, "JWKS key #1 is not an object");
  EXPECT_EQ(Jwks::parse(R"({"keys":[{"kty":"RSA","kid":"x","e":"AQAB"}]})").error().message,
            "JWKS key \"x\": missing \"n\"");
}

TEST_F(JwksTest, LoadsFromFileAndNamesTheFileOnError) {
  TempDir dir;
  const auto file = dir.path() / "jwks.json";
  std::ofstream(file) << set_of({rsa_jwk(rsa_, "r1")});
  EXPECT_TRUE(Jwks::load_file(file));
  auto missing = Jwks::load_file(dir.path() / "absent.json");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("absent.json"), std::string::npos);
}

}  // namespace
}  // namespace portcullis::identity
