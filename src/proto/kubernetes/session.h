// Session: one client connection to the Kubernetes listener. TLS, then HTTP/1.1 requests one
// after another. Each request's path is read into verb, resource, namespace and name (the
// codec, request_target.h); the caller's bearer token and the connection the path names are
// admitted once per connection (again if a later request carries another token or names
// another connection); then every request is decided by the core's CommandGate, forwarded to
// the API server with the connection's own credential, and its response streamed back with
// Secrets redacted and values masked (relay.cc).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "gateway/accept_loop.h"
#include "gateway/admission.h"
#include "gateway/command_gate.h"
#include "proto/kubernetes/request_target.h"
#include "proto/kubernetes/status.h"
#include "proto/kubernetes/upstream.h"

namespace portcullis::proto::kubernetes {

class ExecTranscript;

using ClientStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
using Request = boost::beast::http::request<boost::beast::http::string_body>;

class Session final : public gateway::ServedSession, public std::enable_shared_from_this<Session> {
 public:
  Session(gateway::AcceptedConnection connection, std::shared_ptr<boost::asio::ssl::context> tls);
  ~Session() override;

  boost::asio::awaitable<void> run() override;
  void shut_down() override;
  // Ends the session (kill, revoke, expiry, shutdown): both connections close.
  void end(const gateway::Refusal& why);

 private:
  // A write to the client or to the API server must finish within this (session.cc, relay.cc).
  static constexpr std::chrono::seconds kWriteTimeout{30};

  // One request, answered; false when the connection is to close after it.
  boost::asio::awaitable<bool> handle(Request& request);
  // The caller of `request` admitted to `connection`: the current gate, or a new one.
  boost::asio::awaitable<std::optional<gateway::Refusal>> admit(const Request& request,
                                                                const std::string& connection);
  // The decided request forwarded and its response relayed (relay.cc).
  boost::asio::awaitable<bool> forward(Request& request, const ApiRequest& target,
                                       const policy::KubeCommand& command);
  // exec and attach once switched to a WebSocket, or with `spdy` to SPDY/3.1: the 101 sent,
  // then frames relayed both ways until either side ends (exec_relay.cc). `tty`: the client's
  // stdin is a terminal.
  boost::asio::awaitable<bool> relay_exec_stream(std::string response_head, bool tty, bool spdy);
  // portforward once switched (over SPDY, or `websocket_tunnel`): the 101 sent, then the stream
  // relayed as it comes (the bytes of connections to the pod's ports, in any protocol), the
  // ports read from it, until either side ends.
  boost::asio::awaitable<bool> relay_tunnel(std::string response_head, bool websocket_tunnel);
  // The 101 sent, then bytes relayed both ways, through `stream` when there is one, until
  // either side or the session ends; false when the client left before the stream began.
  // `error` tells why `stream` refused what it was given.
  boost::asio::awaitable<bool> relay_switched(std::string response_head, ExecTranscript* stream,
                                              bool tty, std::string& error);
  // Notices the client leaving while its request is held (gate_->client_left()); the hold
  // sets `holding` false when it ends, so that a late wake-up does nothing.
  struct HoldWatch {
    bool holding = true;
  };
  std::shared_ptr<HoldWatch> watch_client_during_hold();
  boost::asio::awaitable<bool> reply_status(const Request& request, StatusCode code,
                                            std::string_view message);
  boost::asio::awaitable<bool> reply_refusal(const Request& request,
                                             const gateway::Refusal& refusal);
  // Closes the current gate: its session ends in the journal.
  void close_gate();
  gateway::Caller caller() const;

  std::shared_ptr<const gateway::GatewayContext> context_;  // at accept
  const gateway::ContextSource* context_source_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::function<void()> handshake_listener_;
  bool loopback_listener_;
  std::string id_;
  std::string client_address_;
  ClientStream client_;
  boost::beast::flat_buffer client_buffer_;
  // The admitted caller: its gate, and what it was admitted with (a digest of the token, and
  // the connection), which a later request must match to use it.
  std::unique_ptr<gateway::CommandGate> gate_;
  std::string admitted_key_;
  std::chrono::steady_clock::time_point gate_opened_;
  int refused_admissions_ = 0;
  uint64_t batch_ = 0;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
  // The API server, once a request has been forwarded (kept alive between requests).
  std::unique_ptr<UpstreamConnection> upstream_;
  bool ending_ = false;
};

}  // namespace portcullis::proto::kubernetes
