// End to end: the REST API of the real gateway (`listen.http`) in front of a real PostgreSQL —
// health, journal search, verify and live stream, metrics, who may call what, the limits on
// what a client may send, HTTPS, and reloads.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "gateway_fixture.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"
#include "support/test_certificates.h"

namespace portcullis::testing {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;
using HttpResponse = http::response<http::string_body>;

// One HTTP/1.1 connection to the gateway, plain or TLS (verifying the gateway's certificate
// against a CA), where every step fails the test after a timeout instead of hanging it.
class HttpClient {
 public:
  explicit HttpClient(uint16_t port, const std::filesystem::path& ca_file = {}) {
    tcp::socket socket(io_);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    if (ca_file.empty()) {
      plain_.emplace(std::move(socket));
      return;
    }
    tls_context_.load_verify_file(ca_file.string());
    tls_context_.set_verify_mode(asio::ssl::verify_peer);
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(socket), tls_context_);
    tls_->set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
    const auto ec =
        run([&](auto done) { tls_->async_handshake(asio::ssl::stream_base::client, done); });
    if (ec) throw std::runtime_error("TLS handshake: " + ec.message());
  }

  void send(const std::string& bytes) {
    const auto ec = run([&](auto done) {
      with_stream([&](auto& s) { asio::async_write(s, asio::buffer(bytes), done); });
    });
    if (ec) throw std::runtime_error("write: " + ec.message());
  }

  void send(http::request<http::string_body>& request) {
    const auto ec =
        run([&](auto done) { with_stream([&](auto& s) { http::async_write(s, request, done); }); });
    if (ec) throw std::runtime_error("write: " + ec.message());
  }

  HttpResponse read_response() {
    HttpResponse response;
    const auto ec = run([&](auto done) {
      with_stream([&](auto& s) { http::async_read(s, buffer_, response, done); });
    });
    if (ec) throw std::runtime_error("read: " + ec.message());
    return response;
  }

  // Reads raw bytes until `text` has arrived, the connection ends or `timeout` passes.
  bool read_until(std::string_view text, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received_.find(text) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      std::array<char, 4096> chunk;
      std::size_t got = 0;
      const auto ec = run(
          [&](auto done) {
            with_stream([&](auto& s) {
              s.async_read_some(asio::buffer(chunk),
                                [&, done](boost::system::error_code e, std::size_t n) mutable {
                                  got = n;
                                  done(e);
                                });
            });
          },
          left, /*throw_on_timeout=*/false);
      received_.append(chunk.data(), got);
      if (ec) return received_.find(text) != std::string::npos;
    }
    return true;
  }

  const std::string& received() const { return received_; }

 private:
  // Starts an operation with a completion handler and runs until it completes.
  template <class Start>
  boost::system::error_code run(Start start, std::chrono::milliseconds timeout = 20s,
                                bool throw_on_timeout = true) {
    std::optional<boost::system::error_code> result;
    start([&result](boost::system::error_code ec, auto&&...) { result = ec; });
    io_.restart();
    io_.run_for(timeout);
    if (result) return *result;
    // Timed out: close, and let the operation finish with an error before anything it uses goes.
    boost::system::error_code ignored;
    lowest().close(ignored);
    io_.restart();
    io_.run();
    if (throw_on_timeout) throw std::runtime_error("HTTP client timed out");
    return asio::error::timed_out;
  }

  template <class F>
  void with_stream(F f) {
    if (tls_)
      f(*tls_);
    else
      f(*plain_);
  }

  tcp::socket& lowest() { return tls_ ? tls_->next_layer() : *plain_; }

  asio::io_context io_;
  asio::ssl::context tls_context_{asio::ssl::context::tls_client};
  std::optional<tcp::socket> plain_;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
  boost::beast::flat_buffer buffer_;
  std::string received_;
};

HttpResponse get(uint16_t port, const std::string& target, const std::string& token = {},
                 const std::filesystem::path& ca_file = {}) {
  HttpClient client(port, ca_file);
  http::request<http::string_body> request{http::verb::get, target, 11};
  request.set(http::field::host, "127.0.0.1");
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  client.send(request);
  return client.read_response();
}

HttpResponse post(uint16_t port, const std::string& target, const std::string& body,
                  const std::string& token) {
  HttpClient client(port);
  http::request<http::string_body> request{http::verb::post, target, 11};
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::content_type, "application/json");
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  request.body() = body;
  request.prepare_payload();
  client.send(request);
  return client.read_response();
}

