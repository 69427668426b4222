// Paths a command names, for the policy's `paths` globs: every argument and redirection
// target, normalised lexically.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "shell/command_line.h"

namespace portcullis::shell {

// Collapses `//` and `.`, resolves `..` against the part before it, drops a trailing `/`;
// never touches the file system, so a symbolic link is not followed (`a/link/..` becomes `a`).
// Relative paths stay relative (`./x` is `x`, leading `..` are kept); `..` at the root stays
// at the root. An empty path stays empty; `~` is kept as written.
std::string normalise_path(std::string_view path);

// Every argument after the program and every file a redirection names (descriptor
// duplications and here-documents excluded), normalised. An argument `NAME=VALUE` or
// `--option=VALUE` also gives VALUE, since programs read paths from there (`dd of=/x`,
// `--output=/x`). Words that are not static are given as written: a policy that must be sure
// checks Word::is_static itself.
std::vector<std::string> paths_of(const SimpleCommand& command);

}  // namespace portcullis::shell
