// Accept loops and session bookkeeping for the PostgreSQL front end.
#include "proto/postgres/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>

#include "net/listener.h"
#include "proto/postgres/encoder.h"
#include "proto/postgres/session.h"

namespace portcullis::proto::postgres {
namespace asio = boost::asio;
using net::use_nothrow;

namespace {

// PostgreSQL's SQLSTATE for "sorry, too many clients already".
constexpr std::string_view kSqlTooManyConnections = "53300";
// After accept() fails (out of descriptors, mostly): a pause rather than a spin, short enough
// that a freed descriptor is soon used again.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

net::PendingConnections::Caps unauthenticated_caps(const config::LimitsConfig& limits) {
  return {.total = limits.max_unauthenticated,
          .per_address = limits.max_unauthenticated_per_address};
}

}  // namespace

struct Server::Slot {
  explicit Slot(asio::io_context& io) : context(io), acceptor(io) {}
  asio::io_context& context;
  asio::ip::tcp::acceptor acceptor;
  // Sessions of this thread, touched only from it.
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  bool stopping = false;
};

Server::Server(net::IoThreads& threads, std::shared_ptr<const GatewayContext> context)
    : threads_(threads), context_(context) {
  const auto& limits = context->config->limits;
  pending_ = net::PendingConnections::make(unauthenticated_caps(limits));
  budget_ = std::make_shared<net::MessageBudget>(limits.max_buffered_total);
}

void Server::replace_context(std::shared_ptr<const GatewayContext> context) {
  const auto& limits = context->config->limits;
  pending_->set_caps(unauthenticated_caps(limits));
  budget_->set_limit(limits.max_buffered_total);
  context_.store(std::move(context));
}

void Server::refuse(asio::ip::tcp::socket& socket, std::string_view sqlstate,
                    std::string_view message) {
  std::string bytes;
  append_error_response(bytes, {.severity = Severity::fatal,
                                .sqlstate = sqlstate,
                                .message = message,
                                .detail = {},
                                .hint = {}});
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.send(asio::buffer(bytes), 0, ignored);
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

Server::~Server() = default;

Result<void> Server::start(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return make_error("invalid listen address \"" + host + "\"");
  loopback_ = net::is_loopback(address);
  for (std::size_t i = 0; i < threads_.size(); ++i) {
    auto slot = std::make_unique<Slot>(threads_.context(i));
    auto acceptor = net::open_listener(slot->context, host, port);
    if (!acceptor) return acceptor.error();
    slot->acceptor = std::move(*acceptor);
    slots_.push_back(std::move(slot));
  }
  for (auto& slot : slots_) accept_on(*slot);
  spdlog::info("event=listening protocol=postgres address={}:{} threads={}", host, port,
               slots_.size());
  return {};
}

void Server::accept_on(Slot& slot) {
  asio::co_spawn(
      slot.context,
      [this, &slot]() -> asio::awaitable<void> {
        for (;;) {
          auto [ec, socket] = co_await slot.acceptor.async_accept(use_nothrow);
          if (ec) {
            if (ec == asio::error::operation_aborted || slot.stopping) co_return;
            // Out of descriptors and the like: pause rather than spin, and go on accepting.
            // The connection stays in the kernel's backlog meanwhile.
            if (std::size_t suppressed = 0; accept_failed_log_.allow(suppressed))
              spdlog::warn("event=accept_failed protocol=postgres error=\"{}\" suppressed={}",
                           ec.message(), suppressed);
            asio::steady_timer pause(slot.context, kAcceptPause);
            co_await pause.async_wait(use_nothrow);
            continue;
          }
          auto context = context_.load();
          const auto& limits = context->config->limits;
          const std::size_t max_connections = std::min(limits.max_connections, descriptor_cap_);
          if (active_sessions_.load() >= max_connections) {
            if (std::size_t suppressed = 0; refused_log_.allow(suppressed))
              spdlog::warn(
                  "event=connection_refused protocol=postgres reason=max_connections limit={} "
                  "suppressed={}",
                  max_connections, suppressed);
            refuse(socket, kSqlTooManyConnections, "portcullis: sorry, too many clients already");
            continue;
          }
          boost::system::error_code remote_ec;
          const auto remote = socket.remote_endpoint(remote_ec);
          if (remote_ec) {  // reset before it was accepted
            socket.close(remote_ec);
            continue;
          }
          std::string_view refused_by;
          auto ticket = pending_->try_admit(remote.address(), refused_by);
          if (!ticket) {
            if (std::size_t suppressed = 0; refused_log_.allow(suppressed))
              spdlog::warn(
                  "event=connection_refused protocol=postgres reason=max_unauthenticated "
                  "scope={} client={} limit={} suppressed={}",
                  refused_by, remote.address().to_string(),
                  refused_by == "total" ? limits.max_unauthenticated
                                        : limits.max_unauthenticated_per_address,
                  suppressed);
            refuse(socket, kSqlTooManyConnections,
                   "portcullis: too many connections are logging in at once; try again");
            continue;
          }
          auto session = std::make_shared<Session>(std::move(socket), std::move(context), &context_,
                                                   cancels_, classifier_, loopback_);
          // The place is given back when the handshake ends, or with the session.
          session->set_handshake_listener([held = std::make_shared<net::PendingConnections::Ticket>(
                                               std::move(*ticket))] { held->release(); });
          session->set_message_budget(budget_);
          slot.sessions.emplace(session.get(), session);
          ++active_sessions_;
          asio::co_spawn(
              slot.context,
              [this, &slot, session]() -> asio::awaitable<void> {
                // Released however run() ends, an exception included.
                struct Release {
                  Server& server;
                  Slot& slot;
                  Session* session;
                  ~Release() {
                    slot.sessions.erase(session);
                    --server.active_sessions_;
                  }
                } release{*this, slot, session.get()};
                co_await session->run();
              },
              [](std::exception_ptr error) {
                if (!error) return;
                try {
                  std::rethrow_exception(error);
                } catch (const std::exception& e) {
                  spdlog::error("event=session_crashed error=\"{}\"", e.what());
                }
              });
        }
      },
      asio::detached);
}

void Server::stop() {
  std::vector<std::future<void>> done;
  for (auto& slot_ptr : slots_) {
    Slot& slot = *slot_ptr;
    auto finished = std::make_shared<std::promise<void>>();
    done.push_back(finished->get_future());
    asio::post(slot.context, [&slot, finished] {
      slot.stopping = true;
      boost::system::error_code ignored;
      slot.acceptor.close(ignored);
      for (auto& [raw, weak] : slot.sessions)
        if (auto session = weak.lock())
          session->terminate("57P01",
                             "portcullis: terminating connection because the gateway "
                             "is shutting down");
      finished->set_value();
    });
  }
  for (auto& f : done) f.wait();
}

}  // namespace portcullis::proto::postgres
