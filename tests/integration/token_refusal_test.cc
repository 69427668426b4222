// Every refused credential gets 28P01 with its own reason, and no backend connection is
// opened for it. Tokens are forged here with keys the test makes, or with the gateway's own
// key where the forgery is in the claims.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "gateway_fixture.h"
#include "identity/base64url.h"
#include "identity/gateway_token.h"
#include "identity/jws.h"
#include "identity/jwt.h"
#include "identity/signing_key.h"
#include "support/pg_wire_client.h"
#include "support/postgres_server.h"

namespace portcullis::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
using identity::base64url_encode;

constexpr const char* kOidcIssuer = "https://idp.test.example/";
constexpr const char* kAudience = "portcullis";

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

std::string bn_param(EVP_PKEY* key, const char* name, std::size_t pad_to = 0) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1) << name;
  std::string bytes(std::max<std::size_t>(pad_to, BN_num_bytes(bn)), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  BN_free(bn);
  return base64url_encode(bytes);
}

std::string forge(const json::object& header, const json::object& payload,
                  identity::JwsAlgorithm algorithm, EVP_PKEY* key) {
  const auto input = identity::jws_signing_input(header, payload);
  auto signature = identity::sign_jws(algorithm, key, input);
  EXPECT_TRUE(signature.ok());
  return input + "." + base64url_encode(*signature);
}

json::object oidc_claims(std::string subject, std::chrono::seconds from_now = 3600s) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return json::object{{"iss", kOidcIssuer},        {"aud", kAudience},
                      {"sub", std::move(subject)}, {"groups", json::array{"testers"}},
                      {"iat", now - 10},           {"exp", now + from_now.count()}};
}

class TokenRefusalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PostgresOptions options;
    options.extra_conf = {"log_connections = on"};
    postgres_ = new PostgresServer(options);

    rsa_ = new Pkey(EVP_RSA_gen(2048));
    ec_ = new Pkey(EVP_EC_gen("P-256"));
    json::array keys;
    keys.push_back(json::object{{"kty", "RSA"},
                                {"kid", "rsa-1"},
                                {"alg", "RS256"},
                                {"use", "sig"},
                                {"n", bn_param(rsa_->get(), OSSL_PKEY_PARAM_RSA_N)},
                                {"e", bn_param(rsa_->get(), OSSL_PKEY_PARAM_RSA_E)}});
    keys.push_back(json::object{{"kty", "EC"},
                                {"kid", "ec-1"},
                                {"alg", "ES256"},
                                {"crv", "P-256"},
                                {"x", bn_param(ec_->get(), OSSL_PKEY_PARAM_EC_PUB_X, 32)},
                                {"y", bn_param(ec_->get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32)}});
    jwks_dir_ = new TempDir("portcullis-jwks-");
    const auto jwks = jwks_dir_->path() / "jwks.json";
    std::ofstream(jwks) << json::serialize(json::object{{"keys", keys}});

    GatewayOptions gateway;
    gateway.identity_extra = fmt::format(
        "  oidc:\n    - issuer: {}\n      audience: {}\n      jwks_file: {}\n      groups_claim: "
        "groups\n",
        kOidcIssuer, kAudience, jwks.string());
    gateway_ = new GatewayProcess(*postgres_, gateway);
    // The key file exists once a token was issued: the forgeries below need it.
    valid_token_ = new std::string(gateway_->issue_token("alice"));
    auto key = identity::load_signing_key(gateway_->dir() / "state" / "signing.key", false);
    ASSERT_TRUE(key.ok()) << key.error().message;
    signing_key_ = new identity::SigningKey(*key);
  }
  static void TearDownTestSuite() {
    delete signing_key_;
    delete valid_token_;
    delete gateway_;
    delete jwks_dir_;
    delete ec_;
    delete rsa_;
    delete postgres_;
  }

  // Backend logins the gateway made so far.
  static std::size_t backend_logins() {
    const auto log = postgres_->log_text();
    std::size_t count = 0;
    for (auto at = log.find("connection authorized"); at != std::string::npos;
         at = log.find("connection authorized", at + 1))
      ++count;
    return count;
  }

  // The gateway's `event=auth_failed` log lines whose reason holds `reason` (as the log
  // quotes it: a double quote comes out as \").
  static std::size_t refusals_logged(const std::string& reason) {
    std::string quoted;
    for (char c : reason) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    std::istringstream log(gateway_->process().stdout_text() + gateway_->process().stderr_text());
    std::size_t count = 0;
    for (std::string line; std::getline(log, line);)
      if (line.find("event=auth_failed ") != std::string::npos &&
          line.find(" reason=\"") != std::string::npos && line.find(quoted) != std::string::npos)
        ++count;
    return count;
  }

  // Waits until the gateway has logged more than `before` refusals carrying `reason`: the
  // refusal was decided by the gateway, not by the client giving up.
  static bool wait_for_refusal_logged(const std::string& reason, std::size_t before) {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (refusals_logged(reason) <= before) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }

  // Logs in to the backend directly, under an application name of its own, and waits until
  // its line is in the backend's log: every login that happened before it is there too.
  static void backend_log_barrier() {
    static int serial = 0;
    const std::string name = "log-barrier-" + std::to_string(++serial);
    PGconn* conn = PQconnectdb(postgres_
                                   ->conninfo(postgres_->trust_role(), PostgresServer::kDatabase,
                                              "application_name=" + name)
                                   .c_str());
    EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PQfinish(conn);
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (postgres_->log_text().find("application_name=" + name) == std::string::npos) {
      ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "the backend never logged " << name;
      std::this_thread::sleep_for(20ms);
    }
  }

  // After a refusal the gateway logged: no backend login but the barrier's own.
  static void expect_no_backend_login_since(std::size_t before) {
    backend_log_barrier();
    EXPECT_EQ(backend_logins(), before + 1) << "a refused credential reached the backend";
  }

  // Connects with `token` as `user`; expects a refusal carrying `reason`, logged by the
  // gateway with that reason, and no backend login on its account.
  static void expect_refused(const std::string& user, const std::string& token,
                             const std::string& reason) {
    const auto before = backend_logins();
    const auto logged = refusals_logged(reason);
    PGconn* conn = PQconnectdb(gateway_->conninfo(user, token).c_str());
    const std::string error = PQerrorMessage(conn);
    EXPECT_EQ(PQstatus(conn), CONNECTION_BAD);
    PQfinish(conn);
    EXPECT_NE(error.find("portcullis: authentication failed: "), std::string::npos) << error;
    EXPECT_NE(error.find(reason), std::string::npos)
        << "expected \"" << reason << "\" in: " << error;
    // The token itself never comes back in an error.
    if (token.size() > 16) {
      EXPECT_EQ(error.find(token), std::string::npos);
    }
    EXPECT_TRUE(wait_for_refusal_logged(reason, logged))
        << "the gateway logged no refusal with \"" << reason << "\"";
    expect_no_backend_login_since(before);
  }

  static void expect_accepted(const std::string& user, const std::string& token) {
    PGconn* conn = PQconnectdb(gateway_->conninfo(user, token).c_str());
    EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PQfinish(conn);
  }

  static identity::TokenRequest alice() {
    identity::TokenRequest request;
    request.subject = "alice";
    request.groups = {"testers"};
    request.ttl = 10min;
    return request;
  }

  static PostgresServer* postgres_;
  static GatewayProcess* gateway_;
  static TempDir* jwks_dir_;
  static Pkey* rsa_;
  static Pkey* ec_;
  static std::string* valid_token_;
  static identity::SigningKey* signing_key_;
};

