// exec and attach: once the API server has switched the request to a WebSocket or to SPDY
// (101), frames are relayed both ways through an ExecStream or a SpdyExecStream, which mask
// stdout and stderr, keep what was typed, and read the exit status, until either side ends.
// portforward: the switched stream relayed as it comes, the port of each connection read from
// the client's side, the rest counted.
#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>

#include "gateway/session_recorder.h"
#include "net/stream.h"
#include "proto/kubernetes/exec_stream.h"
#include "proto/kubernetes/port_forward_streams.h"
#include "proto/kubernetes/session.h"
#include "proto/kubernetes/spdy_exec_stream.h"

namespace portcullis::proto::kubernetes {
namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace asio::experimental::awaitable_operators;
using gateway::SessionRecorder;

namespace {

using net::use_nothrow;
// An exec or attach stream may stay open as long as someone types into it.
constexpr std::chrono::hours kExecStreamTimeout{24};
constexpr std::size_t kExecReadChunk = 16 * 1024;

std::array<uint8_t, 4> random_mask_key() {
  std::array<uint8_t, 4> key{};
  RAND_bytes(key.data(), static_cast<int>(key.size()));
  return key;
}

// A port forwarding tunnel: bytes pass as they came, the client's read for the ports it opens.
class PortForwardRelay final : public ExecTranscript {
 public:
  explicit PortForwardRelay(bool websocket_tunnel) : streams_(websocket_tunnel) {}

  Result<void> from_client(std::string_view bytes, std::string& to_server) override {
    if (auto read = streams_.from_client(bytes); !read) return read;
    to_server.append(bytes);
    return {};
  }
  Result<void> from_server(std::string_view bytes, std::string& to_client) override {
    to_client.append(bytes);
    return {};
  }
  void flush(std::string&) override {}
  void finish(std::string&) override {}

  const PortForwardStreams& streams() const { return streams_; }

