#include "shell/paths.h"

#include <gtest/gtest.h>

#include "shell/parser.h"

namespace portcullis::shell {
namespace {

TEST(NormalisePath, CollapsesSlashesAndDots) {
  EXPECT_EQ(normalise_path("/etc//passwd"), "/etc/passwd");
  EXPECT_EQ(normalise_path("/etc/./passwd"), "/etc/passwd");
  EXPECT_EQ(normalise_path("/etc/"), "/etc");
  EXPECT_EQ(normalise_path("//"), "/");
  EXPECT_EQ(normalise_path("./x"), "x");
  EXPECT_EQ(normalise_path("."), ".");
  EXPECT_EQ(normalise_path(""), "");
}

TEST(NormalisePath, ResolvesParentsLexically) {
  EXPECT_EQ(normalise_path("/tmp/../etc/shadow"), "/etc/shadow");
  EXPECT_EQ(normalise_path("/../../etc"), "/etc");
  EXPECT_EQ(normalise_path("a/b/../../.."), "..");
  EXPECT_EQ(normalise_path("../x/./y/.."), "../x");
  EXPECT_EQ(normalise_path("a/../../b"), "../b");
}

TEST(NormalisePath, KeepsRelativePathsRelative) {
  EXPECT_EQ(normalise_path("etc/passwd"), "etc/passwd");
  EXPECT_EQ(normalise_path("~/.ssh//id_rsa"), "~/.ssh/id_rsa");
}

TEST(PathsOf, GivesArgumentsRedirectionTargetsAndValuesAfterEquals) {
  ParsedText p = parse("dd if=/dev/sda of=/tmp//x 2>&1 > /var/log/../x.log <<<hi");
  ASSERT_EQ(p.commands.size(), 1u);
  std::vector<std::string> paths = paths_of(p.commands[0]);
  EXPECT_EQ(paths, (std::vector<std::string>{"if=/dev/sda", "/dev/sda", "of=/tmp/x", "/tmp/x",
                                             "/var/x.log"}));
}

}  // namespace
}  // namespace portcullis::shell
