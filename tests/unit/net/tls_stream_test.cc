// Stream over real TLS on loopback: both sides of the handshake, full-duplex bulk transfer, the
// relay's idle read path (wait for readability holding no buffer, then read_now), peer closes,
// certificate checks and peers that do not speak TLS. The TLS code behind Stream is meant to be
// replaceable without any of these tests changing. Every scenario runs under a deadline, so that
// a hang fails the test instead of stalling the run.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "net/stream.h"
#include "net/tls.h"
#include "support/test_certificates.h"

namespace portcullis::net {
namespace {

namespace ssl = asio::ssl;
using namespace std::chrono_literals;
using portcullis::testing::TestCertificates;

// The relay's read buffer size (kRelayBufferSize in session.cc).
constexpr std::size_t kReadBufferSize = 16 * 1024;

// Runs coroutines on one io_context until they all finish or the deadline passes, so that a
// hang becomes a failed assertion.
class Loop {
 public:
  asio::io_context& io() { return io_; }

  void spawn(asio::awaitable<void> task) {
    ++running_;
    asio::co_spawn(io_, std::move(task), [this](std::exception_ptr failure) {
      --running_;
      if (failure && !failure_) failure_ = failure;
    });
  }

  // True when every spawned coroutine finished in time. Rethrows what one of them threw.
  [[nodiscard]] bool run(std::chrono::seconds deadline = 20s) {
    io_.restart();
    io_.run_for(deadline);
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
    return running_ == 0;
  }

 private:
  asio::io_context io_;
  int running_ = 0;
  std::exception_ptr failure_;
};

// Two ends of a loopback TCP connection, not upgraded yet.
struct Connection {
  Stream server;
  Stream client;
};

Connection connect_loopback(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());  // completes from the backlog, before accept
  tcp::socket server = acceptor.accept();
  return Connection{Stream(std::move(server)), Stream(std::move(client))};
}

// What a coroutine did: bytes moved, and the error that stopped it, if any.
struct Outcome {
  error_code ec;
  std::size_t bytes = 0;
};

// Bytes without a short period, so that a lost, repeated or reordered chunk shows.
std::string patterned_bytes(std::size_t size) {
  std::string bytes(size, '\0');
  std::uint32_t state = 2463534242u;  // xorshift32
  for (char& byte : bytes) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    byte = static_cast<char>(state >> 24);
  }
  return bytes;
}

// Byte equality that tells where the strings part instead of printing megabytes.
::testing::AssertionResult SameBytes(std::string_view expected, std::string_view actual) {
  if (expected == actual) return ::testing::AssertionSuccess();
  const auto mismatch =
      std::mismatch(expected.begin(), expected.end(), actual.begin(), actual.end());
  return ::testing::AssertionFailure()
         << "expected " << expected.size() << " bytes, got " << actual.size()
         << "; first difference at offset " << (mismatch.first - expected.begin());
}