 private:
  PortForwardStreams streams_;
};

}  // namespace

asio::awaitable<bool> Session::relay_switched(std::string response_head, ExecTranscript* stream,
                                              bool tty, std::string& error) {
  auto& gate = *gate_;
  auto& client_tcp = beast::get_lowest_layer(client_);
  auto& upstream_stream = upstream_->stream();
  auto& upstream_tcp = beast::get_lowest_layer(upstream_stream);

  client_tcp.expires_after(kExecStreamTimeout);
  auto [head_ec, head_written] =
      co_await asio::async_write(client_, asio::buffer(response_head), use_nothrow);
  bytes_out_ += head_written;
  if (head_ec) {
    gate.recorder().on_error("101: the client left before the stream began");
    co_return false;
  }

  // What the client sends (stdin, resizes) goes to the API server as the stream relays it.
  auto client_to_server = [&]() -> asio::awaitable<void> {
    std::array<char, kExecReadChunk> piece;
    std::string out;
    auto relay = [&](std::string_view bytes) -> asio::awaitable<bool> {
      std::string_view to_send = bytes;
      if (stream != nullptr) {
        out.clear();
        if (auto fed = stream->from_client(bytes, out); !fed) {
          error = "the client's stream could not be read: " + fed.error().message;
          co_return false;
        }
        to_send = out;
      }
      bytes_in_ += bytes.size();
      if (auto* live = gate.live()) live->bytes_in += bytes.size();
      if (to_send.empty()) co_return true;
      upstream_tcp.expires_after(kExecStreamTimeout);
      auto [ec, n] =
          co_await asio::async_write(upstream_stream, asio::buffer(to_send), use_nothrow);
      co_return !ec;
    };
    // Frames the client sent right behind its request, read with it.
    if (client_buffer_.size() > 0) {
      const std::string early(static_cast<const char*>(client_buffer_.data().data()),
                              client_buffer_.size());
      client_buffer_.consume(client_buffer_.size());
      if (!co_await relay(early)) co_return;
    }
    while (!ending_) {
      client_tcp.expires_after(kExecStreamTimeout);
      auto [ec, n] = co_await client_.async_read_some(asio::buffer(piece), use_nothrow);
      if (ec || !co_await relay({piece.data(), n})) break;
    }
    upstream_->close();  // the other direction ends too
  };

  // What the API server sends: stdout and stderr masked, the exit status read.
  auto server_to_client = [&]() -> asio::awaitable<void> {
    std::array<char, kExecReadChunk> piece;
    std::string out;
    auto relay = [&](std::string_view bytes) -> asio::awaitable<bool> {
      std::string_view to_send = bytes;
      if (stream != nullptr) {
        out.clear();
        if (auto fed = stream->from_server(bytes, out); !fed) {
          error = "the API server's stream could not be read: " + fed.error().message;
          co_return false;
        }
        // A terminal shows a prompt without a newline: what is held is masked and sent as it
        // stands (a value cut across two reads can escape, as in an SSH shell).
        if (tty) stream->flush(out);
        to_send = out;
      }
      if (to_send.empty()) co_return true;
      client_tcp.expires_after(kExecStreamTimeout);
      auto [ec, n] = co_await asio::async_write(client_, asio::buffer(to_send), use_nothrow);
      bytes_out_ += n;
      if (auto* live = gate.live()) live->bytes_out += n;
      co_return !ec;
    };
    auto& leftover = upstream_->buffer();
    if (leftover.size() > 0) {
      const std::string early(static_cast<const char*>(leftover.data().data()), leftover.size());
      leftover.consume(leftover.size());
      if (!co_await relay(early)) {
        client_tcp.cancel();
        co_return;
      }
    }
    bool ok = true;
    while (ok && !ending_) {
      upstream_tcp.expires_after(kExecStreamTimeout);
      auto [ec, n] = co_await upstream_stream.async_read_some(asio::buffer(piece), use_nothrow);
      if (ec) break;
      ok = co_await relay({piece.data(), n});
    }
    if (ok && error.empty() && stream != nullptr) {
      // What is still held goes out masked before the stream closes.
      out.clear();
      stream->finish(out);
      if (!out.empty()) {
        client_tcp.expires_after(std::chrono::seconds(30));
        co_await asio::async_write(client_, asio::buffer(out), use_nothrow);
      }
    }
    client_tcp.cancel();  // the other direction ends too
  };

  co_await (client_to_server() || server_to_client());
  upstream_->close();
  upstream_.reset();
  co_return true;
}

asio::awaitable<bool> Session::relay_exec_stream(std::string response_head, bool tty, bool spdy) {
  auto& gate = *gate_;
  std::unique_ptr<ExecTranscript> framing;
  if (spdy)
    framing =
        std::make_unique<SpdyExecStream>(gate.masker(), gate.mask_scratch(), &gate.mask_counts());
  else
    framing = std::make_unique<ExecStream>(gate.masker(), gate.mask_scratch(), &gate.mask_counts(),
                                           &random_mask_key);
  ExecTranscript& stream = *framing;
  std::string error;
  if (!co_await relay_switched(std::move(response_head), &stream, tty, error)) co_return false;

  // What went in and what came back, as two rows of the event (up to the journal's caps):
  // stdin masked as output is, except from a terminal, where what is typed at a prompt that
  // does not show it (a password) cannot be told apart, so only its size is kept.
  auto& recorder = gate.recorder();
  const SessionRecorder::ResultColumn columns[] = {{.name = "stream"}, {.name = "data"}};
  recorder.on_columns(columns);
  if (recorder.keeping_rows()) {
    std::string input = tty ? fmt::format("[{} bytes typed at a terminal]", stream.input_bytes())
                            : stream.input_seen();
    if (!tty && gate.masker() && gate.mask_scratch()) {
      masking::MaskCounts ignored;
      masking::MaskResult masked;
      if (gate.masker()->mask_value(input, gate.masker()->plan_text(), masked, *gate.mask_scratch(),
                                    ignored))
        input = masked.kind == masking::MaskResult::Kind::null ? std::string() : masked.bytes;
    }
    if (stream.input_cut()) input += " [cut]";
    std::string output = stream.output_seen();
    if (stream.output_cut()) output += " [cut]";
    const std::optional<std::string_view> input_row[] = {"stdin", input};
    const std::optional<std::string_view> output_row[] = {"output", output};
    recorder.on_row(input_row, input.size(), 0);
    recorder.on_row(output_row, output.size(), stream.output_bytes());
  } else {
    recorder.on_streamed_data(stream.output_bytes());
  }
  if (!error.empty()) {
    spdlog::info("event=kubernetes_stream_failed session={} reason={:?}", id_, error);
    recorder.on_error(fmt::format("101: {}", error));
  } else if (ending_) {
    recorder.on_error("101: the session ended");
  } else if (const auto code = stream.exit_code(); code && *code == 0) {
    recorder.on_complete(std::nullopt);
  } else if (code) {
    recorder.on_error(fmt::format("exit status {}", *code));
  } else {
    recorder.on_error(stream.status_message().empty()
                          ? std::string("the stream ended without an exit status")
                          : stream.status_message());
  }
  co_return false;  // the connection was the stream's: it closes with it
}

asio::awaitable<bool> Session::relay_tunnel(std::string response_head, bool websocket) {
  auto& gate = *gate_;
  const uint64_t in_before = bytes_in_, out_before = bytes_out_;
  PortForwardRelay tunnel(websocket);
  std::string error;
  if (!co_await relay_switched(std::move(response_head), &tunnel, false, error)) co_return false;
  // The port of each connection, as a row of the event (up to the journal's caps); what the
  // connections carried is counted, never kept: it is the pod's own traffic.
  auto& recorder = gate.recorder();
  const auto& streams = tunnel.streams();
  const SessionRecorder::ResultColumn columns[] = {{.name = "port"}};
  recorder.on_columns(columns);
  if (recorder.keeping_rows()) {
    for (const auto& port : streams.ports()) {
      const std::optional<std::string_view> row[] = {port};
      recorder.on_row(row, port.size(), 0);
    }
  }
  recorder.on_streamed_data(bytes_out_ - out_before);
  if (!error.empty()) {
    spdlog::info("event=kubernetes_stream_failed session={} reason={:?}", id_, error);
    recorder.on_error(fmt::format("101: {}", error));
  } else if (ending_) {
    recorder.on_error("101: the session ended");
  } else {
    recorder.on_complete(static_cast<int64_t>(streams.connections()));
  }
  spdlog::info("event=kubernetes_tunnel_ended session={} connections={} bytes_in={} bytes_out={}",
               id_, streams.connections(), bytes_in_ - in_before, bytes_out_ - out_before);
  co_return false;  // the connection was the tunnel's: it closes with it
}

}  // namespace portcullis::proto::kubernetes
