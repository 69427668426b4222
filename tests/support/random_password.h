// A password for a test server's users: random per run, so that no test passes by a password
// it should not know.
#pragma once

#include <random>
#include <string>

namespace portcullis::testing {

inline std::string random_password() {
  std::random_device device;
  std::uniform_int_distribution<int> digit(0, 15);
  std::string password = "pw-";
  for (int i = 0; i < 24; ++i) password += "0123456789abcdef"[digit(device)];
  return password;
}

}  // namespace portcullis::testing
