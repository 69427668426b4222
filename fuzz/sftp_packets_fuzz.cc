// libFuzzer target for the sftp codec and relay (proto/ssh/sftp_packets, sftp_relay): the bytes
// are a client's sftp stream and, separately, a host's, cut into pieces of 1-64 bytes (the
// first byte chooses). Checked: every request the relay holds is one read_request reads the
// same, with no NUL in a path; what reaches the host is the client's packets, whole and in
// order, without any the gateway refused; the host's stream reaches the client unchanged but
// for the gateway's reply, slipped in whole between two of the host's packets. The host's
// bytes are also the answers to the gateway's own REALPATH questions (sftp_path_queries): an
// answer is taken once, only for a question asked, and never holds a NUL.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/ssh/sftp_packets.h"
#include "proto/ssh/sftp_path_queries.h"
#include "proto/ssh/sftp_relay.h"

namespace {

using namespace portcullis::proto::ssh::sftp;

void check(bool holds) {
  if (!holds) __builtin_trap();
}

void client_side(std::string_view in, std::size_t cut) {
  SftpRelay relay;
  std::string input, forwarded;
  std::vector<bool> forwarded_held;  // for each held request in order: whether it went on
  bool broken = false;
  for (std::size_t at = 0; at < in.size() && !broken; at += cut) {
    input.append(in.substr(at, cut));
    for (;;) {
      const auto step = relay.from_client(input);
      if (step == SftpRelay::Step::wait) break;
      if (step == SftpRelay::Step::broken) {
        check(!relay.error().empty());
        broken = true;
        break;
      }
      const Request& request = relay.pending();
      for (const auto& path : request.paths) check(path.find('\0') == std::string::npos);
      check(step == SftpRelay::Step::decide ? request.treatment == Treatment::decide
                                            : request.treatment == Treatment::refuse);
      const bool allow = step == SftpRelay::Step::decide && (request.id & 1) != 0;
      if (allow)
        relay.allow(true);
      else
        relay.refuse("refused");
      forwarded_held.push_back(allow);
    }
    forwarded += relay.to_host();
    relay.to_host().clear();
  }
  // Walk the input's packets in order: each passed or allowed one is the next thing forwarded.
  std::size_t in_at = 0, out_at = 0, held = 0;
  while (out_at < forwarded.size()) {
    const auto frame = next_frame(in.substr(in_at));
    check(frame.state == Frame::State::ready);
    const auto packet = in.substr(in_at, frame.size);
    in_at += frame.size;
    auto request = read_request(packet.substr(kLengthSize));
    check(request.ok());
    bool goes = request.value().treatment == Treatment::pass;
    if (!goes) {
      check(held < forwarded_held.size());
      goes = forwarded_held[held++];
    }
    if (!goes) continue;
    check(forwarded.compare(out_at, packet.size(), packet) == 0);
    out_at += packet.size();
  }
}

bool is_prefix(std::string_view text, std::string_view of) {
  return text.size() <= of.size() && of.substr(0, text.size()) == text;
}

void host_side(std::string_view in, std::size_t cut) {
  // A refused STAT whose reply waits for a boundary of the host's stream.
  SftpRelay relay;
  std::string input = std::string("\0\0\0\x05\x01\0\0\0\x03", 9) +
                      std::string("\0\0\0\x0a\x11\0\0\0\x07\0\0\0\x01/", 14);
  if (relay.from_client(input) != SftpRelay::Step::decide) __builtin_trap();
  relay.refuse("no");
  const std::string reply = status_packet(7, kPermissionDenied, "no");
  check(read_reply(std::string_view(reply).substr(kLengthSize)).id == 7u);

  std::string to_client;
  bool failed = false;
  for (std::size_t at = 0; at < in.size() && !failed; at += cut)
    failed = !relay.from_host(in.substr(at, cut), to_client);
  relay.flush_replies(to_client);
  check(failed == !relay.error().empty());
  // Without the reply, what the client got is the host's stream as it came.
  for (auto p = to_client.find(reply); p != std::string::npos; p = to_client.find(reply, p + 1))
    if (is_prefix(to_client.substr(0, p) + to_client.substr(p + reply.size()), in)) return;
  check(is_prefix(to_client, in));
}

void path_queries(std::string_view in, std::size_t cut) {
  PathQueries queries;
  std::vector<uint32_t> asked;
  for (int i = 0; i < 3; ++i) asked.push_back(*queries.ask("link/x"));
  bool failed = false;
  for (std::size_t at = 0; at < in.size() && !failed; at += cut)
    failed = !queries.from_host(in.substr(at, cut));
  check(failed == !queries.error().empty());
  for (const auto id : asked) {
    if (auto answer = queries.take(id)) {
      check(answer->id == id);
      check(answer->path ? answer->path->find('\0') == std::string::npos && !answer->path->empty()
                         : answer->status != kOk);
      check(!queries.take(id));
      if (answer->path) answer_for(question_for("link/x", false), *answer->path);
    }
  }
  check(!queries.take(99));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::size_t cut = 1 + data[0] % 64;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  client_side(in, cut);
  host_side(in, cut);
  path_queries(in, cut);
  for (std::size_t at = 0; at < in.size();) {
    const auto frame = next_frame(in.substr(at));
    if (frame.state != Frame::State::ready) break;
    check(frame.size >= kLengthSize + 1 && frame.size <= kLengthSize + kMaxPacketBody);
    auto request = read_request(in.substr(at + kLengthSize, frame.size - kLengthSize));
    if (request) describe(request.value());
    at += frame.size;
  }
  return 0;
}
