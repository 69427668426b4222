// Gateway cancel keys: one per session, found only with its secret, gone once removed.
#include "proto/postgres/cancel_registry.h"

#include <gtest/gtest.h>

#include <set>

namespace portcullis::proto::postgres {
namespace {

CancelTarget target_of(std::string host, uint16_t port, int32_t pid) {
  CancelTarget target;
  target.host = std::move(host);
  target.port = port;
  target.backend_key.process_id = pid;
  target.backend_key.secret_key = pid * 31;
  return target;
}

CancelRequest request_for(BackendKeyData key) {
  CancelRequest request;
  request.process_id = key.process_id;
  request.secret_key = key.secret_key;
  return request;
}

TEST(CancelRegistry, IssuesUniquePositiveProcessIds) {
  CancelRegistry registry;
  std::set<int32_t> ids;
  for (int i = 0; i < 2000; ++i) {
    const auto key = registry.add(target_of("db", 5432, i));
    EXPECT_GT(key.process_id, 0);
    EXPECT_TRUE(ids.insert(key.process_id).second) << key.process_id;
  }
}

TEST(CancelRegistry, FindsTheTargetWithTheRightSecret) {
  CancelRegistry registry;
  const auto key_a = registry.add(target_of("db-a", 5432, 100));
  const auto key_b = registry.add(target_of("db-b", 6543, 200));
  const auto found = registry.find(request_for(key_b));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->host, "db-b");
  EXPECT_EQ(found->port, 6543);
  EXPECT_EQ(found->backend_key.process_id, 200);
  EXPECT_EQ(found->backend_key.secret_key, 200 * 31);
  ASSERT_TRUE(registry.find(request_for(key_a)).has_value());
  EXPECT_EQ(registry.find(request_for(key_a))->host, "db-a");
}

TEST(CancelRegistry, DoesNotFindWithWrongSecret) {
  CancelRegistry registry;
  const auto key = registry.add(target_of("db", 5432, 1));
  auto request = request_for(key);
  request.secret_key ^= 1;
  EXPECT_FALSE(registry.find(request).has_value());
}

TEST(CancelRegistry, DoesNotFindUnknownProcessId) {
  CancelRegistry registry;
  const auto key = registry.add(target_of("db", 5432, 1));
  auto request = request_for(key);
  request.process_id = key.process_id == 1 ? 2 : 1;
  EXPECT_FALSE(registry.find(request).has_value());
}

TEST(CancelRegistry, ForgetsRemovedKey) {
  CancelRegistry registry;
  const auto kept = registry.add(target_of("db", 5432, 1));
  const auto removed = registry.add(target_of("db", 5432, 2));
  registry.remove(removed.process_id);
  EXPECT_FALSE(registry.find(request_for(removed)).has_value());
  EXPECT_TRUE(registry.find(request_for(kept)).has_value());
  registry.remove(removed.process_id);  // twice is harmless
}

TEST(CancelRegistry, DoesNotReuseAnIdWhileItIsRegistered) {
  CancelRegistry registry;
  const auto first = registry.add(target_of("db", 5432, 1));
  std::set<int32_t> ids{first.process_id};
  for (int i = 0; i < 100; ++i) {
    const auto key = registry.add(target_of("db", 5432, 1));
    EXPECT_TRUE(ids.insert(key.process_id).second);
    registry.remove(key.process_id);
  }
  EXPECT_TRUE(registry.find(request_for(first)).has_value());
}

}  // namespace
}  // namespace portcullis::proto::postgres
