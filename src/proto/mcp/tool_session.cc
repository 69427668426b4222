// What the tools' ways into a front end share.
#include "proto/mcp/tool_session.h"

#include <fmt/format.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace portcullis::proto::mcp {

Result<std::pair<int, int>> make_socketpair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return make_error(fmt::format("socketpair: {}", std::strerror(errno)));
  return std::pair{fds[0], fds[1]};
}

}  // namespace portcullis::proto::mcp
