// Public keys registered to subjects (#17), end to end: `portcullis ssh keys` through the REST
// API, then the real ssh client logging in to the gateway with the key and running a command on
// a real OpenSSH sshd whose recorder shows what reached the host.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "ssh_gateway.h"
#include "support/sshd_server.h"
#include "support/temp_dir.h"

namespace portcullis::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// Group `deployers` runs commands on `web`; `platform-admins` manages keys through the API.
SshGatewayOptions key_options() {
  SshGatewayOptions options;
  options.access_section =
      "access:\n"
      "  - name: bots\n"
      "    who: { groups: [deployers] }\n"
      "    connections: [web]\n"
      "    allow: [exec]\n";
  options.extra_sections = "api:\n  admin_groups: [platform-admins]\n";
  return options;
}

class SshKeysTest : public ::testing::Test {
 protected:
  SshKeysTest() : gateway_(sshd_, key_options()) {
    admin_ = gateway_.token_for("root", "platform-admins");
  }

  // A key pair made by ssh-keygen: the private key's path (its .pub beside it).
  std::filesystem::path make_key(const std::string& name,
                                 const std::vector<std::string>& type = {"-t", "ed25519"}) {
    const auto path = keys_.path() / name;
    std::vector<std::string> argv{"ssh-keygen", "-q", "-N", "", "-C", name, "-f", path.string()};
    argv.insert(argv.end(), type.begin(), type.end());
    const auto made = run_command(argv);
    EXPECT_EQ(made.exit_code, 0) << made.describe();
    return path;
  }

