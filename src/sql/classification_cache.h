// Memoizes statement classification by exact text: clients repeat the same statements
// (prepared statements, ORMs), and a cache hit costs a hash and a lock instead of a parse.
// One cache serves one dialect, so the text alone is the key.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sql/dialect.h"
#include "sql/statement.h"

namespace portcullis::sql {

struct CacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  std::size_t entries = 0;
};

// Bounded LRU of one dialect's classifications, thread-safe: entries are spread over shards,
// each with its own lock, so threads rarely wait on each other.
class ClassificationCache {
 public:
  // Sessions classify every statement; 10 000 distinct texts cover an application's
  // statements. Texts longer than max_text are classified but not kept (pgbench -M simple
  // and bulk loads send texts that never repeat).
  static constexpr std::size_t kDefaultMaxEntries = 10000;
  static constexpr std::size_t kDefaultMaxText = 64 * 1024;

  explicit ClassificationCache(std::size_t max_entries = kDefaultMaxEntries,
                               std::size_t max_text = kDefaultMaxText);
  explicit ClassificationCache(Dialect dialect, std::size_t max_entries = kDefaultMaxEntries,
                               std::size_t max_text = kDefaultMaxText);
  ~ClassificationCache();
  ClassificationCache(const ClassificationCache&) = delete;
  ClassificationCache& operator=(const ClassificationCache&) = delete;

  std::shared_ptr<const Classification> classify(std::string_view sql);

  Dialect dialect() const { return dialect_; }
  CacheStats stats() const;
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  struct Shard;

  Shard& shard_for(std::size_t hash);

  Dialect dialect_;
  std::size_t max_text_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace portcullis::sql
