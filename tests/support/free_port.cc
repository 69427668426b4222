// Port selection for servers started by tests, coordinated between test processes.
#include "free_port.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

namespace portcullis::testing {
namespace {

constexpr const char* kLockDir = "/tmp/portcullis-test-ports";
constexpr int kSpan = 12000;  // ports tried below the ephemeral range

// [first, last] of the ports this picks from: the span just below the ephemeral range.
std::pair<int, int> candidate_range() {
  int ephemeral_low = 32768;
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  if (int low = 0, high = 0; range >> low >> high && low > 1024) ephemeral_low = low;
  const int last = ephemeral_low - 1;
  const int first = std::max(1024, last - kSpan);
  return {first, last};
}

bool bindable(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
  // Servers set SO_REUSEADDR; a port left in TIME_WAIT by an earlier run is fine for them.
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

uint16_t free_tcp_port() {
  static std::mutex mutex;
  static std::vector<int> held;  // lock files kept open until the process exits
  std::lock_guard lock(mutex);
  if (::mkdir(kLockDir, 0777) == 0) ::chmod(kLockDir, 0777);  // any user's tests may share it
  const auto [first, last] = candidate_range();
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pick(first, last);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const auto port = static_cast<uint16_t>(pick(random));
    const std::string path = fmt::format("{}/{}", kLockDir, port);
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) continue;
    // A lock belongs to an open file description: a port this process holds already is
    // refused here too.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || !bindable(port)) {
      ::close(fd);
      continue;
    }
    held.push_back(fd);
    return port;
  }
  throw std::runtime_error(
      fmt::format("no free TCP port between {} and {} after 1000 tries", first, last));
}

}  // namespace portcullis::testing
