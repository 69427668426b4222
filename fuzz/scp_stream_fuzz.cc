// libFuzzer target for the legacy scp stream (proto/ssh/scp_stream): the bytes are a sender's
// stream cut into pieces of 1-64 bytes (the first byte chooses, and whether the transfer is an
// upload, recursive, to a directory), with a receiver that answers what it is owed, well or
// with a warning (bits of the bytes choose), and a session that allows or refuses each entry.
// Checked: every entry is named by paths at or below PATH, never with a NUL; nothing reaches
// the receiver while an entry waits, nor from a refused one; what reaches the receiver is the
// sender's bytes in order; the gateway's answers to the sender are whole lines.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/ssh/scp_stream.h"
#include "shell/scp_request.h"

namespace {

using namespace portcullis::proto::ssh::scp;
using Step = ScpStream::Step;

void check(bool holds) {
  if (!holds) __builtin_trap();
}

constexpr std::string_view kBase = "/srv/in";

bool at_or_below_base(const std::string& path) {
  return path == kBase ||
         (path.size() > kBase.size() && path.starts_with(kBase) && path[kBase.size()] == '/');
}

// `sub` is `of` with bytes left out, in order.
bool is_subsequence(std::string_view sub, std::string_view of) {
  std::size_t at = 0;
  for (const char c : of)
    if (at < sub.size() && sub[at] == c) ++at;
  return at == sub.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::size_t cut = 1 + data[0] % 64;
  const uint8_t options = data[1];
  const std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);

  portcullis::shell::ScpRequest request;
  request.upload = (options & 1) != 0;
  request.recursive = (options & 2) != 0;
  request.target_is_directory = request.upload && (options & 4) != 0;
  request.path = (options & 8) != 0 ? "/srv/./in/" : "/srv/in";
  ScpStream stream(request);

  std::string input, forwarded, to_sender;
  std::size_t answer_bits = 0;
  auto answer = [&] {
    // The receiver answers everything it owes, in order: fine, or with a warning.
    while (stream.awaiting() > 0) {
      const bool fine =
          (in.empty() || (static_cast<uint8_t>(in[answer_bits++ % in.size()]) & 0x10) == 0);
      std::string reply = fine ? std::string(1, '\0') : std::string("\x01scp: no\n");
      check(stream.from_receiver(reply) == Step::wait);
      check(reply.empty());
    }
  };
  answer();
  for (std::size_t at = 0; at < in.size(); at += cut) {
    input.append(in.substr(at, cut));
    for (bool more = true; more;) {
      more = false;
      const Step step = stream.from_sender(input);
      if (step == Step::broken) {
        check(!stream.error().empty());
        check(stream.from_sender(input) == Step::broken);
        forwarded += stream.to_receiver();
        check(is_subsequence(forwarded, in));
        return 0;
      }
      if (step == Step::decide) {
        const Entry& entry = stream.pending();
        check(!entry.paths.empty());
        check(!entry.name.empty() && entry.name != "." && entry.name != ".." &&
              entry.name.find('/') == std::string::npos);
        for (const auto& path : entry.paths) {
          check(path.find('\0') == std::string::npos);
          check(at_or_below_base(path));
        }
        // Nothing reaches the receiver while the entry waits.
        const std::size_t before = stream.to_receiver().size();
        check(stream.from_sender(input) == Step::wait);
        check(stream.to_receiver().size() == before);
        if ((entry.name.size() & 1) != 0) {
          stream.allow();
        } else {
          stream.refuse("portcullis: refused");
          check(stream.to_receiver().size() == before);
        }
        more = true;
      }
      forwarded += stream.to_receiver();
      stream.to_receiver().clear();
      to_sender += stream.to_sender();
      stream.to_sender().clear();
      if (stream.awaiting() > 0) {
        answer();
        more = true;
      }
    }
  }
  check(is_subsequence(forwarded, in));
  // The gateway's own answers are whole lines among the receiver's.
  constexpr std::string_view kWarning = "\x01portcullis: refused\n";
  for (std::size_t p = to_sender.find(kWarning.substr(0, kWarning.size() - 1));
       p != std::string::npos; p = to_sender.find(kWarning.substr(0, kWarning.size() - 1), p + 1))
    check(to_sender.compare(p, kWarning.size(), kWarning) == 0);
  std::string error;
  while (stream.next_outcome(error)) {
  }
  return 0;
}
