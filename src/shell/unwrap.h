// Unwrapping: a command that runs another command (sudo, env, nohup, timeout, xargs, sh -c,
// find -exec, ...) gives the command it runs, with itself added to its wrapper chain.
// Internal to the module: reader.cc and unwrap.cc call each other through these two.
#pragma once

#include <string_view>

#include "shell/command_line.h"

namespace portcullis::shell {

// Adds to out.commands the command as it finally runs (or several, for find -exec and
// shell text), marking what cannot be known.
void unwrap(SimpleCommand command, int depth, CommandLine& out);

// Parses shell text run by a wrapper (sh -c TEXT, su -c, env -S, watch, trap) and unwraps
// each command in it; `around` gives the wrapper chain, assignments and redirections that the
// commands inherit. A parse error is recorded in out.parse_error.
void read_shell_text(std::string_view text, int depth, const SimpleCommand& around,
                     CommandLine& out);

}  // namespace portcullis::shell
