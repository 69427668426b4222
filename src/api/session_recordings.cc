// The recordings of interactive SSH shells (asciicast v2, masked as the caller saw the output),
// for journal readers: `portcullis sessions replay` and the console play them. Reading one is
// recorded as an `api` event, as the journal's other readers' requests are not: a recording
// shows what a person saw, not only what they ran.
#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <sstream>

#include "api/endpoints.h"
#include "api/review_json.h"

namespace portcullis::api {
namespace {

// The most shells one session's recordings are looked up for.
constexpr int kMaxPart = 10000;

}  // namespace

boost::asio::awaitable<std::optional<Response>> get_session_recording(Call& call) {
  const std::string& id = call.path_params.at(0);
  // The router lets letters, digits, '-', '_' and '.' through: no name may climb out of the
  // folder.
  if (id.starts_with('.'))
    co_return error_response(http::status::bad_request, "bad_request", "invalid session id");
  int part = 1;
  if (auto it = call.params.find("part"); it != call.params.end()) {
    const std::string text = (*it).value;  // a copy: the decoded parameter is a temporary
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), part);
    if (ec != std::errc() || end != text.data() + text.size() || part < 1 || part > kMaxPart)
      co_return error_response(http::status::bad_request, "bad_request",
                               "part must be a shell's number in its session, from 1");
  }
  const auto name = part == 1 ? fmt::format("{}.cast", id) : fmt::format("{}.{}.cast", id, part);
  const auto path = call.context->config->audit.recordings_dir / name;
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    journal_request(call, call.request.target(), id, "not found");
    co_return error_response(http::status::not_found, "not_found",
                             "no recording of that session's shell");
  }
  std::ostringstream body;
  body << file.rdbuf();
  journal_request(call, call.request.target(), id, "read");
  co_return make_response(http::status::ok, std::move(body).str(), "application/x-asciicast");
}

}  // namespace portcullis::api
