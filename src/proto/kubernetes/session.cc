// The life of one Kubernetes client connection: the TLS handshake under the handshake
// deadline, the request loop, admission, and the decision of each request.
#include "proto/kubernetes/session.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "net/stream.h"
#include "proto/kubernetes/exec_command.h"
#include "proto/kubernetes/exec_upgrade.h"

namespace portcullis::proto::kubernetes {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

using net::use_nothrow;
constexpr std::string_view kKinds[] = {"kubernetes"};
// Room for a token at the authenticator's limit (16 KiB) and kubectl's other headers.
constexpr std::size_t kMaxHeaderBytes = 32 * 1024;
// The API server's own limit on a request body (3 MiB, apiserver's MaxRequestBodyBytes).
constexpr std::size_t kMaxBodyBytes = 3 * 1024 * 1024;
// kubectl keeps an idle connection for 90 s (Go's IdleConnTimeout); the gateway a little longer.
constexpr std::chrono::seconds kIdleTimeout{120};
// A request whose headers have begun must arrive whole within this.
constexpr std::chrono::seconds kReadTimeout{30};
// Failed admissions one connection may make before it is closed.
constexpr int kMaxRefusedAdmissions = 12;

std::string make_session_id() {
  unsigned char raw[8];
  RAND_bytes(raw, sizeof raw);
  return fmt::format("{:02x}", fmt::join(raw, raw + sizeof raw, ""));
}

// How a refusal reads in the journal's `error` field: the HTTP status the client got.
std::string journal_error_text(gateway::RefusalReason reason, std::string_view message) {
  return fmt::format("{}: {}", status_of(reason).http, message);
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  return fmt::format("{:02x}", fmt::join(digest, digest + size, ""));
}

// The token of `Authorization: Bearer TOKEN`; empty when there is none.
std::string_view bearer_token(const Request& request) {
  const auto it = request.find(http::field::authorization);
  if (it == request.end()) return {};
  std::string_view value = it->value();
  constexpr std::string_view kBearer = "Bearer ";
  if (value.size() <= kBearer.size() || !beast::iequals(value.substr(0, kBearer.size()), kBearer))
    return {};
  value.remove_prefix(kBearer.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return value;
}

// Impersonation would have the API server act as someone else than the connection's
// credential: never passed on, never dropped silently.
std::optional<std::string> impersonation_header(const Request& request) {
  for (const auto& field : request) {
    const std::string_view name = field.name_string();
    if (name.size() >= 12 && beast::iequals(name.substr(0, 12), "Impersonate-"))
      return std::string(name);
  }
  return std::nullopt;
}

// What the journal shows of a request: method and path, the query (exec: the command line
// instead, which the query holds encoded), and a body's size (its content is bound to an
// approval by digest, and may hold a Secret's values).
std::string command_text(const Request& request, const ApiRequest& target,
                         const std::optional<std::string>& exec_line) {
  std::string text = fmt::format("{} {}", std::string_view(request.method_string()), target.path);
  if (exec_line) {
    fmt::format_to(std::back_inserter(text), " -- {}", *exec_line);
  } else if (!target.query.empty()) {
    fmt::format_to(std::back_inserter(text), "?{}", target.query);
  }
  if (!request.body().empty())
    fmt::format_to(std::back_inserter(text), " ({} bytes of {})", request.body().size(),
                   std::string_view(request[http::field::content_type]));
  return text;
}

}  // namespace

Session::Session(gateway::AcceptedConnection connection,
                 std::shared_ptr<boost::asio::ssl::context> tls)
    : context_(std::move(connection.context)),
      context_source_(connection.context_source),
      tls_(std::move(tls)),
      handshake_listener_(std::move(connection.handshake_done)),
      loopback_listener_(connection.loopback_listener),
      id_(make_session_id()),
      client_(beast::tcp_stream(std::move(connection.socket)), *tls_) {
  // An in-process connection (the MCP endpoint's) is a socketpair's end: it has no peer
  // address or TCP options, and its client is named by whoever made it.
  if (connection.in_process) {
    client_address_ = std::move(connection.client_address);
    return;
  }
  boost::system::error_code ec;
  auto& socket = beast::get_lowest_layer(client_).socket();
  const auto remote = socket.remote_endpoint(ec);
  client_address_ =
      ec ? "unknown" : fmt::format("{}:{}", remote.address().to_string(), remote.port());
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
}

Session::~Session() = default;

gateway::Caller Session::caller() const {
  return {.protocol = "kubernetes",
          .kinds = kKinds,
          .session = id_,
          .client_address = client_address_,
          .encrypted = true,  // the listener is HTTPS only
          .loopback_listener = loopback_listener_};
}

asio::awaitable<void> Session::run() {
  auto self = shared_from_this();
  auto& tcp = beast::get_lowest_layer(client_);
  tcp.expires_after(context_->config->limits.handshake_timeout);
  auto [handshake_ec] =
      co_await client_.async_handshake(asio::ssl::stream_base::server, use_nothrow);
  // The loop counts connections still in their handshake; a request follows at once.
  if (handshake_listener_) {
    handshake_listener_();
    handshake_listener_ = nullptr;
  }
  if (handshake_ec) {
    spdlog::info("event=kubernetes_tls_failed session={} client={} error={:?}", id_,
                 client_address_, handshake_ec.message());
    co_return;
  }
  while (!ending_) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxBodyBytes);
    tcp.expires_after(kIdleTimeout);
    auto [ec, read] =
        co_await http::async_read_header(client_, client_buffer_, parser, use_nothrow);
    if (!ec) {
      tcp.expires_after(kReadTimeout);
      std::tie(ec, read) = co_await http::async_read(client_, client_buffer_, parser, use_nothrow);
    }
    if (ec) {
      if (ec == http::error::body_limit || ec == http::error::header_limit) {
        Request request;
        request.version(11);
        co_await reply_status(request, {413, "RequestEntityTooLarge"},
                              fmt::format("portcullis: the request is larger than the gateway "
                                          "takes ({} KiB of headers, {} MiB of body)",
                                          kMaxHeaderBytes / 1024, kMaxBodyBytes >> 20));
      }
      break;
    }
    bytes_in_ += read;
    if (auto* live = gate_ ? gate_->live() : nullptr) live->bytes_in += read;
    Request request = parser.release();
    if (!co_await handle(request) || !request.keep_alive()) break;
  }
  close_gate();
  if (upstream_) upstream_->close();
  beast::error_code ignored;
  tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  tcp.close();
}

