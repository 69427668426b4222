// Legacy scp (`scp -O`) through the gateway end to end: the real OpenSSH scp client, the
// gateway, and a real sshd that runs the host's own scp in its home folder. `scp -t` and
// `scp -f` are decided as a transfer (class sftp, and file_write to upload), then each file and
// directory in the stream on its own, under `paths` guardrails; a test reads the host's files
// to see whether a refused one reached it.
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

// files: transfers and writes (and commands); readers: transfers only; runners: commands only;
// listed: everything, but commands only from a programs allow-list.
constexpr const char* kScpAccess =
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
    "  - name: listed\n"
    "    who: { groups: [listed] }\n"
    "    connections: [web]\n"
    "    allow: [exec, sftp, file_write]\n"
    "    programs: [ls]\n"
    "  - name: careful\n"
    "    who: { groups: [careful] }\n"
    "    connections: [web]\n"
    "    allow: [sftp, file_write]\n";

constexpr const char* kScpGuardrails =
    "guardrails:\n"
    "  - name: no-keys\n"
    "    when: { paths: [\"**/.ssh/authorized_keys\"] }\n"
    "    action: deny\n"
    "    message: authorized keys are managed elsewhere\n"
    "  - name: no-secrets\n"
    "    when: { paths: [\"**/secret.txt\"] }\n"
    "    action: deny\n"
    "    message: secrets stay on the host\n"
    "  - name: careful-writes\n"
    "    when: { classes: [file_write], who: { groups: [careful] } }\n"
    "    action: review\n"
    "    reviewers: { groups: [leads] }\n"
    "    wait: 60s\n";

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

// Bytes a text-mode or masking relay would change, and more than one read's worth.
std::string binary_content() {
  std::string content = "alice@example.com 123-45-6789\r\n";
  for (int i = 0; i < 200000; ++i) content += static_cast<char>(i * 7 % 256);
  return content;
}

// A folder on the host the login user may write to (the test runs as another user).
void make_shared_folder(const std::filesystem::path& path) {
  std::filesystem::create_directories(path);
  std::filesystem::permissions(path, std::filesystem::perms::all);
}

std::size_t count_starting(const std::vector<std::string>& list, std::string_view prefix) {
  return static_cast<std::size_t>(std::count_if(
      list.begin(), list.end(), [&](const std::string& item) { return item.starts_with(prefix); }));
}

class SshScpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sshd_ = new SshdServer();
    SshGatewayOptions options;
    options.access_section = kScpAccess;
    options.guardrails_section = kScpGuardrails;
    gateway_ = new SshGateway(*sshd_, options);
    writer_ =
        new std::filesystem::path(gateway_->login(gateway_->token_for("wendy", "files"), "wendy"));
    reader_ =
        new std::filesystem::path(gateway_->login(gateway_->token_for("rita", "readers"), "rita"));
    runner_ =
        new std::filesystem::path(gateway_->login(gateway_->token_for("russ", "runners"), "russ"));
    listed_ =
        new std::filesystem::path(gateway_->login(gateway_->token_for("lily", "listed"), "lily"));
    careful_ =
        new std::filesystem::path(gateway_->login(gateway_->token_for("cara", "careful"), "cara"));
    lee_ = new std::string(gateway_->token_for("lee", "leads"));
  }
  static void TearDownTestSuite() {
    delete lee_;
    delete careful_;
    delete listed_;
    delete runner_;
    delete reader_;
    delete writer_;
    delete gateway_;
    delete sshd_;
  }

  // Legacy scp (-O: the scp protocol over an exec request, not sftp).
  RunResult scp(const std::filesystem::path& key, std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), "-O");
    return gateway_->file_client(key, "scp", arguments);
  }
  static std::string remote(const std::string& path) {
    return SshGateway::destination() + ":" + path;
  }
  std::filesystem::path host(const std::string& name) const { return sshd_->home_dir() / name; }

  // The journal's statements of `subject` whose command is `command`, once there is one.
  static std::vector<json::object> statements(const std::string& subject,
                                              const std::string& command) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    for (;;) {
      const auto text = gateway_->journal(json::serialize(json::value(command)));
      std::vector<json::object> found;
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        auto record = json::parse(line).as_object();
        if (record.contains("command") && record.at("subject") == subject.c_str() &&
            record.at("command") == command.c_str())
          found.push_back(std::move(record));
      }
      if (!found.empty() || std::chrono::steady_clock::now() > deadline) return found;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  static json::object statement(const std::string& subject, const std::string& command) {
    auto found = statements(subject, command);
    if (found.empty()) {
      ADD_FAILURE() << "no statement " << command << " of " << subject << " in the journal:\n"
                    << gateway_->journal();
      return {{"command", ""}, {"verdict", ""}, {"rule", ""}, {"kinds", ""}, {"classes", ""}};
    }
    return found.back();
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
  static void decide_review(const std::string& id, const std::string& verdict) {
    auto decided = gateway_->cli({"review", verdict, id, "--comment", "checked", "--api",
                                  gateway_->api_url(), "--token", *lee_});
    ASSERT_TRUE(decided.ok()) << decided.describe();
  }

  static SshdServer* sshd_;
  static SshGateway* gateway_;
  static std::filesystem::path* writer_;
  static std::filesystem::path* reader_;
  static std::filesystem::path* runner_;
  static std::filesystem::path* listed_;
  static std::filesystem::path* careful_;
  static std::string* lee_;
  TempDir local_{"portcullis-scp-client-"};
};

