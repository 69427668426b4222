// SSH keys registered to subjects, in both state stores (real SQLite files, real PostgreSQL
// databases): what is stored reads back, a fingerprint is in force at most once, removal,
// listing by subject.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "state_store_backends.h"
#include "store/state_store.h"
#include "support/temp_dir.h"

namespace portcullis::store {
namespace {

using namespace std::chrono_literals;

// Whole milliseconds: the store keeps times to the millisecond.
const TimePoint kNow = TimePoint(std::chrono::milliseconds(1'700'000'000'123));

SshKeyRecord key(std::string id, std::string subject, std::string fingerprint,
                 TimePoint created_at = kNow) {
  SshKeyRecord r;
  r.id = std::move(id);
  r.subject = std::move(subject);
  r.groups = {"deploy", "read\"ers"};
  r.public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== ci";
  r.fingerprint = std::move(fingerprint);
  r.created_at = created_at;
  r.created_by = "admin";
  r.expires_at = created_at + 24h;
  return r;
}

// Each test on a new, empty store of the kind its parameter names.
class SshKeyStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = testing::fresh_state_url(GetParam(), dir_);
    auto opened = open_state_store(url_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  testing::TempDir dir_;
  std::string url_;
  std::unique_ptr<StateStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Stores, SshKeyStoreTest,
                         ::testing::ValuesIn(testing::state_store_backends()),
                         testing::backend_test_name);

TEST_P(SshKeyStoreTest, StoresAKeyAndFindsItByFingerprint) {
  ASSERT_TRUE(store_->insert_ssh_key(key("k-1", "ci-bot", "SHA256:one")));
  auto found = store_->find_ssh_key("SHA256:one");
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->has_value());
  const SshKeyRecord& r = **found;
  EXPECT_EQ(r.id, "k-1");
  EXPECT_EQ(r.subject, "ci-bot");
  EXPECT_EQ(r.groups, (std::vector<std::string>{"deploy", "read\"ers"}));
  EXPECT_EQ(r.public_key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== ci");
  EXPECT_EQ(r.fingerprint, "SHA256:one");
  EXPECT_EQ(r.created_at, kNow);
  EXPECT_EQ(r.created_by, "admin");
  EXPECT_EQ(r.expires_at, kNow + 24h);
  EXPECT_FALSE(r.removed_at);

  auto missing = store_->find_ssh_key("SHA256:two");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_P(SshKeyStoreTest, KeepsAKeyWithoutExpiry) {
  auto record = key("k-1", "ci-bot", "SHA256:one");
  record.expires_at.reset();
  ASSERT_TRUE(store_->insert_ssh_key(record));
  auto found = store_->find_ssh_key("SHA256:one");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_FALSE((*found)->expires_at);
}

TEST_P(SshKeyStoreTest, RefusesAFingerprintAlreadyInForce) {
  ASSERT_TRUE(store_->insert_ssh_key(key("k-1", "ci-bot", "SHA256:one")));
  auto again = store_->insert_ssh_key(key("k-2", "other-bot", "SHA256:one"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "conflict");
  EXPECT_NE(again.error().message.find("SHA256:one"), std::string::npos) << again.error().message;
  // The first registration stands.
  auto found = store_->find_ssh_key("SHA256:one");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->subject, "ci-bot");
}

TEST_P(SshKeyStoreTest, RemovedKeyIsNotFoundAndMayBeRegisteredAgain) {
  ASSERT_TRUE(store_->insert_ssh_key(key("k-1", "ci-bot", "SHA256:one")));
  auto removed = store_->remove_ssh_key("k-1", kNow + 1h, "admin2");
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_TRUE(*removed);

  auto found = store_->find_ssh_key("SHA256:one");
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value());

  // Removing twice, or a key never registered, removes nothing.
  auto twice = store_->remove_ssh_key("k-1", kNow + 2h, "admin3");
  ASSERT_TRUE(twice);
  EXPECT_FALSE(*twice);
  auto unknown = store_->remove_ssh_key("k-none", kNow, "admin");
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);

  // The removed row is kept, with who removed it and when (the first removal).
  auto listed = store_->list_ssh_keys("");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].removed_at, kNow + 1h);
  EXPECT_EQ((*listed)[0].removed_by, "admin2");

  ASSERT_TRUE(store_->insert_ssh_key(key("k-2", "other-bot", "SHA256:one", kNow + 3h)));
  auto again = store_->find_ssh_key("SHA256:one");
  ASSERT_TRUE(again && again->has_value());
  EXPECT_EQ((*again)->id, "k-2");
  EXPECT_EQ((*again)->subject, "other-bot");
}

TEST_P(SshKeyStoreTest, ListsEverySubjectOrOneOldestFirst) {
  ASSERT_TRUE(store_->insert_ssh_key(key("k-b", "ci-bot", "SHA256:b", kNow + 2h)));
  ASSERT_TRUE(store_->insert_ssh_key(key("k-a", "ci-bot", "SHA256:a", kNow + 1h)));
  ASSERT_TRUE(store_->insert_ssh_key(key("k-c", "backup", "SHA256:c", kNow)));

  auto all = store_->list_ssh_keys("");
  ASSERT_TRUE(all);
  std::vector<std::string> ids;
  for (const auto& r : *all) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"k-c", "k-a", "k-b"}));

  auto ci = store_->list_ssh_keys("ci-bot");
  ASSERT_TRUE(ci);
  ids.clear();
  for (const auto& r : *ci) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"k-a", "k-b"}));

  auto none = store_->list_ssh_keys("nobody");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(SshKeyStoreTest, KeysSurviveReopening) {
  ASSERT_TRUE(store_->insert_ssh_key(key("k-1", "ci-bot", "SHA256:one")));
  store_.reset();
  auto reopened = open_state_store(url_);
  ASSERT_TRUE(reopened) << reopened.error().message;
  auto found = (*reopened)->find_ssh_key("SHA256:one");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->id, "k-1");
}

}  // namespace
}  // namespace portcullis::store