void Session::close_gate() {
  if (!gate_) return;
  if (gate_->is_open()) {
    const auto elapsed = std::chrono::steady_clock::now() - gate_opened_;
    gate_->recorder().disconnected(bytes_in_, bytes_out_, elapsed);
    spdlog::info(
        "event=session_end session={} subject={:?} connection={:?} duration_ms={} commands={}", id_,
        gate_->identity().subject, gate_->grant().connection->name,
        std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), gate_->commands());
  }
  gate_->close();
  gate_.reset();
  admitted_key_.clear();
}

void Session::shut_down() {
  end({.reason = gateway::RefusalReason::session_ended,
       .rule = {},
       .message = "the gateway is shutting down"});
}

void Session::end(const gateway::Refusal& why) {
  if (ending_) return;
  ending_ = true;
  spdlog::info("event=kubernetes_session_ending session={} reason={:?}", id_, why.message);
  if (gate_) gate_->interrupt();
  // A request in flight (a watch, a log stream, a held request) stops with the connection.
  beast::get_lowest_layer(client_).cancel();
  if (upstream_) upstream_->close();
}

asio::awaitable<std::optional<gateway::Refusal>> Session::admit(const Request& request,
                                                                const std::string& connection) {
  const std::string_view token = bearer_token(request);
  if (token.empty())
    co_return gateway::Refusal{
        .reason = gateway::RefusalReason::authentication_failed,
        .rule = {},
        .message =
            "a bearer token is required: use the kubeconfig `portcullis kubeconfig` "
            "prints, with your token"};
  auto key = fmt::format("{}\n{}", sha256_hex(token), connection);
  if (gate_ && key == admitted_key_) co_return std::nullopt;
  // Another token or another connection on the same client connection (client libraries pool
  // connections per host): the session so far ends, and a new one begins.
  close_gate();
  auto context = context_source_ ? context_source_->load() : context_;
  auto gate = std::make_unique<gateway::CommandGate>(client_.get_executor(), "kubernetes", context,
                                                     context_source_);
  gate->attach_recorder(id_, client_address_, &journal_error_text);
  auto outcome = gateway::admit(gate->context(), gate->recorder(), caller(),
                                Secret(std::string(token)), /*claimed_subject=*/{}, connection);
  if (auto* refusal = std::get_if<gateway::Refusal>(&outcome)) co_return *refusal;
  auto& admitted = std::get<gateway::Admitted>(outcome);
  spdlog::info("event=kubernetes_login session={} client={} subject={:?} connection={:?} auth={}",
               id_, client_address_, admitted.identity.subject, connection,
               identity::to_string(admitted.identity.method));
  std::weak_ptr<Session> weak = shared_from_this();
  gate->open(weak, std::move(admitted.identity), std::move(admitted.grant), client_address_,
             [weak](const gateway::Refusal& why) {
               if (auto session = weak.lock()) session->end(why);
             });
  gate_ = std::move(gate);
  admitted_key_ = std::move(key);
  gate_opened_ = std::chrono::steady_clock::now();
  // The API server connection belongs to the connection and credential admitted.
  if (upstream_) upstream_->close();
  upstream_.reset();
  co_return std::nullopt;
}