SshdServer* SshScpTest::sshd_ = nullptr;
SshGateway* SshScpTest::gateway_ = nullptr;
std::filesystem::path* SshScpTest::writer_ = nullptr;
std::filesystem::path* SshScpTest::reader_ = nullptr;
std::filesystem::path* SshScpTest::runner_ = nullptr;
std::filesystem::path* SshScpTest::listed_ = nullptr;
std::filesystem::path* SshScpTest::careful_ = nullptr;
std::string* SshScpTest::lee_ = nullptr;

TEST_F(SshScpTest, CopiesAFileBothWaysByteForByteAsATransfer) {
  const auto content = binary_content();
  write_file(local_ / "up.bin", content);
  auto up = scp(*writer_, {(local_ / "up.bin").string(), remote("legacy.bin")});
  ASSERT_TRUE(up.ok()) << up.describe();
  EXPECT_EQ(read_text_file(host("legacy.bin")), content);
  auto down = scp(*writer_, {remote("legacy.bin"), (local_ / "down.bin").string()});
  ASSERT_TRUE(down.ok()) << down.describe();
  EXPECT_EQ(read_text_file(local_ / "down.bin"), content);
  // The legacy protocol ran on the host, not sftp.
  const auto received = sshd_->received_commands();
  EXPECT_EQ(count_starting(received, "scp -t legacy.bin"), 1u);
  EXPECT_EQ(count_starting(received, "scp -f legacy.bin"), 1u);

  // Journaled as a transfer, then file by file as sftp's requests are.
  const auto opened = statement("wendy", "scp -t legacy.bin");
  EXPECT_EQ(opened.at("verdict"), "allow");
  EXPECT_EQ(opened.at("kinds"), json::parse(R"(["scp"])"));
  EXPECT_EQ(opened.at("classes"), json::parse(R"(["file_write","sftp"])"));
  // Without -d, the host writes into legacy.bin if it is a folder, or to it if not.
  const auto written = statement("wendy", "scp write \"legacy.bin/up.bin\" \"legacy.bin\"");
  EXPECT_EQ(written.at("verdict"), "allow");
  EXPECT_EQ(written.at("kinds"), json::parse(R"(["sftp_write"])"));
  EXPECT_EQ(written.at("classes"), json::parse(R"(["file_write","sftp"])"));
  EXPECT_FALSE(written.contains("error")) << json::serialize(written);
  EXPECT_EQ(statement("wendy", "scp -f legacy.bin").at("classes"), json::parse(R"(["sftp"])"));
  const auto read = statement("wendy", "scp read \"legacy.bin\"");
  EXPECT_EQ(read.at("verdict"), "allow");
  EXPECT_EQ(read.at("kinds"), json::parse(R"(["sftp_read"])"));
}

