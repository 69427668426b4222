// MysqlToolSession: the query tool's way to MySQL and MariaDB. It is a client of the
// gateway's own MySQL front end, connected over a socketpair inside the process: the
// statement goes through the very session code the mariadb client's statements go through
// (sign-in with the caller's credential, the grant, the MySQL classifier and decision,
// review holds, the journal, result masking, kill and revoke), and this side reads the
// already-masked answer.
//
// One per MCP session and connection, kept between calls. Runs on the MCP endpoint's thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <memory>
#include <string>
#include <variant>

#include "common/secret.h"
#include "net/async_lock.h"
#include "proto/mcp/query_results.h"
#include "proto/mcp/tool_session.h"

namespace portcullis::proto::mcp {

class MysqlToolSession : public std::enable_shared_from_this<MysqlToolSession> {
 public:
  // Opens a session of the front end as `subject` on `connection`, signed in with
  // `credential` (sent as mysql_clear_password: the socket never leaves the process).
  static boost::asio::awaitable<std::variant<std::shared_ptr<MysqlToolSession>, ToolError>> open(
      boost::asio::any_io_executor executor, Adopt adopt, std::string subject,
      std::string connection, Secret credential, std::string client_address, HoldProbe held);

  MysqlToolSession(boost::asio::any_io_executor executor, HoldProbe held);
  ~MysqlToolSession();

  // Runs `sql` (COM_QUERY; several statements run as the mariadb client runs them). Calls
  // made at once run one after the other. A hold that outlasts `limits.wait` is withdrawn by
  // leaving (the review stays pending): the answer names the review and the session is over.
  // A ToolError means the session is over (killed, revoked, the gateway stopping).
  boost::asio::awaitable<std::variant<QueryAnswer, ToolError>> run(std::string sql,
                                                                   QueryLimits limits);

  bool ended() const { return ended_; }
  void close();

 private:
  struct Packet {
    std::string payload;
    uint8_t sequence = 0;
  };
  boost::asio::awaitable<std::variant<QueryAnswer, ToolError>> run_alone(std::string sql,
                                                                         QueryLimits limits);
  boost::asio::awaitable<std::optional<ToolError>> sign_in(const std::string& subject,
                                                           const std::string& connection,
                                                           const Secret& credential);
  // Reads one result (a result set or an OK) after its first packet; false when the session
  // broke.
  boost::asio::awaitable<bool> read_result_set(std::string first, QueryAnswer& answer,
                                               const QueryLimits& limits, std::size_t& kept,
                                               uint16_t& status);
  boost::asio::awaitable<Result<Packet>> read_packet();
  boost::asio::awaitable<bool> write_packet(std::string_view payload, uint8_t sequence);
  // Watches the live-session registry while a statement runs: once it is held for longer
  // than `wait`, closes the socket and notes the review; once it has run (not held) for
  // longer than `timeout`, closes the socket too (MySQL ends a query whose client left).
  boost::asio::awaitable<void> watch_hold(uint64_t statement, std::chrono::seconds wait,
                                          std::chrono::seconds timeout);
  ToolError end(std::string message);

  boost::asio::any_io_executor executor_;
  HoldProbe held_;
  boost::asio::local::stream_protocol::socket socket_;
  net::AsyncLock busy_;
  std::string input_;
  uint64_t capabilities_ = 0;
  bool running_ = false;    // a statement is out; watch_hold() stops when it is back
  uint64_t statement_ = 0;  // which one: the watch of an earlier one stops at once
  std::string withdrawn_;   // the review of the hold watch_hold() left
  bool timed_out_ = false;  // watch_hold() left a statement past its timeout
  bool ended_ = false;
};

}  // namespace portcullis::proto::mcp