asio::awaitable<bool> Session::handle(Request& request) {
  auto target = read_request_target(request.method_string(), request.target());
  if (!target) {
    spdlog::info("event=kubernetes_request_refused session={} client={} reason={:?}", id_,
                 client_address_, target.error().message);
    co_return co_await reply_status(request, {400, "BadRequest"},
                                    "portcullis: " + target.error().message);
  }
  if (auto refusal = co_await admit(request, target->connection)) {
    const bool go_on = ++refused_admissions_ < kMaxRefusedAdmissions;
    co_return co_await reply_refusal(request, *refusal) && go_on;
  }
  auto& gate = *gate_;
  if (!gate.refresh()) co_return false;
  gate.count_command();
  if (auto header = impersonation_header(request)) {
    const auto refusal = gate.refuse_undecided(
        fmt::format("{} {}", std::string_view(request.method_string()), target->path),
        http::to_string(request.method()),
        {.reason = gateway::RefusalReason::denied,
         .rule = {},
         .message = fmt::format("the header {} is not allowed: requests reach the cluster as "
                                "the connection's own credential, and no one else",
                                *header)});
    co_return co_await reply_refusal(request, refusal);
  }

  policy::KubeCommand facts;
  facts.verb = target->verb;
  facts.group = target->group;
  facts.resource = target->resource;
  facts.subresource = target->subresource;
  facts.namespace_name = target->namespace_name;
  facts.name = target->name.empty() ? target->selected_name : target->name;
  facts.discovery = target->discovery;
  if (!request.body().empty()) facts.body_sha256 = sha256_hex(request.body());
  std::optional<std::string> exec_line;
  if (facts.verb == "exec") exec_line = format_exec_line(target->command);
  policy::Command command;
  command.via = http::to_string(request.method());
  command.text = command_text(request, *target, exec_line);
  command.detail = policy::read_kube_request(std::move(facts), exec_line);

  // What the gateway cannot relay is refused, and said so: streams in a protocol whose frames
  // it does not read. It is decided first all the same: a refusal by the rules is what the
  // caller must see, and the journal holds every attempt.
  const auto& kube = *command.kube();
  std::optional<std::string> unrelayable;
  if (kube.verb == "portforward")
    unrelayable = unrelayable_forward_stream(request);
  else if (kube.verb == "exec" || kube.verb == "attach")
    unrelayable = unrelayable_exec_stream(request, kube.verb);
  auto outcome = gate.decide(command, ++batch_);
  if (outcome.next == gateway::CommandGate::Next::hold) {
    const auto notice = gate.hold_notice();
    spdlog::info("event=kubernetes_request_held session={} review={} notice={:?}", id_,
                 gate.held_review(), notice.message);
    auto watch = watch_client_during_hold();
    outcome = co_await gate.wait_for_review(batch_);
    watch->holding = false;
    boost::system::error_code ignored;
    beast::get_lowest_layer(client_).socket().cancel(ignored);
  }
  if (ending_) {
    if (outcome.next == gateway::CommandGate::Next::run)
      gate.recorder().on_error("the session ended before the request was forwarded");
    co_return false;
  }
  if (outcome.next == gateway::CommandGate::Next::refuse)
    co_return co_await reply_refusal(request, outcome.refusal);
  if (auto failed = co_await gate.wait_for_commits()) {
    co_await reply_refusal(request, *failed);
    end(*failed);
    co_return false;
  }
  if (unrelayable) {
    gate.recorder().on_error(fmt::format("403: {}", *unrelayable));
    co_return co_await reply_status(request, {403, "Forbidden"}, "portcullis: " + *unrelayable);
  }
  co_return co_await forward(request, *target, *command.kube());
}

std::shared_ptr<Session::HoldWatch> Session::watch_client_during_hold() {
  // An HTTP/1.1 client sends nothing more before its response: the socket turning readable
  // while the request is held is its FIN, its TLS close_notify or a reset. The hold then ends
  // at once (the review stays pending, the journal says the client left) instead of running
  // the request on approval for no one, or keeping the session until the hold's wait is out.
  auto watch = std::make_shared<HoldWatch>();
  std::weak_ptr<Session> weak = shared_from_this();
  beast::get_lowest_layer(client_).socket().async_wait(
      asio::ip::tcp::socket::wait_read, [watch, weak](const boost::system::error_code& ec) {
        if (ec || !watch->holding) return;
        if (auto session = weak.lock(); session && session->gate_ && session->gate_->holding())
          session->gate_->client_left();
      });
  return watch;
}

asio::awaitable<bool> Session::reply_refusal(const Request& request,
                                             const gateway::Refusal& refusal) {
  co_return co_await reply_status(request, status_of(refusal.reason),
                                  "portcullis: " + refusal.message);
}

asio::awaitable<bool> Session::reply_status(const Request& request, StatusCode code,
                                            std::string_view message) {
  http::response<http::string_body> response{static_cast<http::status>(code.http),
                                             request.version() ? request.version() : 11};
  response.set(http::field::content_type, "application/json");
  response.body() = status_json(code, message);
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  beast::get_lowest_layer(client_).expires_after(kWriteTimeout);
  auto [ec, written] = co_await http::async_write(client_, response, use_nothrow);
  bytes_out_ += written;
  co_return !ec;
}

}  // namespace portcullis::proto::kubernetes
