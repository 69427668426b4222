// Classification on a worker thread for large statements.
#include "proto/postgres/statement_classifier.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/thread_name.h"

namespace portcullis::proto::postgres {
namespace asio = boost::asio;

StatementClassifier::StatementClassifier() : cache_(std::make_shared<sql::ClassificationCache>()) {
  asio::post(worker_, [] { name_this_thread("sql classify"); });
}

StatementClassifier::~StatementClassifier() {
  worker_.join();
}

asio::awaitable<std::shared_ptr<const sql::Classification>>
StatementClassifier::classify_off_thread(std::string text) {
  // Built in a statement of its own: GCC 12 mishandles a capturing lambda written inside a
  // co_await expression (docs/development.md).
  auto work =
      [cache = cache_,
       text = std::move(text)]() -> asio::awaitable<std::shared_ptr<const sql::Classification>> {
    co_return cache->classify(text);
  };
  auto classification = co_await asio::co_spawn(worker_, std::move(work), asio::use_awaitable);
  co_return classification;
}

}  // namespace portcullis::proto::postgres
