#include "shell/redirections.h"

#include <gtest/gtest.h>

namespace portcullis::shell {
namespace {

Word word(std::string v, bool is_static = true) {
  return Word{.value = v, .raw = v, .is_static = is_static};
}

TEST(RedirectionKinds, OutputToFilesWrites) {
  EXPECT_EQ(classify_redirection(">", word("/etc/passwd")), RedirectionKind::output);
  EXPECT_EQ(classify_redirection(">>", word("log")), RedirectionKind::output);
  EXPECT_EQ(classify_redirection("<>", word("f")), RedirectionKind::output);
  EXPECT_EQ(classify_redirection("&>>", word("f")), RedirectionKind::output);
  EXPECT_EQ(classify_redirection(">&", word("file")), RedirectionKind::output);
  EXPECT_EQ(classify_redirection(">", word("$OUT", false)), RedirectionKind::output);
  EXPECT_EQ(classify_redirection(">&", word("$FD", false)), RedirectionKind::output);
}

TEST(RedirectionKinds, DiscardsAndDuplicatesDoNotWrite) {
  EXPECT_EQ(classify_redirection(">", word("/dev/null")), RedirectionKind::discard);
  EXPECT_EQ(classify_redirection(">", word("/dev//./null")), RedirectionKind::discard);
  EXPECT_EQ(classify_redirection(">>", word("/dev/stderr")), RedirectionKind::discard);
  EXPECT_EQ(classify_redirection(">&", word("2")), RedirectionKind::duplicate);
  EXPECT_EQ(classify_redirection(">&", word("-")), RedirectionKind::duplicate);
  EXPECT_EQ(classify_redirection("<&", word("3-")), RedirectionKind::duplicate);
  EXPECT_EQ(classify_redirection(">", word("/dev/nullx")), RedirectionKind::output);
}

TEST(RedirectionKinds, DevTcpAndUdpAreNetwork) {
  EXPECT_EQ(classify_redirection(">&", word("/dev/tcp/10.0.0.1/4444")), RedirectionKind::network);
  EXPECT_EQ(classify_redirection("<", word("/dev/udp/h/53")), RedirectionKind::network);
  EXPECT_EQ(classify_redirection(">", word("/dev/./tcp/h/1")), RedirectionKind::network);
  EXPECT_EQ(classify_redirection(">", word("/dev/tcp/$H/1", false)), RedirectionKind::network);
  EXPECT_FALSE(is_network_path("/dev/tcpx"));
}

TEST(RedirectionKinds, InputAndHereDocuments) {
  EXPECT_EQ(classify_redirection("<", word("/etc/passwd")), RedirectionKind::input);
  EXPECT_EQ(classify_redirection("<<", word("EOF")), RedirectionKind::here_document);
  EXPECT_EQ(classify_redirection("<<-", word("EOF")), RedirectionKind::here_document);
  EXPECT_EQ(classify_redirection("<<<", word("x")), RedirectionKind::here_string);
}

TEST(RedirectionKinds, WritesFilesLooksAtEveryRedirection) {
  SimpleCommand c;
  c.redirections.push_back(Redirection{
      .fd = 2, .op = ">", .target = word("/dev/null"), .kind = RedirectionKind::discard});
  EXPECT_FALSE(writes_files(c));
  c.redirections.push_back(
      Redirection{.fd = -1, .op = ">", .target = word("x"), .kind = RedirectionKind::output});
  EXPECT_TRUE(writes_files(c));
  EXPECT_FALSE(opens_network(c));
}

}  // namespace
}  // namespace portcullis::shell
