// End to end on the SSH front end: a command held for review keeps the ssh client waiting until
// a reviewer approves it (then it runs once) or rejects it (it never reaches the host); a
// responder ends a live SSH session.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>

#include "contains.h"
#include "ssh_gateway.h"
#include "support/sshd_server.h"

namespace portcullis::testing {
namespace {
namespace json = boost::json;
using namespace std::chrono_literals;

class SshReviewTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sshd_ = new SshdServer();
    SshGatewayOptions options;
    options.guardrails_section =
        "guardrails:\n"
        "  - name: touching-needs-approval\n"
        "    when: { programs: [touch] }\n"
        "    action: review\n"
        "    reviewers: { groups: [leads] }\n"
        "    wait: 60s\n";
    options.extra_sections = "api:\n  admin_groups: [platform-admins]\n";
    gateway_ = new SshGateway(*sshd_, options);
    lee_ = new std::string(gateway_->token_for("lee", "leads"));
    admin_ = new std::string(gateway_->token_for("ada", "platform-admins"));
    key_ = new std::filesystem::path(gateway_->login(gateway_->token_for("dan", "ops"), "dan"));
  }
  static void TearDownTestSuite() {
    delete key_;
    delete admin_;
    delete lee_;
    delete gateway_;
    delete sshd_;
  }

  static std::string wait_for_pending(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto listed = gateway_->cli({"review", "list", "--status", "pending", "--json", "--api",
                                   gateway_->api_url(), "--token", *lee_});
      if (listed.ok()) {
        const auto parsed = json::parse(listed.stdout_text);
        for (const auto& review : parsed.at("reviews").as_array()) {
          const auto& r = review.as_object();
          if (r.at("requester").as_string() == "dan" &&
              std::string(r.at("command").as_string()).find(text) != std::string::npos)
            return std::string(r.at("id").as_string());
        }
      }
      std::this_thread::sleep_for(100ms);
    }
    return {};
  }

  static RunResult review(const std::string& verb, const std::string& id) {
    return gateway_->cli({"review", verb, id, "--comment", "checked", "--api", gateway_->api_url(),
                          "--token", *lee_});
  }

  static SshdServer* sshd_;
  static SshGateway* gateway_;
  static std::string* lee_;
  static std::string* admin_;
  static std::filesystem::path* key_;
};

SshdServer* SshReviewTest::sshd_ = nullptr;
SshGateway* SshReviewTest::gateway_ = nullptr;
std::string* SshReviewTest::lee_ = nullptr;
std::string* SshReviewTest::admin_ = nullptr;
std::filesystem::path* SshReviewTest::key_ = nullptr;

TEST_F(SshReviewTest, AHeldCommandRunsOnceApproved) {
  const std::string command = "touch approved.txt && echo done";
  auto client = gateway_->start_ssh(*key_, command);
  const auto id = wait_for_pending("touch approved.txt");
  ASSERT_FALSE(id.empty()) << client.stderr_text();
  // Held: the host has not seen it, and the client waits, told why.
  EXPECT_FALSE(contains(sshd_->received_commands(), command));
  EXPECT_TRUE(client.running());
  auto approved = review("approve", id);
  ASSERT_TRUE(approved.ok()) << approved.describe();
  const auto status = client.wait(30s);
  EXPECT_TRUE(status.success()) << status.describe() << client.stderr_text();
  EXPECT_EQ(client.stdout_text(), "done\n");
  EXPECT_NE(client.stderr_text().find(id), std::string::npos) << client.stderr_text();
  EXPECT_TRUE(contains(sshd_->received_commands(), command));
  EXPECT_TRUE(std::filesystem::exists(sshd_->home_dir() / "approved.txt"));
}

TEST_F(SshReviewTest, ARejectedCommandNeverReachesTheHost) {
  const std::string command = "touch rejected.txt";
  auto client = gateway_->start_ssh(*key_, command);
  const auto id = wait_for_pending(command);
  ASSERT_FALSE(id.empty()) << client.stderr_text();
  auto rejected = review("reject", id);
  ASSERT_TRUE(rejected.ok()) << rejected.describe();
  const auto status = client.wait(30s);
  EXPECT_EQ(status.shell_code(), 126) << status.describe() << client.stderr_text();
  EXPECT_NE(client.stderr_text().find("rejected"), std::string::npos) << client.stderr_text();
  EXPECT_FALSE(contains(sshd_->received_commands(), command));
  EXPECT_FALSE(std::filesystem::exists(sshd_->home_dir() / "rejected.txt"));
}

TEST_F(SshReviewTest, KillingTheSessionEndsTheCommand) {
  auto client = gateway_->start_ssh(*key_, "echo started; exec sleep 60");
  std::string session;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (session.empty() && std::chrono::steady_clock::now() < deadline) {
    auto listed = gateway_->cli(
        {"sessions", "list", "--json", "--api", gateway_->api_url(), "--token", *admin_});
    if (listed.ok()) {
      const auto parsed = json::parse(listed.stdout_text);
      for (const auto& s : parsed.at("sessions").as_array())
        if (s.as_object().at("protocol").as_string() == "ssh" &&
            s.as_object().at("subject").as_string() == "dan" &&
            s.as_object().at("bytes_out").to_number<int64_t>() > 0)  // "started\n" came back
          session = std::string(s.as_object().at("id").as_string());
    }
    if (session.empty()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(session.empty());
  auto killed = gateway_->cli(
      {"sessions", "kill", session, "--api", gateway_->api_url(), "--token", *admin_});
  ASSERT_TRUE(killed.ok()) << killed.describe();
  const auto status = client.wait(30s);
  EXPECT_FALSE(status.success()) << status.describe();
  EXPECT_NE(client.stderr_text().find("portcullis:"), std::string::npos) << client.stderr_text();
  // The command on the host is ended too, not left to run its minute: the gateway sends
  // SIGTERM through the channel. The test sshd runs every command through a forced command (its
  // recorder), and OpenSSH refuses to signal those, saying so in its log; an sshd without one
  // delivers it.
  const auto sent = std::chrono::steady_clock::now() + 10s;
  while (sshd_->log_text().find("signal TERM") == std::string::npos &&
         std::chrono::steady_clock::now() < sent)
    std::this_thread::sleep_for(100ms);
  EXPECT_NE(sshd_->log_text().find("signal TERM"), std::string::npos) << sshd_->log_text();
}

}  // namespace
}  // namespace portcullis::testing
