// Accept loops and session bookkeeping for the PostgreSQL front end.
#include "proto/postgres/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>

#include "net/listener.h"
#include "proto/postgres/session.h"

namespace portcullis::proto::postgres {
namespace asio = boost::asio;
using net::use_nothrow;

struct Server::Slot {
  explicit Slot(asio::io_context& io) : context(io), acceptor(io) {}
  asio::io_context& context;
  asio::ip::tcp::acceptor acceptor;
  // Sessions of this thread, touched only from it.
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  bool stopping = false;
};

Server::Server(net::IoThreads& threads, std::shared_ptr<const GatewayContext> context)
    : threads_(threads), context_(std::move(context)) {}

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
            // Out of descriptors and the like: log, pause, go on accepting.
            spdlog::warn("event=accept_failed error=\"{}\"", ec.message());
            asio::steady_timer pause(slot.context, std::chrono::milliseconds(100));
            co_await pause.async_wait(use_nothrow);
            continue;
          }
          auto context = context_.load();
          const std::size_t max_connections = context->config->limits.max_connections;
          if (active_sessions_.load() >= max_connections) {
            spdlog::warn("event=connection_refused reason=max_connections limit={}",
                         max_connections);
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
          }
          auto session = std::make_shared<Session>(std::move(socket), std::move(context), &context_,
                                                   cancels_, classifier_, loopback_);
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
