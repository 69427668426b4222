// UpstreamConnection: the gateway's HTTPS connection to a connection's Kubernetes API server,
// with the server's certificate checked against the connection's CA and its name, and the
// credential profile's client certificate when it has one (the bearer token, when it has one
// instead, goes in each request: relay.cc). Kept alive between requests of a session.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "common/result.h"
#include "config/config.h"

namespace portcullis::proto::kubernetes {

class UpstreamConnection {
 public:
  using Stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

  // Connects, with the TLS handshake, within `timeout`.
  static boost::asio::awaitable<Result<std::unique_ptr<UpstreamConnection>>> open(
      const config::Endpoint& address, std::shared_ptr<boost::asio::ssl::context> tls,
      std::chrono::steady_clock::duration timeout);

  Stream& stream() { return stream_; }
  boost::beast::flat_buffer& buffer() { return buffer_; }
  // "HOST:PORT" as the Host header names the server.
  const std::string& host_header() const { return host_header_; }
  void close();

 private:
  UpstreamConnection(boost::asio::any_io_executor executor,
                     std::shared_ptr<boost::asio::ssl::context> tls);

  std::shared_ptr<boost::asio::ssl::context> tls_;  // outlives the stream
  Stream stream_;
  boost::beast::flat_buffer buffer_;
  std::string host_header_;
};

}  // namespace portcullis::proto::kubernetes
