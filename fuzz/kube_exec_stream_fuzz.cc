// libFuzzer target for the exec stream relay (proto/kubernetes/exec_stream, websocket_frames):
// the first byte chooses the piece size (1-64) and, with its high bits, whether output is
// flushed after every piece; the second how much of the rest is the client's stream, the rest
// being the server's. The two are fed in pieces, one of each in turn, until each ends or is
// refused. Checked: what goes to the client reads back as unmasked frames, and what goes to
// the server as masked ones, both whole; no stdout or stderr payload for the client holds a
// value the masker (email) would mask; the stdin counted is the stdin forwarded.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "masking/masker.h"
#include "proto/kubernetes/exec_stream.h"
#include "proto/kubernetes/websocket_frames.h"

namespace {

using namespace portcullis;
using namespace portcullis::proto::kubernetes;

void check(bool holds) {
  if (!holds) __builtin_trap();
}

std::shared_ptr<const masking::Masker> make() {
  config::MaskingProfileConfig p;
  p.name = "fuzz";
  p.detectors = {"email"};
  p.strategy = "redact";
  return *masking::Masker::build(p, Secret("fuzz-key"));
}

// Reads every frame of `bytes`, which must be whole, well-formed frames from `sender`; calls
// `on_frame` with each.
template <class OnFrame>
void read_frames(Sender sender, std::string_view bytes, OnFrame on_frame) {
  // Masking can lengthen output ("a@b.co" becomes "[email]"), so the written frames are read
  // without the relay's bound.
  FrameReader reader(sender, std::numeric_limits<std::size_t>::max());
  reader.feed(bytes);
  for (;;) {
    auto next = reader.next();
    check(next.ok());
    if (!*next) break;
    check((*next)->masked == (sender == Sender::client));
    // The relay writes every message as one frame.
    check((*next)->fin && (*next)->opcode != Opcode::continuation);
    on_frame(**next);
  }
  check(reader.buffered() == 0);
}

bool is_output(const Frame& frame) {
  return !is_control(frame.opcode) && !frame.payload.empty() &&
         (frame.payload[0] == static_cast<char>(ExecChannel::stdout_data) ||
          frame.payload[0] == static_cast<char>(ExecChannel::stderr_data));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const auto masker = make();
  static masking::Scratch scratch;
  const std::size_t piece = 1 + (data[0] & 0x3f);
  const bool flush_each = (data[0] & 0xc0) == 0xc0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::size_t client_size = rest.size() * data[1] / 256;
  std::string_view client = rest.substr(0, client_size);
  std::string_view server = rest.substr(client_size);

  masking::MaskCounts counts;
  uint8_t key_counter = 0;
  ExecStream stream(masker.get(), &scratch, &counts, [&key_counter] {
    ++key_counter;
    return std::array<uint8_t, 4>{key_counter, 0x5a, static_cast<uint8_t>(key_counter * 7), 1};
  });
  std::string to_client, to_server;
  bool client_ok = true, server_ok = true;
  while ((client_ok && !client.empty()) || (server_ok && !server.empty())) {
    if (client_ok && !client.empty()) {
      client_ok = stream.from_client(client.substr(0, piece), to_server).ok();
      client.remove_prefix(std::min(piece, client.size()));
    }
    if (server_ok && !server.empty()) {
      server_ok = stream.from_server(server.substr(0, piece), to_client).ok();
      server.remove_prefix(std::min(piece, server.size()));
      if (flush_each && server_ok) stream.flush(to_client);
    }
  }
  if (server_ok) stream.finish(to_client);

  uint64_t output = 0;
  masking::MaskResult result;
  read_frames(Sender::server, to_client, [&](const Frame& frame) {
    if (!is_output(frame)) return;
    const std::string_view text = std::string_view(frame.payload).substr(1);
    output += text.size();
    // Each piece of output went through the masker: nothing in it is left to mask.
    if (masker->mask_value(text, masker->plan_text(), result, scratch, counts))
      check(result.kind == masking::MaskResult::Kind::unchanged || result.bytes == text);
  });
  check(output == stream.output_bytes());

  uint64_t input = 0;
  read_frames(Sender::client, to_server, [&](const Frame& frame) {
    if (!is_control(frame.opcode) && !frame.payload.empty() &&
        frame.payload[0] == static_cast<char>(ExecChannel::stdin_data))
      input += frame.payload.size() - 1;
  });
  check(input == stream.input_bytes());
  check(stream.input_seen().size() == std::min<uint64_t>(input, 64 * 1024));
  return 0;
}
