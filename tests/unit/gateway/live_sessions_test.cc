// The live-session registry: listing, ending one session or every session of a subject, from
// any thread, and forgetting a session once its registration is gone.
#include "gateway/live_sessions.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <thread>

namespace portcullis::gateway {
namespace {

std::shared_ptr<LiveSession> session(std::string id, std::string subject,
                                     std::string protocol = "postgres") {
  auto s = std::make_shared<LiveSession>();
  s->id = std::move(id);
  s->subject = std::move(subject);
  s->protocol = std::move(protocol);
  s->connection = "app-db";
  return s;
}

TEST(LiveSessionsTest, ListsWhatIsRegisteredAndForgetsItWithItsRegistration) {
  LiveSessions registry;
  auto a = registry.add(session("s1", "alice"), [](std::string) {});
  {
    auto b = registry.add(session("s2", "bob", "ssh"), [](std::string) {});
    EXPECT_EQ(registry.list().size(), 2u);
    EXPECT_EQ(registry.count_by_protocol(),
              (std::map<std::string, std::size_t>{{"postgres", 1}, {"ssh", 1}}));
  }
  const auto listed = registry.list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, "s1");
  EXPECT_EQ(listed[0].subject, "alice");
}

TEST(LiveSessionsTest, EndCallsTheSessionsEnderWithTheReason) {
  LiveSessions registry;
  std::string told;
  auto a = registry.add(session("s1", "alice"), [&](std::string reason) { told = reason; });
  EXPECT_TRUE(registry.end("s1", "terminated by an administrator"));
  EXPECT_EQ(told, "terminated by an administrator");
  EXPECT_FALSE(registry.end("no-such-session", "x"));
}

TEST(LiveSessionsTest, EndSubjectEndsEverySessionOfThatSubjectOnly) {
  LiveSessions registry;
  int alice_ended = 0;
  int bob_ended = 0;
  auto a1 = registry.add(session("s1", "alice"), [&](std::string) { ++alice_ended; });
  auto a2 = registry.add(session("s2", "alice", "ssh"), [&](std::string) { ++alice_ended; });
  auto b = registry.add(session("s3", "bob"), [&](std::string) { ++bob_ended; });
  EXPECT_EQ(registry.end_subject("alice", "revoked"), 2u);
  EXPECT_EQ(alice_ended, 2);
  EXPECT_EQ(bob_ended, 0);
}

TEST(LiveSessionsTest, CountersAndHeldReviewShowInTheListing) {
  LiveSessions registry;
  auto live = session("s1", "alice");
  auto registration = registry.add(live, [](std::string) {});
  live->commands.store(7);
  live->bytes_in.store(100);
  live->set_held_review("r-abc");
  const auto listed = registry.list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].commands, 7u);
  EXPECT_EQ(listed[0].bytes_in, 100u);
  EXPECT_EQ(listed[0].held_review, "r-abc");
}

TEST(LiveSessionsTest, RegistersAndEndsFromManyThreadsAtOnce) {
  LiveSessions registry;
  std::atomic<int> ended{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto registration = registry.add(session(fmt::format("s{}-{}", t, i), "alice"),
                                         [&](std::string) { ++ended; });
        registry.end_subject("alice", "revoked");
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_GE(ended.load(), 800);
  EXPECT_TRUE(registry.list().empty());
}

}  // namespace
}  // namespace portcullis::gateway
