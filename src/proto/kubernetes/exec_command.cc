// Quoting an exec command's words for the shell command reader.
#include "proto/kubernetes/exec_command.h"

#include <algorithm>
#include <string_view>

namespace portcullis::proto::kubernetes {
namespace {

bool is_safe_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("_./=:,@%+-").find(c) != std::string_view::npos;
}

// Words a shell reads as grammar in a command's first place (POSIX's reserved words and
// bash's): written as they are, `if` would begin a compound command instead of running `if`.
bool is_reserved_word(std::string_view word) {
  static constexpr std::string_view kReserved[] = {
      "case",     "coproc", "do", "done",   "elif", "else", "esac",  "fi",   "for",
      "function", "if",     "in", "select", "then", "time", "until", "while"};
  return std::find(std::begin(kReserved), std::end(kReserved), word) != std::end(kReserved);
}

bool needs_quotes(std::string_view word, bool first) {
  if (word.empty() || !std::all_of(word.begin(), word.end(), is_safe_char)) return true;
  // NAME=value first is an assignment, and no program runs.
  if (first && (word.find('=') != std::string_view::npos || is_reserved_word(word))) return true;
  return false;
}

void append_word(std::string& line, std::string_view word, bool first) {
  if (!needs_quotes(word, first)) {
    line += word;
    return;
  }
  line += '\'';
  for (const char c : word) {
    // A single-quoted text cannot hold a ': close, write it escaped, reopen.
    if (c == '\'')
      line += "'\\''";
    else
      line += c;
  }
  line += '\'';
}

}  // namespace

std::string format_exec_line(const std::vector<std::string>& argv) {
  std::string line;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (i > 0) line += ' ';
    append_word(line, argv[i], i == 0);
  }
  return line;
}

}  // namespace portcullis::proto::kubernetes