// `bytes` cut, in order, into buffers of mixed sizes, single bytes among them: gather writes
// with many small pieces next to large ones.
std::vector<asio::const_buffer> mixed_buffers(std::string_view bytes) {
  static constexpr std::size_t kSizes[] = {1, 3, 700, 1, 16 * 1024 + 5, 2, 64 * 1024, 9, 100'000};
  std::vector<asio::const_buffer> buffers;
  std::size_t offset = 0;
  for (std::size_t i = 0; offset < bytes.size(); ++i) {
    const std::size_t size = std::min(kSizes[i % std::size(kSizes)], bytes.size() - offset);
    buffers.emplace_back(bytes.data() + offset, size);
    offset += size;
  }
  return buffers;
}

enum class ReadStyle {
  read_some,  // always read_some
  relay,      // the relay's way; see Reader
};

// Reads from a Stream. In relay style it follows the relay's loop (session.cc,
// pump_client_to_backend): after a read that did not fill the buffer, and when the stream
// allows it, wait for readability holding no buffer, then read_now, and wait again on
// would_block; otherwise read_some.
class Reader {
 public:
  Reader(Stream& stream, ReadStyle style) : stream_(stream), style_(style) {}

  asio::awaitable<std::tuple<error_code, std::size_t>> read(asio::mutable_buffer space) {
    while (style_ == ReadStyle::relay && drained_ && stream_.can_wait_unbuffered()) {
      auto [wait_ec] = co_await stream_.socket().async_wait(tcp::socket::wait_read, use_nothrow);
      if (wait_ec) co_return std::tuple(wait_ec, std::size_t{0});
      error_code ec;
      const std::size_t n = stream_.read_now(space, ec);
      // Readable, yet nothing to read: a TLS record without application data, for one.
      if (ec == asio::error::would_block) continue;
      drained_ = n < space.size();
      co_return std::tuple(ec, n);
    }
    auto [ec, n] = co_await stream_.read_some(space);
    drained_ = n < space.size();
    co_return std::tuple(ec, n);
  }

 private:
  Stream& stream_;
  ReadStyle style_;
  bool drained_ = true;  // as the relay starts: nothing read yet
};

// Appends to `into` until it holds `size` bytes or a read fails.
asio::awaitable<void> read_exactly(Reader& reader, std::size_t size, std::string& into,
                                   Outcome& outcome, std::size_t buffer_size = kReadBufferSize) {
  std::vector<char> buffer(buffer_size);
  while (into.size() < size) {
    auto [ec, n] = co_await reader.read(asio::buffer(buffer));
    into.append(buffer.data(), n);
    outcome.bytes += n;
    if (ec) {
      outcome.ec = ec;
      co_return;
    }
  }
}

// Appends to `into` until a read fails: what a peer sent before it went away.
asio::awaitable<void> read_until_error(Reader& reader, std::string& into, Outcome& outcome) {
  std::vector<char> buffer(kReadBufferSize);
  for (;;) {
    auto [ec, n] = co_await reader.read(asio::buffer(buffer));
    into.append(buffer.data(), n);
    outcome.bytes += n;
    if (ec) {
      outcome.ec = ec;
      co_return;
    }
  }
}

// Writes `bytes` with write() calls of several buffers each (see mixed_buffers).
asio::awaitable<void> write_in_mixed_buffers(Stream& stream, std::string_view bytes,
                                             Outcome& outcome) {
  constexpr std::size_t kBuffersPerWrite = 7;
  const std::vector<asio::const_buffer> buffers = mixed_buffers(bytes);
  for (std::size_t i = 0; i < buffers.size(); i += kBuffersPerWrite) {
    const std::vector<asio::const_buffer> batch(
        buffers.begin() + i, buffers.begin() + std::min(i + kBuffersPerWrite, buffers.size()));
    auto [ec, n] = co_await stream.write(batch);
    outcome.bytes += n;
    if (ec) {
      outcome.ec = ec;
      co_return;
    }
  }
}

// The server of an echo: writes back each read before the next, until `size` bytes went
// through. It stops reading while its write waits, so the client must read as it writes.
asio::awaitable<void> echo(Stream& stream, Reader& reader, std::size_t size, Outcome& outcome) {
  std::vector<char> buffer(kReadBufferSize);
  while (outcome.bytes < size) {
    auto [read_ec, n] = co_await reader.read(asio::buffer(buffer));
    if (n > 0) {
      auto [write_ec, written] = co_await stream.write(asio::buffer(buffer.data(), n));
      outcome.bytes += written;
      if (write_ec) {
        outcome.ec = write_ec;
        co_return;
      }
    }
    if (read_ec) {
      outcome.ec = read_ec;
      co_return;
    }
  }
}

// Writes each message with its own write(), after `pause` (none if zero): with a pause the
// reader finds the connection idle between messages.
asio::awaitable<void> write_each(Stream& stream, std::vector<std::string> messages,
                                 std::chrono::milliseconds pause, Outcome& outcome) {
  asio::steady_timer timer(stream.get_executor());
  for (const std::string& message : messages) {
    if (pause.count() > 0) {
      timer.expires_after(pause);
      co_await timer.async_wait(use_nothrow);
    }
    auto [ec, n] = co_await stream.write(asio::buffer(message));
    outcome.bytes += n;
    if (ec) {
      outcome.ec = ec;
      co_return;
    }
  }
}

asio::awaitable<void> write_all(Stream& stream, std::string bytes, Outcome& outcome) {
  auto [ec, n] = co_await stream.write(asio::buffer(bytes));
  outcome.ec = ec;
  outcome.bytes = n;
}

// Writes, then closes at once, as the gateway does when a session ends.
asio::awaitable<void> write_then_close(Stream& stream, std::string bytes, Outcome& outcome) {
  co_await write_all(stream, std::move(bytes), outcome);
  stream.close();
}

// Writes until a write fails (the peer is gone), giving up after `limit` bytes.
asio::awaitable<void> write_until_error(Stream& stream, std::size_t limit, Outcome& outcome) {
  const std::string chunk = patterned_bytes(64 * 1024);
  while (outcome.bytes < limit) {
    auto [ec, n] = co_await stream.write(asio::buffer(chunk));
    outcome.bytes += n;
    if (ec) {
      outcome.ec = ec;
      co_return;
    }
  }
}

asio::awaitable<void> close_after(Stream& stream, std::chrono::milliseconds delay) {
  asio::steady_timer timer(stream.get_executor(), delay);
  co_await timer.async_wait(use_nothrow);
  stream.close();
}

// Cancels the stream's pending waits (what the relay's `||` does to a losing direction).
asio::awaitable<void> cancel_after(Stream& stream, std::chrono::milliseconds delay) {
  asio::steady_timer timer(stream.get_executor(), delay);
  co_await timer.async_wait(use_nothrow);
  stream.socket().cancel();
}

asio::awaitable<void> pause(Stream& stream, std::chrono::milliseconds delay) {
  asio::steady_timer timer(stream.get_executor(), delay);
  co_await timer.async_wait(use_nothrow);
}

// A side whose handshake failed closes its connection, as the gateway drops it, so that the
// other side's handshake ends too.
asio::awaitable<void> accept_side(Stream& stream, ssl::context& context, Result<void>& result) {
  result = co_await stream.accept_tls(context);
  if (!result) stream.close();
}

asio::awaitable<void> connect_side(Stream& stream, ssl::context& context, std::string server_name,
                                   bool verify_host, Result<void>& result) {
  result = co_await stream.connect_tls(context, server_name, verify_host);
  if (!result) stream.close();
}

// Counts SIGPIPE instead of dying of it while it lives. A write to a vanished peer must fail
// with an error and raise no SIGPIPE (Stream sends with MSG_NOSIGNAL): the gateway's serve command
// ignores the signal, but other programs using Stream (tests among them) do not, and a test
// binary killed by it reports nothing.
class SigpipeCounter {
 public:
  SigpipeCounter() {
    count_ = 0;
    struct sigaction action {};
    action.sa_handler = [](int) { count_.fetch_add(1); };
    sigemptyset(&action.sa_mask);
    sigaction(SIGPIPE, &action, &previous_);
  }
  ~SigpipeCounter() { sigaction(SIGPIPE, &previous_, nullptr); }
  SigpipeCounter(const SigpipeCounter&) = delete;
  SigpipeCounter& operator=(const SigpipeCounter&) = delete;

  int count() const { return count_.load(); }

 private:
  static inline std::atomic<int> count_{0};
  struct sigaction previous_ {};
};

// Records the SNI name a client sent.
int remember_server_name(SSL* ssl, int*, void* seen) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  *static_cast<std::string*>(seen) = name != nullptr ? name : "(none)";
  return SSL_TLSEXT_ERR_OK;
}

class TlsStreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certificates_ = std::make_unique<TestCertificates>(); }
  static void TearDownTestSuite() { certificates_.reset(); }

  void TearDown() override {
    EXPECT_EQ(sigpipes_.count(), 0) << "a write on a closed connection raised SIGPIPE";
  }

  static const TestCertificates& certificates() { return *certificates_; }

  // The suite's server certificate; the SNI name a client sends lands in server_name_seen_.
  std::shared_ptr<ssl::context> make_server_context() {
    auto context = make_server_tls_context(certificates().cert_file(), certificates().key_file());
    if (!context) throw std::runtime_error(context.error().message);
    SSL_CTX_set_tlsext_servername_callback((*context)->native_handle(), remember_server_name);
    SSL_CTX_set_tlsext_servername_arg((*context)->native_handle(), &server_name_seen_);
    return *context;
  }

  // `max_version`: TLS1_2_VERSION to keep the client at TLS 1.2; 0 for the newest.
  static std::shared_ptr<ssl::context> make_client_context(
      bool verify, const std::filesystem::path& ca_file = {}, int max_version = 0) {
    auto context = make_client_tls_context(verify, ca_file);
    if (!context) throw std::runtime_error(context.error().message);
    if (max_version != 0) SSL_CTX_set_max_proto_version((*context)->native_handle(), max_version);
    return *context;
  }

  struct Handshake {
    bool finished = false;
    Result<void> server;
    Result<void> client;
  };

  // Both sides of the handshake at once.
  Handshake handshake(ssl::context& server_context, ssl::context& client_context,
                      const std::string& server_name, bool verify_host) {
    Handshake handshake;
    loop_.spawn(accept_side(server_, server_context, handshake.server));
    loop_.spawn(connect_side(client_, client_context, server_name, verify_host, handshake.client));
    handshake.finished = loop_.run();
    return handshake;
  }

  // Upgrades the connection with an unverified client; use with ASSERT_NO_FATAL_FAILURE.
  void upgrade(int max_version = 0) {
    auto client_context = make_client_context(false, {}, max_version);
    const Handshake result = handshake(*server_context_, *client_context, "localhost", false);
    ASSERT_TRUE(result.finished) << "handshake did not finish in time";
    ASSERT_TRUE(result.server.ok()) << result.server.error().message;
    ASSERT_TRUE(result.client.ok()) << result.client.error().message;
  }

  // 8 MiB from the client, echoed by the server while it reads; the client reads the echo while
  // it writes, on the same Stream (full duplex, as the relay uses a client connection).
  void check_full_duplex_transfer(ReadStyle style) {
    const std::string sent = patterned_bytes(8 * 1024 * 1024);
    std::string received;
    Reader server_reader(server_, style);
    Reader client_reader(client_, style);
    Outcome echoed, written, read;
    loop_.spawn(echo(server_, server_reader, sent.size(), echoed));
    loop_.spawn(write_in_mixed_buffers(client_, sent, written));
    loop_.spawn(read_exactly(client_reader, sent.size(), received, read));
    ASSERT_TRUE(loop_.run()) << "transfer did not finish in time: written " << written.bytes
                             << ", echoed " << echoed.bytes << ", read back " << read.bytes;
    EXPECT_FALSE(written.ec) << written.ec.message();
    EXPECT_FALSE(echoed.ec) << echoed.ec.message();
    EXPECT_FALSE(read.ec) << read.ec.message();
    EXPECT_EQ(written.bytes, sent.size());
    EXPECT_EQ(echoed.bytes, sent.size());
    EXPECT_TRUE(SameBytes(sent, received));
  }

  // Three small messages and one of 100 KiB, with pauses, from `writer` to `reader_stream`
  // read in relay style.
  void check_paused_messages(Stream& writer, Stream& reader_stream) {
    const std::vector<std::string> messages = {"first", "second message", "3",
                                               patterned_bytes(100 * 1024)};
    std::string expected;
    for (const auto& message : messages) expected += message;
    std::string received;
    Reader reader(reader_stream, ReadStyle::relay);
    Outcome written, read;
    loop_.spawn(write_each(writer, messages, 50ms, written));
    loop_.spawn(read_exactly(reader, expected.size(), received, read));
    ASSERT_TRUE(loop_.run()) << "messages did not arrive in time: written " << written.bytes
                             << ", read " << read.bytes;
    EXPECT_FALSE(written.ec) << written.ec.message();
    EXPECT_FALSE(read.ec) << read.ec.message();
    EXPECT_TRUE(SameBytes(expected, received));
  }

  // `closer` writes a few bytes and closes; the other side reads them, then an error.
  void check_close_is_seen(Stream& closer, Stream& reader_stream, ReadStyle style) {
    const std::string goodbye = "last words before close";
    std::string received;
    Reader reader(reader_stream, style);
    Outcome written, read;
    loop_.spawn(write_then_close(closer, goodbye, written));
    loop_.spawn(read_until_error(reader, received, read));
    ASSERT_TRUE(loop_.run()) << "the reader did not see the close in time; read " << read.bytes;
    EXPECT_FALSE(written.ec) << written.ec.message();
    EXPECT_TRUE(SameBytes(goodbye, received));
    EXPECT_TRUE(read.ec) << "a read after the peer's close should fail";
  }

  // A read waiting on the client stream (nothing was sent) ends with an error when that stream
  // is closed.
  void check_close_ends_pending_read(ReadStyle style) {
    std::string received;
    Reader reader(client_, style);
    Outcome read;
    loop_.spawn(read_until_error(reader, received, read));
    loop_.spawn(close_after(client_, 100ms));
    ASSERT_TRUE(loop_.run()) << "the pending read outlived close()";
    EXPECT_TRUE(read.ec);
    EXPECT_EQ(received, "");
  }

  static inline std::unique_ptr<TestCertificates> certificates_;

  SigpipeCounter sigpipes_;  // first: counts from the start, restored last
  Loop loop_;
  std::string server_name_seen_;
  std::shared_ptr<ssl::context> server_context_ = make_server_context();
  Connection connection_ = connect_loopback(loop_.io());
  Stream& server_ = connection_.server;
  Stream& client_ = connection_.client;
};

