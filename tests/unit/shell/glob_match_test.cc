#include "shell/glob_match.h"

#include <gtest/gtest.h>

#include <string>

namespace portcullis::shell {
namespace {

TEST(GlobMatch, StarCrossesSlashesAndDots) {
  EXPECT_TRUE(glob_match("/etc/*", "/etc/passwd"));
  EXPECT_TRUE(glob_match("/etc/*", "/etc/ssh/sshd_config"));
  EXPECT_TRUE(glob_match("/home/*", "/home/a/.ssh/id_rsa"));
  EXPECT_TRUE(glob_match("*.key", "/srv/tls/server.key"));
  EXPECT_FALSE(glob_match("/etc/*", "/etcetera"));
  EXPECT_FALSE(glob_match("/etc/*", "/var/etc/x"));
}

TEST(GlobMatch, QuestionMarkAndBrackets) {
  EXPECT_TRUE(glob_match("/dev/sd?", "/dev/sda"));
  EXPECT_FALSE(glob_match("/dev/sd?", "/dev/sda1"));
  EXPECT_TRUE(glob_match("/dev/sd[a-c]", "/dev/sdb"));
  EXPECT_FALSE(glob_match("/dev/sd[a-c]", "/dev/sdd"));
  EXPECT_TRUE(glob_match("/dev/sd[!a-c]", "/dev/sdd"));
  EXPECT_TRUE(glob_match("x[]]", "x]"));
  EXPECT_TRUE(glob_match("x[", "x["));  // an unclosed bracket is a character
}

TEST(GlobMatch, EscapesAndExactText) {
  EXPECT_TRUE(glob_match("a\\*b", "a*b"));
  EXPECT_FALSE(glob_match("a\\*b", "axb"));
  EXPECT_TRUE(glob_match("/etc/shadow", "/etc/shadow"));
  EXPECT_FALSE(glob_match("/etc/shadow", "/etc/shadow-"));
  EXPECT_TRUE(glob_match("", ""));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_FALSE(glob_match("?", ""));
}

TEST(GlobMatch, ManyStarsStayFast) {
  std::string pattern;
  for (int i = 0; i < 200; ++i) pattern += "*a";
  pattern += "b";
  std::string path(5000, 'a');
  EXPECT_FALSE(glob_match(pattern, path));
}

}  // namespace
}  // namespace portcullis::shell
