// TypedLine: the line rebuilt from the keys a terminal sends.
#include "proto/ssh/typed_line.h"

#include <gtest/gtest.h>

#include <string>

namespace portcullis::proto::ssh {
namespace {

struct Typed {
  std::string text;
  bool followed;
  std::size_t taken;
};

Typed type(std::string_view keys) {
  TypedLine line;
  const auto taken = line.take(keys);
  return {line.text(), line.followed(), taken};
}

TEST(TypedLineTest, StopsBeforeTheEnter) {
  TypedLine line;
  EXPECT_EQ(line.take("ls -l\rpwd\r"), 5u);
  EXPECT_EQ(line.text(), "ls -l");
  EXPECT_TRUE(line.followed());
  EXPECT_EQ(line.take("\rpwd"), 0u);  // the Enter is the caller's
  line.reset();
  EXPECT_TRUE(line.empty());
  EXPECT_EQ(line.take("pwd\n"), 3u);
  EXPECT_EQ(line.text(), "pwd");
}

TEST(TypedLineTest, KeysAcrossCallsMakeOneLine) {
  TypedLine line;
  EXPECT_EQ(line.take("ec"), 2u);
  EXPECT_EQ(line.take("ho hi"), 5u);
  EXPECT_EQ(line.text(), "echo hi");
}

TEST(TypedLineTest, EditingKeysItFollows) {
  struct Row {
    std::string keys, text;
  };
  const Row rows[] = {
      {"lss\x7f", "ls"},                           // Delete (what terminals send for Backspace)
      {"lss\x08", "ls"},                           // Ctrl-H
      {"rm -rf /\x15ls", "ls"},                    // Ctrl-U clears the line
      {"rm -rf /tmp\x17\x17ls", "rm ls"},          // Ctrl-W removes a word at a time
      {"rm -rf / \x17", "rm -rf "},                // ... and the blanks before it
      {"caf\xc3\xa9\x7f", "caf"},                  // Backspace removes a whole UTF-8 character
      {"\x7f\x7fls", "ls"},                        // Backspace on an empty line does nothing
      {"rm x\x03ls", "ls"},                        // Ctrl-C abandons the line
      {"\x1b[200~rm -rf /\x1b[201~", "rm -rf /"},  // a bracketed paste is typed text
  };
  for (const auto& row : rows) {
    const auto typed = type(row.keys);
    EXPECT_EQ(typed.text, row.text) << row.keys;
    EXPECT_TRUE(typed.followed) << row.keys;
  }
}

TEST(TypedLineTest, KeysOnlyTheShellCanFollowMakeTheLineUnfollowed) {
  const char* rows[] = {
      "rm -r\t",         // Tab completion
      "ls\x1b[A",        // Up: history
      "ls\x1b[D\x1b[D",  // Left: the cursor moves
      "ls\x1b"
      "b",          // Alt-B: a word back
      "ls\x01rm ",  // Ctrl-A: the start of the line
      "ls\x12rm",   // Ctrl-R: history search
      "ls\x19",     // Ctrl-Y: paste what was cut
  };
  for (const char* keys : rows) EXPECT_FALSE(type(keys).followed) << keys;
}

TEST(TypedLineTest, AnEnterInsideAnEscapeSequenceStillEndsTheLine) {
  TypedLine line;
  // ESC then CR: a terminal without a line editor runs "rm -rf /<ESC>".
  EXPECT_EQ(line.take("rm -rf /\x1b\r"), 9u);
  EXPECT_EQ(line.text(), "rm -rf /");
  EXPECT_FALSE(line.followed());
  line.reset();
  EXPECT_EQ(line.take("ls\x1b[\n"), 4u);
  EXPECT_FALSE(line.followed());
}

TEST(TypedLineTest, KeysThatRunALineWithoutAnEnterEndItUnfollowed) {
  // Ctrl-D twice after text: the terminal hands the text over, then the end of input, and sh
  // runs what it read. Ctrl-O and Ctrl-X Ctrl-E run the line in bash.
  for (const std::string keys : {"rm -rf /\x04\x04", "rm -rf /\x0f", "rm -rf /\x18\x05"}) {
    TypedLine line;
    EXPECT_EQ(line.take(keys), 8u) << keys;
    EXPECT_EQ(line.text(), "rm -rf /");
    EXPECT_FALSE(line.followed()) << keys;
    EXPECT_FALSE(line.empty()) << keys;
  }
  // Ctrl-O on an empty line runs the next line of history: decided too.
  TypedLine history;
  EXPECT_EQ(history.take("\x0f"), 0u);
  EXPECT_FALSE(history.empty());
  // Ctrl-D on an empty line ends the shell's input: a key like any other.
  TypedLine end;
  EXPECT_EQ(end.take("\x04"), 1u);
  EXPECT_TRUE(end.empty());
}

TEST(TypedLineTest, ALineTooLongIsCutAndUnfollowed) {
  TypedLine line;
  const std::string keys(TypedLine::kMaxLine + 10, 'a');
  EXPECT_EQ(line.take(keys), keys.size());
  EXPECT_EQ(line.text().size(), TypedLine::kMaxLine);
  EXPECT_FALSE(line.followed());
}

TEST(TypedLineTest, ResetStartsAFollowedLine) {
  TypedLine line;
  line.take("ls\t");
  EXPECT_FALSE(line.followed());
  line.reset();
  EXPECT_TRUE(line.followed());
  EXPECT_TRUE(line.empty());
}

}  // namespace
}  // namespace portcullis::proto::ssh