PostgresServer* TokenRefusalTest::postgres_ = nullptr;
GatewayProcess* TokenRefusalTest::gateway_ = nullptr;
TempDir* TokenRefusalTest::jwks_dir_ = nullptr;
Pkey* TokenRefusalTest::rsa_ = nullptr;
Pkey* TokenRefusalTest::ec_ = nullptr;
std::string* TokenRefusalTest::valid_token_ = nullptr;
identity::SigningKey* TokenRefusalTest::signing_key_ = nullptr;

TEST_F(TokenRefusalTest, AcceptsAValidGatewayToken) {
  expect_accepted("alice", *valid_token_);
}

TEST_F(TokenRefusalTest, RefusesMissingToken) {
  // libpq gives up by itself on an empty password: an empty password message is sent raw.
  const auto before = backend_logins();
  const std::string reason = "no token presented";
  const auto logged = refusals_logged(reason);
  PgWireClient client(gateway_->port(), "alice", "", "app-db");
  EXPECT_FALSE(client.ok());
  EXPECT_NE(client.login_error().find("portcullis: authentication failed: " + reason),
            std::string::npos)
      << client.login_error();
  EXPECT_TRUE(wait_for_refusal_logged(reason, logged));
  expect_no_backend_login_since(before);
}

TEST_F(TokenRefusalTest, RefusesTokenWithAlgNone) {
  const auto parts = *valid_token_;
  const auto payload = parts.substr(parts.find('.') + 1, parts.rfind('.') - parts.find('.') - 1);
  const auto header = base64url_encode(R"({"alg":"none","typ":"JWT"})");
  expect_refused("alice", header + "." + payload + ".", "token algorithm \"none\" is not accepted");
}

TEST_F(TokenRefusalTest, RefusesHs256TokenSignedWithThePublicKey) {
  // The classic confusion attack: the public key used as an HMAC secret.
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, signing_key_->pkey());
  char* pem = nullptr;
  const long pem_size = BIO_get_mem_data(bio, &pem);
  const auto parts = *valid_token_;
  const auto payload = parts.substr(parts.find('.') + 1, parts.rfind('.') - parts.find('.') - 1);
  const auto input = base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + payload;
  unsigned char mac[32];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), pem, static_cast<int>(pem_size),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_size);
  BIO_free(bio);
  expect_refused("alice", input + "." + base64url_encode({reinterpret_cast<char*>(mac), mac_size}),
                 "token algorithm \"HS256\" is not accepted");
}

