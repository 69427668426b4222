// The notifier against real HTTP receivers on 127.0.0.1 (HttpReceiver, a test double):
// delivery in both formats, retries with backoff, isolation of dead targets, the queue's
// bound, HTTPS, and logs that never show a webhook's URL.
#include "review/notifier.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <sstream>
#include <thread>

#include "http_receiver.h"
#include "support/free_port.h"
#include "support/test_certificates.h"

namespace portcullis::review {
namespace {

using namespace std::chrono_literals;
using testing::Answer;
using testing::HttpReceiver;

// Upper bounds for things that take milliseconds: generous, so that a loaded machine does not
// fail a test, and far below the dead targets' timeouts (kDeadTimeout), so that a delivery
// that waited for a dead target could not pass.
constexpr auto kPatience = 10s;
constexpr auto kDeadTimeout = 30s;

Notification notification(std::string id = "r-7k3qx9p2m4") {
  Notification n;
  n.event = std::string(kNotifyReviewPending);
  n.api_url = "http://127.0.0.1:18080";
  n.review.id = std::move(id);
  n.review.requester = "alice";
  n.review.connection = "app-db";
  n.review.command = "DELETE FROM orders";
  n.review.rule = "unbounded-writes-need-approval";
  n.review.reviewer_groups = {"dba"};
  n.review.created_at = std::chrono::system_clock::now();
  n.review.expires_at = n.review.created_at + 120s;
  return n;
}

config::WebhookConfig webhook(std::string name, std::string url,
                              config::WebhookFormat format = config::WebhookFormat::json,
                              std::chrono::milliseconds timeout = 5s,
                              std::size_t max_attempts = 5) {
  config::WebhookConfig w;
  w.name = std::move(name);
  w.url = std::move(url);
  w.format = format;
  w.timeout = timeout;
  w.max_attempts = max_attempts;
  return w;
}

NotifierOptions fast_retries() {
  NotifierOptions options;
  options.first_retry_delay = 50ms;
  options.max_retry_delay = 200ms;
  return options;
}

bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = kPatience) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// A port on 127.0.0.1 with nothing listening: connections are refused.
std::string refusing_url() {
  return "http://127.0.0.1:" + std::to_string(portcullis::testing::free_tcp_port()) + "/hook";
}

TEST(Notifier, DeliversGenericAndSlackPayloadsToTheirTargets) {
  HttpReceiver generic_receiver, slack_receiver;
  Notifier notifier(fast_retries());
  notifier.set_targets(
      {webhook("audit-hook", generic_receiver.url("/hooks/generic?token=abc")),
       webhook("slack", slack_receiver.url("/services/T0/B0/X"), config::WebhookFormat::slack)});
  notifier.notify(notification());

  ASSERT_TRUE(generic_receiver.wait_for_requests(1, kPatience));
  ASSERT_TRUE(slack_receiver.wait_for_requests(1, kPatience));
  const auto generic = generic_receiver.requests().at(0);
  EXPECT_EQ(generic.method, "POST");
  EXPECT_EQ(generic.target, "/hooks/generic?token=abc");
  EXPECT_EQ(generic.header("content-type"), "application/json");
  EXPECT_EQ(generic.header("user-agent"), "portcullis");
  EXPECT_EQ(generic.header("host"), "127.0.0.1:" + std::to_string(generic_receiver.port()));
  const auto body = boost::json::parse(generic.body).as_object();
  EXPECT_EQ(body.at("event"), "review_pending");
  EXPECT_EQ(body.at("review").at("id"), "r-7k3qx9p2m4");

  const auto slack = slack_receiver.requests().at(0);
  EXPECT_EQ(slack.target, "/services/T0/B0/X");
  const auto message = boost::json::parse(slack.body).as_object();
  EXPECT_TRUE(message.contains("text"));
  EXPECT_TRUE(message.contains("blocks"));

  EXPECT_TRUE(eventually([&] { return notifier.stats().pending == 0; }));
  EXPECT_EQ(notifier.stats().delivered, 2u);
  EXPECT_EQ(notifier.stats().failed_attempts, 0u);
}

TEST(Notifier, RetriesWithBackoffUntilTheReceiverAccepts) {
  HttpReceiver receiver({Answer{500}, Answer{500}}, Answer{200});
  Notifier notifier(fast_retries());
  notifier.set_targets({webhook("flaky", receiver.url("/hook"))});
  notifier.notify(notification());

  ASSERT_TRUE(eventually([&] { return notifier.stats().pending == 0; }));
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].body, requests[2].body);
  // 50 ms before the second attempt, 100 ms before the third.
  EXPECT_GE(requests[1].time - requests[0].time, 50ms);
  EXPECT_GE(requests[2].time - requests[1].time, 100ms);
  const NotifierStats stats = notifier.stats();
  EXPECT_EQ(stats.delivered, 1u);
  EXPECT_EQ(stats.failed_attempts, 2u);
  EXPECT_EQ(stats.given_up, 0u);
}

