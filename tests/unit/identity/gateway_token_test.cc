#include "identity/gateway_token.h"

#include <gtest/gtest.h>

#include "identity/base64url.h"
#include "test_clock.h"
#include "test_keys.h"

namespace portcullis::identity {
namespace {

using namespace std::chrono_literals;
using testing::encode_part;
using testing::kLeeway;
using testing::kNow;

// A whole second, so that NumericDate arithmetic in the tests is exact.

int64_t secs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

class GatewayTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = SigningKey::generate();
    ASSERT_TRUE(key);
    key_.emplace(std::move(*key));
    verifier_.emplace(*key_, "portcullis", kLeeway);
  }

  Secret issue(TokenRequest request) {
    auto token = issue_gateway_token(*key_, "portcullis", request, kNow);
    EXPECT_TRUE(token) << token.error().message;
    return token ? *token : Secret();
  }

  Result<Identity> verify(std::string_view token, TimePoint now = kNow) {
    auto jwt = parse_jwt(token);
    if (!jwt) return jwt.error();
    return verifier_->verify(*jwt, now);
  }

  // A token with a hand-made payload, signed by the gateway key.
  std::string custom(const boost::json::object& payload) {
    return testing::sign_token({{"alg", "EdDSA"}, {"typ", "JWT"}, {"kid", key_->key_id()}}, payload,
                               JwsAlgorithm::eddsa, key_->pkey());
  }

  boost::json::object claims(int64_t exp_offset = 3600) {
    return {{"iss", "portcullis"},
            {"sub", "alice"},
            {"groups", boost::json::array{"eng"}},
            {"kind", "user"},
            {"iat", secs(kNow)},
            {"nbf", secs(kNow)},
            {"exp", secs(kNow) + exp_offset},
            {"jti", "j1"}};
  }

  std::optional<SigningKey> key_;
  std::optional<GatewayTokenVerifier> verifier_;
};

TEST_F(GatewayTokenTest, RoundTripsSubjectGroupsKindAndExpiry) {
  const Secret token = issue({"ci-bot", {"deploy", "readers"}, SubjectKind::service, 2h});
  auto identity = verify(token.reveal());
  ASSERT_TRUE(identity) << identity.error().message;
  EXPECT_EQ(identity->subject, "ci-bot");
  EXPECT_EQ(identity->groups, (std::vector<std::string>{"deploy", "readers"}));
  EXPECT_EQ(identity->kind, SubjectKind::service);
  EXPECT_EQ(identity->method, AuthMethod::gateway_token);
  EXPECT_EQ(identity->issuer, "portcullis");
  EXPECT_EQ(identity->expires_at, kNow + 2h);
  EXPECT_EQ(identity->token_id.size(), 22u);  // 128 bits in base64url
  EXPECT_EQ(identity->credential, "jti " + identity->token_id);
}

TEST_F(GatewayTokenTest, IssuesTheDocumentedHeaderAndClaims) {
  const Secret token = issue({"alice", {}, SubjectKind::user, 1h});
  auto jwt = parse_jwt(token.reveal());
  ASSERT_TRUE(jwt);
  EXPECT_EQ(jwt->header.at("alg").as_string(), "EdDSA");
  EXPECT_EQ(jwt->header.at("typ").as_string(), "JWT");
  EXPECT_EQ(jwt->header.at("kid").as_string(), key_->key_id());
  for (const char* claim : {"iss", "sub", "groups", "kind", "iat", "nbf", "exp", "jti"})
    EXPECT_TRUE(jwt->payload.contains(claim)) << claim;
  EXPECT_EQ(jwt->payload.at("kind").as_string(), "user");
  EXPECT_EQ(jwt->payload.at("iat").as_int64(), secs(kNow));
  EXPECT_EQ(jwt->payload.at("exp").as_int64(), secs(kNow) + 3600);
}

TEST_F(GatewayTokenTest, EveryTokenHasADifferentJti) {
  auto a = parse_jwt(issue({"alice", {}, SubjectKind::user, 1h}).reveal());
  auto b = parse_jwt(issue({"alice", {}, SubjectKind::user, 1h}).reveal());
  EXPECT_NE(a->payload.at("jti").as_string(), b->payload.at("jti").as_string());
}

TEST_F(GatewayTokenTest, SubSecondLifetimeStillExpiresAfterIssue) {
  auto jwt = parse_jwt(issue({"alice", {}, SubjectKind::user, 500ms}).reveal());
  EXPECT_GT(jwt->payload.at("exp").as_int64(), jwt->payload.at("iat").as_int64());
}

TEST_F(GatewayTokenTest, RefusesToIssueForEmptySubjectOrZeroLifetime) {
  EXPECT_FALSE(issue_gateway_token(*key_, "portcullis", {"", {}, SubjectKind::user, 1h}, kNow));
  EXPECT_FALSE(issue_gateway_token(*key_, "portcullis", {"a", {}, SubjectKind::user, 0ms}, kNow));
}

TEST_F(GatewayTokenTest, RefusesExpiredTokenBeyondLeeway) {
  const Secret token = issue({"alice", {}, SubjectKind::user, 1h});
  auto late = verify(token.reveal(), kNow + 1h + kLeeway);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().message, "token expired");
}

TEST_F(GatewayTokenTest, AcceptsExpiredTokenWithinLeeway) {
  const Secret token = issue({"alice", {}, SubjectKind::user, 1h});
  EXPECT_TRUE(verify(token.reveal(), kNow + 1h + kLeeway - 1s));
}

