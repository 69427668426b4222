// What an approval is bound to: a command held for review runs, once approved, only as the
// command that was approved.
#include <gtest/gtest.h>

#include "gateway/command_gate.h"

namespace portcullis::gateway {
namespace {

policy::Command sql_command(std::string text, std::vector<std::optional<std::string>> params) {
  policy::Command command;
  command.text = std::move(text);
  command.sql()->bound = !params.empty();
  command.sql()->params = std::move(params);
  return command;
}

policy::Command shell_command(std::string text, policy::ShellCommand shell) {
  policy::Command command;
  command.text = std::move(text);
  command.detail = std::move(shell);
  return command;
}

TEST(ApprovalBindingTest, StatementsAreBoundToTheirTextAndValues) {
  EXPECT_EQ(CommandGate::approval_binding(sql_command("delete from t", {})), "delete from t");
  EXPECT_EQ(CommandGate::approval_binding(sql_command("select $1", {"5", std::nullopt})),
            "9:select $1|1:5|NULL");
}

TEST(ApprovalBindingTest, ACommandLineIsBoundToItsText) {
  const std::string line = "systemctl restart nginx";
  EXPECT_EQ(CommandGate::approval_binding(shell_command(line, policy::read_shell_command(line))),
            line);
}

TEST(ApprovalBindingTest, AFileOperationIsBoundToItsPaths) {
  const auto a = CommandGate::approval_binding(
      shell_command("sftp write", policy::transfer_files(true, {"/srv/a"})));
  const auto b = CommandGate::approval_binding(
      shell_command("sftp write", policy::transfer_files(true, {"/srv/b"})));
  EXPECT_EQ(a, "10:sftp write|6:/srv/a");
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace portcullis::gateway
