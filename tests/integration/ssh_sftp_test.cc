// sftp and scp through the gateway end to end: the real OpenSSH clients, the gateway, and a real
// sshd whose sftp-server writes to its own folder, so that a test reads the host's files to see
// whether a refused operation reached it. Each file operation is decided (class sftp, class
// file_write for changes, `paths` guardrails) and journaled.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "ssh_gateway.h"
#include "support/sshd_server.h"
#include "support/temp_dir.h"

namespace portcullis::testing {
namespace {
namespace json = boost::json;

// Four grants on one connection: files (sftp and writes), readers (sftp only), runners (exec
// only), careful (sftp and writes, each write held for a lead's review); and a guardrail that
// keeps everyone out of /etc.
constexpr const char* kSftpAccess =
    "access:\n"
    "  - name: files\n"
    "    who: { groups: [files] }\n"
    "    connections: [web]\n"
    "    allow: [exec, sftp, file_write]\n"
    "  - name: readers\n"
    "    who: { groups: [readers] }\n"
    "    connections: [web]\n"
    "    allow: [sftp]\n"
    "  - name: runners\n"
    "    who: { groups: [runners] }\n"
    "    connections: [web]\n"
    "    allow: [exec]\n"
    "  - name: careful\n"
    "    who: { groups: [careful] }\n"
    "    connections: [web]\n"
    "    allow: [sftp, file_write]\n";

constexpr const char* kSftpGuardrails =
    "guardrails:\n"
    "  - name: no-etc\n"
    "    when: { paths: [\"/etc/*\"] }\n"
    "    action: deny\n"
    "    message: system files are off limits\n"
    "  - name: careful-writes\n"
    "    when: { classes: [file_write], who: { groups: [careful] } }\n"
    "    action: review\n"
    "    reviewers: { groups: [leads] }\n"
    "    wait: 60s\n";

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

// Bytes a text-mode or masking relay would change: NUL, CR LF, high bytes, an e-mail address
// and a US SSN (the default profile's detectors), and more than one sftp packet.
std::string binary_content() {
  std::string content = "alice@example.com 123-45-6789\r\n";
  for (int i = 0; i < 300000; ++i) content += static_cast<char>(i * 7 % 256);
  return content;
}

std::size_t count(const std::vector<std::string>& list, std::string_view item) {
  return static_cast<std::size_t>(std::count(list.begin(), list.end(), item));
}

class SshSftpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sshd_ = new SshdServer();
    SshGatewayOptions options;
    options.access_section = kSftpAccess;
    options.guardrails_section = kSftpGuardrails;
    gateway_ = new SshGateway(*sshd_, options);
    writer_ =
        new std::filesystem::path(gateway_->login(gateway_->token_for("wendy", "files"), "wendy"));
    reader_ =
        new std::filesystem::path(gateway_->login(gateway_->token_for("rita", "readers"), "rita"));
    runner_ =
        new std::filesystem::path(gateway_->login(gateway_->token_for("russ", "runners"), "russ"));
    careful_ =
        new std::filesystem::path(gateway_->login(gateway_->token_for("cara", "careful"), "cara"));
    lee_ = new std::string(gateway_->token_for("lee", "leads"));
  }
  static void TearDownTestSuite() {
    delete lee_;
    delete careful_;
    delete runner_;
    delete reader_;
    delete writer_;
    delete gateway_;
    delete sshd_;
  }

  // `sftp -b` with these commands.
  RunResult sftp(const std::filesystem::path& key, const std::string& commands) {
    write_file(local_ / "batch", commands);
    return gateway_->file_client(key, "sftp",
                                 {"-b", (local_ / "batch").string(), SshGateway::destination()});
  }

