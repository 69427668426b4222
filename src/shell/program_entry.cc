// Program names and allow-list entries.
#include "shell/program_entry.h"

#include <string>
#include <vector>

#include "shell/paths.h"

namespace portcullis::shell {
namespace {

constexpr std::string_view kSystemDirectories[] = {
    "/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin",
};

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

// The path with `//` and `.` collapsed but `..` refused: a `..` after a symbolic link leads
// somewhere a lexical reading cannot tell, so such a path names no known directory.
bool collapse_without_parent(std::string_view path, std::string& out) {
  out.clear();
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t e = path.find('/', i);
    if (e == std::string_view::npos) e = path.size();
    std::string_view part = path.substr(i, e - i);
    i = e + 1;
    if (part == "..") return false;
    if (part.empty() || part == ".") continue;
    out += '/';
    out.append(part);
  }
  return true;
}

}  // namespace

std::string_view program_name(std::string_view written) {
  std::size_t slash = written.rfind('/');
  if (slash == std::string_view::npos) return written;
  if (written.front() != '/') return {};
  std::string dir;
  if (!collapse_without_parent(written.substr(0, slash), dir)) return {};
  std::string_view base = written.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") return {};
  for (std::string_view d : kSystemDirectories) {
    if (dir == d) return base;
  }
  return {};
}

bool program_matches(std::string_view entry, const SimpleCommand& command) {
  if (command.unknown() || command.argv.empty() || !command.argv[0].is_static) return false;
  std::vector<std::string_view> words = split_words(entry);
  if (words.empty() || words.size() > command.argv.size()) return false;
  std::string_view program = command.argv[0].value;
  if (words[0].find('/') != std::string_view::npos) {
    if (program.find('/') == std::string_view::npos) return false;
    std::string a;
    std::string b;
    if (!collapse_without_parent(words[0], a) || !collapse_without_parent(program, b)) {
      return false;
    }
    if (words[0].front() != program.front()) return false;  // both absolute or both relative
    if (a != b) return false;
  } else {
    std::string_view name = program_name(program);
    if (name.empty() || name != words[0]) return false;
  }
  for (std::size_t i = 1; i < words.size(); ++i) {
    const Word& w = command.argv[i];
    if (!w.is_static || w.value != words[i]) return false;
  }
  return true;
}

}  // namespace portcullis::shell
