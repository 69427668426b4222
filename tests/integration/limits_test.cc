// Limits and lifecycle: oversized startup packets and messages, silent clients, idle
// sessions, and shutdown on SIGTERM, each with a clear error.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <thread>

#include "gateway_fixture.h"
#include "support/postgres_server.h"

namespace portcullis::testing {
namespace {

using namespace std::chrono_literals;

// A raw TCP connection to the gateway, for what no client library would send.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    timeval timeout{20, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~RawConnection() { close(fd_); }

  void send(const std::string& bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // Reads messages until one of type `type` (or the connection closes).
  void read_until(char type) {
    for (;;) {
      char header[5];
      if (!read_exact(header, 5)) return;
      uint32_t length;
      std::memcpy(&length, header + 1, 4);
      std::string body(ntohl(length) - 4, '\0');
      if (!read_exact(body.data(), body.size())) return;
      if (header[0] == type) return;
    }
  }
  bool read_exact(char* out, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
      const auto n = recv(fd_, out + done, size - done, 0);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Everything until the gateway closes the connection (or 20 s pass).
  std::string read_all() {
    std::string out;
    char chunk[4096];
    for (;;) {
      const auto n = recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      out.append(chunk, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
};

std::string be32(uint32_t value) {
  const uint32_t big = htonl(value);
  return std::string(reinterpret_cast<const char*>(&big), 4);
}

class LimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    postgres_ = new PostgresServer();
    GatewayOptions options;
    options.limits_section =
        "limits:\n  handshake_timeout: 1s\n  idle_timeout: 2s\n  max_message_size: 1MiB\n";
    gateway_ = new GatewayProcess(*postgres_, options);
    token_ = new std::string(gateway_->issue_token("alice"));
  }
  static void TearDownTestSuite() {
    delete token_;
    delete gateway_;
    delete postgres_;
  }
  static PostgresServer* postgres_;
  static GatewayProcess* gateway_;
  static std::string* token_;
};

PostgresServer* LimitsTest::postgres_ = nullptr;
GatewayProcess* LimitsTest::gateway_ = nullptr;
std::string* LimitsTest::token_ = nullptr;

TEST_F(LimitsTest, RefusesAStartupPacketLargerThanPostgresWould) {
  RawConnection raw(gateway_->port());
  raw.send(be32(20000) + be32(196608));
  const auto reply = raw.read_all();
  ASSERT_FALSE(reply.empty());
  EXPECT_EQ(reply[0], 'E');
  EXPECT_NE(reply.find("invalid startup packet length 20000"), std::string::npos) << reply;
}

TEST_F(LimitsTest, ClosesAClientThatNeverFinishesItsHandshake) {
  RawConnection raw(gateway_->port());
  raw.send(be32(8));  // half a packet, then silence
  const auto started = std::chrono::steady_clock::now();
  raw.read_all();
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, 800ms);
  EXPECT_LT(waited, 10s);
  EXPECT_TRUE(gateway_->process().wait_for_output("event=handshake_timeout", 5s));
}

TEST_F(LimitsTest, RefusesAnOversizedMessageWithAClearError) {
  PGconn* conn = PQconnectdb(gateway_->conninfo("alice", *token_).c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  const std::string huge = "select '" + std::string(2 << 20, 'x') + "'";
  PGresult* result = PQexec(conn, huge.c_str());
  EXPECT_NE(PQresultStatus(result), PGRES_TUPLES_OK);
  EXPECT_NE(std::string(PQerrorMessage(conn)).find("exceeds the limit of 1048576 bytes"),
            std::string::npos)
      << PQerrorMessage(conn);
  PQclear(result);
  PQfinish(conn);
}

TEST_F(LimitsTest, EndsAnIdleSessionWithAnError) {
  PGconn* conn = PQconnectdb(gateway_->conninfo("alice", *token_).c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  // The gateway speaks first once the session has been idle for 2 s: wait for its error
  // rather than for a fixed time a loaded machine might overrun.
  pollfd fd{PQsocket(conn), POLLIN, 0};
  ASSERT_EQ(::poll(&fd, 1, 30000), 1) << "the idle session was not ended";
  PGresult* result = PQexec(conn, "select 1");
  EXPECT_NE(PQresultStatus(result), PGRES_TUPLES_OK);
  EXPECT_NE(std::string(PQerrorMessage(conn)).find("idle"), std::string::npos)
      << PQerrorMessage(conn);
  PQclear(result);
  PQfinish(conn);
}

TEST_F(LimitsTest, BusySessionsAreNotIdle) {
  PGconn* conn = PQconnectdb(gateway_->conninfo("alice", *token_).c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* result = PQexec(conn, "select pg_sleep(3), 'done'");
  ASSERT_EQ(PQresultStatus(result), PGRES_TUPLES_OK) << PQerrorMessage(conn);
  EXPECT_STREQ(PQgetvalue(result, 0, 1), "done");
  PQclear(result);
  PQfinish(conn);
}

TEST(ShutdownTest, SigtermEndsSessionsWithAnErrorAndExitsZero) {
  PostgresServer postgres;
  GatewayProcess gateway(postgres);
  const auto token = gateway.issue_token("alice");
  // A raw client, idle after its handshake, that only reads: what libpq would do with an
  // unsolicited error in idle state is libpq's business; the bytes are what matter.
  RawConnection raw(gateway.port());
  std::string startup = be32(196608) + std::string("user\0alice\0database\0app-db\0\0", 28);
  raw.send(be32(static_cast<uint32_t>(startup.size() + 4)) + startup);
  raw.read_until('R');
  const std::string password = token + '\0';
  raw.send("p" + be32(static_cast<uint32_t>(password.size() + 4)) + password);
  raw.read_until('Z');
  gateway.process().send_signal(SIGTERM);
  const auto after = raw.read_all();
  const auto status = gateway.process().wait(15s);
  EXPECT_NE(after.find("57P01"), std::string::npos) << after << gateway.process().stderr_text();
  EXPECT_NE(after.find("the gateway is shutting down"), std::string::npos) << after;
  EXPECT_TRUE(status.success()) << status.describe();
  EXPECT_NE(gateway.process().stderr_text().find("event=stopped"), std::string::npos);
}

}  // namespace
}  // namespace portcullis::testing
