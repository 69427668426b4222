// Limits and lifecycle: oversized startup packets and messages, silent clients, idle
// sessions, and shutdown on SIGTERM, each with a clear error; and what one host can make the
// gateway hold for everyone: connections still logging in, API connections without a request,
// and memory for large messages.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "gateway_fixture.h"
#include "support/postgres_server.h"

namespace portcullis::testing {
namespace {

using namespace std::chrono_literals;

// A raw TCP connection to the gateway, for what no client library would send.
class RawConnection {
 public:
  // `source`: the loopback address to connect from (the gateway counts connections per source).
  explicit RawConnection(uint16_t port, const char* source = nullptr) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (source != nullptr) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      inet_pton(AF_INET, source, &local.sin_addr);
      EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
    }
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

  int fd() const { return fd_; }

  // Whether the gateway closed the connection within `wait` (what it sent first, if anything,
  // is appended to `sent`). False when it is still open and silent.
  bool closed_by_peer(std::chrono::milliseconds wait, std::string* sent = nullptr) {
    pollfd fd{fd_, POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(wait.count())) != 1) return false;
    const std::string bytes = read_all();
    if (sent != nullptr) *sent += bytes;
    return true;
  }

  // Logs in as `user` with `token` and reads up to the first ReadyForQuery.
  void log_in(const std::string& user, const std::string& token) {
    const std::string startup =
        be32(196608) + "user" + '\0' + user + '\0' + "database" + '\0' + "app-db" + '\0' + '\0';
    send(be32(static_cast<uint32_t>(startup.size() + 4)) + startup);
    read_until('R');
    const std::string password = token + '\0';
    send("p" + be32(static_cast<uint32_t>(password.size() + 4)) + password);
    read_until('Z');
  }

 private:
  static std::string be32(uint32_t value) {
    const uint32_t big = htonl(value);
    return std::string(reinterpret_cast<const char*>(&big), 4);
  }
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

// Connections that never finish their handshake, from one host and in all, cannot keep other
// clients from logging in; a finished login gives its place back at once. A gateway per test:
// the connections one test leaves are not counted in the next.
class UnauthenticatedCapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    postgres_ = new PostgresServer();
    GatewayOptions options;
    // A long handshake timeout: the idle connections stay for the whole test unless the caps
    // close them.
    options.limits_section =
        "limits:\n  handshake_timeout: 60s\n  max_unauthenticated: 6\n"
        "  max_unauthenticated_per_address: 4\n";
    gateway_ = new GatewayProcess(*postgres_, options);
    token_ = new std::string(gateway_->issue_token("alice"));
  }
  void TearDown() override {
    delete token_;
    delete gateway_;
    delete postgres_;
  }
  // Opens `count` idle connections from `source`, waits until the gateway has closed
  // `refused` of them (each with a 53300 error) and returns the others, still open.
  static std::vector<std::unique_ptr<RawConnection>> open_idle(const char* source, int count,
                                                               int refused) {
    std::vector<std::unique_ptr<RawConnection>> open;
    for (int i = 0; i < count; ++i)
      open.push_back(std::make_unique<RawConnection>(gateway_->port(), source));
    wait_refused(open, refused);
    return open;
  }
  // Waits until the gateway has closed `refused` of `open` (each with a 53300 error) and
  // removes those.
  static void wait_refused(std::vector<std::unique_ptr<RawConnection>>& open, int refused) {
    int closed = 0;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (closed < refused && std::chrono::steady_clock::now() < deadline) {
      std::vector<pollfd> fds;
      for (const auto& raw : open) fds.push_back({raw->fd(), POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 1000) <= 0) continue;
      for (std::size_t i = fds.size(); i-- > 0;) {
        if (fds[i].revents == 0) continue;
        std::string sent;
        EXPECT_TRUE(open[i]->closed_by_peer(5000ms, &sent));
        EXPECT_NE(sent.find("53300"), std::string::npos) << sent;
        open.erase(open.begin() + static_cast<std::ptrdiff_t>(i));
        ++closed;
      }
    }
    EXPECT_EQ(closed, refused);
  }
  // Whether every connection of `connections` is still open.
  static bool all_open(const std::vector<std::unique_ptr<RawConnection>>& connections) {
    for (const auto& raw : connections)
      if (raw->closed_by_peer(0ms)) return false;
    return true;
  }
  // A session of alice, logged in through the gateway; retried while the gateway refuses it
  // (for want of a place: one given back is seen a moment later). Null after 20 s.
  static PGconn* log_in() {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (;;) {
      PGconn* conn = PQconnectdb(gateway_->conninfo("alice", *token_).c_str());
      if (PQstatus(conn) == CONNECTION_OK) return conn;
      const std::string error = PQerrorMessage(conn);
      PQfinish(conn);
      // libpq may not show the gateway's 53300 text: it arrives before TLS negotiation.
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << error;
        return nullptr;
      }
      std::this_thread::sleep_for(100ms);
    }
  }
  static PostgresServer* postgres_;
  static GatewayProcess* gateway_;
  static std::string* token_;
};

