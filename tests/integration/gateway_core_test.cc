// The seam between a protocol and the gateway core, shown with a front end that is nothing
// but that seam (support/line_front_end.h): every control PostgreSQL has — decisions, review
// holds, kill, revoke, the strict journal — reaches it through the core alone.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "audit/journal.h"
#include "config/loader.h"
#include "gateway/context.h"
#include "gateway/live_sessions.h"
#include "identity/authenticator.h"
#include "identity/gateway_token.h"
#include "identity/signing_key.h"
#include "net/io_threads.h"
#include "review/reviews.h"
#include "store/journal_store.h"
#include "store/state_store.h"
#include "support/free_port.h"
#include "support/full_disk.h"
#include "support/line_front_end.h"
#include "support/temp_dir.h"

namespace portcullis {
namespace {

// The journal as a reader opens it: read-only, waiting a second for the gateway's writes.
store::JournalStoreOptions reading_options() {
  store::JournalStoreOptions options;
  options.busy_timeout_ms = 1000;
  options.read_only = true;
  return options;
}

using namespace std::chrono_literals;
using portcullis::testing::free_tcp_port;
using portcullis::testing::TempDir;

identity::Identity reviewer(std::string subject, std::string group) {
  identity::Identity who;
  who.subject = std::move(subject);
  who.groups = {std::move(group)};
  return who;
}

// A client of the line protocol: one line out, one line in, with a deadline on every read.
class LineClient {
 public:
  explicit LineClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      throw std::runtime_error("cannot connect");
    timeval timeout{.tv_sec = 20, .tv_usec = 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~LineClient() { ::close(fd_); }

  void send(const std::string& line) {
    const std::string out = line + "\n";
    ASSERT_EQ(::write(fd_, out.data(), out.size()), static_cast<ssize_t>(out.size()));
  }
  // The next line, or nullopt once the gateway closed the connection (or the deadline passed).
  std::optional<std::string> read() {
    for (;;) {
      if (const auto end = buffer_.find('\n'); end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        return line;
      }
      char chunk[4096];
      const ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  std::string ask(const std::string& line) {
    send(line);
    return read().value_or("<closed>");
  }

 private:
  int fd_ = -1;
  std::string buffer_;
};

class GatewayCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = free_tcp_port();
    const auto yaml = fmt::format(
        "listen:\n  postgres: 127.0.0.1:{}\n"
        "state:\n  url: sqlite://state.db\n"
        "identity:\n  signing_key_file: signing.key\n"
        "connections:\n"
        "  - name: app-db\n    kind: postgres\n    address: 127.0.0.1:1\n    database: app\n"
        "    tls: disable\n"
        "    credentials:\n      default: {{ user: app }}\n"
        "access:\n"
        "  - name: testers\n    who: {{ groups: [testers] }}\n    connections: [app-db]\n"
        "    allow: [read, write]\n"
        "guardrails:\n"
        "  - name: no-drops\n    when: {{ statements: [drop_table] }}\n    action: deny\n"
        "    message: dropping tables is not allowed\n"
        "  - name: deletes-need-review\n    when: {{ statements: [delete] }}\n"
        "    action: review\n    wait: 20s\n    reviewers: {{ groups: [dba] }}\n",
        port_);
    auto config = config::parse_config(yaml, dir_.path() / "portcullis.yaml");
    ASSERT_TRUE(config.ok()) << config.error().message;
    config_ = *config;
    auto store = store::open_state_store(config_->state_url);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    auto authenticator = identity::make_authenticator(*config_, *store_, true);
    ASSERT_TRUE(authenticator.ok()) << authenticator.error().message;
    auto key = identity::load_signing_key(config_->identity.signing_key_file, false);
    ASSERT_TRUE(key.ok()) << key.error().message;
    auto journal_store = store::open_journal_store(config_->state_url, {});
    ASSERT_TRUE(journal_store.ok()) << journal_store.error().message;
    audit::JournalOptions options;
    options.dir = config_->audit.journal_dir;
    options.segment_size = config_->audit.segment_size;
    auto journal = audit::Journal::start(std::move(*journal_store), std::move(*key), options);
    ASSERT_TRUE(journal.ok()) << journal.error().message;
    journal_ = std::move(*journal);
    review::ReviewsWiring wiring;
    wiring.store = store_.get();
    wiring.journal = journal_.get();
    wiring.config = [config = config_] { return config; };
    reviews_ = std::make_shared<review::Reviews>(std::move(wiring));
    live_ = std::make_shared<gateway::LiveSessions>();
    auto context = gateway::make_gateway_context(
        config_, std::shared_ptr<const identity::Authenticator>(std::move(*authenticator)),
        gateway::GatewayServices{.journal = journal_,
                                 .reviews = reviews_,
                                 .live_sessions = live_,
                                 .metrics = nullptr,
                                 .ssh_ca = nullptr});
    ASSERT_TRUE(context.ok()) << context.error().message;
    threads_ = std::make_unique<net::IoThreads>(1);
    front_end_ = std::make_unique<testing::LineFrontEnd>(*threads_, *context);
    auto started = front_end_->start(config::Endpoint{"127.0.0.1", port_});
    ASSERT_TRUE(started.ok()) << started.error().message;
    threads_->start();
  }

  void TearDown() override {
    if (front_end_) front_end_->stop();
    if (threads_) {
      threads_->release();
      threads_->join();
    }
    front_end_.reset();
    if (journal_) journal_->close();
  }

  std::string token(const std::string& subject, std::vector<std::string> groups) {
    auto key = identity::load_signing_key(config_->identity.signing_key_file, false);
    identity::TokenRequest request;
    request.subject = subject;
    request.groups = std::move(groups);
    auto issued = identity::issue_gateway_token(*key, config_->identity.issuer, request,
                                                std::chrono::system_clock::now());
    return issued->reveal();
  }
  std::string login(LineClient& client, const std::string& subject = "alice") {
    return client.ask(fmt::format("LOGIN {} app-db {}", subject, token(subject, {"testers"})));
  }
  // The journal's statement records of `verdict`, by command text, once there are `expected`
  // of them (events nobody waits for are committed within the journal's batch delay).
  std::vector<std::string> journaled(const std::string& verdict, std::size_t expected) {
    std::vector<std::string> texts;
    for (int i = 0; i < 100; ++i) {
      texts = journaled_now(verdict);
      if (texts.size() >= expected) break;
      std::this_thread::sleep_for(50ms);
    }
    return texts;
  }
  std::vector<std::string> journaled_now(const std::string& verdict) {
    auto store = store::open_journal_store(config_->state_url, reading_options());
    store::JournalFilter filter;
    filter.event = "statement";
    filter.verdict = verdict;
    auto records = (*store)->search(filter);
    std::vector<std::string> texts;
    for (const auto& record : *records)
      if (record[store::Field::protocol] == "line")
        texts.push_back(record[store::Field::command].value_or(""));
    return texts;
  }
  std::string wait_for_session(const std::string& subject) {
    for (int i = 0; i < 200; ++i) {
      for (const auto& session : live_->list())
        if (session.subject == subject) return session.id;
      std::this_thread::sleep_for(10ms);
    }
    return {};
  }

  TempDir dir_{"portcullis-core-"};
  uint16_t port_ = 0;
  config::ConfigPtr config_;
  std::unique_ptr<store::StateStore> store_;
  std::shared_ptr<audit::Journal> journal_;
  std::shared_ptr<review::Reviews> reviews_;
  std::shared_ptr<gateway::LiveSessions> live_;
  std::unique_ptr<net::IoThreads> threads_;
  std::unique_ptr<testing::LineFrontEnd> front_end_;
};

TEST_F(GatewayCoreTest, AdmitsAValidTokenAndRefusesABadOne) {
  LineClient good(port_);
  EXPECT_TRUE(login(good).starts_with("OK line-"));
  LineClient bad(port_);
  EXPECT_TRUE(bad.ask("LOGIN alice app-db not-a-token").starts_with("ERR authentication_failed"));
  LineClient outsider(port_);
  EXPECT_TRUE(outsider.ask("LOGIN mallory app-db " + token("mallory", {"others"}))
                  .starts_with("ERR access_denied"));
}

TEST_F(GatewayCoreTest, AllowedCommandRunsAndIsJournaled) {
  LineClient client(port_);
  ASSERT_TRUE(login(client).starts_with("OK"));
  EXPECT_EQ(client.ask("select 1"), "RAN select 1");
  EXPECT_EQ(journaled("allow", 1), std::vector<std::string>{"select 1"});
}

TEST_F(GatewayCoreTest, RefusedCommandIsRefusedAndJournaled) {
  LineClient client(port_);
  ASSERT_TRUE(login(client).starts_with("OK"));
  EXPECT_EQ(client.ask("drop table t"),
            "REFUSED denied blocked by rule \"no-drops\": dropping tables is not allowed");
  EXPECT_EQ(client.ask("create role x superuser"),
            "REFUSED denied blocked by rule \"testers\": dcl statements are not allowed for this "
            "access (create_role)")
      << "the grant allows read and write only";
  EXPECT_EQ(journaled("deny", 2),
            (std::vector<std::string>{"drop table t", "create role x superuser"}));
}

TEST_F(GatewayCoreTest, HeldCommandRunsOnceAfterApproval) {
  LineClient client(port_);
  ASSERT_TRUE(login(client).starts_with("OK"));
  client.send("delete from t");
  const auto held = client.read().value_or("");
  ASSERT_TRUE(held.starts_with("HELD r-")) << held;
  const std::string review = held.substr(5);
  const auto bob = reviewer("bob", "dba");
  auto voted = reviews_->vote(review, bob, true, "fine", std::chrono::system_clock::now());
  ASSERT_TRUE(voted.ok()) << voted.error().message;
  EXPECT_EQ(client.read(), "RAN delete from t");
  // The approval is spent: the same command is held again.
  client.send("delete from t");
  const auto again = client.read().value_or("");
  EXPECT_TRUE(again.starts_with("HELD r-")) << again;
  EXPECT_NE(again, held);
}

TEST_F(GatewayCoreTest, RejectedCommandIsRefusedWithTheReviewersComment) {
  LineClient client(port_);
  ASSERT_TRUE(login(client).starts_with("OK"));
  client.send("delete from t");
  const auto held = client.read().value_or("");
  ASSERT_TRUE(held.starts_with("HELD r-")) << held;
  const auto bob = reviewer("bob", "dba");
  ASSERT_TRUE(
      reviews_->vote(held.substr(5), bob, false, "not today", std::chrono::system_clock::now()));
  const auto refused = client.read().value_or("");
  EXPECT_TRUE(refused.starts_with("REFUSED rejected review r-")) << refused;
  EXPECT_NE(refused.find("not today"), std::string::npos) << refused;
}

TEST_F(GatewayCoreTest, KillEndsTheSession) {
  LineClient client(port_);
  ASSERT_TRUE(login(client).starts_with("OK"));
  const auto id = wait_for_session("alice");
  ASSERT_FALSE(id.empty());
  EXPECT_TRUE(live_->end(id, "terminated by a test"));
  EXPECT_EQ(client.read(), "BYE session_ended terminated by a test");
  EXPECT_EQ(client.read(), std::nullopt);
}

TEST_F(GatewayCoreTest, RevokeEndsEverySessionOfTheSubjectDuringAHold) {
  LineClient first(port_);
  LineClient second(port_);
  ASSERT_TRUE(login(first).starts_with("OK"));
  ASSERT_TRUE(login(second).starts_with("OK"));
  first.send("delete from t");
  ASSERT_TRUE(first.read().value_or("").starts_with("HELD"));
  EXPECT_EQ(live_->end_subject("alice", "revoked"), 2u);
  EXPECT_EQ(first.read(), "BYE session_ended revoked");
  EXPECT_EQ(second.read(), "BYE session_ended revoked");
  // The held command never ran: its review step is recorded as expired.
  EXPECT_EQ(journaled("expired", 1), std::vector<std::string>{"delete from t"});
}

TEST_F(GatewayCoreTest, StrictJournalRefusesCommandsWhileTheJournalIsUnwritable) {
  LineClient client(port_);
  ASSERT_TRUE(login(client).starts_with("OK"));
  ASSERT_EQ(client.ask("select 1"), "RAN select 1");
  {
    testing::FullDisk full;  // this process's file writes fail
    // The first command's event cannot be committed: it does not run, and the session ends.
    client.send("select 2");
    const auto answer = client.read().value_or("");
    EXPECT_TRUE(answer.starts_with("BYE unavailable the audit journal cannot be written") ||
                answer.starts_with("REFUSED unavailable the audit journal cannot be written"))
        << answer;
    LineClient late(port_);
    EXPECT_TRUE(login(late).starts_with("ERR not_ready")) << "no new session while unwritable";
  }
  EXPECT_EQ(journaled("allow", 1), std::vector<std::string>{"select 1"});
  // What happened meanwhile is recorded once the journal takes writes again: the refused
  // connection, and no outcome of the command that never ran.
  std::vector<store::JournalRecord> refused;
  for (int i = 0; i < 100 && refused.empty(); ++i) {
    auto store = store::open_journal_store(config_->state_url, reading_options());
    store::JournalFilter filter;
    filter.event = "connect";
    filter.verdict = "deny";
    refused = *(*store)->search(filter);
    if (refused.empty()) std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0][store::Field::error].value_or("").find("audit journal cannot be written"),
            std::string::npos);
  journal_->close();
  auto store = store::open_journal_store(config_->state_url, reading_options());
  std::set<std::string> statement_ids;
  std::vector<std::string> outcomes_of;
  auto all = (*store)->search({});
  ASSERT_TRUE(all.ok()) << all.error().message;
  for (const auto& record : *all) {
    if (record[store::Field::event] == "statement") statement_ids.insert(*record[store::Field::id]);
    if (record[store::Field::event] == "result")
      outcomes_of.push_back(record[store::Field::statement].value_or(""));
  }
  for (const auto& id : outcomes_of)
    EXPECT_TRUE(statement_ids.contains(id))
        << "a result names a statement not in the journal: " << id;
}

}  // namespace
}  // namespace portcullis
