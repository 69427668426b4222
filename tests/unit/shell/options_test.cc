#include "shell/options.h"

#include <gtest/gtest.h>

#include "shell/parser.h"

namespace portcullis::shell {
namespace {

CommandOptions options(std::string_view text) {
  ParsedText p = parse(text);
  EXPECT_EQ(p.commands.size(), 1u);
  return options_of(p.commands.at(0));
}

TEST(CommandOptions, SplitsShortClusters) {
  CommandOptions o = options("rm -rf /");
  EXPECT_EQ(o.written, (std::vector<std::string>{"-rf"}));
  EXPECT_EQ(o.expanded, (std::vector<std::string>{"-r", "-f"}));
  EXPECT_TRUE(has_option(o, "-r"));
  EXPECT_TRUE(has_option(o, "-f"));
  EXPECT_FALSE(has_option(o, "-i"));
}

TEST(CommandOptions, LongOptionsLoseTheirValue) {
  CommandOptions o = options("ls --color=auto --all");
  EXPECT_EQ(o.expanded, (std::vector<std::string>{"--color", "--all"}));
  EXPECT_TRUE(has_option(o, "--color"));
}

TEST(CommandOptions, StopAtDoubleDash) {
  CommandOptions o = options("rm -f -- -rf");
  EXPECT_TRUE(has_option(o, "-f"));
  EXPECT_FALSE(has_option(o, "-r"));
}

TEST(CommandOptions, CountOptionsAfterOperands) {
  EXPECT_TRUE(has_option(options("rm / -rf"), "-r"));
}

TEST(CommandOptions, SingleDashWordsMatchAsWritten) {
  CommandOptions o = options("find / -name x -delete");
  EXPECT_TRUE(has_option(o, "-delete"));
  EXPECT_FALSE(has_option(o, "-exec"));
  EXPECT_TRUE(has_option(options("find . -exec rm {} ;"), "-exec"));
  // A single-dash word is not mistaken for its letters, nor the other way round.
  EXPECT_FALSE(has_option(options("find . -executable"), "-exec"));
  EXPECT_FALSE(has_option(options("rm -rf x"), "-rf-"));
}

TEST(CommandOptions, IgnoreWordsThatAreNotStaticAndTheProgram) {
  CommandOptions o = options("-x $OPT \"-q\"");
  EXPECT_EQ(o.written, (std::vector<std::string>{"-q"}));
}

}  // namespace
}  // namespace portcullis::shell
