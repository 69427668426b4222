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

// Gives a file or directory to the server user (a no-op when there is none).
void give_to_server_user(const std::optional<ServerUser>& user, const std::string& path);

}  // namespace portcullis::testing
