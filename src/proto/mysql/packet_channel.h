// PacketChannel: MySQL packets over one connection (client or backend). Reads whole logical
// packets into its buffer (bounded by a size limit) and hands out views of them; writes
// payloads with the sequence numbers the protocol expects. Runs on the session's thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "net/stream.h"
#include "proto/mysql/packet.h"

namespace portcullis::proto::mysql {

class PacketChannel {
 public:
  PacketChannel(std::shared_ptr<net::Stream> stream, std::size_t max_payload)
      : stream_(std::move(stream)), max_payload_(max_payload) {}

  net::Stream& stream() { return *stream_; }
  const std::shared_ptr<net::Stream>& stream_ptr() const { return stream_; }
  void set_stream(std::shared_ptr<net::Stream> stream) { stream_ = std::move(stream); }
  std::size_t max_payload() const { return max_payload_; }

  // The next logical packet's payload, valid until the next call; its sequence number is in
  // last_sequence(). An error when the peer closed, failed or sent a packet over the limit.
  boost::asio::awaitable<Result<std::string_view>> read();
  // Whether a whole packet is already buffered (read() would not wait).
  bool has_packet() const;
  uint8_t last_sequence() const { return sequence_; }
  // Bytes received so far.
  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }

  // Appends `payload` to the output as packets numbered from next_sequence().
  void queue(std::string_view payload) { next_ = append_packet(out_, payload, next_); }
  // Sends what was queued.
  boost::asio::awaitable<Result<void>> flush();
  // The sequence number the next queued packet gets; a new command starts again at 0.
  uint8_t next_sequence() const { return next_; }
  void set_next_sequence(uint8_t sequence) { next_ = sequence; }
  bool has_queued() const { return !out_.empty(); }
  // Drops what was queued and not sent; the next packet gets `sequence`.
  void discard_queued(uint8_t sequence) {
    out_.clear();
    next_ = sequence;
  }
  // Whether a flush is writing now: nothing else may write to the stream meanwhile.
  bool flushing() const { return flushing_; }
  std::size_t queued_size() const { return out_.size(); }

  // Raw bytes that arrived after the last packet read, handed over and forgotten: after an
  // SSLRequest, the start of the client's TLS handshake.
  std::string take_unread_bytes() {
    std::string rest = buffer_.substr(consumed_);
    buffer_.clear();
    consumed_ = 0;
    return rest;
  }

 private:
  std::shared_ptr<net::Stream> stream_;
  std::size_t max_payload_;
  std::string buffer_;
  std::size_t consumed_ = 0;  // bytes of buffer_ handed out already
  Frame joined_;              // a payload split over several packets, joined
  uint8_t sequence_ = 0;
  uint8_t next_ = 0;
  std::string out_;
  bool flushing_ = false;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
};

}  // namespace portcullis::proto::mysql
