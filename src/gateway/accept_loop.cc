// Accept loops and session bookkeeping shared by the TCP front ends.
#include "gateway/accept_loop.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <unordered_map>

#include "net/listener.h"
#include "net/stream.h"

namespace portcullis::gateway {
namespace asio = boost::asio;
using net::use_nothrow;

namespace {

// After accept() fails (out of descriptors, mostly): a pause rather than a spin, short enough
// that a freed descriptor is soon used again.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

net::PendingConnections::Caps unauthenticated_caps(const config::LimitsConfig& limits) {
  return {.total = limits.max_unauthenticated,
          .per_address = limits.max_unauthenticated_per_address};
}

}  // namespace

struct AcceptLoop::Slot {
  explicit Slot(asio::io_context& io) : context(io), acceptor(io) {}
  asio::io_context& context;
  asio::ip::tcp::acceptor acceptor;
  // Sessions of this thread, touched only from it.
  std::unordered_map<ServedSession*, std::weak_ptr<ServedSession>> sessions;
  bool stopping = false;
};

AcceptLoop::AcceptLoop(std::string_view protocol, net::IoThreads& threads,
                       std::shared_ptr<const GatewayContext> context, MakeSession make,
                       Refuse refuse)
    : protocol_(protocol),
      threads_(threads),
      context_(context),
      make_(std::move(make)),
      refuse_(std::move(refuse)) {
  const auto& limits = context->config->limits;
  pending_ = net::PendingConnections::make(unauthenticated_caps(limits));
  budget_ = std::make_shared<net::MessageBudget>(limits.max_buffered_total);
  // Made here rather than in start(): a front end that does not listen still serves the
  // connections made inside the gateway (adopt()).
  for (std::size_t i = 0; i < threads_.size(); ++i)
    slots_.push_back(std::make_unique<Slot>(threads_.context(i)));
}

AcceptLoop::~AcceptLoop() = default;

void AcceptLoop::refuse(boost::asio::ip::tcp::socket& socket, const Refusal& refusal) const {
  const std::string words = refuse_(refusal);
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.send(boost::asio::buffer(words), 0, ignored);
  socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

void AcceptLoop::replace_context(std::shared_ptr<const GatewayContext> context) {
  const auto& limits = context->config->limits;
  pending_->set_caps(unauthenticated_caps(limits));
  budget_->set_limit(limits.max_buffered_total);
  context_.store(std::move(context));
}

Result<void> AcceptLoop::start(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return make_error("invalid listen address \"" + host + "\"");
  loopback_ = net::is_loopback(address);
  for (auto& slot : slots_) {
    auto acceptor = net::open_listener(slot->context, host, port);
    if (!acceptor) return acceptor.error();
    slot->acceptor = std::move(*acceptor);
  }
  for (auto& slot : slots_) accept_on(*slot);
  spdlog::info("event=listening protocol={} address={}:{} threads={}", protocol_, host, port,
               slots_.size());
  return {};
}

void AcceptLoop::accept_on(Slot& slot) {
  asio::co_spawn(slot.context, accept_loop(slot), asio::detached);
}

asio::awaitable<void> AcceptLoop::accept_loop(Slot& slot) {
  for (;;) {
    auto [ec, socket] = co_await slot.acceptor.async_accept(use_nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || slot.stopping) co_return;
      // Out of descriptors and the like: pause rather than spin, and go on accepting. The
      // connection stays in the kernel's backlog meanwhile.
      if (std::size_t suppressed = 0; accept_failed_log_.allow(suppressed))
        spdlog::warn("event=accept_failed protocol={} error=\"{}\" suppressed={}", protocol_,
                     ec.message(), suppressed);
      asio::steady_timer pause(slot.context, kAcceptPause);
      co_await pause.async_wait(use_nothrow);
      continue;
    }
    auto context = context_.load();
    const auto& limits = context->config->limits;
    const std::size_t max_connections = connection_cap();
    if (active_sessions_.load() >= max_connections) {
      if (std::size_t suppressed = 0; refused_log_.allow(suppressed))
        spdlog::warn(
            "event=connection_refused protocol={} reason=max_connections limit={} "
            "suppressed={}",
            protocol_, max_connections, suppressed);
      refuse(socket, Refusal{.reason = RefusalReason::busy,
                             .rule = {},
                             .message = "sorry, too many clients already"});
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
            "event=connection_refused protocol={} reason=max_unauthenticated scope={} client={} "
            "limit={} suppressed={}",
            protocol_, refused_by, remote.address().to_string(),
            refused_by == "total" ? limits.max_unauthenticated
                                  : limits.max_unauthenticated_per_address,
            suppressed);
      refuse(socket, Refusal{.reason = RefusalReason::busy,
                             .rule = {},
                             .message = "too many connections are logging in at once; try again"});
      continue;
    }
    // The place is given back when the handshake ends, or with the session.
    auto held = std::make_shared<net::PendingConnections::Ticket>(std::move(*ticket));
    run_session(slot, AcceptedConnection{.socket = std::move(socket),
                                         .context = std::move(context),
                                         .context_source = &context_,
                                         .loopback_listener = loopback_,
                                         .handshake_done = [held] { held->release(); },
                                         .message_budget = budget_,
                                         .client_address = {},
                                         .in_process = false});
  }
}

std::size_t AcceptLoop::connection_cap() const {
  return std::min(context_.load()->config->limits.max_connections, descriptor_cap_);
}

void AcceptLoop::run_session(Slot& slot, AcceptedConnection connection) {
  auto session = make_(std::move(connection));
  slot.sessions.emplace(session.get(), session);
  ++active_sessions_;
  asio::co_spawn(
      slot.context,
      [this, &slot, session]() -> asio::awaitable<void> {
        // Released however run() ends, an exception included.
        struct Release {
          AcceptLoop& loop;
          Slot& slot;
          ServedSession* session;
          ~Release() {
            slot.sessions.erase(session);
            --loop.active_sessions_;
          }
        } release{*this, slot, session.get()};
        co_await session->run();
      },
      [protocol = protocol_](std::exception_ptr error) {
        if (!error) return;
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          spdlog::error("event=session_crashed protocol={} error=\"{}\"", protocol, e.what());
        }
      });
}

Result<void> AcceptLoop::adopt(InProcessConnection connection) {
  if (slots_.empty() || active_sessions_.load() >= connection_cap()) {
    ::close(connection.fd);
    return make_error("sorry, too many clients already");
  }
  Slot& slot = *slots_[next_adopting_slot_++ % slots_.size()];
  asio::post(slot.context, [this, &slot, connection = std::move(connection)]() mutable {
    asio::ip::tcp::socket socket(slot.context);
    boost::system::error_code ec;
    // A socketpair's end: the session only reads and writes it (it asks for the peer's
    // address and TCP_NODELAY, and takes the errors).
    socket.assign(asio::ip::tcp::v4(), connection.fd, ec);
    if (ec || slot.stopping) {
      if (ec) ::close(connection.fd);
      return;  // a socket that took the descriptor closes it
    }
    run_session(slot, AcceptedConnection{.socket = std::move(socket),
                                         .context = context_.load(),
                                         .context_source = &context_,
                                         .loopback_listener = false,
                                         .handshake_done = {},
                                         .message_budget = budget_,
                                         .client_address = std::move(connection.client_address),
                                         .in_process = true});
  });
  return {};
}

void AcceptLoop::stop() {
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
        if (auto session = weak.lock()) session->shut_down();
      finished->set_value();
    });
  }
  for (auto& f : done) f.wait();
}

}  // namespace portcullis::gateway
