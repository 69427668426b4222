// Legacy scp's server side: `scp -O` is not a subsystem but an exec request of `scp -t PATH`
// (the host receives files) or `scp -f PATH` (the host sends them). Recognising such a line
// lets the gateway decide it as a file transfer, file by file, rather than as a command line
// whose writes it cannot see. Pure: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace portcullis::shell {

struct ScpRequest {
  bool upload = false;               // -t: the host writes what the client sends
  bool recursive = false;            // -r: directories (D ... E) may come
  bool preserve = false;             // -p: times (T lines) may come
  bool target_is_directory = false;  // -d: PATH must be a directory (several sources)
  bool verbose = false;              // -v
  std::string path;                  // the one PATH, as the program receives it
};

// The line as an scp server request when it is exactly one simple command `scp` with only the
// flags OpenSSH's scp client sends to the server (-t or -f, exactly one of them; -r, -p, -v,
// and -d with -t; clustered or not; `--`) and exactly one path; every word static, nothing
// around them (no wrapper, assignment, redirection, list, pipe, group or comment). Anything
// else is nullopt: an ordinary command line, decided as one.
std::optional<ScpRequest> read_scp_request(std::string_view line);

}  // namespace portcullis::shell
