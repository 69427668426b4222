// Matching guardrail conditions against SSH commands, one simple command at a time.
#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "policy/access.h"
#include "policy/guardrails.h"
#include "shell/glob_match.h"
#include "shell/options.h"
#include "shell/paths.h"
#include "shell/program_entry.h"

namespace portcullis::policy {
namespace {

bool has_glob_characters(std::string_view text) {
  return text.find_first_of("*?[") != std::string_view::npos;
}

bool options_match(const config::GuardrailWhen& when, const shell::SimpleCommand& simple) {
  std::optional<shell::CommandOptions> options;
  for (const auto& entry : when.options) {
    if (!shell::program_matches(entry.program, simple)) continue;
    if (!options) options = shell::options_of(simple);
    for (const auto& option : entry.options)
      if (shell::has_option(*options, option)) return true;
  }
  return false;
}

bool paths_match(const config::GuardrailWhen& when, const ShellCommand& command,
                 const shell::SimpleCommand* simple) {
  std::vector<std::string> paths = command.paths;
  if (simple) {
    auto named = shell::paths_of(*simple);
    paths.insert(paths.end(), std::make_move_iterator(named.begin()),
                 std::make_move_iterator(named.end()));
  }
  for (const auto& glob : when.paths)
    for (const auto& path : paths)
      if (path_matches(glob, path)) return true;
  return false;
}

bool program_or_options_match(const config::GuardrailWhen& when,
                              const shell::SimpleCommand& simple) {
  return std::any_of(
             when.programs.begin(), when.programs.end(),
             [&](const std::string& entry) { return shell::program_matches(entry, simple); }) ||
         options_match(when, simple);
}

// A wrapper as a command of its own (its words up to the command it runs), so that a guardrail
// on `sudo` or `sudo -u` refuses `sudo -u root rm x`, whose command is rm.
shell::SimpleCommand as_command(const shell::Wrapper& wrapper) {
  shell::SimpleCommand command;
  for (const auto& word : wrapper.words)
    command.argv.push_back(shell::Word{.value = word, .raw = word, .is_static = true});
  return command;
}

bool what_matches(const config::GuardrailWhen& when, const ShellCommand& command,
                  const shell::SimpleCommand* simple) {
  const bool any_stated = !when.programs.empty() || !when.paths.empty() || !when.options.empty() ||
                          !when.classes.empty();
  if (!any_stated) return true;
  if (std::any_of(when.classes.begin(), when.classes.end(),
                  [&](const std::string& name) { return command.needs(name); }))
    return true;
  return shell_conditions_match(when, command, simple);
}

}  // namespace

bool shell_conditions_match(const config::GuardrailWhen& when, const ShellCommand& command,
                            const shell::SimpleCommand* simple) {
  if (simple && (!when.programs.empty() || !when.options.empty())) {
    if (program_or_options_match(when, *simple)) return true;
    for (const auto& wrapper : simple->wrappers)
      if (program_or_options_match(when, as_command(wrapper))) return true;
  }
  return paths_match(when, command, simple);
}

bool path_matches(std::string_view glob, std::string_view path) {
  if (shell::glob_match(glob, path)) return true;
  // The shell expands `path` on the target: refuse what it could expand to.
  if (has_glob_characters(path)) return !has_glob_characters(glob) && shell::glob_match(path, glob);
  if (path.empty() || path.front() == '/') return false;
  // A relative path names a file below a directory the line may have changed to (`cd /etc;
  // cat shadow`, `cat ../../etc/shadow`): it matches a glob whose plain ending is that path.
  // A home directory (`~/`, `~root/`) is a directory like any other here.
  std::string_view rest = path;
  if (rest.front() == '~') {
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return false;
    rest.remove_prefix(slash + 1);
  }
  while (rest.starts_with("../")) rest.remove_prefix(3);
  if (rest.empty() || rest == "." || rest == "..") return false;
  const auto last_special = glob.find_last_of("*?[]\\");
  const auto plain_from = last_special == std::string_view::npos ? 0 : last_special + 1;
  const std::string_view plain = glob.substr(plain_from);
  return plain.size() > rest.size() && plain.ends_with(rest) &&
         plain[plain.size() - rest.size() - 1] == '/';
}

bool guardrail_matches(const config::GuardrailWhen& when, const ShellCommand& command,
                       const shell::SimpleCommand* simple, std::string_view connection,
                       const identity::Identity& identity) {
  // A guardrail on SQL statements, or on kubernetes requests, is not about ssh commands.
  if (when.names_sql_conditions() || when.names_kubernetes_conditions()) return false;
  if (!when.connections.empty() && std::find(when.connections.begin(), when.connections.end(),
                                             connection) == when.connections.end())
    return false;
  if (!who_matches(when.who, identity)) return false;
  return what_matches(when, command, simple);
}

}  // namespace portcullis::policy