TEST_F(GatewayTokenTest, RefusesTokenNotYetValidBeyondLeeway) {
  auto payload = claims();
  payload["nbf"] = secs(kNow) + 61;
  payload["iat"] = secs(kNow);
  auto early = verify(custom(payload));
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().message, "token not yet valid");
  payload["nbf"] = secs(kNow) + 60;
  EXPECT_TRUE(verify(custom(payload)));
}

TEST_F(GatewayTokenTest, RefusesTokenIssuedInTheFuture) {
  auto payload = claims();
  payload["iat"] = secs(kNow) + 3000;
  auto result = verify(custom(payload));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "token issued in the future");
}

TEST_F(GatewayTokenTest, RefusesTokenWithoutExpiry) {
  auto payload = claims();
  payload.erase("exp");
  auto result = verify(custom(payload));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "malformed token: missing \"exp\" claim");
}

TEST_F(GatewayTokenTest, RefusesNonNumericOrAbsurdTimes) {
  auto payload = claims();
  payload["exp"] = "tomorrow";
  EXPECT_EQ(verify(custom(payload)).error().message,
            "malformed token: \"exp\" claim is not a number");
  payload["exp"] = 1e300;
  EXPECT_EQ(verify(custom(payload)).error().message,
            "malformed token: \"exp\" claim is out of range");
  payload["exp"] = -5;
  EXPECT_EQ(verify(custom(payload)).error().message,
            "malformed token: \"exp\" claim is out of range");
}

TEST_F(GatewayTokenTest, AcceptsFractionalNumericDates) {
  auto payload = claims();
  payload["exp"] = static_cast<double>(secs(kNow)) + 10.5;
  auto identity = verify(custom(payload));
  ASSERT_TRUE(identity) << identity.error().message;
  EXPECT_EQ(identity->expires_at, kNow + 10500ms);
}

TEST_F(GatewayTokenTest, RefusesAlteredPayload) {
  const std::string token = issue({"alice", {"eng"}, SubjectKind::user, 1h}).reveal();
  auto forged = claims();
  forged["groups"] = boost::json::array{"dba"};
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  const std::string altered =
      token.substr(0, first + 1) + encode_part(forged) + token.substr(second);
  auto result = verify(altered);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "token signature is invalid");
}

TEST_F(GatewayTokenTest, RefusesAlteredSignature) {
  const std::string token = issue({"alice", {}, SubjectKind::user, 1h}).reveal();
  const auto sig_at = token.rfind('.') + 1;
  auto raw = base64url_decode(token.substr(sig_at));
  std::string flipped = *raw;
  flipped[10] ^= 0x01;
  EXPECT_EQ(verify(token.substr(0, sig_at) + base64url_encode(flipped)).error().message,
            "token signature is invalid");
  // A truncated signature is a bad signature too, not a crash.
  EXPECT_EQ(verify(token.substr(0, sig_at) + base64url_encode(raw->substr(0, 60))).error().message,
            "token signature is invalid");
}

TEST_F(GatewayTokenTest, RefusesTokenFromAnotherGatewayKey) {
  auto other = SigningKey::generate();
  auto token =
      issue_gateway_token(*other, "portcullis", {"alice", {}, SubjectKind::user, 1h}, kNow);
  auto result = verify(token->reveal());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message,
            "token key id \"" + other->key_id() + "\" is not the gateway's signing key");
  // Without the kid the signature itself fails.
  auto payload = claims();
  auto no_kid =
      testing::sign_token({{"alg", "EdDSA"}}, payload, JwsAlgorithm::eddsa, other->pkey());
  EXPECT_EQ(verify(no_kid).error().message, "token signature is invalid");
}

TEST_F(GatewayTokenTest, RefusesUnknownKind) {
  auto payload = claims();
  payload["kind"] = "admin";
  EXPECT_EQ(verify(custom(payload)).error().message,
            "malformed token: \"kind\" claim is neither \"user\" nor \"service\"");
}

TEST_F(GatewayTokenTest, RefusesTokenOfAnotherIssuer) {
  auto payload = claims();
  payload["iss"] = "someone-else";
  EXPECT_EQ(verify(custom(payload)).error().message,
            "token issuer \"someone-else\" is not trusted");
}

TEST_F(GatewayTokenTest, RefusesASubjectThatCouldForgeALogLine) {
  auto payload = claims();
  payload["sub"] = "alice\nevent=login_ok subject=admin";
  auto identity = verify(custom(payload));
  ASSERT_FALSE(identity);
  EXPECT_EQ(identity.error().message,
            "malformed token: the token subject contains a control character (U+000A at byte 5)");
  payload["sub"] = "alice\xe2\x80\xa8";
  EXPECT_FALSE(verify(custom(payload)));
  payload["sub"] = std::string("alice\xff");
  EXPECT_FALSE(verify(custom(payload)));
}

TEST_F(GatewayTokenTest, RefusesToIssueForASubjectWithAControlCharacter) {
  auto token = issue_gateway_token(*key_, "portcullis", {"a\rb", {}, SubjectKind::user, 1h}, kNow);
  ASSERT_FALSE(token);
  EXPECT_NE(token.error().message.find("control character"), std::string::npos);
}

}  // namespace
}  // namespace portcullis::identity
