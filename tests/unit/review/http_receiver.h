// HttpReceiver: a test double for an HTTP server the gateway talks to (a webhook receiver,
// the REST API). Listens on 127.0.0.1 on a port the kernel picks, plain or HTTPS, records
// every request and answers as scripted.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace portcullis::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string server_name;  // SNI of an HTTPS request, empty if none
  std::chrono::steady_clock::time_point time;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct Answer {
  unsigned status = 200;
  std::string body = "{}";
  std::string content_type = "application/json";
  bool hang = false;  // read the request and never answer (the connection stays open)
};

struct ReceiverTls {
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
};

class HttpReceiver {
 public:
  // Answers the first requests with `script`, in order, and every later one with `otherwise`.
  explicit HttpReceiver(std::vector<Answer> script = {}, Answer otherwise = {},
                        std::optional<ReceiverTls> tls = std::nullopt);
  ~HttpReceiver();
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:PORT" + path (https:// and `host` for a TLS receiver's certificate).
  std::string url(const std::string& path, const std::string& host = "127.0.0.1") const;

  // True once `count` requests (or accepted connections) have arrived, false if they have
  // not within `timeout`.
  bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout);
  bool wait_for_connections(std::size_t count, std::chrono::milliseconds timeout);

  std::vector<ReceivedRequest> requests() const;
  std::size_t connections() const;

 private:
  template <class Stream>
  boost::asio::awaitable<void> serve(Stream& stream, std::string server_name);
  Answer next_answer();
  void record(ReceivedRequest request);
  void connected();

  std::vector<Answer> script_;
  Answer otherwise_;
  std::shared_ptr<boost::asio::ssl::context> tls_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<ReceivedRequest> requests_;
  std::size_t answered_ = 0;
  std::size_t connections_ = 0;

  boost::asio::io_context io_{1};
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace portcullis::testing
