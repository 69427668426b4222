// The sh grammar: reads a command line as POSIX sh (with the bash forms people type) and
// yields its simple commands as written, before any wrapper is unwrapped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "shell/command_line.h"

namespace portcullis::shell {

struct ParsedText {
  std::vector<SimpleCommand> commands;  // every simple command, nested ones included
  std::vector<std::string> functions;   // names of the functions defined
  std::string error;                    // empty when the text parses
};

// Compound commands, substitutions and quotes nested deeper than this are refused as a parse
// error: it bounds the parser's recursion (and its stack) whatever the input.
inline constexpr int kMaxNesting = 48;

// More redirections or assignments than this on one command are refused as a parse error.
// Redirections of a compound command and the assignments before a wrapper are copied to every
// command inside, so without a bound a line could cost the square of its length. Lines people
// type carry a handful.
inline constexpr std::size_t kMaxRedirections = 64;
inline constexpr std::size_t kMaxAssignments = 64;

// Bytes of inherited redirections, assignments and wrapper entries that may be copied into the
// commands read from a text of N bytes: kCopyBudgetPerByte * N + kCopyBudgetBase. Keeps the
// result's size linear in the text; a line over it is refused as too complex.
inline constexpr std::size_t kCopyBudgetPerByte = 64;
inline constexpr std::size_t kCopyBudgetBase = 1 << 16;

// Commands found at the top of `text` get `origin`; nested ones get the origin of the
// substitution or function body they are in.
ParsedText parse(std::string_view text, Origin origin = Origin::command_line);

}  // namespace portcullis::shell
