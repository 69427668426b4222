// The sftp relay: requests held for a decision and forwarded or answered by the gateway, data
// requests passed on, bounds that stop the stream, and the host's stream passed through with
// the gateway's replies between its packets.
#include "proto/ssh/sftp_relay.h"

#include <gtest/gtest.h>

#include "sftp_wire.h"

namespace portcullis::proto::ssh::sftp {
namespace {

using testing::request;
using testing::Wire;
using Step = SftpRelay::Step;

std::string init_packet() {
  return Wire().u8(kInit).u32(3).packet();
}
std::string version_packet(uint32_t version = 3) {
  return Wire().u8(kVersion).u32(version).packet();
}
std::string status(uint32_t id, uint32_t code) {
  return Wire().u8(kStatus).u32(id).u32(code).str("").str("").packet();
}

// A relay past INIT and VERSION.
struct Started {
  SftpRelay relay;
  std::string to_client;
  Started() {
    std::string input = init_packet();
    EXPECT_EQ(relay.from_client(input), Step::wait);
    relay.to_host().clear();
    EXPECT_TRUE(relay.from_host(version_packet(), to_client));
    to_client.clear();
  }
};

TEST(SftpRelayTest, PassesInitAndDataRequestsWithoutADecision) {
  SftpRelay relay;
  const auto read = request(kRead, 1).str("h").u64(0).u32(100).packet();
  const auto write = request(kWrite, 2).str("h").u64(0).str("content").packet();
  std::string input = init_packet() + read + write;
  EXPECT_EQ(relay.from_client(input), Step::wait);
  EXPECT_TRUE(input.empty());
  EXPECT_EQ(relay.to_host(), init_packet() + read + write);
  EXPECT_TRUE(relay.idle() == false);  // bytes for the host
  relay.to_host().clear();
  EXPECT_TRUE(relay.idle());
}

TEST(SftpRelayTest, HoldsARequestThatNamesFilesUntilDecided) {
  Started s;
  const auto remove = request(kRemove, 5).str("/srv/a").packet();
  const auto after = request(kRead, 6).str("h").u64(0).u32(1).packet();
  std::string input = remove + after;
  EXPECT_EQ(s.relay.from_client(input), Step::decide);
  EXPECT_EQ(s.relay.pending().operation, "remove");
  EXPECT_EQ(s.relay.pending().paths, std::vector<std::string>{"/srv/a"});
  EXPECT_TRUE(s.relay.to_host().empty());               // nothing passes the held request
  EXPECT_EQ(s.relay.from_client(input), Step::decide);  // still held
  s.relay.allow(true);
  EXPECT_EQ(s.relay.from_client(input), Step::wait);
  EXPECT_EQ(s.relay.to_host(), remove + after);  // byte for byte, in order
}

TEST(SftpRelayTest, ARefusedRequestIsAnsweredByTheGatewayAndNeverForwarded) {
  Started s;
  std::string input = request(kRemove, 5).str("/etc/passwd").packet();
  ASSERT_EQ(s.relay.from_client(input), Step::decide);
  s.relay.refuse("blocked by rule \"no-etc\"");
  EXPECT_EQ(s.relay.from_client(input), Step::wait);
  EXPECT_TRUE(s.relay.to_host().empty());
  s.relay.flush_replies(s.to_client);
  EXPECT_EQ(s.to_client, Wire()
                             .u8(kStatus)
                             .u32(5)
                             .u32(kPermissionDenied)
                             .str("blocked by rule \"no-etc\"")
                             .str("en")
                             .packet());
  EXPECT_EQ(s.relay.awaiting(), 0u);
}

TEST(SftpRelayTest, AnUnknownRequestIsRefusedWhateverTheGrant) {
  Started s;
  std::string input = request(kExtended, 7).str("exec@example.com").str("id").packet();
  EXPECT_EQ(s.relay.from_client(input), Step::refuse);
  s.relay.refuse("unknown");
  EXPECT_TRUE(s.relay.to_host().empty());
}

TEST(SftpRelayTest, TheGatewaysReplyWaitsForTheEndOfTheHostsPacket) {
  Started s;
  const auto data = Wire().u8(kData).u32(3).str(std::string(1000, 'x')).packet();
  // The host's DATA arrives in part; a refusal made meanwhile must not cut it.
  ASSERT_TRUE(s.relay.from_host(std::string_view(data).substr(0, 500), s.to_client));
  std::string input = request(kStat, 8).str("/etc").packet();
  ASSERT_EQ(s.relay.from_client(input), Step::decide);
  s.relay.refuse("no");
  s.relay.flush_replies(s.to_client);
  EXPECT_EQ(s.to_client, data.substr(0, 500));
  ASSERT_TRUE(s.relay.from_host(std::string_view(data).substr(500), s.to_client));
  const auto reply = Wire().u8(kStatus).u32(8).u32(kPermissionDenied).str("no").str("en").packet();
  EXPECT_EQ(s.to_client, data + reply);
}

TEST(SftpRelayTest, AHostStreamCutAnywherePassesUnchanged) {
  Started s;
  std::string stream;
  for (uint32_t id = 0; id < 20; ++id) {
    stream += Wire().u8(kData).u32(id).str(std::string(id * 37, static_cast<char>(id))).packet();
    stream += status(id, kOk);
    stream += Wire().u8(kAttrs).u32(id).u32(0).packet();
  }
  for (std::size_t cut : {1, 2, 3, 5, 9, 13, 64, 4096}) {
    SftpRelay relay;
    std::string to_client;
    for (std::size_t at = 0; at < stream.size(); at += cut)
      ASSERT_TRUE(relay.from_host(std::string_view(stream).substr(at, cut), to_client));
    EXPECT_EQ(to_client, stream) << cut;
  }
}

TEST(SftpRelayTest, JournaledRequestsGetTheHostsAnswersInOrder) {
  Started s;
  std::string input = request(kOpen, 1).str("/a").u32(kOpenRead).no_attributes().packet() +
                      request(kRemove, 2).str("/b").packet() +
                      request(kMkdir, 3).str("/c").no_attributes().packet();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(s.relay.from_client(input), Step::decide);
    s.relay.allow(true);
  }
  EXPECT_EQ(s.relay.awaiting(), 3u);
  std::string error;
  EXPECT_FALSE(s.relay.next_outcome(error));
  // Answered out of order: outcomes still come in the order of the requests.
  ASSERT_TRUE(s.relay.from_host(status(2, kNoSuchFile), s.to_client));
  EXPECT_FALSE(s.relay.next_outcome(error));
  ASSERT_TRUE(s.relay.from_host(Wire().u8(kHandle).u32(1).str("h").packet(), s.to_client));
  ASSERT_TRUE(s.relay.next_outcome(error));
  EXPECT_EQ(error, "");
  ASSERT_TRUE(s.relay.next_outcome(error));
  EXPECT_EQ(error, "sftp status 2: no such file");
  EXPECT_FALSE(s.relay.next_outcome(error));
  ASSERT_TRUE(s.relay.from_host(status(3, kOk), s.to_client));
  ASSERT_TRUE(s.relay.next_outcome(error));
  EXPECT_EQ(error, "");
  EXPECT_EQ(s.relay.awaiting(), 0u);
}

TEST(SftpRelayTest, ARequestOverTheLimitStopsTheStream) {
  Started s;
  Wire huge;
  huge.u32(kMaxPacketBody + 1).u8(kWrite);
  std::string input = huge.body();
  EXPECT_EQ(s.relay.from_client(input), Step::broken);
  EXPECT_NE(s.relay.error().find("longer than"), std::string::npos) << s.relay.error();
  EXPECT_TRUE(s.relay.to_host().empty());
  EXPECT_EQ(s.relay.from_client(input), Step::broken);  // for good
}

TEST(SftpRelayTest, ARequestAtTheLimitPassesInPieces) {
  Started s;
  const std::string data(kMaxPacketBody - 1 - 4 - 4 - 1 - 8 - 4, 'd');
  const auto write = request(kWrite, 1).str("h").u64(0).str(data).packet();
  ASSERT_EQ(write.size(), kLengthSize + kMaxPacketBody);
  std::string input;
  for (std::size_t at = 0; at < write.size(); at += 32 * 1024) {
    input += write.substr(at, 32 * 1024);
    EXPECT_EQ(s.relay.from_client(input), Step::wait);
  }
  EXPECT_EQ(s.relay.to_host(), write);
}

TEST(SftpRelayTest, StopsOnAStreamItCannotRead) {
  SftpRelay no_init;
  std::string input = request(kStat, 1).str("/").packet();
  EXPECT_EQ(no_init.from_client(input), Step::broken);

  Started twice;
  input = init_packet();
  EXPECT_EQ(twice.relay.from_client(input), Step::broken);

  Started malformed;
  input = request(kRename, 1).str("/a").packet();
  EXPECT_EQ(malformed.relay.from_client(input), Step::broken);
  EXPECT_TRUE(malformed.relay.to_host().empty());
}

TEST(SftpRelayTest, FollowsOnlyVersionThree) {
  SftpRelay relay;
  std::string to_client;
  EXPECT_FALSE(relay.from_host(version_packet(6), to_client));
  EXPECT_NE(relay.error().find("version 6"), std::string::npos) << relay.error();
  std::string input = init_packet();
  EXPECT_EQ(relay.from_client(input), Step::broken);
}

TEST(SftpRelayTest, StopsTakingRequestsWhileTheHostsSideIsFull) {
  Started s;
  const auto write = request(kWrite, 1).str("h").u64(0).str(std::string(60000, 'w')).packet();
  std::string input;
  for (int i = 0; i < 10; ++i) input += write;
  EXPECT_EQ(s.relay.from_client(input), Step::wait);
  EXPECT_GE(s.relay.to_host().size(), SftpRelay::kMaxForward);
  EXPECT_FALSE(input.empty());
  s.relay.to_host().clear();
  EXPECT_EQ(s.relay.from_client(input), Step::wait);
  EXPECT_TRUE(input.empty());
}

}  // namespace
}  // namespace portcullis::proto::ssh::sftp
