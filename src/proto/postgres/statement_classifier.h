// StatementClassifier: the sessions' shared classification — memoized by text, and for large
// texts done on a thread of its own. A parse costs about half a millisecond per KiB, and an
// I/O thread serves many sessions: one client's 200 KiB statement must not hold up the
// others' traffic for 100 ms. One worker thread also bounds the memory that large parses
// take at once (about a hundred times the text) to one statement's worth.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "sql/classification_cache.h"

namespace portcullis::proto::postgres {

class StatementClassifier {
 public:
  // Texts at least this long are classified off the I/O thread (about 8 ms of parsing).
  static constexpr std::size_t kOffThreadText = 16 * 1024;

  StatementClassifier();
  ~StatementClassifier();  // waits for a classification in progress
  StatementClassifier(const StatementClassifier&) = delete;
  StatementClassifier& operator=(const StatementClassifier&) = delete;

  std::shared_ptr<const sql::Classification> classify(std::string_view text) {
    return cache_->classify(text);
  }
  // Classifies on the worker thread; the caller resumes on its own executor.
  boost::asio::awaitable<std::shared_ptr<const sql::Classification>> classify_off_thread(
      std::string text);

  const sql::ClassificationCache& cache() const { return *cache_; }

 private:
  std::shared_ptr<sql::ClassificationCache> cache_;
  boost::asio::thread_pool worker_{1};
};

}  // namespace portcullis::proto::postgres
