// Names of the command-line enums, for logs and the audit journal.
#include "shell/command_line.h"

namespace portcullis::shell {

std::string_view SimpleCommand::program() const {
  return argv.empty() ? std::string_view{} : std::string_view(argv[0].value);
}

std::string_view to_string(RedirectionKind kind) {
  switch (kind) {
    case RedirectionKind::input:
      return "input";
    case RedirectionKind::output:
      return "output";
    case RedirectionKind::discard:
      return "discard";
    case RedirectionKind::duplicate:
      return "duplicate";
    case RedirectionKind::here_document:
      return "here_document";
    case RedirectionKind::here_string:
      return "here_string";
    case RedirectionKind::network:
      return "network";
  }
  return "input";
}

std::string_view to_string(Origin origin) {
  switch (origin) {
    case Origin::command_line:
      return "command_line";
    case Origin::command_substitution:
      return "command_substitution";
    case Origin::process_substitution:
      return "process_substitution";
    case Origin::here_document:
      return "here_document";
    case Origin::function_body:
      return "function_body";
    case Origin::shell_text:
      return "shell_text";
  }
  return "command_line";
}

}  // namespace portcullis::shell
