#include "identity/api_key.h"

#include <gtest/gtest.h>

#include "identity/base64url.h"
#include "test_clock.h"
#include "test_keys.h"

namespace portcullis::identity {
namespace {

using namespace std::chrono_literals;
using testing::kNow;
using testing::TempDir;

class ApiKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_state_store("sqlite://" + (dir_.path() / "state.db").string());
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  Secret create(const std::string& name, std::optional<std::chrono::milliseconds> ttl = {}) {
    auto key = create_api_key(*store_, {name, {"deploy"}, ttl}, kNow);
    EXPECT_TRUE(key) << key.error().message;
    return key ? *key : Secret();
  }

  std::string reason(const Secret& key, TimePoint now = kNow, std::string_view user = "ci-bot") {
    auto identity = verify_api_key(*store_, key, user, now);
    return identity ? "(accepted)" : identity.error().message;
  }

  TempDir dir_;
  std::unique_ptr<store::StateStore> store_;
};

TEST_F(ApiKeyTest, CreatesRecognisableKeyOf256RandomBits) {
  const Secret key = create("ci-bot");
  const std::string& text = key.reveal();
  ASSERT_EQ(text.substr(0, 4), "pcs_");
  EXPECT_EQ(text.size(), 4u + 43u);
  EXPECT_EQ(base64url_decode(text.substr(4))->size(), 32u);
  EXPECT_NE(create("other-bot").reveal(), text);
}

TEST_F(ApiKeyTest, StoresOnlyTheHash) {
  const Secret key = create("ci-bot", 24h);
  auto records = store_->list_api_keys();
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 1u);
  const auto& record = records->front();
  EXPECT_EQ(record.name, "ci-bot");
  EXPECT_EQ(record.key_hash, api_key_hash(key.reveal()));
  EXPECT_EQ(record.key_hash.size(), 64u);
  EXPECT_EQ(record.key_hash.find(key.reveal().substr(4)), std::string::npos);
  EXPECT_EQ(record.groups, std::vector<std::string>{"deploy"});
  EXPECT_EQ(record.created_at, kNow);
  EXPECT_EQ(record.expires_at, kNow + 24h);
  EXPECT_FALSE(record.last_used_at);
  EXPECT_FALSE(record.revoked);
}

TEST_F(ApiKeyTest, HashIsHexSha256OfTheWholeKey) {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(api_key_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(ApiKeyTest, VerifiesKeyAsServiceIdentityAndRecordsUse) {
  const Secret key = create("ci-bot", 24h);
  auto identity = verify_api_key(*store_, key, "ci-bot", kNow + 1h);
  ASSERT_TRUE(identity) << identity.error().message;
  EXPECT_EQ(identity->subject, "ci-bot");
  EXPECT_EQ(identity->kind, SubjectKind::service);
  EXPECT_EQ(identity->method, AuthMethod::api_key);
  EXPECT_EQ(identity->token_id, "ci-bot");
  // The key's name, never its secret.
  EXPECT_EQ(identity->credential, "api_key ci-bot");
  EXPECT_EQ(identity->credential.find(key.reveal()), std::string::npos);
  EXPECT_EQ(identity->issuer, "apikey");
  EXPECT_EQ(identity->groups, std::vector<std::string>{"deploy"});
  EXPECT_EQ(identity->expires_at, kNow + 24h);
  EXPECT_EQ(store_->list_api_keys()->front().last_used_at, kNow + 1h);
}

TEST_F(ApiKeyTest, KeyWithoutTtlNeverExpires) {
  const Secret key = create("forever");
  auto identity = verify_api_key(*store_, key, "forever", kNow + 24h * 3650);
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->expires_at, TimePoint::max());
}

TEST_F(ApiKeyTest, RefusesUnknownKey) {
  create("ci-bot");
  auto forged = create_api_key(*store_, {"elsewhere", {}, {}}, kNow);
  ASSERT_TRUE(store_->revoke_api_key("elsewhere"));
  // A well-formed key that was never stored.
  std::string text = forged->reveal();
  text[10] = text[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(reason(Secret(text)), "unknown API key");
}

TEST_F(ApiKeyTest, RefusesMalformedKey) {
  EXPECT_EQ(reason(Secret("pcs_short")), "malformed API key");
  EXPECT_EQ(reason(Secret("pcs_" + std::string(43, '!'))), "malformed API key");
}

TEST_F(ApiKeyTest, RefusesExpiredKey) {
  const Secret key = create("ci-bot", 1h);
  EXPECT_EQ(reason(key, kNow + 1h - 1ms), "(accepted)");
  EXPECT_EQ(reason(key, kNow + 1h), "API key expired");
}

TEST_F(ApiKeyTest, RefusesRevokedKey) {
  const Secret key = create("ci-bot", 24h);
  ASSERT_EQ(reason(key), "(accepted)");
  auto revoked = store_->revoke_api_key("ci-bot");
  ASSERT_TRUE(revoked);
  EXPECT_TRUE(*revoked);
  EXPECT_EQ(reason(key), "API key revoked");
}

TEST_F(ApiKeyTest, RefusesKeyPresentedForAnotherUserWithoutRecordingUse) {
  const Secret key = create("ci-bot");
  EXPECT_EQ(reason(key, kNow, "postgres"),
            "API key name \"ci-bot\" does not match user \"postgres\"");
  EXPECT_FALSE(store_->list_api_keys()->front().last_used_at);
}

TEST_F(ApiKeyTest, RefusesDuplicateName) {
  create("ci-bot");
  auto again = create_api_key(*store_, {"ci-bot", {}, {}}, kNow);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message, "an API key named \"ci-bot\" already exists");
}

TEST_F(ApiKeyTest, RefusesInvalidNames) {
  for (const std::string& name :
       std::vector<std::string>{"", "has space", "semi;colon", std::string(64, 'a'), "quote\""}) {
    EXPECT_FALSE(create_api_key(*store_, {name, {}, {}}, kNow)) << name;
  }
  EXPECT_TRUE(validate_api_key_name("svc.deploy-1_x@prod"));
}

TEST_F(ApiKeyTest, RecordsUseAtMostOncePerMinute) {
  const Secret key = create("ci-bot");
  ASSERT_EQ(reason(key, kNow), "(accepted)");
  ASSERT_EQ(reason(key, kNow + 30s), "(accepted)");
  EXPECT_EQ(store_->list_api_keys()->front().last_used_at, kNow);
  ASSERT_EQ(reason(key, kNow + 61s), "(accepted)");
  EXPECT_EQ(store_->list_api_keys()->front().last_used_at, kNow + 61s);
}

TEST_F(ApiKeyTest, RefusesToCreateAKeyWhoseNameHasAControlCharacter) {
  EXPECT_FALSE(create_api_key(*store_, {"ci\nbot", {"deploy"}, {}}, kNow));
}

TEST_F(ApiKeyTest, RefusesAStoredKeyWhoseNameHasAControlCharacter) {
  // A row not made by create_api_key (written by hand or by an older version).
  const std::string key = "pcs_" + base64url_encode(std::string(32, 'k'));
  store::ApiKeyRecord record;
  record.name = "ci\nbot";
  record.key_hash = api_key_hash(key);
  record.groups = {"deploy"};
  record.created_at = kNow;
  ASSERT_TRUE(store_->insert_api_key(record));
  EXPECT_EQ(reason(Secret(key), kNow, "ci\nbot"),
            "the API key name contains a control character (U+000A at byte 2)");
}

}  // namespace
}  // namespace portcullis::identity