TEST_F(SshScpTest, CopiesAFolderBothWaysWithRAndP) {
  const auto content = binary_content();
  write_file(local_ / "tree" / "a.txt", "first\n");
  write_file(local_ / "tree" / "sub" / "b.bin", content);
  // -p: each file and folder comes after a line with its times.
  auto up = scp(*writer_, {"-r", "-p", (local_ / "tree").string(), remote("")});
  ASSERT_TRUE(up.ok()) << up.describe();
  EXPECT_EQ(read_text_file(host("tree/a.txt")), "first\n");
  EXPECT_EQ(read_text_file(host("tree/sub/b.bin")), content);
  auto down = scp(*writer_, {"-r", "-p", remote("tree"), (local_ / "back").string()});
  ASSERT_TRUE(down.ok()) << down.describe();
  EXPECT_EQ(read_text_file(local_ / "back" / "a.txt"), "first\n");
  EXPECT_EQ(read_text_file(local_ / "back" / "sub" / "b.bin"), content);
  EXPECT_EQ(statement("wendy", "scp mkdir \"tree/sub\" \"sub\"").at("verdict"), "allow");
  EXPECT_EQ(statement("wendy", "scp read \"tree/sub/b.bin\"").at("verdict"), "allow");
}

TEST_F(SshScpTest, AGuardrailKeepsAnUploadOutOfAuthorizedKeysAndTheOtherFilesArrive) {
  make_shared_folder(host(".ssh"));
  write_file(local_ / "authorized_keys", "ssh-ed25519 AAAA attacker\n");
  write_file(local_ / "notes.txt", "notes\n");
  // Two sources: scp asks the host for a folder (-d).
  auto both = scp(*writer_, {(local_ / "authorized_keys").string(), (local_ / "notes.txt").string(),
                             remote(".ssh/")});
  EXPECT_NE(both.exit_code, 0) << both.describe();
  EXPECT_NE(both.stderr_text.find("portcullis: blocked by rule \"no-keys\": authorized keys are "
                                  "managed elsewhere"),
            std::string::npos)
      << both.stderr_text;
  EXPECT_FALSE(std::filesystem::exists(host(".ssh/authorized_keys")));
  EXPECT_EQ(read_text_file(host(".ssh/notes.txt")), "notes\n");
  const auto refused = statement("wendy", "scp write \".ssh/authorized_keys\"");
  EXPECT_EQ(refused.at("verdict"), "deny");
  EXPECT_EQ(refused.at("rule"), "no-keys");
  EXPECT_EQ(statement("wendy", "scp write \".ssh/notes.txt\"").at("verdict"), "allow");

  // One source: the path the line names may be the file itself.
  auto one = scp(*writer_, {(local_ / "authorized_keys").string(), remote(".ssh/")});
  EXPECT_NE(one.exit_code, 0) << one.describe();
  EXPECT_FALSE(std::filesystem::exists(host(".ssh/authorized_keys")));

  // A folder that holds .ssh/authorized_keys, copied into the home folder.
  write_file(local_ / "home" / ".ssh" / "authorized_keys", "ssh-ed25519 AAAA attacker\n");
  write_file(local_ / "home" / ".ssh" / "config", "Host *\n");
  write_file(local_ / "home" / "todo.txt", "todo\n");
  auto tree = scp(*writer_, {"-r", (local_ / "home" / ".ssh").string(), remote("")});
  EXPECT_NE(tree.exit_code, 0) << tree.describe();
  EXPECT_FALSE(std::filesystem::exists(host(".ssh/authorized_keys")));
  EXPECT_EQ(read_text_file(host(".ssh/config")), "Host *\n");
  auto nested = scp(*writer_, {"-r", (local_ / "home").string(), remote("")});
  EXPECT_NE(nested.exit_code, 0) << nested.describe();
  EXPECT_FALSE(std::filesystem::exists(host("home/.ssh/authorized_keys")));
  EXPECT_EQ(read_text_file(host("home/.ssh/config")), "Host *\n");
  EXPECT_EQ(read_text_file(host("home/todo.txt")), "todo\n");
}