bool starts_with_handshake_failure(const Result<void>& result) {
  return !result.ok() && result.error().message.starts_with("TLS handshake failed");
}

std::string message_of(const Result<void>& result) {
  return result.ok() ? "(succeeded)" : result.error().message;
}

// --- Handshake -------------------------------------------------------------------------------

TEST_F(TlsStreamTest, HandshakeUpgradesBothEndsToTls13) {
  EXPECT_FALSE(server_.is_tls());
  EXPECT_FALSE(client_.is_tls());
  EXPECT_EQ(server_.tls_version(), "none");
  EXPECT_EQ(client_.tls_version(), "none");

  ASSERT_NO_FATAL_FAILURE(upgrade());

  EXPECT_TRUE(server_.is_tls());
  EXPECT_TRUE(client_.is_tls());
  EXPECT_EQ(server_.tls_version(), "TLSv1.3");
  EXPECT_EQ(client_.tls_version(), "TLSv1.3");
  EXPECT_EQ(server_name_seen_, "localhost");  // SNI, sent even without verification
}

TEST_F(TlsStreamTest, HandshakeWithATls12OnlyClient) {
  ASSERT_NO_FATAL_FAILURE(upgrade(TLS1_2_VERSION));
  EXPECT_EQ(server_.tls_version(), "TLSv1.2");
  EXPECT_EQ(client_.tls_version(), "TLSv1.2");
}