HttpResponse remove(uint16_t port, const std::string& target, const std::string& token) {
  HttpClient client(port);
  http::request<http::string_body> request{http::verb::delete_, target, 11};
  request.set(http::field::host, "127.0.0.1");
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  client.send(request);
  return client.read_response();
}

std::string header(const HttpResponse& response, http::field field) {
  const auto value = response[field];
  return std::string(value.data(), value.size());
}

// The error code of a JSON error response, or a description of what came instead.
std::string error_code(const HttpResponse& response) {
  try {
    return std::string(json::parse(response.body()).at("error").at("code").as_string());
  } catch (const std::exception&) {
    return "not a JSON error: " + response.body();
  }
}

constexpr std::string_view kApiSection =
    "api:\n"
    "  admin_groups: [platform-admins]\n"
    "  auditor_groups: [security]\n";

GatewayOptions api_options() {
  GatewayOptions options;
  options.http_listener = true;
  options.api_section = std::string(kApiSection);
  return options;
}

class ApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    postgres_ = new PostgresServer();
    gateway_ = new GatewayProcess(*postgres_, api_options());
    auditor_token_ = new std::string(gateway_->token_for("ann", "security"));
  }
  static void TearDownTestSuite() {
    delete auditor_token_;
    delete gateway_;
    delete postgres_;
  }

  static uint16_t port() { return gateway_->http_port(); }

  static PostgresServer* postgres_;
  static GatewayProcess* gateway_;
  static std::string* auditor_token_;
};

PostgresServer* ApiTest::postgres_ = nullptr;
GatewayProcess* ApiTest::gateway_ = nullptr;
std::string* ApiTest::auditor_token_ = nullptr;

TEST_F(ApiTest, HealthAnswersWithoutAToken) {
  const auto response = get(port(), "/api/v1/health");
  EXPECT_EQ(response.result(), http::status::ok);
  EXPECT_EQ(header(response, http::field::content_type), "application/json");
  const auto body = json::parse(response.body());
  EXPECT_EQ(body.at("status"), "ok");
  EXPECT_EQ(body.at("audit"), "ok");
}

TEST_F(ApiTest, SearchReturnsAStatementRunThroughPsqlWithItsOutcome) {
  const auto token = gateway_->issue_token("searcher");
  auto ran = gateway_->psql("searcher", token, {"-c", "select n from generate_series(1, 3) n"});
  ASSERT_TRUE(ran.ok()) << ran.describe();

  // The result record is committed shortly after the statement's: wait for the joined hit.
  json::object hit;
  for (const auto deadline = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(100ms)) {
    const auto response =
        get(port(), "/api/v1/audit?subject=searcher&contains=generate_series", *auditor_token_);
    ASSERT_EQ(response.result(), http::status::ok) << response.body();
    const auto events = json::parse(response.body()).at("events").as_array();
    if (events.size() == 1 && events[0].as_object().contains("rows")) {
      hit = events[0].as_object();
      break;
    }
  }
  ASSERT_FALSE(hit.empty()) << "no joined hit for the statement";
  EXPECT_EQ(hit.at("event"), "statement");
  EXPECT_EQ(hit.at("command"), "select n from generate_series(1, 3) n");
  EXPECT_EQ(hit.at("subject"), "searcher");
  EXPECT_EQ(hit.at("connection"), "app-db");
  EXPECT_EQ(hit.at("verdict"), "allow");
  EXPECT_EQ(hit.at("rows"), 3);
  EXPECT_GT(hit.at("result_seq").as_int64(), hit.at("seq").as_int64());
  // Which token: its jti (gateway tokens carry one), never the token.
  EXPECT_EQ(hit.at("auth"), "gateway_token");
  const std::string credential(hit.at("credential").as_string());
  EXPECT_EQ(credential.rfind("jti ", 0), 0u) << credential;
  EXPECT_GT(credential.size(), 4u);
  const auto one = get(port(), fmt::format("/api/v1/audit/events/{}", hit.at("cursor").as_int64()),
                       *auditor_token_);
  ASSERT_EQ(one.result(), http::status::ok) << one.body();
  EXPECT_EQ(std::string(json::parse(one.body()).at("event").at("credential").as_string()),
            credential)
      << one.body();
  EXPECT_EQ(one.body().find(token), std::string::npos);
  // ?credential= finds the statement; another credential finds nothing of it.
  const auto by_credential =
      get(port(), "/api/v1/audit?contains=generate_series&credential=jti%20" + credential.substr(4),
          *auditor_token_);
  ASSERT_EQ(by_credential.result(), http::status::ok) << by_credential.body();
  EXPECT_EQ(json::parse(by_credential.body()).at("events").as_array().size(), 1u)
      << by_credential.body();
  const auto other =
      get(port(), "/api/v1/audit?contains=generate_series&credential=jti%20nope", *auditor_token_);
  ASSERT_EQ(other.result(), http::status::ok) << other.body();
  EXPECT_TRUE(json::parse(other.body()).at("events").as_array().empty()) << other.body();

  // Filters narrow; limit bounds.
  const auto connects =
      get(port(), "/api/v1/audit?subject=searcher&event=connect&limit=1", *auditor_token_);
  ASSERT_EQ(connects.result(), http::status::ok) << connects.body();
  const auto events = json::parse(connects.body()).at("events").as_array();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("event"), "connect");
  const auto none = get(port(), "/api/v1/audit?subject=searcher&verdict=deny", *auditor_token_);
  EXPECT_TRUE(json::parse(none.body()).at("events").as_array().empty()) << none.body();
}

