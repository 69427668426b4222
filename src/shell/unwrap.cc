// The wrappers the gateway looks through, each read with its own option syntax: an option
// that takes an argument must be known, or its argument would be taken for the command.
#include "shell/unwrap.h"

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "shell/parser.h"
#include "shell/program_entry.h"
#include "shell/reader.h"

namespace portcullis::shell {
namespace {

struct Option {
  std::string name;  // "-u", "--user"
  std::string argument;
};

struct OptionScan {
  std::vector<Option> seen;
  std::vector<std::size_t> operands;  // indices of the words that are not options
  // A word that is not static stands where an option could be: whether it is one, and so where
  // the command starts, is unknowable. (An option's argument may be anything.)
  bool dynamic = false;

  bool has(std::string_view name) const {
    for (const Option& o : seen) {
      if (o.name == name) return true;
    }
    return false;
  }
  const Option* find(std::string_view name) const {
    for (const Option& o : seen) {
      if (o.name == name) return &o;
    }
    return nullptr;
  }
  std::size_t first_operand(std::size_t size) const {
    return operands.empty() ? size : operands.front();
  }
};

bool contains(std::span<const std::string_view> list, std::string_view v) {
  for (std::string_view x : list) {
    if (x == v) return true;
  }
  return false;
}

// getopt-style options from argv[from]: short letters that take an argument (attached or in
// the next word), long options that take one (`--user=x` or `--user x`). With
// `stop_at_operand` (POSIX order, as sudo, env, nice, timeout read), the first operand ends
// the options and every later word is an operand; otherwise options are looked for among
// all words (GNU order, as su reads). `--` ends the options either way.
OptionScan scan_options(const std::vector<Word>& argv, std::size_t from,
                        std::string_view short_with_argument,
                        std::span<const std::string_view> long_with_argument,
                        bool stop_at_operand = true) {
  OptionScan out;
  std::size_t i = from;
  while (i < argv.size()) {
    const Word& w = argv[i];
    std::string_view v = w.value;
    if (!w.is_static) {
      out.dynamic = true;
      out.operands.push_back(i);
      if (stop_at_operand) break;
      ++i;
      continue;
    }
    if (v == "--") {
      for (std::size_t k = i + 1; k < argv.size(); ++k) out.operands.push_back(k);
      return out;
    }
    if (v.size() >= 2 && v.starts_with("--")) {
      std::size_t eq = v.find('=');
      Option o{.name = std::string(v.substr(0, eq)), .argument = {}};
      if (eq != std::string_view::npos) {
        o.argument = std::string(v.substr(eq + 1));
      } else if (contains(long_with_argument, o.name) && i + 1 < argv.size()) {
        ++i;
        o.argument = argv[i].value;
      }
      out.seen.push_back(std::move(o));
      ++i;
      continue;
    }
    if (v.size() >= 2 && v[0] == '-') {
      for (std::size_t k = 1; k < v.size(); ++k) {
        Option o{.name = std::string{'-', v[k]}, .argument = {}};
        if (short_with_argument.find(v[k]) != std::string_view::npos) {
          if (k + 1 < v.size()) {
            o.argument = std::string(v.substr(k + 1));
          } else if (i + 1 < argv.size()) {
            ++i;
            o.argument = argv[i].value;
          }
          out.seen.push_back(std::move(o));
          break;
        }
        out.seen.push_back(std::move(o));
      }
      ++i;
      continue;
    }
    out.operands.push_back(i);
    if (stop_at_operand) {
      for (std::size_t k = i + 1; k < argv.size(); ++k) out.operands.push_back(k);
      return out;
    }
    ++i;
  }
  return out;
}

// A wrapper's chain entry is copied to every command it runs (all of sh -c's, each of find's
// actions); keeping only its first words, each cut to 256 bytes, keeps that copy small. The
// text a shell runs is not among them: it is read into the commands themselves.
constexpr std::size_t kMaxWrapperWords = 32;
constexpr std::size_t kMaxWrapperWordBytes = 256;

std::vector<std::string> values(const std::vector<Word>& argv, std::size_t from, std::size_t to) {
  std::vector<std::string> out;
  for (std::size_t i = from; i < to && i < argv.size() && out.size() < kMaxWrapperWords; ++i) {
    out.push_back(argv[i].value.substr(0, kMaxWrapperWordBytes));
  }
  return out;
}

// The command that `command` runs from argv[at] on, with `name` and its words up to there
// added to the wrapper chain.
SimpleCommand inner_command(SimpleCommand command, std::size_t at, std::string_view name) {
  Wrapper w{.program = std::string(name), .words = values(command.argv, 0, at)};
  command.argv.erase(command.argv.begin(), command.argv.begin() + static_cast<std::ptrdiff_t>(at));
  command.wrappers.push_back(std::move(w));
  return command;
}

void mark_unknown(SimpleCommand command, std::string reason, Reading& out) {
  command.unknown_reason = std::move(reason);
  out.commands.push_back(std::move(command));
}

// Runs shell text: sh -c TEXT and the like. The first `consumed` words (up to the text) go into
// the wrapper entry.
void run_shell_text(SimpleCommand command, std::size_t consumed, const Word& text,
                    std::string_view name, int depth, Reading& out) {
  if (!text.is_static) {
    mark_unknown(std::move(command), std::string(name) + " runs command text that is not static",
                 out);
    return;
  }
  SimpleCommand around;
  around.wrappers = command.wrappers;
  around.wrappers.push_back(
      Wrapper{.program = std::string(name), .words = values(command.argv, 0, consumed)});
  around.assignments = command.assignments;
  around.redirections = command.redirections;
  std::size_t before = out.commands.size();
  std::string body = text.value;  // the word may live in `command`, moved below
  read_shell_text(body, depth + 1, around, out);
  if (out.commands.size() == before && out.parse_error.empty()) {
    // Empty text: no program runs, but the redirections still open their files.
    around.origin = Origin::shell_text;
    out.commands.push_back(std::move(around));
  }
}

bool is_shell(std::string_view name) {
  static constexpr std::string_view kShells[] = {"sh",   "bash", "dash",  "zsh",  "ksh",
                                                 "mksh", "ash",  "rbash", "yash", "posh",
                                                 "fish", "csh",  "tcsh",  "lksh", "pdksh"};
  for (std::string_view s : kShells) {
    if (s == name) return true;
  }
  return false;
}

// sh [options] -c TEXT [name args...]; without -c a shell reads a script or its input.
void unwrap_shell(SimpleCommand command, std::string_view name, int depth, Reading& out) {
  for (const Assignment& a : command.assignments) {
    if (a.name == "BASH_ENV" || a.name == "ENV") {
      // The shell first runs the file these name.
      mark_unknown(std::move(command), std::string(name) + " runs the file " + a.name + " names",
                   out);
      return;
    }
  }
  bool has_c = false;
  bool interactive = false;
  std::size_t i = 1;
  const std::vector<Word>& argv = command.argv;
  for (; i < argv.size(); ++i) {
    const Word& w = argv[i];
    if (!w.is_static) break;  // the command text, or a script: unknown either way
    std::string_view v = w.value;
    if (v == "--" || v == "-") {
      ++i;
      break;
    }
    if (v.starts_with("--")) {
      if ((v == "--rcfile" || v == "--init-file") && i + 1 < argv.size()) ++i;
      if (v == "--command") has_c = true;  // fish
      continue;
    }
    if (v.size() < 2 || (v[0] != '-' && v[0] != '+')) break;
    bool takes_next = false;
    for (char c : v.substr(1)) {
      if (c == 'c') has_c = true;
      if (c == 'i' || c == 's') interactive = true;
      if (c == 'o' || c == 'O') takes_next = true;
    }
    if (takes_next && i + 1 < argv.size()) ++i;
  }
  if (has_c) {
    if (i >= argv.size()) {
      mark_unknown(std::move(command), std::string(name) + " -c has no command text in the line",
                   out);
      return;
    }
    Word text = argv[i];
    run_shell_text(std::move(command), i, text, name, depth, out);
    return;
  }
  if (i < argv.size() && !interactive) {
    mark_unknown(std::move(command),
                 std::string(name) + " runs a script whose commands are not in the line", out);
    return;
  }
  mark_unknown(std::move(command),
               std::string(name) + " runs a shell that reads its commands from its input", out);
}

// A wrapper whose options are read by scan_options and whose first operand is the command,
// after `skip` more operands (timeout's DURATION, chrt's priority, taskset's mask).
void unwrap_simple(SimpleCommand command, std::string_view name, std::string_view short_arg,
                   std::span<const std::string_view> long_arg, std::size_t skip, int depth,
                   Reading& out) {
  OptionScan scan = scan_options(command.argv, 1, short_arg, long_arg);
  if (scan.dynamic) {
    mark_unknown(std::move(command), std::string(name) + " is given words that are not static",
                 out);
    return;
  }
  if (scan.operands.size() <= skip) {
    out.commands.push_back(std::move(command));  // runs nothing: the wrapper alone
    return;
  }
  unwrap(inner_command(std::move(command), scan.operands[skip], name), depth + 1, out);
}

// NAME=VALUE operands before the command (env and sudo take them) become assignments of
// the command. Returns the index in `operands` of the first word after them.
std::size_t take_assignments(SimpleCommand& command, const std::vector<std::size_t>& operands,
                             std::size_t k) {
  std::vector<Assignment> added;
  for (; k < operands.size(); ++k) {
    const Word& w = command.argv[operands[k]];
    if (w.value == "-") continue;  // env's old spelling of -i
    std::size_t eq = w.value.find('=');
    if (eq == std::string::npos || eq == 0) break;
    added.push_back(Assignment{
        .name = w.value.substr(0, eq),
        .value = Word{.value = w.value.substr(eq + 1), .raw = w.raw, .is_static = w.is_static}});
  }
  for (Assignment& a : added) command.assignments.push_back(std::move(a));
  return k;
}

void unwrap_env(SimpleCommand command, int depth, Reading& out) {
  static constexpr std::string_view kLong[] = {"--unset", "--chdir", "--split-string"};
  OptionScan scan = scan_options(command.argv, 1, "uCS", kLong);
  if (scan.dynamic) {
    mark_unknown(std::move(command), "env is given words that are not static", out);
    return;
  }
  std::size_t k = take_assignments(command, scan.operands, 0);
  if (command.assignments.size() > kMaxAssignments) {
    mark_unknown(std::move(command), "too many assignments before one command", out);
    return;
  }
  const Option* split = scan.find("-S");
  if (split == nullptr) split = scan.find("--split-string");
  if (split != nullptr) {
    // The split string starts the command; the words after it are appended as written.
    std::string text = split->argument;
    for (std::size_t j = k; j < scan.operands.size(); ++j) {
      text += ' ';
      text += command.argv[scan.operands[j]].raw;
    }
    std::size_t consumed = command.argv.size();
    run_shell_text(std::move(command), consumed, Word{.value = text, .raw = text}, "env", depth,
                   out);
    return;
  }
  if (k >= scan.operands.size()) {
    out.commands.push_back(std::move(command));  // prints the environment
    return;
  }
  unwrap(inner_command(std::move(command), scan.operands[k], "env"), depth + 1, out);
}

void unwrap_sudo(SimpleCommand command, std::string_view name, int depth, Reading& out) {
  static constexpr std::string_view kLong[] = {
      "--user", "--group", "--close-from", "--chdir",  "--host",           "--prompt",
      "--role", "--type",  "--other-user", "--chroot", "--command-timeout"};
  OptionScan scan = scan_options(command.argv, 1, "ugCDhprtURT", kLong);
  if (scan.dynamic) {
    mark_unknown(std::move(command), std::string(name) + " is given words that are not static",
                 out);
    return;
  }
  std::size_t k = take_assignments(command, scan.operands, 0);
  if (command.assignments.size() > kMaxAssignments) {
    mark_unknown(std::move(command), "too many assignments before one command", out);
    return;
  }
  std::size_t first = k < scan.operands.size() ? scan.operands[k] : command.argv.size();
  if (scan.has("-e") || scan.has("--edit")) {
    std::vector<Word> files(command.argv.begin() + static_cast<std::ptrdiff_t>(first),
                            command.argv.end());
    SimpleCommand edit = inner_command(std::move(command), first, name);
    edit.argv.clear();
    edit.argv.push_back(Word{.value = "sudoedit", .raw = "sudoedit", .is_static = true});
    for (Word& f : files) edit.argv.push_back(std::move(f));
    out.commands.push_back(std::move(edit));
    return;
  }
  bool shell = scan.has("-s") || scan.has("--shell") || scan.has("-i") || scan.has("--login");
  if (shell) {
    if (first >= command.argv.size()) {
      mark_unknown(std::move(command), std::string(name) + " opens a shell", out);
      return;
    }
    // sudo -s CMD ARGS runs the words through the target user's shell (`$SHELL -c`), each
    // escaped with backslashes except `$`: the words arrive as written, but a `$` in them
    // expands.
    SimpleCommand inner = inner_command(std::move(command), first, name);
    for (Word& w : inner.argv) {
      if (w.value.find('$') != std::string::npos) w.is_static = false;
    }
    unwrap(std::move(inner), depth + 1, out);
    return;
  }
  if (first >= command.argv.size() || scan.has("-l") || scan.has("--list") || scan.has("-v") ||
      scan.has("--validate")) {
    out.commands.push_back(std::move(command));  // lists or validates, runs nothing
    return;
  }
  unwrap(inner_command(std::move(command), first, name), depth + 1, out);
}

void unwrap_su(SimpleCommand command, std::string_view name, int depth, Reading& out) {
  static constexpr std::string_view kLong[] = {
      "--command", "--session-command",      "--shell", "--group", "--supp-group",
      "--user",    "--whitelist-environment"};
  OptionScan scan = scan_options(command.argv, 1, "csgGwu", kLong, false);
  if (scan.dynamic) {
    mark_unknown(std::move(command), std::string(name) + " is given words that are not static",
                 out);
    return;
  }
  const Option* text = scan.find("-c");
  if (text == nullptr) text = scan.find("--command");
  if (text == nullptr) text = scan.find("--session-command");
  if (text != nullptr) {
    Word body{.value = text->argument, .raw = text->argument, .is_static = true};
    std::size_t consumed = command.argv.size();
    run_shell_text(std::move(command), consumed, body, name, depth, out);
    return;
  }
  if (name == "runuser" && (scan.has("-u") || scan.has("--user"))) {
    // runuser -u USER COMMAND ARGS: no shell in between.
    std::size_t first = scan.first_operand(command.argv.size());
    if (first < command.argv.size()) {
      unwrap(inner_command(std::move(command), first, name), depth + 1, out);
      return;
    }
  }
  mark_unknown(std::move(command), std::string(name) + " opens a shell", out);
}

void unwrap_xargs(SimpleCommand command, int depth, Reading& out) {
  static constexpr std::string_view kLong[] = {"--max-args",        "--max-lines", "--max-procs",
                                               "--delimiter",       "--arg-file",  "--max-chars",
                                               "--process-slot-var"};
  OptionScan scan = scan_options(command.argv, 1, "InLPdaEs", kLong);
  if (scan.dynamic) {
    mark_unknown(std::move(command), "xargs is given words that are not static", out);
    return;
  }
  std::string replace;
  if (const Option* o = scan.find("-I")) replace = o->argument;
  if (const Option* o = scan.find("--replace")) replace = o->argument.empty() ? "{}" : o->argument;
  if (scan.has("-i")) replace = "{}";
  std::size_t first = scan.first_operand(command.argv.size());
  SimpleCommand inner = inner_command(std::move(command), first, "xargs");
  if (inner.argv.empty()) {
    inner.argv.push_back(Word{.value = "echo", .raw = "echo", .is_static = true});
  }
  inner.takes_unknown_arguments = true;
  if (!replace.empty()) {
    for (Word& w : inner.argv) {
      if (w.value.find(replace) != std::string::npos) w.is_static = false;
    }
  }
  unwrap(std::move(inner), depth + 1, out);
}

// watch runs its words joined by spaces through `sh -c`, or with -x directly.
void unwrap_watch(SimpleCommand command, int depth, Reading& out) {
  static constexpr std::string_view kLong[] = {"--interval", "--equexit"};
  OptionScan scan = scan_options(command.argv, 1, "nq", kLong);
  if (scan.dynamic) {
    mark_unknown(std::move(command), "watch is given words that are not static", out);
    return;
  }
  std::size_t first = scan.first_operand(command.argv.size());
  if (first >= command.argv.size()) {
    out.commands.push_back(std::move(command));
    return;
  }
  if (scan.has("-x") || scan.has("--exec")) {
    unwrap(inner_command(std::move(command), first, "watch"), depth + 1, out);
    return;
  }
  std::string text;
  bool all_static = true;
  for (std::size_t j = first; j < command.argv.size(); ++j) {
    if (j > first) text += ' ';
    text += command.argv[j].value;
    all_static = all_static && command.argv[j].is_static;
  }
  std::size_t consumed = first;
  run_shell_text(std::move(command), consumed,
                 Word{.value = text, .raw = text, .is_static = all_static}, "watch", depth, out);
}

// find itself runs, and so does each -exec / -execdir / -ok / -okdir command, up to `;` or
// `{} +`. `{}` becomes the paths find visits: words holding it are not static.
void unwrap_find(SimpleCommand command, int depth, Reading& out) {
  std::vector<SimpleCommand> inner;
  const std::vector<Word>& argv = command.argv;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    std::string_view v = argv[i].value;
    if (v != "-exec" && v != "-execdir" && v != "-ok" && v != "-okdir") continue;
    if (!charge_inheritance(command, out)) return;
    SimpleCommand run;
    run.assignments = command.assignments;
    run.redirections = command.redirections;
    run.wrappers = command.wrappers;
    run.origin = command.origin;
    // Only the action's name: find's other words are its own command, reported as such.
    run.wrappers.push_back(Wrapper{.program = "find", .words = {"find", std::string(v)}});
    std::size_t j = i + 1;
    for (; j < argv.size(); ++j) {
      if (argv[j].is_static && argv[j].value == ";") break;
      if (argv[j].is_static && argv[j].value == "+" && j > i + 1 && argv[j - 1].value == "{}") {
        run.takes_unknown_arguments = true;
        break;
      }
      Word w = argv[j];
      if (w.value.find("{}") != std::string::npos) w.is_static = false;
      run.argv.push_back(std::move(w));
    }
    if (!run.argv.empty()) inner.push_back(std::move(run));
    i = j;
  }
  out.commands.push_back(std::move(command));
  for (SimpleCommand& c : inner) unwrap(std::move(c), depth + 1, out);
}

// trap ACTION SIGNAL...: ACTION is shell text run when the signal comes.
void unwrap_trap(SimpleCommand command, int depth, Reading& out) {
  std::size_t i = 1;
  while (i < command.argv.size() && command.argv[i].is_static &&
         (command.argv[i].value == "-p" || command.argv[i].value == "-l" ||
          command.argv[i].value == "--")) {
    ++i;
  }
  if (i + 1 >= command.argv.size() || command.argv[i].value == "-" ||
      command.argv[i].value.empty()) {
    out.commands.push_back(std::move(command));
    return;
  }
  Word action = command.argv[i];
  SimpleCommand itself = command;
  itself.argv.resize(1);
  out.commands.push_back(std::move(itself));
  run_shell_text(std::move(command), i, action, "trap", depth, out);
}

// Builtins after which the program that runs is not in the line.
std::string_view hidden_program_reason(const SimpleCommand& command, std::string_view name) {
  if (name == "eval") return "eval runs text built at run time";
  if (name == "source" || name == ".") return "runs the commands of a file";
  if (name == "alias") return "defines an alias";
  if (name == "fc") return "runs commands from the history";
  for (std::size_t i = 1; i < command.argv.size(); ++i) {
    std::string_view v = command.argv[i].value;
    if (name == "hash" && v.starts_with("-") && v.find('p') != std::string_view::npos) {
      return "hash -p binds a name to another program";
    }
    if (name == "enable" && v.starts_with("-") && v.find('f') != std::string_view::npos) {
      return "enable -f loads a builtin from a library";
    }
  }
  return {};
}

}  // namespace

