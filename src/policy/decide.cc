// decide(): the single point where a command's fate is settled.
#include "policy/decide.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "policy/guardrails.h"

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

std::optional<Decision> check_guardrails(const config::Config& config,
                                         const identity::Identity& identity, const Grant& grant,
                                         const sql::Statement& statement,
                                         std::optional<uint64_t> estimated_rows) {
  for (const auto& guardrail : config.guardrails) {
    if (!guardrail_matches(guardrail.when, statement, grant.connection->name, identity,
                           estimated_rows))
      continue;
    if (guardrail.action == config::GuardrailAction::allow) return std::nullopt;
    Decision decision;
    decision.rule = guardrail.name;
    decision.message =
        guardrail.message.empty()
            ? fmt::format("this {} statement matches a guardrail that refuses it", statement.kind)
            : guardrail.message;
    if (guardrail.action == config::GuardrailAction::review) {
      decision.verdict = Verdict::review;
      decision.reviewer_groups = guardrail.reviewers.groups;
      decision.reviewer_subjects = guardrail.reviewers.subjects;
      decision.min_approvals = guardrail.min_approvals;
      decision.wait = guardrail.wait;
      if (guardrail.message.empty())
        decision.message = fmt::format("{} needs a reviewer's approval", statement.kind);
    } else {
      decision.verdict = Verdict::deny;
    }
    return decision;
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
  const SqlCommand* sql = command.sql();
  if (!sql || !sql->classification)
    return refuse(grant.rule, "the command could not be classified");
  const auto& classification = *sql->classification;
  if (grant.connection->lockdown && !is_admin(config, identity)) {
    // Incident response: nothing runs but a rollback, which only undoes. A COMMIT could
    // make writes done before the lockdown stick.
    for (const auto& statement : classification.statements)
      if (statement.kind != "rollback")
        return refuse("lockdown",
                      fmt::format("connection \"{}\" is locked down: only administrators may "
                                  "run commands",
                                  grant.connection->name));
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