// libpq does not resume TLS sessions: the server keeps none for resumption (OpenSSL's default
// cache kept the session of a TLS 1.2 client that takes no tickets after its connection ended)
// and makes no tickets.
TEST_F(TlsStreamTest, ServerKeepsNoSessionForResumption) {
  auto client_context = make_client_context(false, {}, TLS1_2_VERSION);
  SSL_CTX_set_options(client_context->native_handle(), SSL_OP_NO_TICKET);
  const Handshake result = handshake(*server_context_, *client_context, "localhost", false);
  ASSERT_TRUE(result.finished) << "handshake did not finish in time";
  ASSERT_TRUE(result.server.ok()) << result.server.error().message;
  ASSERT_TRUE(result.client.ok()) << result.client.error().message;
  EXPECT_EQ(server_.tls_version(), "TLSv1.2");
  SSL_CTX* server = server_context_->native_handle();
  EXPECT_EQ(SSL_CTX_sess_number(server), 0);
  EXPECT_EQ(SSL_CTX_get_num_tickets(server), 0u);
}

// PostgreSQL's SSLRequest: plain bytes both ways (the server reading in relay style, so its
// socket is already non-blocking), then the upgrade on the same connection.
TEST_F(TlsStreamTest, PlainExchangeThenUpgrade) {
  std::string request;
  std::string answer;
  Reader server_reader(server_, ReadStyle::relay);
  Reader client_reader(client_, ReadStyle::read_some);
  Outcome request_written, request_read, answer_written, answer_read;
  loop_.spawn(write_all(client_, "SSLREQ..", request_written));
  loop_.spawn(read_exactly(server_reader, 8, request, request_read));
  ASSERT_TRUE(loop_.run());
  ASSERT_EQ(request, "SSLREQ..");
  loop_.spawn(write_all(server_, "S", answer_written));
  loop_.spawn(read_exactly(client_reader, 1, answer, answer_read));
  ASSERT_TRUE(loop_.run());
  ASSERT_EQ(answer, "S");

  ASSERT_NO_FATAL_FAILURE(upgrade());

  std::string greeting;
  Outcome greeting_written, greeting_read;
  loop_.spawn(write_all(client_, "hello over TLS", greeting_written));
  loop_.spawn(read_exactly(server_reader, 14, greeting, greeting_read));
  ASSERT_TRUE(loop_.run());
  EXPECT_EQ(greeting, "hello over TLS");
}

// --- Bulk transfer ---------------------------------------------------------------------------

TEST_F(TlsStreamTest, LargeTransferBothDirectionsAtOnce) {
  ASSERT_NO_FATAL_FAILURE(upgrade());
  check_full_duplex_transfer(ReadStyle::read_some);
}

TEST_F(TlsStreamTest, LargeTransferBothDirectionsAtOnceWithRelayStyleReads) {
  ASSERT_NO_FATAL_FAILURE(upgrade());
  check_full_duplex_transfer(ReadStyle::relay);
}

TEST_F(TlsStreamTest, LargeTransferBothDirectionsAtOnceOverTls12) {
  ASSERT_NO_FATAL_FAILURE(upgrade(TLS1_2_VERSION));
  check_full_duplex_transfer(ReadStyle::relay);
}

// --- The idle read path ----------------------------------------------------------------------

TEST_F(TlsStreamTest, RelayStyleReadsGetPausedMessagesFromTheClient) {
  ASSERT_NO_FATAL_FAILURE(upgrade());
  check_paused_messages(client_, server_);
}

// The client also receives the server's TLS 1.3 session tickets: readability with no data.
TEST_F(TlsStreamTest, RelayStyleReadsGetPausedMessagesFromTheServer) {
  ASSERT_NO_FATAL_FAILURE(upgrade());
  check_paused_messages(server_, client_);
}

TEST_F(TlsStreamTest, RelayStyleReadsGetPausedMessagesOverTls12) {
  ASSERT_NO_FATAL_FAILURE(upgrade(TLS1_2_VERSION));
  check_paused_messages(client_, server_);
}

// Several records already in the socket when reading starts, read with a buffer smaller than
// some: whatever a read leaves inside the TLS layer must either keep can_wait_unbuffered()
// false or be announced by the wait, else the reader waits forever for bytes it already has.
TEST_F(TlsStreamTest, RelayStyleReadsGetRecordsThatArrivedTogether) {
  ASSERT_NO_FATAL_FAILURE(upgrade());
  std::vector<std::string> messages(5, std::string(100, 'm'));
  messages.push_back(patterned_bytes(40 * 1024));
  std::string expected;
  for (const auto& message : messages) expected += message;
  Outcome written;
  loop_.spawn(write_each(client_, messages, 0ms, written));
  loop_.spawn(pause(server_, 200ms));  // let every record land in the server's socket
  ASSERT_TRUE(loop_.run());
  ASSERT_FALSE(written.ec) << written.ec.message();

  std::string received;
  Reader reader(server_, ReadStyle::relay);
  Outcome read;
  loop_.spawn(read_exactly(reader, expected.size(), received, read, 150));
  ASSERT_TRUE(loop_.run()) << "a read waited for bytes already received; got " << received.size()
                           << " of " << expected.size();
  EXPECT_FALSE(read.ec) << read.ec.message();
  EXPECT_TRUE(SameBytes(expected, received));
}

