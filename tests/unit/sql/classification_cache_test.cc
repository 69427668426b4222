#include "sql/classification_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace portcullis::sql {
namespace {

TEST(ClassificationCacheTest, SecondLookupOfTheSameTextIsAHit) {
  ClassificationCache cache;
  auto first = cache.classify("SELECT 1");
  auto second = cache.classify("SELECT 1");
  EXPECT_EQ(first.get(), second.get());
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 1u);
  ASSERT_EQ(second->statements.size(), 1u);
  EXPECT_EQ(second->statements[0].kind, "select");
}

TEST(ClassificationCacheTest, DifferentTextIsAMissEvenWhenOnlyWhitespaceDiffers) {
  ClassificationCache cache;
  cache.classify("SELECT 1");
  cache.classify("SELECT  1");
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_EQ(cache.misses(), 2u);
  EXPECT_EQ(cache.stats().entries, 2u);
}

TEST(ClassificationCacheTest, NeverHoldsMoreThanItsBound) {
  ClassificationCache cache(100);
  for (int i = 0; i < 1000; ++i) cache.classify("SELECT " + std::to_string(i));
  EXPECT_LE(cache.stats().entries, 100u);
  EXPECT_GE(cache.stats().entries, 90u);
}

TEST(ClassificationCacheTest, TinyBoundIsExact) {
  ClassificationCache cache(3);
  for (int i = 0; i < 50; ++i) cache.classify("SELECT " + std::to_string(i));
  EXPECT_EQ(cache.stats().entries, 3u);
}

TEST(ClassificationCacheTest, EvictsTheLeastRecentlyUsed) {
  ClassificationCache cache(1);
  cache.classify("SELECT 1");
  cache.classify("SELECT 2");  // evicts SELECT 1
  cache.classify("SELECT 1");
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_EQ(cache.misses(), 3u);
  cache.classify("SELECT 1");
  EXPECT_EQ(cache.hits(), 1u);
}

TEST(ClassificationCacheTest, LongTextIsClassifiedButNotCached) {
  ClassificationCache cache(100, 32);
  std::string long_text = "SELECT 1 AS " + std::string(40, 'a');
  auto a = cache.classify(long_text);
  auto b = cache.classify(long_text);
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_EQ(cache.misses(), 2u);
  EXPECT_EQ(cache.stats().entries, 0u);
  ASSERT_EQ(b->statements.size(), 1u);
  EXPECT_EQ(b->statements[0].kind, "select");
}

TEST(ClassificationCacheTest, ZeroEntriesCachesNothing) {
  ClassificationCache cache(0);
  cache.classify("SELECT 1");
  cache.classify("SELECT 1");
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(ClassificationCacheTest, UnparsableTextIsCachedAsUnknown) {
  ClassificationCache cache;
  cache.classify("SELEC 1");
  auto c = cache.classify("SELEC 1");
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_FALSE(c->parse_error.empty());
}

TEST(ClassificationCacheTest, FourThreadsShareTheCacheSafely) {
  ClassificationCache cache(64);
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  std::vector<std::thread> threads;
  std::vector<int> wrong(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        int n = (i * 7 + t) % 100;  // more texts than entries: evictions race with hits
        std::string sql =
            n % 2 == 0 ? "SELECT " + std::to_string(n) : "DELETE FROM t" + std::to_string(n);
        auto c = cache.classify(sql);
        const char* want = n % 2 == 0 ? "select" : "delete";
        if (c->statements.size() != 1 || c->statements[0].kind != want) ++wrong[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(wrong[t], 0);
  EXPECT_EQ(cache.hits() + cache.misses(), static_cast<uint64_t>(kThreads * kRounds));
  EXPECT_LE(cache.stats().entries, 64u);
}

}  // namespace
}  // namespace portcullis::sql
