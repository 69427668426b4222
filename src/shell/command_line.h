// What the gateway reads in an SSH command line: every simple command the shell would run,
// with its words after quote removal, its assignments and redirections, and the wrappers
// (sudo, env, sh -c, find -exec, ...) that were unwrapped to reach it. Pure data.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace portcullis::shell {

// One word after quote removal. A static word has the value the program will receive; a word
// that depends on an expansion (parameter, command substitution, arithmetic, an unquoted glob
// or brace expansion, or `{}` filled in by find or xargs) keeps its expansions as written in
// `value` and is not static.
struct Word {
  std::string value;
  std::string raw;  // the text as written in the line it was read from
  bool is_static = true;
};

struct Assignment {
  std::string name;
  Word value;  // static unless it depends on an expansion (globs do not expand here)
};

// What a redirection does to the file or descriptor it names.
enum class RedirectionKind {
  input,          // <  (and <& to a file)
  output,         // > >> >| &> &>> <> >&FILE, or any output to a non-static target
  discard,        // output to /dev/null, /dev/stdout or /dev/stderr
  duplicate,      // N>&M, N<&M, N>&-, N<&-
  here_document,  // << and <<-: the body is data
  here_string,    // <<<
  network,        // /dev/tcp/HOST/PORT or /dev/udp/HOST/PORT: bash opens a socket
};

struct Redirection {
  int fd = -1;  // as written before the operator; -1 when the operator's default applies
  std::string op;
  Word target;  // for here-documents, the delimiter
  RedirectionKind kind = RedirectionKind::input;
};

// A command that ran another command and was unwrapped: `sudo -u root` in
// `sudo -u root rm x`. `words` are its own words up to the command it runs (the first 32 of
// them; for find, `find` and the action: `-exec`).
struct Wrapper {
  std::string program;  // the program's name (sudo, env, sh, find, xargs, ...)
  std::vector<std::string> words;
};

// Where in the line a command was found.
enum class Origin {
  command_line,          // a list, pipeline, subshell, group or loop of the line itself
  command_substitution,  // $(...) or `...`
  process_substitution,  // <(...) or >(...)
  here_document,         // $(...) or `...` in the body of a here-document with a plain delimiter
  function_body,
  shell_text,  // the text given to sh -c, su -c, env -S, watch or trap
};

struct SimpleCommand {
  // argv[0] is the program. Empty for a command of only assignments or redirections
  // (`A=1`, `> file`, `exec 3>&-`): no program runs.
  std::vector<Word> argv;
  std::vector<Assignment> assignments;
  // Its own, then those of the compound commands and wrappers around it (they share the
  // descriptors).
  std::vector<Redirection> redirections;
  std::vector<Wrapper> wrappers;  // outermost first
  Origin origin = Origin::command_line;
  // xargs appends words read from its input, and `find -exec ... {} +` file names: the
  // program gets arguments the line does not show.
  bool takes_unknown_arguments = false;
  // Why the program that runs cannot be known from the line; empty when it can.
  std::string unknown_reason;

  bool unknown() const { return !unknown_reason.empty(); }
  // argv[0]'s value, or empty.
  std::string_view program() const;
};

struct CommandLine {
  // Every command, nested ones included, in the order their reading ends: the commands of a
  // substitution come before the command that holds it.
  std::vector<SimpleCommand> commands;
  // Why the text does not parse, the texts run by wrappers included (`sh -c "'"`), or why it
  // is refused as too complex; empty otherwise. When set, there are no commands or functions.
  std::string parse_error;
  // Why the line as a whole is unknown: its parse error, a function definition, or the first
  // unknown command's reason. Empty when every command is known.
  std::string unknown_reason;
  std::vector<std::string> functions;  // names of the functions the line defines
  bool writes_files = false;           // some command has an `output` redirection
  bool opens_network = false;          // some command has a `network` redirection

  bool unknown() const { return !unknown_reason.empty(); }
};

std::string_view to_string(RedirectionKind kind);
std::string_view to_string(Origin origin);

}  // namespace portcullis::shell