TEST(Notifier, GivesUpAfterMaxAttempts) {
  HttpReceiver receiver({}, Answer{503});
  Notifier notifier(fast_retries());
  notifier.set_targets({webhook("down", receiver.url("/hook"), config::WebhookFormat::json, 5s,
                                /*max_attempts=*/3)});
  notifier.notify(notification());

  ASSERT_TRUE(eventually([&] { return notifier.stats().pending == 0; }));
  EXPECT_EQ(receiver.requests().size(), 3u);
  EXPECT_EQ(notifier.stats().given_up, 1u);
  EXPECT_EQ(notifier.stats().failed_attempts, 3u);
  EXPECT_EQ(notifier.stats().delivered, 0u);
}

TEST(Notifier, DeadTargetsNeverDelayAHealthyOne) {
  HttpReceiver hanging({}, Answer{.hang = true});
  HttpReceiver healthy;
  auto notifier = std::make_unique<Notifier>(fast_retries());
  // The dead ones first, so that a notifier that went through targets in turn would be caught.
  notifier->set_targets(
      {webhook("refusing", refusing_url(), config::WebhookFormat::json, kDeadTimeout, 100),
       webhook("hanging", hanging.url("/hook"), config::WebhookFormat::json, kDeadTimeout),
       webhook("healthy", healthy.url("/hook"))});

  const auto before = std::chrono::steady_clock::now();
  notifier->notify(notification("r-first"));
  notifier->notify(notification("r-second"));
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);  // queued, not sent

  ASSERT_TRUE(healthy.wait_for_requests(2, kPatience));
  EXPECT_LT(std::chrono::steady_clock::now() - before, kDeadTimeout);
  ASSERT_TRUE(hanging.wait_for_connections(1, kPatience));
  // Deliveries to one target go one at a time: the second waits behind the hanging first.
  EXPECT_EQ(hanging.connections(), 1u);
  EXPECT_TRUE(eventually([&] { return notifier->stats().delivered == 2; }));
  EXPECT_GE(notifier->stats().pending, 4u);  // two each for the refusing and hanging targets

  // Shutdown abandons them rather than waiting for their timeouts.
  const auto stopping = std::chrono::steady_clock::now();
  notifier.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 5s);
}

TEST(Notifier, DropsWhenATargetsQueueIsFull) {
  HttpReceiver hanging({}, Answer{.hang = true});
  NotifierOptions options = fast_retries();
  options.max_pending_per_target = 3;
  Notifier notifier(options);
  notifier.set_targets(
      {webhook("hanging", hanging.url("/hook"), config::WebhookFormat::json, kDeadTimeout)});
  for (int i = 0; i < 10; ++i) notifier.notify(notification("r-" + std::to_string(i)));

  // Counted by notify() itself, before anything is sent.
  NotifierStats stats = notifier.stats();
  EXPECT_EQ(stats.dropped, 7u);
  EXPECT_EQ(stats.pending, 3u);
  ASSERT_TRUE(hanging.wait_for_requests(1, kPatience));
  EXPECT_EQ(hanging.requests().at(0).header("content-type"), "application/json");
  EXPECT_EQ(boost::json::parse(hanging.requests().at(0).body).at("review").at("id"), "r-0");
}

