// One webhook delivery attempt: an HTTP/1.1 POST of a JSON body to an http:// or https://
// URL, on the caller's io_context, bounded by a deadline. The notifier decides what to retry.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace portcullis::review {

// A webhook URL taken apart for a request. Keeps the path and query, which for many
// receivers (Slack among them) hold the secret that authorises the post: never log them.
struct WebhookUrl {
  bool tls = false;
  std::string host;         // for DNS, SNI and certificate checks: no brackets around IPv6
  std::string port;         // "443" when not written
  std::string host_header;  // as written, with the port when one was written
  std::string target;       // path and query, "/" when empty
};

// Errors name the part that is wrong, never the URL.
Result<WebhookUrl> parse_webhook_url(std::string_view url);

class WebhookClient {
 public:
  // TLS peers are checked against `ca_file`, or the system's trusted roots when it is empty.
  static Result<std::unique_ptr<WebhookClient>> create(const std::filesystem::path& ca_file);

  // POSTs `body` (application/json). The HTTP status of the answer, or an error when no
  // answer came within `timeout` (name resolution, connect, TLS and request together). Only
  // the status line and headers are read: what a receiver says beyond 2xx is of no use.
  boost::asio::awaitable<Result<unsigned>> post(const WebhookUrl& url, const std::string& body,
                                                std::chrono::milliseconds timeout);

 private:
  explicit WebhookClient(std::shared_ptr<boost::asio::ssl::context> tls) : tls_(std::move(tls)) {}

  std::shared_ptr<boost::asio::ssl::context> tls_;
};

}  // namespace portcullis::review