TEST_F(ApiTest, RefusesMissingInvalidAndUnprivilegedTokens) {
  const auto missing = get(port(), "/api/v1/audit");
  EXPECT_EQ(missing.result(), http::status::unauthorized);
  EXPECT_EQ(error_code(missing), "unauthorized");
  EXPECT_EQ(header(missing, http::field::www_authenticate), "Bearer realm=\"portcullis\"");

  const std::string forged = *auditor_token_ + "x";
  const auto invalid = get(port(), "/api/v1/audit", forged);
  EXPECT_EQ(invalid.result(), http::status::unauthorized);
  EXPECT_EQ(error_code(invalid), "unauthorized");
  EXPECT_NE(header(invalid, http::field::www_authenticate).find("invalid_token"),
            std::string::npos);
  // The reason is given; the token is not.
  EXPECT_NE(invalid.body().find("authentication failed"), std::string::npos) << invalid.body();
  EXPECT_EQ(invalid.body().find(forged.substr(forged.size() - 20)), std::string::npos);

  const auto garbage = get(port(), "/api/v1/audit/verify", "not-a-token");
  EXPECT_EQ(garbage.result(), http::status::unauthorized);
  EXPECT_EQ(garbage.body().find("not-a-token"), std::string::npos) << garbage.body();

  // A valid token whose groups are neither admin nor auditor groups.
  const auto tester = gateway_->issue_token("alice");
  for (const char* target : {"/api/v1/audit", "/api/v1/audit/verify", "/api/v1/audit/stream"}) {
    const auto forbidden = get(port(), target, tester);
    EXPECT_EQ(forbidden.result(), http::status::forbidden) << target;
    EXPECT_EQ(error_code(forbidden), "forbidden") << target;
  }

  // Admin groups may read the journal too.
  const auto admin = gateway_->token_for("root", "platform-admins");
  EXPECT_EQ(get(port(), "/api/v1/audit/verify", admin).result(), http::status::ok);
}

TEST_F(ApiTest, AcceptsAnApiKeyOfAnAuditorGroup) {
  auto created = gateway_->cli({"apikey", "create", "--name", "audit-bot", "--group", "security"});
  ASSERT_TRUE(created.ok()) << created.describe();
  std::string key = created.stdout_text;
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  const auto response = get(port(), "/api/v1/audit?limit=5", key);
  EXPECT_EQ(response.result(), http::status::ok) << response.body();

  auto revoked = gateway_->cli({"apikey", "revoke", "audit-bot"});
  ASSERT_TRUE(revoked.ok()) << revoked.describe();
  const auto refused = get(port(), "/api/v1/audit?limit=5", key);
  EXPECT_EQ(refused.result(), http::status::unauthorized);
  EXPECT_NE(refused.body().find("revoked"), std::string::npos) << refused.body();
}

TEST_F(ApiTest, VerifyReportsAnIntactJournal) {
  const auto token = gateway_->issue_token("verifier");
  auto ran = gateway_->psql("verifier", token, {"-c", "select 'to verify'"});
  ASSERT_TRUE(ran.ok()) << ran.describe();
  const auto response = get(port(), "/api/v1/audit/verify", *auditor_token_);
  ASSERT_EQ(response.result(), http::status::ok) << response.body();
  const auto report = json::parse(response.body());
  EXPECT_EQ(report.at("ok"), true) << response.body();
  EXPECT_GT(report.at("records_checked").as_int64(), 0) << response.body();
}

