// ThreadIds: the connection ids the gateway hands its MySQL clients (in the greeting, and as
// CONNECTION_ID() would show them), mapped to the sessions behind them. A client's Ctrl-C
// opens a second connection and sends KILL QUERY <id>: the id is the gateway's, never the
// backend's, and only the same caller may kill its own session's query. Shared by every I/O
// thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace portcullis::proto::mysql {

struct KillTarget {
  std::string subject;  // only this caller may kill the session's statements
  boost::asio::any_io_executor executor;
  // Runs on `executor`: `connection` ends the session, otherwise its running statement.
  std::function<void(bool connection)> kill;
};

class ThreadIds {
 public:
  // A new id, never 0 and not in use.
  uint32_t allocate();
  void add(uint32_t id, std::shared_ptr<KillTarget> target);
  void remove(uint32_t id);
  std::shared_ptr<KillTarget> find(uint32_t id) const;

 private:
  mutable std::mutex mutex_;
  uint32_t next_ = 1;
  std::unordered_map<uint32_t, std::shared_ptr<KillTarget>> targets_;
};

}  // namespace portcullis::proto::mysql