PostgresServer* UnauthenticatedCapTest::postgres_ = nullptr;
GatewayProcess* UnauthenticatedCapTest::gateway_ = nullptr;
std::string* UnauthenticatedCapTest::token_ = nullptr;

TEST_F(UnauthenticatedCapTest, IdleConnectionsFromOneHostDoNotStallOtherLogins) {
  // 127.0.0.2 is another source on the loopback interface; libpq connects from 127.0.0.1.
  auto idle = open_idle("127.0.0.2", 12, /*refused=*/8);  // beyond the 4 per address
  EXPECT_EQ(idle.size(), 4u);
  EXPECT_TRUE(gateway_->process().wait_for_output(
      "reason=max_unauthenticated scope=per_address client=127.0.0.2", 10s));
  // More logins than the total cap has places left: each gives its place back once done,
  // while its session (and the idle connections) stay open.
  std::vector<PGconn*> sessions;
  for (int i = 0; i < 4; ++i) {
    PGconn* conn = log_in();
    ASSERT_NE(conn, nullptr);
    sessions.push_back(conn);
  }
  PGresult* result = PQexec(sessions.back(), "select 1");
  EXPECT_EQ(PQresultStatus(result), PGRES_TUPLES_OK) << PQerrorMessage(sessions.back());
  PQclear(result);
  for (PGconn* conn : sessions) PQfinish(conn);
  EXPECT_TRUE(all_open(idle));
}

TEST_F(UnauthenticatedCapTest, TheTotalCapClosesExcessConnectionsFromAnyHost) {
  // 4 from each of two sources: within the per-address cap, 2 over the total of 6. (Which
  // ones are refused depends on the order the I/O threads accept them in.)
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (const char* source : {"127.0.0.3", "127.0.0.4"})
    for (int i = 0; i < 4; ++i)
      idle.push_back(std::make_unique<RawConnection>(gateway_->port(), source));
  wait_refused(idle, 2);
  EXPECT_EQ(idle.size(), 6u);
  EXPECT_TRUE(gateway_->process().wait_for_output("reason=max_unauthenticated scope=total", 10s));
  // Once some go away, logins find places again.
  idle.resize(4);
  PGconn* conn = log_in();
  EXPECT_NE(conn, nullptr);
  PQfinish(conn);
}

// The buffers of large messages are bounded for all sessions together: while one session
// holds an unfinished message, another's is refused with a clear error, and ordinary traffic
// goes on.
class BufferBudgetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    postgres_ = new PostgresServer();
    GatewayOptions options;
    options.limits_section =
        "limits:\n  handshake_timeout: 60s\n  max_message_size: 1MiB\n"
        "  max_buffered_total: 1536KiB\n";
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

PostgresServer* BufferBudgetTest::postgres_ = nullptr;
GatewayProcess* BufferBudgetTest::gateway_ = nullptr;
std::string* BufferBudgetTest::token_ = nullptr;

