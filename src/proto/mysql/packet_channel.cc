// Packets over a connection.
#include "proto/mysql/packet_channel.h"

#include <fmt/format.h>

namespace portcullis::proto::mysql {
namespace asio = boost::asio;

namespace {
// What one read asks of the socket: a result set's rows arrive many to a read.
constexpr std::size_t kReadChunk = 16 * 1024;
}  // namespace

bool PacketChannel::has_packet() const {
  Frame ignored;
  const std::string_view pending = std::string_view(buffer_).substr(consumed_);
  if (single_packet_payload(pending)) return true;
  return next_frame(pending, max_payload_, ignored) == FrameStatus::ready;
}

asio::awaitable<Result<std::string_view>> PacketChannel::read() {
  for (;;) {
    const std::string_view pending = std::string_view(buffer_).substr(consumed_);
    if (auto payload = single_packet_payload(pending, &sequence_)) {
      if (payload->size() > max_payload_)
        co_return Error{fmt::format("a packet of {} bytes is over the limit of {}", payload->size(),
                                    max_payload_)};
      consumed_ += kHeaderSize + payload->size();
      co_return *payload;
    }
    const auto status = next_frame(pending, max_payload_, joined_);
    if (status == FrameStatus::too_large)
      co_return Error{fmt::format("a packet is over the limit of {} bytes", max_payload_)};
    if (status == FrameStatus::ready) {
      consumed_ += joined_.consumed;
      sequence_ = joined_.sequence;
      co_return std::string_view(joined_.payload);
    }
    // Keep only what is not handed out yet before reading more.
    if (consumed_ > 0) {
      buffer_.erase(0, consumed_);
      consumed_ = 0;
    }
    const std::size_t old = buffer_.size();
    buffer_.resize(old + kReadChunk);
    auto [ec, n] = co_await stream_->read_some(asio::buffer(buffer_.data() + old, kReadChunk));
    buffer_.resize(old + n);
    bytes_in_ += n;
    if (ec) co_return Error{ec == asio::error::eof ? "connection closed" : ec.message()};
  }
}

asio::awaitable<Result<void>> PacketChannel::flush() {
  if (out_.empty()) co_return Result<void>{};
  std::string bytes;
  bytes.swap(out_);
  flushing_ = true;
  auto [ec, n] = co_await stream_->write(asio::buffer(bytes));
  flushing_ = false;
  bytes_out_ += n;
  if (ec) co_return Error{ec.message()};
  // Keep the buffer's capacity for the next response.
  bytes.clear();
  if (out_.empty()) out_.swap(bytes);
  co_return Result<void>{};
}

}  // namespace portcullis::proto::mysql