TEST(Notifier, DeliversOverHttpsWithTheReceiverVerified) {
  portcullis::testing::TestCertificates certificates;
  HttpReceiver receiver({}, Answer{204, ""},
                        testing::ReceiverTls{certificates.cert_file(), certificates.key_file()});
  NotifierOptions options = fast_retries();
  options.ca_file = certificates.ca_file();
  Notifier notifier(options);
  notifier.set_targets({webhook("tls", receiver.url("/hook", "localhost"))});
  notifier.notify(notification());

  ASSERT_TRUE(receiver.wait_for_requests(1, kPatience));
  EXPECT_EQ(receiver.requests().at(0).server_name, "localhost");  // SNI
  EXPECT_TRUE(eventually([&] { return notifier.stats().delivered == 1; }));
}

TEST(Notifier, RefusesAReceiverItCannotVerify) {
  portcullis::testing::TestCertificates certificates;
  HttpReceiver receiver({}, Answer{200},
                        testing::ReceiverTls{certificates.cert_file(), certificates.key_file()});
  Notifier notifier(fast_retries());  // the system's roots, which do not know the test CA
  notifier.set_targets({webhook("tls", receiver.url("/hook", "localhost"),
                                config::WebhookFormat::json, 5s, /*max_attempts=*/1)});
  notifier.notify(notification());

  ASSERT_TRUE(eventually([&] { return notifier.stats().given_up == 1; }));
  EXPECT_TRUE(receiver.requests().empty());
  EXPECT_EQ(notifier.stats().delivered, 0u);
}

TEST(Notifier, LeavesOutAWebhookWhoseUrlCannotBeUsed) {
  HttpReceiver receiver;
  Notifier notifier(fast_retries());
  notifier.set_targets({webhook("bad", "ftp://example.com/x"), webhook("good", receiver.url("/"))});
  notifier.notify(notification());
  ASSERT_TRUE(receiver.wait_for_requests(1, kPatience));
  EXPECT_TRUE(eventually([&] { return notifier.stats().delivered == 1; }));
  EXPECT_EQ(notifier.stats().failed_attempts, 0u);
}

TEST(Notifier, DoesNothingWithoutTargets) {
  Notifier notifier(fast_retries());
  notifier.notify(notification());
  const NotifierStats stats = notifier.stats();
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_EQ(stats.dropped, 0u);
}

TEST(Notifier, LogsNeverShowTheWebhookUrl) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  {
    HttpReceiver receiver({Answer{500}}, Answer{200});
    const std::string secret_url = receiver.url("/services/T0/B0/secret-token-xyz");
    Notifier notifier(fast_retries());
    // Without a name the loader names a webhook by its URL: the host is logged instead.
    notifier.set_targets(
        {webhook(secret_url, secret_url), webhook("refusing", refusing_url() + "/secret-token-xyz",
                                                  config::WebhookFormat::slack, 5s, 1)});
    notifier.notify(notification());
    ASSERT_TRUE(eventually([&] {
      const NotifierStats stats = notifier.stats();
      return stats.delivered == 1 && stats.given_up == 1;
    }));
  }
  spdlog::set_default_logger(previous);
  const std::string text = log.str();
  EXPECT_NE(text.find("event=webhook_delivered webhook=\"127.0.0.1\""), std::string::npos) << text;
  EXPECT_NE(text.find("event=webhook_failed webhook=\"refusing\""), std::string::npos) << text;
  EXPECT_EQ(text.find("secret-token-xyz"), std::string::npos) << text;
  EXPECT_EQ(text.find("DELETE FROM"), std::string::npos) << text;  // no payload contents
}

}  // namespace
}  // namespace portcullis::review
