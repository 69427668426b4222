// Hex test vectors as bytes.
#pragma once

#include <string>
#include <string_view>

namespace portcullis::proto::mysql::testing {

inline std::string from_hex(std::string_view hex) {
  std::string out;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  return out;
}

inline std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// A MariaDB 10.11.19 greeting, as sent to a client on 127.0.0.1.
inline constexpr std::string_view kMariadbGreeting =
    "0a352e352e352d31302e31312e31392d4d6172696144422d302b646562313275310005000000505a5623467642"
    "2400fef7080200ff81150000000000001d0000002e59582c727a312254626f27006d7973716c5f6e6174697665"
    "5f70617373776f726400";

}  // namespace portcullis::proto::mysql::testing
