// One request to a gateway's REST API from a test.
#include "api_call.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <thread>

namespace portcullis::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;

// Errors (no connection, no answer in 20 s) are a status of 0, not exceptions.
ApiResponse call_api(uint16_t port, http::verb method, const std::string& target,
                     const std::string& token, const std::string& body,
                     const std::map<std::string, std::string>& headers) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return {.status = 0, .body = json::value(), .text = ec.message(), .headers = {}};
  const timeval timeout{20, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  http::request<http::string_body> request{method, target, 11};
  request.set(http::field::host, "127.0.0.1");
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  for (const auto& [name, value] : headers) request.set(name, value);
  request.prepare_payload();
  http::write(socket, request, ec);
  if (ec) return {.status = 0, .body = json::value(), .text = ec.message(), .headers = {}};
  boost::beast::flat_buffer buffer;
  // Beast's default of 8 MB is less than an MCP tool's largest answer.
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::read(socket, buffer, parser, ec);
  if (ec) return {.status = 0, .body = json::value(), .text = ec.message(), .headers = {}};
  auto response = parser.release();
  ApiResponse out;
  out.status = response.result_int();
  out.text = response.body();
  for (const auto& field : response) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  out.body = json::parse(response.body(), ec);
  if (ec) out.body = json::string(response.body());
  return out;
}

std::string pending_review_id(uint16_t port, const std::string& reviewer_token,
                              const std::string& requester, const std::string& text) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < give_up) {
    auto listed = call_api(port, http::verb::get, "/api/v1/reviews?status=pending", reviewer_token);
    if (listed.status == 200u && listed.body.is_object())
      for (const auto& review : listed.body.at("reviews").as_array()) {
        const auto& r = review.as_object();
        if (r.at("requester").as_string() == requester &&
            std::string(r.at("command").as_string()).find(text) != std::string::npos)
          return std::string(r.at("id").as_string());
      }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return {};
}

}  // namespace portcullis::testing