// An idle TLS stream, with nothing held inside OpenSSL, waits on the socket without a buffer
// as a plain one does: what keeps an idle TLS connection small.
TEST_F(TlsStreamTest, IdleTlsStreamCanWaitWithoutABuffer) {
  ASSERT_NO_FATAL_FAILURE(upgrade());
  std::string ping, pong;
  Reader server_reader(server_, ReadStyle::read_some);
  Reader client_reader(client_, ReadStyle::read_some);
  Outcome ping_written, ping_read, pong_written, pong_read;
  loop_.spawn(write_all(client_, "ping", ping_written));
  loop_.spawn(read_exactly(server_reader, 4, ping, ping_read));
  ASSERT_TRUE(loop_.run());
  ASSERT_EQ(ping, "ping");
  EXPECT_TRUE(server_.can_wait_unbuffered()) << "the server holds nothing after reading all";

  loop_.spawn(write_all(server_, "pong", pong_written));
  loop_.spawn(read_exactly(client_reader, 4, pong, pong_read));
  ASSERT_TRUE(loop_.run());
  ASSERT_EQ(pong, "pong");
  EXPECT_TRUE(client_.can_wait_unbuffered()) << "the client holds nothing after reading all";
}

// Decrypted bytes that the reader has not taken yet are invisible to a wait on the socket.
TEST_F(TlsStreamTest, StreamHoldingDecryptedBytesCannotWaitUnbuffered) {
  ASSERT_NO_FATAL_FAILURE(upgrade());
  const std::string message = patterned_bytes(100);  // one record
  std::string first, rest;
  Reader reader(server_, ReadStyle::read_some);
  Outcome written, first_read, rest_read;
  loop_.spawn(write_all(client_, message, written));
  loop_.spawn(read_exactly(reader, 1, first, first_read, 1));
  ASSERT_TRUE(loop_.run());
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(server_.can_wait_unbuffered()) << "99 decrypted bytes wait inside the TLS layer";

  // The rest comes without anything new on the socket.
  loop_.spawn(read_exactly(reader, 99, rest, rest_read));
  ASSERT_TRUE(loop_.run()) << "the buffered bytes were not returned";
  EXPECT_FALSE(rest_read.ec) << rest_read.ec.message();
  EXPECT_TRUE(SameBytes(message, first + rest));
}

// --- Closes ----------------------------------------------------------------------------------

TEST_F(TlsStreamTest, ServerCloseEndsClientReadsAfterTheBytes) {
  ASSERT_NO_FATAL_FAILURE(upgrade());
  check_close_is_seen(server_, client_, ReadStyle::read_some);
}

TEST_F(TlsStreamTest, ClientCloseEndsServerReadsAfterTheBytes) {
  ASSERT_NO_FATAL_FAILURE(upgrade());
  check_close_is_seen(client_, server_, ReadStyle::read_some);
}

// On the idle path a closed peer leaves the socket readable for good: the read must fail, not
// report would_block and send the reader round forever.
TEST_F(TlsStreamTest, PeerCloseEndsRelayStyleReads) {
  ASSERT_NO_FATAL_FAILURE(upgrade());
  check_close_is_seen(server_, client_, ReadStyle::relay);
}

TEST_F(TlsStreamTest, CloseEndsAPendingReadOnTheSameStream) {
  ASSERT_NO_FATAL_FAILURE(upgrade());
  check_close_ends_pending_read(ReadStyle::read_some);
}

TEST_F(TlsStreamTest, CloseEndsAPendingRelayStyleReadOnTheSameStream) {
  ASSERT_NO_FATAL_FAILURE(upgrade());
  check_close_ends_pending_read(ReadStyle::relay);
}

// The server never reads, so the write waits for room in the socket when close() comes.
TEST_F(TlsStreamTest, CloseEndsAPendingWriteOnTheSameStream) {
  ASSERT_NO_FATAL_FAILURE(upgrade());
  Outcome written;
  loop_.spawn(write_until_error(client_, 256 * 1024 * 1024, written));
  loop_.spawn(close_after(client_, 200ms));
  ASSERT_TRUE(loop_.run()) << "the pending write outlived close(); wrote " << written.bytes;
  EXPECT_TRUE(written.ec) << "wrote " << written.bytes << " bytes to a peer that reads nothing";
}

