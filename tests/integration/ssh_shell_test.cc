// Interactive shells through the SSH front end: the real ssh client with a terminal (-tt), a
// real sshd and its login shell. Each line typed is decided before its Enter reaches the host;
// the output is masked and recorded, and `portcullis sessions replay` plays the recording.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>

#include "contains.h"
#include "ssh_gateway.h"
#include "support/sshd_server.h"

namespace portcullis::testing {
namespace {

namespace json = boost::json;

// The session of the journal's first event whose command is `command`.
std::string session_of(const std::string& journal, const std::string& command) {
  std::size_t start = 0;
  while (start < journal.size()) {
    auto end = journal.find('\n', start);
    if (end == std::string::npos) end = journal.size();
    const auto line = journal.substr(start, end - start);
    start = end + 1;
    boost::system::error_code ec;
    const auto value = json::parse(line, ec);
    if (ec || !value.is_object()) continue;
    const auto* text = value.as_object().if_contains("command");
    const auto* session = value.as_object().if_contains("session");
    if (text && text->is_string() && text->as_string() == command && session &&
        session->is_string())
      return std::string(session->as_string());
  }
  return {};
}

class SshShellTest : public ::testing::Test {
 protected:
  static SshGatewayOptions shell_access(std::string guardrails = {}) {
    SshGatewayOptions options;
    options.access_section =
        "access:\n"
        "  - name: ops\n"
        "    who: { groups: [ops] }\n"
        "    connections: [web]\n"
        "    allow: [exec, shell]\n"
        "    masking: pii\n";
    options.guardrails_section = std::move(guardrails);
    options.extra_sections = "api:\n  admin_groups: [platform-admins]\n";
    return options;
  }