  RunResult keys_cli(std::vector<std::string> args, const std::string& token) {
    std::vector<std::string> argv{"ssh", "keys"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--api", gateway_.api_url(), "--token", token});
    return gateway_.cli(argv);
  }

  // Registers the key's .pub through `ssh keys add --json`; returns the registration's id.
  std::string add(const std::filesystem::path& key, const std::string& subject,
                  std::vector<std::string> options = {"--group", "deployers"}) {
    std::vector<std::string> args{"add", "--json", "--subject", subject};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back(key.string() + ".pub");
    const auto added = keys_cli(args, admin_);
    EXPECT_TRUE(added.ok()) << added.describe();
    if (!added.ok()) return {};
    return std::string(json::parse(added.stdout_text).at("id").as_string());
  }

  // Waits for a line of the gateway's log holding every one of `parts`.
  bool gateway_logged(const std::vector<std::string>& parts) {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    for (;;) {
      const std::string log = gateway_.process().stderr_text();
      std::size_t start = 0;
      while (start < log.size()) {
        const auto end = std::min(log.find('\n', start), log.size());
        const std::string_view line(log.data() + start, end - start);
        bool all = true;
        for (const auto& part : parts) all = all && line.find(part) != std::string_view::npos;
        if (all) return true;
        start = end + 1;
      }
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(100ms);
    }
  }

  SshdServer sshd_;
  SshGateway gateway_;
  TempDir keys_{"portcullis-ssh-keys"};
  std::string admin_;
};

// The key's public blob as its .pub file holds it (base64): what the journal must not hold.
std::string public_key_base64(const std::filesystem::path& key) {
  std::ifstream in(key.string() + ".pub");
  std::string type;
  std::string blob;
  in >> type >> blob;
  EXPECT_FALSE(blob.empty()) << key;
  return blob;
}

std::string fingerprint_of(const std::filesystem::path& key) {
  const auto listed = run_command({"ssh-keygen", "-l", "-f", key.string() + ".pub"});
  EXPECT_EQ(listed.exit_code, 0) << listed.describe();
  // "256 SHA256:... comment (ED25519)"
  const auto begin = listed.stdout_text.find("SHA256:");
  if (begin == std::string::npos) return {};
  return listed.stdout_text.substr(begin, listed.stdout_text.find(' ', begin) - begin);
}

TEST_F(SshKeysTest, ARegisteredKeyLogsInAsItsSubjectAndRunsACommand) {
  const auto key = make_key("deploy");
  const std::string id = add(key, "deploy-bot");
  ASSERT_FALSE(id.empty());
  const auto result = gateway_.ssh(key, "echo from-key");
  EXPECT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_EQ(result.stdout_text, "from-key\n");
  EXPECT_EQ(sshd_.received_commands(), std::vector<std::string>{"echo from-key"});

  // The journal knows who, how and with which key (its id and fingerprint, not the key); so
  // does the gateway's log.
  const std::string fingerprint = fingerprint_of(key);
  ASSERT_FALSE(fingerprint.empty());
  const std::string journal = gateway_.journal("from-key");
  EXPECT_NE(journal.find("\"subject\":\"deploy-bot\""), std::string::npos) << journal;
  EXPECT_NE(journal.find("\"auth\":\"ssh_key\""), std::string::npos) << journal;
  EXPECT_NE(journal.find("\"subject_kind\":\"service\""), std::string::npos) << journal;
  EXPECT_NE(journal.find("\"credential\":\"ssh_key " + id + " " + fingerprint + "\""),
            std::string::npos)
      << journal;
  EXPECT_EQ(journal.find(public_key_base64(key)), std::string::npos) << journal;
  // Every record of the session says it, the connect record too.
  const auto connects = gateway_.cli({"audit", "search", "--event", "connect", "--json"});
  ASSERT_TRUE(connects.ok()) << connects.describe();
  EXPECT_NE(connects.stdout_text.find("\"credential\":\"ssh_key " + id + " " + fingerprint + "\""),
            std::string::npos)
      << connects.stdout_text;
  EXPECT_TRUE(gateway_logged({"event=ssh_login", "subject=\"deploy-bot\"", "auth=ssh_key",
                              "key=\"" + fingerprint + "\"", "key_id=\"" + id + "\""}))
      << gateway_.process().stderr_text();
}

TEST_F(SshKeysTest, TheJournalTellsTwoKeysOfOneSubjectApart) {
  // After a key leaks, the auditor asks which commands that key ran: the other key of the same
  // subject must not be mistaken for it.
  const auto laptop = make_key("laptop");
  const auto ci = make_key("ci");
  const std::string laptop_id = add(laptop, "deploy-bot");
  const std::string ci_id = add(ci, "deploy-bot");
  ASSERT_FALSE(laptop_id.empty());
  ASSERT_FALSE(ci_id.empty());
  ASSERT_EQ(gateway_.ssh(laptop, "echo by-laptop").stdout_text, "by-laptop\n");
  ASSERT_EQ(gateway_.ssh(ci, "echo by-ci").stdout_text, "by-ci\n");
  const std::string journal = gateway_.journal("by-ci");
  std::map<std::string, std::string> credential_of;  // command -> credential
  std::size_t start = 0;
  while (start < journal.size()) {
    const auto end = std::min(journal.find('\n', start), journal.size());
    const auto record = json::parse(std::string_view(journal).substr(start, end - start));
    start = end + 1;
    const auto& object = record.as_object();
    if (!object.contains("command") || !object.contains("credential")) continue;
    credential_of[std::string(object.at("command").as_string())] =
        std::string(object.at("credential").as_string());
  }
  EXPECT_EQ(credential_of["echo by-laptop"], "ssh_key " + laptop_id + " " + fingerprint_of(laptop));
  EXPECT_EQ(credential_of["echo by-ci"], "ssh_key " + ci_id + " " + fingerprint_of(ci));
  // A search by credential finds what that key ran, and nothing of the other key.
  const auto by_laptop =
      gateway_.cli({"audit", "search", "--credential",
                    "ssh_key " + laptop_id + " " + fingerprint_of(laptop), "--json"});
  ASSERT_TRUE(by_laptop.ok()) << by_laptop.describe();
  EXPECT_NE(by_laptop.stdout_text.find("\"command\":\"echo by-laptop\""), std::string::npos)
      << by_laptop.stdout_text;
  EXPECT_EQ(by_laptop.stdout_text.find("by-ci"), std::string::npos) << by_laptop.stdout_text;
  // `audit tail` names it on each connect line.
  const auto tail = gateway_.cli({"audit", "tail", "-n", "100"});
  ASSERT_TRUE(tail.ok()) << tail.describe();
  for (const auto& [id, key] : {std::pair{laptop_id, laptop}, std::pair{ci_id, ci}})
    EXPECT_NE(tail.stdout_text.find("with ssh_key " + id + " " + fingerprint_of(key) + " allow"),
              std::string::npos)
        << tail.stdout_text;
}

TEST_F(SshKeysTest, EcdsaAndRsaKeysLogInToo) {
  for (const auto& [name, type] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"p256", {"-t", "ecdsa", "-b", "256"}},
           {"p521", {"-t", "ecdsa", "-b", "521"}},
           {"rsa3072", {"-t", "rsa", "-b", "3072"}}}) {
    const auto key = make_key(name, type);
    ASSERT_FALSE(add(key, "bot-" + name).empty()) << name;
    const auto result = gateway_.ssh(key, "echo " + name);
    EXPECT_EQ(result.exit_code, 0) << name << ": " << result.describe();
    EXPECT_EQ(result.stdout_text, name + "\n") << name;
  }
}