// A link on the host does not carry a transfer past a guardrail on the paths it leads to: the
// gateway asks the host where each path leads (on an sftp channel of its own) and decides on
// both.
TEST_F(SshScpTest, ALinkOnTheHostDoesNotCarryATransferPastAPathsGuardrail) {
  make_shared_folder(host(".ssh"));
  std::filesystem::create_directory_symlink(host(".ssh"), host("keys-link"));
  write_file(host("vault/secret.txt"), "the secret\n");
  std::filesystem::create_symlink(host("vault/secret.txt"), host("notes-link.txt"));
  write_file(local_ / "authorized_keys", "ssh-ed25519 AAAA attacker\n");
  write_file(local_ / "notes.txt", "notes\n");

  // Into the folder the link leads to: authorized_keys is refused, the other file arrives.
  auto up = scp(*writer_, {(local_ / "authorized_keys").string(), (local_ / "notes.txt").string(),
                           remote("keys-link/")});
  EXPECT_NE(up.exit_code, 0) << up.describe();
  EXPECT_NE(up.stderr_text.find("portcullis: blocked by rule \"no-keys\": authorized keys are "
                                "managed elsewhere"),
            std::string::npos)
      << up.stderr_text;
  EXPECT_FALSE(std::filesystem::exists(host(".ssh/authorized_keys")));
  EXPECT_EQ(read_text_file(host(".ssh/notes.txt")), "notes\n");
  const auto refused = statement("wendy", "scp write \"keys-link/authorized_keys\"");
  EXPECT_EQ(refused.at("verdict"), "deny");
  EXPECT_EQ(refused.at("rule"), "no-keys");

  // `..` after a link is the host's to resolve: `inner-link/../authorized_keys` is
  // `authorized_keys` to a lexical reading, and `.ssh/authorized_keys` on the host.
  make_shared_folder(host(".ssh/inner"));
  std::filesystem::create_directory_symlink(host(".ssh/inner"), host("inner-link"));
  auto back_out = scp(
      *writer_, {(local_ / "authorized_keys").string(), remote("inner-link/../authorized_keys")});
  EXPECT_NE(back_out.exit_code, 0) << back_out.describe();
  EXPECT_FALSE(std::filesystem::exists(host(".ssh/authorized_keys")));

  // A file link to a secret: refused when the transfer opens, the host never runs scp.
  auto down = scp(*writer_, {remote("notes-link.txt"), (local_ / "got.txt").string()});
  EXPECT_NE(down.exit_code, 0) << down.describe();
  EXPECT_FALSE(std::filesystem::exists(local_ / "got.txt"));
  EXPECT_EQ(count_starting(sshd_->received_commands(), "scp -f notes-link.txt"), 0u);
  const auto opened = statement("wendy", "scp -f notes-link.txt");
  EXPECT_EQ(opened.at("verdict"), "deny");
  EXPECT_EQ(opened.at("rule"), "no-secrets");
}

// Under a `paths` guardrail, a transfer is decided on where its paths lead; a host that cannot
// say (no sftp subsystem to ask) gets no transfer (fail closed). Without such a guardrail
// nothing is asked, and the transfer runs.
TEST(SshScpWithoutSftpTest, AHostThatCannotSayWhereAPathLeadsGetsNoTransferUnderAPathsGuardrail) {
  SshdOptions sshd_options;
  sshd_options.sftp_subsystem = false;
  SshdServer sshd(sshd_options);
  TempDir local("portcullis-scp-client-");
  write_file(local.path() / "up.txt", "up\n");
  const auto upload = [&](SshGateway& gateway) {
    const auto key = gateway.login(gateway.token_for("wendy", "files"), "wendy");
    return gateway.file_client(
        key, "scp",
        {"-O", (local.path() / "up.txt").string(), SshGateway::destination() + ":up.txt"});
  };
  {
    SshGatewayOptions options;
    options.access_section = kScpAccess;
    options.guardrails_section = kScpGuardrails;
    SshGateway gateway(sshd, options);
    auto refused = upload(gateway);
    EXPECT_NE(refused.exit_code, 0) << refused.describe();
    EXPECT_NE(refused.stderr_text.find("the gateway cannot ask the host where paths lead: the "
                                       "host refused its sftp subsystem"),
              std::string::npos)
        << refused.stderr_text;
    EXPECT_FALSE(std::filesystem::exists(sshd.home_dir() / "up.txt"));
    EXPECT_EQ(count_starting(sshd.received_commands(), "scp -t"), 0u);
  }
  SshGatewayOptions options;
  options.access_section = kScpAccess;
  SshGateway gateway(sshd, options);
  auto allowed = upload(gateway);
  ASSERT_TRUE(allowed.ok()) << allowed.describe();
  EXPECT_EQ(read_text_file(sshd.home_dir() / "up.txt"), "up\n");
}