  // The journal's statements of `subject` whose command holds `fragment`, once there is one
  // and the journal holds `awaited` (the fragment itself by default).
  static std::vector<json::object> statements(const std::string& subject,
                                              const std::string& fragment,
                                              const std::string& awaited = {}) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    for (;;) {
      const auto text = gateway_->journal(awaited.empty() ? fragment : awaited);
      std::vector<json::object> found;
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        auto record = json::parse(line).as_object();
        if (record.contains("command") && record.at("subject") == subject.c_str() &&
            std::string_view(record.at("command").as_string()).find(fragment) !=
                std::string_view::npos)
          found.push_back(std::move(record));
      }
      if (!found.empty() || std::chrono::steady_clock::now() > deadline) return found;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  // The one statement of `subject` whose command is `command`, once it is there.
  static json::object statement(const std::string& subject, const std::string& command) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    do {
      for (auto& record : statements(subject, command, json::serialize(json::value(command))))
        if (record.at("command") == command.c_str()) return record;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (std::chrono::steady_clock::now() < deadline);
    ADD_FAILURE() << "no statement " << command << " of " << subject << " in the journal:\n"
                  << gateway_->journal();
    return {{"command", ""}, {"verdict", ""}, {"rule", ""}, {"kinds", ""}, {"classes", ""}};
  }

