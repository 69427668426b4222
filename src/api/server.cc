// The API's listener, accept loop, connection cap and thread.
#include "api/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>

#include "api/http_connection.h"
#include "common/thread_name.h"
#include "net/listener.h"
#include "net/stream.h"

namespace portcullis::api {
namespace {

namespace asio = boost::asio;
using net::use_nothrow;

// Concurrent API connections, streams included. The API serves people and a few scripts and
// scrapers; more than this is a runaway client, and each connection may hold a stream that
// polls the journal.
constexpr std::size_t kMaxConnections = 64;
// Of these, connections that have not sent a whole request yet (slow or idle clients, or
// someone holding sockets open): at most half, and a few per source address, so that a
// health check or an operator from elsewhere always finds a place. A browser opens six
// connections to a host; a script or a scraper one or two.
constexpr net::PendingConnections::Caps kMaxPending{.total = kMaxConnections / 2, .per_address = 8};
// Connections from one address in all: half, so that no one host can take every place.
constexpr std::size_t kMaxConnectionsPerAddress = kMaxConnections / 2;
// After accept() fails (out of descriptors, mostly): pause rather than spin.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

void log_crash(std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("event=api_connection_crashed error=\"{}\"", e.what());
  }
}

}  // namespace

ApiServer::ApiServer(std::shared_ptr<const ApiContext> context, ApiServerOptions options)
    : context_(std::move(context)), pending_(net::PendingConnections::make(kMaxPending)) {
  services_.context = &context_;
  services_.journal = std::move(options.journal);
  services_.state = options.state;
  services_.active_sessions = std::move(options.active_sessions);
  services_.reviews = options.reviews;
  services_.live_sessions = options.live_sessions;
  services_.metrics = options.metrics;
  services_.ssh_ca = options.ssh_ca;
  services_.instances = options.instances;
  services_.reload = std::move(options.reload);
  if (options.mcp) {
    mcp_ = std::make_unique<proto::mcp::McpServer>(std::move(*options.mcp));
    services_.mcp = mcp_.get();
  }
  services_.api_connections = [this] { return connections_.load(); };
}

Result<std::unique_ptr<ApiServer>> ApiServer::start(const config::Endpoint& listen,
                                                    std::shared_ptr<const ApiContext> context,
                                                    ApiServerOptions options) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(listen.host, ec);
  if (ec) return make_error(fmt::format("invalid listen address \"{}\"", listen.host));
  auto reader = JournalReader::open(context->config->state_url, context->config->instance);
  if (!reader) return make_error("the API cannot open the journal: " + reader.error().message);

  std::unique_ptr<ApiServer> server(new ApiServer(std::move(context), std::move(options)));
  server->journal_reader_ = std::move(*reader);
  server->services_.journal_reader = server->journal_reader_.get();
  server->services_.loopback_listener = net::is_loopback(address);
  auto acceptor = net::open_listener(server->io_, listen.host, listen.port);
  if (!acceptor) return acceptor.error();
  server->acceptor_.emplace(std::move(*acceptor));

  asio::co_spawn(server->io_, server->accept_loop(), log_crash);
  server->thread_ = std::thread([io = &server->io_] {
    name_this_thread("http api");
    io->run();
  });
  spdlog::info("event=listening protocol=http address={}:{} tls={}", listen.host, listen.port,
               server->context_.load()->tls ? "yes" : "no");
  return server;
}

asio::awaitable<void> ApiServer::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_->async_accept(use_nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
      // Out of descriptors and the like: pause, go on accepting.
      if (std::size_t suppressed = 0; accept_failed_log_.allow(suppressed))
        spdlog::warn("event=accept_failed protocol=http error=\"{}\" suppressed={}", ec.message(),
                     suppressed);
      asio::steady_timer pause(io_, kAcceptPause);
      co_await pause.async_wait(use_nothrow);
      continue;
    }
    boost::system::error_code remote_ec;
    const auto remote = socket.remote_endpoint(remote_ec);
    if (remote_ec) {  // reset before it was accepted
      socket.close(remote_ec);
      continue;
    }
    const auto address = remote.address();
    std::string_view refused_by;
    std::optional<net::PendingConnections::Ticket> ticket;
    if (connections_.load() >= kMaxConnections)
      refused_by = "max_connections";
    else if (per_address_[address] >= kMaxConnectionsPerAddress)
      refused_by = "max_connections_per_address";
    else if (ticket = pending_->try_admit(address, refused_by); !ticket)
      refused_by = refused_by == "total" ? "max_pending" : "max_pending_per_address";
    if (!ticket) {
      if (per_address_[address] == 0) per_address_.erase(address);
      if (std::size_t suppressed = 0; refused_log_.allow(suppressed))
        spdlog::warn("event=connection_refused protocol=http reason={} client={} suppressed={}",
                     refused_by, address.to_string(), suppressed);
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    ++connections_;
    ++per_address_[address];
    asio::co_spawn(
        io_,
        [this, address, socket = std::move(socket),
         ticket = std::move(*ticket)]() mutable -> asio::awaitable<void> {
          // Released however the connection ends, an exception or the server's end included.
          struct Release {
            ApiServer& server;
            boost::asio::ip::address address;
            ~Release() {
              --server.connections_;
              if (--server.per_address_[address] == 0) server.per_address_.erase(address);
            }
          } release{*this, address};
          auto connection =
              serve_connection(std::move(socket), context_.load(), services_, std::move(ticket));
          co_await std::move(connection);
        },
        log_crash);
  }
}

void ApiServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  // Streams never end on their own: stop the loop rather than wait for them. What is left
  // suspended in io_ is destroyed with it.
  io_.stop();
  if (thread_.joinable()) thread_.join();
  if (mcp_) mcp_->close_all();
  // Work queued for the journal holds suspended requests: drop it while io_ (whose executor
  // they use) still exists. A read already running is waited for.
  journal_reader_.reset();
  services_.journal_reader = nullptr;
  boost::system::error_code ignored;
  if (acceptor_) acceptor_->close(ignored);
}

ApiServer::~ApiServer() {
  stop();
}

}  // namespace portcullis::api
