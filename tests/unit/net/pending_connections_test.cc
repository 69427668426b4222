// PendingConnections: caps on connections that have not finished their handshake, in all and
// per source; and the throttle on lines a peer can cause at will.
#include "net/pending_connections.h"

#include <gtest/gtest.h>

#include <vector>

#include "net/descriptor_limit.h"
#include "net/log_throttle.h"

namespace portcullis::net {
namespace {

using boost::asio::ip::make_address;

TEST(PendingConnectionsTest, CapsOneSourceButNotTheOthers) {
  auto pending = PendingConnections::make({.total = 10, .per_address = 2});
  std::string_view refused;
  std::vector<PendingConnections::Ticket> held;
  for (int i = 0; i < 2; ++i) {
    auto ticket = pending->try_admit(make_address("127.0.0.1"), refused);
    ASSERT_TRUE(ticket);
    held.push_back(std::move(*ticket));
  }
  EXPECT_FALSE(pending->try_admit(make_address("127.0.0.1"), refused));
  EXPECT_EQ(refused, "per_address");
  EXPECT_TRUE(pending->try_admit(make_address("127.0.0.2"), refused));
  EXPECT_EQ(pending->from(make_address("127.0.0.1")), 2u);
}

TEST(PendingConnectionsTest, CapsTheTotal) {
  auto pending = PendingConnections::make({.total = 3, .per_address = 3});
  std::string_view refused;
  auto a = pending->try_admit(make_address("10.0.0.1"), refused);
  auto b = pending->try_admit(make_address("10.0.0.2"), refused);
  auto c = pending->try_admit(make_address("10.0.0.3"), refused);
  ASSERT_TRUE(a && b && c);
  EXPECT_FALSE(pending->try_admit(make_address("10.0.0.4"), refused));
  EXPECT_EQ(refused, "total");
  EXPECT_EQ(pending->from(make_address("10.0.0.4")), 0u);
}

TEST(PendingConnectionsTest, AReleasedOrDestroyedTicketGivesItsPlaceBack) {
  auto pending = PendingConnections::make({.total = 1, .per_address = 1});
  std::string_view refused;
  {
    auto ticket = pending->try_admit(make_address("127.0.0.1"), refused);
    ASSERT_TRUE(ticket);
    EXPECT_EQ(pending->total(), 1u);
    ticket->release();
    ticket->release();  // idempotent
    EXPECT_EQ(pending->total(), 0u);
  }
  {
    auto ticket = pending->try_admit(make_address("127.0.0.1"), refused);
    ASSERT_TRUE(ticket);
    PendingConnections::Ticket moved = std::move(*ticket);
    EXPECT_TRUE(moved.holds());
    EXPECT_FALSE(ticket->holds());
  }
  EXPECT_EQ(pending->total(), 0u);
  EXPECT_EQ(pending->from(make_address("127.0.0.1")), 0u);
}

TEST(PendingConnectionsTest, CountsAnIpv6SourcePerSlash64AndAMappedIpv4AsItself) {
  auto pending = PendingConnections::make({.total = 10, .per_address = 1});
  std::string_view refused;
  auto first = pending->try_admit(make_address("2001:db8:1:2::1"), refused);
  ASSERT_TRUE(first);
  EXPECT_FALSE(pending->try_admit(make_address("2001:db8:1:2:ffff::9"), refused));
  EXPECT_TRUE(pending->try_admit(make_address("2001:db8:1:3::1"), refused));
  auto v4 = pending->try_admit(make_address("192.0.2.7"), refused);
  ASSERT_TRUE(v4);
  EXPECT_FALSE(pending->try_admit(make_address("::ffff:192.0.2.7"), refused));
}

TEST(PendingConnectionsTest, NewCapsApplyToNewConnections) {
  auto pending = PendingConnections::make({.total = 10, .per_address = 2});
  std::string_view refused;
  auto a = pending->try_admit(make_address("127.0.0.1"), refused);
  ASSERT_TRUE(a);
  pending->set_caps({.total = 10, .per_address = 1});
  EXPECT_FALSE(pending->try_admit(make_address("127.0.0.1"), refused));
  EXPECT_TRUE(a->holds());
}

TEST(LogThrottleTest, WritesOneLinePerIntervalAndCountsTheRest) {
  LogThrottle throttle(std::chrono::seconds(1));
  const auto start = std::chrono::steady_clock::time_point(std::chrono::hours(1));
  std::size_t suppressed = 99;
  EXPECT_TRUE(throttle.allow(suppressed, start));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_FALSE(throttle.allow(suppressed, start + std::chrono::milliseconds(10)));
  EXPECT_FALSE(throttle.allow(suppressed, start + std::chrono::milliseconds(999)));
  EXPECT_TRUE(throttle.allow(suppressed, start + std::chrono::seconds(1)));
  EXPECT_EQ(suppressed, 2u);
}

TEST(DescriptorLimitTest, LeavesTheReserveFreeAndCountsTwoPerSession) {
  EXPECT_EQ(sessions_within(kDescriptorReserve), 0u);
  EXPECT_EQ(sessions_within(10), 0u);
  EXPECT_EQ(sessions_within(1024), (1024 - kDescriptorReserve) / 2);
}

TEST(DescriptorLimitTest, RaisesTheSoftLimitToTheHardOne) {
  const auto limit = raise_descriptor_limit();
  EXPECT_TRUE(limit.error.empty()) << limit.error;
  EXPECT_EQ(limit.soft, limit.hard);
}

}  // namespace
}  // namespace portcullis::net
