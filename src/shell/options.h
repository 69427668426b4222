// The options a command was given, for the policy's `options` rules
// (`{ program: rm, options: [-r, --recursive] }`).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "shell/command_line.h"

namespace portcullis::shell {

struct CommandOptions {
  // Every word after the program that starts with `-` (not `-` alone), up to `--`, as written;
  // a long option loses its `=VALUE`: `-rf`, `-exec`, `--color`.
  std::vector<std::string> written;
  // The same with short clusters split: `-rf` gives `-r` and `-f`, `-exec` gives `-e -x -e -c`;
  // long options as in `written`.
  std::vector<std::string> expanded;
};

// Options are collected wherever they stand (GNU programs accept `rm / -rf`), from static
// words only. A word that is an option's argument (`grep -e -rf`) is read as options too: a
// rule that refuses an option then errs on the side of refusing.
CommandOptions options_of(const SimpleCommand& command);

// How a rule's option is matched: a long option (`--delete`) or a single letter (`-r`) is
// looked for in `expanded`, so clusters count; a single-dash word of several letters
// (`-delete`, `-exec`, find's and java's style) is looked for in `written`, as the program
// reads it. A rule `-rf` is therefore the cluster exactly as typed; write `-r` and `-f` to
// catch every spelling.
bool has_option(const CommandOptions& options, std::string_view rule_option);

}  // namespace portcullis::shell
