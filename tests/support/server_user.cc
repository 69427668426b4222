// Finds or creates the unprivileged accounts for test servers and for SSH logins to a test sshd.
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
constexpr const char* kSshUser = "portcullis-ssh";
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

std::string configured_name(const char* variable, const char* fallback) {
  const char* configured = std::getenv(variable);
  return configured != nullptr && *configured != '\0' ? configured : fallback;
}

// Looks the account up, or creates it with useradd and these options.
ServerUser find_or_create(const std::string& name,
                          const std::vector<std::string>& useradd_options) {
  if (auto user = look_up(name)) return *user;

  int lock = ::open(kLockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock < 0) {
    throw std::runtime_error(fmt::format("open {}: {}", kLockFile, std::strerror(errno)));
  }
  ::flock(lock, LOCK_EX);
  std::optional<ServerUser> user = look_up(name);
  std::string failure;
  if (!user) {
    std::vector<std::string> argv = {"useradd"};
    argv.insert(argv.end(), useradd_options.begin(), useradd_options.end());
    argv.push_back(name);
    RunResult created = run_command(std::move(argv));
    user = look_up(name);
    if (!user) failure = created.describe();
  }
  ::flock(lock, LOCK_UN);
  ::close(lock);
  if (!user) throw std::runtime_error(fmt::format("cannot create user {}: {}", name, failure));
  return *user;
}

}  // namespace

std::optional<ServerUser> server_user() {
  if (::geteuid() != 0) return std::nullopt;
  return find_or_create(configured_name("PORTCULLIS_TEST_USER", kDefaultUser),
                        {"--system", "--user-group", "--no-create-home", "--home-dir",
                         "/nonexistent", "--shell", "/usr/sbin/nologin"});
}

ServerUser ssh_login_user() {
  if (::geteuid() != 0) {
    passwd entry{};
    passwd* found = nullptr;
    std::vector<char> buffer(16384);
    if (::getpwuid_r(::geteuid(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
        found == nullptr) {
      throw std::runtime_error(fmt::format("no passwd entry for uid {}", ::geteuid()));
    }
    return ServerUser{entry.pw_name, entry.pw_uid, entry.pw_gid};
  }
  const std::string name = configured_name("PORTCULLIS_SSH_TEST_USER", kSshUser);
  // sshd runs every session through the account's shell, and changes to its home before that
  // (printing a warning into the session when it is missing): both must be real.
  return find_or_create(name, {"--system", "--user-group", "--create-home", "--home-dir",
                               "/var/lib/" + name, "--shell", "/bin/sh", "--password", "*"});
}

void give_to_server_user(const std::optional<ServerUser>& user, const std::string& path) {
  if (!user) return;
  if (::chown(path.c_str(), user->uid, user->gid) != 0) {
    throw std::runtime_error(fmt::format("chown {}: {}", path, std::strerror(errno)));
  }
}

}  // namespace portcullis::testing
