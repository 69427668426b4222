// libFuzzer target for the SPDY exec stream relay (proto/kubernetes/spdy_exec_stream,
// spdy_frames, spdy_header_block). The input is a script, so that most of it reaches the relay
// as frames whose header blocks inflate: the first byte chooses the piece size (1-64) in which
// the relay is fed, each following operation byte (its low 3 bits) one of: the client opens a
// stream of a purpose the next byte picks (its header block written by a real zlib stream), the
// server replies to one, the server sends data on one (stdout, stderr, error or another), the
// client sends stdin, raw bytes go to either side, the server sends a PING or GOAWAY, output is
// flushed. Checked: what goes to the client reads back as whole SPDY frames and what goes to
// the server is the client's bytes as they came; no data frame on a stream the client opened as
// stdout or stderr holds a value the masker (email) would mask; the stdin counted is what was
// sent on the stdin stream.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "masking/masker.h"
#include "proto/kubernetes/spdy_exec_stream.h"
#include "proto/kubernetes/spdy_frames.h"
#include "proto/kubernetes/spdy_header_block.h"

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

void append_u32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((value >> shift) & 0xff);
}

std::string control(SpdyControl type, uint8_t flags, std::string_view payload) {
  std::string frame{'\x80', '\x03', '\0', static_cast<char>(type), static_cast<char>(flags)};
  frame += static_cast<char>(payload.size() >> 16);
  frame += static_cast<char>(payload.size() >> 8);
  frame += static_cast<char>(payload.size());
  frame.append(payload);
  return frame;
}

// Reads the script's bytes.
struct Script {
  std::string_view rest;
  uint8_t byte() {
    if (rest.empty()) return 0;
    const auto value = static_cast<uint8_t>(rest[0]);
    rest.remove_prefix(1);
    return value;
  }
  std::string_view bytes(std::size_t count) {
    const auto taken = rest.substr(0, count);
    rest.remove_prefix(taken.size());
    return taken;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const auto masker = make();
  static masking::Scratch scratch;
  const std::size_t piece = 1 + (data[0] & 0x3f);
  Script script{std::string_view(reinterpret_cast<const char*>(data + 1), size - 1)};

  masking::MaskCounts counts;
  SpdyExecStream stream(masker.get(), &scratch, &counts, {.max_streams = 8});
  SpdyHeaderWriter client_headers, server_headers;
  std::map<uint32_t, std::string> purposes;  // as the script opened them
  uint32_t next_id = 1;
  uint64_t stdin_sent = 0;
  bool stdin_exact = true;  // no raw client bytes could have added stdin
  std::string client_sent, to_server, to_client;
  bool client_ok = true, server_ok = true;

  auto feed = [&](bool from_client, std::string_view bytes) {
    while (!bytes.empty()) {
      const auto part = bytes.substr(0, piece);
      bytes.remove_prefix(part.size());
      if (from_client && client_ok) {
        client_sent.append(part);
        client_ok = stream.from_client(part, to_server).ok();
      } else if (!from_client && server_ok) {
        server_ok = stream.from_server(part, to_client).ok();
      }
    }
  };
  static constexpr std::string_view kPurposes[] = {"error",  "stdin",  "stdout", "stderr",
                                                   "resize", "Stdout", ""};
  while (!script.rest.empty() && (client_ok || server_ok)) {
    const uint8_t op = script.byte();
    switch (op & 7) {
      case 0: {
        const auto purpose = kPurposes[script.byte() % std::size(kPurposes)];
        std::string payload;
        append_u32(payload, next_id);
        append_u32(payload, 0);
        payload += std::string(2, '\0');
        SpdyHeaders headers;
        if (!purpose.empty()) headers.emplace_back("streamtype", purpose);
        payload += client_headers.write(headers);
        if (client_ok) purposes[next_id] = purpose;
        feed(true, control(SpdyControl::syn_stream, 0, payload));
        next_id += 2;
        break;
      }
      case 1: {
        std::string payload;
        append_u32(payload, 1 + 2 * (script.byte() % 8));
        payload += server_headers.write({});
        feed(false, control(SpdyControl::syn_reply, 0, payload));
        break;
      }
      case 2: {
        const uint32_t id = 1 + 2 * (script.byte() % 8);
        std::string frame;
        append_spdy_data(id, (op & 0x10) ? kSpdyFlagFin : 0, script.bytes(script.byte()), frame);
        feed(false, frame);
        break;
      }
      case 3: {
        uint32_t stdin_id = 0;
        for (const auto& [id, purpose] : purposes)
          if (purpose == "stdin") stdin_id = id;
        const auto bytes = script.bytes(script.byte());
        std::string frame;
        append_spdy_data(stdin_id == 0 ? 1 : stdin_id, (op & 0x10) ? kSpdyFlagFin : 0, bytes,
                         frame);
        if (stdin_id != 0 && client_ok) stdin_sent += bytes.size();
        feed(true, frame);
        break;
      }
      case 4:
        stdin_exact = false;
        feed(true, script.bytes(script.byte()));
        break;
      case 5:
        feed(false, script.bytes(script.byte()));
        break;
      case 6: {
        std::string payload;
        append_u32(payload, script.byte());
        if (op & 0x10) append_u32(payload, 0);
        feed(false, control((op & 0x10) ? SpdyControl::goaway : SpdyControl::ping, 0, payload));
        break;
      }
      case 7:
        if (server_ok) stream.flush(to_client);
        break;
    }
  }
  if (server_ok) stream.finish(to_client);

  // What the client sent passes as it came, whole frames of it.
  check(std::string_view(client_sent).starts_with(to_server));

  // What the client receives: whole frames; output on stdout and stderr masked.
  SpdyFrameReader reader;
  reader.feed(to_client);
  uint64_t output = 0;
  masking::MaskResult result;
  for (;;) {
    auto next = reader.next();
    check(next.ok());
    if (!*next) break;
    const SpdyFrame& frame = **next;
    if (frame.control) continue;
    const auto purpose = purposes.find(frame.stream_id);
    if (purpose == purposes.end() || (purpose->second != "stdout" && purpose->second != "stderr"))
      continue;
    output += frame.payload.size();
    if (masker->mask_value(frame.payload, masker->plan_text(), result, scratch, counts))
      check(result.kind == masking::MaskResult::Kind::unchanged || result.bytes == frame.payload);
  }
  check(reader.buffered() == 0);
  check(output == stream.output_bytes());
  if (stdin_exact && client_ok) check(stream.input_bytes() == stdin_sent);
  return 0;
}