void unwrap(SimpleCommand command, int depth, Reading& out) {
  if (command.argv.empty()) {
    out.commands.push_back(std::move(command));
    return;
  }
  if (!command.argv[0].is_static) {
    mark_unknown(std::move(command), "the program is not a static word", out);
    return;
  }
  if (depth > kMaxUnwrapDepth) {
    mark_unknown(std::move(command), "wrappers nested too deeply", out);
    return;
  }
  std::string name(program_name(command.argv[0].value));
  if (std::string_view reason = hidden_program_reason(command, name); !reason.empty()) {
    mark_unknown(std::move(command), std::string(reason), out);
    return;
  }
  if (is_shell(name)) return unwrap_shell(std::move(command), name, depth, out);
  if (name == "env") return unwrap_env(std::move(command), depth, out);
  if (name == "sudo" || name == "doas") return unwrap_sudo(std::move(command), name, depth, out);
  if (name == "su" || name == "runuser") return unwrap_su(std::move(command), name, depth, out);
  if (name == "xargs") return unwrap_xargs(std::move(command), depth, out);
  if (name == "watch") return unwrap_watch(std::move(command), depth, out);
  if (name == "find") return unwrap_find(std::move(command), depth, out);
  if (name == "trap") return unwrap_trap(std::move(command), depth, out);
  if (name == "busybox") {
    if (command.argv.size() < 2 || command.argv[1].value.starts_with("-")) {
      out.commands.push_back(std::move(command));
      return;
    }
    return unwrap(inner_command(std::move(command), 1, "busybox"), depth + 1, out);
  }
  if (name == "command") {
    OptionScan scan = scan_options(command.argv, 1, "", {});
    if (scan.has("-v") || scan.has("-V")) {
      out.commands.push_back(std::move(command));  // looks the name up, runs nothing
      return;
    }
  }
  if (name == "chroot") {
    // chroot NEWROOT [COMMAND...]: without a command it runs the new root's shell.
    static constexpr std::string_view kLong[] = {"--userspec", "--groups"};
    OptionScan scan = scan_options(command.argv, 1, "", kLong);
    if (scan.dynamic) {
      mark_unknown(std::move(command), "chroot is given words that are not static", out);
      return;
    }
    if (scan.operands.size() < 2) {
      mark_unknown(std::move(command), "chroot opens a shell", out);
      return;
    }
    return unwrap(inner_command(std::move(command), scan.operands[1], name), depth + 1, out);
  }
  if (name == "builtin" || name == "coproc") {
    if (command.argv.size() < 2) {
      out.commands.push_back(std::move(command));
      return;
    }
    return unwrap(inner_command(std::move(command), 1, name), depth + 1, out);
  }
  struct Simple {
    std::string_view name;
    std::string_view short_arg;
    std::span<const std::string_view> long_arg;
    std::size_t skip;                    // operands before the command
    std::string_view no_command_option;  // an option with which it runs no command
  };
  static constexpr std::string_view kNone[] = {""};
  static constexpr std::string_view kTimeout[] = {"--signal", "--kill-after"};
  static constexpr std::string_view kNice[] = {"--adjustment"};
  static constexpr std::string_view kIonice[] = {"--class", "--classdata", "--pid", "--pgid",
                                                 "--uid"};
  static constexpr std::string_view kStdbuf[] = {"--input", "--output", "--error"};
  static constexpr std::string_view kChrt[] = {"--sched-runtime", "--sched-period",
                                               "--sched-deadline"};
  static constexpr std::string_view kTime[] = {"--output", "--format"};
  static constexpr Simple kSimple[] = {
      {.name = "nohup", .short_arg = "", .long_arg = kNone, .skip = 0, .no_command_option = ""},
      {.name = "setsid", .short_arg = "", .long_arg = kNone, .skip = 0, .no_command_option = ""},
      {.name = "time", .short_arg = "of", .long_arg = kTime, .skip = 0, .no_command_option = ""},
      {.name = "nice", .short_arg = "n", .long_arg = kNice, .skip = 0, .no_command_option = ""},
      {.name = "ionice",
       .short_arg = "cnpPu",
       .long_arg = kIonice,
       .skip = 0,
       .no_command_option = "-p"},
      {.name = "stdbuf",
       .short_arg = "ioe",
       .long_arg = kStdbuf,
       .skip = 0,
       .no_command_option = ""},
      {.name = "chrt", .short_arg = "TPD", .long_arg = kChrt, .skip = 1, .no_command_option = "-p"},
      {.name = "taskset", .short_arg = "", .long_arg = kNone, .skip = 1, .no_command_option = "-p"},
      {.name = "timeout",
       .short_arg = "sk",
       .long_arg = kTimeout,
       .skip = 1,
       .no_command_option = ""},
      {.name = "command", .short_arg = "", .long_arg = kNone, .skip = 0, .no_command_option = ""},
      {.name = "exec", .short_arg = "a", .long_arg = kNone, .skip = 0, .no_command_option = ""},
  };
  for (const Simple& s : kSimple) {
    if (s.name != name) continue;
    if (!s.no_command_option.empty()) {
      OptionScan scan = scan_options(command.argv, 1, s.short_arg, s.long_arg);
      if (scan.has(s.no_command_option)) {
        out.commands.push_back(std::move(command));  // acts on a running process
        return;
      }
    }
    if (name == "exec" && command.argv.size() == 1) {
      // exec with only redirections: they apply to the shell itself, no program runs.
      SimpleCommand only = inner_command(std::move(command), 1, name);
      out.commands.push_back(std::move(only));
      return;
    }
    return unwrap_simple(std::move(command), name, s.short_arg, s.long_arg, s.skip, depth, out);
  }
  out.commands.push_back(std::move(command));
}

}  // namespace portcullis::shell