TEST_F(SshKeysTest, AnUnregisteredKeyIsRefusedWithoutAWord) {
  ASSERT_FALSE(add(make_key("registered"), "deploy-bot").empty());
  const auto stranger = make_key("stranger");
  const auto refused = gateway_.ssh(stranger, "echo no");
  EXPECT_EQ(refused.exit_code, 255) << refused.describe();
  EXPECT_NE(refused.stderr_text.find("Permission denied"), std::string::npos)
      << refused.stderr_text;
  // As before keys could be registered: no banner tells a stranger anything.
  EXPECT_EQ(refused.stderr_text.find("portcullis:"), std::string::npos) << refused.stderr_text;
  EXPECT_TRUE(sshd_.received_commands().empty());
}

TEST_F(SshKeysTest, AKeyWhoseGroupsReachNothingIsToldSo) {
  const auto key = make_key("outsider");
  const std::string id = add(key, "outsider-bot", {"--group", "elsewhere"});
  ASSERT_FALSE(id.empty());
  const auto denied = gateway_.ssh(key, "echo no");
  EXPECT_EQ(denied.exit_code, 255) << denied.describe();
  EXPECT_NE(denied.stderr_text.find("access denied"), std::string::npos) << denied.stderr_text;
  EXPECT_TRUE(sshd_.received_commands().empty());
  // The refused connection's record names the key that tried, as an admitted one would.
  const std::string credential =
      "\"credential\":\"ssh_key " + id + " " + fingerprint_of(key) + "\"";
  std::string connects;
  for (int attempt = 0; attempt < 100 && connects.find(credential) == std::string::npos;
       ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(100ms);
    connects = gateway_.cli({"audit", "search", "--event", "connect", "--json"}).stdout_text;
  }
  EXPECT_NE(connects.find(credential), std::string::npos) << connects;
  EXPECT_NE(connects.find("\"verdict\":\"deny\""), std::string::npos) << connects;
}

TEST_F(SshKeysTest, AnExpiredKeyIsRefused) {
  const auto key = make_key("short-lived");
  ASSERT_FALSE(add(key, "short-lived-bot", {"--group", "deployers", "--expires-in", "3s"}).empty());
  ASSERT_EQ(gateway_.ssh(key, "echo in-time").stdout_text, "in-time\n");
  std::this_thread::sleep_for(4s);
  const auto late = gateway_.ssh(key, "echo too-late");
  EXPECT_EQ(late.exit_code, 255) << late.describe();
  EXPECT_NE(late.stderr_text.find("expired"), std::string::npos) << late.stderr_text;
  EXPECT_TRUE(gateway_logged({"event=auth_failed", "expired"})) << gateway_.process().stderr_text();
  EXPECT_EQ(sshd_.received_commands(), std::vector<std::string>{"echo in-time"});
}

TEST_F(SshKeysTest, ARemovedKeyIsRefused) {
  const auto key = make_key("gone");
  const std::string id = add(key, "gone-bot");
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(gateway_.ssh(key, "echo before").stdout_text, "before\n");
  const auto removed = keys_cli({"remove", id}, admin_);
  ASSERT_TRUE(removed.ok()) << removed.describe();
  const auto after = gateway_.ssh(key, "echo after");
  EXPECT_EQ(after.exit_code, 255) << after.describe();
  EXPECT_NE(after.stderr_text.find("Permission denied"), std::string::npos) << after.stderr_text;
  EXPECT_EQ(sshd_.received_commands(), std::vector<std::string>{"echo before"});
}

TEST_F(SshKeysTest, RevokingTheSubjectEndsItsSessionAndRefusesItsKey) {
  const auto key = make_key("revoked");
  ASSERT_FALSE(add(key, "revoked-bot").empty());
  auto client = gateway_.start_ssh(key, "echo started; exec sleep 60");
  ASSERT_TRUE(client.wait_for_output("started", 30s)) << client.stderr_text();

  const auto revoked = gateway_.cli(
      {"revoke", "--subject", "revoked-bot", "--api", gateway_.api_url(), "--token", admin_});
  ASSERT_TRUE(revoked.ok()) << revoked.describe();
  EXPECT_NE(revoked.stdout_text.find("1 live session ended"), std::string::npos)
      << revoked.stdout_text;
  const auto status = client.wait(30s);
  EXPECT_FALSE(status.success()) << status.describe();
  EXPECT_NE(client.stderr_text().find("revoked"), std::string::npos) << client.stderr_text();

  // The key stays registered, but its subject's credentials from before the revocation do not
  // log in any more.
  const auto after = gateway_.ssh(key, "echo after");
  EXPECT_EQ(after.exit_code, 255) << after.describe();
  EXPECT_NE(after.stderr_text.find("revoked"), std::string::npos) << after.stderr_text;
  EXPECT_EQ(sshd_.received_commands(), std::vector<std::string>{"echo started; exec sleep 60"});
}

