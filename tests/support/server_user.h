// The unprivileged account that test servers run as. PostgreSQL refuses to start as root,
// and CI runs the tests as root.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace portcullis::testing {

struct ServerUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// When the test runs as root: the system account `portcullis-test` (or $PORTCULLIS_TEST_USER),
// created on first use. Otherwise nullopt: servers run as the test's own user.
std::optional<ServerUser> server_user();

// The account SSH tests log in as on a test sshd. When the test runs as root: the system
// account `portcullis-ssh` (or $PORTCULLIS_SSH_TEST_USER), created on first use with /bin/sh as
// its shell, a home in /var/lib and the password field `*` (no password, yet not locked:
// sshd without PAM refuses accounts whose password field starts with `!`, as useradd leaves
// it). Otherwise the test's own user, the only one a non-root sshd can log in.
ServerUser ssh_login_user();

// Gives a file or directory to the server user (a no-op when there is none).
void give_to_server_user(const std::optional<ServerUser>& user, const std::string& path);

}  // namespace portcullis::testing
