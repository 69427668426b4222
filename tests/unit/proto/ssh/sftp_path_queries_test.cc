// The gateway's own sftp stream to a host, asking where paths lead: what it asks for each kind
// of operation, the packets it sends, and the answers it reads or refuses to follow.
#include "proto/ssh/sftp_path_queries.h"

#include <gtest/gtest.h>

#include "sftp_wire.h"

namespace portcullis::proto::ssh::sftp {
namespace {

using testing::Wire;

std::string version(uint32_t number) {
  Wire wire;
  wire.u8(kVersion).u32(number);
  return wire.packet();
}

std::string name_reply(uint32_t id, std::string_view path) {
  Wire wire;
  wire.u8(kName).u32(id).u32(1).str(path).str("-rw-r--r-- ls line").no_attributes();
  return wire.packet();
}

std::string status_reply(uint32_t id, uint32_t code) {
  Wire wire;
  wire.u8(kStatus).u32(id).u32(code).str("No such file").str("en");
  return wire.packet();
}

TEST(SftpPathQuestionTest, FollowsTheLastLinkOrAsksForItsFolder) {
  const auto follow = question_for("link/authorized_keys", true);
  EXPECT_EQ(follow.ask, "link/authorized_keys");
  EXPECT_EQ(follow.append, "");
  EXPECT_EQ(answer_for(follow, "/home/u/.ssh/authorized_keys"), "/home/u/.ssh/authorized_keys");

  const auto on_link = question_for("dir/link", false);
  EXPECT_EQ(on_link.ask, "dir");
  EXPECT_EQ(on_link.append, "link");
  EXPECT_EQ(answer_for(on_link, "/srv/real-dir"), "/srv/real-dir/link");
  EXPECT_EQ(answer_for(question_for("link", false), "/home/u"), "/home/u/link");
  EXPECT_EQ(question_for("link", false).ask, ".");
  EXPECT_EQ(question_for("/top", false).ask, "/");
  EXPECT_EQ(answer_for(question_for("/top", false), "/"), "/top");
  EXPECT_EQ(question_for("a/b//", false).ask, "a");
  EXPECT_EQ(question_for("a/b//", false).append, "b");
  // Nothing to keep apart: asked whole.
  for (const std::string path : {"/", ".", "..", "a/..", "a/.", ""}) {
    EXPECT_EQ(question_for(path, false).ask, path) << path;
    EXPECT_EQ(question_for(path, false).append, "") << path;
  }
}

TEST(SftpPathQuestionTest, OperationsOnTheLinkItselfDoNotFollowIt) {
  Request request;
  for (const std::string operation :
       {"open", "opendir", "stat", "setstat", "realpath", "statvfs", "expand-path"}) {
    request.operation = operation;
    EXPECT_TRUE(follows_last_link(request)) << operation;
  }
  for (const std::string operation : {"lstat", "readlink", "lsetstat", "remove", "rmdir", "rename",
                                      "posix-rename", "mkdir", "symlink", "hardlink"}) {
    request.operation = operation;
    EXPECT_FALSE(follows_last_link(request)) << operation;
  }
}

TEST(SftpPathQueriesTest, SendsInitThenRealpathAndMatchesAnswersById) {
  PathQueries queries;
  Wire init;
  init.u8(kInit).u32(3);
  EXPECT_EQ(queries.to_host(), init.packet());
  queries.to_host().clear();
  const auto first = queries.ask("link/a");
  const auto second = queries.ask("missing/b");
  ASSERT_TRUE(first && second);
  Wire asked;
  asked.u8(kRealpath).u32(*first).str("link/a");
  EXPECT_EQ(queries.to_host().substr(0, asked.packet().size()), asked.packet());

  // Answers in any order, split anywhere.
  const std::string stream =
      version(3) + status_reply(*second, kNoSuchFile) + name_reply(*first, "/home/u/.ssh/a");
  for (std::size_t i = 0; i < stream.size(); ++i)
    ASSERT_TRUE(queries.from_host(stream.substr(i, 1))) << queries.error();
  const auto a = queries.take(*first);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->path, "/home/u/.ssh/a");
  const auto b = queries.take(*second);
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->path);
  EXPECT_EQ(b->status, kNoSuchFile);
  EXPECT_FALSE(queries.take(*first));  // taken once
}

TEST(SftpPathQueriesTest, AStreamItCannotFollowIsAnError) {
  struct Case {
    const char* name;
    std::string after_ask;  // what the host sends after VERSION, the question being id 1
    bool versioned = true;
  };
  Wire two_names;
  two_names.u8(kName)
      .u32(1)
      .u32(2)
      .str("/a")
      .str("")
      .no_attributes()
      .str("/b")
      .str("")
      .no_attributes();
  Wire handle;
  handle.u8(kHandle).u32(1).str("h");
  Wire truncated;
  truncated.u8(kName).u32(1).u32(1).str("/a");
  Wire nul;
  nul.u8(kName).u32(1).u32(1).str(std::string("/a\0b", 4)).str("").no_attributes();
  const Case cases[] = {
      {"another version", "", false},
      {"an answer to an id not asked", name_reply(9, "/x")},
      {"two names", two_names.packet()},
      {"a handle", handle.packet()},
      {"a truncated name", truncated.packet()},
      {"a name with a NUL", nul.packet()},
      {"status ok", status_reply(1, kOk)},
  };
  for (const auto& c : cases) {
    PathQueries queries;
    ASSERT_EQ(queries.ask("x"), 1u);
    const std::string stream = (c.versioned ? version(3) : version(6)) + c.after_ask;
    EXPECT_FALSE(queries.from_host(stream)) << c.name;
    EXPECT_FALSE(queries.error().empty()) << c.name;
    EXPECT_FALSE(queries.ask("y")) << c.name;  // nothing more is asked on a broken stream
  }
  PathQueries twice;
  ASSERT_EQ(twice.ask("x"), 1u);
  EXPECT_TRUE(twice.from_host(version(3) + name_reply(1, "/x")));
  EXPECT_FALSE(twice.from_host(name_reply(1, "/x")));  // answered already
}

TEST(SftpPathQueriesTest, BoundsTheQuestionsOpen) {
  PathQueries queries;
  for (std::size_t i = 0; i < PathQueries::kMaxOpen; ++i) ASSERT_TRUE(queries.ask("x"));
  EXPECT_FALSE(queries.ask("x"));
}

}  // namespace
}  // namespace portcullis::proto::ssh::sftp
