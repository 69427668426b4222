// Picks a TCP port on the loopback interface that nothing listens on right now.
#pragma once

#include <cstdint>

namespace portcullis::testing {

// Binds 127.0.0.1:0, reads the port the kernel chose and closes the socket. Another process
// could take the port before the caller binds it; the kernel hands out ephemeral ports in
// turn, so in practice that does not happen within one test.
uint16_t free_tcp_port();

}  // namespace portcullis::testing