// A host whose sftp subsystem answers with something other than SFTP (here it echoes what it
// is sent, so the gateway's INIT comes back as the answer) cannot say where a path leads
// either: no transfer under a `paths` guardrail, and the host's scp never runs.
TEST(SshScpWithoutSftpTest, AHostWhoseSftpIsNotSftpGetsNoTransferUnderAPathsGuardrail) {
  SshdOptions sshd_options;
  sshd_options.sftp_command = "/bin/cat";
  SshdServer sshd(sshd_options);
  TempDir local("portcullis-scp-client-");
  write_file(local.path() / "up.txt", "up\n");
  SshGatewayOptions options;
  options.access_section = kScpAccess;
  options.guardrails_section = kScpGuardrails;
  SshGateway gateway(sshd, options);
  const auto key = gateway.login(gateway.token_for("wendy", "files"), "wendy");
  auto refused = gateway.file_client(
      key, "scp",
      {"-O", (local.path() / "up.txt").string(), SshGateway::destination() + ":up.txt"});
  EXPECT_NE(refused.exit_code, 0) << refused.describe();
  EXPECT_NE(refused.stderr_text.find("the gateway cannot ask the host where paths lead: the "
                                     "host's sftp-server does not speak SFTP version 3"),
            std::string::npos)
      << refused.stderr_text;
  EXPECT_FALSE(std::filesystem::exists(sshd.home_dir() / "up.txt"));
  EXPECT_EQ(count_starting(sshd.received_commands(), "scp -t"), 0u);
}

TEST_F(SshScpTest, ARefusedDownloadNeverReachesTheClient) {
  write_file(host("private/secret.txt"), "the secret\n");
  write_file(host("private/public.txt"), "public\n");
  auto one = scp(*writer_, {remote("private/secret.txt"), (local_ / "got.txt").string()});
  EXPECT_NE(one.exit_code, 0) << one.describe();
  EXPECT_FALSE(std::filesystem::exists(local_ / "got.txt"));
  EXPECT_NE(one.stderr_text.find("portcullis: blocked by rule \"no-secrets\": secrets stay on "
                                 "the host"),
            std::string::npos)
      << one.stderr_text;
  // The path on the line is matched when the transfer opens: the host never runs scp.
  const auto opened = statement("wendy", "scp -f private/secret.txt");
  EXPECT_EQ(opened.at("verdict"), "deny");
  EXPECT_EQ(opened.at("rule"), "no-secrets");

  // In a folder, the refused file is left out and the others arrive.
  auto folder = scp(*writer_, {"-r", remote("private"), (local_ / "private").string()});
  EXPECT_NE(folder.exit_code, 0) << folder.describe();
  EXPECT_NE(folder.stderr_text.find("portcullis: blocked by rule \"no-secrets\": secrets stay on "
                                    "the host"),
            std::string::npos)
      << folder.stderr_text;
  EXPECT_FALSE(std::filesystem::exists(local_ / "private" / "secret.txt"));
  EXPECT_EQ(read_text_file(local_ / "private" / "public.txt"), "public\n");
  const auto refused = statement("wendy", "scp read \"private/secret.txt\"");
  EXPECT_EQ(refused.at("verdict"), "deny");
  EXPECT_EQ(refused.at("rule"), "no-secrets");
  EXPECT_EQ(statement("wendy", "scp read \"private/public.txt\"").at("verdict"), "allow");
}

TEST_F(SshScpTest, WithoutFileWriteAnUploadIsRefusedAndADownloadAllowed) {
  write_file(local_ / "up.txt", "not for the host\n");
  write_file(host("for-readers.txt"), "for readers\n");
  const auto before = count_starting(sshd_->received_commands(), "scp -t");
  auto up = scp(*reader_, {(local_ / "up.txt").string(), remote("rita.txt")});
  EXPECT_NE(up.exit_code, 0) << up.describe();
  EXPECT_NE(up.stderr_text.find("portcullis: blocked by rule \"readers\": writing files "
                                "(\"rita.txt\") is not allowed for this access"),
            std::string::npos)
      << up.stderr_text;
  EXPECT_FALSE(std::filesystem::exists(host("rita.txt")));
  EXPECT_EQ(count_starting(sshd_->received_commands(), "scp -t"), before);
  EXPECT_EQ(statement("rita", "scp -t rita.txt").at("verdict"), "deny");

  auto down = scp(*reader_, {remote("for-readers.txt"), (local_ / "got.txt").string()});
  ASSERT_TRUE(down.ok()) << down.describe();
  EXPECT_EQ(read_text_file(local_ / "got.txt"), "for readers\n");
}

