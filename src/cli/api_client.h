// The REST API as the CLI's API-backed commands (review, sessions, revoke) use it: one
// synchronous HTTP(S) request per call, with the caller's bearer token, JSON both ways; and
// what those commands share: their options, the mapping of answers to exit statuses, and
// how answers are shown on a terminal.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "common/secret.h"

namespace boost::asio::ssl {
class context;
}

namespace portcullis::cli {

// A whole request: name resolution, connect, TLS, request and answer. The API answers in
// milliseconds; this is for a gateway under load or a slow link, not for a dead one.
inline constexpr std::chrono::seconds kApiTimeout{30};
// The largest answer read: room for thousands of reviews with long statements; more is not
// an answer from the API.
inline constexpr std::size_t kMaxApiAnswerBytes = 64 * 1024 * 1024;
// Where `portcullis serve` listens for the API unless configured otherwise (INTERFACE.md).
inline constexpr std::string_view kDefaultApiUrl = "http://127.0.0.1:18080";

// Why a call did not give an answer to use.
struct ApiError {
  // INTERFACE.md's exit status: 1 when the API refused or failed (HTTP 4xx/5xx), 2 when it
  // could not be asked (unreachable, TLS failure, something else answering).
  int exit_status = 2;
  unsigned http_status = 0;  // 0: no HTTP answer
  std::string code;          // the API's error code, when it gave one
  std::string message;       // for a person; never holds the token
};

// The JSON of a 2xx answer, or why there is none.
class [[nodiscard]] ApiResult {
 public:
  ApiResult(boost::json::value value) : state_(std::move(value)) {}  // NOLINT: implicit
  ApiResult(ApiError error) : state_(std::move(error)) {}            // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const boost::json::value& value() const { return std::get<0>(state_); }
  const ApiError& error() const { return std::get<1>(state_); }

 private:
  std::variant<boost::json::value, ApiError> state_;
};

struct ApiClientOptions {
  std::string url{kDefaultApiUrl};  // base URL; a path (behind a reverse proxy) is kept
  Secret token;
  std::filesystem::path ca_file;  // trusted roots for https://; empty: the system's
  std::chrono::milliseconds timeout = kApiTimeout;
};

class ApiClient {
 public:
  // Checks the URL and loads the trusted roots; the error names what is wrong (exit 2).
  static Result<ApiClient> create(ApiClientOptions options);

  // `path` starts with "/api/v1/"; its variable parts already encoded (path_segment).
  ApiResult get(std::string_view path) const;
  // A GET whose answer is not JSON (a recording): its body, as a JSON string.
  ApiResult get_text(std::string_view path) const;
  ApiResult post(std::string_view path, const boost::json::object& body) const;
  ApiResult remove(std::string_view path) const;  // DELETE

 private:
  enum class Method { get, post, delete_ };
  ApiClient() = default;
  ApiResult request(Method method, std::string_view path, std::string body, bool text) const;

  ApiClientOptions options_;
  bool tls_ = false;
  std::string host_;  // for DNS, SNI and the certificate check
  std::string port_;
  std::string host_header_;
  std::string base_path_;  // without a trailing '/'
  std::string where_;      // "host:port", for messages
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
};

// `text` as one path segment: ids come from the command line.
std::string path_segment(std::string_view text);

// ---- For the commands

// --api, --token and --ca-file, with their environment variables.
struct ApiOptions {
  std::string url{kDefaultApiUrl};
  std::string token;
  std::string ca_file;
};

void add_api_options(CLI::App& command, ApiOptions& options);

// `portcullis: MESSAGE` on stderr, and the command exits with `status`.
[[noreturn]] void fail(int status, const std::string& message);

// The client, or exit 2 with the reason on stderr.
ApiClient connect_api_or_exit(const ApiOptions& options);

// The answer's JSON, or `portcullis: MESSAGE` on stderr and exit with the error's status.
boost::json::value answer_or_exit(const ApiResult& result);

// ---- Showing answers

// A string field of an object, or "" when it is absent or not a string.
std::string string_field(const boost::json::object& object, std::string_view key);
// A number field, or 0.
std::int64_t number_field(const boost::json::object& object, std::string_view key);

// Text from the API shown on a terminal: control characters as \xNN, so that a statement
// cannot send escape sequences to a reviewer's terminal; line breaks and tabs become spaces
// unless `keep_newlines`.
std::string printable(std::string_view text, bool keep_newlines = false);
// At most `max_chars` characters (UTF-8), ending in "…" when cut.
std::string shorten(std::string_view text, std::size_t max_chars);
// "2026-11-25T21:04:05Z" from RFC 3339 with or without fractions; "-" when empty.
std::string short_time(std::string_view time);

// Aligned columns under `headers`; an empty cell is shown as "-".
void print_table(const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows);

}  // namespace portcullis::cli
