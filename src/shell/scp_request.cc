// Recognising legacy scp's server request. The shell reader says what the line runs; the
// line must also be nothing but its words, so that no operator, group or comment the reader
// looks through can run more than this one scp on the host.
#include "shell/scp_request.h"

#include "shell/reader.h"

namespace portcullis::shell {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

// The text is the words as written, separated by blanks and nothing else.
bool only_words(std::string_view text, const SimpleCommand& command) {
  std::size_t at = 0;
  for (const auto& word : command.argv) {
    while (at < text.size() && is_blank(text[at])) ++at;
    if (word.raw.empty() || text.compare(at, word.raw.size(), word.raw) != 0) return false;
    at += word.raw.size();
    // A word ends at a blank or the end of the line; otherwise the reader split it.
    if (at < text.size() && !is_blank(text[at])) return false;
  }
  while (at < text.size() && is_blank(text[at])) ++at;
  return at == text.size();
}

}  // namespace

std::optional<ScpRequest> read_scp_request(std::string_view line) {
  const CommandLine read = read_command_line(line);
  if (read.unknown() || !read.parse_error.empty() || !read.functions.empty() ||
      read.commands.size() != 1 || read.writes_files || read.opens_network)
    return std::nullopt;
  const SimpleCommand& command = read.commands.front();
  if (command.origin != Origin::command_line || !command.wrappers.empty() ||
      !command.assignments.empty() || !command.redirections.empty() ||
      command.takes_unknown_arguments || command.argv.size() < 3)
    return std::nullopt;
  for (const auto& word : command.argv)
    if (!word.is_static) return std::nullopt;
  if (command.argv[0].value != "scp" || command.argv[0].raw != "scp") return std::nullopt;
  if (!only_words(line, command)) return std::nullopt;

  ScpRequest request;
  bool to = false, from = false;
  std::size_t at = 1;
  for (; at < command.argv.size(); ++at) {
    const std::string& word = command.argv[at].value;
    if (word == "--") {
      ++at;
      break;
    }
    if (word.size() < 2 || word[0] != '-') break;
    for (std::size_t i = 1; i < word.size(); ++i) {
      switch (word[i]) {
        case 't':
          to = true;
          break;
        case 'f':
          from = true;
          break;
        case 'r':
          request.recursive = true;
          break;
        case 'p':
          request.preserve = true;
          break;
        case 'd':
          request.target_is_directory = true;
          break;
        case 'v':
          request.verbose = true;
          break;
        default:
          return std::nullopt;
      }
    }
  }
  if (to == from) return std::nullopt;
  if (from && request.target_is_directory) return std::nullopt;
  if (at + 1 != command.argv.size()) return std::nullopt;
  request.upload = to;
  request.path = command.argv[at].value;
  if (request.path.empty()) return std::nullopt;
  return request;
}

}  // namespace portcullis::shell
