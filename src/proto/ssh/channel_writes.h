// Writing a channel's queued bytes to its peer, as far as the peer's window lets the gateway.
#pragma once

#include <libssh/libssh.h>

#include <algorithm>
#include <cstdint>
#include <string>

namespace portcullis::proto::ssh {

// The most bytes one read from a channel or a forwarded socket takes (into a stack buffer).
inline constexpr uint32_t kReadChunk = 32 * 1024;

// Writes as much of `queue` as the channel's window takes, and erases what was written.
inline void write_queued(ssh_channel channel, std::string& queue, bool is_stderr) {
  while (!queue.empty()) {
    const uint32_t window = ssh_channel_window_size(channel);
    if (window == 0) return;
    const auto n = static_cast<uint32_t>(std::min<std::size_t>(queue.size(), window));
    const int written = is_stderr ? ssh_channel_write_stderr(channel, queue.data(), n)
                                  : ssh_channel_write(channel, queue.data(), n);
    if (written <= 0) return;
    queue.erase(0, static_cast<std::size_t>(written));
  }
}

}  // namespace portcullis::proto::ssh
