// A session's second backend connection for the gateway's own queries.
#include "proto/postgres/side_connection.h"

#include <fmt/format.h>

#include "proto/postgres/decoder.h"

namespace portcullis::proto::postgres {
namespace {

namespace asio = boost::asio;

// The gateway asks small questions: an answer's message is a catalog row or a plan.
constexpr std::size_t kMaxAnswerMessage = 1u << 20;

}  // namespace

std::optional<std::string_view> data_row_text(std::string_view body, std::size_t index) {
  if (body.size() < 2) return std::nullopt;
  const std::size_t count = (std::size_t(uint8_t(body[0])) << 8) | uint8_t(body[1]);
  std::size_t at = 2;
  for (std::size_t i = 0; i < count; ++i) {
    if (body.size() - at < 4) return std::nullopt;
    const uint32_t length =
        (uint32_t(uint8_t(body[at])) << 24) | (uint32_t(uint8_t(body[at + 1])) << 16) |
        (uint32_t(uint8_t(body[at + 2])) << 8) | uint32_t(uint8_t(body[at + 3]));
    at += 4;
    if (length == 0xffffffffu) {
      if (i == index) return std::nullopt;
      continue;
    }
    if (body.size() - at < length) return std::nullopt;
    if (i == index) return body.substr(at, length);
    at += length;
  }
  return std::nullopt;
}

void SideConnection::close() {
  if (stream_) stream_->close();
  stream_.reset();
}

asio::awaitable<Result<SideAnswer>> SideConnection::run(const std::string& request,
                                                        const BackendTarget& target,
                                                        int ready_count) {
  if (!stream_) {
    ParameterList parameters{{"user", target.credentials->user},
                             {"database", target.connection->target.database},
                             {"application_name", application_name_}};
    auto outcome = co_await connect_backend(target, parameters);
    if (auto* failure = std::get_if<BackendFailure>(&outcome))
      co_return make_error(fmt::format("cannot open the gateway's {} connection: {}",
                                       application_name_, failure->message));
    stream_ = std::move(std::get<BackendConnection>(outcome).stream);
  }
  if (auto [ec, n] = co_await stream_->write(asio::buffer(request)); ec) {
    close();
    co_return make_error("the gateway's backend connection failed: " + ec.message());
  }
  SideAnswer answer;
  std::string buffer;
  std::string error;
  for (;;) {
    Message message;
    std::size_t consumed = 0;
    const auto status = decode_message(buffer, kMaxAnswerMessage, message, consumed, error);
    if (status == DecodeStatus::invalid) {
      close();
      co_return make_error("the backend's answer cannot be read: " + error);
    }
    if (status == DecodeStatus::need_more) {
      char chunk[8192];
      auto [ec, n] = co_await stream_->read_some(asio::buffer(chunk));
      if (ec) {
        close();
        co_return make_error("the gateway's backend connection failed: " + ec.message());
      }
      buffer.append(chunk, n);
      continue;
    }
    const char type = message.type;
    if (type == 'D') {
      answer.rows.emplace_back(message.body);
    } else if (type == 'E' && answer.error.empty()) {
      auto fields = parse_error_fields(message.body);
      const auto text = fields ? fields->field('M') : std::nullopt;
      answer.error = text && !text->empty() ? std::string(*text) : "the backend reported an error";
    }
    buffer.erase(0, consumed);
    if (type == 'Z' && --ready_count <= 0) break;
  }
  co_return answer;
}

}  // namespace portcullis::proto::postgres
