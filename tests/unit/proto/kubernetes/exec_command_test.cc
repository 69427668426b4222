// An exec command written as a shell line: what the shell reader reads back is the argv itself.
#include "proto/kubernetes/exec_command.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "shell/parser.h"
#include "shell/reader.h"

namespace portcullis::proto::kubernetes {
namespace {

using Argv = std::vector<std::string>;

// The argv the shell grammar reads from `line`: its one command's words, each static (no
// expansion left for the shell to make).
Argv read_back(const std::string& line) {
  const shell::ParsedText parsed = shell::parse(line);
  EXPECT_EQ(parsed.error, "") << line;
  EXPECT_EQ(parsed.commands.size(), 1u) << line;
  if (parsed.commands.size() != 1) return {};
  const shell::SimpleCommand& command = parsed.commands[0];
  EXPECT_TRUE(command.assignments.empty()) << line;
  EXPECT_TRUE(command.redirections.empty()) << line;
  Argv argv;
  for (const auto& word : command.argv) {
    EXPECT_TRUE(word.is_static) << line << ": " << word.raw;
    argv.push_back(word.value);
  }
  return argv;
}

TEST(FormatExecLineTest, LeavesPlainWordsAsTheyAre) {
  EXPECT_EQ(format_exec_line({"ls", "-la", "/var/log"}), "ls -la /var/log");
  EXPECT_EQ(format_exec_line({"env", "A=1", "user@host:8080,x%y+z"}),
            "env A=1 user@host:8080,x%y+z");
}

TEST(FormatExecLineTest, QuotesWordsTheShellWouldReadSpecially) {
  EXPECT_EQ(format_exec_line({"sh", "-c", "rm -rf /"}), "sh -c 'rm -rf /'");
  EXPECT_EQ(format_exec_line({"echo", "it's"}), "echo 'it'\\''s'");
  EXPECT_EQ(format_exec_line({"echo", ""}), "echo ''");
  EXPECT_EQ(format_exec_line({"cat", "~/x", "*"}), "cat '~/x' '*'");
}

TEST(FormatExecLineTest, QuotesAFirstWordThatIsAnAssignmentOrAReservedWord) {
  EXPECT_EQ(format_exec_line({"A=1", "ls"}), "'A=1' ls");
  EXPECT_EQ(format_exec_line({"if", "x"}), "'if' x");
  EXPECT_EQ(format_exec_line({"ls", "if", "A=1"}), "ls if A=1");
}

TEST(FormatExecLineTest, NoWordsIsAnEmptyLine) {
  EXPECT_EQ(format_exec_line({}), "");
}

class ExecLineRoundTripTest : public testing::TestWithParam<Argv> {};

TEST_P(ExecLineRoundTripTest, TheShellReaderReadsTheArgvBack) {
  const Argv& argv = GetParam();
  EXPECT_EQ(read_back(format_exec_line(argv)), argv) << format_exec_line(argv);
}

INSTANTIATE_TEST_SUITE_P(
    TrickyWords, ExecLineRoundTripTest,
    testing::Values(Argv{"ls"}, Argv{"ls", "-la", "/tmp"}, Argv{"echo", "a b", "  c  "},
                    Argv{"echo", "'", "''", "it's", "'\\''"}, Argv{"echo", "\"", "\"a\" 'b'"},
                    Argv{"echo", "$(id)", "`id`", "${HOME}", "$((1+1))", "$HOME"},
                    Argv{"echo", "line one\nline two", "\n", "\t"}, Argv{"echo", "", "", "x"},
                    Argv{""}, Argv{"sh", "-c", "rm -rf /"},
                    Argv{"bash", "-c", "cat /etc/shadow; id && echo ok | tee /tmp/x > /dev/null"},
                    Argv{"echo", "*", "?", "[a]", "{a,b}", "~", "~root", "#not a comment"},
                    Argv{"echo", ";", "&", "|", "&&", "||", "<", ">", ">>", "(", ")", "!"},
                    Argv{"echo", "\\", "\\n", "a\\"}, Argv{"A=1", "env"}, Argv{"PATH=/tmp", "ls"},
                    Argv{"if", "then", "fi"}, Argv{"{", "}"}, Argv{"!", "x"},
                    Argv{"[[", "-f", "x", "]]"}, Argv{"time", "ls"}, Argv{"function", "f"},
                    Argv{"echo", "\xc3\xa9t\xc3\xa9", "\xff\xfe"}, Argv{"-", "--", "-rf"},
                    Argv{"%1"}, Argv{"echo", "a=b", "--x=$(y)"}));

// The reader the decision uses sees through `sh -c` to the command it runs.
TEST(FormatExecLineTest, TheCommandReaderUnwrapsAShellCommandWrittenThisWay) {
  const auto line = shell::read_command_line(format_exec_line({"sh", "-c", "rm -rf /"}));
  EXPECT_EQ(line.parse_error, "");
  ASSERT_FALSE(line.commands.empty());
  const auto& rm = line.commands.back();
  ASSERT_EQ(rm.argv.size(), 3u);
  EXPECT_EQ(rm.argv[0].value, "rm");
  EXPECT_EQ(rm.argv[1].value, "-rf");
  EXPECT_EQ(rm.argv[2].value, "/");
  ASSERT_FALSE(rm.wrappers.empty());
  EXPECT_EQ(rm.wrappers[0].program, "sh");
}

}  // namespace
}  // namespace portcullis::proto::kubernetes
