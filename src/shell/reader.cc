// Reading a command line: parse, unwrap every command, then the facts that need the whole
// line (functions it defines, a PATH it changes, writes and sockets).
#include "shell/reader.h"

#include <algorithm>
#include <string>
#include <unordered_set>
#include <utility>

#include "shell/parser.h"
#include "shell/program_entry.h"
#include "shell/redirections.h"
#include "shell/unwrap.h"

namespace portcullis::shell {
namespace {

bool is_path_assignment(std::string_view word) {
  return word.starts_with("PATH=") || word.starts_with("PATH+=");
}

// Builtins that behave the same whatever PATH holds: the ones that set it among them.
bool ignores_path(std::string_view name) {
  static constexpr std::string_view kBuiltins[] = {
      "export", "declare", "typeset", "local",  "readonly", "cd", "echo",
      "printf", "test",    "[",       "true",   "false",    ":",  "set",
      "unset",  "shift",   "exit",    "return", "read",     "pwd"};
  return std::find(std::begin(kBuiltins), std::end(kBuiltins), name) != std::end(kBuiltins);
}

// Whether some command sets PATH for the rest of the line: `PATH=/tmp; ls`,
// `export PATH=/tmp:$PATH`.
bool line_changes_path(const CommandLine& line) {
  for (const SimpleCommand& c : line.commands) {
    if (c.argv.empty()) {
      for (const Assignment& a : c.assignments) {
        if (a.name == "PATH") return true;
      }
      continue;
    }
    std::string_view name = program_name(c.argv[0].value);
    if (name == "export" || name == "declare" || name == "typeset" || name == "local" ||
        name == "readonly") {
      for (const Word& w : c.argv) {
        if (is_path_assignment(w.value)) return true;
      }
    }
  }
  return false;
}

void mark_line_facts(CommandLine& line) {
  bool path_changed = line_changes_path(line);
  std::unordered_set<std::string_view> functions(line.functions.begin(), line.functions.end());
  for (SimpleCommand& c : line.commands) {
    line.writes_files = line.writes_files || writes_files(c);
    line.opens_network = line.opens_network || opens_network(c);
    if (c.unknown() || c.argv.empty()) continue;
    const std::string& program = c.argv[0].value;
    if (functions.contains(program)) {
      c.unknown_reason = "calls " + program + ", a function defined in this line";
      continue;
    }
    if (program.find('/') != std::string::npos || ignores_path(program)) continue;
    bool own_path = std::any_of(c.assignments.begin(), c.assignments.end(),
                                [](const Assignment& a) { return a.name == "PATH"; });
    if (own_path || path_changed) {
      c.unknown_reason = "PATH is changed, so the program " + program + " may be any file";
    }
  }
}

}  // namespace

void read_shell_text(std::string_view text, int depth, const SimpleCommand& around, Reading& out) {
  ParsedText parsed =
      parse(text, around.wrappers.empty() ? Origin::command_line : Origin::shell_text);
  if (!parsed.error.empty()) {
    if (out.parse_error.empty()) {
      out.parse_error =
          around.wrappers.empty()
              ? parsed.error
              : "in the text run by " + around.wrappers.back().program + ": " + parsed.error;
    }
    return;
  }
  for (std::string& f : parsed.functions) out.functions.push_back(std::move(f));
  for (SimpleCommand& c : parsed.commands) {
    if (!around.wrappers.empty()) {
      if (!charge_inheritance(around, out)) return;
      c.wrappers.insert(c.wrappers.begin(), around.wrappers.begin(), around.wrappers.end());
      c.assignments.insert(c.assignments.begin(), around.assignments.begin(),
                           around.assignments.end());
      c.redirections.insert(c.redirections.end(), around.redirections.begin(),
                            around.redirections.end());
    }
    unwrap(std::move(c), depth, out);
    if (!out.parse_error.empty()) return;
  }
}

bool charge_inheritance(const SimpleCommand& inherited, Reading& out) {
  std::size_t cost = 0;
  for (const Wrapper& w : inherited.wrappers) {
    cost += sizeof(Wrapper) + w.program.size();
    for (const std::string& word : w.words) cost += sizeof(std::string) + word.size();
  }
  for (const Assignment& a : inherited.assignments) {
    cost += sizeof(Assignment) + a.name.size() + a.value.value.size() + a.value.raw.size();
  }
  for (const Redirection& r : inherited.redirections) {
    cost += sizeof(Redirection) + r.op.size() + r.target.value.size() + r.target.raw.size();
  }
  if (cost > out.copy_budget) {
    if (out.parse_error.empty()) out.parse_error = "the line is too complex to read";
    return false;
  }
  out.copy_budget -= cost;
  return true;
}

CommandLine read_command_line(std::string_view text) {
  Reading reading;
  reading.copy_budget = kCopyBudgetPerByte * text.size() + kCopyBudgetBase;
  read_shell_text(text, 0, SimpleCommand{}, reading);
  CommandLine line = std::move(static_cast<CommandLine&>(reading));
  if (!line.parse_error.empty()) {
    line.commands.clear();
    line.functions.clear();
    line.unknown_reason = "parse error: " + line.parse_error;
    return line;
  }
  mark_line_facts(line);
  if (!line.functions.empty()) {
    line.unknown_reason = "defines a function (" + line.functions.front() + ")";
  } else {
    for (const SimpleCommand& c : line.commands) {
      if (c.unknown()) {
        line.unknown_reason = c.unknown_reason;
        break;
      }
    }
  }
  return line;
}

}  // namespace portcullis::shell
