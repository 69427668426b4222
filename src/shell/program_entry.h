// How a program written in a command line is named, and how it matches an allow-list entry
// such as `cat` or `systemctl status`.
#pragma once

#include <string_view>

#include "shell/command_line.h"

namespace portcullis::shell {

// The name a program is known by: a bare name as written (`cat`), or the base name of a path
// in a standard system directory (/bin, /usr/bin, /sbin, /usr/sbin, /usr/local/bin,
// /usr/local/sbin; `/usr/bin/cat` is `cat`). Empty for any other path (`./cat`, `/tmp/cat`,
// `/usr/bin/../../tmp/cat`): such a program is not the one the name promises. Wrappers are
// recognised by this name too, so `/tmp/env rm` is not unwrapped.
std::string_view program_name(std::string_view written);

// Whether the command matches the entry. The entry's first word is a bare name, matched
// against program_name(), or a path, matched against the program exactly as written (after
// collapsing `//` and `.`). Its further words must equal the command's first arguments, in
// order and with nothing between: `systemctl status` matches `systemctl status nginx` but
// not `systemctl restart nginx`, nor `systemctl --now status nginx` (options before the
// subcommand are not skipped, so one cannot hide a different subcommand; write the entry as
// the command is typed). Those words must be static. An unknown command, and a command with
// no program, match nothing.
bool program_matches(std::string_view entry, const SimpleCommand& command);

}  // namespace portcullis::shell
