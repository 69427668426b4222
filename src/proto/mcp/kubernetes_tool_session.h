// KubernetesToolSession: the kubernetes tool's way to a cluster. It is an HTTPS client of the
// gateway's own Kubernetes front end, connected over a socketpair inside the process, so a
// request goes through exactly the code kubectl's requests go through (the caller's
// credential, the grant, the decision, review holds, the journal, Secret redaction and
// masking of the response) and this side reads the already-masked answer.
//
// One per MCP session and connection, kept between calls. Runs on the MCP endpoint's thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "common/secret.h"
#include "proto/mcp/tool_session.h"

namespace portcullis::proto::mcp {

struct KubernetesRequest {
  std::string connection;
  std::string method;               // GET, POST, PUT, PATCH, DELETE
  std::string path;                 // "/api/v1/namespaces/default/pods", with its query string
  std::optional<std::string> body;  // JSON, for POST, PUT and PATCH
  std::string content_type;         // of the body; PATCH: a patch type, merge patch by default
  std::chrono::seconds wait{0};     // for a review's decision
};

struct KubernetesAnswer {
  unsigned status = 0;
  std::string content_type;
  std::string body;  // as the front end sent it (masked), at most the limit given to run()
  bool truncated = false;
  // Held for this review and not run: the wait ran out, the review stays pending. Empty when
  // the request was not held, or was held and then ran or was refused (the status says).
  std::string review;
};

class KubernetesToolSession : public std::enable_shared_from_this<KubernetesToolSession> {
 public:
  // Opens a connection to the front end (TLS inside the process; the certificate is the
  // gateway's own, not checked: both ends are this process).
  static boost::asio::awaitable<std::variant<std::shared_ptr<KubernetesToolSession>, ToolError>>
  open(boost::asio::any_io_executor executor, Adopt adopt, std::string client_address,
       HoldProbe held);

  ~KubernetesToolSession();

  // Sends one request as `credential`'s holder; calls made at once run one after the other.
  // A ToolError means the connection is over (ended() is then true).
  boost::asio::awaitable<std::variant<KubernetesAnswer, ToolError>> run(const Secret& credential,
                                                                        KubernetesRequest request,
                                                                        std::size_t max_bytes);
  bool ended() const;
  void close();

  struct State;  // the connection, defined in the .cc
  explicit KubernetesToolSession(std::unique_ptr<State> state);

 private:
  struct Reading;  // one response being read
  // A new connection to the front end, TLS done.
  boost::asio::awaitable<std::optional<ToolError>> connect();
  boost::asio::awaitable<std::variant<KubernetesAnswer, ToolError>> run_alone(
      const Secret& credential, KubernetesRequest request, std::size_t max_bytes);
  // Reads the response (at most a little over `max_bytes` of its body) while run_alone()
  // watches for a hold; `self` keeps the connection alive until the read is over.
  static boost::asio::awaitable<void> read_response(std::shared_ptr<KubernetesToolSession> self,
                                                    std::shared_ptr<Reading> reading,
                                                    std::size_t max_bytes);
  // Whether the front end closed the idle connection.
  bool closed_by_peer() const;

  std::unique_ptr<State> state_;
};

}  // namespace portcullis::proto::mcp