TEST_F(TokenRefusalTest, RefusesExpiredToken) {
  auto token = identity::issue_gateway_token(*signing_key_, "portcullis", alice(),
                                             std::chrono::system_clock::now() - 2h);
  ASSERT_TRUE(token.ok());
  expect_refused("alice", token->reveal(), "token expired");
}

TEST_F(TokenRefusalTest, RefusesTokenNotYetValid) {
  auto token = identity::issue_gateway_token(*signing_key_, "portcullis", alice(),
                                             std::chrono::system_clock::now() + 2h);
  ASSERT_TRUE(token.ok());
  expect_refused("alice", token->reveal(), "token not yet valid");
}

TEST_F(TokenRefusalTest, RefusesTokenFromAnUnknownIssuer) {
  auto token = identity::issue_gateway_token(*signing_key_, "someone-else", alice(),
                                             std::chrono::system_clock::now());
  ASSERT_TRUE(token.ok());
  expect_refused("alice", token->reveal(), "is not trusted");
}

TEST_F(TokenRefusalTest, RefusesTokenWithAlteredPayload) {
  const auto& token = *valid_token_;
  const auto first = token.find('.');
  const auto last = token.rfind('.');
  auto jwt = identity::parse_jwt(token);
  ASSERT_TRUE(jwt.ok());
  auto payload = jwt->payload;
  payload["groups"] = json::array{"testers", "dba"};
  const auto altered =
      token.substr(0, first + 1) + base64url_encode(json::serialize(payload)) + token.substr(last);
  expect_refused("alice", altered, "token signature is invalid");
}

TEST_F(TokenRefusalTest, RefusesTokenWithAlteredSignature) {
  auto token = *valid_token_;
  const auto at = token.rfind('.') + 5;
  token[at] = token[at] == 'A' ? 'B' : 'A';
  expect_refused("alice", token, "token signature is invalid");
}

TEST_F(TokenRefusalTest, RefusesTokenWhoseSubjectIsNotTheUser) {
  expect_refused("bob", *valid_token_, "does not match");
}

TEST_F(TokenRefusalTest, AcceptsOidcTokensSignedWithRs256AndEs256) {
  json::object header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "rsa-1"}};
  expect_accepted("carol",
                  forge(header, oidc_claims("carol"), identity::JwsAlgorithm::rs256, rsa_->get()));
  json::object ec_header{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", "ec-1"}};
  expect_accepted(
      "carol", forge(ec_header, oidc_claims("carol"), identity::JwsAlgorithm::es256, ec_->get()));
}

TEST_F(TokenRefusalTest, RefusesOidcTokenForAnotherAudience) {
  auto claims = oidc_claims("carol");
  claims["aud"] = "some-other-service";
  json::object header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "rsa-1"}};
  expect_refused("carol", forge(header, claims, identity::JwsAlgorithm::rs256, rsa_->get()),
                 "audience");
}

TEST_F(TokenRefusalTest, RefusesOidcTokenWithUnknownKid) {
  json::object header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "rotated-away"}};
  expect_refused("carol",
                 forge(header, oidc_claims("carol"), identity::JwsAlgorithm::rs256, rsa_->get()),
                 "rotated-away");
}

TEST_F(TokenRefusalTest, RefusesExpiredOidcToken) {
  json::object header{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", "ec-1"}};
  expect_refused(
      "carol",
      forge(header, oidc_claims("carol", -3600s), identity::JwsAlgorithm::es256, ec_->get()),
      "token expired");
}

TEST_F(TokenRefusalTest, ApiKeysWorkUntilRevokedOrExpired) {
  auto created = gateway_->cli({"apikey", "create", "--name", "ci-bot", "--group", "testers"});
  ASSERT_TRUE(created.ok()) << created.describe();
  std::string key = created.stdout_text;
  key.erase(key.find_last_not_of("\r\n") + 1);
  expect_accepted("ci-bot", key);

  // A well-formed key that was never issued: change one character in the middle (the last
  // one carries padding bits and may not decode).
  std::string unknown = key;
  auto& changed = unknown[unknown.size() / 2];
  changed = changed == 'A' ? 'B' : 'A';
  expect_refused("ci-bot", unknown, "unknown API key");

  auto revoked = gateway_->cli({"apikey", "revoke", "ci-bot"});
  ASSERT_TRUE(revoked.ok()) << revoked.describe();
  expect_refused("ci-bot", key, "API key revoked");

  auto short_lived = gateway_->cli(
      {"apikey", "create", "--name", "short-bot", "--group", "testers", "--ttl", "1s"});
  ASSERT_TRUE(short_lived.ok()) << short_lived.describe();
  std::string short_key = short_lived.stdout_text;
  short_key.erase(short_key.find_last_not_of("\r\n") + 1);
  // Expired once its second is over: wait until the gateway says so, not for a guessed time.
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    PGconn* conn = PQconnectdb(gateway_->conninfo("short-bot", short_key).c_str());
    const std::string error = PQerrorMessage(conn);
    PQfinish(conn);
    if (error.find("API key expired") != std::string::npos) break;
    ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "the key never expired: " << error;
    std::this_thread::sleep_for(100ms);
  }
  expect_refused("short-bot", short_key, "API key expired");
}

}  // namespace
}  // namespace portcullis::testing