TEST_F(BufferBudgetTest, ASecondLargeUnfinishedMessageIsRefusedWhileTheFirstIsHeld) {
  // A Query of about 900 KB: within max_message_size, more than half the budget.
  const std::string text = "select length('" + std::string(900000, 'x') + "')";
  const std::string query = "Q" + be32(static_cast<uint32_t>(text.size() + 5)) + text + '\0';
  const std::size_t half = query.size() / 2;

  RawConnection one(gateway_->port());
  RawConnection two(gateway_->port());
  one.log_in("alice", *token_);
  two.log_in("alice", *token_);
  // Half of each: the gateway holds a buffer for the whole message while it waits for the
  // rest. The budget has room for one; which one is the order the gateway reads them in.
  one.send(query.substr(0, half));
  two.send(query.substr(0, half));
  pollfd fds[2] = {{one.fd(), POLLIN, 0}, {two.fd(), POLLIN, 0}};
  ASSERT_EQ(::poll(fds, 2, 20000), 1) << "not exactly one session was ended";
  RawConnection& refused_session = fds[0].revents != 0 ? one : two;
  RawConnection& first = fds[0].revents != 0 ? two : one;
  std::string refused;
  ASSERT_TRUE(refused_session.closed_by_peer(20000ms, &refused));
  EXPECT_NE(refused.find("53200"), std::string::npos) << refused;
  EXPECT_NE(refused.find("the gateway's buffer budget is exhausted"), std::string::npos) << refused;
  EXPECT_TRUE(gateway_->process().wait_for_output("event=buffer_budget_exhausted", 10s));
  EXPECT_FALSE(first.closed_by_peer(0ms)) << "the session holding its buffer was ended too";

  // Ordinary traffic is not affected.
  const auto ordinary = gateway_->psql("alice", *token_, {"-c", "select 41 + 1"});
  EXPECT_EQ(ordinary.stdout_text, "42\n") << ordinary.describe();

  // The first session finishes its message and is answered (its statement is larger than the
  // gateway classifies, so the answer is an error: the session goes on either way).
  first.send(query.substr(half));
  first.read_until('Z');
  first.send(std::string("Q") + be32(13) + "select 1" + '\0');
  first.read_until('Z');

  // Its buffer went back to the budget: a third session can send a large message.
  PGconn* third = PQconnectdb(gateway_->conninfo("alice", *token_).c_str());
  ASSERT_EQ(PQstatus(third), CONNECTION_OK) << PQerrorMessage(third);
  PGresult* result = PQexec(third, text.c_str());
  // Refused for its size as a statement, not for want of buffer.
  EXPECT_NE(std::string(PQerrorMessage(third)).find("max_statement_size"), std::string::npos)
      << PQerrorMessage(third);
  EXPECT_EQ(PQstatus(third), CONNECTION_OK);
  PQclear(result);
  PQfinish(third);
}

// The API answers a health check at once while slow clients hold connections open.
TEST(HttpSlowClientsTest, HealthAnswersWhileManySlowClientsAreConnected) {
  PostgresServer postgres;
  GatewayOptions options;
  options.http_listener = true;
  GatewayProcess gateway(postgres, options);
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 64; ++i) {
    auto raw = std::make_unique<RawConnection>(gateway.http_port(), "127.0.0.2");
    raw->send("GET /api/v1/health HTTP/1.1\r\n");  // and never the rest
    slow.push_back(std::move(raw));
  }
  EXPECT_TRUE(gateway.process().wait_for_output(
      "event=connection_refused protocol=http reason=max_pending_per_address client=127.0.0.2",
      10s));

  RawConnection health(gateway.http_port());
  health.send("GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  const std::string answer = health.read_all();
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;

  // The slow clients that were let in are closed once the first-request deadline passes.
  std::size_t closed = 0;
  for (auto& raw : slow)
    if (raw->closed_by_peer(20000ms)) ++closed;
  EXPECT_EQ(closed, slow.size());
}

}  // namespace
}  // namespace portcullis::testing
