// Picks a TCP port on the loopback interface that nothing listens on right now and that no
// other test process is handed until this one exits.
#pragma once

#include <cstdint>

namespace portcullis::testing {

// A port below the kernel's ephemeral range (so no bind(0) and no outgoing connection can
// take it meanwhile), bindable now, and reserved for the life of this process with a lock
// file in /tmp/portcullis-test-ports: tests run in parallel processes, and a server usually
// binds its port seconds after it was chosen (after initdb, for PostgreSQL).
uint16_t free_tcp_port();

}  // namespace portcullis::testing
