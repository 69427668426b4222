// Finds or creates the unprivileged account for test servers.
#include "server_user.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <pwd.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "child_process.h"

namespace portcullis::testing {

namespace {

constexpr const char* kDefaultUser = "portcullis-test";
// Serialises useradd between test processes that ctest runs in parallel.
constexpr const char* kLockFile = "/tmp/portcullis-test-user.lock";

std::optional<ServerUser> look_up(const std::string& name) {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return std::nullopt;
  }
  return ServerUser{name, entry.pw_uid, entry.pw_gid};
}

}  // namespace

std::optional<ServerUser> server_user() {
  if (::geteuid() != 0) return std::nullopt;
  const char* configured = std::getenv("PORTCULLIS_TEST_USER");
  std::string name = configured != nullptr && *configured != '\0' ? configured : kDefaultUser;
  if (auto user = look_up(name)) return user;

  int lock = ::open(kLockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock < 0) {
    throw std::runtime_error(fmt::format("open {}: {}", kLockFile, std::strerror(errno)));
  }
  ::flock(lock, LOCK_EX);
  std::optional<ServerUser> user = look_up(name);
  std::string failure;
  if (!user) {
    RunResult created =
        run_command({"useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
                     "/nonexistent", "--shell", "/usr/sbin/nologin", name});
    user = look_up(name);
    if (!user) failure = created.describe();
  }
  ::flock(lock, LOCK_UN);
  ::close(lock);
  if (!user) throw std::runtime_error(fmt::format("cannot create user {}: {}", name, failure));
  return user;
}

void give_to_server_user(const std::optional<ServerUser>& user, const std::string& path) {
  if (!user) return;
  if (::chown(path.c_str(), user->uid, user->gid) != 0) {
    throw std::runtime_error(fmt::format("chown {}: {}", path, std::strerror(errno)));
  }
}

}  // namespace portcullis::testing
