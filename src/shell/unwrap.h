// Unwrapping: a command that runs another command (sudo, env, nohup, timeout, xargs, sh -c,
// find -exec, ...) gives the command it runs, with itself added to its wrapper chain.
// Internal to the module: reader.cc and unwrap.cc call each other through these two.
#pragma once

#include <cstddef>
#include <string_view>

#include "shell/command_line.h"

namespace portcullis::shell {

// A command line being read: the result, and what may still be copied into it.
struct Reading : CommandLine {
  std::size_t copy_budget = 0;
};

// Takes the size of what `inherited` passes on (wrappers, assignments, redirections) from the
// budget; false, with a parse error recorded, when the budget is spent.
bool charge_inheritance(const SimpleCommand& inherited, Reading& out);

// Adds to out.commands the command as it finally runs (or several, for find -exec and
// shell text), marking what cannot be known.
void unwrap(SimpleCommand command, int depth, Reading& out);

// Parses shell text run by a wrapper (sh -c TEXT, su -c, env -S, watch, trap) and unwraps
// each command in it; `around` gives the wrapper chain, assignments and redirections that the
// commands inherit. A parse error is recorded in out.parse_error.
void read_shell_text(std::string_view text, int depth, const SimpleCommand& around, Reading& out);

}  // namespace portcullis::shell