  // The pending review of cara's whose command holds `text`, once there is one.
  static std::string wait_for_pending(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto listed = gateway_->cli({"review", "list", "--status", "pending", "--json", "--api",
                                   gateway_->api_url(), "--token", *lee_});
      if (listed.ok()) {
        const auto parsed = json::parse(listed.stdout_text);
        for (const auto& review : parsed.at("reviews").as_array()) {
          const auto& r = review.as_object();
          if (r.at("requester") == "cara" &&
              std::string_view(r.at("command").as_string()).find(text) != std::string_view::npos)
            return std::string(r.at("id").as_string());
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return {};
  }

  // `sftp -b` with these commands, in the background.
  ChildProcess start_sftp(const std::filesystem::path& key, const std::string& commands) {
    write_file(local_ / "batch", commands);
    return gateway_->start_file_client(
        key, "sftp", {"-b", (local_ / "batch").string(), SshGateway::destination()});
  }

  std::filesystem::path host(const std::string& name) const { return sshd_->home_dir() / name; }

  static SshdServer* sshd_;
  static SshGateway* gateway_;
  static std::filesystem::path* writer_;
  static std::filesystem::path* reader_;
  static std::filesystem::path* runner_;
  static std::filesystem::path* careful_;
  static std::string* lee_;
  TempDir local_{"portcullis-sftp-client-"};
};

SshdServer* SshSftpTest::sshd_ = nullptr;
SshGateway* SshSftpTest::gateway_ = nullptr;
std::filesystem::path* SshSftpTest::writer_ = nullptr;
std::filesystem::path* SshSftpTest::reader_ = nullptr;
std::filesystem::path* SshSftpTest::runner_ = nullptr;
std::filesystem::path* SshSftpTest::careful_ = nullptr;
std::string* SshSftpTest::lee_ = nullptr;

TEST_F(SshSftpTest, PutsAndGetsFilesWithAGrantThatWrites) {
  const auto content = binary_content();
  write_file(local_ / "up.bin", content);
  auto result =
      sftp(*writer_, "put " + (local_ / "up.bin").string() + " put-get.bin\n" + "get put-get.bin " +
                         (local_ / "down.bin").string() + "\n" + "ls -1\n");
  ASSERT_TRUE(result.ok()) << result.describe();
  // Byte for byte both ways: file contents are never masked.
  EXPECT_EQ(read_text_file(host("put-get.bin")), content);
  EXPECT_EQ(read_text_file(local_ / "down.bin"), content);
  EXPECT_NE(result.stdout_text.find("put-get.bin"), std::string::npos) << result.stdout_text;

  const auto path = host("put-get.bin").string();
  const auto upload = statement("wendy", "sftp open \"" + path + "\" write,create,truncate");
  EXPECT_EQ(upload.at("verdict"), "allow");
  EXPECT_EQ(upload.at("kinds"), json::parse(R"(["sftp_write"])"));
  EXPECT_EQ(upload.at("classes"), json::parse(R"(["file_write","sftp"])"));
  EXPECT_FALSE(upload.contains("error")) << json::serialize(upload);
  const auto download = statement("wendy", "sftp open \"" + path + "\" read");
  EXPECT_EQ(download.at("verdict"), "allow");
  EXPECT_EQ(download.at("kinds"), json::parse(R"(["sftp_read"])"));
  EXPECT_EQ(statement("wendy", "sftp").at("kinds"), json::parse(R"(["sftp"])"));
}

TEST_F(SshSftpTest, ScpCopiesBothWaysOverSftp) {
  const auto content = binary_content();
  write_file(local_ / "scp-up.bin", content);
  auto up = gateway_->file_client(
      *writer_, "scp", {(local_ / "scp-up.bin").string(), SshGateway::destination() + ":scp.bin"});
  ASSERT_TRUE(up.ok()) << up.describe();
  EXPECT_EQ(read_text_file(host("scp.bin")), content);
  auto down = gateway_->file_client(
      *writer_, "scp",
      {SshGateway::destination() + ":scp.bin", (local_ / "scp-down.bin").string()});
  ASSERT_TRUE(down.ok()) << down.describe();
  EXPECT_EQ(read_text_file(local_ / "scp-down.bin"), content);
  // scp names files as the caller wrote them, relative to the login folder.
  EXPECT_EQ(statement("wendy", "sftp open \"scp.bin\" read").at("verdict"), "allow");
}

TEST_F(SshSftpTest, AnUploadWithoutFileWriteIsRefusedAndNeverReachesTheHost) {
  write_file(local_ / "up.txt", "not for the host\n");
  write_file(host("readable.txt"), "for readers\n");
  auto result = sftp(*reader_, "-put " + (local_ / "up.txt").string() + " refused-up.txt\n" +
                                   "get readable.txt " + (local_ / "got.txt").string() + "\n");
  // The refused put does not stop the batch (`-`): the session goes on and the get works.
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(read_text_file(local_ / "got.txt"), "for readers\n");
  EXPECT_FALSE(std::filesystem::exists(host("refused-up.txt")));
  EXPECT_NE(result.stderr_text.find("Permission denied"), std::string::npos) << result.stderr_text;
  const auto path = host("refused-up.txt").string();
  EXPECT_NE(result.stderr_text.find("portcullis: blocked by rule \"readers\": writing files (" +
                                    json::serialize(json::value(path)) +
                                    ") is not allowed for this access"),
            std::string::npos)
      << result.stderr_text;
  const auto refused = statement("rita", "sftp open \"" + path + "\" write,create,truncate");
  EXPECT_EQ(refused.at("verdict"), "deny");
  EXPECT_EQ(refused.at("rule"), "readers");
}

TEST_F(SshSftpTest, APathsGuardrailRefusesReadsUnderEtc) {
  auto result = sftp(
      *writer_, "-get /etc/hostname " + (local_ / "hostname").string() + "\n" + "-ls /etc/ssh\n");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_FALSE(std::filesystem::exists(local_ / "hostname"));
  EXPECT_NE(result.stderr_text.find("portcullis: blocked by rule \"no-etc\": system files are "
                                    "off limits"),
            std::string::npos)
      << result.stderr_text;
  // Whatever the client asks about them (it looks a path up before it opens it) is refused.
  for (const std::string path : {"/etc/hostname", "/etc/ssh"}) {
    const auto asked = statements("wendy", "\"" + path + "\"", path);
    ASSERT_FALSE(asked.empty()) << path;
    for (const auto& record : asked) {
      EXPECT_EQ(record.at("verdict"), "deny") << json::serialize(record);
      EXPECT_EQ(record.at("rule"), "no-etc") << json::serialize(record);
    }
  }
}

// A link on the host does not carry a request past a guardrail on the paths it leads to: the
// gateway asks the host's sftp-server where each path leads and decides on both.
TEST_F(SshSftpTest, ALinkOnTheHostDoesNotCarryARequestPastAPathsGuardrail) {
  std::filesystem::create_directory_symlink("/etc", host("etc-link"));
  std::filesystem::create_symlink("/etc/hostname", host("hostname-link"));
  auto result = sftp(*writer_, "-get etc-link/hostname " + (local_ / "a").string() + "\n" +
                                   "-get hostname-link " + (local_ / "b").string() + "\n" +
                                   "-put " + (local_ / "batch").string() + " etc-link/planted\n" +
                                   "-ls etc-link/\n" + "rm hostname-link\n");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_FALSE(std::filesystem::exists(local_ / "a"));
  EXPECT_FALSE(std::filesystem::exists(local_ / "b"));
  EXPECT_NE(result.stderr_text.find("portcullis: blocked by rule \"no-etc\": system files are "
                                    "off limits"),
            std::string::npos)
      << result.stderr_text;
  // Whatever names a path through either link is refused, as the path it leads to would be.
  for (const std::string& path :
       {host("etc-link/hostname").string(), host("hostname-link").string(),
        host("etc-link/planted").string()}) {
    const auto asked = statements("wendy", "\"" + path + "\"", path);
    ASSERT_FALSE(asked.empty()) << path << "\n" << gateway_->journal();
    for (const auto& record : asked) {
      // lstat and remove act on the link itself, which is not under /etc.
      const std::string_view command = record.at("command").as_string();
      if (command.starts_with("sftp lstat") || command.starts_with("sftp remove")) continue;
      EXPECT_EQ(record.at("verdict"), "deny") << json::serialize(record);
      EXPECT_EQ(record.at("rule"), "no-etc") << json::serialize(record);
    }
  }
  // Removing the link acts on the link, which is not under /etc: allowed, and it is gone.
  EXPECT_EQ(
      statement("wendy", "sftp remove \"" + host("hostname-link").string() + "\"").at("verdict"),
      "allow");
  EXPECT_FALSE(std::filesystem::is_symlink(std::filesystem::symlink_status(host("hostname-link"))));
  EXPECT_TRUE(std::filesystem::exists("/etc/hostname"));
}

// sftp packets as a raw client writes them: uint32 length, type, then the fields.
std::string sftp_packet(uint8_t type, std::initializer_list<std::string> strings, uint32_t id,
                        std::string tail = {}) {
  const auto u32 = [](uint32_t value) {
    return std::string{static_cast<char>(value >> 24), static_cast<char>(value >> 16),
                       static_cast<char>(value >> 8), static_cast<char>(value)};
  };
  std::string body(1, static_cast<char>(type));
  body += u32(id);
  for (const auto& text : strings) body += u32(static_cast<uint32_t>(text.size())) + text;
  body += tail;
  return u32(static_cast<uint32_t>(body.size())) + body;
}

// A raw client pipelines a symlink to /etc and an open through it in one write: the open's
// path is asked of the host only once the symlink is answered, so the link is seen.
TEST_F(SshSftpTest, ALinkMadeByAPipelinedRequestIsSeenByTheNextOne) {
  const std::string init = std::string("\0\0\0\x05\x01\0\0\0\x03", 9);
  const std::string stream = init + sftp_packet(17, {"."}, 1) +                // stat
                             sftp_packet(20, {"/etc", "pipelined-link"}, 2) +  // symlink
                             sftp_packet(3, {"pipelined-link/hostname"}, 3,
                                         std::string("\0\0\0\x01\0\0\0\0", 8));  // open, read
  auto result = gateway_->ssh(*writer_, "sftp", "web", stream, {"-s"});
  const auto opened = statement("wendy", "sftp open \"pipelined-link/hostname\" read");
  EXPECT_EQ(opened.at("verdict"), "deny") << json::serialize(opened);
  EXPECT_EQ(opened.at("rule"), "no-etc") << json::serialize(opened);
  EXPECT_EQ(statement("wendy", "sftp symlink \"/etc\" \"pipelined-link\"").at("verdict"), "allow");
  EXPECT_TRUE(std::filesystem::is_symlink(host("pipelined-link"))) << result.describe();
}

TEST_F(SshSftpTest, RenameAndRemoveNeedFileWrite) {
  write_file(host("keep.txt"), "kept\n");
  auto result = sftp(*reader_, "-rename keep.txt moved.txt\n-rm keep.txt\n-mkdir made\n");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(read_text_file(host("keep.txt")), "kept\n");
  EXPECT_FALSE(std::filesystem::exists(host("moved.txt")));
  EXPECT_FALSE(std::filesystem::exists(host("made")));
  const auto keep = host("keep.txt").string();
  // OpenSSH's sftp renames with posix-rename@openssh.com when the host offers it.
  const auto both = "\"" + keep + "\" \"" + host("moved.txt").string() + "\"";
  const auto renames = statements("rita", both, host("moved.txt").string());
  ASSERT_EQ(renames.size(), 1u) << gateway_->journal();
  EXPECT_TRUE(renames[0].at("command") == ("sftp posix-rename " + both).c_str() ||
              renames[0].at("command") == ("sftp rename " + both).c_str())
      << json::serialize(renames[0]);
  EXPECT_EQ(renames[0].at("verdict"), "deny");
  EXPECT_EQ(renames[0].at("kinds"), json::parse(R"(["sftp_write"])"));
  EXPECT_EQ(statement("rita", "sftp remove \"" + keep + "\"").at("verdict"), "deny");
  EXPECT_EQ(statement("rita", "sftp mkdir \"" + host("made").string() + "\"").at("verdict"),
            "deny");

  // With a grant that writes they reach the host, and the journal has the host's answer.
  auto allowed = sftp(*writer_, "rename keep.txt moved.txt\n-rm no-such-file\n");
  ASSERT_TRUE(allowed.ok()) << allowed.describe();
  EXPECT_TRUE(std::filesystem::exists(host("moved.txt")));
  EXPECT_FALSE(std::filesystem::exists(host("keep.txt")));
  const auto missing =
      statements("wendy", host("no-such-file").string(), "sftp status 2: no such file");
  ASSERT_FALSE(missing.empty()) << gateway_->journal();
  bool answered = false;
  for (const auto& record : missing) {
    EXPECT_EQ(record.at("verdict"), "allow") << json::serialize(record);
    answered = answered ||
               (record.contains("error") && record.at("error") == "sftp status 2: no such file");
  }
  EXPECT_TRUE(answered) << gateway_->journal();
}

TEST_F(SshSftpTest, SftpIsRefusedWithoutClassSftp) {
  const auto before = count(sshd_->received_commands(), SshdServer::kSftpMarker);
  auto result = sftp(*runner_, "ls\n");
  EXPECT_NE(result.exit_code, 0) << result.describe();
  EXPECT_NE(result.stderr_text.find("portcullis: blocked by rule \"runners\": file transfers "
                                    "(sftp, scp) are not allowed for this access"),
            std::string::npos)
      << result.stderr_text;
  // Journaled before anything could reach the host: the host never started an sftp-server.
  const auto refused = statement("russ", "sftp");
  EXPECT_EQ(refused.at("verdict"), "deny");
  EXPECT_EQ(refused.at("rule"), "runners");
  EXPECT_EQ(count(sshd_->received_commands(), SshdServer::kSftpMarker), before);
  auto scp = gateway_->file_client(
      *runner_, "scp", {SshGateway::destination() + ":anything", (local_ / "x").string()});
  EXPECT_NE(scp.exit_code, 0) << scp.describe();
  EXPECT_EQ(count(sshd_->received_commands(), SshdServer::kSftpMarker), before);
}

TEST_F(SshSftpTest, AHeldUploadWaitsForItsReview) {
  write_file(local_ / "held.txt", "approved content\n");
  write_file(local_ / "other.txt", "rejected content\n");
  auto client =
      start_sftp(*careful_, "put " + (local_ / "held.txt").string() + " held.txt\n" + "-put " +
                                (local_ / "other.txt").string() + " rejected.txt\n");
  const auto approved_id = wait_for_pending("held.txt");
  ASSERT_FALSE(approved_id.empty()) << client.stderr_text();
  // Held: not on the host, the client waits.
  EXPECT_FALSE(std::filesystem::exists(host("held.txt")));
  EXPECT_TRUE(client.running());
  auto approved = gateway_->cli({"review", "approve", approved_id, "--comment", "checked", "--api",
                                 gateway_->api_url(), "--token", *lee_});
  ASSERT_TRUE(approved.ok()) << approved.describe();

  const auto rejected_id = wait_for_pending("rejected.txt");
  ASSERT_FALSE(rejected_id.empty()) << client.stderr_text();
  EXPECT_EQ(read_text_file(host("held.txt")), "approved content\n");
  auto rejected = gateway_->cli({"review", "reject", rejected_id, "--comment", "no", "--api",
                                 gateway_->api_url(), "--token", *lee_});
  ASSERT_TRUE(rejected.ok()) << rejected.describe();
  const auto status = client.wait(std::chrono::seconds(30));
  EXPECT_TRUE(status.success()) << status.describe() << client.stderr_text();
  EXPECT_FALSE(std::filesystem::exists(host("rejected.txt")));
  EXPECT_NE(client.stderr_text().find(approved_id), std::string::npos) << client.stderr_text();
  EXPECT_NE(client.stderr_text().find("rejected"), std::string::npos) << client.stderr_text();
}

}  // namespace
}  // namespace portcullis::testing
