// The module's entry point: a command line in, every simple command that would run out, with
// wrappers unwrapped and what cannot be known marked unknown. Never throws on any input.
#pragma once

#include <string_view>

#include "shell/command_line.h"

namespace portcullis::shell {

// How many wrappers (sudo, env, sh -c, ...) are unwrapped one inside the other; a command
// nested deeper is unknown.
inline constexpr int kMaxUnwrapDepth = 16;

CommandLine read_command_line(std::string_view text);

}  // namespace portcullis::shell