TEST_F(ApiTest, MetricsCountTheJournalAndTheSessions) {
  const auto token = gateway_->issue_token("counted");
  auto ran = gateway_->psql("counted", token, {"-c", "select 'counted'"});
  ASSERT_TRUE(ran.ok()) << ran.describe();
  // Open to anyone on a loopback listener, as a local Prometheus scrapes it.
  const auto response = get(port(), "/metrics");
  ASSERT_EQ(response.result(), http::status::ok) << response.body();
  EXPECT_EQ(header(response, http::field::content_type),
            "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = response.body();
  for (const char* metric :
       {"# TYPE portcullis_audit_events_total counter", "portcullis_audit_commits_total ",
        "portcullis_audit_failures_total 0\n", "portcullis_audit_healthy 1\n",
        "portcullis_sessions_active{protocol=\"postgres\"} ", "portcullis_build_info{version=\""})
    EXPECT_NE(text.find(metric), std::string::npos) << metric << " missing from\n" << text;
  EXPECT_EQ(text.find("portcullis_audit_events_total 0\n"), std::string::npos) << text;
}

TEST_F(ApiTest, StreamDeliversAnEventCommittedAfterItOpened) {
  const auto token = gateway_->issue_token("streamer");
  auto before = gateway_->psql("streamer", token, {"-c", "select 'before the stream opened'"});
  ASSERT_TRUE(before.ok()) << before.describe();

  HttpClient stream(port());
  stream.send(fmt::format(
      "GET /api/v1/audit/stream?subject=streamer&event=statement HTTP/1.1\r\n"
      "Host: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer {}\r\n\r\n",
      *auditor_token_));
  ASSERT_TRUE(stream.read_until("\r\n\r\n", 10s)) << stream.received();
  ASSERT_EQ(stream.received().rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << stream.received();
  EXPECT_NE(stream.received().find("Content-Type: text/event-stream\r\n"), std::string::npos);

  auto after = gateway_->psql("streamer", token, {"-c", "select 'after the stream opened'"});
  ASSERT_TRUE(after.ok()) << after.describe();
  ASSERT_TRUE(stream.read_until("after the stream opened", 10s)) << stream.received();
  const std::string& received = stream.received();
  EXPECT_EQ(received.find("before the stream opened"), std::string::npos) << received;
  // One event: its seq as the id, the record as the data.
  const auto data = received.find("data: {");
  ASSERT_NE(data, std::string::npos) << received;
  const auto id = received.rfind("id: ", data);
  ASSERT_NE(id, std::string::npos) << received;
  const auto line_end = received.find('\n', data);
  const auto record = json::parse(received.substr(data + 6, line_end - data - 6));
  EXPECT_EQ(record.at("command"), "select 'after the stream opened'");
  EXPECT_EQ(std::to_string(record.at("seq").as_int64()),
            received.substr(id + 4, received.find('\n', id) - id - 4));
}

TEST_F(ApiTest, RefusesOversizedHeadersAndBodies) {
  {
    HttpClient client(port());
    client.send("GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " +
                std::string(40 * 1024, 'a') + "\r\n\r\n");
    const auto response = client.read_response();
    EXPECT_EQ(response.result(), http::status::request_header_fields_too_large);
    EXPECT_EQ(error_code(response), "headers_too_large");
  }
  {
    // Refused on its Content-Length, before the body is read.
    HttpClient client(port());
    client.send(
        "POST /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 1048576\r\n\r\n{");
    const auto response = client.read_response();
    EXPECT_EQ(response.result(), http::status::payload_too_large);
    EXPECT_EQ(error_code(response), "payload_too_large");
  }
  // The gateway goes on serving.
  EXPECT_EQ(get(port(), "/api/v1/health").result(), http::status::ok);
}

TEST_F(ApiTest, RefusesUnknownPathsMethodsAndFilters) {
  const auto missing = get(port(), "/api/v1/nothing-here");
  EXPECT_EQ(missing.result(), http::status::not_found);
  EXPECT_EQ(error_code(missing), "not_found");

  HttpClient client(port());
  client.send("DELETE /api/v1/audit HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const auto method = client.read_response();
  EXPECT_EQ(method.result(), http::status::method_not_allowed);
  EXPECT_EQ(header(method, http::field::allow), "GET");

  for (const char* target : {"/api/v1/audit?verdit=deny", "/api/v1/audit?verdict=maybe",
                             "/api/v1/audit?limit=0", "/api/v1/audit?since=last-tuesday",
                             "/api/v1/audit?subject=a&subject=b", "/api/v1/audit/stream?limit=5"}) {
    const auto response = get(port(), target, *auditor_token_);
    EXPECT_EQ(response.result(), http::status::bad_request) << target;
    EXPECT_EQ(error_code(response), "invalid_parameter") << target;
  }
}

TEST_F(ApiTest, OpenApiDocumentDescribesEveryEndpoint) {
  const auto response = get(port(), "/api/v1/openapi.json");
  ASSERT_EQ(response.result(), http::status::ok);
  const auto document = json::parse(response.body());
  EXPECT_EQ(document.at("openapi"), "3.0.3");
  const auto& paths = document.at("paths").as_object();
  for (const char* path :
       {"/api/v1/health", "/api/v1/audit", "/api/v1/audit/verify", "/api/v1/audit/stream",
        "/api/v1/openapi.json", "/metrics", "/api/v1/ssh/certificates", "/api/v1/ssh/keys",
        "/api/v1/ssh/keys/{id}", "/api/v1/me", "/api/v1/reviews/stream",
        "/api/v1/audit/events/{cursor}", "/api/v1/console/config"})
    EXPECT_TRUE(paths.contains(path)) << path;
}

// A public key made by ssh-keygen: its .pub line, without the newline.
std::string make_public_key(const TempDir& dir, const std::string& name,
                            const std::vector<std::string>& type_options) {
  std::vector<std::string> argv{"ssh-keygen", "-q",           "-N", "",
                                "-C",         name + "@test", "-f", (dir.path() / name).string()};
  argv.insert(argv.end(), type_options.begin(), type_options.end());
  const auto made = run_command(argv);
  EXPECT_EQ(made.exit_code, 0) << made.stderr_text;
  std::string line = read_text_file(dir.path() / (name + ".pub"));
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

TEST_F(ApiTest, AdminsRegisterListAndRemoveSshKeys) {
  TempDir dir;
  const std::string admin = gateway_->token_for("root", "platform-admins");
  const std::string line = make_public_key(dir, "bot", {"-t", "ed25519"});
  const auto fingerprint =
      run_command({"ssh-keygen", "-l", "-f", (dir.path() / "bot.pub").string()});
  ASSERT_EQ(fingerprint.exit_code, 0) << fingerprint.stderr_text;
  const std::string body = json::serialize(json::object{{"subject", "ci-bot"},
                                                        {"groups", json::array{"deployers", "ci"}},
                                                        {"public_key", line},
                                                        {"expires_in", "30d"}});

  // Only admin groups: an auditor is refused, and so is a caller without a token.
  EXPECT_EQ(post(port(), "/api/v1/ssh/keys", body, *auditor_token_).result(),
            http::status::forbidden);
  EXPECT_EQ(post(port(), "/api/v1/ssh/keys", body, "").result(), http::status::unauthorized);
  EXPECT_EQ(get(port(), "/api/v1/ssh/keys", *auditor_token_).result(), http::status::forbidden);

  const auto created = post(port(), "/api/v1/ssh/keys", body, admin);
  ASSERT_EQ(created.result(), http::status::created) << created.body();
  const auto key = json::parse(created.body()).as_object();
  const std::string id(key.at("id").as_string());
  EXPECT_TRUE(id.starts_with("k-")) << id;
  // The fingerprint is the one ssh-keygen prints for the key.
  const std::string printed(key.at("fingerprint").as_string());
  EXPECT_TRUE(printed.starts_with("SHA256:")) << printed;
  EXPECT_NE(fingerprint.stdout_text.find(" " + printed + " "), std::string::npos)
      << fingerprint.stdout_text << " vs " << printed;
  EXPECT_EQ(key.at("subject"), "ci-bot");
  EXPECT_EQ(key.at("groups").as_array(), (json::array{"deployers", "ci"}));
  EXPECT_EQ(key.at("public_key").as_string(), line);
  EXPECT_EQ(key.at("created_by"), "root");
  EXPECT_TRUE(key.at("expires_at").is_string());
  EXPECT_TRUE(key.at("removed_at").is_null());

  // The same key again, whoever it would be for, is a conflict naming the registration.
  const auto again =
      post(port(), "/api/v1/ssh/keys",
           json::serialize(json::object{{"subject", "other"}, {"public_key", line}}), admin);
  EXPECT_EQ(again.result(), http::status::conflict) << again.body();
  EXPECT_NE(again.body().find(id), std::string::npos) << again.body();

  // Keys that are not plain keys of a registrable type and size, and malformed requests.
  const std::string weak = make_public_key(dir, "weak", {"-t", "rsa", "-b", "1024"});
  const std::string dsa_like = "ssh-dss " + line.substr(line.find(' ') + 1);
  for (const auto& [bad, why] : std::vector<std::pair<std::string, std::string>>{
           {json::serialize(json::object{{"subject", "ci-bot"}, {"public_key", weak}}), "2048"},
           {json::serialize(json::object{{"subject", "ci-bot"}, {"public_key", dsa_like}}),
            "holds another type"},
           {json::serialize(json::object{{"subject", "ci-bot"}, {"public_key", "nonsense"}}),
            "TYPE BASE64"},
           {json::serialize(json::object{{"public_key", line}}), "subject"},
           {json::serialize(
                json::object{{"subject", "ci-bot"}, {"public_key", line}, {"expires_in", "0s"}}),
            "longer than zero"},
           {json::serialize(json::object{{"subject", "ci-bot"},
                                         {"public_key", line},
                                         {"expires_in", "1d"},
                                         {"expires_at", "2030-01-01T00:00:00Z"}}),
            "not both"},
           {json::serialize(json::object{
                {"subject", "ci-bot"}, {"public_key", line}, {"expires_at", "2001-01-01"}}),
            "expire before"},
       }) {
    const auto refused = post(port(), "/api/v1/ssh/keys", bad, admin);
    EXPECT_EQ(refused.result(), http::status::bad_request) << bad << " -> " << refused.body();
    EXPECT_NE(refused.body().find(why), std::string::npos) << bad << " -> " << refused.body();
  }

  // Listing: every subject, or one; the public key is shown, it is no secret.
  const auto listed = get(port(), "/api/v1/ssh/keys", admin);
  ASSERT_EQ(listed.result(), http::status::ok) << listed.body();
  const auto keys = json::parse(listed.body()).at("keys").as_array();
  ASSERT_EQ(keys.size(), 1u) << listed.body();
  EXPECT_EQ(keys[0].at("id").as_string(), id);
  EXPECT_EQ(keys[0].at("public_key").as_string(), line);
  EXPECT_EQ(json::parse(get(port(), "/api/v1/ssh/keys?subject=ci-bot", admin).body())
                .at("keys")
                .as_array()
                .size(),
            1u);
  EXPECT_TRUE(json::parse(get(port(), "/api/v1/ssh/keys?subject=nobody", admin).body())
                  .at("keys")
                  .as_array()
                  .empty());

  // Removing: by an admin, once; the listing keeps it as removed.
  EXPECT_EQ(remove(port(), "/api/v1/ssh/keys/" + id, *auditor_token_).result(),
            http::status::forbidden);
  const auto removed = remove(port(), "/api/v1/ssh/keys/" + id, admin);
  ASSERT_EQ(removed.result(), http::status::ok) << removed.body();
  EXPECT_EQ(json::parse(removed.body()).at("removed"), true);
  const auto twice = remove(port(), "/api/v1/ssh/keys/" + id, admin);
  EXPECT_EQ(twice.result(), http::status::not_found) << twice.body();
  const auto after = json::parse(get(port(), "/api/v1/ssh/keys", admin).body()).at("keys");
  ASSERT_EQ(after.as_array().size(), 1u);
  EXPECT_TRUE(after.as_array()[0].at("removed_at").is_string());
  EXPECT_EQ(after.as_array()[0].at("removed_by"), "root");

  // Removed, the key may be registered again.
  EXPECT_EQ(post(port(), "/api/v1/ssh/keys", body, admin).result(), http::status::created);
}

TEST_F(ApiTest, SshLoginWritesAKeyAndACertificateThatOpensshReads) {
  TempDir out;
  const auto token = gateway_->issue_token("sam");
  const auto login =
      gateway_->cli({"ssh", "login", "--api", fmt::format("http://127.0.0.1:{}", port()), "--token",
                     token, "--out", out.path().string()});
  ASSERT_EQ(login.exit_code, 0) << login.describe();
  EXPECT_NE(login.stdout_text.find("certificate for sam valid until"), std::string::npos)
      << login.stdout_text;
  EXPECT_NE(login.stdout_text.find("-o CertificateFile="), std::string::npos);
  const auto key = out.path() / "id_ed25519";
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  // The key is OpenSSH's own format, and its public half is the .pub written beside it.
  const auto derived = run_command({"ssh-keygen", "-y", "-f", key.string()});
  ASSERT_EQ(derived.exit_code, 0) << derived.stderr_text;
  const std::string pub = read_text_file(out.path() / "id_ed25519.pub");
  EXPECT_EQ(derived.stdout_text.substr(0, 80), pub.substr(0, 80));
  // ssh-keygen checks the gateway CA's signature while listing the certificate.
  const auto listed =
      run_command({"ssh-keygen", "-L", "-f", (out.path() / "id_ed25519-cert.pub").string()});
  ASSERT_EQ(listed.exit_code, 0) << listed.stderr_text;
  EXPECT_NE(listed.stdout_text.find("user certificate"), std::string::npos) << listed.stdout_text;
  EXPECT_NE(listed.stdout_text.find("Key ID: \"sam\""), std::string::npos) << listed.stdout_text;
  EXPECT_NE(listed.stdout_text.find("Signing CA: ED25519 SHA256:"), std::string::npos);

  // Only ssh-ed25519 keys, only for a valid credential, and only for a subject not revoked.
  const auto rsa = post(port(), "/api/v1/ssh/certificates",
                        R"({"public_key": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAAQC7"})", token);
  EXPECT_EQ(rsa.result(), http::status::bad_request) << rsa.body();
  const std::string body = json::serialize(json::object{{"public_key", pub}});
  EXPECT_EQ(post(port(), "/api/v1/ssh/certificates", body, "").result(),
            http::status::unauthorized);
  const auto revoked_token = gateway_->issue_token("sid");
  const auto admin = gateway_->token_for("ada", "platform-admins");
  ASSERT_EQ(post(port(), "/api/v1/revocations", R"({"subject": "sid"})", admin).result(),
            http::status::ok);
  EXPECT_EQ(post(port(), "/api/v1/ssh/certificates", body, revoked_token).result(),
            http::status::unauthorized);
}

std::string tls_section(const TestCertificates& certs, std::string_view plaintext) {
  return fmt::format("tls:\n  cert_file: {}\n  key_file: {}\n  plaintext: {}\n",
                     certs.cert_file().string(), certs.key_file().string(), plaintext);
}

TEST(ApiTlsTest, ServesHttpsWithTheGatewayCertificateAndRefusesPlainHttp) {
  TestCertificates certs;
  PostgresServer postgres;
  auto options = api_options();
  options.tls_section = tls_section(certs, "never");
  GatewayProcess gateway(postgres, options);

  const auto response = get(gateway.http_port(), "/api/v1/health", {}, certs.ca_file());
  EXPECT_EQ(response.result(), http::status::ok) << response.body();
  const auto auditor = gateway.token_for("ann", "security");
  EXPECT_EQ(get(gateway.http_port(), "/api/v1/audit", auditor, certs.ca_file()).result(),
            http::status::ok);

  const auto plain = get(gateway.http_port(), "/api/v1/health");
  EXPECT_EQ(plain.result(), http::status::bad_request);
  EXPECT_EQ(error_code(plain), "tls_required");
}

TEST(ApiReloadTest, FollowsTheApiGroupsOfAReloadedConfiguration) {
  PostgresServer postgres;
  auto options = api_options();
  GatewayProcess gateway(postgres, options);
  const auto token = gateway.token_for("carl", "compliance");
  EXPECT_EQ(get(gateway.http_port(), "/api/v1/audit", token).result(), http::status::forbidden);

  options.api_section =
      "api:\n"
      "  admin_groups: [platform-admins]\n"
      "  auditor_groups: [security, compliance]\n";
  ASSERT_TRUE(gateway.reload(options));
  http::status status = http::status::forbidden;
  for (const auto deadline = std::chrono::steady_clock::now() + 10s;
       status != http::status::ok && std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(100ms))
    status = get(gateway.http_port(), "/api/v1/audit", token).result();
  EXPECT_EQ(status, http::status::ok);
}

}  // namespace
}  // namespace portcullis::testing
