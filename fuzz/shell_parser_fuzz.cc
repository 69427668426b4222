// libFuzzer target: arbitrary bytes as an SSH command line through the shell reader. Beyond
// not crashing and staying within the nesting limits: the same text reads the same twice; a
// parse error leaves no commands and makes the line unknown; the line is unknown exactly when
// it has a parse error, defines a function or holds an unknown command; a command whose
// program is not a static word is unknown; quote removal only removes (a static word's value
// is a subsequence of its text unless $'...' decoded it); writes_files and opens_network are
// what the redirections say; normalising a path twice changes nothing; and a known command
// matches the allow-list entry that is its own program's name.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "shell/options.h"
#include "shell/paths.h"
#include "shell/program_entry.h"
#include "shell/reader.h"
#include "shell/redirections.h"

namespace {

using namespace portcullis::shell;

bool is_subsequence(std::string_view part, std::string_view whole) {
  std::size_t j = 0;
  for (char c : part) {
    while (j < whole.size() && whole[j] != c) ++j;
    if (j == whole.size()) return false;
    ++j;
  }
  return true;
}

void check_word(const Word& w) {
  if (!w.is_static || w.raw.find("$'") != std::string::npos) return;
  if (!is_subsequence(w.value, w.raw)) __builtin_trap();
}

bool same(const CommandLine& a, const CommandLine& b) {
  if (a.parse_error != b.parse_error || a.unknown_reason != b.unknown_reason ||
      a.commands.size() != b.commands.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.commands.size(); ++i) {
    const SimpleCommand& x = a.commands[i];
    const SimpleCommand& y = b.commands[i];
    if (x.argv.size() != y.argv.size() || x.unknown_reason != y.unknown_reason) return false;
    for (std::size_t k = 0; k < x.argv.size(); ++k) {
      if (x.argv[k].value != y.argv[k].value) return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CommandLine line = read_command_line(text);
  if (!same(line, read_command_line(text))) __builtin_trap();

  if (!line.parse_error.empty()) {
    if (!line.unknown() || !line.commands.empty()) __builtin_trap();
    return 0;
  }
  bool any_unknown = !line.functions.empty();
  bool writes = false;
  bool network = false;
  for (const SimpleCommand& c : line.commands) {
    any_unknown = any_unknown || c.unknown();
    writes = writes || writes_files(c);
    network = network || opens_network(c);
    if (c.wrappers.size() > static_cast<std::size_t>(kMaxUnwrapDepth) + 1) __builtin_trap();
    if (!c.argv.empty() && !c.argv[0].is_static && !c.unknown()) __builtin_trap();
    for (const Word& w : c.argv) check_word(w);
    for (const Assignment& a : c.assignments) check_word(a.value);
    for (const Redirection& r : c.redirections) check_word(r.target);
    for (const std::string& p : paths_of(c)) {
      if (normalise_path(p) != p) __builtin_trap();
    }
    CommandOptions options = options_of(c);
    if (options.expanded.size() < options.written.size()) __builtin_trap();
    if (!c.unknown() && !c.argv.empty()) {
      std::string_view name = program_name(c.argv[0].value);
      if (!name.empty() && name.find_first_of(" \t") == std::string_view::npos &&
          !program_matches(name, c)) {
        __builtin_trap();
      }
    }
  }
  if (any_unknown != line.unknown()) __builtin_trap();
  if (writes != line.writes_files || network != line.opens_network) __builtin_trap();
  return 0;
}