TEST_F(SshKeysTest, CliAddsListsAndRemovesKeys) {
  const auto key = make_key("round-trip");
  const std::string fingerprint = fingerprint_of(key);
  ASSERT_FALSE(fingerprint.empty());

  const auto added = keys_cli({"add", "--subject", "ci-bot", "--group", "deployers", "--group",
                               "ci", "--expires-in", "30d", key.string() + ".pub"},
                              admin_);
  ASSERT_TRUE(added.ok()) << added.describe();
  EXPECT_NE(added.stdout_text.find("registered k-"), std::string::npos) << added.stdout_text;
  EXPECT_NE(added.stdout_text.find(fingerprint + " to ci-bot; expires 20"), std::string::npos)
      << added.stdout_text;

  const auto listed = keys_cli({"list", "--json"}, admin_);
  ASSERT_TRUE(listed.ok()) << listed.describe();
  const auto keys = json::parse(listed.stdout_text).at("keys").as_array();
  ASSERT_EQ(keys.size(), 1u) << listed.stdout_text;
  const std::string id(keys[0].at("id").as_string());
  EXPECT_EQ(keys[0].at("fingerprint").as_string(), fingerprint);
  EXPECT_EQ(keys[0].at("subject"), "ci-bot");

  const auto table = keys_cli({"list", "--subject", "ci-bot"}, admin_);
  ASSERT_TRUE(table.ok()) << table.describe();
  EXPECT_NE(table.stdout_text.find("FINGERPRINT"), std::string::npos) << table.stdout_text;
  for (const auto& cell : {id, std::string("ci-bot"), std::string("deployers,ci"), fingerprint})
    EXPECT_NE(table.stdout_text.find(cell), std::string::npos) << cell << table.stdout_text;
  const auto other = keys_cli({"list", "--subject", "someone-else"}, admin_);
  ASSERT_TRUE(other.ok()) << other.describe();
  EXPECT_EQ(other.stdout_text.find(id), std::string::npos) << other.stdout_text;

  // Only admins: a token of another group is refused by the API.
  const auto forbidden = keys_cli({"remove", id}, gateway_.token_for("eve", "deployers"));
  EXPECT_EQ(forbidden.exit_code, 1) << forbidden.describe();
  EXPECT_NE(forbidden.stderr_text.find("api.admin_groups"), std::string::npos)
      << forbidden.stderr_text;

  const auto removed = keys_cli({"remove", id}, admin_);
  ASSERT_TRUE(removed.ok()) << removed.describe();
  EXPECT_EQ(removed.stdout_text, "SSH key " + id + " removed\n");
  const auto again = keys_cli({"remove", id}, admin_);
  EXPECT_EQ(again.exit_code, 1) << again.describe();
  EXPECT_NE(again.stderr_text.find("no SSH key in force"), std::string::npos) << again.stderr_text;
  const auto after = keys_cli({"list", "--json"}, admin_);
  ASSERT_TRUE(after.ok()) << after.describe();
  EXPECT_TRUE(json::parse(after.stdout_text).at("keys").as_array()[0].at("removed_at").is_string())
      << after.stdout_text;

  // What is not a plain public key is refused: a private key file before anything is sent, a
  // certificate and a weak RSA key by the gateway.
  const auto secret = keys_cli({"add", "--subject", "ci-bot", key.string()}, admin_);
  EXPECT_EQ(secret.exit_code, 2) << secret.describe();
  EXPECT_NE(secret.stderr_text.find("private key"), std::string::npos) << secret.stderr_text;
  const auto certified = gateway_.login(gateway_.token_for("alice", "deployers"), "alice");
  const auto certificate =
      keys_cli({"add", "--subject", "ci-bot", certified.string() + "-cert.pub"}, admin_);
  EXPECT_EQ(certificate.exit_code, 1) << certificate.describe();
  EXPECT_NE(certificate.stderr_text.find("certificate is not a plain key"), std::string::npos)
      << certificate.stderr_text;
  const auto weak = make_key("weak", {"-t", "rsa", "-b", "1024"});
  const auto refused = keys_cli({"add", "--subject", "ci-bot", weak.string() + ".pub"}, admin_);
  EXPECT_EQ(refused.exit_code, 1) << refused.describe();
  EXPECT_NE(refused.stderr_text.find("at least 2048"), std::string::npos) << refused.stderr_text;
}

}  // namespace
}  // namespace portcullis::testing
