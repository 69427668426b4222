#include "identity/jwt.h"

#include <gtest/gtest.h>

#include "identity/base64url.h"
#include "test_keys.h"

namespace portcullis::identity {
namespace {

using testing::encode_part;

std::string part(std::string_view json) {
  return base64url_encode(json);
}

std::string parse_error(std::string_view token) {
  auto jwt = parse_jwt(token);
  return jwt ? std::string("(parsed)") : jwt.error().message;
}

TEST(ParseJwt, SplitsHeaderPayloadAndSignature) {
  const std::string token = encode_part({{"alg", "EdDSA"}, {"kid", "k1"}}) + "." +
                            encode_part({{"sub", "alice"}}) + "." + base64url_encode("sig");
  auto jwt = parse_jwt(token);
  ASSERT_TRUE(jwt) << jwt.error().message;
  EXPECT_EQ(jwt->alg, "EdDSA");
  EXPECT_EQ(jwt->kid, "k1");
  EXPECT_EQ(jwt->payload.at("sub").as_string(), "alice");
  EXPECT_EQ(jwt->signature, "sig");
  EXPECT_EQ(jwt->signing_input, token.substr(0, token.rfind('.')));
}

TEST(ParseJwt, RefusesWrongNumberOfParts) {
  EXPECT_EQ(parse_error("abc"), "malformed token: expected three dot-separated parts");
  EXPECT_EQ(parse_error("a.b"), "malformed token: expected three dot-separated parts");
  EXPECT_EQ(parse_error("a.b.c.d"), "malformed token: expected three dot-separated parts");
}

TEST(ParseJwt, RefusesUndecodableParts) {
  const std::string payload = encode_part({{"sub", "x"}});
  EXPECT_EQ(parse_error("@@." + payload + ".c2ln"),
            "malformed token: header is not valid base64url");
  EXPECT_EQ(parse_error(part("{nope") + "." + payload + ".c2ln"),
            "malformed token: header is not valid JSON");
  EXPECT_EQ(parse_error(part("[1]") + "." + payload + ".c2ln"),
            "malformed token: header is not a JSON object");
  const std::string header = encode_part({{"alg", "EdDSA"}});
  EXPECT_EQ(parse_error(header + "." + part("\"x\"") + ".c2ln"),
            "malformed token: payload is not a JSON object");
  EXPECT_EQ(parse_error(header + "." + payload + ".c2ln="),
            "malformed token: signature is not valid base64url");
}

TEST(ParseJwt, RefusesHeaderWithoutAlgOrWithNonStringKid) {
  const std::string payload = encode_part({{"sub", "x"}});
  EXPECT_EQ(parse_error(encode_part({{"typ", "JWT"}}) + "." + payload + "."),
            "malformed token: header has no \"alg\" string");
  EXPECT_EQ(parse_error(encode_part({{"alg", 5}}) + "." + payload + "."),
            "malformed token: header has no \"alg\" string");
  EXPECT_EQ(parse_error(encode_part({{"alg", "RS256"}, {"kid", 1}}) + "." + payload + "."),
            "malformed token: header \"kid\" is not a string");
}

TEST(ParseJwt, RefusesCriticalHeaderExtensions) {
  const std::string token = encode_part({{"alg", "RS256"}, {"crit", boost::json::array{"exp"}}}) +
                            "." + encode_part({{"sub", "x"}}) + ".";
  EXPECT_EQ(parse_error(token), "token uses critical header extensions, which are not supported");
}

TEST(ParseJwt, RefusesEmptyAndOverlongTokens) {
  EXPECT_EQ(parse_error(""), "no token presented");
  EXPECT_EQ(parse_error(std::string(kMaxTokenLength + 1, 'a')),
            "token too long (more than 16384 bytes)");
}

TEST(ParseJwt, RefusesDeeplyNestedJson) {
  std::string deep = std::string(100, '[') + std::string(100, ']');
  const std::string token =
      encode_part({{"alg", "RS256"}}) + "." + part("{\"a\":" + deep + "}") + ".";
  EXPECT_EQ(parse_error(token), "malformed token: payload is not valid JSON");
}

}  // namespace
}  // namespace portcullis::identity
