// Sharded LRU cache of classifications keyed by the statement text.
#include "sql/classification_cache.h"

#include <algorithm>
#include <functional>

#include "sql/classifier.h"

namespace portcullis::sql {

namespace {

// Enough shards that 2–16 session threads seldom share a lock.
constexpr std::size_t kShards = 16;

}  // namespace

struct ClassificationCache::Shard {
  using Entry = std::pair<std::string, std::shared_ptr<const Classification>>;

  explicit Shard(std::size_t cap) : capacity(cap) {}

  std::mutex mutex;
  std::size_t capacity;
  std::list<Entry> lru;  // most recently used first
  // Keys view the strings held by the list's nodes, which never move.
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index;
};

ClassificationCache::ClassificationCache(std::size_t max_entries, std::size_t max_text)
    : ClassificationCache(Dialect::postgres, max_entries, max_text) {}

ClassificationCache::ClassificationCache(Dialect dialect, std::size_t max_entries,
                                         std::size_t max_text)
    : dialect_(dialect), max_text_(max_text) {
  // Fewer shards than kShards when the cache is tiny, so that the bound is exact.
  std::size_t count = std::clamp<std::size_t>(max_entries, 1, kShards);
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t capacity = max_entries / count + (i < max_entries % count ? 1 : 0);
    shards_.push_back(std::make_unique<Shard>(capacity));
  }
}

ClassificationCache::~ClassificationCache() = default;

ClassificationCache::Shard& ClassificationCache::shard_for(std::size_t hash) {
  // The low bits feed the shard's hash table; pick the shard from the high bits.
  return *shards_[(hash >> 48) % shards_.size()];
}

std::shared_ptr<const Classification> ClassificationCache::classify(std::string_view sql) {
  if (sql.size() > max_text_) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::make_shared<const Classification>(sql::classify(sql, dialect_));
  }
  const std::size_t hash = std::hash<std::string_view>{}(sql);
  Shard& shard = shard_for(hash);
  {
    std::lock_guard lock(shard.mutex);
    if (auto it = shard.index.find(sql); it != shard.index.end()) {
      shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
      hits_.fetch_add(1, std::memory_order_relaxed);
      return it->second->second;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  // Parse outside the lock: a parse takes microseconds, a lookup nanoseconds.
  auto result = std::make_shared<const Classification>(sql::classify(sql, dialect_));
  if (shard.capacity == 0) return result;

  std::lock_guard lock(shard.mutex);
  if (auto it = shard.index.find(sql); it != shard.index.end()) {
    return it->second->second;  // another thread classified it meanwhile
  }
  shard.lru.emplace_front(std::string(sql), result);
  shard.index.emplace(shard.lru.front().first, shard.lru.begin());
  while (shard.lru.size() > shard.capacity) {
    shard.index.erase(shard.lru.back().first);
    shard.lru.pop_back();
  }
  return result;
}

CacheStats ClassificationCache::stats() const {
  CacheStats s;
  s.hits = hits();
  s.misses = misses();
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    s.entries += shard->lru.size();
  }
  return s;
}

}  // namespace portcullis::sql
