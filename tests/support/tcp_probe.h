// A plain TCP client for tests of port forwarding: one request, the first line of the answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace portcullis::testing {

// Connects to 127.0.0.1:port, sends `request`, and returns the first line the peer sends
// (empty if none within 10 s); nullopt when nothing listens there (yet).
std::optional<std::string> first_line_from(uint16_t port, std::string_view request = {});

}  // namespace portcullis::testing
