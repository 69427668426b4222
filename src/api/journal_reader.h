// JournalReader: the API's own connection to the audit journal, used from one worker thread.
// Store reads block (SQLite), and a verify reads the whole journal; on this thread they stall
// neither the API's network thread (health and metrics stay prompt while a verify runs) nor
// the gateway's I/O threads. One thread also keeps the connection to one user at a time.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>

#include "common/result.h"
#include "store/journal_store.h"

namespace portcullis::api {

class JournalReader {
 public:
  // A journal store of its own, opened for `instance` (this gateway's chain).
  static Result<std::unique_ptr<JournalReader>> open(std::string_view state_url,
                                                     std::string instance);
  ~JournalReader();
  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;

  // Runs `work(store)` on the worker thread; the awaiting coroutine resumes on its own
  // executor with the value `work` returned.
  template <class Work>
  auto run(Work work) -> boost::asio::awaitable<std::invoke_result_t<Work&, store::JournalStore&>> {
    using Value = std::invoke_result_t<Work&, store::JournalStore&>;
    // Built apart from the co_await: GCC 12 may destroy a temporary with a destructor (a
    // lambda's captures, a string) twice when it lives in a co_await expression. The API's
    // code keeps such temporaries out of co_await expressions throughout.
    auto spawned = boost::asio::co_spawn(worker_.get_executor(),
                                         on_worker<Value>(store_.get(), std::move(work)),
                                         boost::asio::use_awaitable);
    std::optional<Value> value = co_await std::move(spawned);
    co_return std::move(*value);
  }

  // Drops work not yet started, waits for the running one and ends the thread. Idempotent.
  void stop();

 private:
  explicit JournalReader(std::unique_ptr<store::JournalStore> store) : store_(std::move(store)) {}

  // co_spawn needs a default-constructible value; Result<T> is not, hence the optional.
  template <class Value, class Work>
  static boost::asio::awaitable<std::optional<Value>> on_worker(store::JournalStore* store,
                                                                Work work) {
    co_return work(*store);
  }

  std::unique_ptr<store::JournalStore> store_;
  boost::asio::thread_pool worker_{1};
};

}  // namespace portcullis::api
