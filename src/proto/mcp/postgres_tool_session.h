// PostgresToolSession: the query tool's way to PostgreSQL. It is a client of the gateway's own
// PostgreSQL front end, connected over a socketpair inside the process: the statement goes
// through the very session code psql's statements go through (sign-in with the caller's
// credential, the grant, the parser-based decision, review holds, the journal, result
// masking, kill and revoke), and this side reads the already-masked answer. Nothing of the
// decision or the masking is done here, so nothing can differ from psql's.
//
// One per MCP session and connection, kept between calls (a transaction a call opens stays
// open for the next, as in psql). Runs on the MCP endpoint's thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"
#include "common/secret.h"
#include "gateway/accept_loop.h"
#include "net/async_lock.h"
#include "proto/mcp/query_results.h"
#include "proto/mcp/tool_session.h"
#include "proto/postgres/message.h"

namespace portcullis::proto::mcp {

class PostgresToolSession : public std::enable_shared_from_this<PostgresToolSession> {
 public:
  // Opens a session of the front end as `subject` on `connection`, signed in with
  // `credential` (the caller's token or API key). A refusal (no access, revoked, journal
  // unwritable) comes back as the front end words it.
  static boost::asio::awaitable<std::variant<std::shared_ptr<PostgresToolSession>, ToolError>> open(
      boost::asio::any_io_executor executor, Adopt adopt, std::string subject,
      std::string connection, Secret credential, std::string client_address, HoldProbe held);

  PostgresToolSession(boost::asio::any_io_executor executor, Adopt adopt,
                      std::string client_address, HoldProbe held);
  ~PostgresToolSession();

  // Runs `sql` (a simple Query: several statements run as psql would run them); calls made
  // at once run one after the other. A ToolError means the session is over (killed,
  // revoked, the gateway stopping): ended() is then true.
  boost::asio::awaitable<std::variant<QueryAnswer, ToolError>> run(std::string sql,
                                                                   QueryLimits limits);

  bool ended() const { return ended_; }
  // Sends Terminate and closes: the front end records the session's end.
  void close();

 private:
  struct Frame {
    char type = 0;
    std::string body;
  };
  boost::asio::awaitable<std::variant<QueryAnswer, ToolError>> run_alone(std::string sql,
                                                                         QueryLimits limits);
  boost::asio::awaitable<Result<Frame>> read_frame();
  boost::asio::awaitable<bool> write(const std::string& bytes);
  // Cancels the running statement once `timeout` is over (not counting time it is held).
  void arm_run_timer(std::chrono::seconds timeout, std::shared_ptr<bool> timed_out);
  // Asks the front end to withdraw the held statement (a CancelRequest on a connection of its
  // own, as psql's Ctrl-C): the review stays pending.
  boost::asio::awaitable<void> send_cancel();
  boost::asio::awaitable<std::optional<ToolError>> sign_in(const std::string& subject,
                                                           const std::string& connection,
                                                           const Secret& credential);
  ToolError end(std::string message);

  boost::asio::any_io_executor executor_;
  Adopt adopt_;
  std::string client_address_;
  // Asked before a wait's end withdraws the hold: a statement released meanwhile runs on.
  HoldProbe held_;
  boost::asio::local::stream_protocol::socket socket_;
  boost::asio::steady_timer run_timer_;
  net::AsyncLock busy_;
  std::string input_;  // bytes read and not yet framed
  postgres::BackendKeyData key_;
  bool ended_ = false;
};

// The review id of the gateway's hold notice ("portcullis: approval required by rule "r";
// review r-7f3a9c; waiting up to 60s"), or empty when the message is not one.
std::string held_review_of_notice(std::string_view message);

}  // namespace portcullis::proto::mcp
