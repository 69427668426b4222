#include "shell/program_entry.h"

#include <gtest/gtest.h>

#include "shell/reader.h"

namespace portcullis::shell {
namespace {

bool matches(std::string_view entry, std::string_view text) {
  CommandLine line = read_command_line(text);
  EXPECT_EQ(line.commands.size(), 1u) << text;
  return !line.commands.empty() && program_matches(entry, line.commands[0]);
}

TEST(ProgramName, IsTheBaseNameOnlyInSystemDirectories) {
  EXPECT_EQ(program_name("cat"), "cat");
  EXPECT_EQ(program_name("/usr/bin/cat"), "cat");
  EXPECT_EQ(program_name("/bin/cat"), "cat");
  EXPECT_EQ(program_name("/usr/local/sbin/x"), "x");
  EXPECT_EQ(program_name("//usr/./bin/cat"), "cat");
  EXPECT_EQ(program_name("./cat"), "");
  EXPECT_EQ(program_name("/tmp/cat"), "");
  EXPECT_EQ(program_name("bin/cat"), "");
  EXPECT_EQ(program_name("/usr/bin/../../tmp/cat"), "");
  EXPECT_EQ(program_name("/usr/bin/"), "");
}

TEST(ProgramEntry, MatchesByNameOrSystemPath) {
  EXPECT_TRUE(matches("cat", "cat /etc/hosts"));
  EXPECT_TRUE(matches("cat", "/usr/bin/cat /etc/hosts"));
  EXPECT_TRUE(matches("cat", "\\cat x"));
  EXPECT_FALSE(matches("cat", "./cat x"));
  EXPECT_FALSE(matches("cat", "/tmp/cat x"));
  EXPECT_FALSE(matches("cat", "catx"));
  EXPECT_FALSE(matches("cat", "tac"));
}

TEST(ProgramEntry, APathEntryMatchesThatPathOnly) {
  EXPECT_TRUE(matches("/opt/tool/run", "/opt/tool/run x"));
  EXPECT_TRUE(matches("/opt/tool/run", "/opt//tool/./run"));
  EXPECT_FALSE(matches("/opt/tool/run", "run"));
  EXPECT_FALSE(matches("/opt/tool/run", "/opt/x/../tool/run"));
  EXPECT_TRUE(matches("./deploy.sh", "./deploy.sh prod"));
  EXPECT_FALSE(matches("./deploy.sh", "/deploy.sh"));
}

TEST(ProgramEntry, FurtherWordsMustBeTheLeadingArguments) {
  EXPECT_TRUE(matches("systemctl status", "systemctl status nginx"));
  EXPECT_TRUE(matches("systemctl status", "sudo systemctl status"));
  EXPECT_FALSE(matches("systemctl status", "systemctl restart nginx"));
  EXPECT_FALSE(matches("systemctl status", "systemctl --now status nginx"));
  EXPECT_FALSE(matches("systemctl status", "systemctl"));
  EXPECT_FALSE(matches("systemctl status", "systemctl \"$X\" nginx"));
  EXPECT_TRUE(matches("systemctl  status ", "systemctl 'status' nginx"));
}

TEST(ProgramEntry, UnknownCommandsMatchNothing) {
  EXPECT_FALSE(matches("ls", "PATH=/tmp ls"));
  EXPECT_FALSE(matches("sh", "sh"));
  EXPECT_FALSE(matches("", "ls"));
  EXPECT_FALSE(matches("ls", "> x"));
}

}  // namespace
}  // namespace portcullis::shell
