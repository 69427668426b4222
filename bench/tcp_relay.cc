// A zero-inspection TCP relay: the floor for any proxy in the end-to-end benchmarks. It adds
// one hop and looks at nothing, on the gateway's own runtime (one io_context per thread,
// SO_REUSEPORT listeners), so the gap between it and the gateway is what inspection costs.
//
//   tcp_relay LISTEN_HOST:PORT TARGET_HOST:PORT [THREADS]
#include <sys/resource.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/io_threads.h"
#include "net/listener.h"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// Bytes buffered per direction: what the brief of issue 7 fixes for the relay, and the size
// of a TLS record, so that the figure compares with a proxy that reads record by record.
constexpr std::size_t kBufferSize = 16 * 1024;
// Pause after an accept failure such as EMFILE, so that the loop does not spin.
constexpr auto kAcceptRetry = std::chrono::milliseconds(50);

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

std::optional<HostPort> parse_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  HostPort out;
  out.host = std::string(text.substr(0, colon));
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']')
    out.host = out.host.substr(1, out.host.size() - 2);
  const auto port = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
    return std::nullopt;
  out.port = static_cast<uint16_t>(value);
  return out;
}

// One client connection and its backend connection. Each direction is a read-then-write
// loop over its own buffer; an end of stream is passed on as a half-close, so that a
// client's Terminate followed by FIN reaches the server the way it would directly.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket client, const tcp::endpoint& target)
      : client_(std::move(client)), server_(client_.get_executor()), target_(target) {}

  void start() {
    server_.async_connect(target_, [self = shared_from_this()](const error_code& ec) {
      if (ec) return self->close();
      error_code ignored;
      self->client_.set_option(tcp::no_delay(true), ignored);
      self->server_.set_option(tcp::no_delay(true), ignored);
      self->pump(self->client_, self->server_, self->upstream_);
      self->pump(self->server_, self->client_, self->downstream_);
    });
  }

 private:
  struct Direction {
    std::array<char, kBufferSize> buffer;
    bool done = false;
  };

  void pump(tcp::socket& from, tcp::socket& to, Direction& direction) {
    from.async_read_some(
        asio::buffer(direction.buffer),
        [self = shared_from_this(), &from, &to, &direction](const error_code& ec, std::size_t n) {
          if (ec) return self->finish(to, direction, ec);
          asio::async_write(to, asio::buffer(direction.buffer.data(), n),
                            [self, &from, &to, &direction](const error_code& ec, std::size_t) {
                              if (ec) return self->close();
                              self->pump(from, to, direction);
                            });
        });
  }

  void finish(tcp::socket& to, Direction& direction, const error_code& ec) {
    if (ec != asio::error::eof) return close();
    direction.done = true;
    error_code ignored;
    to.shutdown(tcp::socket::shutdown_send, ignored);
    if (upstream_.done && downstream_.done) close();
  }

  void close() {
    error_code ignored;
    client_.close(ignored);
    server_.close(ignored);
  }

  tcp::socket client_;
  tcp::socket server_;
  tcp::endpoint target_;
  Direction upstream_;
  Direction downstream_;
};

class Acceptor {
 public:
  Acceptor(tcp::acceptor acceptor, const tcp::endpoint& target)
      : acceptor_(std::move(acceptor)), retry_(acceptor_.get_executor()), target_(target) {}

  void start() {
    acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        std::fprintf(stderr, "tcp_relay: accept: %s\n", ec.message().c_str());
        retry_.expires_after(kAcceptRetry);
        retry_.async_wait([this](const error_code& wait_ec) {
          if (!wait_ec) start();
        });
        return;
      }
      std::make_shared<Session>(std::move(socket), target_)->start();
      start();
    });
  }

 private:
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  tcp::endpoint target_;
};

// Many idle connections need two descriptors each: take the hard limit, as PgBouncer does
// with its max_client_conn.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int usage() {
  std::fputs("usage: tcp_relay LISTEN_HOST:PORT TARGET_HOST:PORT [THREADS]\n", stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) return usage();
  const auto listen = parse_host_port(argv[1]);
  const auto target = parse_host_port(argv[2]);
  std::size_t threads = 0;
  if (argc == 4) {
    const std::string_view text = argv[3];
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), threads);
    if (ec != std::errc() || end != text.data() + text.size() || threads == 0) return usage();
  }
  if (!listen || !target) return usage();
  raise_open_file_limit();

  portcullis::net::IoThreads io(threads);

  // Resolved once: a relay that resolves per connection would measure the resolver.
  tcp::endpoint target_endpoint;
  {
    error_code ec;
    tcp::resolver resolver(io.context(0));
    const auto results = resolver.resolve(target->host, std::to_string(target->port), ec);
    if (ec || results.empty()) {
      std::fprintf(stderr, "tcp_relay: cannot resolve %s: %s\n", argv[2], ec.message().c_str());
      return 1;
    }
    target_endpoint = results.begin()->endpoint();
  }

  std::vector<std::unique_ptr<Acceptor>> acceptors;
  for (std::size_t i = 0; i < io.size(); ++i) {
    auto acceptor = portcullis::net::open_listener(io.context(i), listen->host, listen->port);
    if (!acceptor) {
      std::fprintf(stderr, "tcp_relay: %s\n", acceptor.error().message.c_str());
      return 1;
    }
    acceptors.push_back(std::make_unique<Acceptor>(std::move(*acceptor), target_endpoint));
  }
  // Handlers run on each context's own thread once it starts; nothing runs yet.
  for (auto& acceptor : acceptors) acceptor->start();

  asio::signal_set signals(io.context(0), SIGINT, SIGTERM);
  signals.async_wait([&io](const error_code& ec, int) {
    if (!ec) io.stop();
  });
  io.start();
  std::fprintf(stderr, "tcp_relay: listening on %s, relaying to %s, %zu threads\n", argv[1],
               argv[2], io.size());
  io.join();
  return 0;
}