TEST_F(SshScpTest, WithoutSftpBothWaysAreRefused) {
  write_file(local_ / "up.txt", "x\n");
  write_file(host("russ-down.txt"), "y\n");
  const auto received = sshd_->received_commands().size();
  auto up = scp(*runner_, {(local_ / "up.txt").string(), remote("russ.txt")});
  EXPECT_NE(up.exit_code, 0) << up.describe();
  EXPECT_NE(up.stderr_text.find("portcullis: blocked by rule \"runners\": file transfers (sftp, "
                                "scp) are not allowed for this access"),
            std::string::npos)
      << up.stderr_text;
  auto down = scp(*runner_, {remote("russ-down.txt"), (local_ / "got.txt").string()});
  EXPECT_NE(down.exit_code, 0) << down.describe();
  EXPECT_FALSE(std::filesystem::exists(host("russ.txt")));
  EXPECT_FALSE(std::filesystem::exists(local_ / "got.txt"));
  EXPECT_EQ(sshd_->received_commands().size(), received);
  // The same grant still runs commands, scp among them when it is not a transfer's line.
  auto command = gateway_->ssh(*runner_, "scp -t x; echo ran");
  EXPECT_NE(command.stdout_text.find("ran"), std::string::npos) << command.describe();
}

TEST_F(SshScpTest, AProgramsAllowListDoesNotApplyToATransfer) {
  write_file(local_ / "listed.txt", "listed\n");
  auto up = scp(*listed_, {(local_ / "listed.txt").string(), remote("listed.txt")});
  ASSERT_TRUE(up.ok()) << up.describe();
  EXPECT_EQ(read_text_file(host("listed.txt")), "listed\n");
  // A command line is still held to the list.
  auto command = gateway_->ssh(*listed_, "scp -t x; ls");
  EXPECT_NE(command.exit_code, 0) << command.describe();
  EXPECT_NE(command.stderr_text.find("is not among the programs this access allows"),
            std::string::npos)
      << command.stderr_text;
}

TEST_F(SshScpTest, AHeldFileWaitsForItsReview) {
  make_shared_folder(host("inbox"));
  write_file(local_ / "held.txt", "approved content\n");
  write_file(local_ / "rejected.txt", "rejected content\n");
  auto client = gateway_->start_file_client(
      *careful_, "scp",
      {"-O", (local_ / "held.txt").string(), (local_ / "rejected.txt").string(), remote("inbox")});
  // The transfer is a write: it is held as a whole first, then file by file.
  const auto opened = wait_for_pending("scp -d -t inbox");
  ASSERT_FALSE(opened.empty()) << client.stderr_text();
  decide_review(opened, "approve");
  const auto held = wait_for_pending("inbox/held.txt");
  ASSERT_FALSE(held.empty()) << client.stderr_text();
  // Held: not on the host, the client waits.
  EXPECT_FALSE(std::filesystem::exists(host("inbox/held.txt")));
  EXPECT_TRUE(client.running());
  decide_review(held, "approve");
  const auto rejected = wait_for_pending("inbox/rejected.txt");
  ASSERT_FALSE(rejected.empty()) << client.stderr_text();
  EXPECT_EQ(read_text_file(host("inbox/held.txt")), "approved content\n");
  decide_review(rejected, "reject");
  const auto status = client.wait(std::chrono::seconds(30));
  EXPECT_FALSE(status.success()) << status.describe() << client.stderr_text();
  EXPECT_FALSE(std::filesystem::exists(host("inbox/rejected.txt")));
  EXPECT_NE(client.stderr_text().find(held), std::string::npos) << client.stderr_text();
}

}  // namespace
}  // namespace portcullis::testing
