// Building the SSH part of a Command: the classes an operation or a command line needs, read
// once so that the decision point and the journal agree on them.
#include <algorithm>
#include <functional>
#include <utility>

#include "policy/command.h"
#include "shell/paths.h"
#include "shell/program_entry.h"
#include "shell/reader.h"

namespace portcullis::policy {
namespace {

ShellCommand operation(std::string kind, std::vector<std::string> classes) {
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  ShellCommand command;
  command.kind = std::move(kind);
  command.classes = std::move(classes);
  return command;
}

void add_once(std::vector<std::string>& list, std::string value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(std::move(value));
}

}  // namespace

bool ShellCommand::needs(std::string_view name) const {
  return std::binary_search(classes.begin(), classes.end(), name, std::less<>());
}

ShellCommand read_shell_command(std::string_view line) {
  auto read = std::make_shared<const shell::CommandLine>(shell::read_command_line(line));
  std::vector<std::string> classes{"exec"};
  if (read->writes_files) classes.emplace_back("file_write");
  if (read->opens_network) classes.emplace_back("forward");
  if (read->unknown()) classes.emplace_back("unknown");
  ShellCommand command = operation("exec", std::move(classes));
  command.line = std::move(read);
  return command;
}

ShellCommand read_typed_line(std::string_view line, bool followed) {
  ShellCommand command = read_shell_command(line);
  if (!followed && !command.needs("unknown")) {
    auto classes = command.classes;
    classes.emplace_back("unknown");
    auto read = std::move(command.line);
    command = operation("exec", std::move(classes));
    command.line = std::move(read);
  }
  return command;
}

ShellCommand hidden_typed_line() {
  shell::CommandLine line;
  line.unknown_reason =
      "the terminal did not show it (input typed without echo), and the "
      "gateway does not read what is hidden";
  ShellCommand command = operation("exec", {"exec", "unknown"});
  command.line = std::make_shared<const shell::CommandLine>(std::move(line));
  return command;
}

ShellCommand open_shell() {
  return operation("shell", {"shell"});
}

ShellCommand open_sftp() {
  return operation("sftp", {"sftp"});
}

ShellCommand open_scp(const shell::ScpRequest& request) {
  ShellCommand command =
      request.upload ? operation("scp", {"sftp", "file_write"}) : operation("scp", {"sftp"});
  command.paths.push_back(shell::normalise_path(request.path));
  return command;
}

ShellCommand transfer_files(bool writes, std::vector<std::string> paths) {
  ShellCommand command =
      writes ? operation("sftp_write", {"sftp", "file_write"}) : operation("sftp_read", {"sftp"});
  for (auto& path : paths) path = shell::normalise_path(path);
  command.paths = std::move(paths);
  return command;
}

ShellCommand forward_port(std::string destination) {
  ShellCommand command = operation("forward", {"forward"});
  command.paths.push_back(std::move(destination));
  return command;
}

ShellCommand forward_agent() {
  return operation("agent", {"agent"});
}

std::vector<std::string> programs_run(const ShellCommand& command) {
  std::vector<std::string> programs;
  if (!command.line) return programs;
  for (const auto& simple : command.line->commands) {
    for (const auto& wrapper : simple.wrappers) add_once(programs, wrapper.program);
    if (simple.argv.empty()) continue;
    const auto& written = simple.argv[0].value;
    const auto name = simple.argv[0].is_static ? shell::program_name(written) : std::string_view();
    add_once(programs, name.empty() ? written : std::string(name));
  }
  return programs;
}

}  // namespace portcullis::policy