TEST_F(TlsStreamTest, WriteToAClosedPeerFailsWithoutSigpipe) {
  ASSERT_NO_FATAL_FAILURE(upgrade());
  server_.close();
  Outcome written;
  loop_.spawn(write_until_error(client_, 64 * 1024 * 1024, written));
  ASSERT_TRUE(loop_.run());
  EXPECT_TRUE(written.ec) << "wrote " << written.bytes << " bytes to a closed peer";
  // TearDown checks that no SIGPIPE was raised.
}

// After close() the kernel may give the descriptor's number to another connection (another
// client's, in the gateway): a late write on the closed stream must fail, not reach it.
TEST_F(TlsStreamTest, AClosedStreamNeverWritesToTheConnectionThatReusesItsDescriptor) {
  ASSERT_NO_FATAL_FAILURE(upgrade());
  const auto old_descriptor = client_.socket().native_handle();
  tcp::acceptor acceptor(loop_.io(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  client_.close();
  // The kernel hands out the lowest free number: connect until a socket gets the old one.
  std::vector<tcp::socket> connections;
  tcp::socket* reused = nullptr;
  for (int i = 0; i < 64 && reused == nullptr; ++i) {
    tcp::socket& socket = connections.emplace_back(loop_.io());
    socket.connect(acceptor.local_endpoint());
    if (socket.native_handle() == old_descriptor) reused = &socket;
  }
  ASSERT_NE(reused, nullptr) << "no new socket took descriptor " << old_descriptor;
  tcp::socket peer = acceptor.accept();
  while (peer.remote_endpoint() != reused->local_endpoint()) peer = acceptor.accept();

  Outcome written;
  loop_.spawn(write_each(client_, {"must not reach another connection"}, 0ms, written));
  ASSERT_TRUE(loop_.run());
  EXPECT_TRUE(written.ec) << "a closed stream wrote " << written.bytes << " bytes";
  peer.non_blocking(true);
  char byte = 0;
  error_code read_ec;
  EXPECT_EQ(peer.read_some(asio::buffer(&byte, 1), read_ec), 0u);
  EXPECT_EQ(read_ec, asio::error::would_block) << "the other connection received bytes";
}

// A write stopped while OpenSSL holds part of a record: a later, different write must fail
// rather than let OpenSSL finish the old record and send a tail of the new data.
TEST_F(TlsStreamTest, AWriteAfterAnAbandonedOneFailsInsteadOfSendingATail) {
  ASSERT_NO_FATAL_FAILURE(upgrade());
  Outcome stuck;
  loop_.spawn(write_until_error(client_, 256 * 1024 * 1024, stuck));  // nobody reads
  loop_.spawn(cancel_after(client_, 200ms));
  ASSERT_TRUE(loop_.run()) << "the write outlived its cancellation";
  EXPECT_EQ(stuck.ec, asio::error::operation_aborted) << stuck.ec.message();
  Outcome later;
  loop_.spawn(write_each(client_, {"ErrorResponse"}, 0ms, later));
  ASSERT_TRUE(loop_.run());
  EXPECT_EQ(later.ec, asio::error::broken_pipe) << later.ec.message();
}

// --- Certificate checks ----------------------------------------------------------------------

TEST_F(TlsStreamTest, VerifiedClientAcceptsTheServerByName) {
  auto client_context = make_client_context(true, certificates().ca_file());
  const Handshake result = handshake(*server_context_, *client_context, "localhost", true);
  ASSERT_TRUE(result.finished);
  EXPECT_TRUE(result.client.ok()) << message_of(result.client);
  EXPECT_TRUE(result.server.ok()) << message_of(result.server);
  EXPECT_EQ(server_name_seen_, "localhost");
}

TEST_F(TlsStreamTest, VerifiedClientAcceptsTheServerByIpAddress) {
  auto client_context = make_client_context(true, certificates().ca_file());
  const Handshake result = handshake(*server_context_, *client_context, "127.0.0.1", true);
  ASSERT_TRUE(result.finished);
  EXPECT_TRUE(result.client.ok()) << message_of(result.client);
  EXPECT_TRUE(result.server.ok()) << message_of(result.server);
  EXPECT_EQ(server_name_seen_, "(none)");  // RFC 6066: no literal address in SNI
}

// A scoped IPv6 literal (a link-local backend) is checked by its address; OpenSSL cannot read
// the scope as text, and a name it cannot take must not leave only the chain checked.
TEST_F(TlsStreamTest, VerifiedClientChecksAScopedIpv6AddressAgainstTheCertificate) {
  auto client_context = make_client_context(true, certificates().ca_file());
  const Handshake result = handshake(*server_context_, *client_context, "fe80::1%lo", true);
  ASSERT_TRUE(result.finished);
  EXPECT_TRUE(starts_with_handshake_failure(result.client)) << message_of(result.client);
}

TEST_F(TlsStreamTest, VerifiedClientRejectsAnotherName) {
  auto client_context = make_client_context(true, certificates().ca_file());
  const Handshake result = handshake(*server_context_, *client_context, "wrong.example", true);
  ASSERT_TRUE(result.finished);
  EXPECT_TRUE(starts_with_handshake_failure(result.client)) << message_of(result.client);
  EXPECT_NE(message_of(result.client).find("certificate verify failed"), std::string::npos)
      << message_of(result.client);
  EXPECT_FALSE(result.server.ok());
}

// The certificate names 127.0.0.1 only: an address must match exactly, not as a DNS name.
TEST_F(TlsStreamTest, VerifiedClientRejectsAnotherIpAddress) {
  auto client_context = make_client_context(true, certificates().ca_file());
  const Handshake result = handshake(*server_context_, *client_context, "127.0.0.2", true);
  ASSERT_TRUE(result.finished);
  EXPECT_TRUE(starts_with_handshake_failure(result.client)) << message_of(result.client);
}

TEST_F(TlsStreamTest, VerifiedClientRejectsAServerFromAnotherCa) {
  const TestCertificates other;
  auto client_context = make_client_context(true, other.ca_file());
  const Handshake result = handshake(*server_context_, *client_context, "localhost", true);
  ASSERT_TRUE(result.finished);
  EXPECT_TRUE(starts_with_handshake_failure(result.client)) << message_of(result.client);
  EXPECT_NE(message_of(result.client).find("certificate verify failed"), std::string::npos)
      << message_of(result.client);
}

// verify_host=false skips the name, not the chain.
TEST_F(TlsStreamTest, WithoutHostCheckTheChainIsStillVerified) {
  const TestCertificates other;
  auto client_context = make_client_context(true, other.ca_file());
  const Handshake result = handshake(*server_context_, *client_context, "localhost", false);
  ASSERT_TRUE(result.finished);
  EXPECT_TRUE(starts_with_handshake_failure(result.client)) << message_of(result.client);
}

TEST_F(TlsStreamTest, WithoutHostCheckAnyNameIsAccepted) {
  auto client_context = make_client_context(true, certificates().ca_file());
  const Handshake result = handshake(*server_context_, *client_context, "wrong.example", false);
  ASSERT_TRUE(result.finished);
  EXPECT_TRUE(result.client.ok()) << message_of(result.client);
  EXPECT_EQ(server_name_seen_, "wrong.example");
}

// The backend connector's prefer/require modes: no chain, no name.
TEST_F(TlsStreamTest, UnverifiedClientAcceptsAnyServer) {
  auto client_context = make_client_context(false);
  const Handshake result = handshake(*server_context_, *client_context, "wrong.example", false);
  ASSERT_TRUE(result.finished);
  EXPECT_TRUE(result.client.ok()) << message_of(result.client);
  EXPECT_TRUE(result.server.ok()) << message_of(result.server);
}

// --- Peers that do not speak TLS -------------------------------------------------------------

TEST_F(TlsStreamTest, PlainTextClientFailsAcceptTls) {
  Result<void> accepted;
  Outcome written;
  loop_.spawn(accept_side(server_, *server_context_, accepted));
  loop_.spawn(write_then_close(client_, "hello, not tls\n", written));
  ASSERT_TRUE(loop_.run()) << "accept_tls hung on a plain-text client";
  EXPECT_TRUE(starts_with_handshake_failure(accepted)) << message_of(accepted);
}

TEST_F(TlsStreamTest, ClientClosingAtOnceFailsAcceptTls) {
  Result<void> accepted;
  loop_.spawn(accept_side(server_, *server_context_, accepted));
  client_.close();
  ASSERT_TRUE(loop_.run()) << "accept_tls hung on a client that closed";
  EXPECT_TRUE(starts_with_handshake_failure(accepted)) << message_of(accepted);
}

// The server answers the ClientHello with plain text, then waits for the client to leave.
TEST_F(TlsStreamTest, PlainTextServerFailsConnectTls) {
  auto client_context = make_client_context(false);
  Result<void> connected;
  Outcome written, read;
  std::string received;
  Reader server_reader(server_, ReadStyle::read_some);
  loop_.spawn(connect_side(client_, *client_context, "localhost", false, connected));
  loop_.spawn(write_all(server_, "HTTP/1.0 400 Bad Request\r\n\r\n", written));
  loop_.spawn(read_until_error(server_reader, received, read));
  ASSERT_TRUE(loop_.run()) << "connect_tls hung on a plain-text server";
  EXPECT_TRUE(starts_with_handshake_failure(connected)) << message_of(connected);
}

}  // namespace
}  // namespace portcullis::net
