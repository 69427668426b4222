// The SFTP codec: framing with its bound, every request read into what it names, whether it
// writes, and the STATUS reply the gateway sends.
#include "proto/ssh/sftp_packets.h"

#include <gtest/gtest.h>

#include <ostream>

#include "sftp_wire.h"

namespace portcullis::proto::ssh::sftp {
namespace {

using testing::request;
using testing::Wire;

TEST(SftpFrameTest, WaitsForTheLengthThenTheWholeBody) {
  const auto packet = request(kStat, 7).str("/etc").packet();
  EXPECT_EQ(next_frame("").state, Frame::State::need_more);
  EXPECT_EQ(next_frame(std::string_view(packet).substr(0, 3)).state, Frame::State::need_more);
  const auto partial = next_frame(std::string_view(packet).substr(0, packet.size() - 1));
  EXPECT_EQ(partial.state, Frame::State::need_more);
  EXPECT_EQ(partial.size, packet.size());
  const auto whole = next_frame(packet + "next");
  EXPECT_EQ(whole.state, Frame::State::ready);
  EXPECT_EQ(whole.size, packet.size());
}

TEST(SftpFrameTest, RefusesAPacketOverOpenSshsLimitOrEmpty) {
  Wire at_limit;
  at_limit.u32(kMaxPacketBody);
  EXPECT_EQ(next_frame(at_limit.body()).state, Frame::State::need_more);
  Wire over;
  over.u32(kMaxPacketBody + 1);
  EXPECT_EQ(next_frame(over.body()).state, Frame::State::too_large);
  Wire huge;
  huge.u32(0xffffffff);
  EXPECT_EQ(next_frame(huge.body()).state, Frame::State::too_large);
  Wire empty;
  empty.u32(0);
  EXPECT_EQ(next_frame(empty.body()).state, Frame::State::too_large);
}

struct RequestCase {
  const char* name;
  std::string body;
  std::string operation;
  Treatment treatment;
  bool writes;
  std::vector<std::string> paths;
};

std::ostream& operator<<(std::ostream& out, const RequestCase& c) {
  return out << c.name;
}

Wire extended(uint32_t id, std::string_view name) {
  return std::move(request(kExtended, id).str(name));
}

std::vector<RequestCase> request_cases() {
  return {
      {"open_read",
       request(kOpen, 1).str("/srv/a").u32(kOpenRead).no_attributes().body(),
       "open",
       Treatment::decide,
       false,
       {"/srv/a"}},
      {"open_write",
       request(kOpen, 1)
           .str("/srv/a")
           .u32(kOpenWrite | kOpenCreate | kOpenTruncate)
           .no_attributes()
           .body(),
       "open",
       Treatment::decide,
       true,
       {"/srv/a"}},
      {"open_append",
       request(kOpen, 1).str("a").u32(kOpenAppend).no_attributes().body(),
       "open",
       Treatment::decide,
       true,
       {"a"}},
      // Read with TRUNC truncates on Linux; CREAT alone creates: neither is a read.
      {"open_read_truncate",
       request(kOpen, 1).str("/srv/a").u32(kOpenRead | kOpenTruncate).no_attributes().body(),
       "open",
       Treatment::decide,
       true,
       {"/srv/a"}},
      {"open_read_create",
       request(kOpen, 1).str("/srv/a").u32(kOpenRead | kOpenCreate).no_attributes().body(),
       "open",
       Treatment::decide,
       true,
       {"/srv/a"}},
      {"open_unknown_flag",
       request(kOpen, 1).str("/srv/a").u32(0x100).no_attributes().body(),
       "open",
       Treatment::decide,
       true,
       {"/srv/a"}},
      {"opendir",
       request(kOpendir, 2).str("/etc").body(),
       "opendir",
       Treatment::decide,
       false,
       {"/etc"}},
      {"stat",
       request(kStat, 2).str("/etc/passwd").body(),
       "stat",
       Treatment::decide,
       false,
       {"/etc/passwd"}},
      {"lstat", request(kLstat, 2).str("x").body(), "lstat", Treatment::decide, false, {"x"}},
      {"realpath",
       request(kRealpath, 2).str(".").body(),
       "realpath",
       Treatment::decide,
       false,
       {"."}},
      {"readlink",
       request(kReadlink, 2).str("/l").body(),
       "readlink",
       Treatment::decide,
       false,
       {"/l"}},
      {"setstat",
       request(kSetstat, 3).str("/srv/a").u32(0x4).u32(0777).body(),
       "setstat",
       Treatment::decide,
       true,
       {"/srv/a"}},
      {"fsetstat",
       request(kFsetstat, 3).str("h1").u32(0x1).u64(0).body(),
       "fsetstat",
       Treatment::decide,
       true,
       {}},
      {"remove",
       request(kRemove, 4).str("/srv/a").body(),
       "remove",
       Treatment::decide,
       true,
       {"/srv/a"}},
      {"mkdir",
       request(kMkdir, 4).str("/srv/d").no_attributes().body(),
       "mkdir",
       Treatment::decide,
       true,
       {"/srv/d"}},
      {"rmdir",
       request(kRmdir, 4).str("/srv/d").body(),
       "rmdir",
       Treatment::decide,
       true,
       {"/srv/d"}},
      {"rename",
       request(kRename, 5).str("/srv/a").str("/etc/cron.d/a").body(),
       "rename",
       Treatment::decide,
       true,
       {"/srv/a", "/etc/cron.d/a"}},
      {"symlink",
       request(kSymlink, 5).str("/etc/shadow").str("/srv/s").body(),
       "symlink",
       Treatment::decide,
       true,
       {"/etc/shadow", "/srv/s"}},
      {"posix_rename",
       extended(6, "posix-rename@openssh.com").str("/a").str("/b").body(),
       "posix-rename",
       Treatment::decide,
       true,
       {"/a", "/b"}},
      {"hardlink",
       extended(6, "hardlink@openssh.com").str("/etc/shadow").str("/srv/h").body(),
       "hardlink",
       Treatment::decide,
       true,
       {"/etc/shadow", "/srv/h"}},
      {"lsetstat",
       extended(6, "lsetstat@openssh.com").str("/a").no_attributes().body(),
       "lsetstat",
       Treatment::decide,
       true,
       {"/a"}},
      {"statvfs",
       extended(6, "statvfs@openssh.com").str("/").body(),
       "statvfs",
       Treatment::decide,
       false,
       {"/"}},
      {"expand_path",
       extended(6, "expand-path@openssh.com").str("~/x").body(),
       "expand-path",
       Treatment::decide,
       false,
       {"~/x"}},
      {"limits", extended(6, "limits@openssh.com").body(), "limits", Treatment::pass, false, {}},
      {"fsync",
       extended(6, "fsync@openssh.com").str("h1").body(),
       "fsync",
       Treatment::pass,
       false,
       {}},
      {"unknown_extended",
       extended(6, "sh-c@example.com").str("rm -rf /").body(),
       "extended \"sh-c@example.com\"",
       Treatment::refuse,
       false,
       {}},
      {"read",
       request(kRead, 8).str("h1").u64(0).u32(32768).body(),
       "read",
       Treatment::pass,
       false,
       {}},
      {"write",
       request(kWrite, 8).str("h1").u64(0).str("data").body(),
       "write",
       Treatment::pass,
       false,
       {}},
      {"close", request(kClose, 8).str("h1").body(), "close", Treatment::pass, false, {}},
      {"fstat", request(kFstat, 8).str("h1").body(), "fstat", Treatment::pass, false, {}},
      {"readdir", request(kReaddir, 8).str("h1").body(), "readdir", Treatment::pass, false, {}},
      {"unknown_type", request(99, 8).body(), "request type 99", Treatment::refuse, false, {}},
      {"attributes_with_extensions",
       request(kSetstat, 3).str("/a").u32(0x80000000).u32(1).str("k").str("v").body(),
       "setstat",
       Treatment::decide,
       true,
       {"/a"}},
      {"trailing_bytes_ignored",
       request(kStat, 2).str("/a").u32(0).body(),
       "stat",
       Treatment::decide,
       false,
       {"/a"}},
  };
}

class SftpRequestTest : public ::testing::TestWithParam<RequestCase> {};

TEST_P(SftpRequestTest, ReadsWhatTheRequestNames) {
  const auto& c = GetParam();
  auto read = read_request(c.body);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read.value().operation, c.operation);
  EXPECT_EQ(read.value().treatment, c.treatment);
  EXPECT_EQ(read.value().writes, c.writes);
  EXPECT_EQ(read.value().paths, c.paths);
}

INSTANTIATE_TEST_SUITE_P(Requests, SftpRequestTest, ::testing::ValuesIn(request_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(SftpRequestTest, ReadsTheIdAndInitsVersion) {
  auto stat = read_request(request(kStat, 0x01020304).str("/").body());
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat.value().id, 0x01020304u);
  Wire init;
  init.u8(kInit).u32(3);
  auto read = read_request(init.body());
  ASSERT_TRUE(read);
  EXPECT_EQ(read.value().operation, "init");
  EXPECT_EQ(read.value().id, 3u);
  EXPECT_EQ(read.value().treatment, Treatment::pass);
}

TEST(SftpRequestTest, RefusesMalformedRequests) {
  const std::string cases[] = {
      "",
      std::string(1, static_cast<char>(kStat)),
      request(kStat, 1).body(),                                         // no path
      request(kStat, 1).u32(10).body() + "short",                       // path cut short
      request(kRename, 1).str("/a").body(),                             // one end missing
      request(kOpen, 1).str("/a").body(),                               // no pflags
      request(kOpen, 1).str("/a").u32(kOpenRead).body(),                // no ATTRS
      request(kSetstat, 1).str("/a").u32(0x1).u32(0).body(),            // size cut short
      request(kSetstat, 1).str("/a").u32(0x80000000).u32(1000).body(),  // extensions missing
      request(kFsetstat, 1).body(),                                     // no handle
      extended(1, "posix-rename@openssh.com").str("/a").body(),         // one end missing
      request(kExtended, 1).body(),                                     // no name
  };
  for (const auto& body : cases) EXPECT_FALSE(read_request(body)) << ::testing::PrintToString(body);
}

TEST(SftpRequestTest, RefusesAPathHoldingANul) {
  // OpenSSH's sftp-server refuses it too; the gateway would match a path the host never sees.
  EXPECT_FALSE(read_request(request(kRemove, 1).str(std::string("/srv/a\0/etc", 11)).body()));
}

TEST(SftpDescribeTest, NamesTheOperationItsPathsAndHowAFileIsOpened) {
  auto open = read_request(request(kOpen, 1)
                               .str("/srv/a b")
                               .u32(kOpenWrite | kOpenCreate | kOpenTruncate)
                               .no_attributes()
                               .body());
  ASSERT_TRUE(open);
  EXPECT_EQ(describe(open.value()), "open \"/srv/a b\" write,create,truncate");
  auto rename = read_request(request(kRename, 1).str("/a").str("/b\"c").body());
  ASSERT_TRUE(rename);
  EXPECT_EQ(describe(rename.value()), "rename \"/a\" \"/b\\\"c\"");
  auto fsetstat = read_request(request(kFsetstat, 1).str("\x01\xff").no_attributes().body());
  ASSERT_TRUE(fsetstat);
  EXPECT_EQ(describe(fsetstat.value()), "fsetstat handle 01ff");
}

TEST(SftpReplyTest, ReadsTheIdAndStatusOfAReply) {
  auto status = read_reply(Wire().u8(kStatus).u32(9).u32(kNoSuchFile).body());
  EXPECT_EQ(status.id, 9u);
  EXPECT_EQ(status.status, uint32_t{kNoSuchFile});
  auto handle = read_reply(Wire().u8(kHandle).u32(10).u32(2).body());
  EXPECT_EQ(handle.id, 10u);
  EXPECT_FALSE(handle.status);
  auto version = read_reply(Wire().u8(kVersion).u32(3).body());
  EXPECT_EQ(version.version, 3u);
  EXPECT_FALSE(version.id);
  EXPECT_FALSE(read_reply(Wire().u8(kStatus).body()).id);
}

TEST(SftpStatusTest, BuildsAPermissionDeniedReply) {
  const auto packet = status_packet(42, kPermissionDenied, "blocked");
  const auto expected =
      Wire().u8(kStatus).u32(42).u32(kPermissionDenied).str("blocked").str("en").packet();
  EXPECT_EQ(packet, expected);
  EXPECT_EQ(next_frame(packet).state, Frame::State::ready);
  EXPECT_EQ(status_name(kPermissionDenied), "permission denied");
  EXPECT_EQ(status_name(1000), "unknown status");
}

}  // namespace
}  // namespace portcullis::proto::ssh::sftp
