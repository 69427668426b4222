// What a redirection does: read, write a file, discard, duplicate a descriptor, or open a
// network socket (bash's /dev/tcp and /dev/udp). The facts `writes_files` and `opens_network`
// are read from these kinds.
#pragma once

#include <string_view>

#include "shell/command_line.h"

namespace portcullis::shell {

RedirectionKind classify_redirection(std::string_view op, const Word& target);

// /dev/tcp/... or /dev/udp/..., as written or once normalised.
bool is_network_path(std::string_view path);

// An output redirection to a file other than /dev/null, /dev/stdout and /dev/stderr; a
// target that is not static counts as a file.
bool writes_files(const SimpleCommand& command);
bool opens_network(const SimpleCommand& command);

}  // namespace portcullis::shell
