// decide(): the single point where a command's fate is settled.
#include "policy/decide.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <optional>

#include "policy/guardrails.h"
#include "shell/program_entry.h"

namespace portcullis::policy {
namespace {

// Classes every grant allows, so that every client's housekeeping works.
constexpr sql::ClassSet kAlwaysAllowed =
    sql::StatementClass::transaction | sql::StatementClass::session;

Decision refuse(const std::string& rule, std::string message) {
  Decision decision;
  decision.verdict = Verdict::deny;
  decision.rule = rule;
  decision.message = std::move(message);
  return decision;
}

// The decision of a guardrail that matched, with its message or the default ones.
Decision guardrail_decision(const config::GuardrailConfig& guardrail, std::string refused,
                            std::string held) {
  Decision decision;
  decision.rule = guardrail.name;
  decision.message = guardrail.message.empty() ? std::move(refused) : guardrail.message;
  if (guardrail.action == config::GuardrailAction::review) {
    decision.verdict = Verdict::review;
    decision.reviewer_groups = guardrail.reviewers.groups;
    decision.reviewer_subjects = guardrail.reviewers.subjects;
    decision.min_approvals = guardrail.min_approvals;
    decision.wait = guardrail.wait;
    if (guardrail.message.empty()) decision.message = std::move(held);
  } else {
    decision.verdict = Verdict::deny;
  }
  return decision;
}

std::optional<Decision> check_guardrails(const config::Config& config,
                                         const identity::Identity& identity, const Grant& grant,
                                         const sql::Statement& statement,
                                         std::optional<uint64_t> estimated_rows) {
  for (const auto& guardrail : config.guardrails) {
    if (!guardrail_matches(guardrail.when, statement, grant.connection->name, identity,
                           estimated_rows))
      continue;
    if (guardrail.action == config::GuardrailAction::allow) return std::nullopt;
    return guardrail_decision(
        guardrail,
        fmt::format("this {} statement matches a guardrail that refuses it", statement.kind),
        fmt::format("{} needs a reviewer's approval", statement.kind));
  }
  return std::nullopt;
}

std::optional<Decision> check_grant(const Grant& grant, const sql::Statement& statement,
                                    const std::string& parse_error) {
  if (statement.changes_text_reading)
    return refuse(grant.rule,
                  fmt::format("{} would change how the server reads the query text after it "
                              "(its character set or quoting rules) in a way the gateway cannot "
                              "follow",
                              statement.kind));
  const sql::ClassSet needed = statement.classes & ~kAlwaysAllowed;
  for (const auto name : sql::class_names(needed)) {
    if (std::find(grant.allow.begin(), grant.allow.end(), name) != grant.allow.end()) continue;
    if (name == "unknown") {
      return refuse(
          grant.rule,
          parse_error.empty()
              ? fmt::format("the gateway cannot classify this {} statement", statement.kind)
              : fmt::format("the statement cannot be parsed: {}", parse_error));
    }
    return refuse(grant.rule, fmt::format("{} statements are not allowed for this access ({})",
                                          name, statement.kind));
  }
  if (statement.lifts_read_only && is_read_only(grant))
    return refuse(grant.rule,
                  fmt::format("this access is read-only; {} would lift that", statement.kind));
  return std::nullopt;
}

bool is_admin(const config::Config& config, const identity::Identity& identity) {
  for (const auto& group : identity.groups)
    if (std::find(config.api.admin_groups.begin(), config.api.admin_groups.end(), group) !=
        config.api.admin_groups.end())
      return true;
  return false;
}

std::string lockdown_message(const Grant& grant) {
  return fmt::format("connection \"{}\" is locked down: only administrators may run commands",
                     grant.connection->name);
}

// What a shell guardrail matched, as the caller is told: the program (and the outermost
// wrapper that runs it, which may be what the guardrail is about), or the operation.
std::string shell_subject(const ShellCommand& command, const shell::SimpleCommand* simple) {
  if (simple && !simple->argv.empty()) {
    if (simple->wrappers.empty()) return fmt::format("running {:?}", simple->program());
    return fmt::format("running {:?} through {:?}", simple->program(),
                       simple->wrappers.front().program);
  }
  if (command.line) return "this command line";
  if (command.kind == "shell") return "opening an interactive shell";
  if (command.kind == "sftp") return "opening an sftp session";
  if (command.kind == "scp") return "opening an scp transfer";
  if (command.kind == "sftp_write") return "writing files over sftp";
  if (command.kind == "sftp_read") return "reading files over sftp";
  if (command.kind == "forward")
    return command.paths.empty() ? "port forwarding"
                                 : fmt::format("port forwarding to {}", command.paths.front());
  if (command.kind == "agent") return "agent forwarding";
  return fmt::format("this {} request", command.kind);
}

// The first guardrail that matches one simple command (or the operation) decides for it.
std::optional<Decision> check_guardrails(const config::Config& config,
                                         const identity::Identity& identity, const Grant& grant,
                                         const ShellCommand& command,
                                         const shell::SimpleCommand* simple) {
  for (const auto& guardrail : config.guardrails) {
    if (!guardrail_matches(guardrail.when, command, simple, grant.connection->name, identity))
      continue;
    if (guardrail.action == config::GuardrailAction::allow) return std::nullopt;
    const auto subject = shell_subject(command, simple);
    return guardrail_decision(guardrail,
                              fmt::format("{} matches a guardrail that refuses it", subject),
                              fmt::format("{} needs a reviewer's approval", subject));
  }
  return std::nullopt;
}

// The target of the first redirection of this kind in the line, as written.
std::optional<std::string> first_redirection(const ShellCommand& command,
                                             shell::RedirectionKind kind) {
  if (!command.line) return std::nullopt;
  for (const auto& simple : command.line->commands)
    for (const auto& redirection : simple.redirections)
      if (redirection.kind == kind) return redirection.target.raw;
  return std::nullopt;
}

// Why the grant refuses a class the command needs, in the caller's terms.
std::string class_refusal(const ShellCommand& command, std::string_view name) {
  if (name == "exec") return "running commands is not allowed for this access";
  if (name == "shell") return "interactive shells are not allowed for this access";
  if (name == "sftp") return "file transfers (sftp, scp) are not allowed for this access";
  if (name == "file_write") {
    if (auto target = first_redirection(command, shell::RedirectionKind::output))
      return fmt::format(
          "this command line writes to the file {:?}; writing files is not allowed for this "
          "access",
          *target);
    if (!command.paths.empty())
      return fmt::format("writing files ({:?}) is not allowed for this access",
                         command.paths.front());
    return "writing files is not allowed for this access";
  }
  if (name == "forward") {
    if (auto target = first_redirection(command, shell::RedirectionKind::network))
      return fmt::format(
          "this command line opens a network connection to {:?}, as a port forward would; "
          "forwarding is not allowed for this access",
          *target);
    if (command.kind == "forward" && !command.paths.empty())
      return fmt::format("port forwarding (to {}) is not allowed for this access",
                         command.paths.front());
    return "port forwarding is not allowed for this access";
  }
  if (name == "agent") return "agent forwarding is not allowed for this access";
  if (name == "unknown" && command.line && command.line->unknown())
    return fmt::format("the gateway cannot tell what this command line runs: {}",
                       command.line->unknown_reason);
  if (name == "unknown" && command.line)
    return "the gateway could not follow how this line was typed (Tab completion, history or "
           "cursor keys): type the command out in full";
  return fmt::format("{} is not allowed for this access", name);
}

// The program as a refusal names it: with its first argument when the grant lists the
// program only with given leading words ("systemctl restart" where "systemctl status" is
// listed), so that the caller sees what was compared.
std::string shown_program(const Grant& grant, const shell::SimpleCommand& simple) {
  std::string shown(simple.program());
  const auto name = shell::program_name(shown);
  if (name.empty() || simple.argv.size() < 2) return shown;
  const bool listed_with_words =
      std::any_of(grant.programs.begin(), grant.programs.end(), [&](const std::string& entry) {
        return entry.size() > name.size() && entry.starts_with(name) &&
               (entry[name.size()] == ' ' || entry[name.size()] == '\t');
      });
  if (listed_with_words) fmt::format_to(std::back_inserter(shown), " {}", simple.argv[1].value);
  return shown;
}

std::optional<Decision> check_grant(const Grant& grant, const ShellCommand& command) {
  // The operation first, then what the line does beyond it: the first refusal a caller can
  // act on.
  static constexpr std::string_view kOrder[] = {"exec",  "shell",      "sftp",   "forward",
                                                "agent", "file_write", "unknown"};
  auto allowed = [&](std::string_view name) {
    return std::find(grant.allow.begin(), grant.allow.end(), name) != grant.allow.end();
  };
  for (const auto name : kOrder)
    if (command.needs(name) && !allowed(name))
      return refuse(grant.rule, class_refusal(command, name));
  for (const auto& name : command.classes)
    if (!allowed(name)) return refuse(grant.rule, class_refusal(command, name));
  if (grant.programs.empty() || !command.line) return std::nullopt;
  // An allow-list of programs holds only if the gateway knows every program: a line it cannot
  // read through (unknown, even where the grant allows unknown) matches no entry.
  const auto& line = *command.line;
  if (line.unknown())
    return refuse(grant.rule, fmt::format("the gateway cannot tell what this command line runs: "
                                          "{}; this access allows only listed programs",
                                          line.unknown_reason));
  for (const auto& simple : line.commands) {
    if (simple.argv.empty()) continue;  // assignments or redirections only: no program runs
    const bool listed = std::any_of(
        grant.programs.begin(), grant.programs.end(),
        [&](const std::string& entry) { return shell::program_matches(entry, simple); });
    if (!listed)
      return refuse(grant.rule,
                    fmt::format("the program {:?} is not among the programs this access allows",
                                shown_program(grant, simple)));
  }
  return std::nullopt;
}

Decision decide_shell(const config::Config& config, const identity::Identity& identity,
                      const Grant& grant, const ShellCommand& command) {
  if (command.classes.empty() || (command.kind == "exec" && !command.line))
    return refuse(grant.rule, "the command could not be classified");
  if (grant.connection->lockdown && !is_admin(config, identity))
    return refuse("lockdown", lockdown_message(grant));
  // As for statements: a refusal anywhere wins over a review, and a review is given only to
  // what the grant allows.
  std::optional<Decision> review;
  auto check = [&](const shell::SimpleCommand* simple) -> std::optional<Decision> {
    auto guardrail = check_guardrails(config, identity, grant, command, simple);
    if (guardrail && guardrail->verdict == Verdict::deny) return guardrail;
    if (guardrail && !review) review = std::move(guardrail);
    return std::nullopt;
  };
  if (command.line && !command.line->commands.empty()) {
    for (const auto& simple : command.line->commands)
      if (auto refused = check(&simple)) return *refused;
  } else if (auto refused = check(nullptr)) {
    return *refused;
  }
  if (auto refused = check_grant(grant, command)) return *refused;
  if (review) return *review;
  Decision allowed;
  allowed.rule = grant.rule;
  return allowed;
}

// Why the grant refuses a class a Kubernetes request needs, in the caller's terms.
std::string kube_class_refusal(const KubeCommand& request, std::string_view name) {
  if (name == "secrets") return "reading secrets is not allowed for this access";
  if (name == "write")
    return fmt::format("changing objects ({} {}) is not allowed for this access", request.verb,
                       request.resource_key());
  if (name == "exec")
    return fmt::format("running commands in containers ({}) is not allowed for this access",
                       request.verb);
  if (name == "forward")
    return fmt::format("port forwarding and proxying ({}) are not allowed for this access",
                       request.verb);
  if (name == "admin")
    return fmt::format("administration ({} {}{}) is not allowed for this access", request.verb,
                       request.group.empty() ? "" : request.group + "/", request.resource_key());
  if (name == "read")
    return fmt::format("reading {} is not allowed for this access", request.resource_key());
  if (request.exec) return class_refusal(*request.exec, name);
  return fmt::format("{} is not allowed for this access", name);
}

std::optional<Decision> check_guardrails(const config::Config& config,
                                         const identity::Identity& identity, const Grant& grant,
                                         const KubeCommand& request,
                                         const shell::SimpleCommand* simple) {
  for (const auto& guardrail : config.guardrails) {
    if (!guardrail_matches(guardrail.when, request, simple, grant.connection->name, identity))
      continue;
    if (guardrail.action == config::GuardrailAction::allow) return std::nullopt;
    const auto subject = simple ? shell_subject(*request.exec, simple)
                                : fmt::format("{} {}", request.verb, request.resource_key());
    return guardrail_decision(guardrail,
                              fmt::format("{} matches a guardrail that refuses it", subject),
                              fmt::format("{} needs a reviewer's approval", subject));
  }
  return std::nullopt;
}

std::optional<Decision> check_grant(const Grant& grant, const KubeCommand& request) {
  for (const auto& name : request.classes)
    if (std::find(grant.allow.begin(), grant.allow.end(), name) == grant.allow.end())
      return refuse(grant.rule, kube_class_refusal(request, name));
  if (!grant.resources.empty() && std::find(grant.resources.begin(), grant.resources.end(),
                                            request.resource_key()) == grant.resources.end())
    return refuse(grant.rule,
                  fmt::format("the resource {:?} is not among the resources this access allows",
                              request.resource_key()));
  if (grant.programs.empty()) return std::nullopt;
  // An allow-list of programs holds only where the gateway sees the program: attach joins
  // whatever the container runs.
  if (!request.exec)
    return request.needs("exec")
               ? std::optional(
                     refuse(grant.rule, fmt::format("{} has no command for the gateway to check; "
                                                    "this access allows only listed programs",
                                                    request.verb)))
               : std::nullopt;
  return check_grant(grant, *request.exec);
}

Decision decide_kube(const config::Config& config, const identity::Identity& identity,
                     const Grant& grant, const KubeCommand& request) {
  Decision allowed;
  allowed.rule = grant.rule;
  if (request.discovery) return allowed;
  if (request.classes.empty() || request.verb.empty() || (request.verb == "exec" && !request.exec))
    return refuse(grant.rule, "the request could not be classified");
  if (grant.connection->lockdown && !is_admin(config, identity))
    return refuse("lockdown", lockdown_message(grant));
  // As for statements and command lines: a refusal anywhere wins over a review, and a review
  // is given only to what the grant allows. An exec command's simple commands are checked one
  // at a time, as over ssh.
  std::optional<Decision> review;
  auto check = [&](const shell::SimpleCommand* simple) -> std::optional<Decision> {
    auto guardrail = check_guardrails(config, identity, grant, request, simple);
    if (guardrail && guardrail->verdict == Verdict::deny) return guardrail;
    if (guardrail && !review) review = std::move(guardrail);
    return std::nullopt;
  };
  if (request.exec && request.exec->line && !request.exec->line->commands.empty()) {
    for (const auto& simple : request.exec->line->commands)
      if (auto refused = check(&simple)) return *refused;
  } else if (auto refused = check(nullptr)) {
    return *refused;
  }
  if (auto refused = check_grant(grant, request)) return *refused;
  if (review) return *review;
  return allowed;
}

}  // namespace

std::vector<bool> statements_to_estimate(const config::Config& config,
                                         const identity::Identity& identity, const Grant& grant,
                                         const Command& command) {
  std::vector<bool> wanted;
  const SqlCommand* sql = command.sql();
  if (!sql || !sql->classification) return wanted;
  bool any = false;
  for (const auto& statement : sql->classification->statements) {
    bool want = false;
    if (writes_rows(statement)) {
      for (const auto& guardrail : config.guardrails) {
        if (!guardrail.when.rows_over) continue;
        // Every other condition of the guardrail holds: with no estimate (nullopt) the
        // rows condition holds too.
        if (guardrail_matches(guardrail.when, statement, grant.connection->name, identity)) {
          want = true;
          break;
        }
      }
    }
    any = any || want;
    wanted.push_back(want);
  }
  if (!any) wanted.clear();
  return wanted;
}

Decision decide(const config::Config& config, const identity::Identity& identity,
                const Grant& grant, const Command& command) {
  if (const ShellCommand* shell = command.shell())
    return decide_shell(config, identity, grant, *shell);
  if (const KubeCommand* kube = command.kube()) return decide_kube(config, identity, grant, *kube);
  const SqlCommand* sql = command.sql();
  if (!sql || !sql->classification)
    return refuse(grant.rule, "the command could not be classified");
  const auto& classification = *sql->classification;
  if (grant.connection->lockdown && !is_admin(config, identity)) {
    // Incident response: nothing runs but a rollback, which only undoes. A COMMIT could
    // make writes done before the lockdown stick.
    for (const auto& statement : classification.statements)
      if (statement.kind != "rollback") return refuse("lockdown", lockdown_message(grant));
  }
  // A refusal by a guardrail or by the grant wins over a review anywhere in the text: a
  // reviewer is never asked to approve what the grant would refuse anyway, and a statement
  // held for review is never one the caller may not run.
  std::optional<Decision> review;
  for (std::size_t i = 0; i < classification.statements.size(); ++i) {
    const auto& statement = classification.statements[i];
    const auto estimate = i < sql->estimated_rows.size() ? sql->estimated_rows[i] : std::nullopt;
    auto guardrail = check_guardrails(config, identity, grant, statement, estimate);
    if (guardrail && guardrail->verdict == Verdict::deny) return *guardrail;
    if (auto decision = check_grant(grant, statement, classification.parse_error)) return *decision;
    if (guardrail && !review) review = std::move(guardrail);
  }
  if (review) return *review;
  Decision allowed;
  allowed.rule = grant.rule;
  return allowed;
}

}  // namespace portcullis::policy