  SshdServer sshd_;
};

TEST_F(SshShellTest, LinesRunMaskedJournaledAndRecorded) {
  SshGateway gateway(sshd_, shell_access());
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  const auto result =
      gateway.shell(key, {{"echo hello-$((6*7))\r"}, {"echo ssn 123-45-6789\r"}, {"exit\r", 0.3}});
  EXPECT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_NE(result.stdout_text.find("hello-42"), std::string::npos) << result.stdout_text;
  EXPECT_EQ(result.stdout_text.find("123-45-6789"), std::string::npos) << result.stdout_text;
  EXPECT_NE(result.stdout_text.find("[us_ssn]"), std::string::npos) << result.stdout_text;
  EXPECT_TRUE(contains(sshd_.received_commands(), SshdServer::kShellMarker));

  // Each line is a statement of its own, as typed.
  const auto journal = gateway.journal("echo ssn 123-45-6789");
  const auto session = session_of(journal, "echo hello-$((6*7))");
  ASSERT_FALSE(session.empty()) << journal;
  EXPECT_NE(journal.find("\"command\":\"exit\""), std::string::npos) << journal;

  // The recording plays back what the terminal showed, masked.
  const auto admin = gateway.token_for("ada", "platform-admins");
  const auto replay = gateway.cli(
      {"sessions", "replay", session, "--no-wait", "--api", gateway.api_url(), "--token", admin});
  ASSERT_TRUE(replay.ok()) << replay.describe();
  EXPECT_NE(replay.stdout_text.find("hello-42"), std::string::npos) << replay.stdout_text;
  EXPECT_NE(replay.stdout_text.find("[us_ssn]"), std::string::npos) << replay.stdout_text;
  EXPECT_EQ(replay.stdout_text.find("123-45-6789"), std::string::npos) << replay.stdout_text;

  // Not another session's, and not a second shell that was never opened.
  const auto missing = gateway.cli({"sessions", "replay", session, "--part", "2", "--no-wait",
                                    "--api", gateway.api_url(), "--token", admin});
  EXPECT_EQ(missing.exit_code, 1) << missing.describe();
  // Only journal readers see recordings.
  const auto denied = gateway.cli({"sessions", "replay", session, "--no-wait", "--api",
                                   gateway.api_url(), "--token", gateway.token_for("bob", "ops")});
  EXPECT_EQ(denied.exit_code, 1) << denied.describe();
}

TEST_F(SshShellTest, ARefusedLineNeverRunsAndTheShellGoesOn) {
  SshGateway gateway(sshd_, shell_access("guardrails:\n"
                                         "  - name: no-rm\n"
                                         "    when: { programs: [rm] }\n"
                                         "    action: deny\n"
                                         "    message: removing files is not allowed here\n"));
  const auto marker = sshd_.home_dir() / "keep-me";
  std::ofstream(marker) << "x";
  std::filesystem::permissions(marker, std::filesystem::perms::all);
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  // Quoting and a wrapper do not hide the program, nor does ending the line with ESC Enter
  // (sh on a terminal runs "rm … keep-me<ESC>") or with Ctrl-D twice (the terminal hands the
  // text over, then the end of input: sh runs what it read, then exits).
  const auto result = gateway.shell(key, {{"r\"m\" -f keep-me\r"},
                                          {"env rm -f keep-me\r"},
                                          {"rm -f keep-me \x1b\r"},
                                          {"echo still-$((1+1))\r"},
                                          {"rm -f keep-me\x04\x04", 0.3}});
  EXPECT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_TRUE(std::filesystem::exists(marker));
  EXPECT_NE(result.stdout_text.find("blocked by rule \"no-rm\""), std::string::npos)
      << result.stdout_text;
  EXPECT_NE(result.stdout_text.find("still-2"), std::string::npos) << result.stdout_text;
  const auto journal = gateway.journal("still-$((1+1))");
  EXPECT_NE(journal.find("removing files is not allowed here"), std::string::npos) << journal;
}

TEST_F(SshShellTest, KeysTheGatewayCannotFollowMakeTheLineUnknown) {
  SshGateway gateway(sshd_, shell_access());
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  // Tab completion: the shell may run another text than the one typed.
  const auto result = gateway.shell(key, {{"touch made-by-tab\t\r"}, {"exit\r", 0.3}});
  EXPECT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_NE(result.stdout_text.find("could not follow how this line was typed"), std::string::npos)
      << result.stdout_text;
  EXPECT_FALSE(std::filesystem::exists(sshd_.home_dir() / "made-by-tab"));
}

TEST_F(SshShellTest, InputTypedWithoutEchoIsNeitherReadNorJournaled) {
  SshGateway gateway(sshd_, shell_access());
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  // With echo off (as at a password prompt) the line is not read: class unknown, which this
  // access does not allow; Ctrl-D then ends the shell.
  const auto result = gateway.shell(key, {{"stty -echo\r"}, {"hunter2-secret\r"}, {"\x04", 0.3}});
  EXPECT_NE(result.stdout_text.find("typed without echo"), std::string::npos) << result.stdout_text;
  const auto journal = gateway.journal("without echo");
  EXPECT_NE(journal.find("without echo"), std::string::npos) << journal;
  EXPECT_EQ(journal.find("hunter2"), std::string::npos) << journal;
}

TEST_F(SshShellTest, TheGrantMustAllowShells) {
  SshGateway gateway(sshd_);  // exec only
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  const auto result = gateway.shell(key, {{"echo hi\r"}, {"exit\r", 0.3}});
  EXPECT_EQ(result.exit_code, 126) << result.describe();
  // Refused before any terminal exists on the host: the reason comes on stderr.
  EXPECT_NE(result.stderr_text.find("interactive shells are not allowed"), std::string::npos)
      << result.describe();
  EXPECT_FALSE(contains(sshd_.received_commands(), SshdServer::kShellMarker));
}

TEST_F(SshShellTest, AnIdleShellEndsAfterTheIdleTimeoutAndABusyCommandDoesNot) {
  auto options = shell_access();
  options.extra_sections += "limits:\n  idle_timeout: 1s\n";
  SshGateway gateway(sshd_, options);
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  // A command that runs silently for longer than the timeout is busy, not idle.
  const auto busy = gateway.ssh(key, "sleep 2; echo finished");
  EXPECT_TRUE(busy.ok()) << busy.describe();
  EXPECT_EQ(busy.stdout_text, "finished\n");
  // A shell left at its prompt is ended, and told why; what was typed before still ran.
  const auto idle = gateway.shell(key, {{"echo before-$((1+1))\r", 3.0}, {"echo after\r", 0.3}});
  EXPECT_NE(idle.stdout_text.find("before-2"), std::string::npos) << idle.stdout_text;
  EXPECT_NE((idle.stdout_text + idle.stderr_text)
                .find("portcullis: the session ended after 1 s "
                      "idle (limits.idle_timeout)"),
            std::string::npos)
      << idle.stdout_text << idle.stderr_text;
  EXPECT_EQ(idle.stdout_text.find("\r\nafter"), std::string::npos) << idle.stdout_text;
}

}  // namespace
}  // namespace portcullis::testing
