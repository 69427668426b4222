// The line front end: the whole of a protocol's side of the seam.
#include "line_front_end.h"

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <sstream>

#include "gateway/admission.h"
#include "gateway/command_gate.h"
#include "net/stream.h"
#include "sql/classifier.h"

namespace portcullis::testing {
namespace asio = boost::asio;
using net::use_nothrow;

namespace {

constexpr std::size_t kMaxLine = 64 * 1024;

std::string journal_error(gateway::RefusalReason reason, std::string_view message) {
  return std::string(gateway::to_string(reason)) + ": " + std::string(message);
}

class LineSession final : public gateway::ServedSession,
                          public std::enable_shared_from_this<LineSession> {
 public:
  explicit LineSession(gateway::AcceptedConnection connection)
      : gate_(connection.socket.get_executor(), LineFrontEnd::kProtocol,
              std::move(connection.context), connection.context_source),
        socket_(std::move(connection.socket)),
        handshake_done_(std::move(connection.handshake_done)),
        input_(kMaxLine) {
    gate_.attach_recorder(id_, "test", &journal_error);
  }

  asio::awaitable<void> run() override {
    auto self = shared_from_this();
    auto login = co_await read_line();
    handshake_done_();
    if (!login) co_return;
    if (!co_await admit(*login)) co_return;
    uint64_t batch = 0;
    for (;;) {
      auto line = co_await read_line();
      if (!line || ended_) break;
      gate_.count_command();
      if (!gate_.refresh()) break;
      policy::Command command;
      command.text = *line;
      command.via = "line";
      command.sql()->classification =
          std::make_shared<const sql::Classification>(sql::classify_postgres(*line));
      auto outcome = gate_.decide(command, ++batch);
      if (outcome.next == gateway::CommandGate::Next::hold) {
        co_await write("HELD " + gate_.held_review());
        outcome = co_await gate_.wait_for_review(batch);
      }
      if (ended_) break;
      if (outcome.next == gateway::CommandGate::Next::refuse) {
        co_await write(fmt::format("REFUSED {} {}", gateway::to_string(outcome.refusal.reason),
                                   outcome.refusal.message));
        continue;
      }
      if (auto failed = co_await gate_.wait_for_commits()) {
        end(*failed);
        break;
      }
      gate_.recorder().on_complete(std::nullopt);
      co_await write("RAN " + *line);
    }
    gate_.close();
    if (gate_.is_open()) gate_.recorder().disconnected(0, 0, {});
  }

  void shut_down() override {
    end({.reason = gateway::RefusalReason::session_ended,
         .rule = {},
         .message = "the gateway is shutting down"});
  }

 private:
  asio::awaitable<bool> admit(const std::string& login) {
    std::istringstream words(login);
    std::string verb, subject, connection, credential;
    words >> verb >> subject >> connection >> credential;
    static constexpr std::string_view kKinds[] = {"postgres"};
    const gateway::Caller caller{.protocol = LineFrontEnd::kProtocol,
                                 .kinds = kKinds,
                                 .session = id_,
                                 .client_address = "test",
                                 .encrypted = false,
                                 .loopback_listener = true};
    if (verb != "LOGIN") {
      co_await write("ERR protocol expected LOGIN");
      co_return false;
    }
    if (auto refused = gateway::check_transport(gate_.context(), gate_.recorder(), caller, subject,
                                                connection)) {
      co_await write(
          fmt::format("ERR {} {}", gateway::to_string(refused->reason), refused->message));
      co_return false;
    }
    auto admitted = gateway::admit(gate_.context(), gate_.recorder(), caller,
                                   Secret{std::move(credential)}, subject, connection);
    if (auto* refused = std::get_if<gateway::Refusal>(&admitted)) {
      co_await write(
          fmt::format("ERR {} {}", gateway::to_string(refused->reason), refused->message));
      co_return false;
    }
    auto& [identity, grant] = std::get<gateway::Admitted>(admitted);
    gate_.open(weak_from_this(), std::move(identity), std::move(grant), "test",
               [this](const gateway::Refusal& why) { end(why); });
    co_await write("OK " + id_);
    co_return true;
  }

  // The gateway ends the session: a last line, then the socket closes (never waits).
  void end(const gateway::Refusal& why) {
    if (ended_) return;
    ended_ = true;
    gate_.close();
    const auto line = fmt::format("BYE {} {}\n", gateway::to_string(why.reason), why.message);
    boost::system::error_code ignored;
    socket_.non_blocking(true, ignored);
    socket_.send(asio::buffer(line), 0, ignored);
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  asio::awaitable<std::optional<std::string>> read_line() {
    auto [ec, n] = co_await asio::async_read_until(socket_, input_, '\n', use_nothrow);
    if (ec) co_return std::nullopt;
    std::string line(asio::buffers_begin(input_.data()),
                     asio::buffers_begin(input_.data()) + n - 1);
    input_.consume(n);
    co_return line;
  }

  asio::awaitable<void> write(std::string line) {
    if (ended_) co_return;
    line += '\n';
    co_await asio::async_write(socket_, asio::buffer(line), use_nothrow);
  }

  static std::string next_id() {
    static std::atomic<int> counter{0};
    return "line-" + std::to_string(++counter);
  }

  gateway::CommandGate gate_;
  asio::ip::tcp::socket socket_;
  std::function<void()> handshake_done_;
  asio::streambuf input_;
  std::string id_ = next_id();
  bool ended_ = false;
};

std::string refuse_connection(const gateway::Refusal& refusal) {
  return fmt::format("ERR {} {}\n", gateway::to_string(refusal.reason), refusal.message);
}

}  // namespace

LineFrontEnd::LineFrontEnd(net::IoThreads& threads,
                           std::shared_ptr<const gateway::GatewayContext> context)
    : loop_(
          kProtocol, threads, std::move(context),
          [](gateway::AcceptedConnection connection) -> std::shared_ptr<gateway::ServedSession> {
            return std::make_shared<LineSession>(std::move(connection));
          },
          &refuse_connection) {}

Result<void> LineFrontEnd::start(const config::Endpoint& listen) {
  return loop_.start(listen.host, listen.port);
}

}  // namespace portcullis::testing
